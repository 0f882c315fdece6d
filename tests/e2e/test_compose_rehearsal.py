"""docker-compose.yml rehearsed without containers (tests/support/rehearsal.py): every
service that can run here, natively on loopback, as the compose file gives it. An
`ingest_feeds` run over loopback feeds, triggered through the api-server as a user would,
completes under the scheduler and its stories are searchable as the least-privilege user:
with the default profile (LocalExecutor), and with the celery profile, where the run's
mapped batches go to two Celery workers, each a host of its own."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.index.store import Store, make_client
from tests.faults.farm import build_farm, feeds_yaml
from tests.support.citydesk import STORIES, city_desk_rss
from tests.support.cli import wirefeed_json
from tests.support.engine import engine_env, stored_urls
from tests.support.feedserver import FeedServer, Response
from tests.support.paths import open_tempdir
from tests.support.rehearsal import Rehearsal, compose_rehearsal

pytestmark = pytest.mark.engine

# The celery profile's run: this many feeds, one a batch, so that the run maps them over
# both workers; each worker runs one task at a time, so neither can take them all. Each
# batch has enough new stories for the pipeline's worker pool (WIREFEED_POOL_MIN, 24),
# which a task of Celery's prefork pool may not start.
FEEDS, PER_FEED, WORKERS = 6, 25, 2


@pytest.fixture()
def home() -> Iterator[Path]:
    path = open_tempdir("wirefeed-rehearsal-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture()
def rehearsal(feed_server: FeedServer, home: Path) -> Iterator[Rehearsal]:
    feeds = home / "feeds.yaml"
    url = feed_server.add("/city.xml", Response(city_desk_rss(feed_server.url(""))))
    feeds.write_text(f"- url: {url}\n  name: City desk\n")
    with compose_rehearsal(home, feeds) as stack:
        yield stack


def test_an_ingest_run_under_the_scheduler_is_searchable_as_the_writer(rehearsal):
    api = rehearsal.api()
    api.wait_until_active("ingest_feeds")
    run = api.wait_for_run("ingest_feeds", api.trigger("ingest_feeds"), timeout=300)
    assert run["state"] == "success", rehearsal.logs()

    writer = rehearsal.writer
    hits = wirefeed_json("search", "harbour bridge", env=engine_env(writer))
    assert hits[0]["title"] == "Harbour bridge reopens"
    with make_client(writer) as client:
        store = Store(client, writer.index_prefix)
        store.refresh()
        assert store.count_stories() == len(STORIES)


def test_celery_workers_share_an_ingest_run_and_every_story_is_there_once(feed_server, home):
    farm = build_farm(feed_server, count=FEEDS, per_feed=PER_FEED)
    feeds = home / "feeds.yaml"
    feeds.write_text(feeds_yaml(farm.feeds))
    variables = {
        "WIREFEED_BATCH_SIZE": "1",
        "AIRFLOW_WORKER_CONCURRENCY": "1",
        # Not before 29 February 2028: the run the test triggers is the only one.
        "WIREFEED_INGEST_SCHEDULE": "0 0 29 2 *",
    }
    with compose_rehearsal(home, feeds, workers=WORKERS, variables=variables) as rehearsal:
        api = rehearsal.api()
        api.wait_until_active("ingest_feeds")
        run_id = api.trigger("ingest_feeds")
        run = api.wait_for_run("ingest_feeds", run_id, timeout=420)
        assert run["state"] == "success", rehearsal.logs()
        tasks = api.task_instances("ingest_feeds", run_id)
        batches = [t for t in tasks if t["task_id"] == "ingest"]
        writer = rehearsal.writer
        with make_client(writer) as client:
            store = Store(client, writer.index_prefix)
            found = stored_urls(store)
            stories = store.count_stories()

    assert len(batches) == FEEDS
    assert {t["state"] for t in batches} == {"success"}
    # Each worker's host, as Airflow recorded where the task ran.
    hosts = Counter(t["hostname"] for t in batches)
    assert set(hosts) == {f"airflow-worker-{n}" for n in range(1, WORKERS + 1)}, hosts
    assert Counter(found) == Counter(farm.expected_urls)
    assert stories == FEEDS * PER_FEED
