"""Stories and copies end to end: real feeds on loopback, the real engine.

Three outlets run the same wire stories (real article text from the zyte corpus) the way
syndicating sites do; two other outlets' own reports of one event (ECB+) must stay apart; a
copy of only the first part of a story joins it, whichever arrives first.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.index.store import Store, StoryWrite
from pipeline.models import Article, FeedSource
from pipeline.run import run_cycle
from pipeline.stories.assign import assign_stories, exact_dedup, save_signatures, write_assignment
from pipeline.stories.dedup import fingerprint, normalised_words, story_id_for
from tests.support.articles import make_article
from tests.support.cli import wirefeed_json
from tests.support.copies import partial_copy
from tests.support.engine import engine_env
from tests.support.feedserver import Request, Response
from tests.support.paths import shared_path

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
STORIES = 4
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# Two outlets' own reports of one Vancouver shooting: same event, sharing a police quote.
EVENT = ("18_14ecb.xml", "18_15ecb.xml")
OUTLETS = ("wire.example", "daily.example", "times.example")


def _gold() -> list[str]:
    path = shared_path("corpora", "articles", "zyte-dev", "ground-truth.json")
    bodies = [v["articleBody"] for _, v in sorted(json.loads(path.read_text()).items())]
    return [b for b in bodies if len(b.split("\n\n")) >= 5][:STORIES]


def _event_reports() -> list[str]:
    path = shared_path("corpora", "dedup", "ecbplus", "docs.derived.jsonl")
    docs = {d["doc"]: d["text"] for d in map(json.loads, path.read_text().splitlines())}
    return [docs[name].replace("\n", "\n\n") for name in EVENT]


def _variant(outlet: str, body: str) -> str:
    """How each outlet prints the wire text."""
    paragraphs = body.split("\n\n")
    if outlet == "daily.example":  # dateline, curly quotes, a site trailer, last paragraph cut
        text = "\n\n".join(["MOSCOW (AFP) - " + paragraphs[0], *paragraphs[1:-1]])
        text = text.replace('"', "\u201d").replace("'", "\u2019")
        return text + "\n\nTrack Latest News Live on NDTV.com and get news updates from India."
    if outlet == "times.example":  # an inserted promo line, odd spacing
        text = "\n\n".join([paragraphs[0], "Also read: Stocks fall again", *paragraphs[1:]])
        return text.replace(". ", ".  ")
    return body


def _item(outlet: str, n: int, title: str, body: str, path: str = "story") -> str:
    html = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    published = format_datetime(T0 + timedelta(minutes=10 * n + OUTLETS.index(outlet)))
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://{outlet}/{path}/{n}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>{outlet}-{path}-{n}</guid>"
        f"<pubDate>{published}</pubDate>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
    )


def _rss(outlet: str, items: list[str], build: int) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        f"<channel><title>{outlet}</title><link>https://{outlet}/</link>"
        f"<description>{outlet} news</description><lastBuildDate>{build}</lastBuildDate>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _outlet_items(outlet: str) -> list[str]:
    items = [
        _item(outlet, n, f"{outlet} headline {n}: story {n} rewritten", _variant(outlet, body))
        for n, body in enumerate(_gold())
    ]
    reports = _event_reports()
    if outlet in OUTLETS[:2]:
        report = reports[OUTLETS.index(outlet)]
        items.append(_item(outlet, 0, "Gunman kills one at office party", report, "event"))
    return items


def _serve(feed_server, outlet: str, items: list[str]) -> str:
    """A feed whose bytes change on every poll, so every poll parses and ingests again."""
    builds = itertools.count()

    def route(request: Request) -> Response:
        return Response(_rss(outlet, items, next(builds)))

    return feed_server.add(f"/{outlet}.xml", route)


def _feeds(feed_server) -> list[FeedSource]:
    return [FeedSource(url=_serve(feed_server, o, _outlet_items(o)), name=o) for o in OUTLETS]


def _snapshot(store: Store) -> dict[str, list[dict]]:
    """Every story id with its copy list, exactly as stored."""
    store.refresh()
    hits = store.client.search(index=store.articles, size=100, query={"match_all": {}})["hits"][
        "hits"
    ]
    return {h["_id"]: h["_source"]["copies"] for h in hits}


def _story_of(store: Store, url: str) -> dict:
    found = store.story_by_url(url)
    assert found is not None, url
    return {"id": found.id, **found.source}


def test_copies_from_three_outlets_become_one_story_and_related_reports_stay_apart(
    feed_server, store
):
    summary = run_cycle(_feeds(feed_server), store, Settings.from_env())
    assert summary.feeds_failed == 0
    assert summary.stories_new == STORIES + 2
    assert summary.copies_new == STORIES * 2
    store.refresh()
    assert store.count_stories() == STORIES + 2
    for n in range(STORIES):
        stories = {_story_of(store, f"https://{o}/story/{n}")["id"] for o in OUTLETS}
        assert len(stories) == 1, f"story {n} split into {stories}"
        story = _story_of(store, f"https://{OUTLETS[0]}/story/{n}")
        assert story["copies_count"] == 3
        assert story["sources"] == sorted(OUTLETS)
        # The full wire copy gives the text, not the cut one.
        assert normalised_words(story["body"]) == normalised_words(_gold()[n])
    first, second = (_story_of(store, f"https://{o}/event/0") for o in OUTLETS[:2])
    assert first["id"] != second["id"]
    assert first["copies_count"] == second["copies_count"] == 1


def test_three_ingests_leave_stories_and_copy_lists_exactly_the_same(feed_server, store):
    feeds = _feeds(feed_server)
    settings = Settings.from_env()
    first = run_cycle(feeds, store, settings)
    before = _snapshot(store)
    for _ in range(2):
        again = run_cycle(feeds, store, settings)
        assert again.entries_seen == first.entries_seen  # parsed and deduplicated again
        assert (again.stories_new, again.copies_new) == (0, 0)
        assert _snapshot(store) == before
    assert len(before) == STORIES + 2
    assert feed_server.hits[f"/{OUTLETS[0]}.xml"] == 3


def test_outlet_facets_count_outlets_not_copies(feed_server, store):
    feeds = _feeds(feed_server)
    # The wire outlet also runs story 0 under a second URL: one more copy, not another outlet.
    again = _item(OUTLETS[0], 0, "Same story, second URL", _gold()[0], "world")
    feeds.append(FeedSource(url=_serve(feed_server, "wire-world", [again]), name="world"))
    run_cycle(feeds, store, Settings.from_env())
    store.refresh()
    story = _story_of(store, f"https://{OUTLETS[0]}/world/0")
    assert story["copies_count"] == 4
    assert story["sources"] == sorted(OUTLETS)
    response = store.client.search(
        index=store.articles, size=0, aggs={"outlets": {"terms": {"field": "sources"}}}
    )
    counts = {b["key"]: b["doc_count"] for b in response["aggregations"]["outlets"]["buckets"]}
    assert counts == {OUTLETS[0]: STORIES + 1, OUTLETS[1]: STORIES + 1, OUTLETS[2]: STORIES}


def test_story_command_finds_the_story_of_any_copy_url(feed_server, store, engine_settings):
    run_cycle(_feeds(feed_server), store, Settings.from_env())
    store.refresh()
    env = engine_env(engine_settings)
    # The URL as a reader shares it, tracking parameter and all.
    found = wirefeed_json("story", f"https://{OUTLETS[1]}/story/2?utm_medium=social", env=env)
    assert found["id"] == story_id_for(f"https://{OUTLETS[0]}/story/2")
    assert found["title"] == f"{OUTLETS[0]} headline 2: story 2 rewritten"
    assert [c["source"] for c in found["copies"]] == list(OUTLETS)
    assert {c["url"] for c in found["copies"]} == {f"https://{o}/story/2" for o in OUTLETS}
    assert all(c["published_at"].startswith("2026-03-01T08:2") for c in found["copies"])


def _article(outlet: str, body: str, n: int = 0) -> Article:
    return make_article(f"https://{outlet}/story/{n}", body, when=T0, title=f"{outlet} headline")


def _ingest(store: Store, articles: list[Article]):
    return write_assignment(assign_stories(exact_dedup(articles, store), store), store)


def test_a_worker_that_claimed_second_joins_the_first_workers_story(store):
    body = _gold()[0]
    a, b = _article("a.example", body), _article("b.example", _variant("daily.example", body))
    # Both decide before either writes: each sees no story and plans a new one.
    plan_a = assign_stories(exact_dedup([a], store), store)
    plan_b = assign_stories(exact_dedup([b], store), store)
    assert len(plan_a.new_stories) == len(plan_b.new_stories) == 1
    write_assignment(plan_a, store)
    result_b = write_assignment(plan_b, store)
    assert result_b.outcomes == {b.url: "copy"}
    store.refresh()
    assert store.count_stories() == 1
    assert _story_of(store, b.url)["urls"] == sorted([a.url, b.url])


def test_when_both_workers_won_some_keys_both_agree_on_one_story(store):
    body = _gold()[1]
    a, b = _article("a.example", body), _article("b.example", "PARIS (AFP) - " + body)
    plan_a = assign_stories(exact_dedup([a], store), store)
    plan_b = assign_stories(exact_dedup([b], store), store)
    story_b = plan_b.new_stories[0]
    # b's worker got half of the shared keys in first; a's worker then claims and writes.
    half = story_b.founder.fingerprint.claim_keys()[::2]
    save_signatures(store, {story_b.id: story_b.founder.fingerprint})
    store.claim([(k, story_b.id, "band") for k in half])
    write_assignment(plan_a, store)
    write_assignment(plan_b, store)
    store.refresh()
    assert store.count_stories() == 1
    winner = min(story_id_for(a.url), story_id_for(b.url))
    assert _story_of(store, a.url)["id"] == winner
    assert _story_of(store, a.url)["urls"] == sorted([a.url, b.url])


def test_a_claim_whose_story_was_never_written_loses_nothing(store):
    """A worker claimed a story's keys and died before writing the story."""
    body = _gold()[2]
    crashed = _article("a.example", body)
    plan = assign_stories(exact_dedup([crashed], store), store)
    story = plan.new_stories[0]
    save_signatures(store, {story.id: story.founder.fingerprint})
    store.claim([(k, story.id, "band") for k in story.founder.fingerprint.claim_keys()])
    # A copy arriving now finds the claim and creates the story the claim points to.
    copy = _article("b.example", _variant("times.example", body))
    assert _ingest(store, [copy]).outcomes == {copy.url: "story"}
    # The crashed worker's article is retried by the next poll and joins that story.
    assert _ingest(store, [crashed]).outcomes == {crashed.url: "copy"}
    store.refresh()
    assert store.count_stories() == 1
    assert _story_of(store, crashed.url)["id"] == story.id
    assert _story_of(store, crashed.url)["copies_count"] == 2
    assert _ingest(store, [crashed, copy]).outcomes == {}


def test_two_processes_ingesting_copies_at_once_make_one_story_per_group(
    feed_server, store, engine_settings, tmp_path
):
    """Two OS processes, each with one outlet's feed; both fetch at the same moment."""
    barrier = threading.Barrier(2, timeout=60)
    feeds = []
    for outlet in OUTLETS[:2]:
        items = [
            _item(outlet, n, f"{outlet} {n}", _variant(outlet, body))
            for n, body in enumerate(_gold())
        ]

        def route(request: Request, outlet=outlet, items=items) -> Response:
            barrier.wait()  # neither process gets its feed before the other asked for its own
            return Response(_rss(outlet, items, 1))

        url = feed_server.add(f"/{outlet}.xml", route)
        path = tmp_path / f"{outlet}.yaml"
        path.write_text(f"- url: {url}\n  name: {outlet}\n")
        feeds.append(path)
    env = engine_env(engine_settings)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", "--once", "--feeds", str(p), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for p in feeds
    ]
    results = [p.communicate(timeout=240) for p in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
    summaries = [json.loads(out) for out, _ in results]
    assert sum(s["stories_new"] for s in summaries) == STORIES
    assert sum(s["copies_new"] for s in summaries) == STORIES
    store.refresh()
    assert store.count_stories() == STORIES
    for n in range(STORIES):
        ids = {_story_of(store, f"https://{o}/story/{n}")["id"] for o in OUTLETS[:2]}
        assert len(ids) == 1
        assert _story_of(store, f"https://{OUTLETS[0]}/story/{n}")["copies_count"] == 2


def test_a_write_over_a_changed_story_is_refused_and_retried_copies_all_stay(store):
    body = _gold()[3]
    first = _article("a.example", body)
    _ingest(store, [first])
    story_id = story_id_for(first.url)
    stale = store.stories([story_id])[story_id]
    second = _article("b.example", "ROME (Reuters) - " + body)
    assert _ingest(store, [second]).outcomes == {second.url: "copy"}
    # A worker still holding the first version may not overwrite the second copy away.
    refused = store.write_stories([StoryWrite(story_id, stale.source, stale)])
    assert refused == {story_id}
    third = _article("c.example", body.replace("\n\n", "\n\n\n"))
    assert _ingest(store, [third]).outcomes == {third.url: "copy"}
    urls = store.stories([story_id])[story_id].source["urls"]
    assert urls == sorted([first.url, second.url, third.url])


@pytest.mark.parametrize("partial_first", [False, True])
def test_a_copy_of_the_first_sixty_percent_joins_the_story_whichever_arrives_first(
    store, partial_first
):
    body = _gold()[0]
    full = _article("a.example", body)
    part = _article("b.example", partial_copy(body, 0.6))
    first, second = (part, full) if partial_first else (full, part)
    assert _ingest(store, [first]).outcomes == {first.url: "story"}
    assert _ingest(store, [second]).outcomes == {second.url: "copy"}
    # A third outlet's whole copy finds the story through the first arrival's keys.
    third = _article("c.example", _variant("daily.example", body))
    assert _ingest(store, [third]).outcomes == {third.url: "copy"}
    store.refresh()
    assert store.count_stories() == 1
    story = _story_of(store, part.url)
    assert story["copies_count"] == 3
    # The story shows the whole text, not the cut one.
    assert normalised_words(story["body"]) == normalised_words(body)


def test_a_copy_and_its_partial_copy_in_one_batch_make_one_story(store):
    body = _gold()[1]
    part = _article("b.example", partial_copy(body, 0.6))
    full = _article("a.example", body)
    result = _ingest(store, [part, full])
    assert sorted(result.outcomes.values()) == ["copy", "story"]
    store.refresh()
    assert store.count_stories() == 1


def test_a_story_whose_signature_was_stored_before_sketches_still_takes_copies(store):
    """A story stored by the code before containment: its signature document has no
    sketch, and it claimed no sketch keys. It is read, and judged by resemblance."""
    body = _gold()[2]
    old = _article("a.example", body)
    _ingest(store, [old])
    story_id = story_id_for(old.url)
    signature = store.client.get(index=store.dedup_keys, id=f"sig:{story_id}")["_source"]
    del signature["sketch"]
    store.client.index(index=store.dedup_keys, id=f"sig:{story_id}", document=signature)
    for key in fingerprint(body).lookup_keys:
        if key.startswith("shingle:"):
            store.client.delete(index=store.dedup_keys, id=key)
    # Not the same normalised body: found through the band keys, confirmed by the signature.
    copy = _article("b.example", _variant("times.example", body))
    assert _ingest(store, [copy]).outcomes == {copy.url: "copy"}
    store.refresh()
    assert _story_of(store, copy.url)["id"] == story_id
