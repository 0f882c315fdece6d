"""The worker pool for extraction and NER: same results as in-process work, used only for
batches big enough to pay for its start, and no worker process left behind.

One pool start (a fork server loading the NER model, two workers forked from it) is shared
by the checks that need it, to keep the suite fast.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Iterator
from functools import partial

import psutil
import pytest

from pipeline import workers
from pipeline.config import Settings
from pipeline.entities.ner import default_enricher, enrich_articles
from pipeline.models import Article
from pipeline.stories.dedup import fingerprint, fingerprints
from pipeline.text import fulltext
from pipeline.text.fulltext import fill_full_text
from tests.support.articles import make_article
from tests.support.feedserver import FeedServer, Response
from tests.support.pages import article_page

STORIES = [
    [
        f"Angela Merkel met Emmanuel Macron in Paris on day {n} to discuss the budget of "
        f"the European Union, officials in Berlin said.",
        f"The talks at the Elysee Palace lasted {n + 2} hours, and Deutsche Bank analysts "
        "expect a deal before the summit in Brussels next month.",
        "Both leaders said the agreement would be signed by the finance ministers.",
    ]
    for n in range(4)
]


@pytest.fixture()
def pool_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WIREFEED_WORKERS", "2")
    monkeypatch.setenv("WIREFEED_POOL_MIN", "3")
    workers.shutdown()
    yield
    workers.shutdown()


def _article(url: str, body: str) -> Article:
    return make_article(url, body, title="Merkel and Macron meet", language="en")


def _fork_servers() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children()
        if "multiprocessing.forkserver" in " ".join(p.cmdline())
    ]


def test_small_batches_stay_in_process(pool_env: None) -> None:
    assert workers.pool_for(2) is None
    articles = [_article(f"http://127.0.0.1/{n}", "\n\n".join(STORIES[n])) for n in range(2)]
    enriched = enrich_articles(articles)
    assert all(a.entities and a.entities.mentions for a in enriched)
    assert workers.worker_pids() == []


def test_pool_gives_in_process_results_and_leaves_no_process(
    pool_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FeedServer()
    server.start()
    try:
        for n, paragraphs in enumerate(STORIES):
            page = article_page(f"Story {n}", paragraphs).encode()
            server.routes[f"/story/{n}"] = Response(page, content_type="text/html; charset=utf-8")
        teasers = [_article(server.url(f"/story/{n}"), "teaser") for n in range(len(STORIES))]
        fetch = Settings.from_env().fetch  # loopback only, as the whole test session
        # Workers up first: pages that come while they start are extracted in-process.
        pool = workers.pool_for(len(teasers))
        assert pool is not None
        workers.started(pool).result()
        pooled = fill_full_text(teasers, {}, fetch)
        first = workers.worker_pids()
        enriched_pooled = enrich_articles(pooled)
        fingerprinted = fingerprints([a.body for a in pooled])
        pids = workers.worker_pids()
        # The same pool serves later batches: its workers (started as work comes) stay.
        assert first and set(first) <= set(pids) and len(pids) <= 2

        monkeypatch.setenv("WIREFEED_WORKERS", "0")
        local = fill_full_text(teasers, {}, fetch)
        enriched_local = enrich_articles(local)
    finally:
        server.stop()

    assert [a.body for a in pooled] == [a.body for a in local]
    assert [a.body for a in pooled] == ["\n\n".join(p) for p in STORIES]
    assert [a.entities for a in enriched_pooled] == [a.entities for a in enriched_local]
    assert fingerprinted == [fingerprint(a.body) for a in local]
    assert all(fp.signature for fp in fingerprinted)
    assert enriched_pooled[0].entities is not None
    assert enriched_pooled[0].entities.version == default_enricher().version

    assert len(_fork_servers()) == 1
    workers.shutdown()
    assert workers.worker_pids() == []
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).is_running() for pid in pids)
    assert _fork_servers() == []


def test_each_pool_has_the_environment_of_its_start(
    pool_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers fork from a server that loaded the models once; that server must not outlive
    its pool and hand the next pool's workers an old environment."""
    names = ["WIREFEED_TEST_MARK"] * 3
    monkeypatch.setenv("WIREFEED_TEST_MARK", "first")
    assert workers.pool_map(os.getenv, names, len(names), "env") == ["first"] * 3
    first = workers.worker_pids()
    workers.shutdown()
    monkeypatch.setenv("WIREFEED_TEST_MARK", "second")
    assert workers.pool_map(os.getenv, names, len(names), "env") == ["second"] * 3
    assert workers.worker_pids() and not set(workers.worker_pids()) & set(first)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_pages_are_extracted_here_while_the_workers_start(pool_env: None) -> None:
    """Until the pool's workers are up (its fork server loads the models first), the
    extraction thread of this process takes each page that arrives while it is free, and the
    event loop keeps running; once they are up, the workers take every page."""
    pool = workers.pool_for(10)
    assert pool is not None

    async def pages() -> tuple[list[int], list[int]]:
        extraction = fulltext._Extraction(pool)

        async def arrive(delay: float) -> int:
            await asyncio.sleep(delay)
            return await extraction.run(partial(_pid_after, 0.01), "http://127.0.0.1/page")

        early = await asyncio.gather(*(arrive(n * 0.02) for n in range(10)))
        await asyncio.wrap_future(workers.started(pool))
        late = await asyncio.gather(*(arrive(0) for _ in range(5)))
        return list(early), list(late)

    early, late = asyncio.run(pages())
    here = os.getpid()
    assert early.count(here) >= 5
    assert here not in late and set(late) <= set(workers.worker_pids())


def _pool_in_a_daemon(queue) -> None:
    queue.put(workers.pool_for(10) is None)


def test_a_daemonic_process_works_in_process(pool_env: None) -> None:
    """A task of a Celery worker's prefork pool is daemonic, and multiprocessing refuses it
    children: a pool there would fail every big batch."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    daemon = context.Process(target=_pool_in_a_daemon, args=(queue,), daemon=True)
    daemon.start()
    assert queue.get(timeout=30) is True
    daemon.join(30)
    assert daemon.exitcode == 0
    assert workers.pool_for(10) is not None
