"""The pure parts of the task glue: batching by expected work under the map limit, a batch's
feed lookup, the run summary."""

from __future__ import annotations

import pytest
from wirefeed_airflow import tasks

from pipeline.config import ConfigError
from pipeline.models import FeedState


def test_batches_keep_the_size_when_under_the_map_limit():
    urls = [f"https://f{i}.example/feed" for i in range(7)]
    assert tasks.batches(urls, 3, 1024) == [urls[0:3], urls[3:6], urls[6:7]]
    assert tasks.batches([], 3, 1024) == []


def test_batches_grow_so_the_mapped_tasks_never_exceed_the_map_limit():
    urls = [f"https://f{i}.example/feed" for i in range(10_001)]
    planned = tasks.batches(urls, 5, 1024)
    assert len(planned) <= 1024
    assert [u for batch in planned for u in batch] == urls


def test_a_feed_that_answered_304_last_time_is_expected_to_be_cheap():
    quiet = [FeedState(url="u", status="not_modified"), FeedState(url="u", status="unchanged")]
    busy = [
        None,
        FeedState(url="u"),
        FeedState(url="u", status="ok"),
        FeedState(url="u", status="degraded"),
        FeedState(url="u", status="error", failures=2),
    ]
    assert {tasks.expected_work(s) for s in quiet} == {tasks.CHEAP_WORK}
    assert {tasks.expected_work(s) for s in busy} == {tasks.FULL_WORK}
    assert tasks.CHEAP_WORK < tasks.FULL_WORK


def test_batches_are_sized_by_expected_work():
    cheap, full = tasks.CHEAP_WORK, tasks.FULL_WORK
    per_feed = full // cheap
    # Two feeds that bring entries, then feeds that answer 304: a batch of 2 holds both
    # busy ones, or per_feed x 2 quiet ones.
    urls = [f"https://f{i}.example/feed" for i in range(2 + 4 * per_feed)]
    work = [full, full] + [cheap] * (4 * per_feed)
    planned = tasks.batches(urls, 2, 1024, work)
    assert planned == [urls[0:2], urls[2 : 2 + 2 * per_feed], urls[2 + 2 * per_feed :]]
    # A mix fills a batch up to the same amount of work.
    mixed = tasks.batches(urls[1:], 2, 1024, work[1:])
    assert [len(b) for b in mixed] == [1 + per_feed, 2 * per_feed, per_feed]


def test_batches_by_work_still_stay_under_the_map_limit():
    urls = [f"https://f{i}.example/feed" for i in range(10_001)]
    work = [tasks.FULL_WORK if i % 20 == 0 else tasks.CHEAP_WORK for i in range(len(urls))]
    planned = tasks.batches(urls, 1, 16, work)
    assert len(planned) <= 16
    assert [u for batch in planned for u in batch] == urls
    # Every batch but the last as much work as the others, give or take one busy feed.
    cost = dict(zip(urls, work, strict=True))
    loads = [sum(cost[u] for u in batch) for batch in planned[:-1]]
    assert max(loads) - min(loads) <= tasks.FULL_WORK


class _Store:
    """Feed states by URL, noting which were asked for."""

    def __init__(self, states: list[FeedState]) -> None:
        self.states = {s.url: s for s in states}
        self.asked: list[list[str]] = []

    def feed_states(self, urls):
        urls = list(urls)
        self.asked.append(urls)
        return {u: self.states[u] for u in urls if u in self.states}


def test_a_batch_finds_its_feeds_reading_only_its_own_states(tmp_path, monkeypatch):
    listed = [f"https://f{i}.example/feed" for i in range(3)]
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("".join(f"- url: {u}\n  name: listed {n}\n" for n, u in enumerate(listed)))
    monkeypatch.setenv("WIREFEED_FEEDS_FILE", str(feeds))
    monkeypatch.delenv("WIREFEED_OPML_FILES", raising=False)
    registered = FeedState(url="https://reg.example/feed", name="registered")
    store = _Store([registered, FeedState(url="https://off.example/feed", enabled=False)])
    batch = [listed[1], registered.url, "https://off.example/feed"]
    found = tasks.batch_feeds(store, batch)
    assert [(f.url, f.name) for f in found] == [
        (listed[1], "listed 1"),
        (registered.url, "registered"),
    ]
    assert store.asked == [batch]


def test_summary_adds_batches_and_always_names_the_core_counters(caplog):
    caplog.set_level("INFO", logger=tasks.log.name)
    total = tasks.summarize(
        [
            {"feeds_polled": 2, "feeds_failed": 1, "stories_new": 5, "entries_seen": 9},
            {"feeds_polled": 1, "feeds_failed": 0, "stories_new": 0, "entries_seen": 3},
        ]
    )
    assert total == {
        "feeds_polled": 3,
        "feeds_failed": 1,
        "stories_new": 5,
        "copies_new": 0,
        "entities": 0,
        "entries_seen": 12,
    }
    assert "ingest run summary: feeds_polled=3, feeds_failed=1, stories_new=5" in caplog.text


def test_reindex_names_only_known_aliases():
    from pipeline.index.store import Store

    store = Store(client=None, prefix="p-")
    assert tasks.alias_for(store, "feed-health") == "p-feed-health"
    with pytest.raises(ConfigError, match="unknown index"):
        tasks.alias_for(store, "everything")
