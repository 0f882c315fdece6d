"""The adaptive schedule, publisher hints, Retry-After and backoff, as pure functions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.feeds.schedule import (
    MAX_BACKOFF,
    MAX_INTERVAL,
    MIN_INTERVAL,
    backoff,
    cache_lifetime,
    next_interval,
    publishing_interval,
    retry_after,
    update_period,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds_and_as_http_date():
    assert retry_after("120", NOW) == timedelta(seconds=120)
    assert retry_after("Sun, 01 Mar 2026 12:30:00 GMT", NOW) == timedelta(minutes=30)


def test_retry_after_is_capped_at_a_day_and_ignores_garbage():
    assert retry_after("999999", NOW) == timedelta(hours=24)
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None
    assert retry_after("Sat, 28 Feb 2026 12:00:00 GMT", NOW) == timedelta(0)


def test_cache_lifetime_from_max_age_then_expires():
    assert cache_lifetime({"cache-control": "public, max-age=900"}, NOW) == timedelta(minutes=15)
    expires = {"expires": "Sun, 01 Mar 2026 14:00:00 GMT"}
    assert cache_lifetime(expires, NOW) == timedelta(hours=2)
    assert cache_lifetime({"cache-control": "no-cache, max-age=900"}, NOW) is None
    assert cache_lifetime({}, NOW) is None


def test_update_period():
    assert update_period("hourly", "2") == 1800
    assert update_period("daily", None) == 86400
    assert update_period("fortnightly", "1") is None


def test_publishing_interval_follows_the_rate():
    busy = [NOW - timedelta(minutes=10 * i) for i in range(12)]
    assert publishing_interval(busy, NOW) == timedelta(minutes=110) / 12
    quiet = [NOW - timedelta(days=3)]
    assert publishing_interval(quiet, NOW) == timedelta(days=3)
    assert publishing_interval([NOW - timedelta(days=30)], NOW) is None


def test_next_interval_is_clamped_and_respects_hints():
    assert next_interval(timedelta(seconds=30), None) == MIN_INTERVAL
    assert next_interval(timedelta(days=3), None) == MAX_INTERVAL
    ttl = timedelta(hours=2)
    assert next_interval(timedelta(minutes=10), None, [ttl, None]) == ttl
    assert next_interval(timedelta(minutes=10), None, [timedelta(days=9)]) == MAX_INTERVAL


def test_per_feed_interval_overrides_the_schedule():
    override = timedelta(minutes=2)
    assert next_interval(timedelta(hours=5), override, [timedelta(hours=1)]) == override


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(7)
    first = [backoff(1, rng) for _ in range(50)]
    assert all(timedelta(minutes=3.75) <= d <= timedelta(minutes=6.25) for d in first)
    assert len(set(first)) > 1, "jitter spreads retries"
    assert timedelta(minutes=15) <= backoff(3, rng) <= timedelta(minutes=25)
    assert all(backoff(40, rng) <= MAX_BACKOFF for _ in range(20))
    assert backoff(40, rng) >= MAX_BACKOFF * 0.75
