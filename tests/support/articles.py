"""One builder for the Article records tests need: a test names only the fields it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pipeline.models import Article

WHEN = datetime(2024, 6, 17, 5, 0, tzinfo=UTC)


def make_article(
    url: str = "https://news.example/a",
    body: str = "Ministers met on Monday.",
    *,
    when: datetime = WHEN,
    **fields: Any,
) -> Article:
    """An article at `url` (its host is the source, with a feed there), published and
    fetched at `when`; any other field of Article by keyword."""
    host = urlsplit(url).hostname or "news.example"
    defaults: dict[str, Any] = {
        "source": host,
        "feed_url": f"https://{host}/feed",
        "guid": url,
        "title": f"Headline at {host}",
        "published_at": when,
        "fetched_at": when,
    }
    return Article(url=url, body=body, **{**defaults, **fields})
