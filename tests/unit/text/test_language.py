"""Language detection, and the unpacked copy of its model that spares each process the
package's LZMA decompression."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipeline.text.language import (
    cache_dir,
    decide_language,
    detect_language,
    language_scores,
    load_identifier,
)
from tests.support.sports import RESULTS

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
    package = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    expected = [package.rank(text) for text in TEXTS]
    made = load_identifier(tmp_path)
    (unpacked,) = _cached(tmp_path)
    read_back = load_identifier(tmp_path)
    assert [made.rank(text) for text in TEXTS] == expected
    assert [read_back.rank(text) for text in TEXTS] == expected
    assert [ranks[0][0] for ranks in expected[:7]] == ["en", "fr", "de", "es", "ru", "zh", "ar"]
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
        with caplog.at_level(logging.WARNING, logger="pipeline.text.language"):
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


# -- deciding a text's language --------------------------------------------------------


def test_too_short_to_classify_takes_the_first_declared_language() -> None:
    assert decide_language(None, ["de", "en"]) == "de"
    assert decide_language(None, []) is None


def test_a_guess_that_leaves_the_default_in_the_running_is_not_a_decision() -> None:
    # How the classifier reads a list of runners and their countries.
    scores = {"pcm": 0.75, "en": 0.05, "ig": 0.05}
    assert decide_language(scores) is None
    # Declared, and not ruled out by the text: the default language.
    assert decide_language(scores, ["en"]) == "en"
    # Another declared language needs the text's support: ten to one for it is not enough.
    assert decide_language(scores, ["ig"]) is None
    assert decide_language({"pcm": 0.75, "en": 0.05, "ig": 0.1}, ["ig"]) == "ig"


def test_a_plainly_other_language_stands_against_a_declaration() -> None:
    scores = {"pt": 0.98, "gl": 0.02, "en": 1e-6}
    assert decide_language(scores) == "pt"
    assert decide_language(scores, ["en"]) == "pt"


def test_a_declared_language_the_text_supports_wins_over_a_close_guess() -> None:
    scores = {"id": 0.55, "ms": 0.45, "en": 1e-8}
    assert decide_language(scores, ["ms"]) == "ms"
    # A declared language the text gives no support does not.
    assert decide_language({"ru": 1.0, "fr": 1e-20, "en": 1e-20}, ["fr"]) == "ru"


def test_the_default_language_needs_no_confidence() -> None:
    assert decide_language({"en": 0.38, "pcm": 0.17, "bcl": 0.1}) == "en"
    assert decide_language({"en": 0.38, "fr": 0.2}, default="fr") is None


def test_declared_tags_are_normalised_and_the_first_specific_one_counts() -> None:
    assert detect_language("Kurz.", [None, "de-DE, en", "fr"]) == "de"
    assert detect_language("Kurz.", ["not a tag!"]) is None


@pytest.mark.parametrize("kind", sorted(RESULTS))
def test_sports_results_never_read_as_a_language_without_a_model(kind: str) -> None:
    # The classifier alone reads each of them as Estonian, Nigerian Pidgin, Shona, Croatian.
    text = RESULTS[kind]
    assert max(language_scores(text).items(), key=lambda item: item[1])[0] != "en"
    assert detect_language(text) in (None, "en")
    assert detect_language(text, ["en-GB"]) == "en"


def test_plain_texts_keep_their_language_whatever_is_declared() -> None:
    for text, language in zip(TEXTS[:7], ["en", "fr", "de", "es", "ru", "zh", "ar"], strict=True):
        assert detect_language(text) == language
        assert detect_language(text, ["en"]) == language
