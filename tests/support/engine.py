"""Search engines for tests: the environment a `wirefeed` subprocess needs to reach one as a
user, and private instances run by scripts/search-engine (a spare one a test may stop, or
compose's `elasticsearch` service)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.config import EngineSettings, Settings
from pipeline.index.security import writer_role_name
from pipeline.index.store import Store
from tests.support.compose import Address, ComposeError, Service, native_env, own_address
from tests.support.stack import Daemon, Launcher

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "search-engine"


def engine_env(engine: EngineSettings) -> dict[str, str]:
    return {
        "ELASTICSEARCH_URL": engine.url,
        "ELASTICSEARCH_USERNAME": engine.username or "",
        "ELASTICSEARCH_PASSWORD": engine.password or "",
        "WIREFEED_INDEX_PREFIX": engine.index_prefix,
    }


def remove_writer(admin: Elasticsearch, writer: EngineSettings) -> None:
    """Delete a test writer's indices, templates, user and role (as the superuser)."""
    prefix = writer.index_prefix
    names = list(admin.indices.get(index=f"{prefix}*"))
    if names:
        admin.indices.delete(index=names)
    Store(admin, prefix).drop_templates()
    admin.security.delete_user(username=writer.username or "")
    admin.security.delete_role(name=writer_role_name(prefix))


def stored_urls(store: Store) -> list[str]:
    """Every copy URL of every stored story, once per appearance (a repeat is a duplicate)."""
    store.client.indices.refresh(index=store.articles)
    response = store.client.search(
        index=store.articles, size=10_000, query={"match_all": {}}, source_includes=["urls"]
    )
    return [u for hit in response["hits"]["hits"] for u in hit["_source"].get("urls", [])]


class LocalEngine:
    """An engine instance of its own (never the shared one): its home, address and heap,
    its `elastic` password (made at the first start unless given) and elasticsearch.yml
    settings over the script's single-node defaults."""

    def __init__(
        self,
        home: Path,
        port: int,
        *,
        host: str = "127.0.0.1",
        heap: str = "512m",
        password: str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.home = home
        self.url = f"http://{host}:{port}"
        self.settings = dict(settings or {})
        env = {
            name: value for name, value in os.environ.items() if name != "WIREFEED_ENGINE_PASSWORD"
        }
        self.env = {
            **env,
            "WIREFEED_ENGINE_HOME": str(home),
            "WIREFEED_ENGINE_HOST": host,
            "WIREFEED_ENGINE_PORT": str(port),
            "WIREFEED_ENGINE_HEAP": heap,
            **({"WIREFEED_ENGINE_PASSWORD": password} if password else {}),
        }

    def _script(self, *args: str) -> str:
        done = subprocess.run(
            [str(SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=240
        )
        if done.returncode != 0:
            raise RuntimeError(f"search-engine {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        self._script("start", *(f"-E{name}={value}" for name, value in self.settings.items()))

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

    def running(self) -> bool:
        """The server (or its launcher, while it starts) is alive."""
        for pidfile in (self.home / "logs" / "engine.pid", self.home / "launcher.pid"):
            try:
                os.kill(int(pidfile.read_text()), 0)
            except (OSError, ValueError):
                continue
            return True
        return False

    def log(self) -> str:
        console = self.home / "logs" / "console.log"
        return console.read_text(errors="replace")[-4000:] if console.exists() else ""

    @property
    def admin(self) -> EngineSettings:
        """This instance's superuser."""
        lines = self._script("env").splitlines()
        values = dict(shlex.split(line)[0].split("=", 1) for line in lines)
        return Settings.from_env(values).engine


def compose_engine(service: Service, address: Address, home: Path) -> LocalEngine:
    """Compose's Elasticsearch service as a local engine: the image turns every dotted
    variable into a setting; ELASTIC_PASSWORD is the superuser's and ES_JAVA_OPTS the heap."""
    env = service.environment
    settings = {name: value for name, value in env.items() if "." in name}
    unknown = set(env) - set(settings) - {"ELASTIC_PASSWORD", "ES_JAVA_OPTS"}
    if unknown:
        raise ComposeError(f"{service.name}: no native equivalent of {sorted(unknown)}")
    heap = re.search(r"-Xmx(\S+)", env.get("ES_JAVA_OPTS", ""))
    return LocalEngine(
        home,
        address.native_port,
        host=address.host,
        heap=heap[1] if heap else "1g",
        password=env["ELASTIC_PASSWORD"],
        settings=settings,
    )


def compose_engine_launcher(home: Path, addresses: list[Address]) -> Launcher:
    """Starts compose's Elasticsearch service at its address, its data under `home`."""

    def launch(service: Service) -> Daemon:
        own = own_address(addresses, service.name)
        engine = compose_engine(service, own, home)
        engine.start()
        return Daemon(native_env(service, addresses), engine.running, engine.log, engine.stop)

    return launch
