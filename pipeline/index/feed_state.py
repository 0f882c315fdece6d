"""The `feeds` index: one document per feed with its polling state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from elasticsearch import NotFoundError, helpers

from pipeline.ids import doc_id
from pipeline.index.indices import Indices
from pipeline.models import FeedState


class FeedStateIndex(Indices):
    """Each feed's state, by URL."""

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
        """Every feed's state as last saved. A scan sees only what a refresh has made
        searchable, and callers write these states back (sync_feeds): a state saved a
        moment before must not read as missing, so the small feeds index is refreshed
        first. Reads by URL (`feed_states`) are real-time gets and need no refresh."""
        self.client.indices.refresh(index=self.feeds)
        return [
            _feed_state_from_source(hit["_source"])
            for hit in helpers.scan(self.client, index=self.feeds, query={"sort": ["_doc"]})
        ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_DATE_FIELDS = ("last_polled", "next_poll", "last_success")


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
