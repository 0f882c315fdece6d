"""docker-compose.yml's services, run natively: each with the environment and the command
the compose file gives it, variables interpolated as Compose does, service names mapped to
loopback addresses."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.loopback import port_is_free

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
        return self.entrypoint() + self.command()

    def entrypoint(self) -> list[str]:
        value = self.spec.get("entrypoint")
        return ["/bin/sh", "-c", value] if isinstance(value, str) else list(value or [])

    def command(self) -> list[str]:
        value = self.spec.get("command")
        return value.split() if isinstance(value, str) else list(value or [])

    @property
    def one_shot(self) -> bool:
        """Meant to run to its end: Compose does not restart it."""
        return self.spec.get("restart") == "no"

    def depends_on(self) -> dict[str, Dependency]:
        deps = self.spec.get("depends_on") or {}
        if isinstance(deps, list):
            return {name: Dependency("service_started", True) for name in deps}
        return {
            name: Dependency(spec.get("condition", "service_started"), spec.get("required", True))
            for name, spec in deps.items()
        }

    def healthcheck(self) -> HealthCheck | None:
        spec = self.spec.get("healthcheck")
        if not spec or spec.get("disable"):
            return None
        test = spec["test"]
        if isinstance(test, str):
            test = ["CMD-SHELL", test]
        if test[0] == "NONE":
            return None
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
        return HealthCheck(
            argv=argv,
            interval=duration(spec.get("interval", "30s")),
            timeout=duration(spec.get("timeout", "30s")),
            retries=int(spec.get("retries", 3)),
            start_period=duration(spec.get("start_period", "0s")),
        )


@dataclass(frozen=True)
class Dependency:
    condition: str  # service_started, service_healthy or service_completed_successfully
    required: bool


@dataclass(frozen=True)
class HealthCheck:
    argv: list[str]
    interval: float
    timeout: float
    retries: int
    start_period: float

    @property
    def budget(self) -> float:
        """How long Compose waits before it calls the service unhealthy."""
        return self.start_period + self.retries * (self.interval + self.timeout)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(text: str | int | float) -> float:
    """A Compose duration ("1m30s", "500ms") in seconds."""
    if isinstance(text, int | float):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ComposeError(f"not a duration: {text!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


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


def address_of(addresses: list[Address], name: str) -> Address | None:
    return next((a for a in addresses if a.name == name), None)


def own_address(addresses: list[Address], name: str) -> Address:
    """The address a service that listens must have."""
    own = address_of(addresses, name)
    if own is None:
        raise ComposeError(f"{name} listens: give it an Address")
    return own


def loopback_addresses(ports: Mapping[str, int], everywhere: Collection[str] = ()) -> list[Address]:
    """Each service (name: the port it listens on in its container) its own loopback
    address, on that same port: the first of 127.0.0.2, .3, ... where the port is free.
    The services in `everywhere` listen on every interface whatever they are told (Airflow's
    log server): each of them gets a port of its own too, the first free one from its own."""
    addresses: list[Address] = []
    last = 1
    for name, port in ports.items():
        native = port
        if name in everywhere:
            taken = {a.native_port for a in addresses}
            while native in taken or not port_is_free("0.0.0.0", native):
                native += 1
        free = [n for n in range(last + 1, 255) if port_is_free(f"127.0.0.{n}", native)][:1]
        if not free:
            raise RuntimeError(f"{name}: port {native} is taken on every loopback address")
        last = free[0]
        addresses.append(Address(name, port, f"127.0.0.{last}", native))
    return addresses


def mapped(text: str, addresses: list[Address], own: Address | None = None) -> str:
    """Service names in URLs (`//name:port`, `@name/`) and in Airflow connection options
    (`--conn-host name --conn-port port`) replaced by their native addresses; and, for a
    command run inside the service `own` (a health check), `localhost:port` by its own."""
    if own is not None:
        text = re.sub(rf"\blocalhost:{own.port}\b", f"{own.host}:{own.native_port}", text)
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


# What a container has from the machine besides its image and the compose file: a locale, a
# home, and the OpenBLAS settings some processors here need for numpy to compute right.
_FROM_THIS_MACHINE = (
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def _host_name() -> str:
    """What Docker puts in HOSTNAME: the name Airflow records as a job's host (the host's
    canonical name; `airflow jobs check --hostname "$HOSTNAME"` looks for it)."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((info[3] for info in found if info[3]), name)


def native_env(
    service: Service,
    addresses: list[Address],
    image_env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment the service's container has, natively: none of this process's own
    (a test's engine or Airflow settings must not leak in), but PATH with this project's
    virtualenv first (where the image has `wirefeed` and `airflow`), HOSTNAME as Docker
    sets it, what the image sets, the compose file's environment with service names mapped,
    and then `extra_env`."""
    env = {name: os.environ[name] for name in _FROM_THIS_MACHINE if name in os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    env["HOSTNAME"] = _host_name()
    env.update(image_env or {})
    env.update({key: mapped(value, addresses) for key, value in service.environment.items()})
    env.update(extra_env or {})
    return env


def run_natively(
    service: Service,
    addresses: list[Address],
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """The service's command to its end, in its environment (hosts mapped)."""
    env = native_env(service, addresses, extra_env=extra_env)
    argv = [mapped(part, addresses) for part in service.argv()]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
