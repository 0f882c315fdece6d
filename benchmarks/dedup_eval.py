"""Near-duplicate detection quality on real text: pairwise precision and recall, partial
copies on their own, for the pipeline and for plain MinHash LSH, on a tuning and a held-out half.

Positives: each gold article body of ../shared/corpora/articles/zyte-dev/ground-truth.json
and five syndicated variants of it, made the way outlets reprint wire copy (all seeded, so
every run measures the same pairs):

  wire      dateline ("MOSCOW (AFP) - "), a site trailer, curly/straight quotes swapped
  cut       last paragraph dropped, an "Also read: <other headline>" line inserted,
            whitespace changed (double spaces, odd blank lines, trailing blanks)
  reprint   dateline + last paragraph dropped + agency credit trailer + quotes + whitespace
  promo     two "Also read" lines and a credit line the trailer filter does not know
  partial   only the first 60% of the story's words (cut mid-paragraph, as the words fall),
            with a dateline, an "Also read" line, a trailer, quotes swapped and whitespace
Every pair inside one story's group (original + 5 variants) must merge; the pairs with the
partial copy are also reported on their own. The same run repeats with the partial copy cut
at 50%, 70% and 80%, to show the mechanism is not fitted to one cut point. Headline rewrites
need no variant: the signature reads the body only, so no headline can change a result.

Teasers: each story's first 30 words, as a feed summary shows them. They are counted apart
(a teaser merged with its story), never as positives: a text that short should stay apart.

Negatives: every pair of different stories, i.e. all cross-group zyte pairs and all pairs of
different ECB+ documents (../shared/corpora/dedup/ecbplus/docs.derived.jsonl); the hard
ones are ECB+ pairs with the same story_id: different outlets' reports of one event.

ECB+ itself holds some syndicated copies: the same AP/AFP text on two sites (e.g. Yahoo and
HuffPost), with only the headline or spelling changed. Each merged same-event pair is
therefore also judged by a criterion independent of shingles and MinHash: a "reprint" when at
least half of the shorter document's sentences have a near-identical sentence (word-set
Jaccard >= 0.6) in the other. Merged pairs that are not reprints are independent reports
wrongly merged; that count must be zero.

Halves: zyte stories split by a stable hash of their id, ECB+ documents by a stable hash of
their topic (so every same-event pair stays in one half). Each half is a world of its own;
tune on the tuning half only (`--sweep` prints other thresholds for it alone).

A pair merges exactly as in the pipeline: the two share a look-up key and `is_copy` holds
(the resemblance reaches the threshold, or the shorter is contained in the other).
The plain library: datasketch's MinHash (128 permutations) of the word 3-shingles of the
lower-cased raw text, in a MinHashLSH at its default threshold (0.9) and at 0.5 (its
documentation's example); a pair merges when the LSH returns it. Usage:
    .venv/bin/python benchmarks/dedup_eval.py [--threshold 0.5] [--sweep]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from datasketch import MinHash, MinHashLSH

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.stories.dedup import (  # noqa: E402
    DEFAULT_THRESHOLD,
    Fingerprint,
    containment,
    fingerprint,
    is_copy,
    normalised_words,
    similarity,
)
from tests.support.copies import first_share  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
ZYTE = CORPORA / "articles" / "zyte-dev" / "ground-truth.json"
ECBPLUS = CORPORA / "dedup" / "ecbplus" / "docs.derived.jsonl"

HALVES = ("tuning", "held-out")
CUTS = (0.6, 0.5, 0.7, 0.8)  # the first is the headline figure
TEASER_WORDS = 30
PLAIN_THRESHOLDS = (0.9, 0.5)
PLAIN_PERM = 128
_PLAIN_WORD = re.compile(r"\w+")

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
    name: str  # original, a variant's name, partial, teaser or ecb
    half: str
    fingerprint: Fingerprint
    plain: MinHash  # the plain library's signature of the same text
    sentences: tuple[frozenset[str], ...] = ()


def half_of(key: str) -> str:
    """The half a story (or ECB+ topic) falls in: a stable hash, so every run agrees."""
    return HALVES[hashlib.sha256(key.encode("utf-8")).digest()[0] % 2]


def plain_minhash(text: str) -> MinHash:
    words = _PLAIN_WORD.findall(text.lower())
    minhash = MinHash(num_perm=PLAIN_PERM)
    minhash.update_batch(" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2))
    return minhash


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


def partial_copy(body: str, share: float, headline: str, rng: random.Random) -> str:
    """The first `share` of the story as an outlet reprints it."""
    paras = first_share(body, share)
    paras = [rng.choice(DATELINES) + paras[0], *paras[1:]]
    text = "\n\n".join([*_also_read(paras, headline, rng), rng.choice(TRAILERS)])
    return _whitespace(_swap_quotes(text), rng)


def _headline(body: str) -> str:
    return " ".join(body.split()[:9])


def _item(group: str, event: str, name: str, text: str, half: str, **extra) -> Item:
    return Item(group, event, name, half, fingerprint(text), plain_minhash(text), **extra)


@dataclass
class Corpus:
    """Every item, the partial copies by cut point apart: a world takes one cut."""

    items: list[Item] = field(default_factory=list)
    partials: dict[float, list[Item]] = field(default_factory=lambda: defaultdict(list))

    def world(self, half: str, cut: float) -> list[Item]:
        return [i for i in [*self.items, *self.partials[cut]] if i.half == half]


def load_corpus() -> Corpus:
    if not ZYTE.exists() or not ECBPLUS.exists():
        sys.exit(f"corpora not found under {CORPORA}")
    gold = json.loads(ZYTE.read_text())
    headlines = [_headline(v["articleBody"]) for v in gold.values()]
    corpus = Corpus()
    for number, (key, value) in enumerate(sorted(gold.items())):
        body, group = value["articleBody"], f"zyte:{key}"
        half = half_of(group)
        rng = random.Random(number)
        others = [h for h in headlines if h != _headline(body)]
        texts = {"original": body, **variants(body, others, rng)}
        texts["teaser"] = " ".join(body.split()[:TEASER_WORDS]) + " ..."
        corpus.items += [_item(group, group, n, t, half) for n, t in texts.items()]
        for cut in CUTS:
            text = partial_copy(body, cut, rng.choice(others), random.Random(f"{number}:{cut}"))
            corpus.partials[cut].append(_item(group, group, "partial", text, half))
    for line in ECBPLUS.read_text().splitlines():
        doc = json.loads(line)
        half = half_of(f"topic:{doc['topic']}")
        sentences = _sentences(doc["text"])
        corpus.items.append(
            _item(
                f"ecb:{doc['doc']}", doc["story_id"], "ecb", doc["text"], half, sentences=sentences
            )
        )
    return corpus


Pairs = set[tuple[int, int]]


def pipeline_merges(threshold: float) -> Callable[[list[Item]], Pairs]:
    """Pairs that share a look-up key (what the engine look-up returns) and are copies."""

    def merges(items: list[Item]) -> Pairs:
        buckets: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            for key in item.fingerprint.lookup_keys:
                buckets[key].append(index)
        candidates = set()
        for members in buckets.values():
            candidates.update(itertools.combinations(sorted(members), 2))
        return {
            (i, j)
            for i, j in candidates
            if is_copy(items[i].fingerprint, items[j].fingerprint, threshold)
        }

    return merges


def plain_merges(threshold: float) -> Callable[[list[Item]], Pairs]:
    """Pairs the plain MinHashLSH returns for each other."""

    def merges(items: list[Item]) -> Pairs:
        lsh = MinHashLSH(threshold=threshold, num_perm=PLAIN_PERM)
        for index, item in enumerate(items):
            lsh.insert(index, item.plain)
        return {
            (min(i, j), max(i, j))
            for i, item in enumerate(items)
            for j in lsh.query(item.plain)
            if i != j
        }

    return merges


@dataclass
class Figures:
    positives: int = 0
    true_pos: int = 0
    false_pos: int = 0
    partial_pairs: int = 0
    partial_merged: int = 0
    teaser_pairs: int = 0
    teaser_merged: int = 0
    reprints: list[tuple[str, str]] = field(default_factory=list)
    independent: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        merged = self.true_pos + self.false_pos
        return self.true_pos / merged if merged else 1.0

    @property
    def precision_reprints_as_copies(self) -> float:
        """ECB+ reprints counted as what they are: copies of one text."""
        merged = self.true_pos + self.false_pos
        return (self.true_pos + len(self.reprints)) / merged if merged else 1.0

    @property
    def recall(self) -> float:
        return self.true_pos / self.positives if self.positives else 1.0

    @property
    def partial_recall(self) -> float:
        return self.partial_merged / self.partial_pairs if self.partial_pairs else 1.0


def _pair_kind(a: Item, b: Item) -> str:
    if a.group != b.group:
        return "negative"
    names = {a.name, b.name}
    return "teaser" if "teaser" in names else "partial" if "partial" in names else "copy"


def score(items: list[Item], merged: Iterable[tuple[int, int]]) -> Figures:
    figures = Figures()
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.group].append(item)
    same_group = (p for g in groups.values() for p in itertools.combinations(g, 2))
    for a, b in same_group:
        kind = _pair_kind(a, b)
        figures.positives += kind in ("copy", "partial")
        figures.partial_pairs += kind == "partial"
        figures.teaser_pairs += kind == "teaser"
    for i, j in merged:
        a, b = items[i], items[j]
        kind = _pair_kind(a, b)
        if kind == "teaser":
            figures.teaser_merged += 1
        elif kind != "negative":
            figures.true_pos += 1
            figures.partial_merged += kind == "partial"
        else:
            figures.false_pos += 1
            if a.event == b.event and a.group.startswith("ecb:"):
                pair = tuple(sorted((a.group[4:], b.group[4:])))
                (figures.reprints if is_reprint(a, b) else figures.independent).append(pair)
    return figures


def line(label: str, f: Figures) -> str:
    return (
        f"  {label:22} precision {f.precision_reprints_as_copies:.4f} (ECB+ reprints counted "
        f"as false: {f.precision:.4f}), recall {f.recall:.4f} ({f.true_pos}/{f.positives}, "
        f"false {f.false_pos}), partial copies recall {f.partial_recall:.4f} "
        f"({f.partial_merged}/{f.partial_pairs}), ECB+ independent reports merged "
        f"{len(f.independent)} (reprints {len(f.reprints)}), teasers merged "
        f"{f.teaser_merged}/{f.teaser_pairs}"
    )


def profile(items: list[Item]) -> dict[str, float | int]:
    """What the thresholds are set from: copy pairs' resemblance, partial copies'
    containment, the highest of both among ECB+ independent reports, and the share of
    partial-copy pairs that the band keys alone, and all look-up keys, make candidates."""
    groups: dict[str, list[Item]] = defaultdict(list)
    events: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.name != "teaser":
            groups[item.group].append(item)
        if item.group.startswith("ecb:"):
            events[item.event].append(item)
    copies = [p for members in groups.values() for p in itertools.combinations(members, 2)]
    partial = [(a, b) for a, b in copies if "partial" in (a.name, b.name)]
    independent = [
        (a, b)
        for members in events.values()
        for a, b in itertools.combinations(members, 2)
        if not is_reprint(a, b)
    ]
    resemblance = sorted(similarity(a.fingerprint, b.fingerprint) for a, b in copies)
    judged = sorted(c for a, b in partial if (c := containment(a.fingerprint, b.fingerprint)) > 0)

    def found_by(keys: Callable[[Fingerprint], tuple[str, ...]]) -> float:
        shared = sum(bool(set(keys(a.fingerprint)) & set(keys(b.fingerprint))) for a, b in partial)
        return shared / len(partial)

    return {
        "copy_pairs": len(copies),
        "copy_jaccard_min": resemblance[0],
        "copy_jaccard_p01": resemblance[len(resemblance) // 100],
        "copy_jaccard_median": resemblance[len(resemblance) // 2],
        "partial_pairs": len(partial),
        "partial_judged_by_containment": len(judged),
        "partial_containment_min": judged[0],
        "partial_found_by_bands": found_by(lambda fp: fp.bands),
        "partial_found_by_lookup_keys": found_by(lambda fp: fp.lookup_keys),
        "ecb_independent_pairs": len(independent),
        "ecb_independent_jaccard_max": max(
            similarity(a.fingerprint, b.fingerprint) for a, b in independent
        ),
        "ecb_independent_containment_max": max(
            containment(a.fingerprint, b.fingerprint) for a, b in independent
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument(
        "--sweep", action="store_true", help="also print other thresholds (tuning half only)"
    )
    args = parser.parse_args()
    corpus = load_corpus()
    methods = {f"pipeline {args.threshold:.2f}": pipeline_merges(args.threshold)}
    methods |= {f"MinHashLSH {t:.1f}": plain_merges(t) for t in PLAIN_THRESHOLDS}
    for half in HALVES:
        world = corpus.world(half, CUTS[0])
        stories = len({i.group for i in world if i.group.startswith("zyte:")})
        ecb = sum(1 for i in world if i.name == "ecb")
        print(f"{half} half: {stories} stories x 6 copies + a teaser each, {ecb} ECB+ documents")
        if half == HALVES[0]:
            for key, value in profile(world).items():
                shown = f"{value:.3f}" if isinstance(value, float) else value
                print(f"  profile {key:32} {shown}")
        for label, merges in methods.items():
            figures = score(world, merges(world))
            print(line(label, figures))
            for a, b in figures.independent:
                print(f"    INDEPENDENT merged: {a} ~ {b}")
        for cut in CUTS[1:]:
            other = corpus.world(half, cut)
            if half == HALVES[0]:
                found = profile(other)
                print(
                    f"  profile cut {cut:.0%}: partial_containment_min "
                    f"{found['partial_containment_min']:.3f}, partial_found_by_bands "
                    f"{found['partial_found_by_bands']:.3f}, partial_found_by_lookup_keys "
                    f"{found['partial_found_by_lookup_keys']:.3f}"
                )
            for label, merges in methods.items():
                print(line(f"{label} cut {cut:.0%}", score(other, merges(other))))
        if args.sweep and half == HALVES[0]:
            for threshold in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8):
                print(
                    line(f"sweep {threshold:.2f}", score(world, pipeline_merges(threshold)(world)))
                )


if __name__ == "__main__":
    main()
