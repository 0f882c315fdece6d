"""Polite, bounded, SSRF-guarded HTTP GET for feeds and article pages."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from pipeline.config import FetchSettings
from pipeline.feeds.netguard import BlockedAddress, NetworkPolicy, parse_ip_literal

_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # The last permanent (301/308) target, so the caller can move the stored URL.
    moved_to: str | None = None
    error: str | None = None
    error_kind: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _GuardedResolver(AbstractResolver):
    """Resolves names, then drops the host unless every address passes the policy."""

    def __init__(self, policy: NetworkPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self._policy.check_host(host)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            ip = parse_ip_literal(result["host"])
            if ip is None:
                raise BlockedAddress(f"{host} resolved to an unparsable address")
            self._policy.check_address(ip)
        return results

    async def close(self) -> None:
        await self._inner.close()


class Fetcher:
    """One shared connection pool with per-host and global concurrency limits.

    Use as `async with Fetcher(settings) as f: await f.get(url)`.
    """

    def __init__(self, settings: FetchSettings, dns: AbstractResolver | None = None) -> None:
        """`dns` replaces the system resolver (the guard still checks what it returns)."""
        self.settings = settings
        self.policy = NetworkPolicy(allow=settings.allow_networks, only=settings.only_networks)
        self._dns = dns
        self._global = asyncio.Semaphore(settings.global_limit)
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host_limit)
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(self.policy, self._dns),
            limit=self.settings.global_limit,
            ttl_dns_cache=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.settings.user_agent},
            # The total deadline is ours (see get); aiohttp only bounds the connect.
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self.settings.connect_timeout,
                sock_connect=self.settings.connect_timeout,
            ),
            auto_decompress=True,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> FetchResult:
        """GET with conditional headers, following at most max_redirects hops by hand.

        Never raises for network or policy problems: they come back as `error`.
        """
        result = FetchResult(url=url, final_url=url)
        started = time.monotonic()
        try:
            await self._follow(result, etag, last_modified, accept)
        except FetchError as exc:
            result.error, result.error_kind = str(exc), exc.kind
        except BlockedAddress as exc:
            result.error, result.error_kind = f"blocked: {exc}", "blocked"
        except TimeoutError as exc:
            # aiohttp's connect timeout says which host; ours is the total deadline.
            result.error = str(exc) or f"timed out after {self.settings.total_timeout:g}s"
            result.error_kind = "timeout"
        except aiohttp.ClientConnectorError as exc:
            inner = exc.os_error
            if isinstance(inner, BlockedAddress) or isinstance(
                getattr(inner, "__cause__", None), BlockedAddress
            ):
                result.error, result.error_kind = f"blocked: {inner}", "blocked"
            else:
                result.error, result.error_kind = f"connection failed: {exc}", "connection"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            result.error, result.error_kind = f"{type(exc).__name__}: {exc}", "connection"
        result.elapsed = time.monotonic() - started
        return result

    async def _follow(
        self, result: FetchResult, etag: str | None, last_modified: str | None, accept: str
    ) -> None:
        assert self._session is not None, "use Fetcher as an async context manager"
        url = result.url
        # The total deadline covers every hop, counted only while slots are held: waiting
        # for a free slot is not the server's fault.
        remaining = self.settings.total_timeout
        # Only an unbroken chain of permanent redirects moves the feed's stored URL.
        permanent = True
        for _hop in range(self.settings.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError("bad_url", f"refused URL {url!r}: only http and https")
            self.policy.check_host(parts.hostname)
            headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            # Host slot first: requests queued for one busy host must not sit on global
            # slots that other hosts could use.
            async with self._hosts[parts.hostname.lower()], self._global:
                hop_started = time.monotonic()
                async with (
                    asyncio.timeout(remaining),
                    self._session.get(url, headers=headers, allow_redirects=False) as resp,
                ):
                    result.status = resp.status
                    result.final_url = url
                    result.headers = {k.lower(): v for k, v in resp.headers.items()}
                    if resp.status in _REDIRECTS and "location" in result.headers:
                        target = urljoin(url, result.headers["location"])
                        permanent = permanent and resp.status in (301, 308)
                        if permanent:
                            result.moved_to = target
                        url = target
                        remaining -= time.monotonic() - hop_started
                        continue
                    result.body = await self._read_capped(resp)
                    return
        raise FetchError("too_many_redirects", f"more than {self.settings.max_redirects} redirects")

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        # aiohttp decompresses as it reads, so the cap counts decompressed bytes.
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"body larger than {cap} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
