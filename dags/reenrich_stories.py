"""reenrich_stories: re-run entity enrichment on stored stories in place, from their stored
title and body (nothing is fetched again). Manual: trigger it after changing the NER model
or the entity alias table. `scope=outdated` redoes stories enriched under another version
(or never); `scope=all` redoes every story.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from wirefeed_airflow.defaults import CONN_ID, DEFAULT_ARGS, START_DATE


@dag(
    dag_id="reenrich_stories",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "enrichment", "maintenance"],
    default_args=DEFAULT_ARGS,
    params={
        "scope": Param(
            "outdated",
            enum=["outdated", "all"],
            description="outdated: other or no enrichment version; all: every story",
        ),
        "batch_size": Param(
            200, type="integer", minimum=1, maximum=5000, description="stories per NER batch"
        ),
    },
    doc_md=__doc__,
)
def reenrich_stories() -> None:
    @task
    def reenrich(params: dict | None = None) -> dict:
        # Imported when the task runs: parsing this file must stay cheap.
        from wirefeed_airflow import tasks

        return tasks.reenrich_stories(CONN_ID, params["scope"] == "all", int(params["batch_size"]))

    reenrich()


reenrich_stories()
