"""The `dedup-keys` index: documents whose `_id` is a key, claimed with `op_type=create`,
and each story's `sig:` document (what the stories stage stores to compare against)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.index.indices import Indices


class DedupKeyIndex(Indices):
    """Claims of keys by stories, and signature documents, in `dedup-keys`."""

    def claimed(self, keys: Iterable[str]) -> dict[str, str]:
        """Key -> story id for every key already claimed. A get by id is real-time: a claim
        made a moment ago by another worker counts, refresh or not."""
        ids = sorted(set(keys))
        if not ids:
            return {}
        response = self.client.mget(
            index=self.dedup_keys, ids=ids, realtime=True, source_includes=["story_id"]
        )
        return {d["_id"]: d["_source"]["story_id"] for d in response["docs"] if d.get("found")}

    def claim(self, claims: Sequence[tuple[str, str, str]]) -> set[str]:
        """Create (key, story id, kind) claims; returns the keys this call won.

        op_type=create is atomic: of two workers claiming one key, exactly one wins."""
        return self._bulk(self._key_actions("create", claims), tolerate_conflicts=True)[0]

    def repoint(self, claims: Sequence[tuple[str, str, str]]) -> None:
        """Point keys this worker had claimed at another story (a lost race)."""
        self._bulk(self._key_actions("index", claims), tolerate_conflicts=False)

    def _key_actions(self, op: str, claims: Sequence[tuple[str, str, str]]) -> list[dict]:
        return [
            {
                "_op_type": op,
                "_index": self.dedup_keys,
                "_id": key,
                "_source": {"story_id": story_id, "kind": kind},
            }
            for key, story_id, kind in claims
        ]

    def save_signatures(self, signatures: Mapping[str, dict[str, Any]]) -> None:
        """Story id -> its `sig:` document (what the stories stage compares against)."""
        actions = [
            {
                "_op_type": "index",
                "_index": self.dedup_keys,
                "_id": f"sig:{story_id}",
                "_source": source,
            }
            for story_id, source in signatures.items()
        ]
        self._bulk(actions, tolerate_conflicts=False)

    def signatures(self, story_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Story id -> its `sig:` document, read in real time."""
        ids = sorted({f"sig:{s}" for s in story_ids})
        if not ids:
            return {}
        response = self.client.mget(index=self.dedup_keys, ids=ids, realtime=True)
        return {d["_source"]["story_id"]: d["_source"] for d in response["docs"] if d.get("found")}
