"""Normalisation, exact keys, MinHash similarity and race settlement: pure functions."""

from __future__ import annotations

import json

import pytest

from pipeline.config import ConfigError
from pipeline.stories.dedup import (
    BANDS,
    DEFAULT_THRESHOLD,
    MIN_CONTAINMENT,
    MIN_WORDS,
    SHINGLE_KEYS,
    best_match,
    body_key,
    containment,
    fingerprint,
    fingerprint_from_source,
    is_copy,
    normalised_words,
    race_winner,
    signature_source,
    similarity,
    strip_dateline,
    threshold_from,
)
from tests.support.copies import partial_copy
from tests.support.paths import shared_path

WIRE = (
    "The central bank raised its key interest rate by half a point on Thursday, the largest "
    "increase in two decades, as officials said inflation was \u201cfar too high\u201d.\n\n"
    "The decision was unanimous, the bank said in a statement, and further rises are likely "
    "in the coming months as energy and food prices keep climbing across the region.\n\n"
    "Markets had expected a smaller move. The currency rose one percent against the dollar "
    "within minutes of the announcement, and bond yields jumped to their highest since 2008."
)

# A story and another outlet's own report of the same event, written for these tests.
DAM = (
    "Engineers at the regional water authority began draining the Kellmoor reservoir on "
    "Tuesday after inspectors found a crack running along the base of its eastern dam, "
    "officials said, and about four thousand residents downstream were told to prepare to "
    "leave their homes.\n\n"
    "The crack, roughly eleven metres long, was spotted during a routine survey on Monday "
    "evening. Divers confirmed overnight that water was seeping through it at a slow but "
    "steady rate, the authority's chief engineer told reporters at a briefing in the town hall.\n\n"
    "\u201cThere is no immediate danger of collapse, but we are not taking any chances,\u201d "
    "she said. \u201cLowering the water level takes the pressure off the structure while we "
    "work out how deep the damage goes.\u201d\n\n"
    "Pumps brought in from two neighbouring counties were moving around nine hundred litres "
    "a second by midday, and the level had already fallen by half a metre. Draining the "
    "reservoir completely could take up to three weeks, according to the authority.\n\n"
    "Schools in the villages of Arnby and Low Fenwick closed for the rest of the week, and "
    "a sports centre on higher ground was opened as a shelter. Police set up checkpoints on "
    "the valley road and asked drivers to avoid the area unless they lived there.\n\n"
    "The dam was built in 1961 and last strengthened in 2004, when its spillway was widened "
    "after a series of wet winters. A report published two years ago had rated its condition "
    "as fair and recommended further work on the eastern embankment within a decade.\n\n"
    "Local councillors said they had asked repeatedly for that work to be brought forward. "
    "One of them, who represents Arnby, said residents had been complaining about damp "
    "fields below the dam for months and felt their warnings had been ignored.\n\n"
    "The environment ministry said it would review inspection records for every large "
    "reservoir in the country, and the authority promised a full public account of what "
    "went wrong once the reservoir is empty and the crack can be examined in the dry.\n\n"
    "Farmers in the valley were moving livestock to higher pastures on Tuesday afternoon, "
    "and several said they had been given less than a day's notice. The regional government "
    "has promised compensation for any losses caused by the evacuation order."
)
# The other report: same names, numbers, quote and one sentence of fact, its own words.
DAM_REPORT = (
    "About four thousand people living below the Kellmoor dam have been warned they may have "
    "to evacuate after a crack was discovered in the structure, the regional water authority "
    "announced on Tuesday.\n\n"
    "Workers have started lowering the reservoir. The authority's chief engineer said at a "
    "press conference: \u201cThere is no immediate danger of collapse, but we are not taking "
    "any chances. Lowering the water level takes the pressure off the structure while we "
    "work out how deep the damage goes.\u201d\n\n"
    "According to the authority, the fissure is around eleven metres in length and was first "
    "noticed by surveyors late on Monday. Draining the reservoir completely could take up to "
    "three weeks, according to the authority.\n\n"
    "Residents of Arnby told our reporter that the ground beneath the embankment had been "
    "unusually wet since the spring. Classes at local schools have been cancelled and an "
    "emergency shelter has opened at a sports hall.\n\n"
    "The dam dates from 1961. The national environment ministry has ordered a review of "
    "safety inspections at other large reservoirs."
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


def test_claim_keys_are_the_body_key_one_key_per_band_and_the_sketch_keys():
    fp = fingerprint(WIRE)
    keys = fp.claim_keys()
    assert keys[0] == body_key(fp.body_hash)
    assert keys[1 : 1 + BANDS] == list(fp.bands)
    assert all(k.startswith("shingle:") for k in keys[1 + BANDS :])
    assert len(keys) == 1 + BANDS + SHINGLE_KEYS == len(set(keys))
    assert fingerprint(WIRE).claim_keys() == keys  # deterministic across calls


def test_a_copy_with_a_dropped_paragraph_and_an_inserted_line_is_a_copy():
    for body in _gold_bodies(5):
        paragraphs = body.split("\n\n")
        variant = "\n\n".join(
            ["LONDON (Reuters) - " + paragraphs[0], "Also read: Markets slide", *paragraphs[1:-1]]
        )
        assert is_copy(fingerprint(body), fingerprint(variant)), body[:80]


@pytest.mark.parametrize("share", [0.5, 0.6])
def test_the_first_part_of_a_story_with_outlet_edits_is_a_copy_of_it(share):
    full, part = fingerprint(DAM), fingerprint(partial_copy(DAM, share))
    assert containment(part, full) >= MIN_CONTAINMENT
    assert is_copy(part, full) and is_copy(full, part)  # whichever arrives first
    # Candidates whatever the bands do: a contained body shares the other's smallest hashes.
    shared = set(part.lookup_keys) & set(full.lookup_keys)
    assert any(k.startswith("shingle:") for k in shared)


def test_the_first_sixty_percent_of_real_stories_are_copies():
    for body in _gold_bodies(8):
        full, part = fingerprint(body), fingerprint(partial_copy(body, 0.6))
        assert is_copy(part, full) and is_copy(full, part), body[:80]


def test_a_teaser_stays_apart_from_the_story_it_opens():
    full, teaser = fingerprint(DAM), fingerprint(DAM.split("\n\n")[0])
    assert teaser.words >= MIN_WORDS and teaser.sketch is not None
    # Wholly contained, but too short to tell a copy from a summary of the event.
    assert containment(teaser, full) == 0.0
    assert not is_copy(teaser, full)


def test_another_outlets_report_of_the_same_event_stays_apart():
    full, report = fingerprint(DAM), fingerprint(DAM_REPORT)
    # Long enough to be judged; sharing a quote and a sentence is not being contained.
    assert 0.0 < containment(report, full) < MIN_CONTAINMENT
    assert not is_copy(report, full) and not is_copy(full, report)


def test_best_match_finds_the_story_a_partial_copy_was_cut_from():
    part = fingerprint(partial_copy(DAM, 0.5))
    candidates = {"s-report": fingerprint(DAM_REPORT), "s-full": fingerprint(DAM)}
    assert best_match(part, candidates) == "s-full"
    assert best_match(part, {"s-report": candidates["s-report"]}) is None


def test_a_worker_holding_a_partial_copy_yields_to_the_full_story_claimed_first():
    full, part = fingerprint(DAM), fingerprint(partial_copy(DAM, 0.5))
    assert race_winner("story-b", part, set(), {"story-a": full}) == "story-a"


def test_a_signature_document_round_trips_with_its_sketch():
    fp = fingerprint(DAM)
    read = fingerprint_from_source(signature_source("s-1", fp))
    assert read == fp and read.lookup_keys == fp.lookup_keys


def test_a_signature_stored_before_sketches_is_read_and_judged_by_resemblance():
    fp = fingerprint(DAM)
    old = signature_source("s-1", fp)
    del old["sketch"]
    read = fingerprint_from_source(old)
    assert read.sketch is None and read.lookup_keys == read.bands == fp.bands
    assert is_copy(fingerprint("PARIS (AFP) - " + DAM), read)
    assert containment(fingerprint(partial_copy(DAM, 0.5)), read) == 0.0


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
