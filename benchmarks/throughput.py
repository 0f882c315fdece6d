"""End-to-end throughput on a loopback feed farm, next to spaCy NER alone on both cores.

    .venv/bin/python benchmarks/throughput.py [--feeds 50] [--entries 20] [--copies 0.35]
    .venv/bin/python benchmarks/throughput.py --copies 0.0
    .venv/bin/python benchmarks/throughput.py --poll-cycle     # 10,000 feeds, 95% answer 304

Drives `pipeline.run.run_cycle`, the code the Airflow task `ingest_batch` runs, over the
farm's feeds in batches of --batch feeds (the DAG's default batch size), end to end into the
real engine (ELASTICSEARCH_URL, default http://127.0.0.1:9200) under a throwaway index
prefix that is deleted afterwards. Needs ../shared/corpora/articles/zyte-dev (read by path).

Prints:
- articles/s end to end (stories + copies indexed, over the wall time of the cycles, the
  worker pool's start included), time per stage, and peak memory (RSS of this process and
  its children: the extraction/NER workers; the farm's process is not counted);
- NER alone: the same article texts (title and body of every entry, copies included)
  through the same NER-only model with `nlp.pipe`, in two processes (both cores), model
  load excluded; measured in the same run, just before the pipeline, so that the ratio
  holds on a shared machine;
- the load average before and after.

--poll-cycle: the farm's feeds are polled once (states saved, nothing ingested: the
previous cycle), then the farm moves on one generation, in which the --unchanged share
(0.95) answers 304 and each other feed carries one new entry; the second cycle, full
ingest of what is new, is timed.

Profiling (not a project dependency): `.venv/bin/pip install py-spy`, then
    .venv/bin/py-spy record --subprocesses -o profile.svg -- \
        .venv/bin/python benchmarks/throughput.py
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from farm import CORPUS, Farm, FarmSpec, Plan, load_gold  # noqa: E402

import pipeline.run as run_module  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.enrich import EnrichSettings, compose, load_ner, ner_input  # noqa: E402
from pipeline.models import FeedSource, RunSummary  # noqa: E402
from pipeline.poll import poll_batch  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.workers import shutdown, worker_count  # noqa: E402

STAGES = (
    "poll_batch",
    "exact_dedup",
    "fill_full_text",
    "assign_stories",
    "enrich_articles",
    "write_assignment",
)


# -- NER alone -------------------------------------------------------------------------


def _ner_init(model: str) -> None:
    load_ner(model)(ner_input("Warm-up text about Paris and Angela Merkel."))


def _ner_chunk(model: str, texts: list[str], batch_size: int) -> int:
    nlp = load_ner(model)
    for _doc in nlp.pipe(texts, batch_size=batch_size):
        pass
    return len(texts)


def ner_alone(texts: list[str], processes: int) -> float:
    """Seconds for NER over `texts` in `processes` processes, model loads excluded."""
    settings = EnrichSettings.from_env()
    model = dict(settings.models)["en"]
    size = -(-len(texts) // (3 * processes))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    with ProcessPoolExecutor(
        processes, mp_context=get_context("spawn"), initializer=_ner_init, initargs=(model,)
    ) as pool:
        # Wait until every worker has loaded the model.
        list(pool.map(_ner_chunk, [model] * processes, [["warm"]] * processes, [1] * processes))
        started = time.perf_counter()
        work = functools.partial(_ner_chunk, model, batch_size=settings.batch_size)
        done = sum(pool.map(work, chunks))
        elapsed = time.perf_counter() - started
    assert done == len(texts)
    return elapsed


# -- measuring the pipeline ------------------------------------------------------------


class PeakMemory:
    """Peak RSS of this process plus its children, except the farm's, sampled 10x a second."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude
        self.peak = 0
        self.by_process: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        self.by_process["main"] = max(self.by_process["main"], total)
        for child in me.children(recursive=True):
            if child.pid in self.exclude:
                continue
            try:
                rss = child.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            key = f"child {child.pid}"
            self.by_process[key] = max(self.by_process[key], rss)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def timed_stages(store: Store) -> Counter[str]:
    """Wrap run_cycle's stage functions (in pipeline.run's namespace) to add up their time."""
    spent: Counter[str] = Counter()

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    for name in STAGES:
        setattr(run_module, name, timed(name, getattr(run_module, name)))
    store.feed_states = timed("feed_states", store.feed_states)  # type: ignore[method-assign]
    store.save_feed_states = timed("save_feed_states", store.save_feed_states)  # type: ignore[method-assign]
    return spent


def run_batches(
    feeds: list[FeedSource], store: Store, settings: Settings, batch: int
) -> tuple[float, RunSummary]:
    total = RunSummary()
    started = time.perf_counter()
    for i in range(0, len(feeds), batch):
        summary = run_module.run_cycle(feeds[i : i + batch], store, settings)
        total.merge(summary)
    return time.perf_counter() - started, total


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(
    label: str, elapsed: float, summary: RunSummary, spent: Counter[str], memory: PeakMemory
) -> float:
    articles = summary.stories_new + summary.copies_new
    statuses = Counter(o.status for o in summary.outcomes)
    rate = articles / elapsed if elapsed else 0.0
    print(f"\n== {label}")
    print(f"feeds polled      {summary.feeds_polled} ({dict(statuses)})")
    print(f"entries seen      {summary.entries_seen}")
    print(f"stories new       {summary.stories_new}")
    print(f"copies new        {summary.copies_new}")
    print(f"entities          {summary.entities}")
    print(f"wall time         {elapsed:.2f} s")
    print(f"end to end        {rate:.2f} articles/s")
    print("time per stage (s, share of the wall time):")
    for name, seconds in spent.most_common():
        print(f"  {name:18} {seconds:8.2f}  {seconds / elapsed:6.1%}")
    other = elapsed - sum(spent.values())
    print(f"  {'other':18} {other:8.2f}  {other / elapsed:6.1%}  (entries to articles, summary)")
    parts = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in memory.by_process.items())
    print(f"peak memory       {memory.peak / 2**20:.0f} MiB RSS, this process + its workers")
    print(f"  per process peak (MiB): {parts}")
    return rate


def engine_settings(prefix: str) -> Settings:
    env = dict(os.environ)
    env.setdefault("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    env["WIREFEED_INDEX_PREFIX"] = prefix
    env["WIREFEED_ONLY_NETWORKS"] = "127.0.0.0/8"
    return Settings.from_env(env)


def drop_indices(store: Store, prefix: str) -> None:
    names = list(store.client.indices.get(index=f"{prefix}*"))
    if names:
        store.client.indices.delete(index=names)
    store.drop_templates()


def throughput(args: argparse.Namespace, store: Store, settings: Settings) -> int:
    spec = FarmSpec(args.feeds, args.entries, args.copies, args.unchanged, args.hosts)
    items = Plan(spec, load_gold()).items(0)
    texts = [ner_input(compose(i.title, i.text)[0]) for i in items]
    words = sum(len(t.split()) for t in texts)
    copies = sum(1 for i in items if i.copy_of is not None)
    print(
        f"farm: {spec.feeds} feeds x {spec.entries} entries = {len(items)} articles "
        f"({copies} syndicated copies, {copies / len(items):.0%}), {words} words, "
        f"{spec.hosts} loopback hosts; batches of {args.batch} feeds; "
        f"{worker_count()} worker processes"
    )
    print(f"load average before: {load()}")
    ner_seconds = ner_alone(texts, args.ner_processes)
    ner_rate = len(texts) / ner_seconds
    print(
        f"NER alone ({args.ner_processes} processes): {ner_rate:.2f} articles/s, "
        f"{words / ner_seconds:.0f} words/s ({ner_seconds:.2f} s)"
    )
    with Farm(spec) as farm:
        feeds = [FeedSource(url) for url in farm.feed_urls()]
        spent = timed_stages(store)
        with PeakMemory({farm.process.pid}) as memory:
            elapsed, summary = run_batches(feeds, store, settings, args.batch)
            shutdown()
    rate = report("end to end (run_cycle)", elapsed, summary, spent, memory)
    print(f"load average after: {load()}")
    ratio = rate / ner_rate
    print(f"\nend to end / NER alone on both cores: {ratio:.2f}  (copies {args.copies:.0%})")
    return 0


def poll_cycle(args: argparse.Namespace, store: Store, settings: Settings) -> int:
    spec = FarmSpec(args.feeds, args.entries, args.copies, args.unchanged, args.hosts)
    print(
        f"farm: {spec.feeds} feeds x {spec.entries} entries, {spec.unchanged:.0%} unchanged, "
        f"{spec.hosts} loopback hosts; batches of {args.batch} feeds; "
        f"{worker_count()} worker processes"
    )
    print(f"load average before: {load()}")
    with Farm(spec) as farm:
        feeds = [FeedSource(url) for url in farm.feed_urls()]
        started = time.perf_counter()
        for i in range(0, len(feeds), 1000):
            chunk = feeds[i : i + 1000]
            store.save_feed_states(r.state for r in poll_batch(chunk, {}, settings.fetch))
        print(f"previous cycle (poll, save state): {time.perf_counter() - started:.2f} s")
        farm.set_generation(1)
        spent = timed_stages(store)
        with PeakMemory({farm.process.pid}) as memory:
            elapsed, summary = run_batches(feeds, store, settings, args.batch)
            shutdown()
    report("poll cycle (run_cycle)", elapsed, summary, spent, memory)
    print(f"load average after: {load()}")
    verdict = "ok" if elapsed <= 60 else "over"
    print(f"\npoll cycle over {spec.feeds} feeds: {elapsed:.1f} s (target <= 60 s: {verdict})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument("--copies", type=float, default=0.35)
    parser.add_argument("--unchanged", type=float)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--batch", type=int, help="feeds per run_cycle (default 50; 1000)")
    parser.add_argument("--ner-processes", type=int, default=2)
    parser.add_argument("--poll-cycle", action="store_true")
    args = parser.parse_args()
    defaults = (10_000, 1, 0.95, 1000) if args.poll_cycle else (50, 20, 0.0, 50)
    for name, value in zip(("feeds", "entries", "unchanged", "batch"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not (CORPUS / "ground-truth.json").exists():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    settings = engine_settings(prefix)
    store = Store.from_settings(settings.engine)
    store.setup()
    try:
        if args.poll_cycle:
            return poll_cycle(args, store, settings)
        return throughput(args, store, settings)
    finally:
        drop_indices(store, prefix)
        print(f"deleted the benchmark indices {prefix}*")


if __name__ == "__main__":
    sys.exit(main())
