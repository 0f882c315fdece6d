"""ingest_feeds: poll the due feeds in mapped batches and index what is new.

Schedule: `WIREFEED_INGEST_SCHEDULE` (cron or preset, default every 10 minutes). Batches are
sized by expected work: `WIREFEED_BATCH_SIZE` (default 50) feeds that bring entries, where a
feed that answered 304 (or sent the same body) at its last poll counts as a twentieth of
one; grown when needed so the batches never exceed Airflow's `[core] max_map_length`. The
last task logs the run summary.
"""

from __future__ import annotations

import os

from airflow.sdk import TriggerRule, dag, task
from wirefeed_airflow.defaults import CONN_ID, DEFAULT_ARGS, START_DATE


@dag(
    dag_id="ingest_feeds",
    schedule=os.environ.get("WIREFEED_INGEST_SCHEDULE", "*/10 * * * *"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "ingest"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def ingest_feeds() -> None:
    @task
    def plan() -> list[list[str]]:
        # Imported when the task runs: parsing this file must stay cheap.
        from wirefeed_airflow import tasks

        return tasks.plan_batches(CONN_ID)

    @task
    def ingest(urls: list[str]) -> dict[str, int]:
        from wirefeed_airflow import tasks

        return tasks.ingest_batch(CONN_ID, urls)

    # Also after a run with nothing due (the mapped task is skipped); not after a failure.
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def summarize(results: list[dict[str, int]]) -> dict[str, int]:
        from wirefeed_airflow import tasks

        return tasks.summarize(results)

    summarize(ingest.expand(urls=plan()))


ingest_feeds()
