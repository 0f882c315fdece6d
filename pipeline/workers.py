"""Both cores for the CPU stages: one process pool for page extraction and NER.

The GIL keeps threads to one core, and extraction plus NER are most of a cycle's CPU, so
big batches go to worker processes. The pool starts on the first batch big enough to pay
for that, lives as long as the process so later cycles reuse its loaded models, and is shut
down at interpreter exit. Smaller batches (tests, quiet cycles) run in-process.

A daemonic process (a task of a Celery worker's prefork pool, where Airflow's CeleryExecutor
runs each task) may not have children: there every batch runs in-process, and the worker's
own concurrency is what uses the cores.

Workers are forked from a fork server that has loaded the pipeline and its models once
(`pipeline.worker_preload`), so a pool costs one model load, not one per worker. The server
is a fresh interpreter: the parent's threads (event loops, HTTP pools) never reach a worker
in a half-held state, as they would with a plain fork.

    WIREFEED_WORKERS    worker processes (default: the CPU count; 0 or 1: always in-process)
    WIREFEED_POOL_MIN   smallest batch sent to the pool (default 24 items)
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from pipeline.config import ConfigError

log = logging.getLogger(__name__)

DEFAULT_POOL_MIN = 24
PRELOAD = "pipeline.worker_preload"

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_STARTER = ThreadPoolExecutor(1, thread_name_prefix="wirefeed-pool-start")
_warm_ups: list[Callable[[], object]] = []


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name}: must be a whole number >= 0, got {raw!r}")
    return int(raw)


def worker_count(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return _count(env, "WIREFEED_WORKERS", os.cpu_count() or 1)


def pool_min(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return _count(env, "WIREFEED_POOL_MIN", DEFAULT_POOL_MIN)


def on_warm_up(load: Callable[[], object]) -> None:
    """Have the workers run `load` before their first job: a stage registers here, when it
    is imported, what its jobs load on first use (a model, a parser)."""
    _warm_ups.append(load)


def warm_up() -> None:
    """Run what the stages registered (extractor, language and NER models) now, while the
    parent still fetches pages, rather than on the first job. In the fork server; in a worker
    it forked, everything is already loaded and this costs nothing."""
    for load in _warm_ups:
        try:
            load()
        # A bad model setting must surface where the job runs, with its own clear error.
        except Exception:  # noqa: BLE001
            log.exception("worker warm-up failed")


def pool_for(items: int) -> ProcessPoolExecutor | None:
    """The shared pool when a batch of `items` is worth it, else None (work in-process)."""
    global _pool
    workers = worker_count()
    if workers <= 1 or items < max(pool_min(), 1) or multiprocessing.current_process().daemon:
        return None
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([PRELOAD])
            _pool = ProcessPoolExecutor(workers, mp_context=context, initializer=warm_up)
            log.info("started %d worker processes for extraction and NER", workers)
        return _pool


def started(pool: ProcessPoolExecutor) -> Future[int]:
    """Done once a worker of `pool` answers. Starting the first worker blocks the thread that
    submits until the fork server has loaded the models (a second or two), so a thread of its
    own does that here: an event loop can wait on this without stopping its downloads."""
    return _STARTER.submit(lambda: pool.submit(os.getpid).result())


def shutdown() -> None:
    """Stop the workers (waits for them to exit); the next big batch starts a new pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
        _stop_fork_server()


def _stop_fork_server() -> None:
    """Left running, the fork server would hold its models and hand the next pool's workers
    the environment of its own start; a new pool must see the environment of its start,
    as spawned workers do. multiprocessing has no public call for this."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # type: ignore[attr-defined]


def share(items: int, per_worker: int) -> int:
    """Items per chunk when each worker is to get about `per_worker` chunks of a batch of
    `items` (at least 1): a few chunks each, so one slow chunk leaves no core idle."""
    return max(1, -(-items // (per_worker * max(1, worker_count()))))


def pool_map(
    fn: Callable[[T], R], items: Sequence[T], batch: int, what: str, chunksize: int = 1
) -> list[R] | None:
    """`fn` over `items` on the shared pool when a batch of `batch` items is worth it. None
    when it is not, or when a worker died (the pool is then dropped): the caller does the
    work in-process."""
    pool = pool_for(batch)
    if pool is None:
        return None
    try:
        return list(pool.map(fn, items, chunksize=chunksize))
    except BrokenProcessPool:
        log.exception("%s worker died; doing this batch in-process", what)
        drop_if_broken(pool)
        return None


def drop_if_broken(pool: ProcessPoolExecutor) -> None:
    """Forget the pool if a worker died in it (killed, out of memory), so that the next
    big batch starts a fresh one instead of failing on this one for good."""
    if getattr(pool, "_broken", False):
        log.warning("a worker process died; the pool is restarted on the next big batch")
        shutdown()


def worker_pids() -> list[int]:
    """Process ids of the running workers (for memory figures and leak checks)."""
    with _lock:
        pool = _pool
    if pool is None:
        return []
    return [p.pid for p in getattr(pool, "_processes", {}).values() if p.pid is not None]


atexit.register(shutdown)
