"""HTML to clean article text, with site trailers and promotional lines removed."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "form", "svg", "template")

# Lines a syndicating site appends to wire copy; they are not the story.
_TRAILERS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\(?\s*(except for the headline, )?this story has not been edited by .{0,60}staff"
        r".{0,80}syndicated feed\.?\s*\)?$",
        r"^track latest news live on\b",
        r"^(also read|read also|read more|also see|also watch)\s*[:|-]",
        r"^follow (us|\w+) on (twitter|facebook|instagram|x|linkedin|google news|whatsapp)\b",
        r"^(sign up|subscribe) (for|to) (our|the) .{0,40}newsletter",
        r"^click here to (read|subscribe|follow)\b",
    )
]


def is_trailer(line: str) -> bool:
    stripped = line.strip()
    return any(p.search(stripped) for p in _TRAILERS)


def strip_trailers(text: str) -> str:
    """Drop boilerplate lines; paragraphs stay separated by a blank line."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)]
    kept = [p for p in paragraphs if p and not is_trailer(p)]
    return "\n\n".join(kept)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (as feeds carry), one paragraph per block."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(_DROP):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
