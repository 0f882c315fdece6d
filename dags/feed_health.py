"""feed_health: once a day, flag feeds that failed for days, went silent, moved, were
disabled or are read only from malformed bodies (degraded), and store the verdicts in the
`feed-health` index (the Kibana "Feed health" dashboard shows them).

Thresholds: `WIREFEED_HEALTH_FAILING_DAYS` (default 2), `WIREFEED_HEALTH_SILENT_DAYS`
(default 3).
"""

from __future__ import annotations

from airflow.sdk import dag, task
from wirefeed_airflow.defaults import CONN_ID, DEFAULT_ARGS, START_DATE


@dag(
    dag_id="feed_health",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "feeds", "monitoring"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def feed_health() -> None:
    @task
    def check() -> dict[str, int]:
        # Imported when the task runs: parsing this file must stay cheap.
        from wirefeed_airflow import tasks

        return tasks.feed_health(CONN_ID)

    check()


feed_health()
