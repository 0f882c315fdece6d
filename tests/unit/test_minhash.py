"""Our MinHash gives datasketch's values exactly: stored band keys and signatures depend on it."""

from __future__ import annotations

import json
import random

import numpy as np
from datasketch import MinHash

from pipeline.dedup import NUM_PERM, normalised_words, shingles
from pipeline.minhash import permutations, signature
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
