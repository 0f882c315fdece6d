"""A loopback feed farm: feeds of distinct stories, and the settings to poll them."""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from pipeline.config import FetchSettings, Settings
from pipeline.index.store import Store
from pipeline.models import FeedSource, RunSummary
from pipeline.run import run_cycle
from pipeline.text.urls import canonical_url
from tests.support.feedserver import FeedServer, Response

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def fetch_settings(**overrides: object) -> FetchSettings:
    """Loopback only, short deadlines: a hostile server costs seconds, not minutes."""
    values: dict[str, object] = {
        "only_networks": LOOPBACK,
        "connect_timeout": 2.0,
        "total_timeout": 4.0,
        "max_body_bytes": 2 * 1024 * 1024,
    }
    values.update(overrides)
    return FetchSettings(**values)  # type: ignore[arg-type]


def settings(**overrides: object) -> Settings:
    return Settings(fetch=fetch_settings(**overrides))


def story_text(seed: str, words: int = 60) -> str:
    """A body no other story shares a shingle with, so every article is its own story."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnoprstuvw"
    return " ".join(
        "".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(words)
    ).capitalize()


@dataclass(frozen=True, slots=True)
class Item:
    link: str
    title: str
    body: str
    extra: str = ""  # raw XML added inside <item>


def items_for(base: str, name: str, count: int) -> list[Item]:
    return [
        Item(f"{base}/{name}/story-{i}", f"{name} story {i}", story_text(f"{name}-{i}"))
        for i in range(count)
    ]


def rss(items: Sequence[Item], title: str = "farm feed") -> bytes:
    entries = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f"<guid>{escape(i.link)}</guid><pubDate>Fri, 27 Nov 2026 10:00:00 GMT</pubDate>"
        f"<description>{escape(i.body)}</description>{i.extra}</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>{entries}</channel></rss>"
    ).encode()


@dataclass
class Farm:
    """`count` feeds of `per_feed` stories each on one loopback server."""

    server: FeedServer
    feeds: list[FeedSource]
    items: dict[str, list[Item]]

    @property
    def expected_urls(self) -> set[str]:
        return {canonical_url(i.link) for items in self.items.values() for i in items}


def build_farm(server: FeedServer, count: int, per_feed: int, delay: float = 0.0) -> Farm:
    feeds, items = [], {}
    for n in range(count):
        name = f"feed{n}"
        feed_items = items_for(server.url(""), name, per_feed)
        body = rss(feed_items, name)
        if delay:
            server.add(f"/{name}.xml", _slow(body, delay))
        else:
            server.add(f"/{name}.xml", Response(body))
        url = server.url(f"/{name}.xml")
        feeds.append(FeedSource(url=url, name=name, full_text="never"))
        items[url] = feed_items
    return Farm(server, feeds, items)


def _slow(body: bytes, delay: float) -> Callable[[object], Response]:
    def route(_request: object) -> Response:
        time.sleep(delay)
        return Response(body)

    return route


def cycle(feeds: Sequence[FeedSource], store: Store, **overrides: object) -> RunSummary:
    return run_cycle(feeds, store, settings(**overrides))


def feeds_yaml(feeds: Sequence[FeedSource]) -> str:
    return "feeds:\n" + "".join(f"  - url: {f.url}\n    full_text: never\n" for f in feeds)
