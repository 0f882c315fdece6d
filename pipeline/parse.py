"""Feed bytes in, typed FeedEntry records out (feedparser, always from bytes)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from pipeline.extract import html_to_text
from pipeline.models import FeedEntry

# An internal DTD subset is how entity-expansion and external-entity attacks arrive;
# no real news feed needs one.
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


@dataclass(slots=True)
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    title: str | None = None
    link: str | None = None
    warning: str | None = None
    error: str | None = None
    ttl_seconds: int | None = None


def _utc(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    link = link.strip()
    if link.startswith("//"):
        link = (urlsplit(base).scheme or "https") + ":" + link
    absolute = urljoin(base, link)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _image(entry: Any, base: str) -> str | None:
    for media in entry.get("media_content") or []:
        if media.get("url") and (
            media.get("medium") == "image" or "image" in media.get("type", "")
        ):
            return _absolute(media["url"], base)
    for thumb in entry.get("media_thumbnail") or []:
        if thumb.get("url"):
            return _absolute(thumb["url"], base)
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and link.get("type", "").startswith("image/"):
            return _absolute(link.get("href"), base)
    return None


def _entry(raw: Any, feed_url: str, fetched_at: datetime) -> FeedEntry | None:
    link = _absolute(raw.get("link"), feed_url)
    guid = (raw.get("id") or "").strip() or link
    if not guid:
        return None
    published = _utc(raw.get("published_parsed")) or _utc(raw.get("updated_parsed"))
    contents = raw.get("content") or []
    content_html = max((c.get("value", "") for c in contents), key=len, default="")
    authors = [a.get("name", "").strip() for a in raw.get("authors") or [] if a.get("name")]
    if not authors and raw.get("author"):
        authors = [raw["author"].strip()]
    return FeedEntry(
        feed_url=feed_url,
        guid=guid,
        link=link,
        title=html_to_text(raw.get("title", "")),
        summary_html=raw.get("summary", "") or "",
        content_html=content_html,
        published_at=published or fetched_at,
        date_missing=published is None,
        updated_at=_utc(raw.get("updated_parsed")),
        authors=authors,
        tags=[t.get("term", "").strip() for t in raw.get("tags") or [] if t.get("term")],
        image=_image(raw, feed_url),
    )


def parse_feed(body: bytes, feed_url: str, fetched_at: datetime) -> ParsedFeed:
    """Parse feed bytes. A broken feed with good entries keeps them and records a warning;
    a feed with no entries and a parse error is an error."""
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes bytes, never a URL or path")
    head = body[:65536]
    if _ENTITY_DECL.search(head):
        body = _DOCTYPE_SUBSET.sub(b"", body, count=1)
        if _ENTITY_DECL.search(body[:65536]):
            return ParsedFeed(error="refused: feed declares XML entities")
    parsed = feedparser.parse(body, response_headers={"content-location": feed_url})
    result = ParsedFeed(
        title=html_to_text(parsed.feed.get("title", "")) or None,
        link=parsed.feed.get("link"),
    )
    ttl = parsed.feed.get("ttl")
    if ttl and str(ttl).strip().isdigit():
        result.ttl_seconds = int(str(ttl).strip()) * 60
    for raw in parsed.entries:
        entry = _entry(raw, feed_url, fetched_at)
        if entry is not None:
            result.entries.append(entry)
    if parsed.bozo:
        message = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        if result.entries:
            result.warning = message
        elif not parsed.feed:
            result.error = f"not a feed: {message}"
        else:
            result.warning = message
    elif not result.entries and not parsed.feed and not parsed.get("version"):
        result.error = "not a feed: no channel and no entries"
    return result
