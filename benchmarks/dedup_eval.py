"""Near-duplicate detection quality on real text: pairwise precision and recall.

Positives: each gold article body of ../shared/corpora/articles/zyte-dev/ground-truth.json
and four syndicated variants of it, made the way outlets reprint wire copy (all seeded, so
every run measures the same pairs):

  wire      dateline ("MOSCOW (AFP) - "), a site trailer, curly/straight quotes swapped
  cut       last paragraph dropped, an "Also read: <other headline>" line inserted,
            whitespace changed (double spaces, odd blank lines, trailing blanks)
  reprint   dateline + last paragraph dropped + agency credit trailer + quotes + whitespace
  promo     two "Also read" lines and a credit line the trailer filter does not know
Every pair inside one story's group (original + 4 variants) must merge. Headline rewrites
need no variant: the signature reads the body only, so no headline can change a result.

Negatives: every pair of different stories, i.e. all cross-group zyte pairs and all pairs of
different ECB+ documents (../shared/corpora/dedup/ecbplus/docs.derived.jsonl); the hard
ones are ECB+ pairs with the same story_id: different outlets' reports of one event.

ECB+ itself holds some syndicated copies: the same AP/AFP text on two sites (e.g. Yahoo and
HuffPost), with only the headline or spelling changed. Each merged same-event pair is
therefore also judged by a criterion independent of shingles and MinHash: a "reprint" when at
least half of the shorter document's sentences have a near-identical sentence (word-set
Jaccard >= 0.6) in the other. Merged pairs that are not reprints are independent reports
wrongly merged; that count must be zero.

A pair merges exactly as in the pipeline: the two share an LSH band key and their
estimated similarity reaches the threshold. Usage:
    .venv/bin/python benchmarks/dedup_eval.py [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.dedup import (  # noqa: E402
    DEFAULT_THRESHOLD,
    Fingerprint,
    fingerprint,
    normalised_words,
    similarity,
)

CORPORA = ROOT.parent / "shared" / "corpora"
ZYTE = CORPORA / "articles" / "zyte-dev" / "ground-truth.json"
ECBPLUS = CORPORA / "dedup" / "ecbplus" / "docs.derived.jsonl"

DATELINES = [
    "MOSCOW (AFP) - ",
    "WASHINGTON, March 3 (Reuters) - ",
    "NEW DELHI (PTI): ",
    "LONDON \u2014 ",
    "PARIS, France (AP) -- ",
]
TRAILERS = [
    "(Except for the headline, this story has not been edited by NDTV staff and is "
    "published from a syndicated feed.)",
    "Track Latest News Live on NDTV.com and get news updates from India and around the world.",
    "Follow us on Twitter for the latest updates.",
    "Subscribe to our daily newsletter for more stories like this.",
]
CREDITS = [
    "(Reporting by Jane Doe; Editing by John Smith)",
    "\u00a9 Agence France-Presse",
    "Copyright 2026 The Associated Press. All rights reserved.",
]


@dataclass(frozen=True)
class Item:
    group: str  # one story; items of a group are copies of each other
    event: str  # ECB+ story_id: same event, different outlets
    name: str
    fingerprint: Fingerprint
    sentences: tuple[frozenset[str], ...] = ()


def _sentences(text: str) -> tuple[frozenset[str], ...]:
    """ECB+ text has one sentence a line; each as a set of its words."""
    found = (frozenset(normalised_words(line)) for line in text.splitlines())
    return tuple(s for s in found if len(s) >= 4)


def is_reprint(a: Item, b: Item) -> bool:
    """Half the shorter document's sentences reappear nearly word for word in the other."""
    shorter, longer = sorted((a.sentences, b.sentences), key=len)
    if not shorter:
        return False
    matched = sum(any(len(s & t) / len(s | t) >= 0.6 for t in longer) for s in shorter)
    return matched * 2 >= len(shorter)


def _paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n\n") if p.strip()]


def _swap_quotes(text: str) -> str:
    table = str.maketrans(
        {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "'": "\u2019", '"': "\u201d"}
    )
    return text.translate(table)


def _whitespace(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    spaced = "".join(w + (" " if rng.random() < 0.8 else "  ") for w in words).rstrip()
    return spaced.replace("\n\n", "\n \n\n" if rng.random() < 0.5 else "\n\n\n") + "  \n"


def _also_read(
    paragraphs: list[str], headline: str, rng: random.Random, label: str = "Also read:"
) -> list[str]:
    at = rng.randrange(1, max(2, len(paragraphs)))
    return [*paragraphs[:at], f"{label} {headline}", *paragraphs[at:]]


def variants(body: str, other_headlines: list[str], rng: random.Random) -> dict[str, str]:
    paras = _paragraphs(body)
    cut = paras[:-1] if len(paras) >= 3 else paras
    dated = [rng.choice(DATELINES) + paras[0], *paras[1:]]
    dated_cut = [rng.choice(DATELINES) + cut[0], *cut[1:]]
    promo = _also_read(paras, rng.choice(other_headlines), rng)
    promo = _also_read(promo, rng.choice(other_headlines), rng, "ALSO READ |")
    return {
        "wire": _swap_quotes("\n\n".join([*dated, rng.choice(TRAILERS)])),
        "cut": _whitespace("\n\n".join(_also_read(cut, rng.choice(other_headlines), rng)), rng),
        "reprint": _whitespace(
            _swap_quotes("\n\n".join([*dated_cut, rng.choice(CREDITS), rng.choice(TRAILERS)])),
            rng,
        ),
        "promo": "\n\n".join([*promo, rng.choice(CREDITS)]),
    }


def _headline(body: str) -> str:
    return " ".join(body.split()[:9])


def load_items() -> list[Item]:
    if not ZYTE.exists() or not ECBPLUS.exists():
        sys.exit(f"corpora not found under {CORPORA}")
    gold = json.loads(ZYTE.read_text())
    headlines = [_headline(v["articleBody"]) for v in gold.values()]
    items = []
    for number, (key, value) in enumerate(sorted(gold.items())):
        rng = random.Random(number)
        others = [h for h in headlines if h != _headline(value["articleBody"])]
        texts = {"original": value["articleBody"], **variants(value["articleBody"], others, rng)}
        for name, text in texts.items():
            items.append(Item(f"zyte:{key}", f"zyte:{key}", name, fingerprint(text)))
    for line in ECBPLUS.read_text().splitlines():
        doc = json.loads(line)
        items.append(
            Item(
                f"ecb:{doc['doc']}",
                doc["story_id"],
                "ecb",
                fingerprint(doc["text"]),
                _sentences(doc["text"]),
            )
        )
    return items


def candidate_pairs(items: list[Item]) -> set[tuple[int, int]]:
    """Pairs that share at least one band key: what the engine look-up would return."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        for key in item.fingerprint.lookup_keys:
            buckets[key].append(index)
    pairs = set()
    for members in buckets.values():
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


def evaluate(items: list[Item], threshold: float) -> dict[str, object]:
    positives = sum(
        n * (n - 1) // 2
        for n in _group_sizes(items).values()  # every within-group pair
    )
    true_pos = false_pos = ecb_event_merged = 0
    reprints, independent = [], []
    scored = [
        (i, j, similarity(items[i].fingerprint, items[j].fingerprint))
        for i, j in candidate_pairs(items)
    ]
    for i, j, score in scored:
        if score < threshold:
            continue
        if items[i].group == items[j].group:
            true_pos += 1
        else:
            false_pos += 1
            if items[i].event == items[j].event and items[i].group.startswith("ecb:"):
                ecb_event_merged += 1
                pair = (items[i].group[4:], items[j].group[4:], round(score, 3))
                (reprints if is_reprint(items[i], items[j]) else independent).append(pair)
    merged = true_pos + false_pos
    return {
        "threshold": threshold,
        "positive_pairs": positives,
        "merged_pairs": merged,
        "true_pos": true_pos,
        "false_pos": false_pos,
        "precision": true_pos / merged if merged else 1.0,
        # ECB+ reprints counted as what they are: copies of one text.
        "precision_reprints_as_copies": (true_pos + len(reprints)) / merged if merged else 1.0,
        "recall": true_pos / positives if positives else 1.0,
        "ecb_same_event_pairs_merged": ecb_event_merged,
        "ecb_reprints_merged": sorted(reprints),
        "ecb_independent_merged": sorted(independent),
    }


def _group_sizes(items: list[Item]) -> dict[str, int]:
    sizes: dict[str, int] = defaultdict(int)
    for item in items:
        sizes[item.group] += 1
    return sizes


def similarity_profile(items: list[Item]) -> dict[str, float]:
    """Copy-pair scores, and the highest ECB+ same-event score among non-reprints."""
    groups: dict[str, list[Item]] = defaultdict(list)
    events: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.group].append(item)
        if item.group.startswith("ecb:"):
            events[item.event].append(item)
    copy_scores = [
        similarity(a.fingerprint, b.fingerprint)
        for members in groups.values()
        for a, b in itertools.combinations(members, 2)
    ]
    event_scores = [
        similarity(a.fingerprint, b.fingerprint)
        for members in events.values()
        for a, b in itertools.combinations(members, 2)
        if not is_reprint(a, b)
    ]
    copy_scores.sort()
    return {
        "copy_pairs": len(copy_scores),
        "copy_min": copy_scores[0],
        "copy_p01": copy_scores[len(copy_scores) // 100],
        "copy_median": copy_scores[len(copy_scores) // 2],
        "ecb_independent_pairs": len(event_scores),
        "ecb_independent_max": max(event_scores),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--sweep", action="store_true", help="also print other thresholds")
    args = parser.parse_args()
    items = load_items()
    zyte = sum(1 for i in items if i.group.startswith("zyte:"))
    print(f"items: {zyte} zyte (88 stories x 5 copies), {len(items) - zyte} ECB+ documents")
    negatives = len(items) * (len(items) - 1) // 2
    print(f"pairs: {negatives} in all")
    for key, value in similarity_profile(items).items():
        print(f"  {key:24} {value:.3f}" if isinstance(value, float) else f"  {key:24} {value}")
    thresholds = [args.threshold]
    if args.sweep:
        thresholds = sorted({args.threshold, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8})
    for threshold in thresholds:
        result = evaluate(items, threshold)
        print(
            f"threshold {threshold:.2f}: precision {result['precision']:.4f} "
            f"(reprints as copies {result['precision_reprints_as_copies']:.4f}) "
            f"recall {result['recall']:.4f} (merged {result['merged_pairs']}, "
            f"true {result['true_pos']}/{result['positive_pairs']}, "
            f"false {result['false_pos']}), "
            f"ECB+ same-event pairs merged {result['ecb_same_event_pairs_merged']} "
            f"(reprints {len(result['ecb_reprints_merged'])}, "
            f"independent reports {len(result['ecb_independent_merged'])})"
        )
        if threshold == args.threshold:
            for a, b, score in result["ecb_reprints_merged"]:
                print(f"    reprint merged: {a} ~ {b} ({score})")
            for a, b, score in result["ecb_independent_merged"]:
                print(f"    INDEPENDENT merged: {a} ~ {b} ({score})")


if __name__ == "__main__":
    main()
