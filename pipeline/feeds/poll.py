"""The polling half of an ingest cycle: which feeds are due, fetch them, and turn each
fetch result plus the feed's previous state into an outcome, entries and its next state.

`apply_fetch` is pure (state in, state out, `now` and the random source given), so every
HTTP situation is decided in one place; `poll_batch` adds the network around it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp.abc import AbstractResolver

from pipeline.config import FetchSettings
from pipeline.feeds.fetch import Fetcher, FetchResult
from pipeline.feeds.parse import parse_feed
from pipeline.feeds.schedule import (
    backoff,
    cache_lifetime,
    next_interval,
    publishing_interval,
    retry_after,
)
from pipeline.models import DEGRADED, FeedEntry, FeedOutcome, FeedSource, FeedState

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/feed+json;q=0.8, */*;q=0.5"
)
GONE = "gone"


@dataclass(slots=True)
class PollResult:
    """One feed after one poll: what happened, what it carried, its state to save."""

    feed: FeedSource
    state: FeedState
    outcome: FeedOutcome
    entries: list[FeedEntry] = field(default_factory=list)
    fetched_at: datetime | None = None


def state_for(feed: FeedSource, previous: FeedState | None) -> FeedState:
    """The feed's state to update: a copy of the stored one, registry fields refreshed.

    A feed the publisher declared gone (410) stays disabled even if the registry still
    lists it; the operator re-enables it by deleting its state.
    """
    state = dataclasses.replace(previous) if previous else FeedState(url=feed.url)
    state.name, state.tags = feed.name, list(feed.tags)
    state.enabled = feed.enabled and state.status != GONE
    return state


def fetch_url(feed: FeedSource, state: FeedState | None) -> str:
    """Where to fetch: the URL a permanent redirect moved the feed to, else the registered one."""
    return (state.moved_to if state else None) or feed.url


def is_due(feed: FeedSource, state: FeedState | None, now: datetime) -> bool:
    if not feed.enabled:
        return False
    if state is None:
        return True
    if state.status == GONE:
        return False
    return state.next_poll is None or state.next_poll <= now


def due_feeds(
    feeds: Sequence[FeedSource], states: Mapping[str, FeedState], now: datetime
) -> list[FeedSource]:
    return [f for f in feeds if is_due(f, states.get(f.url), now)]


def _seconds(delta: timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


def _failure(
    feed: FeedSource,
    state: FeedState,
    now: datetime,
    status: str,
    error: str,
    rng: random.Random,
    delay: timedelta | None = None,
) -> PollResult:
    """A failed poll: count it and back off; `delay` (Retry-After) wins when given."""
    state.status, state.last_error = status, error
    state.failures += 1
    state.last_polled = now
    state.next_poll = now + (delay if delay is not None else backoff(state.failures, rng))
    outcome = FeedOutcome(url=feed.url, ok=False, status=status, error=error)
    return PollResult(feed, state, outcome, fetched_at=now)


def _success(
    feed: FeedSource,
    state: FeedState,
    now: datetime,
    status: str,
    interval: timedelta,
    warning: str | None = None,
) -> None:
    state.status, state.failures, state.last_error = status, 0, warning
    state.last_polled = state.last_success = now
    state.poll_interval = _seconds(interval)
    state.next_poll = now + interval


def _same_body(
    feed: FeedSource, state: FeedState, now: datetime, status: str, interval: timedelta
) -> PollResult:
    """A 304 or an unchanged body: still the body last read, so a degraded feed stays
    degraded, with its reason, until a different body reads cleanly."""
    if state.status == DEGRADED:
        _success(feed, state, now, DEGRADED, interval, state.last_error)
    else:
        _success(feed, state, now, status, interval)
    return PollResult(feed, state, FeedOutcome(feed.url, True, status), fetched_at=now)


def _override(feed: FeedSource) -> timedelta | None:
    return timedelta(seconds=feed.interval) if feed.interval else None


def apply_fetch(
    feed: FeedSource,
    state: FeedState,
    fetched: FetchResult,
    now: datetime,
    rng: random.Random,
) -> PollResult:
    """Pure: a fetch result and the feed's state in; outcome, entries and new state out."""
    state.http_status = fetched.status
    if fetched.error:
        kind = fetched.error_kind or "error"
        return _failure(feed, state, now, kind, fetched.error, rng)
    status = fetched.status or 0
    if status == 410:
        state.enabled = False
        state.status, state.last_error = GONE, "HTTP 410 Gone: feed disabled"
        state.last_polled, state.next_poll = now, None
        outcome = FeedOutcome(url=feed.url, ok=False, status=GONE, error=state.last_error)
        return PollResult(feed, state, outcome, fetched_at=now)
    if status in (429, 503):
        delay = retry_after(fetched.headers.get("retry-after"), now)
        return _failure(feed, state, now, f"http_{status}", f"HTTP {status}", rng, delay)
    if not (fetched.ok or fetched.not_modified):
        return _failure(feed, state, now, f"http_{status}", f"HTTP {status}", rng)
    if fetched.moved_to:
        state.moved_to = fetched.moved_to
    hints = [cache_lifetime(fetched.headers, now)]
    previous = timedelta(seconds=state.poll_interval) if state.poll_interval else None
    if fetched.not_modified:
        # A 304 keeps the validators we sent unless the server sent fresher ones.
        state.etag = fetched.headers.get("etag") or state.etag
        state.last_modified = fetched.headers.get("last-modified") or state.last_modified
        interval = next_interval(previous, _override(feed), hints)
        return _same_body(feed, state, now, "not_modified", interval)
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    if body_hash == state.body_hash:
        state.etag = fetched.headers.get("etag")
        state.last_modified = fetched.headers.get("last-modified")
        interval = next_interval(previous, _override(feed), hints)
        return _same_body(feed, state, now, "unchanged", interval)
    parsed = parse_feed(
        fetched.body,
        feed.url,
        now,
        content_type=fetched.headers.get("content-type"),
        base_url=fetched.final_url,
    )
    if parsed.error:
        return _failure(feed, state, now, "parse_error", parsed.error, rng)
    # Validators and hash are kept only for a body that parsed, so a broken one is retried.
    state.etag = fetched.headers.get("etag")
    state.last_modified = fetched.headers.get("last-modified")
    state.body_hash = body_hash
    dates = [e.published_at for e in parsed.entries if not e.date_missing]
    hints += [
        timedelta(seconds=s) for s in (parsed.ttl_seconds, parsed.update_seconds) if s is not None
    ]
    interval = next_interval(publishing_interval(dates, now), _override(feed), hints)
    # A degraded feed is scheduled as any success: backing off would only delay entries
    # that can be read.
    status = DEGRADED if parsed.degraded else "ok"
    _success(feed, state, now, status, interval, parsed.warning)
    state.entries_seen += len(parsed.entries)
    reason = parsed.warning if parsed.degraded else None
    outcome = FeedOutcome(feed.url, True, status, entries_seen=len(parsed.entries), error=reason)
    return PollResult(feed, state, outcome, parsed.entries, fetched_at=now)


async def fetch_batch(
    feeds: Sequence[FeedSource],
    states: Mapping[str, FeedState],
    settings: FetchSettings,
    dns: AbstractResolver | None = None,
) -> list[FetchResult]:
    """Fetch every feed concurrently (bounded per host and globally), conditionally.

    An unexpected exception in one fetch becomes that feed's error, never the batch's."""
    async with Fetcher(settings, dns=dns) as fetcher:
        results = await asyncio.gather(
            *(
                fetcher.get(
                    fetch_url(f, states.get(f.url)),
                    etag=states[f.url].etag if f.url in states else None,
                    last_modified=states[f.url].last_modified if f.url in states else None,
                    accept=FEED_ACCEPT,
                )
                for f in feeds
            ),
            return_exceptions=True,
        )
    fetched = []
    for feed, result in zip(feeds, results, strict=True):
        if isinstance(result, FetchResult):
            fetched.append(result)
        elif isinstance(result, Exception):
            log.error("fetching %s failed unexpectedly: %r", feed.url, result)
            error = f"{type(result).__name__}: {result}"
            fetched.append(FetchResult(feed.url, feed.url, error=error, error_kind="error"))
        else:
            raise result
    return fetched


def poll_batch(
    feeds: Sequence[FeedSource],
    previous: Mapping[str, FeedState],
    settings: FetchSettings,
    now: datetime | None = None,
    rng: random.Random | None = None,
    dns: AbstractResolver | None = None,
) -> list[PollResult]:
    """Fetch and parse `feeds` once; one PollResult per feed, in order. Saves nothing."""
    states = {f.url: state_for(f, previous.get(f.url)) for f in feeds}
    fetched = asyncio.run(fetch_batch(feeds, states, settings, dns))
    now = now or datetime.now(UTC)
    rng = rng or random.Random()
    results = []
    for feed, result in zip(feeds, fetched, strict=True):
        try:
            results.append(apply_fetch(feed, states[feed.url], result, now, rng))
        except Exception as exc:  # one broken feed must not stop the others
            log.exception("feed %s failed", feed.url)
            error = f"{type(exc).__name__}: {exc}"
            results.append(_failure(feed, states[feed.url], now, "error", error, rng))
    return results
