"""The machinery that runs compose services natively (tests/support/compose.py and stack.py):
health checks and durations read as Compose reads them, the environment a container would
have and nothing of this process's own, and services started in dependency order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.compose import (
    Address,
    ComposeError,
    Service,
    duration,
    load_services,
    mapped,
    native_env,
)
from tests.support.stack import Process, Stack, StackError


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
