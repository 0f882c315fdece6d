"""When to poll a feed next: adaptive rate, publisher hints, backoff with jitter.

Pure functions over datetimes and header strings; the caller supplies `now` and the random
source, so every decision can be checked in a unit test.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=24)
DEFAULT_INTERVAL = timedelta(hours=1)
# Publisher hints (ttl, max-age, Expires, Retry-After) are honoured up to a day, so every
# feed is still looked at daily; conditional GET keeps that cheap.
MAX_HINT = timedelta(hours=24)
BACKOFF_BASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=24)
# Entries older than this say nothing about how often the feed publishes now.
RATE_WINDOW = timedelta(days=7)

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_UPDATE_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}


def clamp(
    value: timedelta, low: timedelta = MIN_INTERVAL, high: timedelta = MAX_INTERVAL
) -> timedelta:
    return max(low, min(high, value))


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; capped at a day, None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        when = _http_date(value)
        if when is None:
            return None
        delay = when - now
    return min(max(delay, timedelta(0)), MAX_HINT)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response says it stays fresh: Cache-Control max-age, else Expires."""
    cache_control = headers.get("cache-control", "")
    if "no-cache" in cache_control.lower() or "no-store" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control)
    if match:
        return min(timedelta(seconds=int(match.group(1))), MAX_HINT)
    expires = headers.get("expires")
    if expires:
        when = _http_date(expires)
        if when is not None and when > now:
            return min(when - now, MAX_HINT)
    return None


def update_period(period: str | None, frequency: str | None) -> int | None:
    """sy:updatePeriod / sy:updateFrequency as seconds between updates."""
    if not period:
        return None
    seconds = _UPDATE_PERIODS.get(period.strip().lower())
    if seconds is None:
        return None
    try:
        times = int(str(frequency).strip()) if frequency else 1
    except ValueError:
        times = 1
    return seconds // max(times, 1)


def publishing_interval(dates: Iterable[datetime], now: datetime) -> timedelta | None:
    """Time per entry over the last week: from the oldest recent entry until now, divided by
    the number of entries since. None when the feed shows no dated entry from that week.

    Counting up to `now` (not to the newest entry) makes a feed that went quiet slow down.
    """
    recent = [d for d in dates if now - RATE_WINDOW <= d <= now + MIN_INTERVAL]
    if not recent:
        return None
    return max(now - min(recent), timedelta(0)) / len(recent)


def backoff(failures: int, rng: random.Random) -> timedelta:
    """Exponential backoff from 5 minutes, with +/-25% jitter so failed feeds spread out."""
    exponent = min(max(failures, 1) - 1, 20)
    base = min(BACKOFF_BASE * (2**exponent), MAX_BACKOFF)
    return min(base * rng.uniform(0.75, 1.25), MAX_BACKOFF)


def next_interval(
    rate: timedelta | None,
    override: timedelta | None,
    hints: Iterable[timedelta | None] = (),
) -> timedelta:
    """The gap to the next poll after a successful one.

    An operator's per-feed override wins outright; otherwise the observed rate, clamped to
    5 min..24 h, and never sooner than any publisher hint (ttl, updatePeriod, max-age, ...).
    """
    if override is not None:
        return override
    interval = clamp(rate if rate is not None else DEFAULT_INTERVAL)
    floor = max((h for h in hints if h is not None), default=timedelta(0))
    return max(interval, min(floor, MAX_HINT))
