"""Language of a text (ISO 639-1) from all the evidence there is, or None when unsure.

Evidence: the classifier's calibrated probabilities (py3langid's softmax, tempered by the
square root of the text's length, so a short text gets flatter, less confident scores) and
the languages the feed and the page declare. Lists of names, clubs and scores (sports
results, tables, captions) are what the classifier misreads: their words are names, and
names from all over the world. So its guess of a language other than the default one counts
only when it leaves the default language next to no chance; a declaration weighs as ten to
one for its language; and a text with the default still in the running that no declaration
decides is None, which enrichment reads with the default model.

The classifier is py3langid's. Its package ships the model LZMA-compressed, and unpacking
it is two thirds of a half-second load in every process that detects languages: each
cycle's worker pool, before its first page. So the unpacked model is kept in a cache
directory (WIREFEED_CACHE_DIR, default ~/.cache/wirefeed) and read from there next time;
where that directory cannot be written, the model loads from the package as before.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from array import array
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import load_model

from pipeline.config import DEFAULT_LANGUAGE
from pipeline.feeds.declared import normalise_code
from pipeline.workers import on_warm_up

log = logging.getLogger(__name__)

_MIN_CHARS = 20
# Enough text for a stable guess; classifying a whole long article adds time, not accuracy.
_SAMPLE_CHARS = 1000
# array.array type codes of py3langid's state tables, by item size.
_TYPECODES = {2: "H", 4: "I", 8: "L"}
# The classifier's guess of another language stands alone only where it leaves the default
# language at most this probability. English texts it misread (results, lists of names:
# whole news documents and their single lines) kept 6e-4 and more; texts really in another
# language, from 150 characters on, left it less than 3e-5.
_DEFAULT_LEFT_AT_MOST = 1e-4
# How much more likely a language is for the feed or the page declaring it.
_DECLARED_ODDS = 10.0
# What py3langid's model file holds: (nb_ptc, nb_pc, nb_classes, tk_nextmove, tk_row,
# tk_output), as its own loader returns them.
_Model = tuple[np.ndarray, np.ndarray, list[str], array, array, list[int]]


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("WIREFEED_CACHE_DIR") or Path.home() / ".cache" / "wirefeed")


def _unpacked_name(packaged: Path) -> str:
    """Names the package's model by version and size: an upgrade never reads a stale copy."""
    return f"py3langid-{version('py3langid')}-{packaged.stat().st_size}.npz"


def _write_unpacked(path: Path, model: _Model) -> None:
    ptc, pc, classes, nextmove, row, output = model
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then renamed: a reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        try:
            np.savez(
                tmp,
                ptc=ptc,
                pc=pc,
                classes=np.array(classes),
                nextmove=np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
                row=np.frombuffer(row, dtype=f"u{row.itemsize}"),
                output=np.asarray(output, dtype=np.int64),
            )
        except BaseException:
            os.unlink(tmp.name)
            raise
    os.chmod(tmp.name, 0o644)  # a cache other users of the directory may read too
    os.replace(tmp.name, path)


def _read_unpacked(path: Path) -> _Model:
    def table(values: np.ndarray) -> array:
        out = array(_TYPECODES[values.dtype.itemsize])
        out.frombytes(values.data.cast("B"))
        return out

    with np.load(path, allow_pickle=False) as data:
        return (
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            table(data["nextmove"]),
            table(data["row"]),
            data["output"].tolist(),
        )


def load_identifier(directory: Path) -> LanguageIdentifier:
    """py3langid's classifier, read from the unpacked copy in `directory` (made there on the
    first load); from the package when the copy can be neither read nor written."""
    packaged = MODEL_DIR / MODEL_FILE
    unpacked = directory / _unpacked_name(packaged)
    model: _Model
    try:
        model = _read_unpacked(unpacked)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning(
                "unpacked language model %s unreadable (%s): unpacking again", unpacked, exc
            )
        model = load_model(packaged)
        try:
            _write_unpacked(unpacked, model)
        except OSError as write_error:
            log.info("language model not cached in %s: %s", directory, write_error)
    ptc, pc, classes, nextmove, row, output = model
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


@cache
def _identifier() -> LanguageIdentifier:
    return load_identifier(cache_dir())


def language_scores(text: str) -> dict[str, float] | None:
    """The classifier's probability of each language for `text`; None when it is too short
    to classify."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return None
    return dict(_identifier().rank(sample))


def decide_language(
    scores: Mapping[str, float] | None,
    declared: Sequence[str] = (),
    default: str = DEFAULT_LANGUAGE,
) -> str | None:
    """The language of a text from the classifier's `scores` (None: too short to classify)
    and the `declared` languages (normalised codes, most specific first); None when unsure.

    Too short to classify: the first declared language, if any. Otherwise the most likely of
    the classifier's guess and the declared languages, a declared one weighing ten to one. It
    stands when it was declared, or is the default, or the classifier leaves the default next
    to no chance (then even against a declaration: templates declare wrong languages). A
    guess of the classifier alone with the default still in the running does not: then the
    default if it was declared, else None.
    """
    if scores is None:
        return declared[0] if declared else None
    guess = max(scores, key=scores.__getitem__)
    best = max(
        (guess, *declared),
        key=lambda lang: scores.get(lang, 0.0) * (_DECLARED_ODDS if lang in declared else 1.0),
    )
    if best in declared or best == default or scores.get(default, 0.0) <= _DEFAULT_LEFT_AT_MOST:
        return best
    return default if default in declared else None


def detect_language(text: str, declared: Iterable[str | None] = ()) -> str | None:
    """The language of `text`, with the languages its page and feed declare (any tags, most
    specific first: `en-GB`, a Content-Language header's `de, en`, None for none)."""
    codes = list(dict.fromkeys(c for c in map(normalise_code, declared) if c))
    return decide_language(language_scores(text), codes)


def _warm_up() -> None:
    # The language model loads on its first use (a tenth of a second, unpacked).
    detect_language("The workers load their models before the first page arrives.")


on_warm_up(_warm_up)
