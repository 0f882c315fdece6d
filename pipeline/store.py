"""The only module that talks to the search engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from pipeline.config import EngineSettings
from pipeline.ids import doc_id
from pipeline.mappings import (
    ARTICLES_MAPPING,
    ARTICLES_VERSION,
    DEDUP_KEYS_MAPPING,
    FEEDS_MAPPING,
    FEEDS_VERSION,
    INDEX_SETTINGS,
)
from pipeline.models import Article, FeedState, SearchHit


def make_client(engine: EngineSettings) -> Elasticsearch:
    kwargs: dict[str, Any] = {"request_timeout": 60, "retry_on_timeout": True, "max_retries": 3}
    if engine.api_key:
        kwargs["api_key"] = engine.api_key
    elif engine.username:
        kwargs["basic_auth"] = (engine.username, engine.password or "")
    return Elasticsearch(engine.url, **kwargs)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def story_document(article: Article) -> dict[str, Any]:
    """A new story whose first (and so far only) copy is `article`."""
    copy = {
        "url": article.url,
        "source": article.source,
        "feed_url": article.feed_url,
        "guid": article.guid,
        "title": article.title,
        "published_at": _iso(article.published_at),
        "first_seen": _iso(article.fetched_at),
    }
    return {
        "title": article.title,
        "body": article.body,
        "url": article.url,
        "urls": [article.url],
        "source": article.source,
        "sources": [article.source],
        "feed_url": article.feed_url,
        "guid": article.guid,
        "language": article.language,
        "authors": article.authors,
        "tags": article.tags,
        "image": article.image,
        "published_at": _iso(article.published_at),
        "date_missing": article.date_missing,
        "first_seen": _iso(article.fetched_at),
        "last_seen": _iso(article.fetched_at),
        "copies_count": 1,
        "copies": [copy],
    }


class Store:
    """Indices live behind aliases (`articles`, `feeds`) over versioned indices."""

    def __init__(self, client: Elasticsearch, prefix: str = "") -> None:
        self.client = client
        self.articles = f"{prefix}articles"
        self.feeds = f"{prefix}feeds"
        self.dedup_keys = f"{prefix}dedup-keys"
        self._definitions = {
            self.articles: (ARTICLES_VERSION, ARTICLES_MAPPING),
            self.feeds: (FEEDS_VERSION, FEEDS_MAPPING),
            self.dedup_keys: (1, DEDUP_KEYS_MAPPING),
        }

    @classmethod
    def from_settings(cls, engine: EngineSettings) -> Store:
        return cls(make_client(engine), engine.index_prefix)

    # -- setup ---------------------------------------------------------------------------

    def setup(self) -> list[str]:
        """Create missing indices and aliases, add new mapping fields; safe to repeat."""
        actions = []
        for alias, (version, mapping) in self._definitions.items():
            index = f"{alias}-v{version}"
            if not self.client.indices.exists(index=index):
                self.client.indices.create(
                    index=index,
                    settings=INDEX_SETTINGS,
                    mappings=mapping,
                    aliases={alias: {"is_write_index": True}},
                )
                actions.append(f"created {index}")
            else:
                self.client.indices.put_mapping(index=index, **mapping)
                if not self.client.indices.exists_alias(name=alias, index=index):
                    self.client.indices.put_alias(index=index, name=alias)
                    actions.append(f"aliased {alias} -> {index}")
        return actions

    def refresh(self) -> None:
        self.client.indices.refresh(index=[self.articles, self.feeds, self.dedup_keys])

    # -- stories -------------------------------------------------------------------------

    def index_new_stories(self, articles: Sequence[Article]) -> set[str]:
        """Create one story per article unless it exists; returns the URLs that made one.

        op_type=create makes a re-run, or a racing worker, a no-op instead of an overwrite.
        """
        actions = [
            {
                "_op_type": "create",
                "_index": self.articles,
                "_id": doc_id("story", article.url),
                "_source": story_document(article),
            }
            for article in articles
        ]
        created: set[str] = set()
        errors = []
        for ok, item in helpers.streaming_bulk(
            self.client, actions, raise_on_error=False, max_retries=3, chunk_size=500
        ):
            info = item.get("create", {})
            if ok:
                created.add(info["_id"])
            elif info.get("status") != 409:
                errors.append(info)
        if errors:
            raise StoreError(f"{len(errors)} documents rejected: {errors[0].get('error')}")
        return {a.url for a in articles if doc_id("story", a.url) in created}

    def search(self, query: str, size: int = 10) -> list[SearchHit]:
        response = self.client.search(
            index=self.articles,
            size=size,
            query={
                "multi_match": {
                    "query": query,
                    "fields": ["title^3", "body", "copies.title"],
                    "type": "best_fields",
                }
            },
            highlight={"fields": {"title": {}, "body": {"fragment_size": 160}}},
            source_includes=["title", "url", "source", "published_at"],
        )
        hits = []
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            fragments = [f for frags in hit.get("highlight", {}).values() for f in frags]
            hits.append(
                SearchHit(
                    id=hit["_id"],
                    title=src.get("title", ""),
                    url=src.get("url", ""),
                    source=src.get("source", ""),
                    published_at=src.get("published_at"),
                    score=float(hit["_score"] or 0.0),
                    highlight=fragments,
                )
            )
        return hits

    def count_stories(self) -> int:
        return int(self.client.count(index=self.articles)["count"])

    # -- feed state ----------------------------------------------------------------------

    def feed_states(self, urls: Iterable[str]) -> dict[str, FeedState]:
        ids = {doc_id("feed", url): url for url in urls}
        if not ids:
            return {}
        try:
            response = self.client.mget(index=self.feeds, ids=list(ids))
        except NotFoundError:
            return {}
        states = {}
        for doc in response["docs"]:
            if doc.get("found"):
                states[ids[doc["_id"]]] = _feed_state_from_source(doc["_source"])
        return states

    def save_feed_states(self, states: Iterable[FeedState]) -> None:
        actions = [
            {
                "_op_type": "index",
                "_index": self.feeds,
                "_id": doc_id("feed", state.url),
                "_source": _feed_state_source(state),
            }
            for state in states
        ]
        if actions:
            helpers.bulk(self.client, actions, max_retries=3)

    def all_feed_states(self) -> list[FeedState]:
        return [
            _feed_state_from_source(hit["_source"])
            for hit in helpers.scan(self.client, index=self.feeds, query={"sort": ["_doc"]})
        ]


class StoreError(RuntimeError):
    """The engine refused a write that the pipeline cannot simply retry."""


_DATE_FIELDS = ("last_polled", "next_poll")


def _feed_state_source(state: FeedState) -> dict[str, Any]:
    source = dataclasses.asdict(state)
    for name in _DATE_FIELDS:
        source[name] = _iso(source[name])
    return source


def _feed_state_from_source(source: dict[str, Any]) -> FeedState:
    known = {f.name for f in dataclasses.fields(FeedState)}
    values = {k: v for k, v in source.items() if k in known}
    for name in _DATE_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    return FeedState(**values)
