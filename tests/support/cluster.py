"""A cluster of local engines on loopback: every node master-eligible and a data node, one
`elastic` password for all, each node a LocalEngine with a home of its own."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from pipeline.config import EngineSettings
from pipeline.index.store import make_client
from tests.support.engine import LocalEngine
from tests.support.paths import open_tempdir


class EngineCluster:
    def __init__(self, size: int, http_ports: range, transport_ports: range, password: str):
        self.names = [f"node{n + 1}" for n in range(size)]
        seeds = ",".join(f"127.0.0.1:{p}" for p in transport_ports[:size])
        self.password = password
        self.nodes = [
            LocalEngine(
                open_tempdir(f"wirefeed-{name}-"),
                http_ports[n],
                password=password,
                settings={
                    "cluster.name": "wirefeed-cluster-test",
                    "node.name": name,
                    "transport.port": str(transport_ports[n]),
                    "discovery.type": "",
                    "discovery.seed_hosts": seeds,
                    "cluster.initial_master_nodes": ",".join(self.names),
                },
            )
            for n, name in enumerate(self.names)
        ]

    @property
    def admin(self) -> EngineSettings:
        urls = ",".join(node.url for node in self.nodes)
        return EngineSettings(url=urls, username="elastic", password=self.password)

    def start(self) -> None:
        """Every node at once: none is healthy before the others have joined it."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(LocalEngine.start, self.nodes))

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(LocalEngine.stop, self.nodes))
        for node in self.nodes:
            shutil.rmtree(node.home, ignore_errors=True)

    def master(self) -> LocalEngine:
        with make_client(self.admin) as client:
            name = client.cat.master(format="json")[0]["node"]
        return self.nodes[self.names.index(name)]

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
