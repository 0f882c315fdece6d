"""Compose's `up --wait`, natively: each service started by its launcher once what it
depends on is started, healthy or completed as its `depends_on` says; health checks run as
the compose file writes them (inside the service, so `localhost` is its own address); the
one-shot services run to their end; everything stopped again in reverse order. A service
scaled to N (`--scale name=N`) runs as N containers, `name-1` ... `name-N`, each started by
the service's launcher under its own name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil

from tests.support.compose import Address, ComposeError, Service, address_of, mapped

# Compose checks health every `interval`; a rehearsal need not wait that long between tries.
CHECK_EVERY = 3.0


class Handle(Protocol):
    """A service started natively."""

    env: Mapping[str, str]  # its container's environment: its health check runs in it

    def returncode(self) -> int | None:
        """None while it runs."""

    def log(self) -> str:
        """The end of what it printed, to show when it fails."""

    def stop(self) -> None: ...


Launcher = Callable[[Service], Handle]


class Process:
    """A service's command as a child process in a session of its own, so that stopping it
    stops whatever it started too (Airflow's workers and task processes)."""

    def __init__(self, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.env, self.log_path = dict(env), log
        with log.open("wb") as out:
            self._popen = subprocess.Popen(
                argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def returncode(self) -> int | None:
        return self._popen.poll()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, grace: float = 30) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(grace)
        # Whatever is left of its session, also in process groups of their own (Airflow's
        # task processes): children that outlived it, or all of it after the grace.
        for proc in self._session():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self._popen.wait()

    def _session(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if os.getsid(proc.pid) == self._popen.pid:
                    found.append(proc)
        return found


def in_own_host(argv: list[str], hostname: str, address: str, hosts_file: Path) -> list[str]:
    """`argv` as in a container of its own: its own hostname (a UTS namespace) and an
    /etc/hosts naming it at `address` (a mount namespace), as Docker gives each container.
    Two containers of one service are then two hosts to what records where it ran."""
    hosts_file.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost\n{address}\t{hostname}\n")
    hosts_file.chmod(0o644)
    # Namespaces need root; an ordinary account gets them in a user namespace of its own.
    as_user = [] if os.geteuid() == 0 else ["--map-root-user"]
    script = 'mount --bind "$1" /etc/hosts && hostname "$2" && shift 2 && exec "$@"'
    return [
        "unshare",
        "--uts",
        "--mount",
        *as_user,
        "--",
        "/bin/sh",
        "-c",
        script,
        "sh",
        str(hosts_file),
        hostname,
        *argv,
    ]


@dataclass
class Daemon:
    """A server a script or tool runs in the background (the engine, PostgreSQL)."""

    env: Mapping[str, str]
    running: Callable[[], bool]
    log: Callable[[], str]
    stop: Callable[[], None]

    def returncode(self) -> int | None:
        return None if self.running() else 1


class StackError(RuntimeError):
    """A service failed: exited, never became healthy, or a one-shot ended with an error."""


def container_names(service: str, scale: int | None) -> list[str]:
    """A service's containers: itself, or scaled to N, `service-1` ... `service-N`."""
    return [service] if scale is None else [f"{service}-{n}" for n in range(1, scale + 1)]


@dataclass
class Stack:
    """Handles, health and completion are by container name."""

    services: Mapping[str, Service]
    addresses: list[Address]
    launchers: Mapping[str, Launcher]
    scale: Mapping[str, int] = field(default_factory=dict)
    handles: dict[str, Handle] = field(default_factory=dict)
    healthy: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        unknown = set(self.scale) - set(self.services)
        if unknown:
            raise ComposeError(f"no such service to scale: {sorted(unknown)}")
        # Each container is its service's spec under the container's name.
        self.containers: dict[str, Service] = {}
        self._service_of: dict[str, str] = {}
        for name, service in self.services.items():
            for container in container_names(name, self.scale.get(name)):
                self.containers[container] = Service(container, service.spec)
                self._service_of[container] = name

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.down()

    def up(self, timeout: float = 900) -> None:
        """Every service that has a launcher, in dependency order; returns once every one
        is healthy (or merely started, without a health check) or completed."""
        pending = self._launched()
        give_up = time.monotonic() + timeout
        deadlines: dict[str, float] = {}
        next_check: dict[str, float] = {}
        while True:
            for name in [n for n in pending if self._may_start(n)]:
                pending.remove(name)
                service = self.containers[name]
                self.handles[name] = self.launchers[self._service_of[name]](service)
                check = service.healthcheck()
                deadlines[name] = time.monotonic() + (check.budget if check else 0)
            waiting = False
            for name, handle in self.handles.items():
                if name in self.completed or name in self.healthy:
                    continue
                service = self.containers[name]
                code = handle.returncode()
                if code is not None:
                    if code == 0 and service.one_shot:
                        self.completed.add(name)
                        continue
                    raise StackError(f"{name} exited with {code}:\n{handle.log()}")
                check = service.healthcheck()
                if service.one_shot or check is None:
                    waiting |= service.one_shot
                    continue
                waiting = True
                if time.monotonic() >= next_check.get(name, 0):
                    next_check[name] = time.monotonic() + CHECK_EVERY
                    if self._check(name, handle):
                        self.healthy.add(name)
                    elif time.monotonic() > deadlines[name]:
                        raise StackError(f"{name} is not healthy:\n{handle.log()}")
            if not pending and not waiting:
                return
            if time.monotonic() > give_up:
                raise StackError(f"not up after {timeout:.0f}s: {self._states()}")
            time.sleep(0.5)

    def down(self) -> None:
        """Every started service stopped, the last started first, even if one fails to."""
        errors = []
        for name in reversed(list(self.handles)):
            try:
                self.handles.pop(name).stop()
            except Exception as error:  # noqa: BLE001 - stop the others all the same
                errors.append(f"{name}: {error}")
        if errors:
            raise StackError("could not stop " + "; ".join(errors))

    def _states(self) -> str:
        def state(name: str) -> str:
            if name in self.completed:
                return "completed"
            return "healthy" if name in self.healthy else "started"

        return ", ".join(f"{name} {state(name)}" for name in self.handles)

    def _launched(self) -> list[str]:
        """The containers to run; a dependency without a launcher is an error unless the
        compose file marks it `required: false` (as it does for the celery profile)."""
        names = [name for name in self.containers if self._service_of[name] in self.launchers]
        for name in names:
            for target, dep in self.containers[name].depends_on().items():
                if target not in self.launchers and dep.required:
                    raise ComposeError(f"{name} needs {target}, which has no native launcher")
        return names

    def _may_start(self, name: str) -> bool:
        """Every container of every service it depends on is started, healthy or
        completed, as its `depends_on` asks."""
        for target, dep in self.containers[name].depends_on().items():
            if target not in self.launchers:
                continue
            met = {
                "service_started": self.handles,
                "service_healthy": self.healthy,
                "service_completed_successfully": self.completed,
            }[dep.condition]
            of_target = [c for c, service in self._service_of.items() if service == target]
            if not all(c in met for c in of_target):
                return False
        return True

    def _check(self, name: str, handle: Handle) -> bool:
        check = self.containers[name].healthcheck()
        assert check is not None
        own = address_of(self.addresses, name)
        argv = [mapped(part, self.addresses, own) for part in check.argv]
        try:
            done = subprocess.run(
                argv, env=dict(handle.env), capture_output=True, timeout=check.timeout
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0
