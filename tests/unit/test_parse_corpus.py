"""Every captured feed file goes through the parse stage without an unhandled exception."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from pipeline.parse import ParsedFeed, parse_feed
from tests.support.paths import shared_path

FETCHED = datetime(2026, 3, 1, tzinfo=UTC)


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
