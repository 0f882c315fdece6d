"""End-to-end throughput on a loopback feed farm, next to spaCy NER alone on both cores.

    .venv/bin/python benchmarks/throughput.py [--feeds 50] [--entries 20] [--copies 0.35]
    .venv/bin/python benchmarks/throughput.py --copies 0.0
    .venv/bin/python benchmarks/throughput.py --rounds 3      # median of three rounds
    .venv/bin/python benchmarks/throughput.py --poll-cycle     # 10,000 feeds, 95% answer 304
    .venv/bin/python benchmarks/throughput.py --scale --rounds 2   # 1,000 vs 100,000 stories

Drives `pipeline.run.run_cycle`, the code the Airflow task `ingest_batch` runs, over the
farm's feeds in batches of --batch feeds (the DAG's default batch size), end to end into the
real engine (ELASTICSEARCH_URL, ELASTICSEARCH_USERNAME and _PASSWORD, as `scripts/search-engine
env` prints them for the local one) under a throwaway index prefix that is deleted
afterwards. Needs ../shared/corpora/articles/zyte-dev (read by path).

Prints:
- articles/s end to end (stories + copies indexed, over the wall time of the cycles, the
  worker pool's start included), time per stage, and peak memory (RSS of this process and
  its children: the extraction/NER workers; the farm's process is not counted);
- CPU seconds of this process and of each worker (where the cores went);
- the texts and words the pipeline's NER read (new stories only: a copy takes its story's
  entities);
- NER alone: the same article texts (title and body of every entry, copies included)
  through the same NER-only model with `nlp.pipe`, in two processes (both cores) set up as
  the pipeline's workers are (forked from a fork server that loaded the models), in the
  runs of text the pipeline gives its workers, model load excluded, with its words per
  CPU-second; measured in the same run before and after each pipeline round, which is
  compared with their mean, so that the ratio holds on a shared machine (--rounds N: N
  rounds and the median ratio); once at the start also as it was before (spawned
  processes that load the model themselves), for comparison;
- per round, the ceiling the pipeline's CPU time sets on that ratio: NER alone's time
  over half the CPU seconds of the pipeline's processes (the engine's not counted);
- the load average before and after.

--poll-cycle: the farm's feeds are polled once (states saved, nothing ingested: the
previous cycle), then the farm moves on one generation, in which the --unchanged share
(0.95) answers 304 and each other feed carries one new entry; the second cycle, full
ingest of what is new, is timed.

--scale: stories are first bulk-loaded as the pipeline stores them (benchmarks/dedup_scale.py)
into two indices, --small and --large; then rounds alternate between the two, each on new
farm entries, and the median seconds per article end to end are compared.

Profiling (not a project dependency): `.venv/bin/pip install py-spy`, then
    .venv/bin/py-spy record --subprocesses -o profile.svg -- \
        .venv/bin/python benchmarks/throughput.py
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from dedup_scale import preload  # noqa: E402
from farm import CORPUS, Farm, FarmSpec, Plan, load_gold  # noqa: E402

import pipeline.run as run_module  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.entities.ner import (  # noqa: E402
    POOL_CHUNK_CHARS,
    EnrichSettings,
    compose,
    load_ner,
    ner_input,
    text_runs,
)
from pipeline.feeds.poll import poll_batch  # noqa: E402
from pipeline.index.store import Store  # noqa: E402
from pipeline.models import FeedSource, RunSummary  # noqa: E402
from pipeline.workers import PRELOAD, shutdown, worker_count  # noqa: E402

STAGES = (
    "poll_batch",
    "exact_dedup",
    "fill_full_text",
    "assign_stories",
    "enrich_articles",
    "claim_stories",
    "write_claimed",
)
# Runs while enrich_articles does: shown, but not part of the wall time's split.
DURING_NER = "claim_stories"


# -- NER alone -------------------------------------------------------------------------


def ner_text(title: str, body: str) -> str:
    """What NER reads of an article, as the pipeline composes it."""
    return ner_input(compose(title, body)[0])


def _ner_init(model: str) -> None:
    load_ner(model)(ner_input("Warm-up text about Paris and Angela Merkel."))


def _ner_chunk(model: str, texts: list[str], batch_size: int) -> tuple[int, float, int]:
    """Texts done, this task's CPU seconds, and the worker's pid."""
    nlp = load_ner(model)
    cpu = time.process_time()
    for _doc in nlp.pipe(texts, batch_size=batch_size):
        pass
    return len(texts), time.process_time() - cpu, os.getpid()


CORES = os.cpu_count() or 1
POLL_TARGET = 30.0  # seconds for --poll-cycle's 10,000 feeds
BASELINES = {
    "forkserver": "the workers' setup: forked from a fork server with the models loaded",
    "spawn": "spawned processes, each loading the model, as this baseline ran before",
}


@dataclasses.dataclass(frozen=True)
class NerAlone:
    seconds: float  # wall time, model loads excluded
    cpu_seconds: float  # in the NER tasks themselves


def ner_alone(texts: list[str], processes: int, start: str = "forkserver") -> NerAlone:
    """NER over `texts` in `processes` processes, set up as the pipeline's workers are
    (`start` "forkserver"): forked from a fork server that preloaded the pipeline and its
    models (PRELOAD), every worker up before the clock starts, the texts in the runs the
    pipeline sends its workers (`text_runs`: at most POOL_CHUNK_CHARS characters, at most a
    NER batch of texts). `start` "spawn": spawned processes that load the model
    themselves, the start this baseline had before (the clock now waits for every worker
    in both)."""
    settings = EnrichSettings.from_env()
    model = dict(settings.models)["en"]
    chunks = text_runs(texts, settings.batch_size, POOL_CHUNK_CHARS, len)
    context = get_context(start)
    if start == "forkserver":
        context.set_forkserver_preload([PRELOAD])
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_ner_init, initargs=(model,)
    ) as pool:
        # A pool starts its processes as work arrives: until every one has answered, one
        # may still be loading its model when the clock starts.
        ready: set[int] = set()
        while len(ready) < processes:
            warm = pool.map(
                _ner_chunk, [model] * processes, [["warm"]] * processes, [1] * processes
            )
            ready |= {pid for _, _, pid in warm}
        started = time.perf_counter()
        work = functools.partial(_ner_chunk, model, batch_size=settings.batch_size)
        done = list(pool.map(work, chunks))
        elapsed = time.perf_counter() - started
    assert sum(n for n, _, _ in done) == len(texts)
    return NerAlone(elapsed, sum(cpu for _, cpu, _ in done))


# -- measuring the pipeline ------------------------------------------------------------


class PeakMemory:
    """Peak RSS of this process plus its children, except the farm's, sampled 10x a second;
    also the CPU seconds each of them used (last sample), to show where the cores went.
    The list of children is read once a second: reading it scans every process on the
    machine (1.6 ms), which 10x a second would take half a CPU-second from the pipeline's
    main process in a round."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude
        self.excluded_cpu_before = sum(_cpu_seconds(psutil.Process(pid)) for pid in exclude)
        self.excluded_cpu = 0.0
        self.peak = 0
        self.by_process: Counter[str] = Counter()
        self.cpu: dict[str, float] = {}
        self._me = psutil.Process()
        self._children: list[psutil.Process] = []
        self._cpu_before = _cpu_seconds(self._me)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, refresh: bool) -> int:
        if refresh:
            self._children = self._me.children(recursive=True)
        total = self._me.memory_info().rss
        self.by_process["main"] = max(self.by_process["main"], total)
        self.cpu["main"] = _cpu_seconds(self._me) - self._cpu_before
        for child in self._children:
            if child.pid in self.exclude:
                with contextlib.suppress(psutil.Error):
                    self.excluded_cpu = _cpu_seconds(child) - self.excluded_cpu_before
                continue
            key = f"child {child.pid}"
            try:
                rss = child.memory_info().rss
                self.cpu[key] = _cpu_seconds(child)
            except psutil.Error:
                continue
            total += rss
            self.by_process[key] = max(self.by_process[key], rss)
        return total

    def _run(self) -> None:
        samples = 0
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample(refresh=samples % 10 == 0))
            samples += 1
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample(refresh=True))


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class StageClock:
    """Adds up the time of run_cycle's stage functions (wrapped once, in pipeline.run's
    namespace) and of a store's feed-state calls, per round; also the texts and words the
    pipeline's NER read (new stories only: a copy takes its story's entities)."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self.ner_texts = self.ner_words = 0
        for name in STAGES:
            setattr(run_module, name, self._timed(name, getattr(run_module, name)))
        enrich = run_module.enrich_articles

        @functools.wraps(enrich)
        def counted(articles: Any, *args: Any, **kwargs: Any) -> Any:
            self.ner_texts += len(articles)
            self.ner_words += sum(len(ner_text(a.title, a.body).split()) for a in articles)
            return enrich(articles, *args, **kwargs)

        run_module.enrich_articles = counted

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return wrapper

    def start(self, store: Store) -> Counter[str]:
        """A fresh count for a round that uses `store`."""
        self.spent = Counter()
        self.ner_texts = self.ner_words = 0
        store.feed_states = self._timed("feed_states", store.feed_states)  # type: ignore[method-assign]
        store.save_feed_states = self._timed("save_feed_states", store.save_feed_states)  # type: ignore[method-assign]
        return self.spent


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
    label: str, elapsed: float, summary: RunSummary, clock: StageClock, memory: PeakMemory
) -> float:
    spent = clock.spent
    articles = summary.stories_new + summary.copies_new
    statuses = Counter(o.status for o in summary.outcomes)
    rate = articles / elapsed if elapsed else 0.0
    print(f"\n== {label}")
    print(f"feeds polled      {summary.feeds_polled} ({dict(statuses)})")
    print(f"entries seen      {summary.entries_seen}")
    print(f"stories new       {summary.stories_new}")
    print(f"copies new        {summary.copies_new}")
    print(f"entities          {summary.entities}")
    print(f"NER read          {clock.ner_texts} texts, {clock.ner_words} words")
    print(f"wall time         {elapsed:.2f} s")
    print(f"end to end        {rate:.2f} articles/s")
    print("time per stage (s, share of the wall time):")
    for name, seconds in spent.most_common():
        during = "  (during enrich_articles)" if name == DURING_NER else ""
        print(f"  {name:18} {seconds:8.2f}  {seconds / elapsed:6.1%}{during}")
    other = elapsed - sum(v for k, v in spent.items() if k != DURING_NER)
    print(f"  {'other':18} {other:8.2f}  {other / elapsed:6.1%}  (entries to articles, summary)")
    parts = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in memory.by_process.items())
    print(f"peak memory       {memory.peak / 2**20:.0f} MiB RSS, this process + its workers")
    print(f"  per process peak (MiB): {parts}")
    used = ", ".join(f"{k} {v:.1f}" for k, v in memory.cpu.items())
    print(f"CPU time          {sum(memory.cpu.values()):.1f} s: {used}")
    print(f"  the feed farm (not the pipeline) took {memory.excluded_cpu:.1f} s more")
    return rate


@contextlib.contextmanager
def scratch_store() -> Iterator[tuple[Store, Settings]]:
    """The real engine under a throwaway index prefix, deleted afterwards."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    env = dict(os.environ)
    env.setdefault("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    env["WIREFEED_INDEX_PREFIX"] = prefix
    env["WIREFEED_ONLY_NETWORKS"] = "127.0.0.0/8"
    settings = Settings.from_env(env)
    store = Store.from_settings(settings.engine)
    store.setup()
    try:
        yield store, settings
    finally:
        names = list(store.client.indices.get(index=f"{prefix}*"))
        if names:
            store.client.indices.delete(index=names)
        store.drop_templates()


def farm_spec(args: argparse.Namespace) -> FarmSpec:
    return FarmSpec(
        args.feeds, args.entries, args.copies, args.unchanged, args.hosts, authors=args.authors
    )


def throughput(args: argparse.Namespace) -> int:
    spec = farm_spec(args)
    items = Plan(spec, load_gold()).items(0)
    texts = [ner_text(i.title, i.text) for i in items]
    words = sum(len(t.split()) for t in texts)
    copies = sum(1 for i in items if i.copy_of is not None)
    print(
        f"farm: {spec.feeds} feeds x {spec.entries} entries = {len(items)} articles "
        f"({copies} syndicated copies, {copies / len(items):.0%}), {words} words, "
        f"{spec.authors:.0%} of feeds with bylines, "
        f"{spec.hosts} loopback hosts; batches of {args.batch} feeds; "
        f"{worker_count()} worker processes; {args.rounds} round(s)"
    )
    print(f"load average before: {load()}")

    def ner_rate(start: str = "forkserver") -> NerAlone:
        measured = ner_alone(texts, args.ner_processes, start)
        setup = BASELINES[start]
        print(
            f"\nNER alone ({args.ner_processes} processes, {setup}): "
            f"{len(texts) / measured.seconds:.2f} articles/s, "
            f"{words / measured.seconds:.0f} words/s ({measured.seconds:.2f} s); "
            f"{words / measured.cpu_seconds:.0f} words per CPU-second "
            f"({measured.cpu_seconds:.1f} CPU-s in its tasks)"
        )
        return measured

    # Spawned processes, the start this baseline had before, once, next to the best setup.
    spawned = ner_rate("spawn")
    # NER alone before and after each round: the round is compared with their mean, so a
    # change in the machine's speed during the round weighs on both sides alike.
    before = ner_rate()
    print(
        f"fork server / spawned: {spawned.seconds / before.seconds:.2f}x the speed, "
        f"{spawned.cpu_seconds / before.cpu_seconds:.2f}x the words per CPU-second"
    )
    ratios, ceilings = [], []
    clock = StageClock()
    with Farm(spec) as farm:
        for n in range(1, args.rounds + 1):
            feeds = [FeedSource(url) for url in farm.feed_urls()]
            with scratch_store() as (store, settings):
                clock.start(store)
                with PeakMemory({farm.process.pid}) as memory:
                    elapsed, summary = run_batches(feeds, store, settings, args.batch)
                    shutdown()
            rate = report(f"round {n}: end to end (run_cycle)", elapsed, summary, clock, memory)
            after = ner_rate()
            ner_seconds = (before.seconds + after.seconds) / 2
            reference = len(texts) / ner_seconds
            ratios.append(rate / reference)
            # The pipeline's processes needed this much CPU; on every core kept busy all
            # along, the round could not have taken less than that over the cores.
            cpu = sum(memory.cpu.values())
            ceilings.append(ner_seconds / (cpu / CORES))
            print(
                f"round {n}: end to end / NER alone on both cores: {ratios[-1]:.2f} "
                f"({rate:.2f} / {reference:.2f}, the mean of NER alone before and after); "
                f"at most {ceilings[-1]:.2f} with the {cpu:.1f} CPU-s the pipeline used "
                f"(its processes, not the engine's) on all {CORES} cores all along"
            )
            before = after
    print(f"load average after: {load()}")
    print(
        f"\nend to end / NER alone on both cores: {statistics.median(ratios):.2f}"
        f"{' (median of ' + str(len(ratios)) + ' rounds)' if len(ratios) > 1 else ''}"
        f"  (copies {args.copies:.0%}); the CPU-time ceiling: {statistics.median(ceilings):.2f}"
    )
    return 0


def scale(args: argparse.Namespace) -> int:
    """The same pipeline into an index already holding --small stories and into one holding
    --large, in alternating rounds, each on a new window of the farm's entries."""
    spec = farm_spec(args)
    sizes = {"small": args.small, "large": args.large}
    print(f"farm: {spec.feeds} feeds x {spec.entries} entries a round; stories indexed: {sizes}")
    per_article: dict[str, list[float]] = {label: [] for label in sizes}
    with contextlib.ExitStack() as stack:
        stores = {label: stack.enter_context(scratch_store()) for label in sizes}
        for label, (store, _settings) in stores.items():
            seconds = preload(store, sizes[label])
            print(f"preloaded {sizes[label]} stories ({label}) in {seconds:.1f} s")
        farm = stack.enter_context(Farm(spec))
        feeds = [FeedSource(url) for url in farm.feed_urls()]
        clock = StageClock()
        generation = 0
        # Round 0 starts the worker pool and warms both indices up; it is not counted.
        for n in range(args.rounds + 1):
            order = list(sizes) if n % 2 else list(reversed(sizes))
            for label in order:
                store, settings = stores[label]
                farm.set_generation(generation)
                generation += spec.entries
                spent = clock.start(store)
                elapsed, summary = run_batches(feeds, store, settings, args.batch)
                made = summary.stories_new + summary.copies_new
                if n:
                    per_article[label].append(elapsed / made)
                stages = ", ".join(f"{k} {v:.2f}" for k, v in spent.most_common(4))
                print(
                    f"round {n} {label:5}: {made} articles, {elapsed:.2f} s, "
                    f"{elapsed / made * 1000:.1f} ms per article ({stages})"
                )
        shutdown()
    cost = {label: statistics.median(times) * 1000 for label, times in per_article.items()}
    for label, ms in cost.items():
        print(f"{label}: {sizes[label]} stories indexed: {ms:.1f} ms per article (median)")
    ratio = cost["large"] / cost["small"]
    print(f"\ncost per article, {args.large} / {args.small} stories: {ratio:.2f} (target <= 1.2)")
    return 0


def poll_cycle(args: argparse.Namespace) -> int:
    spec = farm_spec(args)
    print(
        f"farm: {spec.feeds} feeds x {spec.entries} entries, {spec.unchanged:.0%} unchanged, "
        f"{spec.hosts} loopback hosts; batches of {args.batch} feeds; "
        f"{worker_count()} worker processes"
    )
    print(f"load average before: {load()}")
    with Farm(spec) as farm, scratch_store() as (store, settings):
        feeds = [FeedSource(url) for url in farm.feed_urls()]
        started = time.perf_counter()
        for i in range(0, len(feeds), 1000):
            chunk = feeds[i : i + 1000]
            store.save_feed_states(r.state for r in poll_batch(chunk, {}, settings.fetch))
        print(f"previous cycle (poll, save state): {time.perf_counter() - started:.2f} s")
        farm.set_generation(1)
        clock = StageClock()
        clock.start(store)
        with PeakMemory({farm.process.pid}) as memory:
            elapsed, summary = run_batches(feeds, store, settings, args.batch)
            shutdown()
    report("poll cycle (run_cycle)", elapsed, summary, clock, memory)
    print(f"load average after: {load()}")
    verdict = "ok" if elapsed <= POLL_TARGET else "over"
    print(
        f"\npoll cycle over {spec.feeds} feeds: {elapsed:.1f} s "
        f"(target <= {POLL_TARGET:.0f} s: {verdict})"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument("--copies", type=float, default=0.35)
    parser.add_argument("--unchanged", type=float)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--authors", type=float, default=0.65, help="share of feeds with bylines")
    parser.add_argument("--batch", type=int, help="feeds per run_cycle (default 50; 1000)")
    parser.add_argument("--ner-processes", type=int, default=2)
    parser.add_argument("--poll-cycle", action="store_true")
    parser.add_argument("--scale", action="store_true", help="cost with --small vs --large")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="pipeline runs, each between NER runs"
    )
    args = parser.parse_args()
    defaults = (10_000, 1, 0.95, 1000) if args.poll_cycle else (50, 20, 0.0, 50)
    for name, value in zip(("feeds", "entries", "unchanged", "batch"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not (CORPUS / "ground-truth.json").exists():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    if args.scale:
        return scale(args)
    return poll_cycle(args) if args.poll_cycle else throughput(args)


if __name__ == "__main__":
    sys.exit(main())
