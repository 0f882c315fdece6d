"""The `feed-health` index: one verdict document per feed per day."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from elasticsearch import helpers

from pipeline.ids import doc_id
from pipeline.index.indices import Indices
from pipeline.models import FeedHealth


class FeedHealthIndex(Indices):
    """Daily feed-health verdicts."""

    def save_feed_health(self, verdicts: Iterable[FeedHealth]) -> int:
        """One document per feed per day: a re-run on the same day replaces it."""
        actions = [
            {
                "_op_type": "index",
                "_index": self.feed_health,
                "_id": doc_id("feed-health", v.url, v.checked_at.date().isoformat()),
                "_source": _dated_source(v),
            }
            for v in verdicts
        ]
        ok, _ = helpers.bulk(self.client, actions, max_retries=3) if actions else (0, [])
        return ok

    def latest_feed_health(self, before: datetime) -> dict[str, FeedHealth]:
        """Each feed's newest verdict from before `before`."""
        response = self.client.search(
            index=self.feed_health,
            size=10_000,
            query={"range": {"checked_at": {"lt": before.isoformat()}}},
            collapse={"field": "url"},
            sort=[{"checked_at": "desc"}],
        )
        verdicts = (_dated_record(FeedHealth, h["_source"]) for h in response["hits"]["hits"])
        return {v.url: v for v in verdicts}


def _dated_source(record: Any) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in dataclasses.asdict(record).items()
    }


def _dated_record(cls: Any, source: dict[str, Any]) -> Any:
    """A dataclass from a stored document: unknown keys dropped, date fields parsed."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in source:
            value = source[f.name]
            if isinstance(value, str) and "datetime" in str(f.type):
                value = datetime.fromisoformat(value)
            values[f.name] = value
    return cls(**values)
