"""sync_feeds, feed_health and reindex end to end with dag.test() on the real engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.index.templates import index_name
from pipeline.models import Article, FeedState
from pipeline.stories.assign import index_new_stories
from tests.e2e.support import load_dag, use_engine, xcom
from tests.support.articles import make_article

pytestmark = pytest.mark.engine


def _story(url: str, feed_url: str, seen: datetime) -> Article:
    return make_article(url, when=seen, feed_url=feed_url, title=f"Story at {url}", language="en")


def test_sync_feeds_adds_updates_and_disables(
    airflow_db, store, engine_settings, tmp_path, monkeypatch
):
    store.save_feed_states(
        [
            FeedState(url="https://a.example/feed", name="Old name", status="ok", failures=0),
            FeedState(url="https://gone.example/feed", name="Left the file", status="ok"),
        ]
    )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        "  - {url: 'https://a.example/feed', name: A News, tags: [world]}\n"
        "  - {url: 'https://b.example/feed', name: B News}\n"
    )
    opml = tmp_path / "more.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Europe">'
        '<outline text="C News" xmlUrl="https://c.example/feed"/>'
        '<outline text="A again" xmlUrl="https://a.example/feed"/>'
        "</outline></body></opml>"
    )
    monkeypatch.setenv("WIREFEED_FEEDS_FILE", str(feeds))
    monkeypatch.setenv("WIREFEED_OPML_FILES", str(opml))
    use_engine(monkeypatch, engine_settings)
    dag = load_dag("sync_feeds")

    run = dag.test()
    assert run.state == "success"
    assert xcom(run, "sync") == [{"added": 2, "updated": 1, "disabled": 1, "unchanged": 0}]
    store.refresh()
    states = {s.url: s for s in store.all_feed_states()}
    assert states["https://a.example/feed"].name == "A News"
    assert states["https://a.example/feed"].tags == ["world"]
    assert states["https://a.example/feed"].status == "ok"  # polling state untouched
    assert states["https://b.example/feed"].enabled and states["https://b.example/feed"].name
    assert states["https://gone.example/feed"].enabled is False
    # The file wins over an OPML list naming the same feed; OPML folders become tags.
    assert states["https://c.example/feed"].tags == ["europe"]

    again = dag.test()
    assert xcom(again, "sync") == [{"added": 0, "updated": 0, "disabled": 0, "unchanged": 4}]


def test_feed_health_flags_failing_silent_and_moved_feeds(
    airflow_db, store, engine_settings, monkeypatch
):
    now = datetime.now(UTC)
    polled = now - timedelta(minutes=5)
    store.save_feed_states(
        [
            FeedState(url="https://ok.example/feed", status="ok", last_polled=polled),
            FeedState(url="https://quiet.example/feed", status="ok", last_polled=polled),
            FeedState(
                url="https://down.example/feed",
                status="http_503",
                failures=9,
                last_error="HTTP 503",
                last_polled=polled,
                last_success=now - timedelta(days=3),
            ),
            FeedState(
                url="https://old.example/feed",
                status="ok",
                last_polled=polled,
                moved_to="https://new.example/feed",
            ),
        ]
    )
    index_new_stories(
        store,
        [
            _story("https://ok.example/1", "https://ok.example/feed", now - timedelta(hours=2)),
            _story("https://q.example/1", "https://quiet.example/feed", now - timedelta(days=9)),
            _story("https://old.example/1", "https://old.example/feed", now - timedelta(hours=1)),
        ],
    )
    store.refresh()
    use_engine(monkeypatch, engine_settings)
    dag = load_dag("feed_health")

    run = dag.test()
    assert run.state == "success"
    (counts,) = xcom(run, "check")
    assert counts == {
        "ok": 1,
        "new": 0,
        "disabled": 0,
        "moved": 1,
        "failing": 1,
        "silent": 1,
        "degraded": 0,
    }
    store.client.indices.refresh(index=store.feed_health)
    docs = store.client.search(index=store.feed_health, size=10)["hits"]["hits"]
    health = {d["_source"]["url"]: d["_source"] for d in docs}
    assert health["https://ok.example/feed"]["health"] == "ok"
    assert health["https://quiet.example/feed"]["flags"] == ["silent"]
    assert health["https://down.example/feed"]["flags"] == ["failing"]
    assert health["https://old.example/feed"]["moved_to"] == "https://new.example/feed"

    dag.test()  # a second check on the same day replaces that day's verdicts
    store.client.indices.refresh(index=store.feed_health)
    assert store.client.count(index=store.feed_health)["count"] == 4


def test_reindex_builds_a_version_swaps_and_keeps_or_deletes_the_old(
    airflow_db, store, engine_settings, monkeypatch
):
    now = datetime.now(UTC)
    index_new_stories(
        store, [_story(f"https://r.example/{n}", "https://r.example/feed", now) for n in range(4)]
    )
    use_engine(monkeypatch, engine_settings)
    dag = load_dag("reindex")
    v1, v2, v3 = (index_name(store.articles, n) for n in (1, 2, 3))

    kept = dag.test(run_conf={"index": "articles", "delete_old": False})
    assert kept.state == "success"
    assert xcom(kept, "retire") == [f"kept {v1}"]
    assert store.alias_indices(store.articles) == [v2]
    assert store.versions(store.articles) == [v1, v2]
    store.refresh()
    assert store.count_stories() == 4

    deleted = dag.test(run_conf={"index": "articles", "delete_old": True})
    assert deleted.state == "success"
    assert xcom(deleted, "retire") == [f"deleted {v2}"]
    assert store.alias_indices(store.articles) == [v3]
    assert store.versions(store.articles) == [v1, v3]
    store.refresh()
    assert store.count_stories() == 4


def test_reenrich_stories_redoes_outdated_stories_once(
    airflow_db, store, engine_settings, monkeypatch
):
    now = datetime.now(UTC)
    story = _story("https://e.example/1", "https://e.example/feed", now)
    story.body = "Angela Merkel met Emmanuel Macron in Paris on Monday to discuss trade."
    index_new_stories(store, [story])
    store.refresh()
    use_engine(monkeypatch, engine_settings)
    dag = load_dag("reenrich_stories")

    run = dag.test(run_conf={"scope": "outdated", "batch_size": 50})
    assert run.state == "success"
    (first,) = xcom(run, "reenrich")
    assert first["stories"] == 1 and first["version"]
    store.refresh()
    (doc,) = store.client.search(index=store.articles)["hits"]["hits"]
    assert "Emmanuel Macron" in doc["_source"]["entities"]["person"]
    assert doc["_source"]["enrichment_version"] == first["version"]

    again = dag.test(run_conf={"scope": "outdated", "batch_size": 50})
    assert xcom(again, "reenrich")[0]["stories"] == 0
