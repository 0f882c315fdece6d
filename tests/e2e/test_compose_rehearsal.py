"""docker-compose.yml rehearsed without containers: every service that can run here, natively
on loopback, each with the environment and the command the compose file gives it, started
in its dependency order and waited for by its own health check. Then an `ingest_feeds` run
over a loopback feed, triggered through the api-server as a user would, completes under the
scheduler, and its stories are searchable as the least-privilege user.

Not here: Kibana and kibana-setup (no Kibana on this machine; tests/unit/test_compose.py
and test_kibana.py check them by format), and the celery profile (redis, airflow-worker)."""

from __future__ import annotations

import json
import secrets
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.config import EngineSettings
from pipeline.store import Store, make_client
from tests.support.airflow import AirflowImage
from tests.support.citydesk import STORIES, city_desk_rss
from tests.support.cli import wirefeed_json
from tests.support.compose import load_services, loopback_addresses, mapped
from tests.support.engine import compose_engine_launcher, engine_env
from tests.support.feedserver import FeedServer, Response
from tests.support.paths import open_tempdir
from tests.support.postgres import compose_postgres_launcher
from tests.support.stack import Stack

pytestmark = pytest.mark.engine

# The port each service listens on in its container: natively, on its own loopback address.
PORTS = {
    "elasticsearch": 9200,
    "postgres": 5432,
    "airflow-apiserver": 8080,
    "airflow-scheduler": 8974,
}
FROM_THE_AIRFLOW_IMAGE = (
    "elasticsearch-setup",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


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


@pytest.fixture()
def rehearsal(feed_server: FeedServer) -> Iterator[Rehearsal]:
    # What a user sets in .env: secrets as a user may pick them, here each starting with a
    # dash (which must not read as an option); a small heap, to spare this machine's memory.
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
    home = open_tempdir("wirefeed-rehearsal-")
    feeds = home / "feeds.yaml"
    url = feed_server.add("/city.xml", Response(city_desk_rss(feed_server.url(""))))
    feeds.write_text(f"- url: {url}\n  name: City desk\n")
    # The only environment beyond the compose file's: the feeds file (the image's lists
    # real sites, out of reach here) and the fetcher's networks (loopback is refused by the
    # SSRF guard unless allowed; exclusive mode allows it and keeps out anything else).
    extra = {"WIREFEED_FEEDS_FILE": str(feeds), "WIREFEED_ONLY_NETWORKS": "127.0.0.0/8,::1/128"}
    addresses = loopback_addresses(PORTS)
    airflow = AirflowImage.lay_out(home / "airflow").launcher(addresses, extra)
    launchers = {
        "elasticsearch": compose_engine_launcher(home / "engine", addresses),
        "postgres": compose_postgres_launcher(home / "postgres", addresses),
        **{name: airflow for name in FROM_THE_AIRFLOW_IMAGE},
    }
    try:
        with Stack(load_services(variables), addresses, launchers) as stack:
            stack.up()
            yield Rehearsal(stack, variables)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _until(what: str, probe, timeout: float, rehearsal: Rehearsal) -> Any:
    """probe()'s first truthy answer, tried every second for `timeout` seconds."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        answer = probe()
        if answer:
            return answer
        time.sleep(1)
    pytest.fail(f"{what}: not within {timeout:.0f}s\n{rehearsal.logs()}")


def test_an_ingest_run_under_the_scheduler_is_searchable_as_the_writer(rehearsal):
    api = rehearsal.url("http://airflow-apiserver:8080")
    credentials = {"username": "admin", "password": rehearsal.variables["AIRFLOW_ADMIN_PASSWORD"]}
    status, answer = _call("POST", f"{api}/auth/token", credentials)
    assert status in (200, 201), answer
    token = answer["access_token"]
    dag = f"{api}/api/v2/dags/ingest_feeds"

    def parsed() -> bool:
        status, answer = _call("GET", dag, token=token)
        return status == 200 and answer["is_paused"] is False

    _until("ingest_feeds parsed and unpaused", parsed, 180, rehearsal)
    status, run = _call("POST", f"{dag}/dagRuns", {"logical_date": None}, token)
    assert status == 200, run

    def finished() -> str | None:
        _, answer = _call("GET", f"{dag}/dagRuns/{run['dag_run_id']}", token=token)
        return answer["state"] if answer["state"] in ("success", "failed") else None

    state = _until("the triggered run finished", finished, 300, rehearsal)
    assert state == "success", rehearsal.logs()

    writer = rehearsal.writer
    hits = wirefeed_json("search", "harbour bridge", env=engine_env(writer))
    assert hits[0]["title"] == "Harbour bridge reopens"
    with make_client(writer) as client:
        store = Store(client, writer.index_prefix)
        store.refresh()
        assert store.count_stories() == len(STORIES)
