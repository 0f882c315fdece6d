"""Hostile feeds, each polled in one cycle with a good feed against the real engine.

Each must end bounded in time and memory, with a clear error on the hostile feed (or its
harmless part indexed), the good feed indexed exactly once, and nothing executable, no
local file and no non-http link in any stored document.
"""

from __future__ import annotations

import json
import resource
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import pytest

from pipeline.config import EngineSettings
from pipeline.feeds.parse import MAX_TITLE_CHARS
from pipeline.index.store import Store, make_client
from pipeline.models import FeedSource
from pipeline.text.urls import canonical_url
from tests.faults.conftest import stored_documents
from tests.faults.farm import build_farm, cycle, story_text
from tests.support.engine import stored_urls
from tests.support.feedserver import Response, Route

GB = 1024**3
MB = 1024**2


@dataclass
class Sent:
    """Bytes a streaming route produced: proof a stream was cut, not read to the end."""

    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int) -> None:
        with self.lock:
            self.count += n


@dataclass
class Case:
    name: str
    route: Callable[[str, Sent], Route]  # (server base URL, byte counter) -> route
    error: str | None = None  # the hostile feed must fail with this in its error
    overrides: dict[str, object] = field(default_factory=dict)
    # Stories the hostile feed may index (links of its harmless items), when it parses.
    stories: Callable[[str], set[str]] = lambda base: set()
    max_sent: int | None = None  # the stream must have been cut before this many bytes
    check: Callable[[list[dict]], None] | None = None  # on the hostile feed's stored stories


def _stream(chunks: Iterator[bytes], sent: Sent) -> Iterator[bytes]:
    for chunk in chunks:
        sent.add(len(chunk))
        yield chunk


def _doc(inner: str, doctype: str = "", encoding: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{doctype}<rss version="2.0">'
        f"<channel><title>hostile</title><link>http://127.0.0.1/</link>{inner}</channel></rss>"
    ).encode(encoding if encoding.startswith("utf") else "utf-8")


def _item(link: str, title: str = "t", body: str = "", extra: str = "") -> str:
    body = body or escape(story_text(link))
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{body}</description>{extra}</item>"
    )


_LOL = ["lol", *(f"lol{i}" for i in range(1, 10))]
LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY {_LOL[i]} "{("&" + _LOL[i - 1] + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def billion_laughs(base: str, sent: Sent) -> Route:
    return Response(_doc(_item(f"{base}/laughs/1", body="&lol9;"), LAUGHS))


def quadratic_blowup(base: str, sent: Sent) -> Route:
    # One entity under the size limit, referenced 40,000 times: 10 MB once expanded.
    doctype = f'<!DOCTYPE rss [<!ENTITY a "{"A" * 250}">]>'
    return Response(_doc(_item(f"{base}/quadratic/1", body="&a;" * 40_000), doctype))


def external_entity(base: str, sent: Sent) -> Route:
    doctype = (
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        '<!ENTITY % remote SYSTEM "file:///etc/hostname"> %remote;]>'
    )
    return Response(_doc(_item(f"{base}/xxe/1", title="&xxe;", body="before &xxe; after"), doctype))


def two_gigabytes(base: str, sent: Sent) -> Route:
    head = _doc("").split(b"</channel>")[0]
    block = _item(f"{base}/big/x").encode() * 200

    def chunks() -> Iterator[bytes]:
        yield head
        total = len(head)
        while total < 2 * GB:
            yield block
            total += len(block)

    return Response(_stream(chunks(), sent), headers={"Content-Length": str(2 * GB)})


def gzip_bomb(base: str, sent: Sent) -> Route:
    def chunks() -> Iterator[bytes]:
        gz = zlib.compressobj(9, zlib.DEFLATED, 31)
        yield gz.compress(_doc("").split(b"</channel>")[0] + b"<item><title>")
        zeros = b"0" * MB
        for _ in range(1024):  # 1 GB once inflated, about 1 MB on the wire
            yield gz.compress(zeros)
        yield gz.flush()

    return Response(_stream(chunks(), sent), headers={"Content-Encoding": "gzip"})


def endless_chunked(base: str, sent: Sent) -> Route:
    def chunks() -> Iterator[bytes]:
        piece = _item(f"{base}/endless/x").encode() * 50
        for _ in range(100_000):  # bounded only so the server thread ends some day
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    return Response(_stream(chunks(), sent), headers={"Transfer-Encoding": "chunked"})


def one_byte_a_second(base: str, sent: Sent) -> Route:
    def chunks() -> Iterator[bytes]:
        for byte in _doc(_item(f"{base}/slow/1")):
            yield bytes([byte])
            time.sleep(1.0)

    return lambda _request: Response(_stream(chunks(), sent))


def redirect_loop(base: str, sent: Sent) -> Route:
    return Response(status=302, headers={"Location": "/hostile.xml?again"})


def invalid_encoding(base: str, sent: Sent) -> Route:
    # Declared UTF-8; carries Latin-1 bytes, a lone continuation byte and a truncated sequence.
    body = _doc(
        _item(f"{base}/enc/1", title="caf\xe9")
        + _item(f"{base}/enc/2", title="ok \u00e9t\u00e9")
        + _item(f"{base}/enc/3", title="bad")
    )
    body = body.replace("caf\xe9".encode(), b"caf\xe9 \x80\xbf \xe2\x82")
    return Response(body)


def mixed_encodings(base: str, sent: Sent) -> Route:
    utf8 = _item(f"{base}/mixed/1", title="na\u00efve \u2014 \u00fcber").encode()
    latin1 = _item(f"{base}/mixed/2", title="se\xf1or").encode("latin-1")
    cp1252 = _item(f"{base}/mixed/3", title="\u201cquoted\u201d").encode("cp1252")
    head, tail = _doc("", encoding="utf-8").split(b"</channel>")
    return Response(head + utf8 + latin1 + cp1252 + b"</channel>" + tail)


def unknown_charset(base: str, sent: Sent) -> Route:
    body = _doc(_item(f"{base}/charset/1")).replace(b'encoding="utf-8"', b'encoding="x-bogus"')
    return Response(body, content_type="application/rss+xml; charset=x-bogus-too")


def megabyte_title(base: str, sent: Sent) -> Route:
    return Response(_doc(_item(f"{base}/title/1", title="T" * MB)))


def hundred_thousand_entries(base: str, sent: Sent) -> Route:
    head, tail = _doc("").split(b"</channel>")

    def chunks() -> Iterator[bytes]:
        yield head
        for i in range(100_000):
            yield _item(f"{base}/many/{i}").encode()
        yield b"</channel>" + tail

    return Response(_stream(chunks(), sent))


def extreme_dates(base: str, sent: Sent) -> Route:
    return Response(
        _doc(
            _item(f"{base}/dates/1", extra="<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>")
            + _item(f"{base}/dates/2", extra="<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>")
            + _item(f"{base}/dates/3", extra="<pubDate>Sat, 32 Foo -0001 99:99:99 XYZ</pubDate>")
            + _item(
                f"{base}/dates/4",
                extra='<dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">'
                "9999-12-31T23:59:59.999999+14:00</dc:date>",
            )
        )
    )


def unsafe_links(base: str, sent: Sent) -> Route:
    items = [
        _item("javascript:alert(document.cookie)"),
        _item("JaVaScRiPt:alert(1)"),
        _item("  javascript:alert(2)"),
        _item("file:///etc/passwd"),
        _item("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
        _item("vbscript:msgbox(1)"),
        _item(
            f"{base}/links/ok",
            extra='<media:content xmlns:media="http://search.yahoo.com/mrss/" medium="image" '
            'url="data:image/svg+xml,&lt;svg onload=alert(1)&gt;"/>',
        ),
    ]
    return Response(_doc("".join(items)))


SCRIPTED = escape(
    "<p>Real words here.</p><script>alert('body-script')</script>"
    "<img src=x onerror=\"alert('onerror')\"><a href=\"javascript:alert('href')\">click</a>"
    "<svg onload=\"alert('svg')\"></svg><iframe src=\"javascript:alert('iframe')\"></iframe>"
    "<style>body{background:url(javascript:alert('css'))}</style>"
    "<div onclick=\"alert('div')\" style=\"x:expression(alert('ie'))\">more words</div>"
)


def scripted_html(base: str, sent: Sent) -> Route:
    title = escape("<script>alert('title')</script>Headline <b onmouseover=alert(1)>bold</b>")
    body = SCRIPTED + escape(story_text("scripted"))
    return Response(_doc(_item(f"{base}/html/1", title=title, body=body)))


def _check_xxe(docs: list[dict]) -> None:
    assert [d["body"] for d in docs] == ["before after"]  # the external entity is dropped


def _check_title(docs: list[dict]) -> None:
    (doc,) = docs
    assert len(doc["title"]) <= MAX_TITLE_CHARS + 1  # cut at a word, with an ellipsis
    assert doc["title"].startswith("TTTT")


def _check_dates(docs: list[dict]) -> None:
    by_url = {d["url"].rsplit("/", 1)[1]: d for d in docs}
    # Bogus (year 0001, 9999) and unparsable dates alike: the fetch time stands in.
    for key in ("1", "2", "3"):
        assert by_url[key]["date_missing"] is True
        assert by_url[key]["published_at"][:4] not in ("0001", "9999")


def _check_text(docs: list[dict]) -> None:
    for doc in docs:
        assert doc["title"] and doc["title"].isprintable(), doc["title"]


def _check_scripted(docs: list[dict]) -> None:
    (doc,) = docs
    assert doc["title"] == "Headline bold"
    assert "Real words here." in doc["body"] and "more words" in doc["body"]


# For the cases the body cap must stop: a deadline long enough that a loaded machine
# cannot turn them into timeouts, short enough for the one-minute bound below.
CAP_NOT_CLOCK = {"total_timeout": 45.0}

CASES = [
    Case("billion laughs", billion_laughs, error="refused"),
    Case("quadratic blowup", quadratic_blowup, error="refused"),
    Case("external entities", external_entity, stories=lambda b: {f"{b}/xxe/1"}, check=_check_xxe),
    Case(
        "2 GB body", two_gigabytes, error="larger than", overrides=CAP_NOT_CLOCK, max_sent=64 * MB
    ),
    Case("gzip bomb", gzip_bomb, error="larger than", overrides=CAP_NOT_CLOCK, max_sent=16 * MB),
    Case(
        "endless chunked stream",
        endless_chunked,
        error="larger than",
        overrides=CAP_NOT_CLOCK,
        max_sent=64 * MB,
    ),
    Case(
        "one byte a second",
        one_byte_a_second,
        error="timed out",
        overrides={"total_timeout": 2.0},
        max_sent=10,
    ),
    Case("redirect loop", redirect_loop, error="redirects"),
    Case(
        "invalid encoding",
        invalid_encoding,
        stories=lambda b: {f"{b}/enc/{i}" for i in (1, 2, 3)},
        check=_check_text,
    ),
    Case(
        "mixed encodings",
        mixed_encodings,
        stories=lambda b: {f"{b}/mixed/{i}" for i in (1, 2, 3)},
        check=_check_text,
    ),
    Case("unknown charset", unknown_charset, stories=lambda b: {f"{b}/charset/1"}),
    Case("1 MB title", megabyte_title, stories=lambda b: {f"{b}/title/1"}, check=_check_title),
    Case(
        "100,000 entries",
        hundred_thousand_entries,
        error="larger than",
        # The cap must be what stops it: on a loaded machine streaming 10 MB item by item
        # can outlast the farm's 4 s deadline, which would only prove the deadline works.
        overrides={"max_body_bytes": 10 * MB, "total_timeout": 45.0},
        max_sent=80 * MB,
    ),
    Case(
        "dates 0001 and 9999",
        extreme_dates,
        stories=lambda b: {f"{b}/dates/{i}" for i in (1, 2, 3, 4)},
        check=_check_dates,
    ),
    Case("javascript/file/data links", unsafe_links, stories=lambda b: {f"{b}/links/ok"}),
    Case(
        "scripts and event handlers",
        scripted_html,
        stories=lambda b: {f"{b}/html/1"},
        check=_check_scripted,
    ),
]

FORBIDDEN = ("<script", "javascript:", "vbscript:", "onerror", "onload", "onclick", "alert(")


class RssPeak:
    """The most resident memory this process held while the block ran, sampled every
    20 ms (ru_maxrss is the lifetime peak: an earlier test could hide any growth here)."""

    def __init__(self) -> None:
        self.start = self.peak = _rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def growth_mb(self) -> float:
        return self.peak - self.start


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


@pytest.fixture(scope="module")
def hostile_store(engine_admin: EngineSettings) -> Iterator[Store]:
    """One set of indices for every case (each case has its own server port in its URLs)."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    client = make_client(engine_admin)
    store = Store(client, prefix)
    store.setup()
    yield store
    client.indices.delete(index=list(client.indices.get(index=f"{prefix}*")))
    store.drop_templates()
    client.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_feed_is_bounded_and_spares_the_others(
    reliability, hostile_store, feed_server, case
):
    store = hostile_store
    reliability.hostile_input(case.name)
    sent = Sent()
    base = feed_server.url("")
    hostile = FeedSource(feed_server.add("/hostile.xml", case.route(base, sent)), full_text="never")
    good = build_farm(feed_server, count=1, per_feed=2)
    started = time.monotonic()
    with RssPeak() as memory:
        summary = cycle([hostile, *good.feeds], store, **case.overrides)
    elapsed = time.monotonic() - started
    outcomes = {o.url: o for o in summary.outcomes}
    ours = [u for u in stored_urls(store) if u.startswith(base)]

    # The good feed of the same cycle is untouched.
    assert outcomes[good.feeds[0].url].ok
    good_found = [u for u in ours if "/feed0/" in u]
    assert reliability.check_stories(good.expected_urls, good_found) == (0, 0)

    outcome = outcomes[hostile.url]
    state = store.feed_states([hostile.url])[hostile.url]
    if case.error:
        assert not outcome.ok and case.error in (outcome.error or ""), outcome
        # A clear error is recorded, and the feed's state did not advance.
        assert state.last_error and case.error in state.last_error
        assert state.failures == 1 and state.body_hash is None
    else:
        assert outcome.ok, outcome
    expected = {canonical_url(u) for u in case.stories(base)}
    hostile_found = [u for u in ours if "/feed0/" not in u]
    assert reliability.check_stories(expected, hostile_found) == (0, 0)
    assert set(hostile_found) == expected, "a story from a link that must not be indexed"
    if case.max_sent is not None:
        assert sent.count < case.max_sent, f"read {sent.count} bytes of the stream"
    # Bounded: memory grew by far less than the input offered, time by less than a minute.
    assert memory.growth_mb < 400
    assert elapsed < 60

    docs = stored_documents(store, store.articles)
    if case.check is not None:
        case.check([d for d in docs if d["url"] in expected])
    for doc in docs:
        text = json.dumps(doc).lower()
        assert not any(f in text for f in FORBIDDEN), [f for f in FORBIDDEN if f in text]
        assert "root:x:0" not in text
        assert all(u.startswith(("http://", "https://")) for u in doc.get("urls", []))
        if doc.get("image"):
            assert doc["image"].startswith(("http://", "https://"))
