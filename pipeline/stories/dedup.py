"""Exact keys and near-duplicate signatures for story deduplication (pure functions).

Syndicated copies of one wire story differ in headline, dateline ("MOSCOW (AFP) -"), site
trailers, quote style, whitespace and sometimes a dropped last paragraph. We compare the
normalised *body* only (headlines are what outlets rewrite most):

- exact keys: the canonical URL, the (feed, guid) pair and a hash of the normalised body;
- near-duplicates: MinHash over word shingles, cut into LSH bands, and a bottom-k sketch of
  the shingle hashes, whose smallest few are keys too. A key is a plain string, stored in
  the search engine as a document id, so finding candidates is a key look-up whatever the
  number of stories. A candidate is confirmed when the estimated resemblance reaches the
  threshold (see `similarity`), or when the shorter body, long enough to identify a story,
  is contained in the other (see `containment`): outlets cut wire copy to its first
  paragraphs, and the resemblance of a story to its first half is about one half.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.config import ConfigError
from pipeline.ids import doc_id
from pipeline.stories.minhash import (
    bottom_k,
    containment_of,
    item_hashes,
    permutations,
    signature_of_hashes,
)
from pipeline.text.boilerplate import is_trailer
from pipeline.workers import pool_map, share

SHINGLE_WORDS = 3
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
# From benchmarks/dedup_eval.py: syndicated variants score >= 0.648, independent reports of
# one event (ECB+) at most 0.43; 0.55 sits between with a margin on both sides.
DEFAULT_THRESHOLD = 0.55
# Below this many words a body says too little to tell copies from look-alikes.
MIN_WORDS = 12
# From benchmarks/dedup_eval.py (tuning half): partial copies (the first 50-80% of a story,
# with outlet edits) are contained >= 0.95, independent reports of one event (ECB+) at most
# 0.71. 0.8 leaves the copies room for heavier edits than the benchmark's (changing one word
# in 30 costs them about 0.1) and the independent reports room for a sketch's sampling error.
MIN_CONTAINMENT = 0.8
# Containment is judged on at least this many of the shorter body's shingle hashes: the
# whole set of a short body, so nothing under about 66 words (a teaser or a brief is
# contained in many longer texts about its event), and a sample large enough that an
# independent report does not pass by chance when the other body is long.
MIN_CONTAINED_SHINGLES = 64
# Sketch size: bodies up to this many shingles are held whole; longer ones by a sample.
SKETCH_SIZE = 512
# The sketch's smallest hashes that are look-up keys. A body contained in another holds the
# other's smallest shared hash with a chance of its share, so one of these few keys is
# almost always common to both (bands alone find a half copy only about half the time).
SHINGLE_KEYS = 8
_PERMUTATIONS = permutations(NUM_PERM, seed=1)

_QUOTES = str.maketrans({c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4`"}) | str.maketrans(
    {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
)
# "MOSCOW (AFP) -", "WASHINGTON, March 3 (Reuters) -", "New Delhi (PTI):", "PARIS --".
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][\w.'\- ]{0,40}?)(?:,\s*[\w.' ]{1,30}?)?\s*"
    r"(?P<agency>\([A-Za-z][\w .&/-]{0,30}\)\s*)?(?:-{1,2}|\u2013|\u2014|:)\s+"
)
_WORD = re.compile(r"\w+")


def strip_dateline(paragraph: str) -> str:
    """Drop a leading wire dateline; a sentence that merely has a dash stays whole."""
    match = _DATELINE.match(paragraph)
    if not match:
        return paragraph
    place = match.group("place").strip()
    # A dateline names an agency in brackets, or its place is all capitals ("LONDON -").
    if match.group("agency") or (place.isupper() and len(place) > 2):
        return paragraph[match.end() :]
    return paragraph


def normalised_words(text: str) -> list[str]:
    """The words of a body as every outlet shares them: no trailers, dateline, case or quotes."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p and not is_trailer(p)]
    if paragraphs:
        paragraphs[0] = strip_dateline(paragraphs[0])
    return _WORD.findall(" ".join(paragraphs).lower())


def body_hash(words: list[str]) -> str | None:
    """Hash of the normalised body; None for a body too short to identify a story."""
    if len(words) < MIN_WORDS:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(words: list[str]) -> set[bytes]:
    n = SHINGLE_WORDS
    return {" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup needs to know about one body."""

    words: int
    body_hash: str | None
    signature: bytes | None  # NUM_PERM little-endian uint32 MinHash values
    # Up to SKETCH_SIZE smallest shingle hashes, ascending little-endian uint32; None on a
    # signature stored before sketches were (such a story is judged by resemblance alone).
    sketch: bytes | None = None
    # The LSH band keys and the look-up keys (bands, then the sketch's smallest hashes),
    # derived once where the fingerprint is made (a worker, for a batch): a cycle reads them
    # several times, and they are 40 hashes each.
    bands: tuple[str, ...] = field(init=False, repr=False, compare=False)
    lookup_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bands = _bands(self.signature)
        object.__setattr__(self, "bands", bands)
        object.__setattr__(self, "lookup_keys", bands + _shingle_keys(self.sketch))

    def claim_keys(self) -> list[str]:
        """Keys a new story with this body claims before it is written: body hash and the
        look-up keys."""
        return [body_key(self.body_hash), *self.lookup_keys] if self.body_hash else []


def _bands(signature: bytes | None) -> tuple[str, ...]:
    if signature is None:
        return ()
    size = ROWS * 4
    rows = (signature[i * size : (i + 1) * size] for i in range(BANDS))
    return tuple(
        f"band:{i}:{hashlib.blake2b(row, digest_size=12).hexdigest()}" for i, row in enumerate(rows)
    )


def _shingle_keys(sketch: bytes | None) -> tuple[str, ...]:
    if sketch is None:
        return ()
    smallest = np.frombuffer(sketch, dtype="<u4")[:SHINGLE_KEYS]
    return tuple(f"shingle:{int(h):08x}" for h in smallest)


def fingerprint(body: str) -> Fingerprint:
    words = normalised_words(body)
    digest = body_hash(words)
    if digest is None:
        return Fingerprint(words=len(words), body_hash=None, signature=None)
    hashes = item_hashes(shingles(words))
    return Fingerprint(
        words=len(words),
        body_hash=digest,
        signature=signature_of_hashes(hashes, _PERMUTATIONS).astype("<u4").tobytes(),
        sketch=bottom_k(hashes, SKETCH_SIZE).astype("<u4").tobytes(),
    )


def fingerprints(bodies: Sequence[str]) -> list[Fingerprint]:
    """`fingerprint` of each body, on the worker pool when there are enough of them: the
    main process has the rest of the cycle to do, and the workers would idle meanwhile."""
    chunk = share(len(bodies), per_worker=4)
    found = pool_map(fingerprint, bodies, len(bodies), "fingerprint", chunksize=chunk)
    return found if found is not None else [fingerprint(body) for body in bodies]


def encode_values(values: bytes | None) -> str | None:
    """A signature or sketch as stored: base64."""
    return base64.b64encode(values).decode("ascii") if values else None


def decode_values(encoded: str | None) -> bytes | None:
    return base64.b64decode(encoded) if encoded else None


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard resemblance of the two bodies' shingle sets, in [0, 1].

    From the MinHash signatures; containment is judged from the sketches instead (see
    `containment`), the signature's estimate of it being too noisy when the two bodies
    differ much in length (measured: it merged independent reports of one event).
    """
    if a.body_hash is not None and a.body_hash == b.body_hash:
        return 1.0
    if a.signature is None or b.signature is None:
        return 0.0
    left = np.frombuffer(a.signature, dtype="<u4")
    right = np.frombuffer(b.signature, dtype="<u4")
    return float(np.count_nonzero(left == right)) / NUM_PERM


def containment(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated share of the shorter body's shingles found in the other's, in [0, 1]; 0.0
    when either has no sketch or too few hashes to judge by (MIN_CONTAINED_SHINGLES)."""
    inner, outer = sorted((a, b), key=lambda fp: fp.words)
    if inner.sketch is None or outer.sketch is None:
        return 0.0
    return containment_of(
        np.frombuffer(inner.sketch, dtype="<u4"),
        np.frombuffer(outer.sketch, dtype="<u4"),
        SKETCH_SIZE,
        MIN_CONTAINED_SHINGLES,
    )


def is_copy(a: Fingerprint, b: Fingerprint, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """One body resembles the other (`threshold`), or is contained in it."""
    return similarity(a, b) >= threshold or containment(a, b) >= MIN_CONTAINMENT


def best_match(
    fp: Fingerprint, candidates: Mapping[str, Fingerprint], threshold: float = DEFAULT_THRESHOLD
) -> str | None:
    """The candidate story `fp` is a copy of that is most like it, by the larger of
    resemblance and containment (ties: smallest id)."""
    scored = sorted(
        (-max(similarity(fp, other), containment(fp, other)), story_id)
        for story_id, other in candidates.items()
        if is_copy(fp, other, threshold)
    )
    return scored[0][1] if scored else None


def race_winner(
    own_id: str,
    own: Fingerprint,
    own_won: set[str],
    rivals: Mapping[str, Fingerprint],
    threshold: float = DEFAULT_THRESHOLD,
) -> str:
    """The story a just-claimed new story must become: itself or a rival copy of it.

    Two workers claim the keys of copies of one story at once; each key goes to one of them.
    A worker that lost keys to a rival copy, and won none of the rival's keys, claimed
    second: the rival never saw it and keeps its story, so this one yields. If each won some
    keys, both see the conflict and both pick the smaller id. Either way they agree.
    """
    yield_to = []
    for rival_id, rival in rivals.items():
        if rival_id == own_id or not is_copy(own, rival, threshold):
            continue
        mutual = bool(own_won & set(rival.claim_keys()))
        if not mutual or rival_id < own_id:
            yield_to.append(rival_id)
    return min(yield_to) if yield_to else own_id


def threshold_from(env: Mapping[str, str]) -> float:
    """WIREFEED_DEDUP_THRESHOLD, a similarity in (0, 1]; the measured default if unset."""
    raw = env.get("WIREFEED_DEDUP_THRESHOLD")
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"WIREFEED_DEDUP_THRESHOLD: {raw!r} is not a number") from None
    if not 0 < value <= 1:
        raise ConfigError(f"WIREFEED_DEDUP_THRESHOLD: must be in (0, 1], got {raw!r}")
    return value


def url_key(url: str) -> str:
    return f"url:{doc_id('url', url)}"


def guid_key(feed_url: str, guid: str) -> str:
    return f"guid:{doc_id('guid', feed_url, guid)}"


def body_key(digest: str) -> str:
    return f"body:{digest[:40]}"


def story_id_for(url: str) -> str:
    """A new story's id: derived from its first copy's canonical URL, so re-runs agree."""
    return doc_id("story", url)


def signature_source(story_id: str, fp: Fingerprint) -> dict[str, Any]:
    """A story's `sig:` document: what a racing worker compares a candidate against."""
    return {
        "story_id": story_id,
        "kind": "signature",
        "signature": encode_values(fp.signature),
        "sketch": encode_values(fp.sketch),
        "body_hash": fp.body_hash,
        "words": fp.words,
    }


def fingerprint_from_source(source: dict[str, Any]) -> Fingerprint:
    """The fingerprint a `sig:` document holds; one stored before sketches has none."""
    return Fingerprint(
        words=int(source.get("words") or 0),
        body_hash=source.get("body_hash"),
        signature=decode_values(source.get("signature")),
        sketch=decode_values(source.get("sketch")),
    )
