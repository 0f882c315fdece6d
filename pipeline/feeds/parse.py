"""Feed bytes in, typed FeedEntry records out (feedparser, always from bytes).

Never raises for bad input: a feed that cannot be read comes back with `error` set; one
that is malformed but readable (by feedparser, or after `feedrepair` mended it) keeps its
entries, is `degraded` and says why in `warning`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from pipeline.feeds.declared import html_to_text, normalise_code, plausible_date
from pipeline.feeds.repair import repair_feed_xml
from pipeline.feeds.schedule import update_period
from pipeline.models import FeedEntry

# Entity declarations live in a DTD internal subset near the top of the document.
_HEAD = 65536
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s*)?([\w.:-]+)\s+([^>]*)>", re.IGNORECASE)
_ENTITY_REF = re.compile(rb"&[\w.:-]+;")
# A tiny literal entity (like `<!ENTITY id "tag:example.com,">`) is harmless; anything that
# nests entities or is large is how an expansion bomb is built.
_MAX_ENTITY_VALUE = 256
_MAX_ENTITIES = 32
# Few references to a short entity are harmless; many are the quadratic-blowup attack.
_MAX_EXPANSION = 1024 * 1024
# Bounds on what one feed may make the rest of the pipeline do.
MAX_ENTRIES = 2000
MAX_TITLE_CHARS = 1000


@dataclass(slots=True)
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    title: str | None = None
    link: str | None = None
    warning: str | None = None
    error: str | None = None
    # Read only leniently (malformed XML, a wrong declared encoding, a repair), `warning`
    # says why: the entries are kept and the feed is recorded as degraded, not failed.
    degraded: bool = False
    # feedparser's format name ("rss20", "atom10", ...), "json1" for a JSON Feed.
    version: str | None = None
    # Channel-level data was read, so an entry-less feed is still a feed, not an error.
    has_channel: bool = False
    ttl_seconds: int | None = None
    # sy:updatePeriod / sy:updateFrequency, as seconds between updates.
    update_seconds: int | None = None


def _utc(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _iso_utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _absolute(link: Any, base: str) -> str | None:
    if not link or not isinstance(link, str):
        return None
    link = link.strip()
    if link.startswith("//"):
        link = (urlsplit(base).scheme or "https") + ":" + link
    try:
        absolute = urljoin(base, link)
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None
    except ValueError:
        return None


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


def _content_id(raw: Any) -> str | None:
    """An id for an entry with neither guid nor link: a hash of what it says."""
    parts = [str(dict.get(raw, k) or "") for k in ("title", "summary", "published", "updated")]
    if not any(parts):
        return None
    return "sha1:" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def _declared_language(raw: Any) -> str | None:
    """The entry's xml:lang (feedparser puts it on each text's details) or dc:language."""
    details = [raw.get("summary_detail"), *(raw.get("content") or []), raw.get("title_detail")]
    found = [d.get("language") for d in details if isinstance(d, dict)]
    return next((lang for lang in found if lang), None) or raw.get("language")


def _entry(
    raw: Any, feed_url: str, fetched_at: datetime, feed_language: str | None = None
) -> FeedEntry | None:
    # feedparser has already resolved relative links against xml:base / the feed URL.
    link = _absolute(raw.get("link"), feed_url)
    guid = (raw.get("id") or "").strip() or link or _content_id(raw)
    if not guid:
        return None
    # dict.get: feedparser's own get() maps updated to published with a warning each time.
    updated = plausible_date(_utc(dict.get(raw, "updated_parsed")), fetched_at)
    published = plausible_date(_utc(dict.get(raw, "published_parsed")), fetched_at) or updated
    contents = raw.get("content") or []
    content_html = max((c.get("value", "") for c in contents), key=len, default="")
    authors = [a.get("name", "").strip() for a in raw.get("authors") or [] if a.get("name")]
    if not authors and raw.get("author"):
        authors = [raw["author"].strip()]
    return FeedEntry(
        feed_url=feed_url,
        guid=guid,
        link=link,
        title=plain_title(raw.get("title", "")),
        summary_html=raw.get("summary", "") or "",
        content_html=content_html,
        published_at=published or fetched_at,
        date_missing=published is None,
        updated_at=updated,
        authors=authors,
        tags=[t.get("term", "").strip() for t in raw.get("tags") or [] if t.get("term")],
        image=_image(raw, feed_url),
        language=normalise_code(_declared_language(raw) or feed_language),
    )


def entity_problem(body: bytes) -> str | None:
    """Why the document's DTD must not be expanded, or None if it is harmless."""
    head = body[:_HEAD]
    if b"<!ENTITY" not in head.upper():
        return None
    subset = _DOCTYPE_SUBSET.search(head)
    if subset is None:
        return "entity declaration outside a DOCTYPE"
    declarations = _ENTITY_DECL.findall(subset.group(1))
    if len(declarations) > _MAX_ENTITIES:
        return f"more than {_MAX_ENTITIES} entity declarations"
    expansion = 0
    for parameter, name, definition in declarations:
        if parameter or re.match(rb"\s*(SYSTEM|PUBLIC)\b", definition):
            # External and parameter entities are never fetched: feedparser drops them.
            continue
        if _ENTITY_REF.search(definition) or b"%" in definition:
            return f"entity {name.decode(errors='replace')} refers to other entities"
        if len(definition) > _MAX_ENTITY_VALUE:
            return f"entity {name.decode(errors='replace')} is too long"
        expansion += body.count(b"&" + name + b";") * len(definition)
    if expansion > _MAX_EXPANSION:
        return f"entity references would expand to more than {_MAX_EXPANSION} bytes"
    return None


def plain_title(html: str) -> str:
    title = html_to_text(html)
    if len(title) <= MAX_TITLE_CHARS:
        return title
    return title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _json_item(
    item: Any, base: str, fetched_at: datetime, feed_language: Any = None
) -> FeedEntry | None:
    if not isinstance(item, dict):
        return None
    link = _absolute(item.get("url"), base)
    guid = str(item.get("id") or "").strip() or link
    if not guid:
        return None
    updated = plausible_date(_iso_utc(item.get("date_modified")), fetched_at)
    published = plausible_date(_iso_utc(item.get("date_published")), fetched_at) or updated
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [a["name"].strip() for a in authors if isinstance(a, dict) and a.get("name")]
    text = item.get("content_text")
    content = item.get("content_html") or (html_escape(text) if isinstance(text, str) else "")
    tags = [t for t in item.get("tags") or [] if isinstance(t, str)]
    image = item.get("image") or item.get("banner_image")
    return FeedEntry(
        feed_url=base,
        guid=guid,
        link=link,
        title=plain_title(str(item.get("title") or "")),
        summary_html=str(item.get("summary") or ""),
        content_html=str(content),
        published_at=published or fetched_at,
        date_missing=published is None,
        updated_at=updated,
        authors=names,
        tags=tags,
        image=_absolute(image, base),
        language=normalise_code(str(item.get("language") or feed_language or "")),
    )


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _parse_json_feed(body: bytes, feed_url: str, fetched_at: datetime) -> ParsedFeed | None:
    """A JSON Feed (jsonfeed.org), or None if the bytes are not one."""
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return None
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        return None
    items = data.get("items")
    if not isinstance(items, list):
        return ParsedFeed(error="not a feed: JSON Feed without an items list")
    result = ParsedFeed(
        title=html_to_text(str(data.get("title") or "")) or None,
        link=_absolute(data.get("home_page_url"), feed_url),
        version="json1",
        has_channel=True,
    )
    for item in items[:MAX_ENTRIES]:
        entry = _json_item(item, feed_url, fetched_at, data.get("language"))
        if entry is not None:
            result.entries.append(entry)
    return result


def _positive_int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _feedparser(body: bytes, base: str, content_type: str | None) -> Any:
    headers = {"content-location": base, "content-type": content_type or "application/xml"}
    return feedparser.parse(
        body,
        response_headers=headers,
        # Entry HTML only ever becomes plain text (html_to_text drops scripts and
        # styles), so feedparser's own HTML sanitising and in-content link rewriting would
        # cost half the parse time for nothing. Entry links are still resolved.
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _bozo(parsed: Any) -> str | None:
    if not parsed.bozo:
        return None
    return f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"


def _read_loosely(parsed: Any) -> bool:
    """feedparser's strict XML parser did not read the document; its loose one did what it
    could. Notes about the encoding or the Content-Type come with a strict reading."""
    exc = parsed.get("bozo_exception")
    return bool(parsed.bozo) and (
        not isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe)
        or isinstance(exc, feedparser.CharacterEncodingUnknown)
    )


def _read(parsed: Any, feed_url: str, fetched_at: datetime) -> ParsedFeed:
    """A ParsedFeed from feedparser's result."""
    result = ParsedFeed(
        title=html_to_text(parsed.feed.get("title", "")) or None,
        link=parsed.feed.get("link"),
        version=parsed.get("version") or None,
        has_channel=bool(parsed.feed),
    )
    ttl = _positive_int(parsed.feed.get("ttl"))
    result.ttl_seconds = ttl * 60 if ttl else None
    result.update_seconds = update_period(
        parsed.feed.get("sy_updateperiod"), parsed.feed.get("sy_updatefrequency")
    )
    skipped = 0
    for raw in parsed.entries[:MAX_ENTRIES]:
        try:
            entry = _entry(raw, feed_url, fetched_at, parsed.feed.get("language"))
        except (AttributeError, TypeError, ValueError):
            skipped += 1
            continue
        if entry is not None:
            result.entries.append(entry)
    notes = []
    message = _bozo(parsed)
    if message and not (result.entries or parsed.feed):
        result.error = f"not a feed: {message}"
    elif message:
        # A wrong Content-Type is the server's fault, not the document's.
        result.degraded = not isinstance(parsed.bozo_exception, feedparser.NonXMLContentType)
        notes.append(message)
    elif not result.entries and not result.has_channel and not result.version:
        result.error = "not a feed: no channel and no entries"
    if skipped:
        notes.append(f"{skipped} unreadable entries skipped")
    if len(parsed.entries) > MAX_ENTRIES:
        notes.append(f"{len(parsed.entries)} entries: only the first {MAX_ENTRIES} read")
    result.warning = "; ".join(notes) or None
    return result


def _parse_xml_feed(
    body: bytes, feed_url: str, fetched_at: datetime, content_type: str | None
) -> ParsedFeed:
    parsed = _feedparser(body, feed_url, content_type)
    result = _read(parsed, feed_url, fetched_at)
    if result.entries and not _read_loosely(parsed):
        return result
    # Malformed, or nothing in it: a mended copy may read better. Bozo feeds are rare, so
    # the second reading costs little overall.
    repaired = repair_feed_xml(body, parsed.get("encoding"))
    second = None
    if repaired is not None:
        second = _read(_feedparser(repaired.body, feed_url, None), feed_url, fetched_at)
    if second is None or len(second.entries) <= len(result.entries):
        if result.error:
            result.error += "; no entries after repairing the XML either"
        return result
    mends = f"repaired: {', '.join(repaired.mends)}" if repaired.mends else "repaired"
    second.degraded = True
    second.warning = "; ".join(m for m in (_bozo(parsed), mends, second.warning) if m)
    return second


def parse_feed(
    body: bytes,
    feed_url: str,
    fetched_at: datetime,
    content_type: str | None = None,
    base_url: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes. A broken feed with good entries keeps them and is `degraded`; a
    feed that no reading gets anything from is an error.

    `content_type` is the server's Content-Type header (its charset counts); `base_url` is
    where the bytes came from (after redirects), the base for relative links, while entries
    keep `feed_url`, the feed's registered identity. feedparser never sees a URL to fetch.
    """
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes bytes, never a URL or path")
    if not body.strip():
        return ParsedFeed(error="not a feed: empty body")
    problem = entity_problem(body)
    if problem:
        return ParsedFeed(error=f"refused: {problem}")
    base = base_url or feed_url
    try:
        parsed = _parse_json_feed(body, base, fetched_at) or _parse_xml_feed(
            body, base, fetched_at, content_type
        )
    except Exception as exc:  # feedparser on hostile bytes: a feed error, never a crash
        return ParsedFeed(error=f"parser failed: {type(exc).__name__}: {exc}")
    for entry in parsed.entries:
        entry.feed_url = feed_url
    return parsed
