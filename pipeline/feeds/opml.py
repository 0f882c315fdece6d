"""OPML subscription lists in, FeedSource records out.

OPML is untrusted XML, so it is read with defusedxml (no DTDs, no entities). Nested
outlines become tags: a feed filed under "News > Europe" gets the tags news and europe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from pipeline.config import ConfigError
from pipeline.feeds.declared import feed_url_problem
from pipeline.models import FeedSource


@dataclass(slots=True)
class OpmlImport:
    feeds: list[FeedSource] = field(default_factory=list)
    # Outlines that were skipped, each with the reason, so nothing vanishes silently.
    skipped: list[str] = field(default_factory=list)


def _tag(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.strip().lower()).strip("-")


def _walk(node: Element, tags: tuple[str, ...], found: OpmlImport, seen: set[str]) -> None:
    for outline in node.findall("outline"):
        label = (outline.get("title") or outline.get("text") or "").strip()
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            child_tags = (*tags, _tag(label)) if _tag(label) else tags
            _walk(outline, child_tags, found, seen)
            continue
        problem = feed_url_problem(url)
        if problem:
            found.skipped.append(f"{label or url}: {problem}")
        elif url in seen:
            found.skipped.append(f"{label or url}: duplicate feed {url}")
        else:
            seen.add(url)
            found.feeds.append(FeedSource(url=url, name=label or None, tags=tags))
        _walk(outline, tags, found, seen)


def parse_opml(data: bytes, origin: str = "OPML") -> OpmlImport:
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException) as exc:
        raise ConfigError(f"{origin}: not a readable OPML file: {exc}") from None
    if root.tag != "opml":
        raise ConfigError(f"{origin}: root element is <{root.tag}>, expected <opml>")
    body = root.find("body")
    if body is None:
        raise ConfigError(f"{origin}: OPML file has no <body>")
    found = OpmlImport()
    _walk(body, (), found, set())
    return found


def load_opml(path: str | Path) -> OpmlImport:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read OPML file: {exc}") from None
    return parse_opml(data, str(path))
