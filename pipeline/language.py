"""Language of a text (ISO 639-1), or None when there is too little text to tell.

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
from collections.abc import Mapping
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import load_model

log = logging.getLogger(__name__)

_MIN_CHARS = 20
# Enough text for a stable guess; classifying a whole long article adds time, not accuracy.
_SAMPLE_CHARS = 1000
# array.array type codes of py3langid's state tables, by item size.
_TYPECODES = {2: "H", 4: "I", 8: "L"}
# What py3langid's model file holds: (nb_ptc, nb_pc, nb_classes, tk_nextmove, tk_row,
# tk_output), as its own loader returns them.
_Model = tuple[np.ndarray, np.ndarray, list[str], array, array, list[int]]


def normalise_code(code: str | None) -> str | None:
    """`en-US`, `EN_gb`, `en` -> `en`; None for anything that is not a language tag."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if len(primary) in (2, 3) and primary.isalpha() else None


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
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, tk_row=row)


@cache
def _identifier() -> LanguageIdentifier:
    return load_identifier(cache_dir())


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Detected language of `text`; `hint` (a page's or feed's declared language) when the
    text is too short to classify."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return normalise_code(hint)
    lang, _score = _identifier().classify(sample)
    return lang
