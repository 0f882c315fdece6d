"""The ingest DAG end to end with dag.test(): loopback feed server, real engine."""

from __future__ import annotations

import json

import pytest

from tests.dags.test_dagbag import DAGS
from tests.support.feedserver import Response
from tests.support.paths import shared_path

pytestmark = pytest.mark.engine

FEEDS = ("corpora", "feeds", "publisher_captures")


def test_ingest_feeds_dag_twice(
    airflow_db, feed_server, store, engine_settings, tmp_path, monkeypatch
):
    folder = shared_path(*FEEDS)
    urls = [
        feed_server.add(
            "/npr.xml", Response((folder / "npr_world__7be307059415227d.xml").read_bytes())
        ),
        feed_server.add(
            "/dawn.xml", Response((folder / "dawn_world__ce5f942d1cd40fc0.xml").read_bytes())
        ),
        feed_server.add("/gone.xml", Response(b"gone", status=500)),
    ]
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("".join(f"- url: {u}\n" for u in urls))
    monkeypatch.setenv("WIREFEED_FEEDS_FILE", str(feeds))
    monkeypatch.setenv(
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT",
        json.dumps(
            {
                "conn_type": "elasticsearch",
                "host": "127.0.0.1",
                "port": int(engine_settings.url.rsplit(":", 1)[1]),
                "schema": "http",
                "extra": {"index_prefix": engine_settings.index_prefix},
            }
        ),
    )
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(str(DAGS)).dags["ingest_feeds"]
    first = dag.test()
    assert first.state == "success"
    store.refresh()
    stories = store.count_stories()
    assert stories > 20
    states = {s.url: s for s in store.all_feed_states()}
    assert states[urls[2]].failures == 1
    assert states[urls[0]].status == "ok"

    second = dag.test()
    assert second.state == "success"
    store.refresh()
    assert store.count_stories() == stories
