"""ingest_feeds: poll the registered feeds and index new stories, every few minutes."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task
from wirefeed_airflow import tasks

CONN_ID = os.environ.get("WIREFEED_ES_CONN_ID", "elasticsearch_default")
BATCH_SIZE = int(os.environ.get("WIREFEED_BATCH_SIZE", "50"))


@dag(
    dag_id="ingest_feeds",
    schedule=os.environ.get("WIREFEED_INGEST_SCHEDULE", "*/10 * * * *"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "ingest"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    },
    doc_md=__doc__,
)
def ingest_feeds() -> None:
    @task
    def plan() -> list[list[str]]:
        return tasks.plan_batches(CONN_ID, BATCH_SIZE)

    @task
    def ingest(urls: list[str]) -> dict[str, int]:
        return tasks.ingest_batch(CONN_ID, urls)

    @task
    def summarize(results: list[dict[str, int]]) -> dict[str, int]:
        return tasks.summarize(list(results))

    summarize(ingest.expand(urls=plan()))


ingest_feeds()
