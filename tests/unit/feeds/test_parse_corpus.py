"""Every captured feed file goes through the parse stage without an unhandled exception."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import feedparser

from pipeline.feeds.parse import ParsedFeed, parse_feed
from tests.support.paths import shared_path

FETCHED = datetime(2026, 3, 1, tzinfo=UTC)
BASE = "https://example.org/feeds/world.xml"


def test_every_corpus_feed_yields_records_or_a_feed_error():
    root = shared_path("corpora", "feeds")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))
    assert len(files) > 1800
    outcomes = {"entries": 0, "empty feed": 0, "error": 0}
    for path in files:
        parsed = parse_feed(path.read_bytes(), "http://127.0.0.1/feed.xml", FETCHED)
        assert isinstance(parsed, ParsedFeed), path
        if parsed.error:
            assert not parsed.entries, path
            outcomes["error"] += 1
        elif parsed.entries:
            assert all(e.guid and e.published_at.tzinfo is not None for e in parsed.entries), path
            outcomes["entries"] += 1
        else:
            # A channel with no items is a feed, just an empty one.
            assert parsed.has_channel or parsed.version, path
            outcomes["empty feed"] += 1
    assert outcomes["entries"] > 1000
    assert 0 < outcomes["error"] < 50


def test_every_captured_news_feed_yields_entries():
    root = shared_path("corpora", "feeds", "publisher_captures")
    with (root / "MANIFEST.csv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest))
    news = [root / r["file"] for r in rows if r["category"] in ("news", "news-blog", "format")]
    assert len(news) > 25
    for path in news:
        parsed = parse_feed(path.read_bytes(), "https://example.org/feed", FETCHED)
        assert parsed.error is None, (path.name, parsed.error)
        assert parsed.entries, path.name


def test_every_capture_yields_entries_and_the_malformed_ones_are_degraded():
    """Every capture, the ill-formed ones too (a broken prolog with rss:-prefixed elements,
    UTF-8 declared as UTF-16), yields entries with links; those read leniently say why."""
    root = shared_path("corpora", "feeds", "publisher_captures")
    with (root / "MANIFEST.csv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest))
    illformed = 0
    for row in rows:
        parsed = parse_feed((root / row["file"]).read_bytes(), "https://example.org/feed", FETCHED)
        assert parsed.error is None and parsed.entries, (row["file"], parsed.error)
        assert all(e.link and e.link.startswith("http") for e in parsed.entries), row["file"]
        if row["category"] == "illformed":
            illformed += 1
        if parsed.degraded:
            assert parsed.warning, row["file"]
    assert illformed >= 2


def test_well_formed_captures_give_what_plain_feedparser_gives():
    """On a feed feedparser reads without complaint, the parse stage keeps its entries, in
    order, with the same links, and nothing is degraded."""
    root = shared_path("corpora", "feeds")
    files = sorted((root / "publisher_captures").glob("*.xml"))
    files += sorted(p for p in (root / "feedparser" / "illformed").rglob("*.xml"))
    compared = 0
    for path in files:
        body = path.read_bytes()
        headers = {"content-location": BASE, "content-type": "application/xml"}
        plain = feedparser.parse(body, response_headers=headers)
        if plain.bozo:
            continue
        compared += 1
        parsed = parse_feed(body, BASE, FETCHED)
        assert not parsed.degraded, path.name
        linked = [e.get("link") for e in plain.entries if e.get("link")]
        assert [e.link for e in parsed.entries if e.link] == linked, path.name
        assert len(parsed.entries) <= len(plain.entries), path.name
    assert compared > 40
