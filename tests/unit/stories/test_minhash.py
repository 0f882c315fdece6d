"""Our MinHash gives datasketch's values exactly: stored band keys and signatures depend on it.
Bottom-k sketches estimate containment: exactly for small sets, closely for large ones."""

from __future__ import annotations

import json
import random

import numpy as np
from datasketch import MinHash

from pipeline.stories.dedup import NUM_PERM, normalised_words, shingles
from pipeline.stories.minhash import bottom_k, containment_of, item_hashes, permutations, signature
from tests.support.paths import shared_path


def _reference(items: list[bytes], seed: int = 1) -> np.ndarray:
    minhash = MinHash(num_perm=NUM_PERM, seed=seed, scheme="affine32")
    minhash.update_batch(items)
    return minhash.hashvalues


def test_permutations_are_datasketchs() -> None:
    for seed in (1, 7):
        a, b = permutations(NUM_PERM, seed)
        expected = MinHash(num_perm=NUM_PERM, seed=seed, scheme="affine32").permutations
        assert np.array_equal(a, expected[0]) and np.array_equal(b, expected[1])
        assert a.dtype == b.dtype == np.uint32


def test_signatures_of_real_bodies_are_datasketchs() -> None:
    gold = json.loads(
        shared_path("corpora", "articles", "zyte-dev", "ground-truth.json").read_text()
    )
    perms = permutations(NUM_PERM, 1)
    bodies = [v["articleBody"] for _, v in sorted(gold.items()) if v.get("articleBody")]
    assert len(bodies) > 50
    for body in bodies:
        items = sorted(shingles(normalised_words(body)))
        assert np.array_equal(signature(items, perms), _reference(items)), body[:60]


def test_signatures_of_odd_sets_are_datasketchs() -> None:
    rng = random.Random(5)
    perms = permutations(NUM_PERM, 1)
    sets = [
        [],
        [b""],
        [b"one item"],
        [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(3000)],
        ["naïve café façade".encode()] * 4,
    ]
    for items in sets:
        assert np.array_equal(signature(items, perms), _reference(items))
    assert (signature([], perms) == 0xFFFFFFFF).all()


def _items(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix} {n}".encode() for n in range(count)]


def test_a_sketch_is_the_k_smallest_distinct_item_hashes() -> None:
    hashes = item_hashes(_items("word", 2000) * 2)
    sketch = bottom_k(hashes, 512)
    assert np.array_equal(sketch, np.sort(np.unique(hashes))[:512])
    assert len(bottom_k(item_hashes(_items("word", 100)), 512)) == 100


def test_containment_of_sets_held_whole_is_exact() -> None:
    outer = _items("shared", 300) + _items("outer", 200)
    inner = _items("shared", 150) + _items("inner", 50)
    sketch_in, sketch_out = (bottom_k(item_hashes(s), 512) for s in (inner, outer))
    assert containment_of(sketch_in, sketch_out, 512, 64) == 150 / 200
    assert containment_of(sketch_in, sketch_in, 512, 64) == 1.0


def test_containment_of_large_sets_is_estimated_from_their_sketches() -> None:
    outer = _items("shared", 6000) + _items("outer", 3000)
    inner = _items("shared", 3000) + _items("inner", 1000)
    sketch_in, sketch_out = (bottom_k(item_hashes(s), 512) for s in (inner, outer))
    assert len(sketch_in) == len(sketch_out) == 512
    assert abs(containment_of(sketch_in, sketch_out, 512, 64) - 0.75) < 0.08


def test_too_few_hashes_to_judge_by_is_no_containment() -> None:
    """A short text against a very long one: the long one's sketch covers so little of the
    hash range that only a few of the short one's hashes fall in it."""
    outer = bottom_k(item_hashes(_items("shared", 20000)), 512)
    inner = bottom_k(item_hashes(_items("shared", 300)), 512)
    assert containment_of(inner, outer, 512, 1) == 1.0  # what the few hashes say
    assert containment_of(inner, outer, 512, 64) == 0.0
