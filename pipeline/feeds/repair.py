"""A second reading of a feed feedparser could not read: the malformed document is mended
into well-formed XML, for feedparser to read again.

Each mend is for a kind of damage real publishers ship, never for one site:
- whatever stands before the root element (a doubled or broken XML declaration, a server's
  warning text) is dropped, and any DOCTYPE with it, so no entity can be declared;
- entity references XML does not know become characters (HTML's named ones) or text, and a
  bare `&` or a `<` that starts no tag is escaped;
- unquoted attribute values are quoted;
- `rss:`-prefixed names become plain RSS names; other prefixes the document never declared
  are declared, so feedparser reads them by name, as its own loose parser does;
- what is still broken (unclosed or mismatched tags, a cut-off end) is left to libxml2's
  recovering parser, which loads no DTD, resolves no entity and never touches the network.
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree

# The first start tag of a feed's root: RSS, RSS 1.0 (rdf:RDF) or Atom, maybe prefixed.
_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:rss|rdf|feed)[\s/>]", re.IGNORECASE)
# What may lawfully stand before the root: one XML declaration first, then comments,
# processing instructions and a DOCTYPE. Anything else there is damage. Possessive, so
# that junk after a long run of these fails at once instead of backtracking through it.
_PROLOG = re.compile(
    r"\ufeff?(?:<\?xml\s[^<>?]*\?>)?"
    r"(?:\s|<!--.*?-->|<\?(?!xml[\s?])[^<>]*\?>|<!DOCTYPE[^<>\[]*(?:\[.*?\])?\s*>)*+",
    re.DOTALL | re.IGNORECASE,
)
# Sections whose text is not markup: kept as they are (CDATA) or dropped (comments).
_SECTION = re.compile(r"(<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z))", re.DOTALL)
# A start or end tag; a quoted value may not hold `<`, so a stray quote cannot make the
# pattern scan the rest of the document.
_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*)(/?)>")
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.:-]*)\s*=\s*(\"[^\"<]*\"|'[^'<]*'|[^\s\"'<>=`]+)")
_REFERENCE = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][\w.-]{0,31};)?")
_XML_ENTITIES = frozenset({"amp;", "lt;", "gt;", "quot;", "apos;"})
# A `<` that no tag, end tag, comment, CDATA section or processing instruction follows.
_STRAY_LT = re.compile(r"<(?![A-Za-z_/!?])")
# C0 controls but tab, line feed and carriage return: never allowed in XML 1.0.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_RESERVED_PREFIXES = frozenset({"xml", "xmlns"})
# Where an undeclared prefix is bound: feedparser reads an unknown namespace by its prefix.
_UNDECLARED_NS = "urn:x-wirefeed:undeclared:"


@dataclass(frozen=True, slots=True)
class Repaired:
    body: bytes  # well-formed XML, UTF-8
    mends: tuple[str, ...]  # what was mended, for the feed's "degraded" reason


@dataclass(slots=True)
class _Mends:
    entities: int = 0
    escaped: int = 0
    quoted: int = 0
    rss_prefixed: int = 0
    used_prefixes: set[str] = field(default_factory=set)
    declared_prefixes: set[str] = field(default_factory=set)


def _decode(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _reference(match: re.Match[str], mends: _Mends) -> str:
    name = match.group(1)
    if name is not None and (name.startswith("#") or name in _XML_ENTITIES):
        return match.group(0)
    if name is not None and name in html.entities.html5:
        mends.entities += 1
        return "".join(f"&#{ord(c)};" for c in html.entities.html5[name])
    mends.escaped += 1
    return "&amp;" + (name or "")


def _name(name: str, mends: _Mends) -> str:
    prefix, colon, local = name.partition(":")
    if not colon:
        return name
    if prefix.lower() == "rss":
        mends.rss_prefixed += 1
        return local
    if prefix.lower() not in _RESERVED_PREFIXES:
        mends.used_prefixes.add(prefix)
    return name


def _attribute(match: re.Match[str], mends: _Mends) -> str:
    name, value = match.group(1), match.group(2)
    if name.lower().startswith("xmlns:"):
        mends.declared_prefixes.add(name[6:])
    else:
        name = _name(name, mends)
    if value[0] not in "\"'":
        mends.quoted += 1
        value = f'"{value}"'
    return f"{name}={value}"


def _tag(match: re.Match[str], mends: _Mends) -> str:
    end, name, attributes, empty = match.groups()
    attributes = _ATTRIBUTE.sub(lambda m: _attribute(m, mends), attributes)
    return f"<{end}{_name(name, mends)}{attributes}{empty}>"


def _mend_markup(text: str, mends: _Mends) -> str:
    text = _CONTROL.sub("", text)
    text = _REFERENCE.sub(lambda m: _reference(m, mends), text)
    text, stray = _STRAY_LT.subn("&lt;", text)
    mends.escaped += stray
    return _TAG.sub(lambda m: _tag(m, mends), text)


def _declare(text: str, prefixes: set[str]) -> str:
    """The root start tag with a namespace declaration for each prefix."""
    if not prefixes:
        return text
    name_end = re.match(r"<[\w.:-]+", text).end()
    declarations = "".join(f' xmlns:{p}="{_UNDECLARED_NS}{p}"' for p in sorted(prefixes))
    return text[:name_end] + declarations + text[name_end:]


def _parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        recover=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )


def repair_feed_xml(body: bytes, encoding: str | None) -> Repaired | None:
    """`body` mended into well-formed XML, or None when no feed root element is found.

    `encoding` is the one feedparser chose for the bytes (its declaration and headers
    weighed); undecodable bytes become U+FFFD rather than end the reading.
    """
    text = _decode(body, encoding)
    root = _ROOT.search(text)
    if root is None:
        return None
    mends = _Mends()
    notes = []
    before = text[: root.start()]
    if _PROLOG.fullmatch(before) is None:
        notes.append(f"{len(before)} characters before the root dropped")
    pieces = _SECTION.split(text[root.start() :])
    # split() puts the CDATA sections and comments at the odd positions.
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            pieces[i] = _mend_markup(piece, mends)
        elif piece.startswith("<!--"):
            pieces[i] = ""
    undeclared = mends.used_prefixes - mends.declared_prefixes
    parser = _parser()
    try:
        tree = etree.fromstring(_declare("".join(pieces), undeclared).encode(), parser)
    except etree.LxmlError:
        return None
    if tree is None:
        return None
    if mends.entities:
        notes.append(f"{mends.entities} HTML entities read as characters")
    if mends.escaped:
        notes.append(f"{mends.escaped} stray & or < escaped")
    if mends.quoted:
        notes.append(f"{mends.quoted} attribute values quoted")
    if mends.rss_prefixed:
        notes.append(f"{mends.rss_prefixed} rss: prefixes dropped")
    if undeclared:
        notes.append(f"prefixes {' '.join(sorted(undeclared))} declared")
    if len(parser.error_log):
        first = parser.error_log[0].message
        notes.append(f"{len(parser.error_log)} markup errors recovered (first: {first})")
    return Repaired(etree.tostring(tree, encoding="utf-8", xml_declaration=True), tuple(notes))
