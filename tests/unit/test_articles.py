"""Feed entries to articles, and the language of the text an article keeps."""

from __future__ import annotations

from pipeline.articles import article_from_entry, with_language
from pipeline.models import FeedEntry
from tests.support.articles import WHEN, make_article

FRENCH = "Le conseil municipal a approuvé lundi la nouvelle ligne de tramway après six heures."
ENGLISH = "The city council approved the new tram line on Monday after six hours of debate."


def test_an_entry_leaves_the_language_to_the_text_the_article_keeps() -> None:
    entry = FeedEntry(
        feed_url="https://example.org/feed",
        guid="a",
        link="https://example.org/a",
        title="Tram",
        summary_html=f"<p>{FRENCH}</p>",
        content_html="",
        published_at=WHEN,
    )
    article = article_from_entry(entry, WHEN)
    assert article is not None and article.body == FRENCH
    assert article.language is None
    (filled,) = with_language([article])
    assert filled.language == "fr"


def test_with_language_detects_only_where_none_is_set() -> None:
    from_page, teaser, tiny = with_language(
        [
            make_article(body=ENGLISH, language="de"),
            make_article(body=FRENCH, title="Tram"),
            make_article(body="Ok", title=""),
        ]
    )
    # A page's language (set where the page was extracted) is kept as it is.
    assert from_page.language == "de"
    assert teaser.language == "fr" and teaser.body == FRENCH
    # Too little text to tell.
    assert tiny.language is None
