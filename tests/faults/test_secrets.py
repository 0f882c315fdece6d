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

import pytest

from pipeline.config import ConfigError, EngineSettings, Settings
from pipeline.models import FeedSource
from pipeline.store import Store, make_client
from tests.faults.conftest import free_port, stored_documents
from tests.faults.farm import build_farm, cycle, feeds_yaml
from tests.support.faultproxy import FaultProxy
from tests.support.feedserver import Response

CANARY = "SECRET-canary-1234"
API_KEY = f"{CANARY}-apikey"
BASIC = base64.b64encode(f"elastic:{CANARY}".encode()).decode()


def _forms(text: str) -> bool:
    return CANARY in text or BASIC in text


def scan(reliability, places: dict[str, str]) -> None:
    leaked = reliability.scan(CANARY, places)
    leaked += reliability.scan(BASIC, places)
    assert leaked == [], f"secret found in: {leaked}"


@pytest.fixture()
def proxy(engine_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(engine_url) as running:
        yield running


def credentials(url: str, api_key: bool) -> dict[str, str]:
    env = {
        "ELASTICSEARCH_URL": url,
        "ELASTICSEARCH_USERNAME": "elastic",
        "ELASTICSEARCH_PASSWORD": CANARY,
    }
    if api_key:
        env["ELASTICSEARCH_API_KEY"] = API_KEY
    return env


def test_settings_and_config_errors_hide_the_secret(reliability):
    settings = Settings.from_env(credentials("http://127.0.0.1:9200", api_key=True))
    assert settings.engine.password == CANARY  # the secret is there, only never shown
    with pytest.raises(ConfigError) as bad_url:
        Settings.from_env({"ELASTICSEARCH_URL": f"elastic:{CANARY}@127.0.0.1:9200"})
    client = make_client(settings.engine)
    scan(
        reliability,
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


def _echo_401() -> bytes:
    """A hostile or misconfigured engine that echoes the credentials it was sent."""
    return json.dumps(
        {
            "error": {
                "type": "security_exception",
                "reason": f"bad credentials: Authorization: Basic {BASIC} / ApiKey {API_KEY}",
            },
            "status": 401,
        }
    ).encode()


def test_cli_output_never_shows_the_secret(
    reliability, proxy, store, index_prefix, feed_server, tmp_path
):
    farm = build_farm(feed_server, count=1, per_feed=2)
    broken = feed_server.add("/broken.xml", Response(b"oops", 500))
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feeds_yaml(farm.feeds) + f"  - url: {broken}\n")
    prefix = {"WIREFEED_INDEX_PREFIX": index_prefix}
    runs: dict[str, subprocess.CompletedProcess] = {}
    # A successful run (with a failing feed) and the status listing, through the real engine.
    for api_key in (False, True):
        env = {**credentials(proxy.url, api_key), **prefix}
        runs[f"run api_key={api_key}"] = _wirefeed(
            ["run", "--once", "--feeds", str(feeds_file)], env
        )
    runs["feeds status"] = _wirefeed(
        ["feeds", "status"], {**credentials(proxy.url, True), **prefix}
    )
    # The engine refusing the credentials and echoing them back.
    proxy.answer(lambda _request: True, 401, times=1000, body=_echo_401())
    runs["engine echoes 401"] = _wirefeed(["setup"], credentials(proxy.url, api_key=True))
    proxy.clear()
    # The engine down, with the credentials in the URL as well.
    closed = f"http://elastic:{CANARY}@127.0.0.1:{free_port(range(9300, 9400))}"
    runs["engine down"] = _wirefeed(["setup"], credentials(closed, api_key=False))
    runs["bad URL"] = _wirefeed(["setup"], credentials(f"elastic:{CANARY}@127.0.0.1:9", False))

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
    scan(reliability, places)
    assert len(stored_documents(store, store.feeds)) == 2


def test_logs_and_exceptions_in_process_never_show_the_secret(
    reliability, proxy, store, feed_server, caplog
):
    farm = build_farm(feed_server, count=1, per_feed=2)
    broken = feed_server.add("/broken.xml", Response(b"oops", 500))
    feeds = [*farm.feeds, FeedSource(broken, full_text="never")]
    engine = EngineSettings(
        url=proxy.url, username="elastic", password=CANARY, index_prefix=store.feeds[:-5]
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
        {
            "log records": caplog.text,
            "exception": f"{failed.value!s} {failed.value!r} {failed.getrepr()}",
            "summary": json.dumps(summary.as_dict()),
            "feeds index": json.dumps(stored_documents(store, store.feeds)),
        },
    )
    client.close()


def test_airflow_task_output_never_shows_the_secret(
    reliability, store, feed_server, tmp_path, monkeypatch, caplog
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
        "login": "elastic",
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
        {
            "task log": caplog.text,
            "task return value": json.dumps(result),
            "feeds index": json.dumps(stored_documents(store, store.feeds)),
        },
    )


def test_cli_blanks_a_secret_that_reaches_its_output(
    reliability, store, engine_url, capsys, monkeypatch
):
    """Defence in depth: an error text that carries the secret (here planted in a feed's
    stored error, as a server echoing the credentials would) is blanked in CLI output."""
    from pipeline.cli import main
    from pipeline.models import FeedState

    planted = f"HTTP 401: Authorization: Basic {BASIC}; password={CANARY}"
    store.save_feed_states([FeedState(url="http://127.0.0.1:9/feed", last_error=planted)])
    store.refresh()
    for name, value in credentials(engine_url, api_key=True).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WIREFEED_INDEX_PREFIX", store.feeds[:-5])
    assert main(["feeds", "status"]) == 0
    assert main(["feeds", "status", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "HTTP 401: Authorization: Basic ***; password=***" in out
    scan(reliability, {"feeds status stdout": out, "feeds status stderr": err})


def test_the_scan_finds_a_planted_secret(reliability):
    """The control: the same scan does report a secret when one is there."""
    probe = type(reliability)()
    assert probe.scan(CANARY, {"planted": f"password={CANARY}", "clean": "nothing"}) == ["planted"]
    assert probe.leaks == 1
    assert _forms(f"Basic {BASIC}")
