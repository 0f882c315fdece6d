"""The story by trafilatura, checked and recovered: precision mode first, its choice
compared with readability and justext (trafilatura's default pass) where it holds little
of the page, and the story sections precision mode's rules cut brought back from its
default mode unless they are blurbs under linked headlines or the masthead."""

from __future__ import annotations

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from trafilatura.settings import Document
from trafilatura.xpaths import PRECISION_DISCARD_XPATH

from pipeline.text.paragraphs import (
    CHROME,
    LINK_LIST_SHARE,
    ancestor,
    chars,
    covers_page,
    is_story_like,
    linked_chars,
    main_holder,
    norm,
    split_body_rest,
    text_blocks,
    without_link_lists,
)

# A main text shorter than this is checked against readability and justext.
_CHECK_BELOW = 1000
# Story-like text that precision mode's rules cut near the story, above this share of the
# main text, is asked of trafilatura's default mode, and what that adds is taken if it is such
# text and, together, above this share too. Below it the difference costs little F1 and
# precision's judgement stands: small extras are mostly promos and standfirsts.
_CUT_SECTION_SHARE = 0.15
# "Near": under the ancestor this many levels above the element holding most of the story's
# paragraphs (a story's bottom section or header is mostly a sibling of its body or of the
# body's wrapper).
_CUT_SCOPE_LEVELS = 2
# A paragraph whose card (the nearest element holding more text) holds mostly link text
# beside it is the blurb under a linked headline: a teaser of another story.
_TEASER_LINK_SHARE = 0.5


def _bare_extraction(
    tree: lxml_html.HtmlElement, fast: bool, favor_precision: bool = True
) -> Document | None:
    """trafilatura's main text of `tree` (which it copies, never changes)."""
    return trafilatura.bare_extraction(
        tree,
        # extract_page reads the metadata itself; without a URL, links need no resolving.
        with_metadata=False,
        fast=fast,
        favor_precision=favor_precision,
        include_comments=False,
        include_tables=True,
        # Links kept as <ref> so that lists of links can be told from the story's lists.
        include_links=True,
    )


def _story(document: Document | None, page: list[tuple[etree._Element, str]]) -> list[str]:
    if document is None or document.body is None:
        return []
    paragraphs = without_link_lists(document.body)
    return paragraphs + split_body_rest(page, paragraphs)


def _precise_paragraphs(
    tree: lxml_html.HtmlElement, page: list[tuple[etree._Element, str]]
) -> list[str]:
    """The story by trafilatura in precision mode, re-joined where split (`page`: the
    page's paragraphs and their texts)."""
    # The comparison with readability and justext is half of trafilatura's time, so it runs
    # only where it can change the result: a short or empty one, or one that holds little of
    # the page's paragraph text (a story split over several containers, of which the fast
    # pass takes the first; readability joins the siblings).
    document = _bare_extraction(tree, fast=True)
    if document is None or document.body is None or len(document.text or "") < _CHECK_BELOW:
        return _story(_bare_extraction(tree, fast=False), page)
    fast = _story(document, page)
    if covers_page(fast, page):
        return fast
    compared = _story(_bare_extraction(tree, fast=False), page)
    return compared if chars(compared) > chars(fast) else fast


def _is_all_link(el: etree._Element) -> bool:
    text = norm(el.text_content())
    return bool(text) and linked_chars(el) >= LINK_LIST_SHARE * len(text)


def _is_teaser(el: etree._Element, text: str, cards: dict[etree._Element, bool]) -> bool:
    """Whether paragraph `el` is the blurb under a linked headline: right after an element
    that is all link, or in a card (the nearest element around it holding more text) whose
    text beside it is mostly link. `cards`: that verdict by card, as one section holds many."""
    if (headline := el.getprevious()) is not None and _is_all_link(headline):
        return True
    for card in el.iterancestors():
        if card not in cards:
            rest = len(norm(card.text_content())) - len(text)
            if rest <= 0:
                continue
            linked = linked_chars(card) - linked_chars(el)
            cards[card] = linked >= _TEASER_LINK_SHARE * rest
        return cards[card]
    return False


def _cut_by_precision(
    container: etree._Element, lacked: list[tuple[etree._Element, str]]
) -> dict[str, etree._Element]:
    """Which paragraphs of `lacked` precision mode's own discard rules take out of
    `container` (every <header>, every element with a border, a "bottom" or a "link" class),
    by text. The article's masthead, the <header> around its <h1>, is not the story: what it
    holds beside the headline is a standfirst, a byline, a date."""
    inside = {
        el
        for xpath in PRECISION_DISCARD_XPATH
        for cut in xpath(container)
        if cut.tag != "header" or cut.find(".//h1") is None
        for el in cut.iter("p", "div")
    }
    return {text: el for el, text in lacked if el in inside}


def _added_runs(default: list[str], paragraphs: list[str]) -> dict[int, list[str]]:
    """The paragraphs of `default` that `paragraphs` lack, in runs, each under the index of
    the paragraph of `paragraphs` it follows (-1: before the first)."""
    position = {p: i for i, p in enumerate(paragraphs)}
    runs: dict[int, list[str]] = {}
    after = -1
    for paragraph in default:
        if paragraph in position:
            after = position[paragraph]
        else:
            runs.setdefault(after, []).append(paragraph)
    return runs


def _with_cut_sections(
    tree: lxml_html.HtmlElement, page: list[tuple[etree._Element, str]], paragraphs: list[str]
) -> list[str]:
    """`paragraphs` with the sections of the story that precision mode cut, if any.

    Precision mode drops boxes and chrome by rules that sometimes match a real section of the
    story. Only where, near the story's paragraphs, those rules take much story-like text
    that the paragraphs lack does trafilatura's default mode run (a second extraction: too
    dear for every page). Each run of paragraphs it adds is taken where it stands when at
    least half of it is such text, not blurbs under linked headlines.
    """
    holder = main_holder(page, paragraphs)
    if holder is None:
        return paragraphs
    container = ancestor(holder, _CUT_SCOPE_LEVELS)
    kept = set(paragraphs)
    blocks = dict(page)
    lacked = [
        (el, text)
        for el in container.iter("p", "div")
        if (text := blocks.get(el)) and text not in kept
    ]
    floor = _CUT_SECTION_SHARE * chars(paragraphs)
    # Most containers lack little of the story's text, and that is cheap to count.
    if chars([text for _el, text in lacked]) < floor:
        return paragraphs
    lacked = [(el, text) for el, text in lacked if is_story_like(el, text, CHROME)]
    if chars([text for _el, text in lacked]) < floor:
        return paragraphs
    cut = _cut_by_precision(container, lacked)
    if chars(list(cut)) < floor:
        return paragraphs
    default = _story(_bare_extraction(tree, fast=True, favor_precision=False), page)
    cards: dict[etree._Element, bool] = {}
    taken = {
        after: run
        for after, run in _added_runs(default, paragraphs).items()
        if 2 * sum(len(p) for p in run if p in cut and not _is_teaser(cut[p], p, cards))
        >= chars(run)
    }
    if sum(chars(run) for run in taken.values()) < floor:
        return paragraphs
    out = list(taken.get(-1, []))
    for i, paragraph in enumerate(paragraphs):
        out.append(paragraph)
        out.extend(taken.get(i, []))
    return out


def main_paragraphs(tree: lxml_html.HtmlElement) -> list[str]:
    page = text_blocks(tree)
    return _with_cut_sections(tree, page, _precise_paragraphs(tree, page))
