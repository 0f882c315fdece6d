"""Faults against the real engine: each is injected, the run reports it, feed state does not
run ahead of what was indexed, and the next run ends with every story exactly once."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import ApiError

import pipeline.index.indices as store_module
from pipeline.config import EngineSettings
from pipeline.index.store import Store, make_client
from pipeline.models import FeedSource
from pipeline.text.urls import canonical_url
from tests.faults.conftest import stored_documents
from tests.faults.farm import build_farm, cycle, feeds_yaml, items_for, rss
from tests.support.engine import LocalEngine, engine_env, stored_urls
from tests.support.faultproxy import FaultProxy, ProxyRequest, bulk_to, path_contains
from tests.support.feedserver import Response


@pytest.fixture()
def proxy(engine_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(engine_url) as running:
        yield running


@pytest.fixture()
def proxied_store(
    proxy: FaultProxy, store: Store, engine_settings: EngineSettings
) -> Iterator[Store]:
    """The test's indices (set up directly), reached through the fault proxy."""
    client = make_client(dataclasses.replace(engine_settings, url=proxy.url))
    yield Store(client, store.feeds.removesuffix("feeds"))
    client.close()


def assert_exactly_once(reliability, store: Store, expected: set[str]) -> None:
    found = stored_urls(store)
    lost, duplicated = reliability.check_stories(expected, found)
    assert (lost, duplicated) == (0, 0), f"lost {lost}, duplicated {duplicated}"
    assert store.count_stories() == len(expected)


def assert_no_state(store: Store, urls: list[str]) -> None:
    store.client.indices.refresh(index=store.feeds)
    assert store.feed_states(urls) == {}, "feed state saved although the stories were not"


def assert_state_saved(store: Store, urls: list[str]) -> None:
    states = store.feed_states(urls)
    assert set(states) == set(urls)
    assert all(s.body_hash and s.status == "ok" for s in states.values())


def test_engine_answering_429_is_retried_with_backoff(
    reliability, proxy, proxied_store, store, feed_server
):
    farm = build_farm(feed_server, count=2, per_feed=3)
    proxy.answer(path_contains("/_bulk"), 429, times=3)
    summary = cycle(farm.feeds, proxied_store)
    reliability.fault("engine 429", proxy.injected)
    assert proxy.injected == 3
    assert summary.feeds_failed == 0
    assert_exactly_once(reliability, store, farm.expected_urls)
    assert_state_saved(store, [f.url for f in farm.feeds])


def test_engine_429_beyond_the_retries_fails_the_run_and_keeps_state(
    reliability, proxy, proxied_store, store, feed_server, monkeypatch
):
    monkeypatch.setattr(store_module, "BULK_RETRIES", 2)
    farm = build_farm(feed_server, count=2, per_feed=3)
    rule = proxy.answer(bulk_to(store.articles), 429, times=100)
    with pytest.raises(ApiError) as failed:
        cycle(farm.feeds, proxied_store)
    reliability.fault("engine 429", proxy.injected)
    assert failed.value.status_code == 429
    # The first try and two retries, then the run gives up: no retry storm.
    assert rule.used == 3
    assert_no_state(store, [f.url for f in farm.feeds])
    proxy.clear()
    cycle(farm.feeds, proxied_store)
    assert_exactly_once(reliability, store, farm.expected_urls)
    assert_state_saved(store, [f.url for f in farm.feeds])


def test_connection_dropped_after_the_engine_wrote_a_bulk(
    reliability, proxy, proxied_store, store, feed_server
):
    """The engine indexed the stories but the answer never came: the retry must not double."""
    farm = build_farm(feed_server, count=2, per_feed=3)
    rule = proxy.drop(bulk_to(store.articles), after_forward=True)
    summary = cycle(farm.feeds, proxied_store)
    reliability.fault("connection dropped mid-bulk", proxy.injected)
    assert rule.used == 1
    assert summary.feeds_failed == 0
    assert_exactly_once(reliability, store, farm.expected_urls)
    # A second poll of unchanged feeds adds nothing.
    cycle(farm.feeds, proxied_store)
    assert_exactly_once(reliability, store, farm.expected_urls)


def test_one_document_rejected_by_the_mapping_goes_to_dead_letters(
    reliability, store, feed_server, caplog
):
    base = feed_server.url("")
    items = items_for(base, "mixed", 4)
    # A 40 kB image URL is valid XML and a valid URL, but no keyword doc value takes it.
    huge_image = f"{base}/img/{'x' * 40_000}.jpg"
    bad = items[2]
    items[2] = dataclasses.replace(bad, extra=f'<media:content url="{huge_image}" medium="image"/>')
    feed_server.add("/mixed.xml", Response(rss(items)))
    other = build_farm(feed_server, count=1, per_feed=2)
    feeds = [FeedSource(feed_server.url("/mixed.xml"), full_text="never"), *other.feeds]
    with caplog.at_level(logging.ERROR, logger="pipeline.index.indices"):
        summary = cycle(feeds, store)
    reliability.fault("document rejected by mapping")
    assert summary.feeds_failed == 0
    letters = stored_documents(store, store.dead_letters)
    assert [d["url"] for d in letters] == [canonical_url(bad.link)]
    assert letters[0]["status"] == 400 and "image" in letters[0]["error"]
    assert huge_image in letters[0]["document"]  # the whole document, ready to replay
    assert any("dead-letters" in r.getMessage() for r in caplog.records)
    expected = {canonical_url(i.link) for i in items} | other.expected_urls
    found = stored_urls(store)
    # Nothing lost: every article is a story, or a dead letter with its error.
    lost, duplicated = reliability.check_stories(expected, found + [d["url"] for d in letters])
    assert (lost, duplicated) == (0, 0)
    assert canonical_url(bad.link) not in found


def test_feed_server_dropping_connections_fails_only_that_feed(reliability, store, feed_server):
    farm = build_farm(feed_server, count=2, per_feed=3)
    broken_url = farm.feeds[1].url
    whole = rss(farm.items[broken_url])
    cut = {"on": True}

    def dropping(_request: object) -> Response:
        if cut["on"]:
            # Promise the whole body, send a third of it, hang up.
            return Response(
                iter([whole[: len(whole) // 3]]), headers={"Content-Length": str(len(whole))}
            )
        return Response(whole)

    feed_server.add("/feed1.xml", dropping)
    first = cycle(farm.feeds, store)
    reliability.fault("feed server dropped connection")
    failed = {o.url: o for o in first.outcomes if not o.ok}
    assert set(failed) == {broken_url}
    assert failed[broken_url].status == "connection"
    state = store.feed_states([broken_url])[broken_url]
    assert state.failures == 1 and state.body_hash is None and state.last_error
    good = {canonical_url(i.link) for i in farm.items[farm.feeds[0].url]}
    assert set(stored_urls(store)) == good
    cut["on"] = False
    second = cycle(farm.feeds, store)
    assert second.feeds_failed == 0
    assert_exactly_once(reliability, store, farm.expected_urls)


def _cli(feeds_file: Path, engine: EngineSettings) -> subprocess.Popen:
    env = {**os.environ, **engine_env(engine)}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--once", "--feeds", str(feeds_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "kill_point",
    ["dedup keys bulk in flight", "stories written, keys and feed state not yet"],
)
def test_ingest_killed_mid_batch(
    reliability, proxy, store, engine_settings, feed_server, tmp_path, kill_point
):
    farm = build_farm(feed_server, count=3, per_feed=3, delay=0.3)
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds))
    running: dict[str, subprocess.Popen] = {}

    def kill(_request: ProxyRequest) -> None:
        running["proc"].send_signal(signal.SIGKILL)
        running["proc"].wait(timeout=30)

    if kill_point == "dedup keys bulk in flight":
        proxy.on(bulk_to(store.dedup_keys), kill)
    else:
        proxy.on(bulk_to(store.articles), kill, after_forward=True)
    running["proc"] = _cli(feeds_file, dataclasses.replace(engine_settings, url=proxy.url))
    _, stderr = running["proc"].communicate(timeout=180)
    reliability.fault("ingest SIGKILL mid-batch")
    assert running["proc"].returncode == -signal.SIGKILL, stderr
    assert_no_state(store, [f.url for f in farm.feeds])
    if kill_point != "dedup keys bulk in flight":
        store.client.indices.refresh(index=store.articles)
        assert store.count_stories() == len(farm.expected_urls)  # written, keys not
    proxy.clear()
    summary = cycle(farm.feeds, store)
    assert summary.feeds_failed == 0
    assert_exactly_once(reliability, store, farm.expected_urls)
    assert_state_saved(store, [f.url for f in farm.feeds])


def test_engine_stopped_mid_bulk_then_restarted(
    reliability, spare_engine: LocalEngine, index_prefix, feed_server, tmp_path
):
    client = make_client(dataclasses.replace(spare_engine.admin, index_prefix=index_prefix))
    store = Store(client, index_prefix)
    store.setup()
    farm = build_farm(feed_server, count=2, per_feed=4)
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds))
    with FaultProxy(spare_engine.url) as proxy:
        proxy.on(bulk_to(store.articles), lambda _request: spare_engine.stop())
        engine = dataclasses.replace(spare_engine.admin, url=proxy.url, index_prefix=index_prefix)
        cli = _cli(feeds_file, engine)
        stdout, stderr = cli.communicate(timeout=180)
    reliability.fault("engine stopped mid-bulk")
    # The run says so and fails; the stories bulk never reached the engine.
    assert cli.returncode == 1, stderr
    assert "search engine error" in stderr
    assert any(s.outcome == "upstream_down" for s in proxy.seen)
    spare_engine.start()
    assert_no_state(store, [f.url for f in farm.feeds])
    summary = cycle(farm.feeds, store)
    assert summary.feeds_failed == 0
    assert_exactly_once(reliability, store, farm.expected_urls)
    assert_state_saved(store, [f.url for f in farm.feeds])
    names = list(client.indices.get(index=f"{index_prefix}*"))
    client.indices.delete(index=names)
    store.drop_templates()
    client.close()
