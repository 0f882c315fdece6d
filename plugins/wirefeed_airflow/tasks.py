"""Task callables: thin glue between Airflow (hook, configuration, XCom) and `pipeline`.

XCom carries feed URLs, index names and counts only, never article bodies. Every callable
builds its client when the task runs, never when the scheduler parses a DAG file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from airflow.sdk.configuration import conf

from pipeline.config import ConfigError, Settings, env_int, env_number
from pipeline.entities.ner import default_enricher
from pipeline.entities.reenrich import reenrich
from pipeline.feeds.health import HealthPolicy, assess_all, counts
from pipeline.feeds.poll import due_feeds
from pipeline.feeds.sources import load_registry, with_registered
from pipeline.feeds.sync import plan_sync
from pipeline.index.store import Store, StoreError
from pipeline.models import DEGRADED, FeedSource, FeedState
from pipeline.run import run_cycle
from wirefeed_airflow.hooks import WirefeedElasticsearchHook

log = logging.getLogger(__name__)

DEFAULT_FEEDS_FILE = Path(__file__).resolve().parents[2] / "feeds.yaml"
DEFAULT_BATCH_SIZE = 50
# Always in the run summary, zero when a run saw none; other counters are added as found.
SUMMARY_KEYS = ("feeds_polled", "feeds_failed", "stories_new", "copies_new", "entities")


def feeds_file() -> Path:
    return Path(os.environ.get("WIREFEED_FEEDS_FILE") or DEFAULT_FEEDS_FILE)


def opml_files() -> list[Path]:
    raw = os.environ.get("WIREFEED_OPML_FILES", "")
    return [Path(p.strip()) for p in raw.split(",") if p.strip()]


def registry_sources() -> list[FeedSource]:
    return load_registry(feeds_file(), opml_files())


def store_from_hook(conn_id: str) -> Store:
    hook = WirefeedElasticsearchHook(conn_id)
    return Store(hook.get_conn(), hook.index_prefix)


# -- ingest_feeds ---------------------------------------------------------------------------

# What a feed is expected to cost an ingest task, in units of the cheapest poll: one that
# answered 304 (or sent the body it sent last time) comes back the same way most of the
# time, a conditional GET and a state update; any other feed (new, changed last time,
# failing) is expected to bring entries, each a page to fetch, extract, tag and index.
CHEAP_WORK = 1
FULL_WORK = 20
# Statuses of a last poll that brought nothing new.
QUIET = ("not_modified", "unchanged")


def expected_work(state: FeedState | None) -> int:
    if state is not None and state.status in QUIET:
        return CHEAP_WORK
    return FULL_WORK


def batches(
    urls: Sequence[str], size: int, map_limit: int, work: Sequence[int] | None = None
) -> list[list[str]]:
    """Consecutive runs of `urls` whose expected work (`work`, one per URL; FULL_WORK each
    if not given) adds up to at most `size` feeds' worth (FULL_WORK each): `size` feeds
    that bring entries, or FULL_WORK / CHEAP_WORK times as many that answer 304. Larger
    batches where `size` would need more than `map_limit` mapped task instances, which
    Airflow refuses to create."""
    work = list(work) if work is not None else [FULL_WORK] * len(urls)
    budget = max(size * FULL_WORK, -(-sum(work) // map_limit), max(work, default=1))
    while True:
        planned = _pack(urls, work, budget)
        if len(planned) <= map_limit:
            return planned
        budget += -(-budget // map_limit)


def _pack(urls: Sequence[str], work: Sequence[int], budget: int) -> list[list[str]]:
    planned: list[list[str]] = []
    load = budget  # full: the first URL opens a batch
    for url, cost in zip(urls, work, strict=True):
        if load + cost > budget:
            planned.append([])
            load = 0
        planned[-1].append(url)
        load += cost
    return planned


def plan_batches(conn_id: str) -> list[list[str]]:
    store = store_from_hook(conn_id)
    store.setup()
    # What ingest polls: the file and OPML feeds, plus those registered in the index; one
    # read of every state serves both that and the due check.
    states = {state.url: state for state in store.all_feed_states()}
    feeds = with_registered(registry_sources(), states.values())
    # The poller's own rule: enabled in the file, next poll reached, not gone (HTTP 410).
    due = due_feeds(feeds, states, datetime.now(UTC))
    limit = conf.getint("core", "max_map_length")
    size = env_int(os.environ, "WIREFEED_BATCH_SIZE", DEFAULT_BATCH_SIZE)
    work = [expected_work(states.get(f.url)) for f in due]
    planned = batches([f.url for f in due], size, limit, work)
    log.info(
        "%d feeds registered, %d due (%d that answered 304 last time), in %d batches "
        "(map limit %d)",
        len(feeds),
        len(due),
        work.count(CHEAP_WORK),
        len(planned),
        limit,
    )
    return planned


def batch_feeds(store: Store, urls: Sequence[str]) -> list[FeedSource]:
    """The registry's entries for `urls`: from the file and OPML files, or registered in the
    index; only these feeds' states are read, not every feed's."""
    wanted = set(urls)
    registered = with_registered(registry_sources(), store.feed_states(urls).values())
    return [f for f in registered if f.url in wanted]


def ingest_batch(conn_id: str, urls: list[str]) -> dict[str, int]:
    """The batch's counts, `lookup_ms`, how long finding its feeds took, and `pipeline_ms`,
    how long run_cycle took (the rest of the task's time is Airflow's)."""
    started = time.perf_counter()
    store = store_from_hook(conn_id)
    feeds = batch_feeds(store, urls)
    looked_up = time.perf_counter()
    summary = run_cycle(feeds, store, Settings.from_env())
    pipeline_ms = round((time.perf_counter() - looked_up) * 1000)
    lookup_ms = round((looked_up - started) * 1000)
    for outcome in summary.outcomes:
        if not outcome.ok:
            log.warning("feed failed: %s: %s", outcome.url, outcome.error)
        elif outcome.status == DEGRADED:
            log.warning("feed degraded: %s: %s", outcome.url, outcome.error)
    tallies = {k: v for k, v in summary.as_dict().items() if isinstance(v, int)}
    return {**tallies, "lookup_ms": lookup_ms, "pipeline_ms": pipeline_ms}


def summarize(results: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(SUMMARY_KEYS, 0)
    for result in results:
        for key, value in result.items():
            total[key] = total.get(key, 0) + value
    log.info("ingest run summary: %s", ", ".join(f"{k}={v}" for k, v in total.items()))
    return total


# -- sync_feeds -----------------------------------------------------------------------------


def sync_feeds(conn_id: str) -> dict[str, int]:
    store = store_from_hook(conn_id)
    store.setup()
    plan = plan_sync(registry_sources(), store.all_feed_states())
    store.save_feed_states(plan.writes())
    result = plan.counts()
    sources = ", ".join(str(p) for p in [feeds_file(), *opml_files()])
    log.info("feeds sync from %s: %s", sources, result)
    return result


# -- reindex --------------------------------------------------------------------------------


def alias_for(store: Store, name: str) -> str:
    aliases = {
        "articles": store.articles,
        "feeds": store.feeds,
        "dedup-keys": store.dedup_keys,
        "feed-health": store.feed_health,
    }
    if name not in aliases:
        raise ConfigError(f"reindex: unknown index {name!r}; one of {', '.join(aliases)}")
    return aliases[name]


def reindex_copy(conn_id: str, name: str) -> dict[str, str | int]:
    """Build the next version of `name` and copy every document into it."""
    store = store_from_hook(conn_id)
    alias = alias_for(store, name)
    source, target = store.create_next_version(alias)
    copied = store.copy_index(source, target)
    if not copied.complete:
        raise StoreError(
            f"copy {source} -> {target} incomplete: {copied.target_count} of "
            f"{copied.source_count} documents; failures: {copied.failures[:3]}"
        )
    log.info("copied %s -> %s: %d documents", source, target, copied.target_count)
    return {"alias": alias, "source": source, "target": target, "copied": copied.target_count}


def reindex_swap(conn_id: str, plan: dict[str, str | int]) -> dict[str, str | int]:
    """Point the alias at the new version, then copy what reached the old one meanwhile."""
    store = store_from_hook(conn_id)
    alias, source, target = str(plan["alias"]), str(plan["source"]), str(plan["target"])
    if store.alias_indices(alias) != [target]:
        store.swap_alias(alias, source, target)
    caught_up = store.copy_index(source, target)
    if not caught_up.complete:
        raise StoreError(
            f"after the swap {target} lacks documents of {source}: "
            f"{caught_up.target_count} < {caught_up.source_count}; {source} is kept"
        )
    log.info("%s -> %s; %d late documents copied", alias, target, caught_up.created)
    return {**plan, "late": caught_up.created, "documents": caught_up.target_count}


def reindex_retire(conn_id: str, result: dict[str, str | int], delete_old: bool) -> str:
    store = store_from_hook(conn_id)
    alias, source = str(result["alias"]), str(result["source"])
    if not delete_old:
        log.info("kept %s; delete it once %s is checked", source, result["target"])
        return f"kept {source}"
    store.drop_version(alias, source)
    log.info("deleted %s", source)
    return f"deleted {source}"


# -- feed_health ----------------------------------------------------------------------------


def feed_health(conn_id: str) -> dict[str, int]:
    store = store_from_hook(conn_id)
    store.setup()
    now = datetime.now(UTC)
    defaults = HealthPolicy()
    policy = HealthPolicy(
        failing_days=env_number(os.environ, "WIREFEED_HEALTH_FAILING_DAYS", defaults.failing_days),
        silent_days=env_number(os.environ, "WIREFEED_HEALTH_SILENT_DAYS", defaults.silent_days),
    )
    states = store.all_feed_states()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    verdicts = assess_all(
        states,
        store.latest_feed_health(before=start_of_day),
        store.last_story_times([s.url for s in states]),
        now,
        policy,
    )
    store.save_feed_health(verdicts)
    for verdict in verdicts:
        if verdict.flags:
            log.warning("feed %s: %s", verdict.url, ", ".join(verdict.flags))
    result = counts(verdicts)
    log.info("feed health: %s", result)
    return result


# -- reenrich_stories -----------------------------------------------------------------------


def reenrich_stories(conn_id: str, everything: bool, batch_size: int) -> dict[str, int | str]:
    """Re-run enrichment on stored stories in place (no re-fetch): the outdated ones, or all."""
    store = store_from_hook(conn_id)
    summary = reenrich(store, default_enricher(), everything=everything, batch_size=batch_size)
    log.info(
        "re-enriched %d stories to %s (%d without entities)",
        summary.stories,
        summary.version,
        summary.without_entities,
    )
    return {
        "version": summary.version,
        "stories": summary.stories,
        "without_entities": summary.without_entities,
    }
