"""The machinery that runs compose services natively (tests/support/compose.py and stack.py):
health checks and durations read as Compose reads them, the environment a container would
have and nothing of this process's own, and services started in dependency order."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.compose import (
    Address,
    ComposeError,
    Service,
    duration,
    load_services,
    loopback_addresses,
    mapped,
    native_env,
)
from tests.support.loopback import free_port
from tests.support.redis import compose_redis_launcher
from tests.support.stack import Process, Stack, StackError, in_own_host


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), (5, 5.0)]
)
def test_durations_read_as_compose_reads_them(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "s", "1m 30s", "3d"])
def test_a_bad_duration_is_refused(text):
    with pytest.raises(ComposeError):
        duration(text)


def test_the_compose_files_health_checks_as_commands():
    services = load_services(_secrets())
    es = services["elasticsearch"].healthcheck()
    assert es.argv[:2] == ["/bin/sh", "-c"] and "curl" in es.argv[2]
    assert (es.interval, es.timeout, es.retries, es.start_period) == (10, 10, 30, 30)
    assert es.budget == 30 + 30 * (10 + 10)
    assert services["airflow-apiserver"].healthcheck().argv[:2] == ["curl", "--fail"]
    assert services["airflow-init"].healthcheck() is None
    assert services["airflow-init"].one_shot and not services["postgres"].one_shot


def test_dependencies_with_their_conditions():
    deps = load_services(_secrets())["airflow-scheduler"].depends_on()
    assert deps["airflow-apiserver"].condition == "service_healthy"
    assert deps["airflow-init"].condition == "service_completed_successfully"
    assert deps["redis"].required is False and deps["postgres"].required is True


def test_localhost_in_a_health_check_is_the_services_own_address():
    own = Address("airflow-apiserver", 8080, "127.0.0.4", 8081)
    others = [Address("postgres", 5432, "127.0.0.3", 5432)]
    check = "curl http://localhost:8080/api/v2/version && pg_isready -h postgres"
    assert mapped(check, others, own) == (
        "curl http://127.0.0.4:8081/api/v2/version && pg_isready -h postgres"
    )
    assert mapped("http://localhost:9999/", others, own) == "http://localhost:9999/"


def test_the_native_environment_holds_nothing_of_this_process(monkeypatch):
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    monkeypatch.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    service = Service("web", {"environment": {"DB": "postgresql://u:p@postgres/db"}})
    env = native_env(
        service, [Address("postgres", 5432, "127.0.0.3", 5433)], {"IMAGE": "1"}, {"DB_X": "2"}
    )
    assert env["DB"] == "postgresql://u:p@127.0.0.3:5433/db"
    assert (env["IMAGE"], env["DB_X"]) == ("1", "2")
    assert "ELASTICSEARCH_URL" not in env and "AIRFLOW__CORE__UNIT_TEST_MODE" not in env
    assert env["HOSTNAME"] and env["PATH"]


def _secrets() -> dict[str, str]:
    names = ("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "WIREFEED_ES_PASSWORD")
    names += ("POSTGRES_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_JWT_SECRET")
    return {name: "x" for name in names}


def _shell(tmp_path: Path, order: list[str]):
    """A launcher that runs the service's command in sh, noting the order of starts."""

    def launch(service: Service) -> Process:
        order.append(service.name)
        return Process(["/bin/sh", "-c", service.command()[0]], {}, tmp_path / service.name)

    return launch


def _check(test: str) -> dict:
    return {"test": ["CMD-SHELL", test], "interval": "1s", "timeout": "2s", "retries": 2}


def test_services_start_in_dependency_order_and_stop(tmp_path):
    flag = tmp_path / "db-ready"
    services = {
        "app": Service(
            "app",
            {
                "command": ["sleep 60"],
                "depends_on": {
                    "migrate": {"condition": "service_completed_successfully"},
                    "cache": {"condition": "service_started", "required": False},
                },
            },
        ),
        "migrate": Service(
            "migrate",
            {
                "command": [f"test -f {flag}"],
                "restart": "no",
                "depends_on": {"db": {"condition": "service_healthy"}},
            },
        ),
        "db": Service(
            "db",
            {
                "command": [f"sleep 1; touch {flag}; sleep 60"],
                "healthcheck": _check(f"test -f {flag}"),
            },
        ),
    }
    order: list[str] = []
    launch = _shell(tmp_path, order)
    with Stack(services, [], {name: launch for name in services}) as stack:
        stack.up(timeout=30)
        assert order == ["db", "migrate", "app"]
        assert stack.healthy == {"db"} and stack.completed == {"migrate"}
        app = stack.handles["app"]
        assert app.returncode() is None
    assert app.returncode() is not None


def test_a_failing_one_shot_stops_the_stack_and_says_why(tmp_path):
    services = {
        "db": Service("db", {"command": ["sleep 60"]}),
        "migrate": Service(
            "migrate",
            {"command": ["echo no schema; exit 3"], "restart": "no", "depends_on": ["db"]},
        ),
    }
    launch = _shell(tmp_path, [])
    stack = Stack(services, [], {name: launch for name in services})
    with pytest.raises(StackError, match="migrate exited with 3:\nno schema"), stack:
        stack.up(timeout=30)
    assert stack.handles == {}


def test_a_required_dependency_without_a_launcher_is_an_error(tmp_path):
    services = {"app": Service("app", {"command": ["true"], "depends_on": ["db"]})}
    with pytest.raises(ComposeError, match="app needs db"):
        Stack(services, [], {"app": _shell(tmp_path, [])}).up()


def test_a_scaled_service_runs_as_numbered_containers_and_its_dependents_wait_for_all(tmp_path):
    flag = tmp_path / "ready"
    services = {
        "worker": Service(
            "worker",
            # Healthy once both containers have started: each leaves its name in the flag.
            {
                "command": [f"echo x >> {flag}; sleep 60"],
                "healthcheck": _check(f"test $(wc -l < {flag}) -ge 2"),
            },
        ),
        "monitor": Service(
            "monitor",
            {"command": ["sleep 60"], "depends_on": {"worker": {"condition": "service_healthy"}}},
        ),
    }
    order: list[str] = []
    launch = _shell(tmp_path, order)
    with Stack(services, [], {name: launch for name in services}, {"worker": 2}) as stack:
        stack.up(timeout=30)
        assert order == ["worker-1", "worker-2", "monitor"]
        assert stack.healthy == {"worker-1", "worker-2"}
        assert set(stack.handles) == {"worker-1", "worker-2", "monitor"}


def test_scaling_an_unknown_service_is_an_error():
    with pytest.raises(ComposeError, match="no such service to scale"):
        Stack({"app": Service("app", {})}, [], {}, {"worker": 2})


def test_services_that_listen_everywhere_get_ports_of_their_own():
    ports = {"postgres": 5432, "worker-1": 8793, "worker-2": 8793}
    found = {a.name: a for a in loopback_addresses(ports, everywhere=["worker-1", "worker-2"])}
    assert found["postgres"].native_port == 5432
    assert found["worker-1"].port == found["worker-2"].port == 8793
    assert found["worker-1"].native_port != found["worker-2"].native_port
    assert len({a.host for a in found.values()}) == 3


def test_a_container_of_its_own_has_its_hostname_and_is_named_in_its_hosts_file(tmp_path):
    argv = in_own_host(
        ["/bin/sh", "-c", "hostname; getent hosts replica-2"],
        "replica-2",
        "127.0.0.9",
        tmp_path / "hosts",
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    name, address = done.stdout.splitlines()
    assert name == "replica-2"
    assert address.split() == ["127.0.0.9", "replica-2"]
    # This machine's own name and hosts file are untouched.
    assert socket.gethostname() != "replica-2"
    assert "replica-2" not in Path("/etc/hosts").read_text()


def test_compose_redis_answers_its_own_health_check(tmp_path):
    addresses = loopback_addresses({"redis": free_port(range(16379, 16479))})
    service = load_services(_secrets())["redis"]
    handle = compose_redis_launcher(tmp_path, addresses)(service)
    try:
        check = service.healthcheck()
        for _ in range(50):
            done = subprocess.run(check.argv, env=handle.env, capture_output=True, text=True)
            if done.stdout.strip() == "PONG":
                break
            time.sleep(0.2)
        assert done.stdout.strip() == "PONG", handle.log()
    finally:
        handle.stop()
    assert handle.returncode() is not None
