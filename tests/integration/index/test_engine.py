"""The REST features the project relies on, against the real engine."""

from __future__ import annotations

import pytest
from elasticsearch import ConflictError, helpers

from pipeline.index.store import make_client

pytestmark = pytest.mark.engine


def test_mapping_bulk_refresh_search_aggregate_alias(engine_admin, index_prefix):
    # The engine's own features, so as its superuser: the writer may touch wirefeed's only.
    client = make_client(engine_admin)
    index = f"{index_prefix}probe-v1"
    alias = f"{index_prefix}probe"
    client.indices.create(
        index=index,
        mappings={
            "dynamic": "strict",
            "properties": {
                "title": {"type": "text", "analyzer": "english"},
                "source": {"type": "keyword"},
                "published_at": {"type": "date"},
            },
        },
        aliases={alias: {}},
    )
    try:
        docs = [
            {"_index": alias, "_id": str(i), "title": t, "source": s, "published_at": d}
            for i, (t, s, d) in enumerate(
                [
                    ("Floods are running through the valley", "a.example", "2026-02-01"),
                    ("Ministers run for office", "b.example", "2026-02-01"),
                    ("Markets rally on trade news", "a.example", "2026-02-02"),
                ]
            )
        ]
        ok, errors = helpers.bulk(client, docs)
        assert (ok, errors) == (3, [])
        # Realtime get sees a document before any refresh.
        assert client.get(index=alias, id="0")["_source"]["source"] == "a.example"
        with pytest.raises(ConflictError):
            client.index(index=alias, id="0", document={"title": "x"}, op_type="create")
        client.indices.refresh(index=alias)

        result = client.search(
            index=alias,
            query={"match": {"title": "run"}},  # stems "running" and "run"
            highlight={"fields": {"title": {}}},
            aggs={
                "outlets": {"terms": {"field": "source"}},
                "per_day": {
                    "date_histogram": {"field": "published_at", "calendar_interval": "day"}
                },
            },
        )
        ids = sorted(hit["_id"] for hit in result["hits"]["hits"])
        assert ids == ["0", "1"]
        assert "<em>" in result["hits"]["hits"][0]["highlight"]["title"][0]
        outlets = {b["key"]: b["doc_count"] for b in result["aggregations"]["outlets"]["buckets"]}
        assert outlets == {"a.example": 1, "b.example": 1}
        assert [b["doc_count"] for b in result["aggregations"]["per_day"]["buckets"]] == [2]

        with pytest.raises(Exception, match="strict"):
            client.index(index=alias, id="9", document={"unmapped": 1})
    finally:
        client.indices.delete(index=index)


def test_setup_is_idempotent(store):
    assert store.setup() == []
    mapping = store.client.indices.get_mapping(index=store.articles)
    (index_name,) = mapping
    assert index_name == f"{store.articles}-v1"
    assert mapping[index_name]["mappings"]["dynamic"] == "strict"
