"""Feed health: which feeds failed for days, went silent, moved, were disabled or are read
only from malformed bodies (degraded).

Pure: feed states, yesterday's verdicts and each feed's latest story time in, one
`FeedHealth` per feed out. `store` writes them to the `feed-health` index, one document
per feed per day, so Kibana charts health over time and lists today's flagged feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.models import DEGRADED, FeedState

FAILING, SILENT, MOVED, DISABLED = "failing", "silent", "moved", "disabled"
OK, NEW = "ok", "new"
# The first flag in this order names a feed's health; all flags are kept. Degraded comes
# last: its stories still arrive.
PRECEDENCE = (DISABLED, MOVED, FAILING, SILENT, DEGRADED)

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_DATE = {"type": "date"}
FEED_HEALTH_VERSION = 1
FEED_HEALTH_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "url": _KEYWORD,
        "name": _KEYWORD,
        "tags": _KEYWORD,
        "checked_at": _DATE,
        "health": _KEYWORD,
        "flags": _KEYWORD,
        "status": _KEYWORD,
        "failures": {"type": "integer"},
        "last_error": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
        },
        "last_polled": _DATE,
        "failing_since": _DATE,
        "quiet_since": _DATE,
        "last_story_at": _DATE,
        "moved_to": _KEYWORD,
    },
}


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failing_days: float = 2.0  # consecutive failures for this long flag a feed
    silent_days: float = 3.0  # no new story for this long flags a feed that polls fine


@dataclass(slots=True)
class FeedHealth:
    url: str
    checked_at: datetime
    health: str
    flags: list[str] = field(default_factory=list)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    status: str = NEW
    failures: int = 0
    last_error: str | None = None
    last_polled: datetime | None = None
    failing_since: datetime | None = None  # the last success, else carried day to day
    quiet_since: datetime | None = None  # carried while the feed has no story at all
    last_story_at: datetime | None = None
    moved_to: str | None = None


def assess(
    state: FeedState,
    previous: FeedHealth | None,
    last_story_at: datetime | None,
    now: datetime,
    policy: HealthPolicy,
) -> FeedHealth:
    """Today's verdict on one feed."""
    flags = []
    if not state.enabled:
        flags.append(DISABLED)
    if state.moved_to:
        flags.append(MOVED)
    failing_since = None
    if state.failures > 0:
        carried = previous.failing_since if previous else None
        failing_since = state.last_success or carried or state.last_polled or now
        if now - failing_since >= timedelta(days=policy.failing_days):
            flags.append(FAILING)
    quiet_since = None
    if last_story_at is None:
        quiet_since = (previous.quiet_since if previous else None) or now
    if state.failures == 0 and state.last_polled is not None:
        idle_from = last_story_at or quiet_since or now
        if now - idle_from >= timedelta(days=policy.silent_days):
            flags.append(SILENT)
    if state.status == DEGRADED:
        flags.append(DEGRADED)
    flags.sort(key=PRECEDENCE.index)
    idle = NEW if state.last_polled is None else OK
    health = flags[0] if flags else idle
    return FeedHealth(
        url=state.url,
        checked_at=now,
        health=health,
        flags=flags,
        name=state.name,
        tags=list(state.tags),
        status=state.status,
        failures=state.failures,
        last_error=state.last_error,
        last_polled=state.last_polled,
        failing_since=failing_since,
        quiet_since=quiet_since,
        last_story_at=last_story_at,
        moved_to=state.moved_to,
    )


def assess_all(
    states: Iterable[FeedState],
    previous: Mapping[str, FeedHealth],
    last_story_at: Mapping[str, datetime],
    now: datetime,
    policy: HealthPolicy,
) -> list[FeedHealth]:
    return [assess(s, previous.get(s.url), last_story_at.get(s.url), now, policy) for s in states]


def counts(verdicts: Iterable[FeedHealth]) -> dict[str, int]:
    """Feeds per health value, every value present (zero when none)."""
    total = dict.fromkeys((OK, NEW, *PRECEDENCE), 0)
    for verdict in verdicts:
        total[verdict.health] += 1
    return total
