"""A degraded feed (malformed but readable) keeps its entries and is scheduled as a success;
its status holds while the body stays the same. `apply_fetch` is pure: no network here."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.feeds.fetch import FetchResult
from pipeline.feeds.poll import apply_fetch
from pipeline.models import DEGRADED, FeedOutcome, FeedSource, FeedState, RunSummary

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = FeedSource("http://127.0.0.1:8000/feed.xml", interval=1800)
# Undeclared rss: prefixes after a doubled declaration: feedparser alone reads no entry.
MALFORMED = (
    b'<?xml version="1.0"?>\n<?xml version="1.0"?>\n<rss rss:version=2.0><rss:channel>'
    b"<rss:title>Quay</rss:title><rss:item><rss:title>Tides</rss:title>"
    b"<rss:link>http://h.test/tides</rss:link></rss:item></rss:channel></rss>"
)
CLEAN = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quay</title><item>'
    b"<title>Tides</title><link>http://h.test/tides</link></item></channel></rss>"
)


def fetched(body: bytes = b"", status: int = 200, **headers: str) -> FetchResult:
    return FetchResult(FEED.url, FEED.url, status=status, body=body, headers=headers)


def poll(state: FeedState, result: FetchResult, now: datetime = NOW):
    return apply_fetch(FEED, state, result, now, random.Random(1))


def test_a_degraded_feed_keeps_its_entries_and_is_scheduled_as_a_success():
    state = FeedState(url=FEED.url, failures=3, last_error="HTTP 503", status="http_503")
    result = poll(state, fetched(MALFORMED, etag='"v1"'))
    assert [e.link for e in result.entries] == ["http://h.test/tides"]
    assert (result.outcome.ok, result.outcome.status) == (True, DEGRADED)
    assert "SAXParseException" in result.outcome.error
    saved = result.state
    assert (saved.status, saved.failures) == (DEGRADED, 0)
    assert "repaired" in saved.last_error
    # The feed's own interval, as for any success; a failure would back off instead.
    assert saved.next_poll == NOW + timedelta(seconds=1800)
    assert saved.last_success == NOW
    assert saved.body_hash and saved.etag == '"v1"'


def test_degraded_holds_while_the_body_is_the_same_and_clears_on_a_clean_body():
    first = poll(FeedState(url=FEED.url), fetched(MALFORMED, etag='"v1"')).state
    reason = first.last_error
    later = NOW + timedelta(hours=1)
    not_modified = poll(first, fetched(status=304), later)
    assert not_modified.outcome.status == "not_modified"
    assert (not_modified.state.status, not_modified.state.last_error) == (DEGRADED, reason)
    assert not_modified.state.next_poll == later + timedelta(seconds=1800)
    unchanged = poll(not_modified.state, fetched(MALFORMED), later)
    assert unchanged.outcome.status == "unchanged"
    assert (unchanged.state.status, unchanged.state.last_error) == (DEGRADED, reason)
    clean = poll(unchanged.state, fetched(CLEAN), later)
    assert (clean.state.status, clean.state.last_error) == ("ok", None)


def test_a_body_no_reading_can_use_still_fails_and_backs_off():
    result = poll(FeedState(url=FEED.url), fetched(b"<html><body>Not found"))
    assert (result.outcome.ok, result.state.status, result.state.failures) == (
        False,
        "parse_error",
        1,
    )
    assert "no entries after repairing the XML either" in result.state.last_error
    assert result.state.body_hash is None


def test_the_run_summary_counts_and_lists_degraded_feeds():
    summary = RunSummary()
    summary.add(FeedOutcome(FEED.url, True, DEGRADED, entries_seen=1, error="why"))
    summary.add(FeedOutcome("http://127.0.0.1:8000/other.xml", True, "ok", entries_seen=2))
    report = summary.as_dict()
    assert (report["feeds_degraded"], report["feeds_failed"]) == (1, 0)
    assert report["degraded"] == [{"url": FEED.url, "reason": "why"}]
