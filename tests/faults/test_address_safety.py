"""Hostile addresses are refused before any connection: proven by a loopback listener that
counts what reaches it and by an audit hook that sees every socket.connect of the process.

The fetcher here runs with the production policy (public addresses only), not the test
session's loopback-only mode, so a refusal is the guard's own doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from ipaddress import ip_network

import pytest

from pipeline.config import FetchSettings
from pipeline.feeds.fetch import Fetcher, FetchResult
from tests.faults.farm import LOOPBACK
from tests.support.feedserver import FeedServer, Response


class _Connects:
    """socket.connect calls of this process while `active`; audit hooks cannot be removed,
    so one hook is installed once and switched on per test."""

    def __init__(self) -> None:
        self.active = False
        self.seen: list[object] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if self.active and event in ("socket.connect", "socket.getaddrinfo"):
            self.seen.append((event, args[1] if event == "socket.connect" else args[0]))


CONNECTS = _Connects()


class Listener:
    """A loopback port that records every connection it accepts."""

    def __init__(self, family: socket.AddressFamily, host: str) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def listeners() -> Iterator[dict[int, Listener]]:
    found = {4: Listener(socket.AF_INET, "127.0.0.1")}
    if socket.has_ipv6:
        with contextlib.suppress(OSError):
            found[6] = Listener(socket.AF_INET6, "::1")
    yield found
    for listener in found.values():
        listener.close()


def fetch(url: str, settings: FetchSettings) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url)

    CONNECTS.seen.clear()
    CONNECTS.active = True
    try:
        return asyncio.run(go())
    finally:
        CONNECTS.active = False


PUBLIC_ONLY = FetchSettings(connect_timeout=2.0, total_timeout=4.0)

# {port4} is the IPv4 loopback listener, {port6} the IPv6 one: each URL below names one of
# them, so a guard that let the URL through would be caught by the listener's count.
HOSTILE = [
    ("decimal", "http://2130706433:{port4}/"),
    ("octal", "http://0177.0.0.1:{port4}/"),
    ("hex", "http://0x7f.1:{port4}/"),
    ("hex-whole", "http://0x7f000001:{port4}/"),
    ("short", "http://127.1:{port4}/"),
    ("trailing-dot", "http://127.0.0.1.:{port4}/"),
    ("zero", "http://0:{port4}/"),
    ("localhost", "http://localhost:{port4}/"),
    ("userinfo", "http://example.com@127.0.0.1:{port4}/"),
    ("userinfo-encoded", "http://example.com%40evil@127.0.0.1:{port4}/"),
    ("ipv6-loopback", "http://[::1]:{port6}/"),
    ("ipv6-unspecified", "http://[::]:{port6}/"),
    ("ipv4-mapped", "http://[::ffff:127.0.0.1]:{port4}/"),
    ("ipv4-mapped-hex", "http://[::ffff:7f00:1]:{port4}/"),
    ("ipv4-compatible", "http://[::127.0.0.1]:{port4}/"),
    ("link-local", "http://[fe80::1]:{port4}/"),
    ("link-local-zone", "http://[fe80::1%25lo]:{port4}/"),
    ("nat64", "http://[64:ff9b::7f00:1]:{port4}/"),
    ("nat64-metadata", "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/"),
    ("nat64-local", "http://[64:ff9b:1::a9fe:a9fe]/"),
    ("6to4-loopback", "http://[2002:7f00:1::]:{port4}/"),
    ("metadata", "http://169.254.169.254/latest/meta-data/"),
    ("metadata-decimal", "http://2852039166/latest/meta-data/"),
    ("private", "http://10.0.0.1:{port4}/"),
    ("cgnat", "http://100.64.0.1:{port4}/"),
]


@pytest.mark.parametrize(("name", "template"), HOSTILE, ids=[n for n, _ in HOSTILE])
def test_hostile_address_refused_before_connecting(reliability, listeners, name, template):
    port6 = listeners[6].port if 6 in listeners else listeners[4].port
    url = template.format(port4=listeners[4].port, port6=port6)
    reliability.hostile_input(f"address {name}")
    result = fetch(url, PUBLIC_ONLY)
    assert result.error_kind == "blocked", (url, result.error)
    assert result.status is None and result.body == b""
    connects = [s for s in CONNECTS.seen if s[0] == "socket.connect"]
    assert connects == [], f"{url}: connection attempted: {connects}"
    assert all(listener.accepted == 0 for listener in listeners.values())


def test_guard_sees_connections_when_one_is_allowed(listeners):
    """The control: the same listener and audit hook do see an allowed connection."""
    result = fetch(f"http://127.0.0.1:{listeners[4].port}/", FetchSettings(only_networks=LOOPBACK))
    assert result.error_kind == "connection"  # the listener hangs up without answering
    assert [s for s in CONNECTS.seen if s[0] == "socket.connect"]
    assert listeners[4].accepted >= 1


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0x7f.3:{port}/",
        "http://2130706435:{port}/",
        "file:///etc/passwd",
        "gopher://127.0.0.3:{port}/",
    ],
)
def test_redirect_to_a_forbidden_target_is_refused(reliability, target):
    """A permitted server (127.0.0.1 only) redirects to a forbidden address: refused before
    the second hop; the listener on 127.0.0.3 stands for the forbidden internal service."""
    internal = Listener(socket.AF_INET, "127.0.0.3")
    target = target.format(port=internal.port)
    reliability.hostile_input(f"redirect to {target.split('/')[2] or target}")
    try:
        with FeedServer() as server:
            url = server.add("/feed", Response(status=302, headers={"Location": target}))
            result = fetch(url, FetchSettings(only_networks=(ip_network("127.0.0.1/32"),)))
            server_port = server.port
    finally:
        internal.close()
    assert result.error_kind in ("blocked", "bad_url"), result.error
    connects = [s[1] for s in CONNECTS.seen if s[0] == "socket.connect"]
    assert connects and all(address[1] == server_port for address in connects), connects
    assert internal.accepted == 0
