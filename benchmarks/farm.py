"""A loopback feed farm for the throughput benchmarks: N feeds x M entries of real news.

Feeds are RSS 2.0 with teaser descriptions (so the pipeline fetches every full page) and
answer conditional GETs (ETag, Last-Modified) with 304. Article pages are the real pages of
../shared/corpora/articles/zyte-dev/html (their own markup and boilerplate, read at run
time, never copied into the repository) with the story paragraphs in the element that held
the page's own article paragraphs (emptied); a page whose markup, around a probe story,
does not give back that story's text within 10% is not used. Story texts are made of the
real gold paragraphs (ground-truth.json), drawn per story so that two stories share almost
nothing, about as long as a real article.

A share of the entries (`copies`, default 35%) are syndicated copies: the same story as an
original on another feed of another host, re-published in that outlet's style (a dateline
in front, the last paragraph cut, the outlet's trailer line after) inside another page's
markup. A share of the feeds (`authors`, default 65%, as of the 52 real publisher feeds in
../shared/corpora/feeds/publisher_captures) name each entry's author (dc:creator); the
others leave the byline to the page. A share of the feeds (`unchanged`) never change:
after the first poll they answer 304 at every generation; the others slide their window
of entries one newer per generation (POST /_farm/generation/<g>).

The farm runs in its own process (`start_farm`), so it does not take the GIL from the
pipeline, and listens on `hosts` loopback addresses 127.0.0.1, 127.0.0.2, ... (one port),
so per-host connection limits behave as they would across publishers.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import html
import json
import multiprocessing
import random
import socket
import sys
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "articles" / "zyte-dev"
# Entry positions per feed: the window of a changing feed slides through them.
STRIDE = 1000
_MARKER = "WIREFEEDFARMSTORYBODY"
_MIN_PARAGRAPH_WORDS = 8
_CITIES = ("WASHINGTON", "LONDON", "PARIS", "NEW DELHI", "TOKYO", "NAIROBI", "BRUSSELS")
_AGENCIES = ("AFP", "Reuters", "AP")
_REPORTERS = ("Amara Okafor", "Daniel Brandt", "Mei Lin Chen", "Sofia Marquez", "Tom Hale")
_OUTLETS = (
    "Daily Ledger",
    "Morning Courier",
    "Evening Standard Post",
    "Metro Herald",
    "Coastal Times",
    "Valley Tribune",
    "Capital Gazette",
    "Northern Observer",
)


@dataclass(frozen=True, slots=True)
class FarmSpec:
    feeds: int
    entries: int
    copies: float = 0.35
    unchanged: float = 0.0
    hosts: int = 16
    seed: int = 7
    authors: float = 0.65


@dataclass(frozen=True, slots=True)
class Item:
    """One feed entry and the story its page carries."""

    slot: int
    host: int  # index of the loopback address
    title: str
    paragraphs: tuple[str, ...]
    copy_of: int | None  # the original's slot, for a syndicated copy
    template: int

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def host_address(index: int) -> str:
    return f"127.0.0.{index + 1}"


def feed_host(spec: FarmSpec, feed: int) -> int:
    return feed % spec.hosts


def feed_url(spec: FarmSpec, port: int, feed: int) -> str:
    return f"http://{host_address(feed_host(spec, feed))}:{port}/feed/{feed}.xml"


def load_gold(corpus: Path = CORPUS) -> dict[str, dict]:
    return json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))


class Plan:
    """Which entry carries which story: deterministic from the spec and the corpus."""

    def __init__(self, spec: FarmSpec, gold: dict[str, dict]) -> None:
        self.spec = spec
        self.keys = sorted(gold)
        self.lengths = [len(gold[k]["articleBody"].split()) for k in self.keys]
        self.pool = [
            p.strip()
            for k in self.keys
            for p in gold[k]["articleBody"].split("\n\n")
            if len(p.split()) >= _MIN_PARAGRAPH_WORDS
        ]
        self.unchanged = {
            f
            for f in range(spec.feeds)
            if random.Random(spec.seed * 31 + f).random() < spec.unchanged
        }
        self.with_authors = {
            f
            for f in range(spec.feeds)
            if random.Random(spec.seed * 37 + f).random() < spec.authors
        }

    def slots(self, feed: int, generation: int) -> list[int]:
        start = 0 if feed in self.unchanged else generation
        return [feed * STRIDE + j for j in range(start, start + self.spec.entries)]

    def _rng(self, slot: int, salt: int) -> random.Random:
        return random.Random((self.spec.seed * 1_000_003 + slot) * 7 + salt)

    def _is_copy(self, slot: int) -> bool:
        return self._rng(slot, 1).random() < self.spec.copies

    def _original_for(self, slot: int) -> int | None:
        """An original at the same position on a feed of another host, if one is found."""
        feed, position = divmod(slot, STRIDE)
        rng = self._rng(slot, 2)
        for _ in range(64):
            other = rng.randrange(self.spec.feeds)
            candidate = other * STRIDE + position
            if feed_host(self.spec, other) != feed_host(self.spec, feed) and not self._is_copy(
                candidate
            ):
                return candidate
        return None

    def story(self, slot: int) -> tuple[str, list[str]]:
        rng = self._rng(slot, 3)
        target = self.lengths[slot % len(self.lengths)]
        paragraphs: list[str] = []
        words = 0
        while words < target:
            paragraph = self.pool[rng.randrange(len(self.pool))]
            paragraphs.append(paragraph)
            words += len(paragraph.split())
        title = " ".join(paragraphs[0].split()[:12]).rstrip(",.;:")
        return title, paragraphs

    def item(self, slot: int) -> Item:
        feed = slot // STRIDE
        host = feed_host(self.spec, feed)
        template = self._rng(slot, 4).randrange(len(self.keys))
        original = self._original_for(slot) if self._is_copy(slot) else None
        if original is None:
            title, paragraphs = self.story(slot)
            return Item(slot, host, title, tuple(paragraphs), None, template)
        title, paragraphs = self.story(original)
        rng = self._rng(slot, 5)
        outlet = _OUTLETS[host % len(_OUTLETS)]
        dateline = f"{rng.choice(_CITIES)} ({rng.choice(_AGENCIES)}) - "
        styled = [dateline + paragraphs[0], *paragraphs[1:]]
        if len(styled) > 3:
            styled = styled[:-1]
        styled.append(
            f"(This story has not been edited by {outlet} staff and is auto-generated "
            "from a syndicated feed.)"
        )
        return Item(slot, host, title, tuple(styled), original, template)

    def items(self, generation: int) -> list[Item]:
        return [self.item(s) for f in range(self.spec.feeds) for s in self.slots(f, generation)]


# -- serving ---------------------------------------------------------------------------


def _template(page: bytes, gold_body: str) -> tuple[str, str] | None:
    """The page's markup before and after its article paragraphs, or None when the gold
    paragraphs cannot be found in it as <p> elements of one container."""
    from lxml import etree
    from lxml import html as lxml_html

    tree = lxml_html.document_fromstring(page)
    wanted = {" ".join(p.split()) for p in gold_body.split("\n\n") if p.strip()}
    matched = [p for p in tree.iter("p") if " ".join(p.text_content().split()) in wanted]
    parents: dict[etree._Element, int] = {}
    for p in matched:
        parents[p.getparent()] = parents.get(p.getparent(), 0) + 1
    if not parents:
        return None
    container = max(parents, key=lambda k: parents[k])
    if parents[container] < 3:
        return None
    # The container's own content goes (subheads, embeds, inline ads: they would leak into
    # every story on this template), and so do the page's article paragraphs elsewhere.
    for p in matched:
        if p.getparent() is not None and p.getparent() is not container:
            p.drop_tree()
    for child in list(container):
        container.remove(child)
    container.text = None
    marker = etree.SubElement(container, "p")
    marker.text = _MARKER
    # The real page's canonical URL would point the article at the real site.
    for el in tree.xpath(
        "//link[@rel='canonical' or @rel='amphtml'] | //meta[@property='og:url'] | //base"
    ):
        el.drop_tree()
    text = lxml_html.tostring(tree, encoding="unicode")
    before, _, after = text.partition(f"<p>{_MARKER}</p>")
    return before, after


def _templates(plan: Plan, gold: dict[str, dict]) -> list[tuple[str, str]]:
    """The pages whose markup, around a probe story, gives back that story's text and
    nothing else (within 10%), so every article carries the text its plan says."""
    sys.path.insert(0, str(ROOT))
    from pipeline.text.extract import extract_page

    _title, paragraphs = plan.story(0)
    probe = "\n\n".join(paragraphs)
    kept = []
    for key in plan.keys:
        page = gzip.decompress((CORPUS / "html" / f"{key}.html.gz").read_bytes())
        found = _template(page, gold[key]["articleBody"])
        if found is None:
            continue
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        text = extract_page(found[0] + body + found[1], "http://127.0.0.1/a/0", "text/html").text
        if abs(len(text) - len(probe)) <= 0.1 * len(probe):
            kept.append(found)
    if not kept:
        raise RuntimeError(f"no usable page templates in {CORPUS}")
    return kept


def _feed_xml(
    spec: FarmSpec, port: int, feed: int, items: list[Item], now: datetime, authors: bool
) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>Farm feed {feed}</title><link>http://{host_address(feed_host(spec, feed))}"
        f":{port}/</link><description>benchmark feed</description>",
    ]
    for n, item in enumerate(items):
        link = f"http://{host_address(item.host)}:{port}/a/{item.slot}"
        published = format_datetime(now - timedelta(minutes=10 * n), usegmt=True)
        teaser = item.paragraphs[0][:200]
        byline = f"<dc:creator>{_REPORTERS[item.slot % len(_REPORTERS)]}</dc:creator>"
        parts.append(
            f"<item><title>{html.escape(item.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">farm-{item.slot}</guid><pubDate>{published}</pubDate>'
            f"{byline if authors else ''}<description>{html.escape(teaser)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _serve(spec: FarmSpec, port: int, ready: multiprocessing.synchronize.Event) -> None:
    from aiohttp import web

    gold = load_gold()
    plan = Plan(spec, gold)
    templates = _templates(plan, gold)
    started = datetime.now(UTC).replace(microsecond=0)
    state = {"generation": 0}
    feeds: dict[tuple[int, int], tuple[bytes, str, str]] = {}
    items: dict[int, Item] = {}

    def item(slot: int) -> Item:
        if slot not in items:
            items[slot] = plan.item(slot)
        return items[slot]

    def feed_body(feed: int) -> tuple[bytes, str, str]:
        generation = 0 if feed in plan.unchanged else state["generation"]
        key = (feed, generation)
        if key not in feeds:
            now = started + timedelta(minutes=generation)
            entries = [item(s) for s in plan.slots(feed, generation)]
            body = _feed_xml(spec, port, feed, entries, now, feed in plan.with_authors)
            etag = f'"{hashlib.sha1(body).hexdigest()}"'
            feeds[key] = (body, etag, format_datetime(now, usegmt=True))
        return feeds[key]

    async def feed(request: web.Request) -> web.Response:
        body, etag, modified = feed_body(int(request.match_info["n"]))
        headers = {"ETag": etag, "Last-Modified": modified}
        if request.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == modified
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/rss+xml", headers=headers)

    async def page(request: web.Request) -> web.Response:
        it = item(int(request.match_info["slot"]))
        before, after = templates[it.template % len(templates)]
        body = "".join(f"<p>{html.escape(p)}</p>" for p in it.paragraphs)
        return web.Response(text=before + body + after, content_type="text/html")

    async def generation(request: web.Request) -> web.Response:
        state["generation"] = int(request.match_info["g"])
        return web.Response(text=str(state["generation"]))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}.xml", feed)
        app.router.add_get("/a/{slot}", page)
        app.router.add_post("/_farm/generation/{g}", generation)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for index in range(spec.hosts):
            await web.TCPSite(runner, host_address(index), port, backlog=2048).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Farm:
    """The farm's process; use as a context manager."""

    def __init__(self, spec: FarmSpec, port: int | None = None) -> None:
        self.spec = spec
        self.port = port or free_port()
        context = multiprocessing.get_context("spawn")
        self._ready = context.Event()
        self.process = context.Process(
            target=_serve, args=(spec, self.port, self._ready), daemon=True
        )

    def __enter__(self) -> Farm:
        self.process.start()
        if not self._ready.wait(120):
            self.process.terminate()
            raise RuntimeError("the feed farm did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)

    def feed_urls(self) -> list[str]:
        return [feed_url(self.spec, self.port, f) for f in range(self.spec.feeds)]

    def set_generation(self, generation: int) -> None:
        url = f"http://127.0.0.1:{self.port}/_farm/generation/{generation}"
        # No proxy: the farm is on loopback, whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(urllib.request.Request(url, method="POST"), timeout=10):
            pass
