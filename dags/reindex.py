"""reindex: move an alias to a new index version without losing a document.

Builds the next version (settings and mapping from the index template), copies every
document (a scroll written back in bulk, versions kept), swaps the alias in one atomic
request, copies what reached the old version meanwhile, and keeps the old version unless
`delete_old` is set and the checks passed. Manual only.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from wirefeed_airflow.defaults import CONN_ID, DEFAULT_ARGS, START_DATE


@dag(
    dag_id="reindex",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wirefeed", "maintenance"],
    default_args=DEFAULT_ARGS,
    params={
        "index": Param(
            "articles",
            enum=["articles", "feeds", "dedup-keys", "feed-health"],
            description="which alias gets a new version",
        ),
        "delete_old": Param(
            False, type="boolean", description="delete the old version once the checks pass"
        ),
    },
    doc_md=__doc__,
)
def reindex() -> None:
    @task
    def copy(params: dict | None = None) -> dict:
        # Imported when the task runs: parsing this file must stay cheap.
        from wirefeed_airflow import tasks

        return tasks.reindex_copy(CONN_ID, params["index"])

    @task
    def swap(plan: dict) -> dict:
        from wirefeed_airflow import tasks

        return tasks.reindex_swap(CONN_ID, plan)

    @task
    def retire(result: dict, params: dict | None = None) -> str:
        from wirefeed_airflow import tasks

        return tasks.reindex_retire(CONN_ID, result, bool(params["delete_old"]))

    retire(swap(copy()))


reindex()
