"""What every repository of an index shares: the client, the alias names under a prefix,
and bulk writes, whose documents the mapping refuses go to the `dead-letters` index."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from pipeline.ids import doc_id

log = logging.getLogger(__name__)

# A bulk answered 429 (engine busy) is retried this often, waiting 0.5 s, 1 s, 2 s, ...
BULK_RETRIES = 5
BULK_BACKOFF = 0.5
# A bulk request is cut at this size, whatever its count of documents: stories with many
# copies or long reads stay far below the engine's request limit (100 MB by default).
BULK_MAX_BYTES = 10 * 1024 * 1024
_MAX_ERROR = 2000
_MAX_DEAD_LETTER = 1_000_000


class StoreError(RuntimeError):
    """The engine refused a write that the pipeline cannot simply retry."""


class Indices:
    """The client and the name of every alias under one prefix (`articles`, `feeds`, ...)."""

    def __init__(self, client: Elasticsearch, prefix: str = "") -> None:
        self.client = client
        self.articles = f"{prefix}articles"
        self.feeds = f"{prefix}feeds"
        self.dedup_keys = f"{prefix}dedup-keys"
        self.feed_health = f"{prefix}feed-health"
        self.dead_letters = f"{prefix}dead-letters"
        self._prefix = prefix

    def _bulk(
        self, actions: list[dict[str, Any]], *, tolerate_conflicts: bool
    ) -> tuple[set[str], set[str]]:
        """Run a bulk request; returns (ids written, ids refused with 409 Conflict)."""
        written: set[str] = set()
        conflicts: set[str] = set()
        rejected: list[tuple[dict[str, Any], dict[str, Any]]] = []
        errors = []
        by_id = {a["_id"]: a for a in actions}
        for ok, item in self._streaming_bulk(actions):
            info = next(iter(item.values()))
            if ok:
                written.add(info["_id"])
            elif info.get("status") == 409 and tolerate_conflicts:
                conflicts.add(info["_id"])
            elif info.get("status") == 400 and info.get("_id") in by_id:
                # The document itself is wrong: a retry cannot help, so it is kept aside.
                rejected.append((by_id[info["_id"]], info))
            else:
                errors.append(info)
        if rejected:
            self._dead_letter(rejected)
        if errors:
            raise StoreError(f"{len(errors)} documents rejected: {errors[0].get('error')}")
        return written, conflicts

    def _streaming_bulk(
        self, actions: Iterable[dict[str, Any]]
    ) -> Iterator[tuple[bool, dict[str, Any]]]:
        """(ok, item) per action, in requests of at most 1,000 actions and BULK_MAX_BYTES.
        Only 429 (engine busy) is retried, by the helper with exponential backoff; the
        transport's own immediate status retries would skip the backoff."""
        return helpers.streaming_bulk(
            self.client.options(retry_on_status=()),
            actions,
            raise_on_error=False,
            max_retries=BULK_RETRIES,
            initial_backoff=BULK_BACKOFF,
            chunk_size=1000,
            max_chunk_bytes=BULK_MAX_BYTES,
        )

    def _dead_letter(self, rejected: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Record documents the mapping refused, with the engine's error, in `dead-letters`;
        the id is derived from index and document id, so a repeat replaces, never doubles."""
        now = datetime.now(UTC).isoformat()
        letters = []
        for action, info in rejected:
            source = action.get("_source") or action.get("doc") or {}
            error = info.get("error") or {}
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            caused = error.get("caused_by", {}) if isinstance(error, dict) else {}
            letters.append(
                {
                    "_op_type": "index",
                    "_index": self.dead_letters,
                    "_id": doc_id("dead-letter", action["_index"], action["_id"]),
                    "_source": {
                        "index": action["_index"],
                        "doc_id": action["_id"],
                        "url": source.get("url") if isinstance(source, dict) else None,
                        "status": info.get("status"),
                        "error_type": error.get("type") if isinstance(error, dict) else None,
                        "error": ": ".join(filter(None, [reason, caused.get("reason")]))[
                            :_MAX_ERROR
                        ],
                        "document": json.dumps(source, default=str)[:_MAX_DEAD_LETTER],
                        "failed_at": now,
                    },
                }
            )
        helpers.bulk(self.client, letters, max_retries=BULK_RETRIES)
        first = letters[0]["_source"]
        log.error(
            "%d documents rejected by the mapping went to %s; first: %s %s: %s",
            len(letters),
            self.dead_letters,
            first["index"],
            first["url"] or first["doc_id"],
            first["error"],
        )
