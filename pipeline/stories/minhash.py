"""MinHash signatures and bottom-k sketches of sets of byte strings (pure functions).

The signatures are stored (as band keys and on `sig:` documents), so their values must never
change: they are datasketch 2's `MinHash(num_perm, seed, scheme="affine32")` over the first
four bytes of SHA-1, value for value (a test compares the two). datasketch itself is not
imported: its package loads scipy, a third of a second in every process that dedups.

The scheme: each item's 32-bit hash is mixed by the MurmurHash3 finalizer, then permuted by
`a * h + b mod 2**32` (odd `a`) for each of the `num_perm` (a, b) pairs; a signature keeps
the smallest permuted value per pair.

A bottom-k sketch keeps the k smallest item hashes themselves (before any permutation). It
holds every hash of its set up to its largest, so two sketches tell exactly which of the
hashes below both their largest are shared: a containment estimate that stays sound when
the two sets differ much in size, where the signature's is noisy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

_EMPTY = np.uint32(0xFFFFFFFF)
_MIX_SHIFTS = (np.uint32(16), np.uint32(13), np.uint32(16))
_MIX_FACTORS = (np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35))


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) pairs datasketch draws for `seed`; drawing them costs more than hashing a
    body, so callers keep them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _mix(hashes: np.ndarray) -> np.ndarray:
    first, second, third = _MIX_SHIFTS
    hashes = hashes ^ (hashes >> first)
    hashes = hashes * _MIX_FACTORS[0]
    hashes = hashes ^ (hashes >> second)
    hashes = hashes * _MIX_FACTORS[1]
    return hashes ^ (hashes >> third)


def item_hashes(items: Iterable[bytes]) -> np.ndarray:
    """Each item's mixed 32-bit hash: what the permutations act on, and what sketches keep."""
    digests = b"".join(hashlib.sha1(item).digest()[:4] for item in items)
    return _mix(np.frombuffer(digests, dtype="<u4").astype(np.uint32))


def signature(items: Iterable[bytes], perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The uint32 MinHash values of `items` (all 0xFFFFFFFF for no items)."""
    return signature_of_hashes(item_hashes(items), perms)


def signature_of_hashes(hashes: np.ndarray, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """`signature` from the items' `item_hashes`."""
    a, b = perms
    if not len(hashes):
        return np.full(len(a), _EMPTY, dtype=np.uint32)
    # uint32 arithmetic wraps around: that is the mod 2**32 of the permutation.
    return (hashes.reshape(-1, 1) * a + b).min(axis=0)


def bottom_k(hashes: np.ndarray, k: int) -> np.ndarray:
    """The k smallest distinct hashes, ascending (all of them for a smaller set)."""
    return np.unique(hashes)[:k]


def containment_of(inner: np.ndarray, outer: np.ndarray, k: int, min_sample: int) -> float:
    """Estimated share of the set behind sketch `inner` that lies in the set behind `outer`;
    0.0 when fewer than `min_sample` of `inner`'s hashes can be judged.

    A sketch shorter than k is its whole set; a full one knows its set only up to its largest
    hash. Below the smallest such limit both sets are known exactly, so the share of
    `inner`'s hashes found in `outer` there is the estimate (exact when neither is full).
    """
    limits = [int(s[-1]) for s in (inner, outer) if len(s) >= k]
    sample = inner[inner <= min(limits)] if limits else inner
    if len(sample) < min_sample or not len(outer):
        return 0.0
    # Both are ascending: a binary search finds each sampled hash's place in `outer`.
    places = np.minimum(np.searchsorted(outer, sample), len(outer) - 1)
    return float(np.count_nonzero(outer[places] == sample)) / len(sample)
