"""Session-wide test setup.

Every test runs in the fetcher's exclusive loopback mode: any host outside 127.0.0.0/8 and
::1 is refused before it is even resolved, so captured feeds that link to real sites can
never make a test touch the outside network.
"""

from __future__ import annotations

import os
import secrets
import shlex
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

from pipeline.config import EngineSettings, Settings  # noqa: E402
from pipeline.index.security import SecuritySetup, writer_role_name  # noqa: E402
from pipeline.index.security import apply as apply_security  # noqa: E402
from pipeline.index.store import Store, make_client  # noqa: E402
from tests.support.feedserver import FeedServer  # noqa: E402


@pytest.fixture(scope="session")
def engine_admin() -> Iterator[EngineSettings]:
    """The real search engine as its superuser: ELASTICSEARCH_URL with
    ELASTICSEARCH_USERNAME/PASSWORD if given, else the local engine, started once."""
    given = os.environ.get("ELASTICSEARCH_URL")
    if given:
        yield Settings.from_env().engine
        return
    script = ROOT / "scripts" / "search-engine"
    was_running = subprocess.run([script, "status"], capture_output=True).returncode == 0
    started = subprocess.run([script, "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start the search engine:\n{started.stderr}")
    lines = subprocess.run([script, "env"], capture_output=True, text=True, check=True).stdout
    for name, value in (shlex.split(line)[0].split("=", 1) for line in lines.splitlines()):
        os.environ[name] = value
    yield Settings.from_env().engine
    if not was_running:
        subprocess.run([script, "stop"], capture_output=True)


@pytest.fixture(scope="session")
def engine_url(engine_admin: EngineSettings) -> str:
    return engine_admin.url


@pytest.fixture()
def index_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture()
def engine_settings(engine_admin: EngineSettings, index_prefix: str) -> Iterator[EngineSettings]:
    """This test's own writer: the least-privilege role and user that `pipeline.index.security`
    defines, for this test's index prefix, as production's DAGs write."""
    writer = SecuritySetup(
        prefix=index_prefix, user=f"{index_prefix}writer", password=secrets.token_urlsafe(16)
    )
    with make_client(engine_admin) as admin:
        apply_security(admin, writer)
        yield EngineSettings(
            url=engine_admin.url,
            username=writer.user,
            password=writer.password,
            index_prefix=index_prefix,
        )
        admin.security.delete_user(username=writer.user)
        admin.security.delete_role(name=writer_role_name(index_prefix))


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
    from pipeline.text import fulltext

    fulltext._PROCESS_ROBOTS.clear()
    yield
    fulltext._PROCESS_ROBOTS.clear()
