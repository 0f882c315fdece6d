"""Feed-health documents in the real engine: one per feed per day, the latest one read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.feeds.health import FeedHealth

pytestmark = pytest.mark.engine

DAY = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def _verdict(url: str, when: datetime, health: str, **kwargs) -> FeedHealth:
    return FeedHealth(url=url, checked_at=when, health=health, **kwargs)


def test_latest_verdict_per_feed_before_a_time(store):
    a, b = "https://a.example/feed", "https://b.example/feed"
    since = DAY - timedelta(days=4)
    store.save_feed_health(
        [
            _verdict(a, DAY - timedelta(days=2), "ok"),
            _verdict(a, DAY - timedelta(days=1), "failing", flags=["failing"], failing_since=since),
            _verdict(b, DAY - timedelta(days=1), "new", tags=["world"]),
            _verdict(a, DAY, "ok"),  # today: not "before"
        ]
    )
    # Saving the same feed and day again replaces that day's document.
    assert store.save_feed_health([_verdict(b, DAY - timedelta(days=1), "silent")]) == 1
    store.client.indices.refresh(index=store.feed_health)
    assert store.client.count(index=store.feed_health)["count"] == 4

    latest = store.latest_feed_health(before=DAY.replace(hour=0))
    assert set(latest) == {a, b}
    assert latest[a].health == "failing" and latest[a].flags == ["failing"]
    assert latest[a].failing_since == since
    assert latest[a].checked_at == DAY - timedelta(days=1)
    assert latest[b].health == "silent"


def test_no_verdicts_yet(store):
    assert store.latest_feed_health(before=DAY) == {}
    assert store.last_story_times([]) == {}
    assert store.last_story_times(["https://none.example/feed"]) == {}
