"""Session-wide test setup.

Every test runs in the fetcher's exclusive loopback mode: any host outside 127.0.0.0/8 and
::1 is refused before it is even resolved, so captured feeds that link to real sites can
never make a test touch the outside network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ["WIREFEED_ONLY_NETWORKS"] = "127.0.0.0/8,::1/128"
os.environ.pop("WIREFEED_ALLOW_PRIVATE_NETWORKS", None)
# Airflow reads its configuration when first imported: point it at a throwaway home.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="wirefeed-airflow-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
sys.path.insert(0, str(ROOT / "plugins"))

import ipaddress  # noqa: E402


def _refuse_off_loopback(event: str, args: tuple) -> None:
    """Last line of defence: no test process may connect anywhere but loopback, even if
    the fetcher's own guard regresses. Raising here aborts the connect before it starts."""
    if event != "socket.connect":
        return
    address = args[1]
    if not isinstance(address, tuple):  # Unix sockets
        return
    host = str(address[0]).split("%")[0]
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ConnectionRefusedError(f"test tried to connect off loopback: {address!r}")


sys.addaudithook(_refuse_off_loopback)

from pipeline.config import EngineSettings  # noqa: E402
from pipeline.store import Store, make_client  # noqa: E402
from tests.support.feedserver import FeedServer  # noqa: E402


@pytest.fixture(scope="session")
def engine_url() -> Iterator[str]:
    """The real search engine: ELASTICSEARCH_URL if given, else the local one, started once."""
    given = os.environ.get("ELASTICSEARCH_URL")
    if given:
        yield given
        return
    script = ROOT / "scripts" / "search-engine"
    was_running = subprocess.run([script, "status"], capture_output=True).returncode == 0
    started = subprocess.run([script, "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start the search engine:\n{started.stderr}")
    url = started.stdout.strip().splitlines()[-1]
    os.environ["ELASTICSEARCH_URL"] = url
    yield url
    if not was_running:
        subprocess.run([script, "stop"], capture_output=True)


@pytest.fixture()
def index_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture()
def engine_settings(engine_url: str, index_prefix: str) -> EngineSettings:
    return EngineSettings(url=engine_url, index_prefix=index_prefix)


@pytest.fixture()
def store(engine_settings: EngineSettings) -> Iterator[Store]:
    """A Store on indices of this test alone, set up, and deleted afterwards."""
    client = make_client(engine_settings)
    store = Store(client, engine_settings.index_prefix)
    store.setup()
    yield store
    # Named, not wildcard: Elasticsearch 8 refuses wildcard deletes by default.
    names = list(client.indices.get(index=f"{engine_settings.index_prefix}*"))
    if names:
        client.indices.delete(index=names)
    store.drop_templates()
    client.close()


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated SQLite metadata database for dag.test() runs."""
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True
    )
    if migrate.returncode != 0:
        pytest.fail(f"airflow db migrate failed:\n{migrate.stderr[-3000:]}")
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(autouse=True)
def _fresh_robots_answers() -> Iterator[None]:
    """robots.txt answers are kept per process for an hour; a later test reusing a loopback
    port must not inherit an earlier test's answer."""
    from pipeline import fulltext

    fulltext._PROCESS_ROBOTS.clear()
    yield
    fulltext._PROCESS_ROBOTS.clear()
