"""Article metadata a page declares about itself: publish time, canonical URL, lead image,
language, title. Reads a parsed lxml tree; never fetches anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from pipeline.feeds.declared import normalise_code, plausible_date

_PUBLISHED_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "publish-date",
    "publishdate",
    "pubdate",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
_IMAGE_KEYS = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "image")
_TITLE_KEYS = ("og:title", "twitter:title")
_MAX_JSONLD_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None = None
    published_at: datetime | None = None
    canonical_url: str | None = None
    image: str | None = None
    language: str | None = None


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 or RFC 2822 text to an aware UTC datetime; None when it is not a sane date."""
    if not value or not value.strip():
        return None
    raw = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None:
        return None
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return plausible_date(aware.astimezone(UTC), datetime.now(UTC))


def _meta(tree: lxml_html.HtmlElement) -> dict[str, str]:
    """First content of each <meta> key (property, name or itemprop), keys lower-cased."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        content = el.get("content")
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (el.get(attr) or "").strip().lower()
            if key and key not in found:
                found[key] = content.strip()
    return found


def _jsonld_values(tree: lxml_html.HtmlElement, key: str) -> list[Any]:
    values: list[Any] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > _MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if key in item:
                    values.append(item[key])
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
    return values


def _published(tree: lxml_html.HtmlElement, meta: dict[str, str]) -> datetime | None:
    candidates = [meta.get(k) for k in _PUBLISHED_KEYS]
    candidates += [v for v in _jsonld_values(tree, "datePublished") if isinstance(v, str)]
    for el in tree.iter("time"):
        if (el.get("itemprop") or "").lower() == "datepublished" or el.get("pubdate") is not None:
            candidates.insert(0, el.get("datetime"))
        else:
            candidates.append(el.get("datetime"))
    for value in candidates:
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed
    return None


def _absolute(base: str | None, link: str | None) -> str | None:
    if not link or not link.strip():
        return None
    try:
        absolute = urljoin(base or "", link.strip())
    except ValueError:
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _canonical(tree: lxml_html.HtmlElement, meta: dict[str, str], base: str | None) -> str | None:
    for el in tree.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split():
            found = _absolute(base, el.get("href"))
            if found:
                return found
    return _absolute(base, meta.get("og:url"))


def _language(tree: lxml_html.HtmlElement, meta: dict[str, str]) -> str | None:
    declared = tree.get("lang") or tree.get("xml:lang") or meta.get("og:locale")
    return normalise_code(declared or meta.get("content-language"))


def read_meta(tree: lxml_html.HtmlElement, url: str | None) -> PageMeta:
    meta = _meta(tree)
    title = next((meta[k] for k in _TITLE_KEYS if meta.get(k)), None)
    if title is None:
        found = tree.find(".//title")
        title = found.text_content().strip() if found is not None else None
    image = next((i for k in _IMAGE_KEYS if (i := _absolute(url, meta.get(k)))), None)
    return PageMeta(
        title=" ".join(title.split()) if title else None,
        published_at=_published(tree, meta),
        canonical_url=_canonical(tree, meta, url),
        image=image,
        language=_language(tree, meta),
    )
