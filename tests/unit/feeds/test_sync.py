"""Registry sync: add, update, disable; polling state is never touched."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.feeds.sync import plan_sync
from pipeline.models import FeedSource, FeedState

POLLED = datetime(2026, 3, 1, tzinfo=UTC)


def test_adds_updates_disables_and_leaves_the_rest():
    sources = [
        FeedSource(url="https://a.example/feed", name="A", tags=("world",)),
        FeedSource(url="https://b.example/feed", name="B"),
        FeedSource(url="https://c.example/feed", name="C"),
    ]
    states = [
        FeedState(url="https://a.example/feed", name="Old A", etag='"e1"', last_polled=POLLED),
        FeedState(url="https://c.example/feed", name="C"),
        FeedState(url="https://d.example/feed", name="D", failures=2),
    ]
    plan = plan_sync(sources, states)
    assert plan.counts() == {"added": 1, "updated": 1, "disabled": 1, "unchanged": 1}
    (updated,) = plan.updated
    assert (updated.name, updated.tags) == ("A", ["world"])
    assert (updated.etag, updated.last_polled) == ('"e1"', POLLED)
    (disabled,) = plan.disabled
    assert (disabled.url, disabled.enabled, disabled.failures) == (
        "https://d.example/feed",
        False,
        2,
    )
    assert plan.added[0].url == "https://b.example/feed" and plan.added[0].status == "new"
    assert len(plan.writes()) == 3


def test_a_second_sync_changes_nothing():
    sources = [FeedSource(url="https://a.example/feed", name="A", enabled=False)]
    first = plan_sync(sources, [])
    again = plan_sync(sources, first.writes())
    assert again.counts() == {"added": 0, "updated": 0, "disabled": 0, "unchanged": 1}


def test_a_feed_the_publisher_said_is_gone_stays_disabled():
    gone = FeedState(url="https://a.example/feed", enabled=False, status="gone", http_status=410)
    plan = plan_sync([FeedSource(url="https://a.example/feed")], [gone])
    assert plan.counts()["unchanged"] == 1 and not plan.writes()
