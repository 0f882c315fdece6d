"""Full-text step: fetch each article's page and put its main text in place of the teaser.

Pages come through the same polite, capped, SSRF-guarded Fetcher as feeds, and only where
the site's robots.txt (fetched once per host and cached) lets us. Per feed, `full_text`
says when: `never`, `always`, or `auto` (only when the feed's own text is shorter than
`min_chars`). A page that cannot be fetched or read leaves the article as the feed had it,
with `text_note` saying why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.config import FetchSettings
from pipeline.feeds.fetch import Fetcher
from pipeline.models import Article, FullText
from pipeline.text.extract import PageText, extract_page
from pipeline.workers import drop_if_broken, pool_for, started

log = logging.getLogger(__name__)

T = TypeVar("T")

# A feed body shorter than this is a teaser, not the story.
DEFAULT_MIN_CHARS = 1000
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.3"
ROBOTS_TTL = 3600.0
# A robots.txt we could not read blocks the host, but not for as long as a real answer.
ROBOTS_ERROR_TTL = 300.0
# The page's text must be at least this share of the feed's own to replace it.
_MIN_PAGE_SHARE = 0.5
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


# In-process extraction runs one page at a time, in this one thread: lxml must not work on
# two pages in two threads at once (seen: heap corruption, "double free", when a quiet
# cycle extracted its pages in asyncio's thread pool), and under the GIL more threads
# would not be faster anyway. The thread keeps the event loop free for the downloads.
_EXTRACTION_THREAD = ThreadPoolExecutor(1, thread_name_prefix="wirefeed-extract")

RobotsRules = dict[str, tuple[float, RobotFileParser | bool]]
# robots.txt answers of this process, shared by the cycles it runs.
_PROCESS_ROBOTS: RobotsRules = {}


def wants_page(article: Article, mode: FullText, min_chars: int = DEFAULT_MIN_CHARS) -> bool:
    if mode == "never":
        return False
    if mode == "always":
        return True
    return len(article.body) < min_chars


def _agent_token(user_agent: str) -> str:
    """The token robots.txt groups are matched against: `wirefeed/0.1 (...)` -> `wirefeed`."""
    return user_agent.split("/")[0].split()[0] if user_agent.strip() else "*"


class RobotsCache:
    """robots.txt per scheme+host, fetched once and kept for `ttl` seconds.

    As RFC 9309 says: a 4xx answer (no robots.txt) allows everything; a 5xx or a network
    failure means the site is unreachable, so nothing is fetched from it for now.
    """

    def __init__(
        self, fetcher: Fetcher, ttl: float = ROBOTS_TTL, rules: RobotsRules | None = None
    ) -> None:
        self._fetcher = fetcher
        self._ttl = ttl
        self._agent = _agent_token(fetcher.settings.user_agent)
        # Pass a longer-lived dict to keep the answers across cycles (each has its own loop,
        # so the locks cannot outlive one).
        self._rules: RobotsRules = {} if rules is None else rules
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is None or cached[0] < time.monotonic():
                cached = await self._load(origin)
                self._rules[origin] = cached
        rules = cached[1]
        return rules if isinstance(rules, bool) else rules.can_fetch(self._agent, url)

    async def _load(self, origin: str) -> tuple[float, RobotFileParser | bool]:
        result = await self._fetcher.get(f"{origin}/robots.txt", accept="text/plain")
        now = time.monotonic()
        if result.ok:
            parser = RobotFileParser()
            parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
            return now + self._ttl, parser
        if result.status is not None and 400 <= result.status < 500:
            return now + self._ttl, True
        log.info("robots.txt of %s unreadable (%s): not fetching there", origin, result.error)
        return now + ROBOTS_ERROR_TTL, False


def merge_page(article: Article, page: PageText) -> Article:
    """The article with the page's text and what the feed lacked (pure).

    The page's text wins unless it is empty, partial and shorter than the feed's own, or
    under half the feed's (the extractor then found something other than the story).
    The URL stays: exact dedup has already claimed it as this copy's key; the page's own
    canonical URL rides along as `page_url`.
    """
    if not page.text or (page.reason and len(page.text) < len(article.body)):
        return dataclasses.replace(article, text_note=page.reason or "no_main_text")
    if len(page.text) < len(article.body) * _MIN_PAGE_SHARE:
        return dataclasses.replace(article, text_note="page_text_shorter")
    published, date_missing = article.published_at, article.date_missing
    if date_missing and page.published_at is not None:
        published, date_missing = page.published_at, False
    authors = article.authors or [a.strip() for a in (page.author or "").split(";") if a.strip()]
    return dataclasses.replace(
        article,
        title=article.title or page.title or "",
        body=page.text,
        published_at=published,
        date_missing=date_missing,
        authors=authors,
        image=article.image or page.image,
        language=page.language or article.language,
        body_source="page",
        text_note=page.reason,
        page_url=page.canonical_url if page.canonical_url != article.url else None,
    )


class _Extraction:
    """Where pages are extracted: on the worker pool when there is one, else in this
    process's extraction thread. While the pool's workers start (its fork server loads the
    models: a second or two), pages queue for that thread, each taken as it comes free, and
    those still queued when the workers are up go to them. The downloads go on throughout."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self._pool = pool
        self._thread = asyncio.Lock()
        self._started: asyncio.Future[int] | None = None
        if pool is not None:
            self._started = asyncio.wrap_future(started(pool))
            # A pool that failed to start says so where a page is sent to it.
            self._started.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def run(self, work: Callable[[], T], url: str) -> T:
        loop = asyncio.get_running_loop()
        if self._started is not None and not self._started.done():
            turn = asyncio.ensure_future(self._thread.acquire())
            await asyncio.wait([turn, self._started], return_when=asyncio.FIRST_COMPLETED)
            if not turn.cancel():  # the thread came free before the workers were up
                try:
                    return await loop.run_in_executor(_EXTRACTION_THREAD, work)
                finally:
                    self._thread.release()
        if self._pool is not None:
            try:
                return await loop.run_in_executor(self._pool, work)
            except BrokenProcessPool:
                log.warning("extraction worker died; extracting %s in-process", url)
        return await loop.run_in_executor(_EXTRACTION_THREAD, work)


async def _extract(
    body: bytes, url: str, headers: dict[str, str], article: Article, extraction: _Extraction
) -> PageText:
    """Extraction is CPU work: in a worker process or the extraction thread, so the other
    downloads keep moving meanwhile. The page's date and author are looked for only where
    the feed gave none (merge_page prefers the feed's); its language is decided there, with
    what its Content-Language header and its feed declare."""
    work = functools.partial(
        extract_page,
        body,
        url,
        headers.get("content-type", ""),
        want_date=article.date_missing,
        want_author=not article.authors,
        declared=(headers.get("content-language"), article.feed_language),
    )
    return await extraction.run(work, url)


async def _one(
    article: Article, fetcher: Fetcher, robots: RobotsCache, extraction: _Extraction
) -> Article:
    if not await robots.allowed(article.url):
        return dataclasses.replace(article, text_note="robots_disallowed")
    fetched = await fetcher.get(article.url, accept=PAGE_ACCEPT)
    if fetched.error:
        return dataclasses.replace(article, text_note=f"fetch_{fetched.error_kind or 'error'}")
    if not fetched.ok:
        return dataclasses.replace(article, text_note=f"http_{fetched.status}")
    content_type = fetched.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
        return dataclasses.replace(article, text_note="not_html")
    page = await _extract(fetched.body, fetched.final_url, fetched.headers, article, extraction)
    return merge_page(article, page)


async def fetch_full_text(
    articles: Sequence[Article],
    modes: Mapping[str, FullText],
    fetcher: Fetcher,
    robots: RobotsCache | None = None,
    min_chars: int = DEFAULT_MIN_CHARS,
    executor: ProcessPoolExecutor | None = None,
) -> list[Article]:
    """Articles in the same order, each with its page's text where its feed's mode asks.

    `modes` maps a feed URL to its `full_text` setting; a feed not in it counts as `auto`.
    `executor` (a process pool) extracts the pages; without one, a thread does.
    """
    robots = robots or RobotsCache(fetcher)
    extraction = _Extraction(executor)

    async def one(article: Article) -> Article:
        if not wants_page(article, modes.get(article.feed_url, "auto"), min_chars):
            return article
        try:
            return await _one(article, fetcher, robots, extraction)
        # One odd page must cost only its own full text, never the batch.
        except Exception as exc:  # noqa: BLE001
            log.exception("full text of %s failed", article.url)
            return dataclasses.replace(article, text_note=f"error: {type(exc).__name__}")

    return list(await asyncio.gather(*(one(a) for a in articles)))


def fill_full_text(
    articles: Sequence[Article],
    modes: Mapping[str, FullText],
    settings: FetchSettings,
    min_chars: int = DEFAULT_MIN_CHARS,
) -> list[Article]:
    """Blocking entry point for run_cycle: its own event loop and Fetcher; the worker pool
    extracts when enough pages are wanted to pay for it."""
    wanted = sum(wants_page(a, modes.get(a.feed_url, "auto"), min_chars) for a in articles)
    if not wanted:
        return list(articles)
    pool = pool_for(wanted)

    async def run() -> list[Article]:
        async with Fetcher(settings) as fetcher:
            robots = RobotsCache(fetcher, rules=_PROCESS_ROBOTS)
            return await fetch_full_text(articles, modes, fetcher, robots, min_chars, pool)

    try:
        return asyncio.run(run())
    finally:
        if pool is not None:
            drop_if_broken(pool)
