"""Story documents built from copies (pure functions over the engine's document shape).

A story is one text that several outlets ran. Its document keeps every copy (URL, outlet,
feed, guid, title, published time, first seen) and shows one copy's text:

- the best copy gives title, body, url, source, language, authors, tags and image: the
  copy with the most words after normalisation (outlets cut wire copy, they rarely add to
  it), then the earliest published, then the smallest URL, so the choice never depends on
  the order copies arrive in;
- `published_at` is the earliest dated copy's time: when the story first appeared;
- `first_seen` / `last_seen` are the earliest and latest time a copy was first seen;
- `urls` and `sources` list every copy's URL (the feed's link and the page's own canonical
  URL) and each distinct outlet once, so a search for any copy's URL finds the story and
  outlet facets count outlets, not stories; the story's `url` prefers the canonical one;
- entities belong to the story: the first enrichment it gets stays, copies never re-run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.models import ENTITY_TYPES, Article, Entities
from pipeline.stories.dedup import Fingerprint


@dataclass(frozen=True, slots=True)
class Copy:
    """One outlet's copy of a story, as it sits in the story's `copies` list."""

    url: str
    source: str
    feed_url: str
    guid: str
    title: str
    published_at: datetime
    first_seen: datetime
    words: int
    body_hash: str | None = None
    date_missing: bool = False
    page_url: str | None = None
    # Whether the text came from the feed or the article page, and why not the page.
    body_source: str = "feed"
    text_note: str | None = None

    def to_source(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "source": self.source,
            "feed_url": self.feed_url,
            "guid": self.guid,
            "title": self.title,
            "published_at": self.published_at.isoformat(),
            "first_seen": self.first_seen.isoformat(),
            "words": self.words,
            "body_hash": self.body_hash,
            "date_missing": self.date_missing,
            "page_url": self.page_url,
            "body_source": self.body_source,
            "text_note": self.text_note,
        }

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> Copy:
        return cls(
            url=source["url"],
            source=source["source"],
            feed_url=source.get("feed_url") or "",
            guid=source.get("guid") or "",
            title=source.get("title") or "",
            published_at=_date(source["published_at"]),
            first_seen=_date(source["first_seen"]),
            words=int(source.get("words") or 0),
            body_hash=source.get("body_hash"),
            date_missing=bool(source.get("date_missing", False)),
            page_url=source.get("page_url"),
            body_source=source.get("body_source") or "feed",
            text_note=source.get("text_note"),
        )

    def rank(self) -> tuple[int, datetime, str]:
        """Smaller is better: most words, then earliest published, then smallest URL."""
        return (-self.words, self.published_at, self.url)


def _date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def copy_of(article: Article, fingerprint: Fingerprint) -> Copy:
    return Copy(
        url=article.url,
        source=article.source,
        feed_url=article.feed_url,
        guid=article.guid,
        title=article.title,
        published_at=article.published_at,
        first_seen=article.fetched_at,
        words=fingerprint.words,
        body_hash=fingerprint.body_hash,
        date_missing=article.date_missing,
        page_url=article.page_url,
        body_source=article.body_source,
        text_note=article.text_note,
    )


def _text_fields(article: Article, fingerprint: Fingerprint) -> dict[str, Any]:
    """What the best copy lends the story."""
    return {
        "title": article.title,
        "body": article.body,
        "url": article.page_url or article.url,
        "source": article.source,
        "feed_url": article.feed_url,
        "guid": article.guid,
        "language": article.language,
        "authors": list(article.authors),
        "tags": list(article.tags),
        "image": article.image,
        "body_hash": fingerprint.body_hash,
    }


def entity_fields(entities: Entities) -> dict[str, Any]:
    return {
        "entities": {t: entities.names(t) for t in ENTITY_TYPES},
        "entity_mentions": [
            {"name": m.name, "type": m.type, "mentions": m.mentions, "in_title": m.in_title}
            for m in entities.mentions
        ],
        "enrichment_version": entities.version,
        "enrichment_error": entities.error,
    }


def _summary_fields(copies: list[Copy]) -> dict[str, Any]:
    """Everything the copy list decides: order, URLs, outlets, times, count."""
    ordered = sorted(copies, key=lambda c: (c.published_at, c.url))
    dated = [c for c in ordered if not c.date_missing] or ordered
    return {
        "copies": [c.to_source() for c in ordered],
        "copies_count": len(ordered),
        "urls": sorted({c.url for c in ordered} | {c.page_url for c in ordered if c.page_url}),
        "sources": sorted({c.source for c in ordered}),
        "published_at": min(c.published_at for c in dated).isoformat(),
        "date_missing": all(c.date_missing for c in ordered),
        "first_seen": min(c.first_seen for c in ordered).isoformat(),
        "last_seen": max(c.first_seen for c in ordered).isoformat(),
    }


def new_story(members: list[tuple[Article, Fingerprint]]) -> dict[str, Any]:
    """A story document from its first copies; entities from the first that has them."""
    if not members:
        raise ValueError("a story needs at least one copy")
    unique: dict[str, tuple[Article, Fingerprint]] = {}
    for article, fingerprint in members:
        unique.setdefault(article.url, (article, fingerprint))
    copies = {url: copy_of(a, f) for url, (a, f) in unique.items()}
    best = min(copies.values(), key=Copy.rank)
    document = {**_text_fields(*unique[best.url]), **_summary_fields(list(copies.values()))}
    enriched = next((a.entities for a, _ in members if a.entities is not None), None)
    if enriched is not None:
        document.update(entity_fields(enriched))
    return document


def merge_copies(
    story: dict[str, Any], members: list[tuple[Article, Fingerprint]]
) -> dict[str, Any] | None:
    """The story with the copies it lacks added; None when it already holds them all."""
    copies = {c["url"]: Copy.from_source(c) for c in story.get("copies", [])}
    added: dict[str, tuple[Article, Fingerprint]] = {}
    for article, fingerprint in members:
        if article.url not in copies and article.url not in added:
            added[article.url] = (article, fingerprint)
    if not added:
        return None
    current_best = min(copies.values(), key=Copy.rank) if copies else None
    merged = dict(story)
    for url, (article, fingerprint) in added.items():
        copies[url] = copy_of(article, fingerprint)
    best = min(copies.values(), key=Copy.rank)
    if current_best is None or best.url != current_best.url:
        merged.update(_text_fields(*added[best.url]))
    merged.update(_summary_fields(list(copies.values())))
    if "enrichment_version" not in story:
        enriched = next((a.entities for a, _ in added.values() if a.entities is not None), None)
        if enriched is not None:
            merged.update(entity_fields(enriched))
    return merged
