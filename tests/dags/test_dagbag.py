"""Every DAG imports cleanly, is well formed, and parsing does no engine or network I/O."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    real_connect = socket.socket.connect
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("no I/O while parsing DAGs")

    socket.socket.connect = refuse
    try:
        bag = DagBag(str(DAGS))
    finally:
        socket.socket.connect = real_connect
    assert attempts == [], f"DAG parsing tried to connect to {attempts}"
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAGs found"


def test_dag_files_are_named_after_their_dag_id(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


def test_every_dag_has_tags_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for t in dag.tasks:
            assert t.retries >= 2, f"{dag_id}.{t.task_id} retries={t.retries}"


def test_ingest_feeds_schedule(dagbag):
    dag = dagbag.dags["ingest_feeds"]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
