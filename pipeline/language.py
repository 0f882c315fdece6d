"""Language of a text (ISO 639-1), or None when there is too little text to tell."""

from __future__ import annotations

import py3langid

_MIN_CHARS = 20
# Enough text for a stable guess; classifying a whole long article adds time, not accuracy.
_SAMPLE_CHARS = 1000


def normalise_code(code: str | None) -> str | None:
    """`en-US`, `EN_gb`, `en` -> `en`; None for anything that is not a language tag."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if len(primary) in (2, 3) and primary.isalpha() else None


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Detected language of `text`; `hint` (a page's or feed's declared language) when the
    text is too short to classify."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return normalise_code(hint)
    lang, _score = py3langid.classify(sample)
    return lang
