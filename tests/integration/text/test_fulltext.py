"""Full text over loopback: a feed of teasers whose links are article pages on a local server.

Pages come through the real Fetcher, robots.txt is honoured, and what is indexed is the
page's main text, not the teaser and not the site's chrome or trailers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from pipeline.config import Settings
from pipeline.feeds.fetch import Fetcher
from pipeline.index.store import Store
from pipeline.models import Article, FeedSource, FullText
from pipeline.run import run_cycle
from pipeline.text import fulltext
from pipeline.text.extract import PageText, extract_page
from pipeline.text.fulltext import fetch_full_text, merge_page
from pipeline.text.urls import canonical_url
from tests.support.articles import make_article
from tests.support.cli import wirefeed, wirefeed_json
from tests.support.engine import engine_env
from tests.support.feedserver import FeedServer, Response
from tests.support.pages import article_page, seed_story
from tests.support.sports import RESULTS

HTML = "text/html; charset=utf-8"
ROBOTS = "User-agent: *\nDisallow: /private/\n"
OTHER_STORY = [
    f"The city council approved the new tram line on Monday after {n} hours of debate, "
    f"with work due to start in spring and the first trams running within three years."
    for n in range(2, 8)
]


def _rss(server: FeedServer, items: Sequence[tuple[str, str, str]]) -> bytes:
    when = format_datetime(datetime(2024, 6, 17, 5, 0, tzinfo=UTC))
    entries = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link>"
        f"<guid>{server.url(path)}</guid><description>{teaser}</description>"
        f"<pubDate>{when}</pubDate></item>"
        for path, title, teaser in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Example News</title><link>{server.url('/')}</link>{entries}</channel></rss>"
    ).encode()


def _site(server: FeedServer) -> tuple[str, list[str], list[str]]:
    """robots.txt, three article pages (one disallowed) and their feed; returns the feed URL."""
    story, trailers = seed_story()
    subheads = [line for line in story if len(line.split()) <= 4]
    server.add("/robots.txt", Response(ROBOTS.encode(), content_type="text/plain"))
    server.add(
        "/world/putin-north-korea",
        Response(
            article_page(
                "Putin To Visit North Korea", story, subheads=subheads, trailers=trailers
            ).encode(),
            content_type=HTML,
        ),
    )
    server.add(
        "/city/tram-line",
        Response(article_page("Tram line approved", OTHER_STORY).encode(), content_type=HTML),
    )
    server.add(
        "/private/leak",
        Response(article_page("Leaked memo", OTHER_STORY).encode(), content_type=HTML),
    )
    feed = _rss(
        server,
        [
            ("/world/putin-north-korea", "Putin To Visit North Korea", "Putin will travel..."),
            ("/city/tram-line", "Tram line approved", "The council said yes."),
            ("/private/leak", "Leaked memo", "A memo we may not fetch."),
        ],
    )
    return server.add("/feed.xml", Response(feed)), story, trailers


@pytest.mark.engine
def test_indexed_body_is_the_pages_main_text(feed_server, engine_settings, store: Store) -> None:
    feed_url, story, trailers = _site(feed_server)
    settings = Settings.from_env(
        {
            **os.environ,
            **engine_env(engine_settings),
        }
    )

    summary = run_cycle([FeedSource(url=feed_url, full_text="auto")], store, settings)

    assert summary.feeds_failed == 0 and summary.stories_new == 3
    store.refresh()
    putin = store.story_by_url(canonical_url(feed_server.url("/world/putin-north-korea")))
    assert putin is not None
    assert putin.source["body"].split("\n\n") == story
    for trailer in trailers:
        assert trailer not in putin.source["body"]
    tram = store.story_by_url(canonical_url(feed_server.url("/city/tram-line")))
    assert tram is not None and tram.source["body"].split("\n\n") == OTHER_STORY
    # robots.txt forbids /private/: the page is never requested and the teaser stays.
    leak = store.story_by_url(canonical_url(feed_server.url("/private/leak")))
    assert leak is not None and leak.source["body"] == "A memo we may not fetch."
    # Each story's language is that of the text it kept: the page's, or else the teaser's.
    assert (putin.source["language"], leak.source["language"]) == ("en", "en")
    (leak_copy,) = leak.source["copies"]
    assert (leak_copy["body_source"], leak_copy["text_note"]) == ("feed", "robots_disallowed")
    (putin_copy,) = putin.source["copies"]
    assert (putin_copy["body_source"], putin_copy["text_note"]) == ("page", None)
    assert feed_server.hits["/private/leak"] == 0
    assert feed_server.hits["/robots.txt"] == 1
    # A word only the full page carries finds the story.
    assert [h.title for h in store.search("Baek Won-soon")] == ["Putin To Visit North Korea"]


def _article(server: FeedServer, path: str, body: str, feed: str = "f") -> Article:
    return make_article(server.url(path), body, feed_url=feed, title="", date_missing=True)


def _fill(articles: list[Article], modes: dict[str, FullText], min_chars: int = 200):
    async def run() -> list[Article]:
        async with Fetcher(Settings.from_env().fetch) as fetcher:
            return await fetch_full_text(articles, modes, fetcher, min_chars=min_chars)

    return asyncio.run(run())


def test_modes_never_auto_always(feed_server: FeedServer) -> None:
    _site(feed_server)
    long_body = "A long feed body that already carries the whole story. " * 10
    articles = [
        _article(feed_server, "/world/putin-north-korea", "teaser", feed="never"),
        _article(feed_server, "/world/putin-north-korea", long_body, feed="auto"),
        _article(feed_server, "/city/tram-line", "teaser", feed="auto"),
        _article(feed_server, "/city/tram-line", long_body, feed="always"),
    ]
    modes: dict[str, FullText] = {"never": "never", "auto": "auto", "always": "always"}

    never, auto_long, auto_short, always = _fill(articles, modes)

    assert never == articles[0] and auto_long == articles[1]
    assert feed_server.hits["/world/putin-north-korea"] == 0
    for filled in (auto_short, always):
        assert filled.body.split("\n\n") == OTHER_STORY
        assert (filled.body_source, filled.text_note) == ("page", None)
        assert filled.title == "Tram line approved"
        assert filled.authors == ["Agence France-Presse"]
        assert filled.language == "en"
        assert filled.image == feed_server.url("/images/lead.jpg")
        # The feed had no date; the page's own publish time fills it in.
        assert filled.published_at == datetime(2024, 6, 17, 4, 45, tzinfo=UTC)
        assert not filled.date_missing
        # The URL is the copy's dedup key: the page never changes it.
        assert filled.url == articles[2].url
    assert feed_server.hits["/city/tram-line"] == 2


def test_in_process_extraction_works_on_one_page_at_a_time(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lxml corrupted the heap when pages were extracted in several threads at once."""
    _site(feed_server)
    running, most = 0, 0
    lock = threading.Lock()

    def watched(*args, **kwargs) -> PageText:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for a second page to arrive meanwhile
            return extract_page(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(fulltext, "extract_page", watched)
    articles = [_article(feed_server, "/city/tram-line", "teaser", feed=str(n)) for n in range(6)]
    filled = _fill(articles, {})
    assert [a.body.split("\n\n") for a in filled] == [OTHER_STORY] * 6
    assert most == 1


def test_a_pages_language_is_decided_with_its_header_and_its_feed(
    feed_server: FeedServer,
) -> None:
    # A page of results that says nothing of its language in its markup.
    page = article_page("Results", RESULTS["athletics"].splitlines(), lang="").encode()
    feed_server.add(
        "/header", Response(page, content_type=HTML, headers={"Content-Language": "en-GB"})
    )
    feed_server.add("/plain", Response(page, content_type=HTML))
    articles = [
        _article(feed_server, "/header", "teaser"),
        dataclasses.replace(_article(feed_server, "/plain", "teaser"), feed_language="en"),
        _article(feed_server, "/plain", "teaser"),
    ]
    filled = _fill(articles, {})
    assert [a.body_source for a in filled] == ["page"] * 3
    # Nothing declared and a classifier unsure of it: no language, read as the default.
    assert [a.language for a in filled] == ["en", "en", None]


def test_unreachable_robots_blocks_the_host_and_missing_robots_allows(
    feed_server: FeedServer,
) -> None:
    page = article_page("Tram line approved", OTHER_STORY).encode()
    feed_server.add("/robots.txt", Response(b"oops", 503, content_type="text/plain"))
    feed_server.add("/a", Response(page, content_type=HTML))
    [blocked] = _fill([_article(feed_server, "/a", "teaser")], {})
    assert (blocked.body, blocked.text_note) == ("teaser", "robots_disallowed")
    assert feed_server.hits["/a"] == 0

    with FeedServer() as other:
        other.add("/a", Response(page, content_type=HTML))  # no robots.txt: 404
        [allowed] = _fill([_article(other, "/a", "teaser")], {})
        assert allowed.body.split("\n\n") == OTHER_STORY
        assert other.hits["/robots.txt"] == 1


def test_page_problems_keep_the_feed_text_with_a_note(feed_server: FeedServer) -> None:
    feed_server.add("/pdf", Response(b"%PDF-1.4", content_type="application/pdf"))
    feed_server.add(
        "/empty", Response(b"<html><body><nav>Home</nav></body></html>", content_type=HTML)
    )
    articles = [
        _article(feed_server, "/missing", "teaser one"),
        _article(feed_server, "/pdf", "teaser two"),
        _article(feed_server, "/empty", "teaser three"),
    ]
    results = _fill(articles, {})
    assert [a.body for a in results] == ["teaser one", "teaser two", "teaser three"]
    assert [a.text_note for a in results] == ["http_404", "not_html", "no_main_text"]
    assert all(a.body_source == "feed" for a in results)


def test_refused_host_is_never_contacted() -> None:
    """Outside loopback the fetcher refuses before DNS, robots.txt included."""
    article = make_article("https://www.example.com/news/1", "teaser")
    [result] = _fill([article], {})
    assert (result.body, result.text_note) == ("teaser", "robots_disallowed")


def test_cli_extract_prints_json_for_html_and_gzip(tmp_path) -> None:
    story, trailers = seed_story()
    page = article_page("Putin To Visit North Korea", story, trailers=trailers)
    plain, packed = tmp_path / "page.html", tmp_path / "page.html.gz"
    plain.write_text(page, encoding="utf-8")
    packed.write_bytes(gzip.compress(page.encode("utf-8")))
    url = "https://m.example-news.com/world/putin?utm_source=rss#top"

    results = [wirefeed_json("extract", str(p), "--url", url) for p in (plain, packed)]

    assert results[0] == results[1]
    got = results[0]
    assert set(got) >= {"title", "text", "language", "canonical_url", "published_at"}
    assert got["title"] == "Putin To Visit North Korea"
    assert got["text"].split("\n\n") == story
    assert got["language"] == "en"
    assert got["canonical_url"] == "https://www.example-news.com/world/putin"
    assert got["published_at"] == "2024-06-17T04:45:00+00:00"


def test_cli_extract_unreadable_file_is_a_usage_error(tmp_path) -> None:
    done = wirefeed("extract", str(tmp_path / "missing.html"), "--json")
    assert done.returncode == 2
    assert "cannot read" in done.stderr and "missing.html" in done.stderr


def test_robots_group_for_our_agent_wins_over_the_wildcard(feed_server: FeedServer) -> None:
    robots = "User-agent: *\nAllow: /\n\nUser-agent: wirefeed\nDisallow: /news/\n"
    feed_server.add("/robots.txt", Response(robots.encode(), content_type="text/plain"))
    page = article_page("Tram line approved", OTHER_STORY).encode()
    feed_server.add("/news/a", Response(page, content_type=HTML))
    feed_server.add("/city/b", Response(page, content_type=HTML))
    blocked, allowed = _fill(
        [_article(feed_server, "/news/a", "teaser"), _article(feed_server, "/city/b", "teaser")],
        {},
    )
    assert (blocked.body, blocked.text_note) == ("teaser", "robots_disallowed")
    assert allowed.body_source == "page"
    assert feed_server.hits["/news/a"] == 0 and feed_server.hits["/robots.txt"] == 1


def test_merge_page_keeps_a_fuller_feed_text_and_fills_gaps() -> None:
    feed_text = "The whole story as the feed carried it, paragraph after paragraph. " * 20
    article = make_article(
        "https://example.com/a", feed_text, title="Feed title", authors=["Feed Author"]
    )
    short = PageText(title="Page title", text="Subscribe to read.", language="en")
    assert merge_page(article, short) == dataclasses.replace(article, text_note="page_text_shorter")
    partial = PageText(title=None, text="Some of it.", reason="too_deep")
    assert merge_page(article, partial).text_note == "too_deep"
    assert merge_page(article, partial).body == feed_text
    full = PageText(
        title="Page title",
        text=feed_text + "And the end the feed cut off.",
        author="A. Writer; B. Writer",
        image="https://example.com/i.jpg",
        language="en",
    )
    merged = merge_page(article, full)
    assert merged.body.endswith("And the end the feed cut off.")
    # What the feed said stays; the page only fills what the feed lacked.
    assert (merged.title, merged.authors) == ("Feed title", ["Feed Author"])
    assert merged.image == "https://example.com/i.jpg"
    assert merge_page(dataclasses.replace(article, authors=[]), full).authors == [
        "A. Writer",
        "B. Writer",
    ]


@pytest.mark.engine
def test_the_pages_canonical_url_finds_the_story_and_dedups_later_links(
    feed_server, engine_settings, store: Store
) -> None:
    canonical = feed_server.url("/city/tram-line-approved-after-debate")
    feed_server.add(
        "/c/123",
        Response(
            article_page("Tram line approved", OTHER_STORY, canonical=canonical).encode(),
            content_type=HTML,
        ),
    )
    first = feed_server.add(
        "/first.xml", Response(_rss(feed_server, [("/c/123", "Tram line approved", "Yes.")]))
    )
    # Another feed links straight to the canonical URL of the same page.
    feed_server.add(
        "/city/tram-line-approved-after-debate",
        Response(article_page("Tram line approved", OTHER_STORY).encode(), content_type=HTML),
    )
    second = feed_server.add(
        "/second.xml",
        Response(
            _rss(feed_server, [("/city/tram-line-approved-after-debate", "Tram line", "Yes.")])
        ),
    )
    settings = Settings.from_env()

    made = run_cycle([FeedSource(url=first)], store, settings)
    assert made.stories_new == 1
    store.refresh()
    story = store.story_by_url(canonical_url(canonical))
    assert story is not None
    assert story.source["url"] == canonical_url(canonical)
    assert sorted(story.source["urls"]) == sorted(
        [canonical_url(canonical), canonical_url(feed_server.url("/c/123"))]
    )

    again = run_cycle([FeedSource(url=second)], store, settings)
    assert (again.stories_new, again.copies_new) == (0, 0)
    assert feed_server.hits["/city/tram-line-approved-after-debate"] == 0
    store.refresh()
    assert store.count_stories() == 1
