"""sync_feeds: load the feeds file into the `feeds` index: add new feeds, update names,
tags and `enabled`, disable feeds that left the file (their history stays).

Runs hourly and on demand; the file is `WIREFEED_FEEDS_FILE` (default `feeds.yaml`).
"""

from __future__ import annotations

from airflow.sdk import dag, task
from wirefeed_airflow.defaults import CONN_ID, DEFAULT_ARGS, START_DATE


@dag(
    dag_id="sync_feeds",
    schedule="@hourly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "feeds"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def sync_feeds() -> None:
    @task
    def sync() -> dict[str, int]:
        # Imported when the task runs: parsing this file must stay cheap.
        from wirefeed_airflow import tasks

        return tasks.sync_feeds(CONN_ID)

    sync()


sync_feeds()
