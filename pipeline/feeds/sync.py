"""Registry sync: the feeds file in, the feed documents to add, update and disable out.

Pure: the caller reads the file and the stored states and writes the result. Polling state
(ETag, schedule, failures) is never touched; only what the operator registers is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.feeds.poll import GONE
from pipeline.models import FeedSource, FeedState

# The poller disables a feed the publisher says is gone (HTTP 410); a sync keeps it off
# until the operator removes the entry or points it elsewhere.


@dataclass(slots=True)
class SyncPlan:
    added: list[FeedState] = field(default_factory=list)
    updated: list[FeedState] = field(default_factory=list)
    disabled: list[FeedState] = field(default_factory=list)
    unchanged: int = 0

    def writes(self) -> list[FeedState]:
        return [*self.added, *self.updated, *self.disabled]

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "disabled": len(self.disabled),
            "unchanged": self.unchanged,
        }


def _gone(state: FeedState) -> bool:
    return state.status == GONE or state.http_status == 410


def plan_sync(sources: Iterable[FeedSource], states: Iterable[FeedState]) -> SyncPlan:
    """Feeds in the file are added or brought in line; stored feeds no longer in it are
    disabled (kept, with their history, so re-adding one resumes where it stopped)."""
    stored = {s.url: s for s in states}
    plan = SyncPlan()
    listed = set()
    for source in sources:
        listed.add(source.url)
        state = stored.get(source.url)
        if state is None:
            plan.added.append(
                FeedState(
                    url=source.url,
                    name=source.name,
                    tags=list(source.tags),
                    enabled=source.enabled,
                )
            )
            continue
        kept_off = not state.enabled and _gone(state)
        enabled = source.enabled and not kept_off
        wanted = dataclasses.replace(
            state, name=source.name, tags=list(source.tags), enabled=enabled
        )
        if wanted == state:
            plan.unchanged += 1
        else:
            plan.updated.append(wanted)
    for url, state in stored.items():
        if url in listed:
            continue
        if state.enabled:
            plan.disabled.append(dataclasses.replace(state, enabled=False))
        else:
            plan.unchanged += 1
    return plan
