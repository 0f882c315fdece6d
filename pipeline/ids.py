"""Deterministic document ids: the same key always gives the same id."""

from __future__ import annotations

import hashlib


def doc_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
