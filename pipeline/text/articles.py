"""Feed entries to Article records, using only what the feed itself carries; the language
of the text an article ends up with."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from pipeline.feeds.declared import html_to_text
from pipeline.models import Article, FeedEntry
from pipeline.text.boilerplate import strip_trailers
from pipeline.text.language import detect_language
from pipeline.text.urls import canonical_url, source_of


def article_from_entry(entry: FeedEntry, fetched_at: datetime) -> Article | None:
    """None for an entry with no http(s) link: there is nothing a reader could open."""
    if not entry.link:
        return None
    url = canonical_url(entry.link)
    html = (
        entry.content_html
        if len(entry.content_html) > len(entry.summary_html)
        else (entry.summary_html)
    )
    body = strip_trailers(html_to_text(html), host=urlsplit(url).hostname)
    return Article(
        url=url,
        source=source_of(url),
        feed_url=entry.feed_url,
        guid=entry.guid,
        title=entry.title,
        body=body,
        published_at=entry.published_at,
        fetched_at=fetched_at,
        date_missing=entry.date_missing,
        authors=entry.authors,
        tags=entry.tags,
        image=entry.image,
        feed_language=entry.language,
    )


def with_language(articles: Sequence[Article]) -> list[Article]:
    """The articles, each with the language of its title and body (and the feed's declared
    one) where its text is the feed's own.

    Run on the articles to be written, after the full-text step: a page's language is decided
    at its extraction (on a worker), so a teaser is classified only when its text is the one
    kept, and the main process loads the language model only when one is."""
    return [
        a
        if a.body_source == "page"
        else dataclasses.replace(
            a, language=detect_language(f"{a.title}\n{a.body}", (a.feed_language,))
        )
        for a in articles
    ]
