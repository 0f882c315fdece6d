"""MinHash signatures of sets of byte strings (pure functions).

The signatures are stored (as band keys and on `sig:` documents), so their values must never
change: they are datasketch 2's `MinHash(num_perm, seed, scheme="affine32")` over the first
four bytes of SHA-1, value for value (a test compares the two). datasketch itself is not
imported: its package loads scipy, a third of a second in every process that dedups.

The scheme: each item's 32-bit hash is mixed by the MurmurHash3 finalizer, then permuted by
`a * h + b mod 2**32` (odd `a`) for each of the `num_perm` (a, b) pairs; a signature keeps
the smallest permuted value per pair.
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


def signature(items: Iterable[bytes], perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The uint32 MinHash values of `items` (all 0xFFFFFFFF for no items)."""
    a, b = perms
    digests = b"".join(hashlib.sha1(item).digest()[:4] for item in items)
    if not digests:
        return np.full(len(a), _EMPTY, dtype=np.uint32)
    hashes = _mix(np.frombuffer(digests, dtype="<u4").astype(np.uint32).reshape(-1, 1))
    # uint32 arithmetic wraps around: that is the mod 2**32 of the permutation.
    return (hashes * a + b).min(axis=0)
