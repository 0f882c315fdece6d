"""Where a text names the sides of sports results (pure, no model)."""

from __future__ import annotations

from pipeline.entities.sports import sports_sides


def named(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in sports_sides(text)]


def test_results_lines_and_table_rows_name_their_sides() -> None:
    text = (
        "Results of league matches on Saturday:\n"
        "Red Star 2 Rad (B) 0\n"
        "Kansas City 4 NEW YORK 3 (halftime 1-2)\n"
        "Standings:\n"
        "Red Star 4 4 0 0 9 3 12\n"
        "ST LOUIS 70 65 .519 2 1/2\n"
    )
    assert named(text) == [
        ("Red Star", "match"),
        ("Rad (B)", "match"),
        ("Kansas City", "match"),
        ("NEW YORK", "match"),
        ("Red Star", "row"),
        ("ST LOUIS", "row"),
    ]


def test_one_line_that_looks_like_a_result_is_not_a_list() -> None:
    assert named("Windows 11 Update 2\nThe update ships on Monday.") == []
    assert named("Hajduk 2 Zemun 1\nThe match was played in rain.") == []
    assert len(named("Hajduk 2 Zemun 1\nBorac 1 Mladost 2")) == 4


def test_x_beat_y_names_both_sides_anywhere_in_running_text() -> None:
    text = "In the final Leicester beat Bath 3-2 on Sunday, and Pete Sampras beat Andre Agassi 6-3."
    assert named(text) == [
        ("Leicester", "beat"),
        ("Bath", "beat"),
        ("Pete Sampras", "beat"),
        ("Andre Agassi", "beat"),
    ]
    assert sports_sides("Leicester beat the odds on Sunday.") == []


def test_a_side_is_a_run_of_capitalised_words_on_one_line() -> None:
    text = "Benetton of Italy beat Dinamo 92-81\nHajduk 2 Zemun 1\nBorac 1 Mladost 2"
    assert named(text) == [
        ("Italy", "beat"),  # "of" ends a name: "Benetton of Italy" is a club and its country
        ("Dinamo", "beat"),
        ("Hajduk", "match"),
        ("Zemun", "match"),
        ("Borac", "match"),
        ("Mladost", "match"),
    ]
