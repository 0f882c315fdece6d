"""docker-compose.yml's services, run natively: each with the environment and the command
the compose file gives it, variables interpolated as Compose does, service names mapped to
loopback addresses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent

# $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, $NAME
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class ComposeError(ValueError):
    """A required variable is missing, as `docker compose` would refuse to start."""


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        value = variables.get(name)
        op, arg = match["op"], match["arg"] or ""
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-") and unset:
            return interpolate(arg, variables)
        if op in (":?", "?") and unset:
            raise ComposeError(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(one, text)


def _interpolated(node: object, variables: Mapping[str, str]) -> object:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolated(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, variables) for key, value in node.items()}
    return node


@dataclass(frozen=True)
class Service:
    name: str
    spec: dict

    @property
    def environment(self) -> dict[str, str]:
        env = self.spec.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        return {key: "" if value is None else str(value) for key, value in env.items()}

    def argv(self) -> list[str]:
        """Entrypoint then command, as the container would run them."""
        parts = []
        for key in ("entrypoint", "command"):
            value = self.spec.get(key)
            if isinstance(value, str):
                value = ["/bin/sh", "-c", value] if key == "entrypoint" else value.split()
            parts += value or []
        return parts


def env_example() -> dict[str, str]:
    """The variables of .env.example, as a user who copied it to .env would have them."""
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


def load_services(variables: Mapping[str, str]) -> dict[str, Service]:
    """Every service, every variable interpolated from .env.example's values with
    `variables` over them."""
    variables = {**env_example(), **variables}
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return {
        name: Service(name, _interpolated(spec, variables))
        for name, spec in compose["services"].items()
    }


@dataclass(frozen=True)
class Address:
    """Where a service's `name:port` (inside the compose network) is reached natively."""

    name: str
    port: int
    host: str
    native_port: int


def mapped(text: str, addresses: list[Address]) -> str:
    """Service names in URLs (`//name:port`, `@name/`) and in Airflow connection options
    (`--conn-host name --conn-port port`) replaced by their native addresses."""
    for a in addresses:
        name = re.escape(a.name)
        text = re.sub(rf"(?<=[/@]){name}:{a.port}\b", f"{a.host}:{a.native_port}", text)
        text = re.sub(rf"(?<=[/@]){name}(?=[/\s\"']|$)", f"{a.host}:{a.native_port}", text)
        text = re.sub(
            rf"--conn-host {name} --conn-port {a.port}\b",
            f"--conn-host {a.host} --conn-port {a.native_port}",
            text,
        )
    return text


def run_natively(
    service: Service,
    addresses: list[Address],
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """The service's command to its end, with its environment (hosts mapped), and this
    project's virtualenv first on PATH, where the image has `wirefeed` and `airflow`."""
    env = {
        **os.environ,
        **{key: mapped(value, addresses) for key, value in service.environment.items()},
        **(extra_env or {}),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [mapped(part, addresses) for part in service.argv()]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
