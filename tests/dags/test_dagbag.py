"""Every DAG imports cleanly, is well formed, and parsing does no engine or network I/O."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"ingest_feeds", "sync_feeds", "reenrich_stories", "reindex", "feed_health"}


def _parse(monkeypatch: pytest.MonkeyPatch):
    """Parse the dags folder with every connect and name lookup refused, and the engine
    settings pointing at a closed port: it passes only if parsing needs no engine at all."""
    from airflow.dag_processing.dagbag import DagBag

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] or kwargs)
        raise OSError("no I/O while parsing DAGs")

    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", "http://127.0.0.1:9")
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")
    with monkeypatch.context() as m:
        m.setattr(socket.socket, "connect", refuse)
        m.setattr(socket.socket, "connect_ex", refuse)
        m.setattr(socket, "getaddrinfo", refuse)
        m.setattr(socket, "create_connection", refuse)
        bag = DagBag(str(DAGS))
    assert attempts == [], f"DAG parsing tried network I/O: {attempts}"
    return bag


@pytest.fixture(scope="module")
def dagbag():
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _parse(monkeypatch)


def test_no_import_errors_and_every_dag_is_there(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED


def test_dag_files_are_named_after_their_dag_id(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


def test_every_dag_has_tags_docs_and_retries_with_backoff(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        for t in dag.tasks:
            assert t.retries >= 2, f"{dag_id}.{t.task_id} retries={t.retries}"
            assert t.retry_exponential_backoff, f"{dag_id}.{t.task_id} has no backoff"


def test_ingest_feeds_maps_batches_and_summarizes(dagbag):
    dag = dagbag.dags["ingest_feeds"]
    assert str(dag.schedule) == "*/10 * * * *"
    ingest = dag.get_task("ingest")
    assert type(ingest).__name__ == "DecoratedMappedOperator"
    assert dag.get_task("plan").downstream_task_ids == {"ingest"}
    summarize = dag.get_task("summarize")
    assert summarize.upstream_task_ids == {"ingest"}
    # Runs when nothing was due (the mapped task is skipped), not when a batch failed.
    assert summarize.trigger_rule == "none_failed"


def test_the_ingest_schedule_comes_from_configuration(monkeypatch):
    monkeypatch.setenv("WIREFEED_INGEST_SCHEDULE", "*/5 * * * *")
    bag = _parse(monkeypatch)
    assert str(bag.dags["ingest_feeds"].schedule) == "*/5 * * * *"


def test_maintenance_dags_are_manual_with_params_and_monitoring_is_periodic(dagbag):
    for dag_id in ("reenrich_stories", "reindex"):
        assert dagbag.dags[dag_id].schedule is None, dag_id
    assert dagbag.dags["reenrich_stories"].params.dump() == {"scope": "outdated", "batch_size": 200}
    assert dagbag.dags["reindex"].params.dump() == {"index": "articles", "delete_old": False}
    assert str(dagbag.dags["feed_health"].schedule) == "@daily"
    assert str(dagbag.dags["sync_feeds"].schedule) == "@hourly"
    assert [t.task_id for t in dagbag.dags["reindex"].topological_sort()] == [
        "copy",
        "swap",
        "retire",
    ]


def test_parsing_does_not_load_the_pipeline():
    """The scheduler parses DAG files often: spaCy, the extractor and the dedup maths load
    only when a task runs. A fresh interpreter shows what parsing alone imports."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag({str(DAGS)!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "heavy = ['pipeline.run', 'pipeline.entities.ner', 'pipeline.stories.dedup',"
        " 'spacy', 'trafilatura']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
