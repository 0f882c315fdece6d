"""The default feeds file, OPML import and writing feeds files back out."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.config import ConfigError
from pipeline.feeds.opml import parse_opml
from pipeline.feeds.sources import dump_feeds, load_feeds, merge_feeds
from pipeline.models import FeedSource
from tests.support.paths import shared_path

ROOT = Path(__file__).resolve().parents[3]
# Hosting or suffix labels that are not the publisher's name.
_NOT_BRAND = {"www", "com", "org", "net", "co", "uk", "au", "go", "en", "online", "rss", "feeds"}

# feeds.yaml name -> capture of that feed in publisher_captures
CAPTURED = {
    "BBC World": "bbc_news_world__1796df62c4a287cc.xml",
    "Al Jazeera": "aljazeera__3f9eeff5039a008d.xml",
    "NPR World": "npr_world__7be307059415227d.xml",
    "DW English": "dw_english__14dda539770f94e3.xml",
    "NDTV World": "ndtv__08f1ee71883dbcde.xml",
    "Dawn World": "dawn_world__ce5f942d1cd40fc0.xml",
    "CBS News World": "cbsnews_world__0c1cef22da7ddc10.xml",
    "ABC News International": "abcnews_international__f9c17f360c71def1.xml",
    "ABC Australia Top Stories": "abc_au_topstories__5357198db71ce075.xml",
    "NYT World": "nyt_world__78f77fae2e1ffc14.xml",
    "Washington Post World": "washingtonpost_world__4bf53cb602417030.xml",
    "TIME World": "time_world__9f9555d69283aeda.xml",
    "The Economist Asia": "economist_asia__960551eca5b5db81.xml",
    "EL PAÍS English": "elpais_english__660a52f7dc6a1948.xml",
    "Japan Today World": "japantoday_world__18138c717652f678.xml",
    "AllAfrica Latest": "allafrica_latest__6040d25e925318ed.xml",
    "MercoPress": "mercopress__e8fa5b64a4b41322.xml",
    "Foreign Policy": "foreignpolicy__d87c1681464979cc.xml",
    "The Christian Science Monitor": "csmonitor__4179e7a13df0f120.xml",
    "Rest of World": "restofworld__14333881097406c7.xml",
    "Al-Monitor": "al_monitor__72fea1ebfd02e90a.xml",
}


def _brand(link: str) -> str:
    labels = [x for x in (urlsplit(link).hostname or "").split(".") if x not in _NOT_BRAND]
    return labels[-1]


def test_default_feeds_file_lists_30_outlets_across_regions():
    feeds = load_feeds(ROOT / "feeds.yaml")
    assert len(feeds) >= 30
    assert len({urlsplit(f.url).hostname for f in feeds}) >= 30
    assert all(f.name and f.tags for f in feeds)
    regions = {"uk", "france", "germany", "india", "pakistan", "africa", "us", "japan"}
    assert regions <= {t for f in feeds for t in f.tags}


def test_default_feeds_match_the_captured_channel_links():
    root = shared_path("corpora", "feeds", "publisher_captures")
    with (root / "MANIFEST.csv").open(encoding="utf-8") as manifest:
        links = {row["file"]: row["channel_link"] for row in csv.DictReader(manifest)}
    feeds = {f.name: f for f in load_feeds(ROOT / "feeds.yaml")}
    for name, capture in CAPTURED.items():
        brand = _brand(links[capture])
        assert brand in feeds[name].url, (name, brand, feeds[name].url)


OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>subs</title></head><body>
  <outline text="News">
    <outline text="Europe">
      <outline type="rss" text="DW" title="DW English" xmlUrl="https://rss.dw.com/rdf/rss-en-all"/>
    </outline>
    <outline type="rss" text="NPR" xmlUrl="https://feeds.npr.org/1004/rss.xml"/>
  </outline>
  <outline type="rss" text="Broken" xmlUrl="javascript:alert(1)"/>
  <outline type="rss" text="Again" xmlUrl="https://feeds.npr.org/1004/rss.xml"/>
</body></opml>"""


def test_opml_outlines_become_feeds_with_folder_tags():
    found = parse_opml(OPML)
    assert found.feeds == [
        FeedSource("https://rss.dw.com/rdf/rss-en-all", "DW English", ("news", "europe")),
        FeedSource("https://feeds.npr.org/1004/rss.xml", "NPR", ("news",)),
    ]
    assert len(found.skipped) == 2
    assert "not an http(s) URL" in found.skipped[0]
    assert "duplicate" in found.skipped[1]


def test_opml_with_entities_or_garbage_is_a_clear_error():
    bomb = b'<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body><outline text="&a;"/></body></opml>'
    with pytest.raises(ConfigError, match="not a readable OPML"):
        parse_opml(bomb)
    with pytest.raises(ConfigError, match="expected <opml>"):
        parse_opml(b"<rss/>")


def test_feeds_round_trip_through_yaml(tmp_path):
    feeds = [
        FeedSource("https://a.example/feed", "A", ("x",), interval=900, full_text="never"),
        FeedSource("https://b.example/feed", enabled=False),
    ]
    path = tmp_path / "feeds.yaml"
    path.write_text(dump_feeds(feeds))
    assert load_feeds(path) == feeds
    merged = merge_feeds(
        feeds, [FeedSource("https://a.example/feed", "dup"), FeedSource("https://c.example/f")]
    )
    assert [f.url for f in merged] == [f.url for f in feeds] + ["https://c.example/f"]
