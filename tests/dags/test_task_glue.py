"""The pure parts of the task glue: batching under the map limit, the run summary."""

from __future__ import annotations

import pytest
from wirefeed_airflow import tasks

from pipeline.config import ConfigError


def test_batches_keep_the_size_when_under_the_map_limit():
    urls = [f"https://f{i}.example/feed" for i in range(7)]
    assert tasks.batches(urls, 3, 1024) == [urls[0:3], urls[3:6], urls[6:7]]
    assert tasks.batches([], 3, 1024) == []


def test_batches_grow_so_the_mapped_tasks_never_exceed_the_map_limit():
    urls = [f"https://f{i}.example/feed" for i in range(10_001)]
    planned = tasks.batches(urls, 5, 1024)
    assert len(planned) <= 1024
    assert [u for batch in planned for u in batch] == urls


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
    from pipeline.store import Store

    store = Store(client=None, prefix="p-")
    assert tasks.alias_for(store, "feed-health") == "p-feed-health"
    with pytest.raises(ConfigError, match="unknown index"):
        tasks.alias_for(store, "everything")
