"""Feed entries to articles, and the language of the text an article keeps."""

from __future__ import annotations

from pipeline.models import FeedEntry
from pipeline.text.articles import article_from_entry, with_language
from tests.support.articles import WHEN, make_article
from tests.support.sports import RESULTS

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
    assert article.language is None and article.feed_language is None
    (filled,) = with_language([article])
    assert filled.language == "fr"


def test_with_language_decides_where_the_text_is_the_feeds_own() -> None:
    from_page, teaser, tiny, declared = with_language(
        [
            make_article(body=ENGLISH, language="de", body_source="page"),
            make_article(body=FRENCH, title="Tram", feed_language="en"),
            make_article(body="Ok", title=""),
            make_article(body="Ok", title="", feed_language="de"),
        ]
    )
    # A page's language (decided where the page was extracted) is kept as it is.
    assert from_page.language == "de"
    # Plainly French: the feed's declaration does not overrule the text.
    assert teaser.language == "fr" and teaser.body == FRENCH
    # Too little text to tell: the feed's declaration, else nobody knows.
    assert tiny.language is None
    assert declared.language == "de"


def test_the_feeds_language_decides_a_text_the_classifier_is_unsure_of() -> None:
    def entry(language: str | None) -> FeedEntry:
        return FeedEntry(
            feed_url="https://example.org/feed",
            guid="a",
            link="https://example.org/a",
            title="",
            summary_html=RESULTS["athletics"],
            content_html="",
            published_at=WHEN,
            language=language,
        )

    declared, undeclared = (article_from_entry(entry(lang), WHEN) for lang in ("en", None))
    assert declared is not None and declared.feed_language == "en"
    assert [a.language for a in with_language([declared, undeclared])] == ["en", None]
