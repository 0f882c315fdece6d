"""`wirefeed feeds status` and `wirefeed feeds import`, through the real CLI entry point
(in-process, so the suite stays fast; the arguments and output are the user's)."""

from __future__ import annotations

import json
import subprocess

import pytest

from pipeline.cli import main
from pipeline.feeds.sources import load_feeds
from tests.support.engine import engine_env
from tests.support.feedserver import Response

pytestmark = pytest.mark.engine


@pytest.fixture()
def cli(capsys, monkeypatch, engine_settings):
    for name, value in engine_env(engine_settings).items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


FEED = (
    b'<rss version="2.0"><channel><title>t</title><item><title>One</title>'
    b"<link>http://127.0.0.1/one</link><guid>one</guid></item></channel></rss>"
)


def test_feeds_status_reports_every_feed(feed_server, store, cli, tmp_path):
    ok = feed_server.add("/ok.xml", Response(FEED))
    broken = feed_server.add("/broken.xml", Response(b"no", status=500))
    feeds = tmp_path / "feeds.yaml"
    never = "http://127.0.0.1:9/never.xml"
    feeds.write_text(f"- url: {ok}\n- url: {broken}\n- url: {never}\n  enabled: false\n")
    assert cli("run", "--once", "--feeds", str(feeds)).returncode == 0
    store.refresh()

    done = cli("feeds", "status", "--json", "--feeds", str(feeds))
    assert done.returncode == 0
    rows = {r["url"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {ok, broken, never}
    for row in rows.values():
        assert {"url", "status", "last_polled", "next_poll", "failures", "last_error"} <= set(row)
    assert rows[ok]["status"] == "ok" and rows[ok]["failures"] == 0
    assert rows[broken]["status"] == "http_500" and rows[broken]["failures"] == 1
    assert rows[broken]["last_error"] == "HTTP 500"
    assert rows[never]["status"] == "new" and rows[never]["last_polled"] is None

    text = cli("feeds", "status")
    assert text.returncode == 0
    assert broken in text.stdout and "HTTP 500" in text.stdout


NOTICES = (
    "The north berth closes for dredging until the spring tides have passed.",
    "A new ferry timetable adds two evening crossings on weekdays from Monday.",
    "Fishing quotas for the coming season were agreed after a long night of talks.",
)


def degraded_feed() -> bytes:
    """RSS with undeclared rss: prefixes behind a doubled XML declaration: malformed, but
    readable once repaired."""
    items = "".join(
        f"<rss:item><rss:title>Harbour notice {i}</rss:title>"
        f"<rss:link>http://127.0.0.1/harbour/{i}</rss:link>"
        f"<rss:guid rss:isPermaLink=false>harbour-{i}</rss:guid>"
        f"<rss:description>{text}</rss:description></rss:item>"
        for i, text in enumerate(NOTICES)
    )
    return (
        '<?xml version="1.0"?>\n<?xml version="1.0"?>\n<rss rss:version=2.0><rss:channel>'
        f"<rss:title>Harbour</rss:title>{items}</rss:channel></rss>"
    ).encode()


def test_a_degraded_feed_is_indexed_scheduled_as_a_success_and_reported(
    feed_server, store, cli, tmp_path
):
    url = feed_server.add("/degraded.xml", Response(degraded_feed()))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"- url: {url}\n  full_text: never\n")

    first = cli("run", "--once", "--feeds", str(feeds), "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["feeds_failed"], summary["feeds_degraded"]) == (0, 1)
    assert summary["stories_new"] == 3
    assert [d["url"] for d in summary["degraded"]] == [url]
    store.refresh()
    saved = store.feed_states([url])[url]
    assert (saved.status, saved.failures) == ("degraded", 0)
    assert "SAXParseException" in saved.last_error and "repaired" in saved.last_error
    assert saved.body_hash and saved.last_success == saved.last_polled

    # The same body again: skipped by its hash, and still degraded with its reason.
    again = cli("run", "--once", "--feeds", str(feeds))
    assert again.returncode == 0 and f"degraded: {url}" not in again.stdout
    store.refresh()
    assert store.feed_states([url])[url].status == "degraded"

    status = cli("feeds", "status", "--json", "--feeds", str(feeds))
    (row,) = json.loads(status.stdout)
    assert (row["status"], row["failures"]) == ("degraded", 0)
    assert row["last_error"] == saved.last_error
    text = cli("feeds", "status").stdout
    assert "degraded" in text and "SAXParseException" in text
    assert store.count_stories() == 3


OPML = """<?xml version="1.0"?><opml version="1.0"><body>
<outline text="World"><outline text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
<outline text="DW" xmlUrl="https://rss.dw.com/rdf/rss-en-all"/></outline>
<outline text="bad" xmlUrl="gopher://x"/></body></opml>"""


def test_feeds_import_writes_yaml_and_registers(store, cli, tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text(OPML)
    output = tmp_path / "feeds.yaml"
    output.write_text("- url: https://rss.dw.com/rdf/rss-en-all\n  name: mine\n")
    done = cli("feeds", "import", str(opml), "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "gopher://x" in done.stderr
    feeds = load_feeds(output)
    assert [(f.name, f.tags) for f in feeds] == [("mine", ()), ("BBC", ("world",))]

    done = cli("feeds", "import", str(opml), "--register")
    assert done.returncode == 0, done.stderr
    assert "registered 2 feeds" in done.stdout
    again = cli("feeds", "import", str(opml), "--register")
    assert "registered 0 feeds (2 already known)" in again.stdout
    store.refresh()
    assert {s.url: s.status for s in store.all_feed_states()} == {
        "https://feeds.bbci.co.uk/news/world/rss.xml": "new",
        "https://rss.dw.com/rdf/rss-en-all": "new",
    }
    # `run --once` without a file polls the registered feeds; outside hosts are refused
    # before DNS in the test session's exclusive loopback mode.
    ran = cli("run", "--once", "--json")
    summary = json.loads(ran.stdout)
    assert (summary["feeds_polled"], summary["feeds_failed"]) == (2, 2)
    assert all(f["status"] == "blocked" for f in summary["failures"])


def test_feeds_import_of_a_bad_file_exits_2(cli, tmp_path):
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline")
    done = cli("feeds", "import", str(bad))
    assert done.returncode == 2
    assert "not a readable OPML" in done.stderr
