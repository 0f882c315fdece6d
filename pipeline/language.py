"""Language of a text (ISO 639-1), or None when there is too little text to tell."""

from __future__ import annotations

import py3langid

_MIN_CHARS = 20


def detect_language(text: str) -> str | None:
    sample = text[:4000]
    if len(sample.strip()) < _MIN_CHARS:
        return None
    lang, _score = py3langid.classify(sample)
    return lang
