"""Feed health: which feeds failed for days, went silent, moved, were disabled or are read
only from malformed bodies (degraded).

Pure: feed states, yesterday's verdicts and each feed's latest story time in, one
`FeedHealth` per feed out. `pipeline.index` writes them to the `feed-health` index, one document
per feed per day, so Kibana charts health over time and lists today's flagged feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.models import DEGRADED, NEW, FeedHealth, FeedState

FAILING, SILENT, MOVED, DISABLED = "failing", "silent", "moved", "disabled"
OK = "ok"
# The first flag in this order names a feed's health; all flags are kept. Degraded comes
# last: its stories still arrive.
PRECEDENCE = (DISABLED, MOVED, FAILING, SILENT, DEGRADED)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failing_days: float = 2.0  # consecutive failures for this long flag a feed
    silent_days: float = 3.0  # no new story for this long flags a feed that polls fine


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
