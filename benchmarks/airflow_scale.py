"""Airflow-level scale: one `ingest_feeds` run under the real scheduler over a loopback feed
farm of 10,000 feeds, 95% of them answering 304, with the LocalExecutor and with Celery.

    .venv/bin/python benchmarks/airflow_scale.py [--feeds 10000] [--unchanged 0.95]
        [--executor local|celery|both] [--workers 2] [--batch N] [--concurrency N] [--previous 2]

The deployment is docker-compose.yml's, natively (tests/support/rehearsal.py, as the compose
rehearsal runs it): PostgreSQL as the metadata database, Elasticsearch, the api-server,
scheduler, dag-processor and triggerer; for Celery also Redis and --workers Celery workers
(`--profile celery --scale airflow-worker=N`). The feeds are benchmarks/farm.py's, in the
feeds file, full text fetched from the farm's article pages (real pages of
../shared/corpora/articles/zyte-dev, read by path). Each executor gets a stack of its own.

As in throughput.py --poll-cycle, the previous cycles are polls whose states are saved and
nothing ingested; here two by default (--previous), so that each feed's last poll is what
it is in a steady state: the --unchanged share answered 304, each other feed brought one
new entry. The feeds are made due, the farm moves on one generation (the same shares
again), and one `ingest_feeds` run, triggered through the REST API, is measured:
- wall time from queued to finished (target: half the default 10-minute schedule);
- the mapped `ingest` task instances, and where they ran;
- the time of all task instances, split into run_cycle's and the lookup of the batch's
  feeds (`pipeline_ms` and `lookup_ms` each batch returns, summed by `summarize`), and the
  rest: Airflow's own task overhead (starting the task process, parsing the DAG file,
  importing, XCom);
- the time task instances waited between queued and started;
- the load average before and after (the machine is shared: compare runs alike).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from farm import CORPUS, Farm, FarmSpec  # noqa: E402

from pipeline.config import Settings  # noqa: E402
from pipeline.feeds.poll import poll_batch  # noqa: E402
from pipeline.index.store import Store, make_client  # noqa: E402
from pipeline.models import FeedSource  # noqa: E402
from tests.support.paths import open_tempdir  # noqa: E402
from tests.support.rehearsal import Rehearsal, compose_rehearsal  # noqa: E402

DAG = "ingest_feeds"
TARGET = 300.0  # seconds: half the default 10-minute schedule
# Not before 29 February 2028: the only run is the one measured.
NEVER_SOON = "0 0 29 2 *"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def prime(rehearsal: Rehearsal, farm: Farm, polls: int) -> float:
    """The previous cycles: every feed polled at each of the farm's first `polls`
    generations and its state saved, nothing ingested; then every feed due again, as it is
    once its next poll time has come. The farm is left at the next generation."""
    writer = rehearsal.writer
    env = {**os.environ, "WIREFEED_ONLY_NETWORKS": "127.0.0.0/8"}
    settings = Settings.from_env(env)
    feeds = [FeedSource(u) for u in farm.feed_urls()]
    started = time.perf_counter()
    with make_client(writer) as client:
        store = Store(client, writer.index_prefix)
        for generation in range(polls):
            farm.set_generation(generation)
            for i in range(0, len(feeds), 1000):
                chunk = feeds[i : i + 1000]
                previous = store.feed_states(f.url for f in chunk)
                states = [r.state for r in poll_batch(chunk, previous, settings.fetch)]
                for state in states:
                    state.next_poll = None
                store.save_feed_states(states)
            store.refresh()
    farm.set_generation(polls)
    return time.perf_counter() - started


def measure(rehearsal: Rehearsal, label: str) -> float:
    api = rehearsal.api()
    api.wait_until_active(DAG)
    load_before = load()
    run_id = api.trigger(DAG)
    run = api.wait_for_run(DAG, run_id, timeout=3600)
    load_after = load()
    tasks = api.task_instances(DAG, run_id)
    if run["state"] != "success":
        raise RuntimeError(f"{DAG} run {run_id}: {run['state']}\n{failures(rehearsal, tasks)}")
    summary = api.xcom(DAG, run_id, "summarize")
    batches = [t for t in tasks if t["task_id"] == "ingest"]
    wall = seconds(run["queued_at"], run["end_date"])
    task_time = sum(seconds(t["start_date"], t["end_date"]) for t in tasks)
    pipeline, lookup = summary["pipeline_ms"] / 1000, summary["lookup_ms"] / 1000
    waited = sum(seconds(t["queued_when"], t["start_date"]) for t in tasks)
    durations = sorted(seconds(t["start_date"], t["end_date"]) for t in batches)
    hosts = Counter(t["hostname"] for t in batches)
    rest = task_time - pipeline - lookup
    print(f"\n== {label}")
    print(f"load average before the run: {load_before}, after: {load_after}")
    print(
        f"ingest_feeds run     {wall:.1f} s queued to finished "
        f"({seconds(run['start_date'], run['end_date']):.1f} s running)"
    )
    print(f"mapped ingest tasks  {len(batches)} (of {len(tasks)} task instances)")
    print(
        f"feeds polled         {summary['feeds_polled']} (failed {summary['feeds_failed']}); "
        f"stories new {summary['stories_new']}, copies new {summary['copies_new']}"
    )
    print(
        f"task time            {task_time:.1f} s = run_cycle {pipeline:.1f} s "
        f"({pipeline / task_time:.0%}) + finding the batch's feeds {lookup:.1f} s "
        f"({lookup / task_time:.0%}) + Airflow's own {rest:.1f} s ({rest / task_time:.0%})"
    )
    if durations:
        print(
            f"an ingest task       median {statistics.median(durations):.1f} s, "
            f"longest {durations[-1]:.1f} s; run_cycle {pipeline / len(batches):.2f} s on average"
        )
    print(f"queued to started    {waited:.1f} s summed over the task instances")
    print(f"tasks at once        {task_time / wall:.1f} on average (task time / wall time)")
    print(f"where they ran       {dict(hosts)}")
    verdict = "ok" if wall <= TARGET else "over"
    print(f"one run: {wall:.1f} s (target <= {TARGET:.0f} s: {verdict})")
    return wall


def failures(rehearsal: Rehearsal, tasks: list[dict]) -> str:
    """The task instances that did not succeed, each with the end of its last log."""
    home = Path(rehearsal.stack.handles["airflow-scheduler"].env["AIRFLOW_HOME"])
    lines = []
    for t in tasks:
        if t["state"] == "success":
            continue
        lines.append(f"{t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']}")
        logs = sorted(
            (home / "logs").glob(f"dag_id={DAG}/run_id=*/task_id={t['task_id']}/**/attempt=*.log")
        )
        index = t["map_index"]
        logs = [p for p in logs if index < 0 or f"map_index={index}" in str(p)]
        if logs:
            lines.append(logs[-1].read_text(errors="replace")[-3000:])
    return "\n".join(lines) or rehearsal.logs()


def bench(args: argparse.Namespace, farm: Farm, workers: int) -> float:
    label = f"CeleryExecutor, {workers} workers" if workers else "LocalExecutor"
    urls = farm.feed_urls()
    home = open_tempdir("wirefeed-airflow-scale-")
    feeds_file = home / "feeds.yaml"
    feeds_file.write_text("".join(f"- url: {u}\n" for u in urls))
    variables = {"WIREFEED_INGEST_SCHEDULE": NEVER_SOON, "ES_HEAP": "1g"}
    if args.batch:
        variables["WIREFEED_BATCH_SIZE"] = str(args.batch)
    if args.concurrency:
        variables["AIRFLOW_WORKER_CONCURRENCY"] = str(args.concurrency)
    try:
        started = time.perf_counter()
        with compose_rehearsal(home, feeds_file, workers=workers, variables=variables) as rehearsal:
            print(f"\n{label}: stack up in {time.perf_counter() - started:.0f} s")
            took = prime(rehearsal, farm, args.previous)
            print(f"previous cycles (poll, save state, made due): {took:.1f} s")
            return measure(rehearsal, label)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--unchanged", type=float, default=0.95)
    parser.add_argument("--copies", type=float, default=0.35)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--executor", choices=("local", "celery", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers")
    parser.add_argument("--batch", type=int, help="WIREFEED_BATCH_SIZE (default: the DAG's)")
    parser.add_argument("--concurrency", type=int, help="tasks per Celery worker")
    parser.add_argument(
        "--previous",
        type=int,
        default=2,
        help="polls before the measured run (1: every feed's last poll was its first)",
    )
    args = parser.parse_args()
    if not (CORPUS / "ground-truth.json").exists():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    spec = FarmSpec(args.feeds, 1, args.copies, args.unchanged, args.hosts)
    print(
        f"farm: {spec.feeds} feeds x 1 entry, {spec.unchanged:.0%} unchanged, "
        f"{spec.copies:.0%} syndicated copies, {spec.hosts} loopback hosts"
    )
    print(f"load average before: {load()}")
    walls = {}
    with Farm(spec) as farm:
        if args.executor in ("local", "both"):
            walls["LocalExecutor"] = bench(args, farm, 0)
        if args.executor in ("celery", "both"):
            walls[f"Celery x{args.workers}"] = bench(args, farm, args.workers)
    print(f"\nload average after: {load()}")
    print("one ingest_feeds run: " + ", ".join(f"{k} {v:.1f} s" for k, v in walls.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
