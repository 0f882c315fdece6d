"""One real feed, served on loopback, through `wirefeed run` into the engine and back out."""

from __future__ import annotations

import re

import feedparser
import pytest

from tests.support.cli import wirefeed_json
from tests.support.engine import engine_env
from tests.support.feedserver import Response
from tests.support.paths import shared_path

pytestmark = pytest.mark.engine

BBC = ("corpora", "feeds", "publisher_captures", "bbc_news_world__1796df62c4a287cc.xml")


def _distinctive_title_word(body: bytes) -> tuple[str, str]:
    titles = [e.title for e in feedparser.parse(body).entries]
    for title in titles:
        for word in re.findall(r"[A-Za-z]{8,}", title):
            if sum(word.lower() in t.lower() for t in titles) == 1:
                return word, title
    raise AssertionError("no distinctive word in the feed's titles")


def test_run_once_then_search_finds_the_story(feed_server, engine_settings, tmp_path):
    body = shared_path(*BBC).read_bytes()
    url = feed_server.add("/bbc.xml", Response(body))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"- url: {url}\n  name: BBC World\n")
    env = engine_env(engine_settings)

    first = wirefeed_json("run", "--once", "--feeds", str(feeds), env=env)
    entries = len(feedparser.parse(body).entries)
    assert first["feeds_polled"] == 1
    assert first["feeds_failed"] == 0
    assert first["entries_seen"] == entries
    assert first["stories_new"] == entries

    word, title = _distinctive_title_word(body)
    from pipeline.index.store import make_client

    make_client(engine_settings).indices.refresh(index=f"{engine_settings.index_prefix}articles")
    hits = wirefeed_json("search", word, env=env)
    assert hits, f"no hit for {word!r}"
    assert hits[0]["title"] == title
    assert set(hits[0]) >= {"id", "title", "url", "source", "published_at", "score"}
    assert hits[0]["url"].startswith("https://www.bbc.")

    second = wirefeed_json("run", "--once", "--feeds", str(feeds), env=env)
    assert second["stories_new"] == 0
    assert feed_server.hits["/bbc.xml"] == 2
