"""Elasticsearch instances of a test's own, beside the shared one: a spare single node, or a
cluster of several, each node started by scripts/search-engine with a home of its own."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.config import EngineSettings, Settings
from pipeline.store import make_client

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "search-engine"


def engine_home(prefix: str) -> Path:
    """A home the engine's own account can reach: not under pytest's temporary directory,
    which is private to this user (the engine runs as another one when tests run as root)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    return home


class EngineNode:
    """One engine process: `start` (idempotent), `stop` (SIGTERM, waits), `kill` (SIGKILL)."""

    def __init__(
        self,
        home: Path,
        port: int,
        settings: Sequence[str] = (),
        password: str | None = None,
        heap: str = "512m",
    ) -> None:
        self.home, self.port, self.settings = home, port, list(settings)
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "WIREFEED_ENGINE_HOME": str(home),
            "WIREFEED_ENGINE_PORT": str(port),
            "WIREFEED_ENGINE_HEAP": heap,
        }
        if password:
            self.env["WIREFEED_ENGINE_PASSWORD"] = password

    def _script(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"search-engine {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        self._script("start", *(arg for s in self.settings for arg in ("-E", s)))

    def stop(self) -> None:
        self._script("stop")

    def kill(self) -> None:
        """SIGKILL the server, as a crash or the OOM killer would, and wait until it is gone."""
        pid = int((self.home / "logs" / "engine.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    @property
    def admin(self) -> EngineSettings:
        """This instance's superuser (its password is its own, made at its first start)."""
        lines = self._script("env").splitlines()
        values = dict(shlex.split(line)[0].split("=", 1) for line in lines)
        return Settings.from_env(values).engine

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


class EngineCluster:
    """`size` nodes on loopback that form one cluster, every node master-eligible and a data
    node, one `elastic` password for all."""

    def __init__(self, size: int, http_ports: range, transport_ports: range, password: str):
        names = [f"node{n + 1}" for n in range(size)]
        seeds = ",".join(f"127.0.0.1:{p}" for p in transport_ports[:size])
        self.password = password
        self.nodes = [
            EngineNode(
                engine_home(f"wirefeed-{name}-"),
                http_ports[n],
                settings=[
                    "cluster.name=wirefeed-cluster-test",
                    f"node.name={name}",
                    f"transport.port={transport_ports[n]}",
                    "discovery.type=",
                    f"discovery.seed_hosts={seeds}",
                    f"cluster.initial_master_nodes={','.join(names)}",
                ],
                password=password,
            )
            for n, name in enumerate(names)
        ]

    @property
    def urls(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def admin(self) -> EngineSettings:
        return EngineSettings(url=self.urls, username="elastic", password=self.password)

    def start(self) -> None:
        """Every node at once: none is healthy before the others have joined it."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.start(), self.nodes))

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))
        for node in self.nodes:
            node.remove()

    def master(self) -> EngineNode:
        with make_client(self.admin) as client:
            name = client.cat.master(format="json")[0]["node"]
        return next(n for n in self.nodes if f"node.name={name}" in n.settings)

    def wait_for_green(self, timeout: float = 180) -> float:
        """Seconds until every shard has its primary and its replica again."""
        started = time.monotonic()
        with make_client(self.admin) as client:
            while time.monotonic() - started < timeout:
                try:
                    health = client.cluster.health(wait_for_status="green", timeout="5s")
                    if health["status"] == "green" and not health["timed_out"]:
                        return time.monotonic() - started
                except Exception:  # a node still starting answers 503 for a while
                    time.sleep(1)
        raise TimeoutError(f"cluster not green after {timeout} s")
