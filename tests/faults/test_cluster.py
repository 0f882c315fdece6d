"""A three-node Elasticsearch cluster (one replica per shard, as auto_expand_replicas gives)
loses a node in the middle of an ingest: SIGTERM, then SIGKILL. The run completes or fails
cleanly, the next run completes, and afterwards every story and every copy is there exactly
once and the feed state matches what was indexed."""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import EngineSettings
from pipeline.index.security import SecuritySetup
from pipeline.index.security import apply as apply_security
from pipeline.index.store import Store, make_client
from pipeline.models import FeedSource
from pipeline.text.urls import canonical_url
from tests.faults.farm import Farm, Item, build_farm, feeds_yaml, rss
from tests.support.cluster import EngineCluster
from tests.support.engine import LocalEngine, engine_env, remove_writer, stored_urls
from tests.support.faultproxy import FaultProxy, ProxyRequest, bulk_to
from tests.support.feedserver import FeedServer, Response

pytestmark = pytest.mark.engine

FEEDS, PER_FEED = 6, 5


@pytest.fixture(scope="module")
def cluster() -> Iterator[EngineCluster]:
    nodes = EngineCluster(
        3, range(9221, 9224), range(9331, 9334), password=secrets.token_urlsafe(16)
    )
    try:
        nodes.start()
        nodes.wait_for_green()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture()
def writer(cluster: EngineCluster, index_prefix: str) -> Iterator[EngineSettings]:
    setup = SecuritySetup(
        prefix=index_prefix, user=f"{index_prefix}writer", password=secrets.token_urlsafe(16)
    )
    with make_client(cluster.admin) as admin:
        apply_security(admin, setup)
        writer = dataclasses.replace(
            cluster.admin,
            username=setup.user,
            password=setup.password,
            index_prefix=index_prefix,
        )
        yield writer
        remove_writer(admin, writer)


def _with_copies(server: FeedServer, farm: Farm) -> tuple[Farm, set[str]]:
    """The farm plus a feed that syndicates the first feed's stories under its own links."""
    originals = farm.items[farm.feeds[0].url]
    copies = [
        Item(f"{server.url('')}/syndicated/{n}", f"Syndicated: {i.title}", i.body)
        for n, i in enumerate(originals)
    ]
    url = server.add("/syndicated.xml", Response(rss(copies, "syndicator")))
    feeds = [*farm.feeds, FeedSource(url=url, name="syndicator", full_text="never")]
    items = {**farm.items, url: copies}
    return Farm(server, feeds, items), {canonical_url(i.link) for i in copies}


def _ingest(feeds_file: Path, engine: EngineSettings) -> subprocess.CompletedProcess:
    env = {**os.environ, **engine_env(engine)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--once", "--feeds", str(feeds_file), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_a_node_lost_mid_ingest_loses_and_doubles_nothing(
    reliability, cluster: EngineCluster, writer, feed_server, tmp_path, signal_name
):
    farm, copy_urls = _with_copies(
        feed_server, build_farm(feed_server, count=FEEDS, per_feed=PER_FEED, delay=0.2)
    )
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds))
    # The node the cluster depends on most: the elected master.
    victim: LocalEngine = cluster.master()
    lost_at: list[float] = []
    gone = threading.Event()

    def lose_the_node(_request: ProxyRequest) -> None:
        if gone.is_set():
            return
        gone.set()
        lost_at.append(time.monotonic())
        victim.stop() if signal_name == "SIGTERM" else victim.kill()

    proxies = [FaultProxy(node.url).start() for node in cluster.nodes]
    try:
        for proxy in proxies:
            proxy.on(bulk_to(f"{writer.index_prefix}articles"), lose_the_node)
        through_proxies = dataclasses.replace(writer, url=",".join(p.url for p in proxies))
        first = _ingest(feeds_file, through_proxies)
    finally:
        for proxy in proxies:
            proxy.stop()
    reliability.fault(f"cluster node {signal_name} mid-ingest")
    assert gone.is_set(), "the node was never lost: no stories bulk reached the cluster"
    # The client went on sending to the lost node, found it gone, and went elsewhere.
    victim_proxy = proxies[cluster.nodes.index(victim)]
    assert any(seen.outcome == "upstream_down" for seen in victim_proxy.seen)
    # Completed, or failed cleanly: exit 1 with the engine's error, never a crash.
    assert first.returncode in (0, 1), first.stderr[-3000:]
    if first.returncode == 1:
        assert "search engine error" in first.stderr or "rejected" in first.stderr

    restarted = time.monotonic()
    victim.start()
    recovery = cluster.wait_for_green()
    reliability.recovered(
        f"cluster node {signal_name} mid-ingest",
        f"first run exit {first.returncode}; node back and cluster green "
        f"{time.monotonic() - restarted:.1f} s after restart ({recovery:.1f} s waiting for "
        f"green), {restarted - lost_at[0]:.1f} s after the loss",
    )

    second = _ingest(feeds_file, writer)
    assert second.returncode == 0, second.stderr[-3000:]
    client = make_client(writer)
    store = Store(client, writer.index_prefix)
    found = stored_urls(store)
    lost, duplicated = reliability.check_stories(farm.expected_urls, found)
    assert (lost, duplicated) == (0, 0), f"lost {lost}, duplicated {duplicated}"
    assert set(found) == farm.expected_urls
    # The syndicated feed's entries are copies of the first feed's stories, not stories.
    assert store.count_stories() == len(farm.expected_urls) - len(copy_urls)
    states = store.feed_states(f.url for f in farm.feeds)
    assert set(states) == {f.url for f in farm.feeds}
    for feed in farm.feeds:
        # Saved once its stories were indexed: by the first run, or else by the second.
        assert states[feed.url].status in ("ok", "unchanged"), states[feed.url]
        assert states[feed.url].body_hash
        assert states[feed.url].entries_seen == len(farm.items[feed.url])
    client.close()
