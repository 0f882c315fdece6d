"""Running a DAG with dag.test() against the test's own indices, and reading its XComs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.config import EngineSettings
from tests.dags.test_dagbag import DAGS


def use_engine(monkeypatch: pytest.MonkeyPatch, engine: EngineSettings) -> None:
    """The elasticsearch_default connection, from the environment as in production."""
    host, port = engine.url.rsplit("//", 1)[1].rsplit(":", 1)
    monkeypatch.setenv(
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT",
        json.dumps(
            {
                "conn_type": "elasticsearch",
                "host": host,
                "port": int(port),
                "schema": "http",
                "login": engine.username,
                "password": engine.password,
                "extra": {"index_prefix": engine.index_prefix},
            }
        ),
    )


def load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def xcom(run, task_id: str) -> list[Any]:
    """Every return value of `task_id` in this run (one per mapped instance)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        run_id=run.run_id, dag_ids=run.dag_id, task_ids=task_id, key="return_value"
    )
    with create_session() as session:
        rows = session.scalars(query).all()
        return [XComModel.deserialize_value(row) for row in rows]
