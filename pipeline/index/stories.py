"""The `articles` index: story documents read and written (optimistic concurrency), found by
a copy's URL, scrolled for re-enrichment, updated in place; what they hold is the stories
stage's business."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from elasticsearch import helpers

from pipeline.index.indices import Indices
from pipeline.models import StoryText


@dataclasses.dataclass(frozen=True, slots=True)
class StoredStory:
    """A story document as read, with what an optimistic-concurrency write needs."""

    id: str
    source: dict[str, Any]
    seq_no: int
    primary_term: int


@dataclasses.dataclass(frozen=True, slots=True)
class StoryWrite:
    """Create `source` as story `id` (base None), or replace the version `base` read."""

    id: str
    source: dict[str, Any]
    base: StoredStory | None = None


class StoryIndex(Indices):
    """Story documents, one per story, in the `articles` index."""

    def stories(self, story_ids: Iterable[str]) -> dict[str, StoredStory]:
        """Real-time read of stories by id, with their sequence numbers."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        response = self.client.mget(index=self.articles, ids=ids, realtime=True)
        return {
            d["_id"]: StoredStory(d["_id"], d["_source"], d["_seq_no"], d["_primary_term"])
            for d in response["docs"]
            if d.get("found")
        }

    def write_stories(self, writes: Sequence[StoryWrite]) -> set[str]:
        """Create new stories and replace read ones only if unchanged since the read
        (if_seq_no/if_primary_term); returns the ids that conflicted, to read and retry."""
        actions = []
        for write in writes:
            action: dict[str, Any] = {"_index": self.articles, "_id": write.id}
            if write.base is None:
                action["_op_type"] = "create"
            else:
                action["_op_type"] = "index"
                action["if_seq_no"] = write.base.seq_no
                action["if_primary_term"] = write.base.primary_term
            action["_source"] = write.source
            actions.append(action)
        return self._bulk(actions, tolerate_conflicts=True)[1]

    def story_by_url(self, url: str) -> StoredStory | None:
        """The story that holds a copy with this URL (`urls` lists every copy's URL)."""
        response = self.client.search(
            index=self.articles,
            size=1,
            query={"term": {"urls": url}},
            seq_no_primary_term=True,
        )
        hits = response["hits"]["hits"]
        if not hits:
            return None
        hit = hits[0]
        return StoredStory(hit["_id"], hit["_source"], hit["_seq_no"], hit["_primary_term"])

    def stories_to_enrich(
        self, outdated_from: str | None = None, page_size: int = 200
    ) -> Iterator[StoryText]:
        """Every story, or (given a version) those enriched under any other version or never;
        read page by page through a scroll, never the whole index in memory."""
        query: dict[str, Any] = {"match_all": {}}
        if outdated_from is not None:
            query = {"bool": {"must_not": [{"term": {"enrichment_version": outdated_from}}]}}
        body = {"query": query, "sort": ["_doc"], "_source": ["title", "body", "language"]}
        # A story indexed a moment ago is a story to enrich too.
        self.client.indices.refresh(index=self.articles)
        for hit in helpers.scan(self.client, index=self.articles, query=body, size=page_size):
            src = hit["_source"]
            yield StoryText(
                hit["_id"], src.get("title") or "", src.get("body") or "", src.get("language")
            )

    def update_stories(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Replace these fields of these stories in place. A partial update: the fields not
        named (text, copies) stay as they are, even when a copy was added since the story was
        read. Returns how many."""
        actions = [
            {
                "_op_type": "update",
                "_index": self.articles,
                "_id": story_id,
                "doc": fields,
                "retry_on_conflict": 3,
            }
            for story_id, fields in updates
        ]
        return len(self._bulk(actions, tolerate_conflicts=False)[0])

    def count_stories(self) -> int:
        return int(self.client.count(index=self.articles)["count"])

    def last_story_times(self, feed_urls: Sequence[str]) -> dict[str, datetime]:
        """The newest `last_seen` of a story carrying a copy from each feed.

        `copies` is an object array, so a story counts for every feed among its copies.
        """
        urls = list(feed_urls)
        if not urls:
            return {}
        newest = {"newest": {"max": {"field": "last_seen"}}}
        aggs = {
            key: {"terms": {"field": key, "include": urls, "size": len(urls)}, "aggs": newest}
            for key in ("feed_url", "copies.feed_url")
        }
        response = self.client.search(index=self.articles, size=0, aggs=aggs)
        times: dict[str, datetime] = {}
        for key in aggs:
            for bucket in response["aggregations"][key]["buckets"]:
                value = bucket["newest"].get("value_as_string")
                if value:
                    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
                    times[bucket["key"]] = max(when, times.get(bucket["key"], when))
        return times
