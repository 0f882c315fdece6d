"""One ingest cycle over a batch of feeds: poll, parse, build articles, index, save state.

Used alike by the CLI and by Airflow tasks. Feed state is saved only after that poll's
stories are indexed, so a crash in between means the next poll redoes the work.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pipeline.articles import article_from_entry
from pipeline.config import Settings
from pipeline.fetch import Fetcher, FetchResult
from pipeline.models import Article, FeedOutcome, FeedSource, FeedState, RunSummary
from pipeline.parse import parse_feed
from pipeline.store import Store

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/feed+json;q=0.8, */*;q=0.5"
)
DEFAULT_INTERVAL = timedelta(minutes=10)


def _state_for(feed: FeedSource, previous: FeedState | None) -> FeedState:
    state = previous or FeedState(url=feed.url)
    state.name, state.tags, state.enabled = feed.name, list(feed.tags), feed.enabled
    return state


def _fail(state: FeedState, now: datetime, status: str, error: str) -> FeedOutcome:
    state.status, state.last_error = status, error
    state.failures += 1
    state.last_polled = now
    state.next_poll = now + DEFAULT_INTERVAL
    return FeedOutcome(url=state.url, ok=False, status=status, error=error)


def _process(
    feed: FeedSource, state: FeedState, fetched: FetchResult, now: datetime
) -> tuple[FeedOutcome, list[Article]]:
    """Pure: a fetch result and the previous state in, outcome and articles out."""
    if fetched.error:
        return _fail(state, now, fetched.error_kind or "error", fetched.error), []
    if fetched.not_modified:
        state.status, state.failures, state.last_error = "not_modified", 0, None
        state.last_polled, state.next_poll = now, now + DEFAULT_INTERVAL
        return FeedOutcome(url=feed.url, ok=True, status="not_modified"), []
    if not fetched.ok:
        return _fail(state, now, f"http_{fetched.status}", f"HTTP {fetched.status}"), []
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    state.etag = fetched.headers.get("etag")
    state.last_modified = fetched.headers.get("last-modified")
    if body_hash == state.body_hash:
        state.status, state.failures, state.last_error = "unchanged", 0, None
        state.last_polled, state.next_poll = now, now + DEFAULT_INTERVAL
        return FeedOutcome(url=feed.url, ok=True, status="unchanged"), []
    parsed = parse_feed(fetched.body, fetched.final_url, now)
    if parsed.error:
        return _fail(state, now, "parse_error", parsed.error), []
    articles = [a for e in parsed.entries if (a := article_from_entry(e, now)) is not None]
    state.body_hash = body_hash
    state.status, state.failures = "ok", 0
    state.last_error = parsed.warning
    state.last_polled, state.next_poll = now, now + DEFAULT_INTERVAL
    state.entries_seen += len(parsed.entries)
    outcome = FeedOutcome(url=feed.url, ok=True, status="ok", entries_seen=len(parsed.entries))
    return outcome, articles


async def _fetch_all(
    feeds: Sequence[FeedSource], states: dict[str, FeedState], settings: Settings
) -> list[FetchResult]:
    async with Fetcher(settings.fetch) as fetcher:
        return await asyncio.gather(
            *(
                fetcher.get(
                    f.url,
                    etag=states[f.url].etag,
                    last_modified=states[f.url].last_modified,
                    accept=FEED_ACCEPT,
                )
                for f in feeds
            )
        )


def run_cycle(feeds: Sequence[FeedSource], store: Store, settings: Settings) -> RunSummary:
    """Poll every enabled feed in `feeds` once and index what is new."""
    feeds = [f for f in feeds if f.enabled]
    previous = store.feed_states(f.url for f in feeds)
    states = {f.url: _state_for(f, previous.get(f.url)) for f in feeds}
    fetched = asyncio.run(_fetch_all(feeds, states, settings))
    now = datetime.now(UTC)
    summary = RunSummary()
    per_feed: list[tuple[FeedOutcome, list[Article]]] = []
    for feed, result in zip(feeds, fetched, strict=True):
        try:
            per_feed.append(_process(feed, states[feed.url], result, now))
        except Exception as exc:  # one broken feed must not stop the others
            log.exception("feed %s failed", feed.url)
            error = f"{type(exc).__name__}: {exc}"
            per_feed.append((_fail(states[feed.url], now, "error", error), []))
    created = store.index_new_stories([a for _, found in per_feed for a in found])
    store.save_feed_states(states.values())
    for outcome, found in per_feed:
        outcome.stories_new = sum(1 for a in found if a.url in created)
        summary.add(outcome)
    return summary
