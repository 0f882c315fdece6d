"""Polling against a loopback server with the real engine: every HTTP situation leaves the
feed state (and the story count) where it should."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import pipeline.feeds.poll
import pipeline.run
from pipeline.config import EngineSettings, Settings
from pipeline.feeds.poll import due_feeds
from pipeline.index.store import Store
from pipeline.models import FeedSource, FeedState, RunSummary
from pipeline.run import run_cycle
from tests.support.feedserver import Request, Response

pytestmark = pytest.mark.engine


def make_feed(tag: str, count: int = 3, channel: str = "", build: str = "") -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{tag} story {i}</title><link>http://127.0.0.1/{tag}/{i}</link>"
        f"<guid>{tag}-{i}</guid><description>Text of {tag} story {i}.</description>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=30 * i))}</pubDate></item>"
        for i in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{tag}</title>'
        f"<link>http://127.0.0.1/</link>{build}{channel}{items}</channel></rss>"
    ).encode()


def cycle(store: Store, engine: EngineSettings, *feeds: FeedSource, **fetch) -> RunSummary:
    settings = Settings.from_env()
    settings = Settings(engine=engine, fetch=dataclasses.replace(settings.fetch, **fetch))
    return run_cycle(list(feeds), store, settings)


def state(store: Store, url: str) -> FeedState:
    return store.feed_states([url])[url]


@pytest.fixture()
def parses(monkeypatch) -> list[str]:
    """The feed URLs the poller handed to the parser, in order."""
    seen: list[str] = []
    real = pipeline.feeds.poll.parse_feed

    def counting(body, feed_url, fetched_at, **kwargs):
        seen.append(feed_url)
        return real(body, feed_url, fetched_at, **kwargs)

    monkeypatch.setattr(pipeline.feeds.poll, "parse_feed", counting)
    return seen


def conditional(body: bytes, header: str, value: str, validator: str):
    def route(req: Request) -> Response:
        if req.headers.get(header) == value:
            return Response(status=304)
        return Response(body, headers={validator: value})

    return route


def test_304_with_etag_is_not_parsed_again(feed_server, store, engine_settings, parses):
    url = feed_server.add("/e.xml", conditional(make_feed("etag"), "if-none-match", '"v1"', "ETag"))
    first = cycle(store, engine_settings, FeedSource(url))
    assert first.stories_new == 3
    second = cycle(store, engine_settings, FeedSource(url))
    assert second.outcomes[0].status == "not_modified"
    assert (second.entries_seen, second.stories_new) == (0, 0)
    assert parses == [url]
    assert feed_server.requests[-1].headers["if-none-match"] == '"v1"'
    assert state(store, url).etag == '"v1"'


def test_304_with_last_modified_is_not_parsed_again(feed_server, store, engine_settings, parses):
    stamp = "Sun, 01 Mar 2026 10:00:00 GMT"
    url = feed_server.add(
        "/lm.xml", conditional(make_feed("lm"), "if-modified-since", stamp, "Last-Modified")
    )
    cycle(store, engine_settings, FeedSource(url))
    second = cycle(store, engine_settings, FeedSource(url))
    assert second.outcomes[0].status == "not_modified"
    assert (second.entries_seen, second.stories_new) == (0, 0)
    assert parses == [url]
    assert state(store, url).last_modified == stamp


def test_unchanged_body_without_validators_is_skipped_by_hash(
    feed_server, store, engine_settings, parses
):
    url = feed_server.add("/same.xml", Response(make_feed("same")))
    cycle(store, engine_settings, FeedSource(url))
    second = cycle(store, engine_settings, FeedSource(url))
    assert second.outcomes[0].status == "unchanged"
    assert second.entries_seen == 0
    assert parses == [url]
    assert feed_server.hits["/same.xml"] == 2


def test_same_entries_polled_twice_make_no_new_stories(feed_server, store, engine_settings):
    # The body changes (lastBuildDate) but the entries do not: parsed twice, stored once.
    builds = iter(range(100))
    url = feed_server.add(
        "/twice.xml",
        lambda req: Response(
            make_feed("twice", build=f"<lastBuildDate>{next(builds)}</lastBuildDate>")
        ),
    )
    first = cycle(store, engine_settings, FeedSource(url))
    second = cycle(store, engine_settings, FeedSource(url))
    assert first.stories_new == 3
    assert second.entries_seen == 3
    assert second.stories_new == 0
    store.refresh()
    assert store.count_stories() == 3


def test_301_moves_the_stored_url(feed_server, store, engine_settings):
    new = feed_server.add("/new.xml", Response(make_feed("moved")))
    old = feed_server.add("/old.xml", Response(status=301, headers={"Location": new}))
    first = cycle(store, engine_settings, FeedSource(old))
    assert first.stories_new == 3
    assert state(store, old).moved_to == new
    cycle(store, engine_settings, FeedSource(old))
    assert feed_server.hits["/old.xml"] == 1, "the second poll went straight to the new URL"
    assert feed_server.hits["/new.xml"] == 2
    # A temporary redirect does not move it.
    target = feed_server.add("/tmp-new.xml", Response(make_feed("temp")))
    temp = feed_server.add("/tmp-old.xml", Response(status=302, headers={"Location": target}))
    cycle(store, engine_settings, FeedSource(temp))
    assert state(store, temp).moved_to is None


def test_410_disables_the_feed(feed_server, store, engine_settings):
    url = feed_server.add("/gone.xml", Response(b"gone", status=410))
    feed = FeedSource(url)
    summary = cycle(store, engine_settings, feed)
    assert summary.outcomes[0].status == "gone"
    saved = state(store, url)
    assert (saved.enabled, saved.status) == (False, "gone")
    far_future = datetime.now(UTC) + timedelta(days=30)
    assert due_feeds([feed], {url: saved}, far_future) == []


def test_429_and_503_retry_after_reschedule(feed_server, store, engine_settings):
    # Retry-After in seconds, as an HTTP date, and one beyond a day (capped).
    in_two_hours = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    cases = {
        "/busy-seconds.xml": (429, "7200", timedelta(hours=2)),
        "/busy-date.xml": (429, in_two_hours, timedelta(hours=2)),
        "/down.xml": (503, "864000", timedelta(hours=24)),
    }
    feeds = [
        FeedSource(feed_server.add(path, Response(status=code, headers={"Retry-After": value})))
        for path, (code, value, _) in cases.items()
    ]
    summary = cycle(store, engine_settings, *feeds)
    assert [o.status for o in summary.outcomes] == ["http_429", "http_429", "http_503"]
    for feed, (_, _, expected) in zip(feeds, cases.values(), strict=True):
        saved = state(store, feed.url)
        wait = saved.next_poll - saved.last_polled
        assert expected - timedelta(seconds=5) <= wait <= expected, feed.url
        assert saved.failures == 1


def test_5xx_and_timeouts_back_off_and_a_success_resets(feed_server, store, engine_settings):
    script = iter(["500", "502", "slow", "ok"])
    released = threading.Event()

    def route(req: Request) -> Response:
        step = next(script)
        if step == "slow":
            released.wait(30)  # answers only after the client has given up
        if step in ("500", "502"):
            return Response(b"oops", status=int(step))
        return Response(make_feed("flaky"))

    url = feed_server.add("/flaky.xml", route)
    feed = FeedSource(url)
    waits = []
    # Only the slow step gets a short deadline: a loaded machine must not time out a 500.
    for expected, deadline in ((1, 30.0), (2, 30.0), (3, 0.5)):
        summary = cycle(store, engine_settings, feed, total_timeout=deadline)
        saved = state(store, url)
        assert saved.failures == expected
        waits.append(saved.next_poll - saved.last_polled)
    released.set()
    assert summary.outcomes[0].status == "timeout"
    assert waits[0] < waits[1] < waits[2] <= timedelta(hours=24)
    assert timedelta(minutes=3) < waits[0] < timedelta(minutes=7)
    summary = cycle(store, engine_settings, feed)
    saved = state(store, url)
    assert summary.outcomes[0].status == "ok"
    assert (saved.failures, saved.last_error) == (0, None)
    assert saved.last_success == saved.last_polled


def test_parse_errors_back_off_and_keep_no_hash(feed_server, store, engine_settings):
    url = feed_server.add("/junk.xml", Response(b"<html>an error page", content_type="text/html"))
    summary = cycle(store, engine_settings, FeedSource(url))
    saved = state(store, url)
    assert summary.outcomes[0].status == "parse_error"
    assert saved.failures == 1 and saved.body_hash is None and saved.last_error


def test_schedule_honours_ttl_and_the_per_feed_interval(feed_server, store, engine_settings):
    ttl = feed_server.add("/ttl.xml", Response(make_feed("ttl", channel="<ttl>180</ttl>")))
    fixed = feed_server.add("/fixed.xml", Response(make_feed("fixed")))
    cached = feed_server.add(
        "/cached.xml", Response(make_feed("cached"), headers={"Cache-Control": "max-age=14400"})
    )
    cycle(
        store, engine_settings, FeedSource(ttl), FeedSource(fixed, interval=600), FeedSource(cached)
    )
    states = store.feed_states([ttl, fixed, cached])
    gap = {u: s.next_poll - s.last_polled for u, s in states.items()}
    assert gap[ttl] == timedelta(hours=3)
    assert gap[fixed] == timedelta(seconds=600)
    assert gap[cached] == timedelta(hours=4)
    # Without hints, a feed publishing every 30 minutes is polled well before an hour.
    fresh = feed_server.add("/fresh.xml", Response(make_feed("fresh", count=10)))
    cycle(store, engine_settings, FeedSource(fresh))
    fresh_state = state(store, fresh)
    assert (
        timedelta(minutes=5) <= fresh_state.next_poll - fresh_state.last_polled < timedelta(hours=1)
    )


def test_only_due_feeds_are_selected(feed_server, store, engine_settings):
    url = feed_server.add("/due.xml", Response(make_feed("due")))
    feed = FeedSource(url)
    assert due_feeds([feed], {}, datetime.now(UTC)) == [feed]
    cycle(store, engine_settings, feed)
    saved = state(store, url)
    assert due_feeds([feed], {url: saved}, datetime.now(UTC)) == []
    assert due_feeds([feed], {url: saved}, saved.next_poll) == [feed]


def test_state_is_saved_only_after_indexing(feed_server, store, engine_settings, monkeypatch):
    url = feed_server.add("/crash.xml", Response(make_feed("crash")))

    def broken(*args, **kwargs):
        raise RuntimeError("engine went away")

    monkeypatch.setattr(pipeline.run, "write_claimed", broken)
    with pytest.raises(RuntimeError):
        cycle(store, engine_settings, FeedSource(url))
    assert store.feed_states([url]) == {}


def test_one_broken_feed_does_not_stop_the_others(feed_server, store, engine_settings):
    good = feed_server.add("/good.xml", Response(make_feed("good")))
    summary = cycle(
        store,
        engine_settings,
        FeedSource("http://10.0.0.1/feed.xml"),
        FeedSource(feed_server.url("/missing.xml")),
        FeedSource(good),
    )
    assert [o.status for o in summary.outcomes] == ["blocked", "http_404", "ok"]
    assert summary.stories_new == 3


def test_every_state_read_sees_the_states_just_saved(store: Store):
    """sync_feeds and the registered-feed list read every state, then write them back: a
    state saved a moment ago but not yet made searchable must not read as missing (that
    read made sync re-add it as new, wiping its ETag, failures and schedule)."""
    store.client.indices.put_settings(index=store.feeds, settings={"refresh_interval": "-1"})
    saved = [
        FeedState(url=f"http://127.0.0.1:9/feed/{n}", etag=f'"{n}"', failures=n) for n in range(3)
    ]
    store.save_feed_states(saved)
    read = {s.url: s for s in store.all_feed_states()}
    assert set(read) == {s.url for s in saved}
    assert [read[s.url].etag for s in saved] == ['"0"', '"1"', '"2"']
    assert [read[s.url].failures for s in saved] == [0, 1, 2]
