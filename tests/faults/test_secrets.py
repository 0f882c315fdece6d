"""A recognisable secret is set as the engine credentials, then searched for everywhere it
could surface: settings reprs, exceptions, logs, CLI output (stdout and stderr, success and
failure), Airflow task logs and return values, and the documents of the feeds index."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pipeline.config import ConfigError, EngineSettings, Settings
from pipeline.index.security import SecuritySetup
from pipeline.index.security import apply as apply_security
from pipeline.index.store import Store, make_client
from pipeline.models import FeedSource
from tests.faults.conftest import stored_documents
from tests.faults.farm import build_farm, cycle, feeds_yaml
from tests.support.faultproxy import FaultProxy
from tests.support.feedserver import Response
from tests.support.loopback import free_port

CANARY = "SECRET-canary-1234"
FAKE_API_KEY = f"{CANARY}-apikey"


@dataclass(frozen=True)
class Canary:
    """A real writer whose password is the canary, and a real API key of that writer: the
    secrets a run really authenticates with, searched for afterwards."""

    user: str
    api_key: str

    @property
    def basic(self) -> str:
        return base64.b64encode(f"{self.user}:{CANARY}".encode()).decode()

    def credentials(self, url: str, api_key: bool) -> dict[str, str]:
        env = {
            "ELASTICSEARCH_URL": url,
            "ELASTICSEARCH_USERNAME": self.user,
            "ELASTICSEARCH_PASSWORD": CANARY,
        }
        if api_key:
            env["ELASTICSEARCH_API_KEY"] = self.api_key
        return env


@pytest.fixture()
def canary(engine_admin: EngineSettings, store: Store) -> Iterator[Canary]:
    prefix = store.feeds.removesuffix("feeds")
    writer = SecuritySetup(prefix=prefix, user=f"{prefix}canary", password=CANARY)
    with make_client(engine_admin) as admin:
        apply_security(admin, writer)
        key = admin.security.grant_api_key(
            grant_type="password",
            username=writer.user,
            password=CANARY,
            api_key={"name": f"{prefix}canary"},
        )["encoded"]
        yield Canary(writer.user, key)
        admin.security.invalidate_api_key(username=writer.user)
        admin.security.delete_user(username=writer.user)


def scan(reliability, canary: Canary | None, places: dict[str, str]) -> None:
    secrets = [CANARY] + ([canary.basic, canary.api_key] if canary else [])
    leaked = [name for secret in secrets for name in reliability.scan(secret, places)]
    assert leaked == [], f"secret found in: {leaked}"


@pytest.fixture()
def proxy(engine_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(engine_url) as running:
        yield running


def test_settings_and_config_errors_hide_the_secret(reliability):
    settings = Settings.from_env(
        {
            "ELASTICSEARCH_URL": "http://127.0.0.1:9200",
            "ELASTICSEARCH_USERNAME": "elastic",
            "ELASTICSEARCH_PASSWORD": CANARY,
            "ELASTICSEARCH_API_KEY": FAKE_API_KEY,
        }
    )
    assert settings.engine.password == CANARY  # the secret is there, only never shown
    with pytest.raises(ConfigError) as bad_url:
        Settings.from_env({"ELASTICSEARCH_URL": f"elastic:{CANARY}@127.0.0.1:9200"})
    client = make_client(settings.engine)
    scan(
        reliability,
        None,
        {
            "repr(settings)": repr(settings),
            "str(settings)": str(settings),
            "repr(engine)": repr(settings.engine),
            "ConfigError": str(bad_url.value),
            "repr(client)": repr(client),
        },
    )
    assert "ELASTICSEARCH_URL" in str(bad_url.value)
    client.close()


def _wirefeed(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "-v", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _echo_401(canary: Canary) -> bytes:
    """A hostile or misconfigured engine that echoes the credentials it was sent."""
    reason = f"bad credentials: Authorization: Basic {canary.basic} / ApiKey {canary.api_key}"
    return json.dumps(
        {
            "error": {
                "type": "security_exception",
                "reason": reason,
            },
            "status": 401,
        }
    ).encode()


def test_cli_output_never_shows_the_secret(
    reliability, proxy, store, canary, index_prefix, feed_server, tmp_path
):
    farm = build_farm(feed_server, count=1, per_feed=2)
    broken = feed_server.add("/broken.xml", Response(b"oops", 500))
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds) + f"  - url: {broken}\n")
    prefix = {"WIREFEED_INDEX_PREFIX": index_prefix}
    runs: dict[str, subprocess.CompletedProcess] = {}
    # A successful run (with a failing feed) and the status listing, through the real engine.
    for api_key in (False, True):
        env = {**canary.credentials(proxy.url, api_key), **prefix}
        runs[f"run api_key={api_key}"] = _wirefeed(
            ["run", "--once", "--feeds", str(feeds_file)], env
        )
    runs["feeds status"] = _wirefeed(
        ["feeds", "status"], {**canary.credentials(proxy.url, True), **prefix}
    )
    # The engine refusing the credentials and echoing them back.
    proxy.answer(lambda _request: True, 401, times=1000, body=_echo_401(canary))
    runs["engine echoes 401"] = _wirefeed(["setup"], canary.credentials(proxy.url, api_key=True))
    proxy.clear()
    # The engine down, with the credentials in the URL as well.
    closed = f"http://elastic:{CANARY}@127.0.0.1:{free_port(range(9300, 9400))}"
    runs["engine down"] = _wirefeed(["setup"], canary.credentials(closed, api_key=False))
    bad_url = canary.credentials(f"elastic:{CANARY}@127.0.0.1:9", api_key=False)
    runs["bad URL"] = _wirefeed(["setup"], bad_url)

    assert [r.returncode for r in runs.values()] == [0, 0, 0, 1, 1, 2], {
        k: r.stderr[-500:] for k, r in runs.items()
    }
    assert "failed: " + broken in runs["run api_key=True"].stdout  # the failure is reported
    assert "AuthenticationException(401" in runs["engine echoes 401"].stderr
    places = {
        f"{k} {stream}": getattr(r, stream)
        for k, r in runs.items()
        for stream in ("stdout", "stderr")
    }
    places["feeds index"] = json.dumps(stored_documents(store, store.feeds))
    places["stories index"] = json.dumps(stored_documents(store, store.articles))
    scan(reliability, canary, places)
    assert len(stored_documents(store, store.feeds)) == 2


def test_logs_and_exceptions_in_process_never_show_the_secret(
    reliability, proxy, store, canary, feed_server, caplog
):
    farm = build_farm(feed_server, count=1, per_feed=2)
    broken = feed_server.add("/broken.xml", Response(b"oops", 500))
    feeds = [*farm.feeds, FeedSource(broken, full_text="never")]
    engine = EngineSettings(
        url=proxy.url, username=canary.user, password=CANARY, index_prefix=store.feeds[:-5]
    )
    client = make_client(engine)
    with caplog.at_level(logging.DEBUG):
        summary = cycle(feeds, Store(client, engine.index_prefix))
        # The engine gone mid-way: the exception and its traceback are scanned too.
        down = EngineSettings(
            url=f"http://elastic:{CANARY}@127.0.0.1:{free_port(range(9300, 9400))}",
            password=CANARY,
            username="elastic",
        )
        with pytest.raises(Exception) as failed:
            Store(make_client(down), "x-").setup()
    assert summary.feeds_failed == 1
    scan(
        reliability,
        canary,
        {
            "log records": caplog.text,
            "exception": f"{failed.value!s} {failed.value!r} {failed.getrepr()}",
            "summary": json.dumps(summary.as_dict()),
            "feeds index": json.dumps(stored_documents(store, store.feeds)),
        },
    )
    client.close()


def test_airflow_task_output_never_shows_the_secret(
    reliability, store, canary, feed_server, tmp_path, monkeypatch, caplog
):
    from wirefeed_airflow import tasks

    farm = build_farm(feed_server, count=1, per_feed=2)
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds))
    url = os.environ["ELASTICSEARCH_URL"]
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    conn = {
        "conn_type": "elasticsearch",
        "host": host,
        "port": int(port),
        "login": canary.user,
        "password": CANARY,
        "extra": {"index_prefix": store.feeds[:-5]},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WIREFEED_SECRET_TEST", json.dumps(conn))
    monkeypatch.setenv("WIREFEED_FEEDS_FILE", str(feeds_file))
    with caplog.at_level(logging.DEBUG):
        result = tasks.ingest_batch("wirefeed_secret_test", [f.url for f in farm.feeds])
    assert result["stories_new"] == 2
    scan(
        reliability,
        canary,
        {
            "task log": caplog.text,
            "task return value": json.dumps(result),
            "feeds index": json.dumps(stored_documents(store, store.feeds)),
        },
    )


def test_cli_blanks_a_secret_that_reaches_its_output(
    reliability, store, canary, engine_url, capsys, monkeypatch
):
    """Defence in depth: an error text that carries the secret (here planted in a feed's
    stored error, as a server echoing the credentials would) is blanked in CLI output."""
    from pipeline.cli import main
    from pipeline.models import FeedState

    planted = f"HTTP 401: Authorization: Basic {canary.basic}; password={CANARY}"
    store.save_feed_states([FeedState(url="http://127.0.0.1:9/feed", last_error=planted)])
    store.refresh()
    for name, value in canary.credentials(engine_url, api_key=True).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WIREFEED_INDEX_PREFIX", store.feeds[:-5])
    assert main(["feeds", "status"]) == 0
    assert main(["feeds", "status", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "HTTP 401: Authorization: Basic ***; password=***" in out
    scan(reliability, canary, {"feeds status stdout": out, "feeds status stderr": err})


def test_the_scan_finds_a_planted_secret(reliability):
    """The control: the same scan does report a secret when one is there."""
    probe = type(reliability)()
    assert probe.scan(CANARY, {"planted": f"password={CANARY}", "clean": "nothing"}) == ["planted"]
    assert probe.leaks == 1
