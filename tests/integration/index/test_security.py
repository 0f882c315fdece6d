"""The least-privilege writer on genuine Elasticsearch with security on: made the way the
compose file makes it, it can run every command; it cannot touch what is not wirefeed's."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import AuthorizationException

from pipeline.config import EngineSettings
from pipeline.index.store import make_client
from tests.support.citydesk import city_desk_rss
from tests.support.cli import wirefeed, wirefeed_json
from tests.support.compose import Address, load_services, run_natively
from tests.support.engine import engine_env, remove_writer
from tests.support.feedserver import FeedServer, Response

pytestmark = pytest.mark.engine


@pytest.fixture()
def compose_writer(engine_admin: EngineSettings) -> Iterator[EngineSettings]:
    """The writer that compose's `elasticsearch-setup` service creates, its command run
    natively with the environment the compose file gives it."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    variables = {
        "ELASTIC_PASSWORD": engine_admin.password or "",
        "KIBANA_SYSTEM_PASSWORD": secrets.token_urlsafe(12),
        "WIREFEED_ES_USER": f"{prefix}wirefeed",
        "WIREFEED_ES_PASSWORD": secrets.token_urlsafe(12),
        "WIREFEED_INDEX_PREFIX": prefix,
    }
    service = load_services(variables)["elasticsearch-setup"]
    host, port = engine_admin.url.rsplit("//", 1)[1].rsplit(":", 1)
    done = run_natively(service, [Address("elasticsearch", 9200, host, int(port))], timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    writer = EngineSettings(
        url=engine_admin.url,
        username=variables["WIREFEED_ES_USER"],
        password=variables["WIREFEED_ES_PASSWORD"],
        index_prefix=prefix,
    )
    yield writer
    with make_client(engine_admin) as admin:
        remove_writer(admin, writer)


def test_the_compose_writer_runs_every_command(compose_writer, feed_server: FeedServer, tmp_path):
    env = engine_env(compose_writer)
    url = feed_server.add("/city.xml", Response(city_desk_rss()))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"- url: {url}\n  name: City desk\n")
    opml = tmp_path / "more.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="More" xmlUrl="{feed_server.url("/more.xml")}"/></body></opml>'
    )

    setup = wirefeed("setup", env=env)
    assert setup.returncode == 0, setup.stderr
    assert f"created {compose_writer.index_prefix}dead-letters-v1" in setup.stdout
    run = wirefeed_json("run", "--once", "--feeds", str(feeds), env=env)
    assert (run["feeds_failed"], run["stories_new"]) == (0, 3)
    hits = wirefeed_json("search", "harbour bridge", env=env)
    assert hits[0]["title"] == "Harbour bridge reopens"
    story = wirefeed_json("story", hits[0]["url"], env=env)
    assert story["id"] == hits[0]["id"]
    status = wirefeed_json("feeds", "status", env=env)
    assert [row["url"] for row in status] == [url]
    registered = wirefeed("feeds", "import", str(opml), "--register", env=env)
    assert registered.returncode == 0, registered.stderr
    reenriched = wirefeed_json("reenrich", "--all", env=env)
    assert reenriched["stories"] == 3
    for index in ("articles", "feeds", "dedup-keys", "feed-health"):
        moved = wirefeed("reindex", index, "--delete-old", env=env)
        assert moved.returncode == 0, moved.stderr
    assert wirefeed_json("search", "tram stop", env=env)[0]["title"] == "Tram line gets new stop"


def test_the_writer_cannot_touch_what_is_not_wirefeeds(compose_writer, engine_admin):
    other = f"t{uuid.uuid4().hex[:10]}-"
    with make_client(engine_admin) as admin:
        admin.indices.create(index=f"{other}articles")
    try:
        with make_client(compose_writer) as writer:
            with pytest.raises(AuthorizationException):
                writer.indices.create(index=f"not-wirefeed-{uuid.uuid4().hex[:6]}")
            with pytest.raises(AuthorizationException):
                writer.index(index=f"{other}articles", document={"title": "not yours"})
            with pytest.raises(AuthorizationException):
                writer.search(index=f"{other}articles")
            with pytest.raises(AuthorizationException):
                writer.security.put_user(username=f"{other}x", password="secret-password", roles=[])
    finally:
        with make_client(engine_admin) as admin:
            admin.indices.delete(index=f"{other}articles")
