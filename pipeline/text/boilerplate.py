"""Cleaning: site trailer and promo lines (generic and per-site rules), a leading copy of
the headline, and the elements a site's rules name as chrome; no cut may take most of the
text."""

from __future__ import annotations

import logging
import re

from lxml import etree
from lxml import html as lxml_html

from pipeline.text.paragraphs import MAX_CUT_SHARE, norm, unless_most_cut
from pipeline.text.siterules import site_rules

log = logging.getLogger(__name__)


def is_trailer(line: str, host: str | None = None) -> bool:
    """A syndication notice, promo or cross-link line, by the generic and the site's rules."""
    return site_rules().is_boilerplate(line, host)


def strip_trailers(text: str, host: str | None = None) -> str:
    """Drop boilerplate lines; paragraphs stay separated by a blank line."""
    kept = []
    for paragraph in re.split(r"\n\s*\n", text):
        # Plain text often puts one paragraph on each line: judge every line.
        lines = [line for line in paragraph.split("\n") if not is_trailer(line, host)]
        paragraph = "\n".join(lines).strip()
        if paragraph:
            kept.append(paragraph)
    return "\n\n".join(kept)


def _without_headline(paragraphs: list[str], title: str | None) -> list[str]:
    """The body without a leading copy of the headline (the page's <h1> inside the article)."""
    if paragraphs and title:
        first, headline = paragraphs[0].casefold(), title.casefold()
        if first == headline or (len(first) > 15 and headline.startswith(first)):
            return paragraphs[1:]
    return paragraphs


def prune(tree: lxml_html.HtmlElement, xpaths: tuple[etree.XPath, ...]) -> None:
    """Drop the elements the site's rules name as chrome, unless together they hold most of
    the page's text: such a rule was written for other pages and matches the story here."""
    found = [
        element
        for xpath in xpaths
        for element in xpath(tree)
        if isinstance(element, etree._Element) and element.getparent() is not None
    ]
    if not found:
        return
    # Nested matches count twice: a doubt that keeps the page whole.
    cut = sum(len(norm(element.text_content())) for element in found)
    if cut > MAX_CUT_SHARE * len(norm(tree.text_content())):
        log.info("site rules would cut %d of the page's characters; page kept whole", cut)
        return
    for element in found:
        if element.getparent() is not None:
            element.drop_tree()


def cleaned(paragraphs: list[str], title: str | None, host: str | None) -> list[str]:
    """The body without a leading copy of the headline (one paragraph, the page's own title)
    and without boilerplate lines, unless these are most of it."""
    body = _without_headline(paragraphs, title)
    return unless_most_cut(body, [p for p in body if not is_trailer(p, host)])
