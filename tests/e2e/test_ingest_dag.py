"""The ingest DAG end to end with dag.test(): loopback feed server, real engine."""

from __future__ import annotations

import pytest

from tests.e2e.support import load_dag, use_engine, xcom
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
    # Two feeds a batch: three feeds make two mapped ingest tasks.
    monkeypatch.setenv("WIREFEED_BATCH_SIZE", "2")
    use_engine(monkeypatch, engine_settings)
    dag = load_dag("ingest_feeds")

    first = dag.test()
    assert first.state == "success"
    (planned,) = xcom(first, "plan")
    assert sorted(u for batch in planned for u in batch) == sorted(urls)
    assert [len(b) for b in planned] == [2, 1]
    assert len(xcom(first, "ingest")) == 2
    (summary,) = xcom(first, "summarize")
    assert summary["feeds_polled"] == 3 and summary["feeds_failed"] == 1
    assert {"stories_new", "copies_new", "entities"} <= set(summary)
    # XCom holds counts only: no article text travels through the metadata database.
    assert all(isinstance(v, int) for v in summary.values())

    store.refresh()
    stories = store.count_stories()
    assert stories > 20
    assert summary["stories_new"] == stories
    states = {s.url: s for s in store.all_feed_states()}
    assert states[urls[2]].failures == 1
    assert states[urls[0]].status == "ok"

    # The feeds are not due again yet; make them due so the second run really polls them.
    for state in states.values():
        state.next_poll = None
    store.save_feed_states(states.values())
    store.refresh()

    second = dag.test()
    assert second.state == "success"
    (again,) = xcom(second, "summarize")
    assert again["feeds_polled"] == 3
    assert again["stories_new"] == 0
    store.refresh()
    assert store.count_stories() == stories

    third = dag.test()  # nothing is due now: no batch, nothing polled
    assert third.state == "success"
    assert xcom(third, "plan") == [[]]
    (idle,) = xcom(third, "summarize")
    assert idle["feeds_polled"] == 0
