"""The fetcher against a loopback server: deadlines, caps, redirects and the SSRF guard."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import threading
import time
import zlib
from asyncio import selector_events

import pytest
from aiohttp.abc import AbstractResolver

from pipeline.config import FetchSettings, Settings
from pipeline.feeds.fetch import Fetcher, FetchResult
from pipeline.feeds.poll import fetch_batch
from pipeline.models import FeedSource
from tests.support.feedserver import Response

FEED = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


def settings(**changes) -> FetchSettings:
    return dataclasses.replace(Settings.from_env().fetch, **changes)


def fetch(url: str, fetch_settings: FetchSettings, dns: AbstractResolver | None = None, **kw):
    async def go() -> FetchResult:
        async with Fetcher(fetch_settings, dns=dns) as fetcher:
            return await fetcher.get(url, **kw)

    return asyncio.run(go())


@pytest.fixture()
def connects(monkeypatch) -> list[object]:
    """Every address the event loop is asked to connect a socket to."""
    seen: list[object] = []
    original = selector_events.BaseSelectorEventLoop.sock_connect

    async def recording(self, sock, address):
        seen.append(address[0])
        return await original(self, sock, address)

    monkeypatch.setattr(selector_events.BaseSelectorEventLoop, "sock_connect", recording)
    return seen


class StubDNS(AbstractResolver):
    """Answers DNS questions from a table; nothing else about the fetch is faked."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        return [
            {
                "hostname": host,
                "host": self.table[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


def test_user_agent_with_contact_url_and_compression(feed_server):
    url = feed_server.add(
        "/gz.xml", Response(gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    )
    result = fetch(url, settings())
    assert result.ok and result.body == FEED
    request = feed_server.requests[-1]
    assert "+http" in request.headers["user-agent"]
    assert "gzip" in request.headers["accept-encoding"]
    assert "deflate" in request.headers["accept-encoding"]
    url = feed_server.add(
        "/deflate.xml", Response(zlib.compress(FEED), headers={"Content-Encoding": "deflate"})
    )
    assert fetch(url, settings()).body == FEED


def test_slow_server_hits_the_total_deadline(feed_server):
    def slow_body():
        for _ in range(50):
            yield b"<!-- waiting -->"
            time.sleep(0.1)

    url = feed_server.add("/slow.xml", lambda req: Response(slow_body()))
    result = fetch(url, settings(total_timeout=0.5))
    assert result.error_kind == "timeout"
    assert result.elapsed < 3


def test_a_server_that_never_accepts_hits_the_connect_deadline():
    # A listener whose accept queue is full: the kernel drops further handshakes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        try:
            result = fetch(f"http://127.0.0.1:{port}/x", settings(connect_timeout=0.5))
        finally:
            for filler in fillers:
                filler.close()
    assert result.error_kind == "timeout"
    assert "Connection timeout" in result.error


def test_oversized_body_is_cut_at_the_cap(feed_server):
    url = feed_server.add("/big.xml", Response(b"x" * 300_000))
    result = fetch(url, settings(max_body_bytes=100_000))
    assert result.error_kind == "too_large"
    assert result.body == b""


def test_gzip_bomb_is_cut_after_decompression(feed_server):
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    url = feed_server.add("/bomb.xml", Response(bomb, headers={"Content-Encoding": "gzip"}))
    result = fetch(url, settings(max_body_bytes=1_000_000))
    assert result.error_kind == "too_large"


def test_redirect_loop_stops_after_five_hops(feed_server):
    feed_server.add("/a", Response(status=302, headers={"Location": "/b"}))
    url = feed_server.add("/b", Response(status=302, headers={"Location": "/a"}))
    result = fetch(url, settings())
    assert result.error_kind == "too_many_redirects"
    assert sum(feed_server.hits.values()) == 6  # the first request and five redirects


def test_only_http_and_https(feed_server, connects):
    url = feed_server.add("/ftp", Response(status=301, headers={"Location": "ftp://127.0.0.1/x"}))
    result = fetch(url, settings())
    assert result.error_kind == "bad_url"
    assert fetch("file:///etc/passwd", settings()).error_kind == "bad_url"


@pytest.mark.parametrize("target", ["10.0.0.1", "169.254.169.254"])
def test_redirect_to_private_address_is_refused_before_connecting(feed_server, connects, target):
    url = feed_server.add(
        "/r", Response(status=302, headers={"Location": f"http://{target}/latest/meta-data/"})
    )
    # Outside exclusive mode too: loopback allowed for the server, nothing else private.
    result = fetch(url, settings(only_networks=(), allow_networks=settings().only_networks))
    assert result.error_kind == "blocked"
    assert connects == ["127.0.0.1"], "only the loopback server was ever connected to"


def test_name_resolving_to_a_private_address_is_refused_before_connecting(feed_server, connects):
    dns = StubDNS({"intranet.test": "10.20.30.40"})
    url = feed_server.add(
        "/r", Response(status=302, headers={"Location": "http://intranet.test/feed.xml"})
    )
    result = fetch(url, settings(only_networks=(), allow_networks=settings().only_networks), dns)
    assert result.error_kind == "blocked"
    assert dns.asked == ["intranet.test"], "the name was resolved, then its address refused"
    assert "10.20.30.40" not in connects
    assert connects == ["127.0.0.1"]


def test_localhost_refused_when_loopback_is_not_allowed(connects):
    # No allow-list, no exclusive mode: localhost resolves to loopback, which is refused.
    result = fetch("http://localhost:9/feed.xml", settings(only_networks=(), allow_networks=()))
    assert result.error_kind == "blocked"
    assert connects == []


def test_exclusive_mode_refuses_outside_names_before_dns(feed_server, connects):
    dns = StubDNS({"news.example": "127.0.0.1"})
    url = feed_server.add(
        "/r", Response(status=302, headers={"Location": "http://news.example/feed.xml"})
    )
    result = fetch(url, settings(), dns)
    assert result.error_kind == "blocked"
    assert dns.asked == []
    assert connects == ["127.0.0.1"]


def _concurrency(feed_server, fetch_settings: FetchSettings, paths: list[str], limit: int) -> int:
    """The most requests the server had in flight at once. Each request is held until
    `limit` are in flight (so a loaded machine cannot hide a working limit) and a moment
    longer (so a broken limit shows as more)."""
    reached = threading.Condition()
    active = {"now": 0, "max": 0}

    def held(req):
        with reached:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            reached.notify_all()
            reached.wait_for(lambda: active["now"] >= limit, timeout=10)
        time.sleep(0.1)
        with reached:
            active["now"] -= 1
        return Response(FEED)

    urls = [feed_server.add(path, held) for path in paths]

    async def go() -> list[FetchResult]:
        async with Fetcher(fetch_settings) as fetcher:
            return await asyncio.gather(*(fetcher.get(url) for url in urls))

    assert all(r.ok for r in asyncio.run(go()))
    return active["max"]


def test_per_host_concurrency_limit(feed_server):
    paths = [f"/feed{i}.xml" for i in range(6)]
    assert _concurrency(feed_server, settings(), paths, limit=2) == 2  # the default


def test_global_concurrency_limit(feed_server):
    paths = [f"/feed{i}.xml" for i in range(8)]
    limits = settings(per_host_limit=10, global_limit=3)
    assert _concurrency(feed_server, limits, paths, limit=3) == 3


class ExplodingDNS(AbstractResolver):
    """DNS whose failure is no network error at all: a bug, as far as the fetcher knows."""

    async def resolve(self, host, port=0, family=socket.AF_INET):
        raise RuntimeError(f"resolver bug for {host}")

    async def close(self) -> None:
        pass


def test_an_unexpected_error_in_one_fetch_fails_only_that_feed(feed_server):
    good = feed_server.add("/good.xml", Response(b"<rss/>"))
    bad = f"http://localhost:{feed_server.port}/bad.xml"
    feeds = [FeedSource(url=good), FeedSource(url=bad)]
    results = asyncio.run(fetch_batch(feeds, {}, settings(), ExplodingDNS()))
    assert [r.status for r in results] == [200, None]
    assert results[1].error_kind == "error"
    assert "resolver bug for localhost" in results[1].error
