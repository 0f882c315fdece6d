"""Language detection, and the unpacked copy of its model that spares each process the
package's LZMA decompression."""

from __future__ import annotations

import logging
from pathlib import Path

import py3langid
import pytest

from pipeline.language import cache_dir, load_identifier

TEXTS = [
    "The city council approved the new tram line on Monday after six hours of debate.",
    "Le conseil municipal a approuvé lundi la nouvelle ligne de tramway après le débat.",
    "Der Stadtrat hat am Montag nach sechs Stunden Debatte die neue Straßenbahnlinie gebilligt.",
    "El ayuntamiento aprobó el lunes la nueva línea de tranvía tras seis horas de debate.",
    "Городской совет в понедельник одобрил новую трамвайную линию после долгих дебатов.",
    "市议会周一在经过六个小时的辩论后批准了新的有轨电车线路。",
    "مجلس المدينة وافق يوم الاثنين على خط الترام الجديد بعد ست ساعات من النقاش",
    "Ok",
]


def _cached(directory: Path) -> list[Path]:
    return sorted(directory.glob("py3langid-*.npz"))


def test_the_unpacked_model_classifies_exactly_as_the_package(tmp_path: Path) -> None:
    expected = [py3langid.classify(text) for text in TEXTS]
    made = load_identifier(tmp_path)
    (unpacked,) = _cached(tmp_path)
    read_back = load_identifier(tmp_path)
    assert [made.classify(text) for text in TEXTS] == expected
    assert [read_back.classify(text) for text in TEXTS] == expected
    assert [lang for lang, _ in expected[:7]] == ["en", "fr", "de", "es", "ru", "zh", "ar"]
    # Read, not rewritten, the second time.
    assert _cached(tmp_path) == [unpacked]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_damaged_copy_is_unpacked_again(tmp_path: Path, caplog) -> None:
    load_identifier(tmp_path)
    (unpacked,) = _cached(tmp_path)
    whole = unpacked.read_bytes()
    for damaged in (b"not a model", whole[: len(whole) // 2]):
        unpacked.write_bytes(damaged)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.language"):
            identifier = load_identifier(tmp_path)
        assert identifier.classify(TEXTS[1])[0] == "fr"
        assert "unreadable" in caplog.text
        assert unpacked.read_bytes() == whole


def test_an_unwritable_cache_loads_the_model_from_the_package(tmp_path: Path) -> None:
    # A file where the directory should be: nothing can be written under it.
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    assert load_identifier(blocked / "cache").classify(TEXTS[2])[0] == "de"
    assert blocked.read_text() == ""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WIREFEED_CACHE_DIR": "/srv/cache"}, Path("/srv/cache")),
        ({}, Path.home() / ".cache/wirefeed"),
    ],
)
def test_cache_dir_from_the_environment(env: dict[str, str], expected: Path) -> None:
    assert cache_dir(env) == expected
