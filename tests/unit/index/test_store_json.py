"""The engine client's JSON: orjson, with the standard serializer for what orjson refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch.serializer import JsonSerializer

from pipeline.config import EngineSettings
from pipeline.index.client import FastJsonSerializer, make_client

STORY = {
    "title": "Naïve café — “quoted” headline",
    "published_at": datetime(2024, 6, 17, 5, 0, tzinfo=UTC),
    "entities": [{"name": "Angela Merkel", "count": 3, "score": 0.75}],
    "copies": [],
    "image": None,
}


def test_every_json_mimetype_uses_it() -> None:
    client = make_client(EngineSettings(url="http://127.0.0.1:9"))  # builds, never connects
    for mimetype in ("application/json", "application/vnd.elasticsearch+json"):
        assert isinstance(client.transport.serializers.get_serializer(mimetype), FastJsonSerializer)


def test_same_json_as_the_standard_serializer() -> None:
    fast, standard = FastJsonSerializer(), JsonSerializer()
    assert standard.loads(fast.dumps(STORY)) == standard.loads(standard.dumps(STORY))
    answer = standard.dumps({"docs": [{"_id": "a", "found": True, "_source": STORY}]})
    assert fast.loads(answer) == standard.loads(answer)


def test_a_lone_surrogate_still_serializes_for_the_engine_to_judge() -> None:
    broken = dict(STORY, title="A broken page \ud83d title")
    assert FastJsonSerializer().dumps(broken) == JsonSerializer().dumps(broken)
    stored = b'{"_source": {"title": "A broken page \\ud83d title"}}'
    assert FastJsonSerializer().loads(stored) == JsonSerializer().loads(stored)
    assert FastJsonSerializer().loads(stored)["_source"]["title"] == broken["title"]
