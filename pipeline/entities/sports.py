"""Where a text names the sides of sports results: the lines of a results list or a league
table, and "X beat Y 3-2". Pure functions over the text; no model.

Wire services file results as lists, one match or one table row a line ("Hajduk 2 Rad 0",
"Red Star 4 4 0 0 9 3 12"). There the small NER model misses many names, runs two of them
together over the score, or calls a club named after its city a place; the layout itself
says that each name is a side. A list counts from two such lines in the text, so that a
single line that happens to look like one (a heading with numbers) does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_WORD = r"[A-Z][\w.'&-]*"
# Up to six capitalised words, with the lower-case particles of names and a short
# qualifier in parentheses ("Proleter (Z)"). Bounded: a long run of capitalised words must
# not make the search quadratic.
_NAME = rf"{_WORD}(?: (?:{_WORD}|\([A-Z]{{1,3}}\)|de|la|di|van|von)){{0,5}}"
_SCORE = r"\d{1,3}"
_FIGURE = r"(?:\d+(?:[.,]\d+)?|\.\d+|\d+/\d+|-)"
_MATCH = re.compile(
    rf"^[ \t]*(?P<a>{_NAME}) {_SCORE}[ ,]+(?P<b>{_NAME}) {_SCORE}[ \t]*"
    r"(?:\([^()\n]*\))?[ \t.]*$",
    re.MULTILINE,
)
# A table row: a name and its figures.
_ROW = re.compile(rf"^[ \t]*(?P<a>{_NAME})(?: +{_FIGURE}){{2,}}[ \t]*$", re.MULTILINE)
_BEAT = re.compile(
    rf"(?P<a>{_NAME}) (?:beat|beats|defeated|edged|thrashed|routed|overcame|drew with|"
    rf"lost to|held) (?P<b>{_NAME}) \d{{1,3}}-\d{{1,3}}"
)
_MIN_LIST_LINES = 2

SideKind = Literal["match", "row", "beat"]


@dataclass(frozen=True, slots=True)
class Side:
    """One side's name at text[start:end], by the kind of line that names it: "match", a
    side of a results line, is a team; "row", the name of a table row, and "beat", a side
    of "X beat Y 3-2", are teams too unless the model says person (a golf leaderboard, a
    tennis match)."""

    start: int
    end: int
    kind: SideKind

    @property
    def listed(self) -> bool:
        """In a list, where a name the model did not find is still a name."""
        return self.kind != "beat"


def sports_sides(text: str) -> list[Side]:
    """Every side the text names, in order of where it starts."""
    found = [Side(m.start(g), m.end(g), "beat") for m in _BEAT.finditer(text) for g in "ab"]
    matches = list(_MATCH.finditer(text))
    rows = list(_ROW.finditer(text))
    if len(matches) + len(rows) >= _MIN_LIST_LINES:
        found += [Side(m.start(g), m.end(g), "match") for m in matches for g in "ab"]
        found += [Side(m.start("a"), m.end("a"), "row") for m in rows]
    return sorted(found, key=lambda side: side.start)
