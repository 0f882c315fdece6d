"""Normalisation, exact keys, MinHash similarity and race settlement: pure functions."""

from __future__ import annotations

import json

import pytest

from pipeline.config import ConfigError
from pipeline.dedup import (
    BANDS,
    DEFAULT_THRESHOLD,
    best_match,
    body_key,
    fingerprint,
    is_copy,
    normalised_words,
    race_winner,
    similarity,
    strip_dateline,
    threshold_from,
)
from tests.support.paths import shared_path

WIRE = (
    "The central bank raised its key interest rate by half a point on Thursday, the largest "
    "increase in two decades, as officials said inflation was \u201cfar too high\u201d.\n\n"
    "The decision was unanimous, the bank said in a statement, and further rises are likely "
    "in the coming months as energy and food prices keep climbing across the region.\n\n"
    "Markets had expected a smaller move. The currency rose one percent against the dollar "
    "within minutes of the announcement, and bond yields jumped to their highest since 2008."
)


def _gold_bodies(count: int) -> list[str]:
    gold = json.loads(
        shared_path("corpora", "articles", "zyte-dev", "ground-truth.json").read_text()
    )
    bodies = [v["articleBody"] for _, v in sorted(gold.items())]
    return [b for b in bodies if len(b.split("\n\n")) >= 4][:count]


@pytest.mark.parametrize(
    "dateline",
    [
        "MOSCOW (AFP) - ",
        "WASHINGTON, March 3 (Reuters) - ",
        "NEW DELHI (PTI): ",
        "LONDON \u2014 ",
        "PARIS -- ",
    ],
)
def test_a_wire_dateline_is_dropped(dateline):
    assert strip_dateline(dateline + "The bank raised rates.") == "The bank raised rates."


@pytest.mark.parametrize(
    "sentence",
    [
        "Officials said on Monday - after a long delay - that rates would rise.",
        "US officials - speaking anonymously - confirmed the talks.",
        "Update: the bank raised rates.",
    ],
)
def test_an_ordinary_first_sentence_keeps_its_words(sentence):
    assert strip_dateline(sentence) == sentence


def test_normalised_words_ignore_dateline_trailers_quotes_case_and_spacing():
    syndicated = (
        "MOSCOW (AFP) -  " + WIRE.replace("\u201c", '"').replace("\u201d", '"').upper() + "\n\n"
        "(Except for the headline, this story has not been edited by NDTV staff and is "
        "published from a syndicated feed.)\n\n"
        "Track Latest News Live on NDTV.com and get news updates from India and the world."
    )
    assert normalised_words(syndicated) == normalised_words(WIRE)
    assert fingerprint(syndicated).body_hash == fingerprint(WIRE).body_hash


def test_a_body_too_short_to_identify_a_story_has_no_keys():
    fp = fingerprint("Read more on our website.")
    assert fp.body_hash is None and fp.signature is None
    assert fp.bands == () and fp.claim_keys() == []
    assert similarity(fp, fp) == 0.0


def test_claim_keys_are_the_body_key_and_one_key_per_band():
    fp = fingerprint(WIRE)
    keys = fp.claim_keys()
    assert keys[0] == body_key(fp.body_hash)
    assert len(keys) == 1 + BANDS == len(set(keys))
    assert fingerprint(WIRE).claim_keys() == keys  # deterministic across calls


def test_a_copy_with_a_dropped_paragraph_and_an_inserted_line_is_a_copy():
    for body in _gold_bodies(5):
        paragraphs = body.split("\n\n")
        variant = "\n\n".join(
            ["LONDON (Reuters) - " + paragraphs[0], "Also read: Markets slide", *paragraphs[1:-1]]
        )
        assert is_copy(fingerprint(body), fingerprint(variant)), body[:80]


def test_different_stories_are_not_copies():
    bodies = _gold_bodies(6)
    prints = [fingerprint(b) for b in bodies]
    for i, a in enumerate(prints):
        for b in prints[i + 1 :]:
            assert similarity(a, b) < DEFAULT_THRESHOLD


def test_independent_reports_of_one_event_are_not_copies():
    lines = shared_path("corpora", "dedup", "ecbplus", "docs.derived.jsonl").read_text()
    docs = {d["doc"]: d["text"] for d in map(json.loads, lines.splitlines())}
    # Two outlets' own reports of the same Vancouver shooting, sharing a police quote.
    a, b = fingerprint(docs["18_14ecb.xml"]), fingerprint(docs["18_15ecb.xml"])
    assert not is_copy(a, b)


def test_best_match_takes_the_most_similar_candidate_above_the_threshold():
    body = _gold_bodies(2)
    original, other = fingerprint(body[0]), fingerprint(body[1])
    cut = fingerprint("\n\n".join(body[0].split("\n\n")[:-1]))
    assert best_match(cut, {"s-other": other, "s-orig": original}) == "s-orig"
    assert best_match(cut, {"s-other": other}) is None


def test_a_worker_that_claimed_second_yields_to_the_first():
    fp = fingerprint(WIRE)
    copy = fingerprint("PARIS (AFP) - " + WIRE)
    # The rival won every shared key; this worker won none of the rival's keys.
    assert race_winner("story-b", copy, set(), {"story-a": fp}) == "story-a"
    # The rival saw no conflict at all and keeps its own story.
    assert race_winner("story-a", fp, set(fp.claim_keys()), {}) == "story-a"


def test_when_both_won_some_keys_both_pick_the_smaller_id():
    fp = fingerprint(WIRE)
    keys = fp.claim_keys()
    a_won, b_won = set(keys[::2]), set(keys[1::2])
    assert race_winner("story-a", fp, a_won, {"story-b": fp}) == "story-a"
    assert race_winner("story-b", fp, b_won, {"story-a": fp}) == "story-a"


def test_a_rival_that_is_not_a_copy_never_takes_the_story():
    mine, theirs = (fingerprint(b) for b in _gold_bodies(2))
    assert race_winner("story-b", mine, set(), {"story-a": theirs}) == "story-b"


def test_threshold_from_the_environment():
    assert threshold_from({}) == DEFAULT_THRESHOLD
    assert threshold_from({"WIREFEED_DEDUP_THRESHOLD": "0.7"}) == 0.7
    for bad in ("high", "0", "1.5"):
        with pytest.raises(ConfigError, match="WIREFEED_DEDUP_THRESHOLD"):
            threshold_from({"WIREFEED_DEDUP_THRESHOLD": bad})
