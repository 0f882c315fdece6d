"""Feed health verdicts: failing for days, silent, moved, disabled, degraded, carried day to
day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.feeds.health import FeedHealth, HealthPolicy, assess, assess_all, counts
from pipeline.models import FeedState

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
POLICY = HealthPolicy(failing_days=2, silent_days=3)
RECENT = NOW - timedelta(minutes=10)


def _state(**kwargs) -> FeedState:
    values = {"url": "https://news.example/feed", "last_polled": RECENT, "status": "ok"}
    return FeedState(**{**values, **kwargs})


def test_a_feed_with_a_recent_story_is_ok():
    verdict = assess(_state(), None, NOW - timedelta(hours=3), NOW, POLICY)
    assert (verdict.health, verdict.flags) == ("ok", [])


def test_never_polled_is_new_not_silent():
    state = FeedState(url="https://news.example/feed")
    assert assess(state, None, None, NOW, POLICY).health == "new"


def test_failing_is_flagged_only_after_the_threshold_since_the_last_success():
    one_day = _state(failures=4, last_success=NOW - timedelta(days=1), status="http_503")
    assert assess(one_day, None, None, NOW, POLICY).flags == []
    three_days = _state(failures=9, last_success=NOW - timedelta(days=3), status="http_503")
    verdict = assess(three_days, None, None, NOW, POLICY)
    assert verdict.flags == ["failing"]
    assert verdict.failing_since == NOW - timedelta(days=3)


def test_failing_since_is_carried_from_the_previous_verdict_without_a_last_success():
    state = _state(failures=3, status="timeout")
    yesterday = assess(state, None, None, NOW - timedelta(days=1), POLICY)
    assert yesterday.failing_since == RECENT
    earlier = FeedHealth(
        url=state.url,
        checked_at=NOW - timedelta(days=1),
        health="ok",
        failing_since=NOW - timedelta(days=2, hours=1),
    )
    assert assess(state, earlier, None, NOW, POLICY).flags == ["failing"]


def test_a_recovered_feed_drops_its_failing_since():
    previous = FeedHealth(
        url="https://news.example/feed",
        checked_at=NOW - timedelta(days=1),
        health="failing",
        flags=["failing"],
        failing_since=NOW - timedelta(days=5),
    )
    verdict = assess(_state(), previous, NOW - timedelta(hours=1), NOW, POLICY)
    assert (verdict.health, verdict.failing_since) == ("ok", None)


def test_silent_when_the_newest_story_is_older_than_the_threshold():
    assert assess(_state(), None, NOW - timedelta(days=4), NOW, POLICY).flags == ["silent"]
    assert assess(_state(), None, NOW - timedelta(days=2), NOW, POLICY).flags == []


def test_a_feed_without_any_story_goes_silent_after_the_threshold_from_first_seen_quiet():
    first = assess(_state(), None, None, NOW - timedelta(days=4), POLICY)
    assert first.flags == [] and first.quiet_since == NOW - timedelta(days=4)
    assert assess(_state(), first, None, NOW, POLICY).flags == ["silent"]


def test_moved_and_disabled_flags_with_precedence():
    moved = _state(moved_to="https://news.example/new-feed")
    verdict = assess(moved, None, NOW, NOW, POLICY)
    assert (verdict.health, verdict.moved_to) == ("moved", "https://news.example/new-feed")
    both = _state(moved_to="https://x.example/", enabled=False)
    assert assess(both, None, NOW, NOW, POLICY).flags == ["disabled", "moved"]


def test_counts_cover_every_health_value():
    states = [_state(), FeedState(url="https://b.example/feed")]
    verdicts = assess_all(states, {}, {states[0].url: NOW}, NOW, POLICY)
    assert counts(verdicts) == {
        "ok": 1,
        "new": 1,
        "disabled": 0,
        "moved": 0,
        "failing": 0,
        "silent": 0,
        "degraded": 0,
    }


def test_a_degraded_feed_is_flagged_after_the_worse_flags():
    degraded = _state(status="degraded", last_error="SAXParseException: ...; repaired: ...")
    verdict = assess(degraded, None, NOW - timedelta(hours=1), NOW, POLICY)
    assert (verdict.health, verdict.flags) == ("degraded", ["degraded"])
    assert verdict.last_error.startswith("SAXParseException")
    quiet = assess(degraded, None, NOW - timedelta(days=5), NOW, POLICY)
    assert (quiet.health, quiet.flags) == ("silent", ["silent", "degraded"])
    assert counts([verdict, quiet])["degraded"] == 1
