"""docker-compose.yml rehearsed without containers: every service that can run here, natively
on loopback, each with the environment and the command the compose file gives it, started
in its dependency order and waited for by its own health check; with `workers`, the celery
profile too (Redis, and `--scale airflow-worker=N`: N workers, each a host of its own).
Then the Airflow REST API, as a user drives it.

Not here: Kibana and kibana-setup (no Kibana on this machine; tests/unit/test_compose.py
and test_kibana.py check them by format)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import EngineSettings
from tests.support.airflow import AirflowImage
from tests.support.compose import load_services, loopback_addresses, mapped
from tests.support.engine import compose_engine_launcher
from tests.support.postgres import compose_postgres_launcher
from tests.support.redis import compose_redis_launcher
from tests.support.stack import Stack, container_names

# The port each service listens on in its container: natively, on its own loopback address.
PORTS = {
    "elasticsearch": 9200,
    "postgres": 5432,
    "airflow-apiserver": 8080,
    "airflow-scheduler": 8974,
}
# The celery profile's: Redis, and each worker's log server.
REDIS_PORT, WORKER_LOG_PORT = 6379, 8793
FROM_THE_AIRFLOW_IMAGE = (
    "elasticsearch-setup",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
WORKER = "airflow-worker"


def user_variables() -> dict[str, str]:
    """What a user sets in .env: secrets as a user may pick them, here each starting with a
    dash (which must not read as an option); a small heap, to spare this machine's memory."""
    variables = {
        name: f"-{secrets.token_urlsafe(16)}"
        for name in (
            "ELASTIC_PASSWORD",
            "KIBANA_SYSTEM_PASSWORD",
            "WIREFEED_ES_PASSWORD",
            "POSTGRES_PASSWORD",
            "AIRFLOW_ADMIN_PASSWORD",
            "AIRFLOW_JWT_SECRET",
        )
    }
    variables.update(WIREFEED_ES_USER="wirefeed", AIRFLOW_ADMIN_USER="admin", ES_HEAP="512m")
    return variables


@dataclass
class Rehearsal:
    stack: Stack
    variables: dict[str, str]

    def url(self, compose_url: str) -> str:
        """A URL of the compose network, as reached from here."""
        return mapped(compose_url, self.stack.addresses)

    @property
    def writer(self) -> EngineSettings:
        """The least-privilege user elasticsearch-setup made, as .env names it."""
        return EngineSettings(
            url=self.url("http://elasticsearch:9200"),
            username=self.variables["WIREFEED_ES_USER"],
            password=self.variables["WIREFEED_ES_PASSWORD"],
        )

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{h.log()}" for name, h in self.stack.handles.items())

    def api(self) -> AirflowApi:
        """The api-server's REST API, logged in as the admin user .env names."""
        return AirflowApi(
            self.url("http://airflow-apiserver:8080"),
            self.variables["AIRFLOW_ADMIN_USER"],
            self.variables["AIRFLOW_ADMIN_PASSWORD"],
            self.logs,
        )


@contextlib.contextmanager
def compose_rehearsal(
    home: Path,
    feeds_file: Path,
    *,
    workers: int = 0,
    variables: Mapping[str, str] | None = None,
) -> Iterator[Rehearsal]:
    """The stack up, its data under `home`, polling the feeds of `feeds_file`; `workers`:
    AIRFLOW_EXECUTOR=CeleryExecutor with the celery profile and that many workers.
    `variables` go over `user_variables()`. Everything is stopped on the way out."""
    chosen = {**user_variables(), **(variables or {})}
    ports = dict(PORTS)
    scale = {}
    if workers:
        chosen["AIRFLOW_EXECUTOR"] = "CeleryExecutor"
        ports["redis"] = REDIS_PORT
        scale[WORKER] = workers
        ports.update(dict.fromkeys(container_names(WORKER, workers), WORKER_LOG_PORT))
    # The only environment beyond the compose file's: the feeds file (the image's lists
    # real sites, out of reach here) and the fetcher's networks (loopback is refused by the
    # SSRF guard unless allowed; exclusive mode allows it and keeps out anything else).
    extra = {
        "WIREFEED_FEEDS_FILE": str(feeds_file),
        "WIREFEED_ONLY_NETWORKS": "127.0.0.0/8,::1/128",
    }
    addresses = loopback_addresses(ports, everywhere=container_names(WORKER, workers))
    image = AirflowImage.lay_out(home / "airflow")
    airflow = image.launcher(addresses, extra)
    launchers = {
        "elasticsearch": compose_engine_launcher(home / "engine", addresses),
        "postgres": compose_postgres_launcher(home / "postgres", addresses),
        **{name: airflow for name in FROM_THE_AIRFLOW_IMAGE},
    }
    if workers:
        launchers["redis"] = compose_redis_launcher(home / "redis", addresses)
        launchers[WORKER] = image.launcher(addresses, extra, own_hosts=True)
    with Stack(load_services(chosen), addresses, launchers, scale) as stack:
        stack.up()
        yield Rehearsal(stack, chosen)


def until(what: str, probe: Callable[[], Any], timeout: float, logs: Callable[[], str]) -> Any:
    """probe()'s first truthy answer, tried every second for `timeout` seconds."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        answer = probe()
        if answer:
            return answer
        time.sleep(1)
    raise TimeoutError(f"{what}: not within {timeout:.0f}s\n{logs()}")


class AirflowApi:
    """Airflow's REST API (v2) with a token for `username`."""

    def __init__(self, base: str, username: str, password: str, logs: Callable[[], str]):
        self.base, self.logs = base, logs
        self.token = None
        login = {"username": username, "password": password}
        status, answer = self.call("POST", "/auth/token", login)
        if status not in (200, 201):
            raise RuntimeError(f"no token for {username}: {status} {answer}")
        self.token = answer["access_token"]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def wait_until_active(self, dag_id: str, timeout: float = 180) -> None:
        """The DAG parsed and unpaused."""

        def active() -> bool:
            status, answer = self.call("GET", f"/api/v2/dags/{dag_id}")
            return status == 200 and answer["is_paused"] is False

        until(f"{dag_id} parsed and unpaused", active, timeout, self.logs)

    def trigger(self, dag_id: str) -> str:
        """A new run of `dag_id`, as the UI's trigger button makes it; its run id."""
        status, run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
        if status != 200:
            raise RuntimeError(f"trigger {dag_id}: {status} {run}")
        return run["dag_run_id"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """The run once it finished (success or failed)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}"

        def finished() -> dict[str, Any] | None:
            _, run = self.call("GET", path)
            return run if run["state"] in ("success", "failed") else None

        return until(f"{dag_id} run {run_id} finished", finished, timeout, self.logs)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run, mapped ones each on its own, page by page."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances"
        found: list[dict[str, Any]] = []
        while True:
            status, page = self.call("GET", f"{path}?limit=100&offset={len(found)}")
            if status != 200:
                raise RuntimeError(f"task instances of {run_id}: {status} {page}")
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """What a task of the run returned."""
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/"
            f"{task_id}/xcomEntries/return_value"
        )
        status, entry = self.call("GET", path)
        if status != 200:
            raise RuntimeError(f"XCom of {task_id} in {run_id}: {status} {entry}")
        return entry["value"]
