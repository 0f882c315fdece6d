"""Task callables: thin glue between Airflow (hook, XCom) and `pipeline`.

XCom carries feed URLs and counts only, never article bodies.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pipeline.config import Settings
from pipeline.run import run_cycle
from pipeline.sources import load_feeds
from pipeline.store import Store
from wirefeed_airflow.hooks import WirefeedElasticsearchHook

log = logging.getLogger(__name__)

DEFAULT_FEEDS_FILE = Path(__file__).resolve().parents[2] / "feeds.yaml"
# Airflow's default [core] max_map_length; a batch list longer than this cannot be mapped.
MAX_MAP_LENGTH = 1024


def feeds_file() -> Path:
    return Path(os.environ.get("WIREFEED_FEEDS_FILE") or DEFAULT_FEEDS_FILE)


def store_from_hook(conn_id: str) -> Store:
    hook = WirefeedElasticsearchHook(conn_id)
    return Store(hook.get_conn(), hook.index_prefix)


def plan_batches(conn_id: str, batch_size: int) -> list[list[str]]:
    """Enabled feeds, in batches; the batch size grows if the map limit would be hit."""
    store = store_from_hook(conn_id)
    store.setup()
    urls = [f.url for f in load_feeds(feeds_file()) if f.enabled]
    size = max(batch_size, -(-len(urls) // MAX_MAP_LENGTH), 1)
    batches = [urls[i : i + size] for i in range(0, len(urls), size)]
    log.info("%d feeds in %d batches of up to %d", len(urls), len(batches), size)
    return batches


def ingest_batch(conn_id: str, urls: list[str]) -> dict[str, int]:
    wanted = set(urls)
    feeds = [f for f in load_feeds(feeds_file()) if f.url in wanted]
    summary = run_cycle(feeds, store_from_hook(conn_id), Settings.from_env())
    for outcome in summary.outcomes:
        if not outcome.ok:
            log.warning("feed failed: %s: %s", outcome.url, outcome.error)
    counts = summary.as_dict()
    counts.pop("failures")
    return counts


def summarize(results: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in results:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    log.info("ingest run summary: %s", ", ".join(f"{k}={v}" for k, v in sorted(total.items())))
    return total
