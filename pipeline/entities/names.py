"""From raw NER mentions to one canonical name and type per entity of a story.

Pure functions over plain data: which model found the mentions does not matter here.
Order of work for one story: type the sides of sports results by their place in the list
(sports_sides: a club named after its city is a team there, not a place); normalise each
surface form; resolve acronyms the story defines in parentheses; map variants through the
shipped alias table; resolve short mentions to the full person name they abbreviate in the
same story; correct types the gazetteer of places knows better, where neither the alias
table nor the context fixed them; give each name one type per story; count.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import ConfigError
from pipeline.entities.sports import Side, sports_sides
from pipeline.models import ENTITY_TYPES, EntityMention, EntityType

# OntoNotes labels (English models) and WikiNER labels (most other spaCy languages).
LABEL_TYPES: dict[str, EntityType] = {
    "PERSON": "person",
    "PER": "person",
    "ORG": "organization",
    "GPE": "location",
    "LOC": "location",
    "FAC": "location",
    "NORP": "misc",
    "EVENT": "misc",
    "MISC": "misc",
}

MAX_NAME_CHARS = 100
_MIN_FOLDED_ALIAS = 4  # "US" must not match "us", but "Nato" may match "NATO"
_EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}<>,;:!?*#|/\\-–—_~•·"
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|'S|(?<=s)')$")
_ACRONYM_AFTER = re.compile(r"\s*\(\s*([A-Z][A-Za-z&.]{1,11})\s*\)")
_SECTION = "# --"
_SKIP_IN_INITIALS = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "des", "la", "&"})


@dataclass(frozen=True, slots=True)
class RawMention:
    """One mention as the model found it: surface text, model label, character offsets."""

    text: str
    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Canonical:
    name: str
    type: EntityType


@dataclass(frozen=True, slots=True)
class NameTables:
    """The alias table and the gazetteer, as loaded from their files."""

    aliases: Mapping[str, Canonical]
    folded_aliases: Mapping[str, Canonical]
    places: frozenset[str]
    countries: frozenset[str]  # the places of the gazetteer's countries section
    digest: str  # of both files' bytes: part of the enrichment version

    def alias(self, name: str) -> Canonical | None:
        found = self.aliases.get(name)
        if found is None and len(name) >= _MIN_FOLDED_ALIAS:
            found = self.folded_aliases.get(name.casefold())
        return found

    def is_place(self, name: str) -> bool:
        return name.casefold() in self.places

    def is_country(self, name: str) -> bool:
        known = self.alias(name)
        return (known.name if known else name).casefold() in self.countries


# -- tables --------------------------------------------------------------------------


def parse_alias_table(raw: object, where: str) -> dict[str, Canonical]:
    """`{canonical: {type, aliases}}` to a map from every variant (and the canonical
    name itself) to its canonical entry; a variant claimed by two entries is an error."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of canonical names, got {type(raw)}")
    table: dict[str, Canonical] = {}
    for name, entry in raw.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            raise ConfigError(f"{where}: {name!r}: expected a mapping with type and aliases")
        entity_type = entry.get("type")
        if entity_type not in ENTITY_TYPES:
            raise ConfigError(f"{where}: {name!r}: type must be one of {ENTITY_TYPES}")
        variants = entry.get("aliases") or []
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise ConfigError(f"{where}: {name!r}: aliases must be a list of strings")
        canonical = Canonical(name, entity_type)
        for variant in (name, *variants):
            key = normalise_surface(variant)
            if key in table and table[key] != canonical:
                raise ConfigError(
                    f"{where}: {variant!r} is listed for both {table[key].name!r} and {name!r}"
                )
            table[key] = canonical
    return table


def parse_places(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """All places of the gazetteer and those under a `# -- countries` section heading."""
    places: set[str] = set()
    countries: set[str] = set()
    in_countries = False
    for line in text.splitlines():
        if line.startswith(_SECTION):
            in_countries = line.removeprefix(_SECTION).strip().startswith("countries")
        name = line.split("#", 1)[0].strip().casefold()
        if name:
            places.add(name)
            if in_countries:
                countries.add(name)
    return frozenset(places), frozenset(countries)


def load_tables(aliases_path: Path, places_path: Path) -> NameTables:
    try:
        alias_bytes = aliases_path.read_bytes()
        places_bytes = places_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"entity tables: cannot read {exc.filename}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(alias_bytes)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{aliases_path}: not valid YAML ({exc})") from None
    aliases = parse_alias_table(raw, str(aliases_path))
    folded: dict[str, Canonical] = {}
    for key, canonical in aliases.items():
        if len(key) >= _MIN_FOLDED_ALIAS:
            folded.setdefault(key.casefold(), canonical)
    digest = hashlib.sha256(alias_bytes + b"\0" + places_bytes).hexdigest()
    places, countries = parse_places(places_bytes.decode("utf-8"))
    return NameTables(
        aliases=aliases, folded_aliases=folded, places=places, countries=countries, digest=digest
    )


# -- one surface form ----------------------------------------------------------------


def normalise_surface(text: str) -> str:
    """One spelling per name: spaces collapsed, typographic apostrophes made plain,
    leading "the", possessives and stray punctuation at either end stripped."""
    name = " ".join(text.replace("’", "'").replace("‘", "'").split())
    previous = None
    while name != previous:
        previous = name
        name = name.strip(_EDGE_PUNCTUATION + " ")
        name = _POSSESSIVE.sub("", name)
        name = _LEADING_THE.sub("", name)
        # "Corp." and "U.S." keep their dots; a sentence's full stop does not stay.
        if name.endswith(".") and name.count(".") == 1 and not _is_initial(name):
            name = name[:-1]
        if "(" in name and ")" not in name:
            name = name.split("(", 1)[0]
        if ")" in name and "(" not in name:
            name = name.replace(")", "")
    return name


def _is_initial(name: str) -> bool:
    """'J.' or 'Jr.': a short token whose dot belongs to it."""
    last = name.rsplit(" ", 1)[-1]
    return len(last) <= 3


def is_plausible_name(name: str) -> bool:
    """Drops what no facet should show: no letters, overlong, or all lower-case."""
    if not name or len(name) > MAX_NAME_CHARS or not any(c.isalpha() for c in name):
        return False
    return not (name == name.lower() and name != name.upper())


# -- one story -----------------------------------------------------------------------


@dataclass(slots=True)
class _Mention:
    surface: str  # normalised text as written
    name: str  # canonical name so far
    type: EntityType
    start: int
    in_title: bool
    type_fixed: bool = False  # the alias table said so: no later step overrides it


def _initials(name: str) -> str:
    words = re.split(r"[\s\-]+", name)
    return "".join(w[0] for w in words if w and w.lower() not in _SKIP_IN_INITIALS).upper()


def _matches_initials(acronym: str, name: str) -> bool:
    letters = "".join(c for c in acronym if c.isalpha()).upper()
    initials = _initials(name)
    if len(letters) < 2 or not initials or letters[0] != initials[0]:
        return False
    remaining = iter(initials)
    return all(letter in remaining for letter in letters)


def acronym_definitions(text: str, mentions: Iterable[RawMention]) -> dict[str, str]:
    """Acronyms the story defines right after a name: 'International Criminal Court (ICC)'."""
    defined: dict[str, str] = {}
    for mention in mentions:
        found = _ACRONYM_AFTER.match(text, mention.end)
        if found is None:
            continue
        acronym = found.group(1).rstrip(".")
        name = normalise_surface(mention.text)
        if _matches_initials(acronym, name):
            defined.setdefault(acronym, name)
    return defined


def _resolve_short_person_names(mentions: list[_Mention], tables: NameTables) -> None:
    """'Putin' -> 'Vladimir Putin', 'Kim' -> the Kim the story names in full.

    A short mention is a leading or trailing run of a longer person name in the story. News
    style names a person in full first and shortens later, so among the full names already
    introduced the earliest wins; with none before, the nearest one after does. The model
    often calls a bare surname an organisation or a place ("Shearer scored"): whatever it
    called it, a short form of a person the story names is that person, unless the
    gazetteer knows it as a place.
    """
    first_seen: dict[str, int] = {}
    spellings: set[tuple[tuple[str, ...], str]] = set()  # as written and canonical
    for m in mentions:
        if m.type == "person":
            first_seen.setdefault(m.name, m.start)
            spellings.add((tuple(m.surface.casefold().split()), m.name))
            spellings.add((tuple(m.name.casefold().split()), m.name))
    for m in mentions:
        if m.type_fixed or (m.type != "person" and tables.is_place(m.name)):
            continue
        short = tuple(m.name.casefold().split())
        candidates = {
            name
            for tokens, name in spellings
            if len(tokens) > len(short)
            and (tokens[: len(short)] == short or tokens[-len(short) :] == short)
        }
        if not candidates:
            continue
        before = [n for n in candidates if first_seen[n] < m.start]
        if before:
            m.name = min(before, key=lambda n: first_seen[n])
        else:
            m.name = min(candidates, key=lambda n: first_seen[n] - m.start)
        m.type = "person"


def _one_type_per_name(mentions: list[_Mention]) -> None:
    """The small model may call one name an ORG here and a GPE there: the majority wins
    (first seen on a tie), and a type the alias table fixed always wins."""
    votes: dict[str, Counter[EntityType]] = {}
    fixed: dict[str, EntityType] = {}
    for m in mentions:
        votes.setdefault(m.name, Counter())[m.type] += 1
        if m.type_fixed:
            fixed.setdefault(m.name, m.type)
    for m in mentions:
        m.type = fixed.get(m.name) or votes[m.name].most_common(1)[0][0]


@dataclass(frozen=True, slots=True)
class _Typed:
    """A mention with the type it starts from: the model's, or its context's (then fixed)."""

    text: str
    start: int
    type: EntityType
    fixed: bool


def _side(text: str, side: Side, model_type: EntityType | None, tables: NameTables) -> _Typed:
    """A side named in sports results: a team (a country's is its national team: a place),
    or a player where the model says person and the line allows one."""
    name = text[side.start : side.end]
    if model_type == "person" and side.kind != "match":
        return _Typed(name, side.start, "person", False)
    team: EntityType = "location" if tables.is_country(normalise_surface(name)) else "organization"
    return _Typed(name, side.start, team, True)


def _typed_mentions(text: str, raw: Sequence[RawMention], tables: NameTables) -> list[_Typed]:
    """The model's mentions with their types; over the sides of sports results, the sides
    instead (one model mention may run two together: "Atlanta 5 PITTSBURGH"), with the
    sides of a list the model did not find at all."""
    sides = sports_sides(text)
    typed: list[_Typed] = []
    model_types: dict[Side, EntityType] = {}  # the model's call over each side it found
    for r in raw:
        entity_type = LABEL_TYPES.get(r.label)
        if entity_type is None:
            continue
        over = [side for side in sides if side.start < r.end and r.start < side.end]
        if not over:
            # A name never spans a line break: what follows one is the list's next item.
            typed.append(_Typed(r.text.split("\n", 1)[0], r.start, entity_type, False))
        for side in over:
            model_types.setdefault(side, entity_type)
    typed += [
        _side(text, side, model_types.get(side), tables)
        for side in sides
        if side.listed or side in model_types
    ]
    return sorted(typed, key=lambda t: t.start)


def _named_in(title: str, spellings: Iterable[str]) -> bool:
    """Whether the title spells the entity one of these ways, as whole words."""
    return any(s in title and re.search(rf"(?<!\w){re.escape(s)}(?!\w)", title) for s in spellings)


def resolve_mentions(
    text: str, raw: Sequence[RawMention], title_end: int, tables: NameTables, title: str = ""
) -> tuple[EntityMention, ...]:
    """All raw mentions of one story to its entities, most mentioned first.

    `title_end` is where the title ends in `text` (0 when there is none): mentions before it
    are in the title. An entity is in the title too when `title` spells it the way the story
    does elsewhere ("Putin" of "Vladimir Putin"), which covers titles the model did not read.
    """
    acronyms = acronym_definitions(text, raw)
    mentions: list[_Mention] = []
    for t in _typed_mentions(text, raw, tables):
        surface = normalise_surface(t.text)
        if not is_plausible_name(surface):
            continue
        m = _Mention(surface, surface, t.type, t.start, t.start < title_end, t.fixed)
        if surface in acronyms:  # the story's own definition beats the shared table
            m.name = acronyms[surface]
        known = tables.alias(m.name)
        if known is not None:
            m.name, m.type, m.type_fixed = known.name, known.type, True
        mentions.append(m)

    _resolve_short_person_names(mentions, tables)
    for m in mentions:
        if not m.type_fixed and m.type != "location" and tables.is_place(m.name):
            m.type = "location"
    _one_type_per_name(mentions)

    counts: Counter[tuple[str, EntityType]] = Counter()
    in_title: set[tuple[str, EntityType]] = set()
    first: dict[tuple[str, EntityType], int] = {}
    spellings: dict[tuple[str, EntityType], set[str]] = {}
    for m in mentions:
        key = (m.name, m.type)
        counts[key] += 1
        first.setdefault(key, m.start)
        spellings.setdefault(key, {m.name}).add(m.surface)
        if m.type == "person" and len(surname := m.name.rsplit(" ", 1)[-1]) >= 3:
            spellings[key].add(surname)  # headlines name people by surname: "Macron Invites"
        if m.in_title:
            in_title.add(key)
    title = title.replace("’", "'")
    if title:
        in_title |= {key for key in counts if _named_in(title, spellings[key])}
    ordered = sorted(counts, key=lambda k: (-counts[k], first[k]))
    return tuple(
        EntityMention(name=name, type=t, mentions=counts[(name, t)], in_title=(name, t) in in_title)
        for name, t in ordered
    )
