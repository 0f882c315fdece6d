"""Canonical names from raw mentions: pure functions, no model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import ConfigError
from pipeline.entities.names import (
    RawMention,
    acronym_definitions,
    load_tables,
    normalise_surface,
    parse_alias_table,
    resolve_mentions,
)
from pipeline.entities.ner import DEFAULT_ALIASES, DEFAULT_PLACES


@pytest.fixture(scope="module")
def tables():
    return load_tables(DEFAULT_ALIASES, DEFAULT_PLACES)


def mentions_in(text: str, marked: dict[str, str]) -> list[RawMention]:
    """Every occurrence of each surface form in `text`, with the label the model would give."""
    found = []
    for surface, label in marked.items():
        for m in re.finditer(re.escape(surface), text):
            found.append(RawMention(surface, label, m.start(), m.end()))
    return sorted(found, key=lambda r: r.start)


def as_pairs(entities) -> dict[tuple[str, str], int]:
    return {(e.name, e.type): e.mentions for e in entities}


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ("North Korea's", "North Korea"),
        ("North Korea’s", "North Korea"),
        ("the Soviet Union", "Soviet Union"),
        ("The Kremlin", "Kremlin"),
        ('"Putin', "Putin"),
        ("Washington.", "Washington"),
        ("U.S.", "U.S."),
        ("International Criminal Court (ICC", "International Criminal Court"),
        ("  Kim   Jong\tUn ", "Kim Jong Un"),
        ("Reuters'", "Reuters"),
        ("-- Moscow,", "Moscow"),
        ("Theresa May", "Theresa May"),
    ],
)
def test_surface_forms_normalise_to_one_spelling(surface, expected):
    assert normalise_surface(surface) == expected


def test_aliases_map_variants_to_canonical_name_and_type(tables):
    for variant in ("US", "U.S.", "United States of America"):
        assert tables.alias(variant).name == "United States"
    assert tables.alias("UN").name == "United Nations"
    assert tables.alias("USSR").name == "Soviet Union"
    assert tables.alias("Covid").type == "misc"
    assert tables.alias("NATO").name == tables.alias("Nato").name == "NATO"
    assert tables.alias("us") is None  # short variants match only with their own case


def test_alias_table_refuses_a_variant_claimed_twice():
    raw = {
        "United States": {"type": "location", "aliases": ["US"]},
        "Ultrasound": {"type": "misc", "aliases": ["US"]},
    }
    with pytest.raises(ConfigError, match="'US' is listed for both"):
        parse_alias_table(raw, "aliases.yaml")


def test_alias_table_refuses_an_unknown_type():
    with pytest.raises(ConfigError, match="type must be one of"):
        parse_alias_table({"Kyiv": {"type": "city", "aliases": []}}, "aliases.yaml")


def test_broken_alias_file_is_a_config_error(tmp_path: Path):
    broken = tmp_path / "aliases.yaml"
    broken.write_text("United States: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_tables(broken, DEFAULT_PLACES)


def test_short_person_mentions_resolve_to_the_full_name(tables):
    text = "Vladimir Putin flew in. Putin said little. Later Putin's aide spoke."
    raw = mentions_in(text, {"Vladimir Putin": "PERSON", "Putin's": "PERSON"})
    raw += [RawMention("Putin", "PERSON", 24, 29)]
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {("Vladimir Putin", "person"): 3}


def test_short_kim_takes_the_kim_first_named_in_full(tables):
    text = (
        "Kim Jong Un met him. His father Kim Jong Il had met him too. "
        "Kim said ties were strong. Kim Yo Jong, his sister, agreed."
    )
    raw = mentions_in(
        text, {"Kim Jong Un": "PERSON", "Kim Jong Il": "PERSON", "Kim Yo Jong": "PERSON"}
    )
    raw.append(RawMention("Kim", "PERSON", text.index("Kim said"), text.index("Kim said") + 3))
    found = as_pairs(resolve_mentions(text, sorted(raw, key=lambda r: r.start), 0, tables))
    assert found == {
        ("Kim Jong Un", "person"): 2,
        ("Kim Jong Il", "person"): 1,
        ("Kim Yo Jong", "person"): 1,
    }


def test_a_short_mention_before_the_full_name_takes_the_next_one(tables):
    text = "Zelensky spoke first. President Volodymyr Zelensky then left."
    raw = mentions_in(text, {"Volodymyr Zelensky": "PERSON"})
    raw.insert(0, RawMention("Zelensky", "PERSON", 0, 8))
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {("Volodymyr Zelensky", "person"): 2}


def test_acronym_defined_in_parentheses_resolves_later_mentions(tables):
    text = "The Wirefeed Testing Board (WTB) met. Later the WTB ruled."
    raw = [
        RawMention("The Wirefeed Testing Board", "ORG", 0, 26),
        RawMention("WTB", "ORG", text.rindex("WTB"), text.rindex("WTB") + 3),
    ]
    assert acronym_definitions(text, raw) == {"WTB": "Wirefeed Testing Board"}
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {
        ("Wirefeed Testing Board", "organization"): 2
    }


def test_a_story_definition_beats_the_shared_alias_table(tables):
    text = "The International Cricket Council (ICC) fined him; the ICC said so."
    raw = [
        RawMention("The International Cricket Council", "ORG", 0, 33),
        RawMention("ICC", "ORG", text.rindex("ICC"), text.rindex("ICC") + 3),
    ]
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {
        ("International Cricket Council", "organization"): 2
    }


def test_parentheses_that_do_not_spell_the_name_define_nothing():
    text = "Moscow (AFP) said the Kremlin."
    assert acronym_definitions(text, [RawMention("Moscow", "GPE", 0, 6)]) == {}


def test_gazetteer_corrects_a_place_the_model_took_for_a_person(tables):
    text = "Seoul supplies Kyiv with arms. Kyiv thanked it."
    raw = mentions_in(text, {"Seoul": "GPE", "Kyiv": "PERSON"})
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {
        ("Seoul", "location"): 1,
        ("Kyiv", "location"): 2,
    }


def test_in_story_resolution_comes_before_the_gazetteer(tables):
    text = "Lloyd Austin arrived in Paris. Austin met Paris officials."
    raw = mentions_in(text, {"Lloyd Austin": "PERSON", "Paris": "GPE"})
    raw.append(RawMention("Austin", "PERSON", text.index("Austin met"), text.index(" met")))
    found = as_pairs(resolve_mentions(text, sorted(raw, key=lambda r: r.start), 0, tables))
    assert found == {("Lloyd Austin", "person"): 2, ("Paris", "location"): 2}


def test_one_name_gets_one_type_per_story_by_majority(tables):
    text = "Acme Widgets grew. Acme Widgets hired. Acme Widgets left."
    raw = mentions_in(text, {"Acme Widgets": "ORG"})
    raw[1] = RawMention("Acme Widgets", "PERSON", raw[1].start, raw[1].end)
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {("Acme Widgets", "organization"): 3}


def test_types_are_kept_apart_and_other_labels_dropped(tables):
    text = "Russian troops left Moscow on Tuesday after the Korean War talks with 3 envoys."
    raw = mentions_in(
        text,
        {
            "Russian": "NORP",
            "Moscow": "GPE",
            "Tuesday": "DATE",
            "the Korean War": "EVENT",
            "3": "CARDINAL",
        },
    )
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {
        ("Russian", "misc"): 1,
        ("Moscow", "location"): 1,
        ("Korean War", "misc"): 1,
    }


def test_implausible_names_are_dropped_and_a_mention_ends_at_a_line_break(tables):
    text = "the pandemic\nNorth Korean shells\nUkraine 2024\nMark Waugh\nSYDNEY"
    raw = [
        RawMention("the pandemic", "EVENT", 0, 12),
        RawMention("shells\nUkraine", "ORG", 26, 40),
        RawMention("2024", "ORG", 41, 45),
        RawMention("Mark Waugh\nSYDNEY", "PERSON", 46, 63),
    ]
    # What follows a line break is the next line's: the name is what comes before it.
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {("Mark Waugh", "person"): 1}


RESULTS = (
    "Results of baseball games on Sunday:\n"
    "Atlanta 5 PITTSBURGH 1\n"
    "Chicago 4 Milwaukee 3\n"
    "Brazil 2 Germany 1\n"
    "Fans in Paris watched the games on television."
)


def test_sides_of_a_results_list_are_teams_whatever_the_model_or_gazetteer_says(tables):
    def at(surface: str, label: str) -> RawMention:
        start = RESULTS.index(surface)
        return RawMention(surface, label, start, start + len(surface))

    raw = [
        at("Atlanta 5 PITTSBURGH", "ORG"),  # two sides run together over the score
        at("Chicago", "GPE"),
        at("Milwaukee", "PERSON"),
        at("Brazil", "GPE"),
        at("Germany", "ORG"),
        at("Paris", "PERSON"),  # running text: the gazetteer's place
    ]
    found = as_pairs(resolve_mentions(RESULTS, raw, 0, tables))
    assert found == {
        ("Atlanta", "organization"): 1,
        ("PITTSBURGH", "organization"): 1,
        ("Chicago", "organization"): 1,
        ("Milwaukee", "organization"): 1,
        # A country's side is its national team: a place, as everywhere else.
        ("Brazil", "location"): 1,
        ("Germany", "location"): 1,
        ("Paris", "location"): 1,
    }


def test_x_beat_y_makes_a_city_a_team_but_leaves_the_models_players(tables):
    text = "Leicester beat Bath 3-2 at home, and Pete Sampras beat Andre Agassi 6-3 in the final."
    raw = mentions_in(
        text,
        {"Leicester": "GPE", "Bath": "GPE", "Pete Sampras": "PERSON", "Andre Agassi": "PERSON"},
    )
    assert as_pairs(resolve_mentions(text, raw, 0, tables)) == {
        ("Leicester", "organization"): 1,
        ("Bath", "organization"): 1,
        ("Pete Sampras", "person"): 1,
        ("Andre Agassi", "person"): 1,
    }


def test_a_surname_the_model_took_for_an_organisation_is_the_person(tables):
    text = "Alan Shearer was named captain. Shearer said he was proud. Kyiv praised Shearer."
    raw = mentions_in(text, {"Alan Shearer": "PERSON", "Kyiv": "PERSON"})
    raw += [
        RawMention("Shearer", "ORG", text.index("Shearer said"), text.index(" said")),
        RawMention("Shearer", "ORG", text.rindex("Shearer"), text.rindex("Shearer") + 7),
    ]
    found = as_pairs(resolve_mentions(text, sorted(raw, key=lambda r: r.start), 0, tables))
    # The gazetteer's places stay places: "Kyiv" names no person of the story.
    assert found == {("Alan Shearer", "person"): 3, ("Kyiv", "location"): 1}


def test_in_title_and_ordering_by_mentions(tables):
    title = "Putin visits Pyongyang"
    text = f"{title}\n\nVladimir Putin landed in Pyongyang. Moscow cheered. Pyongyang too."
    raw = mentions_in(text, {"Putin": "PERSON", "Pyongyang": "GPE", "Moscow": "GPE"})
    raw = [r for r in raw if not text[: r.start].endswith("Vladimir ")]
    full = text.index("Vladimir Putin")
    raw.append(RawMention("Vladimir Putin", "PERSON", full, full + len("Vladimir Putin")))
    found = resolve_mentions(text, sorted(raw, key=lambda r: r.start), len(title), tables)
    assert [(e.name, e.mentions, e.in_title) for e in found] == [
        ("Pyongyang", 3, True),
        ("Vladimir Putin", 2, True),
        ("Moscow", 1, False),
    ]


def test_in_title_also_by_how_the_story_spells_the_entity(tables):
    text = "President Emmanuel Macron spoke. The US agreed."
    raw = mentions_in(text, {"Emmanuel Macron": "PERSON", "US": "GPE"})
    found = resolve_mentions(text, raw, 0, tables, title="Macron Invites US Envoy")
    assert {e.name: e.in_title for e in found} == {"Emmanuel Macron": True, "United States": True}
    found = resolve_mentions(text, raw, 0, tables, title="Macronism and USA")
    assert {e.name: e.in_title for e in found} == {"Emmanuel Macron": False, "United States": False}
