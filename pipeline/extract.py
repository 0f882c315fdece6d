"""HTML to clean article text, with site trailers and promotional lines removed.

Two inputs: the HTML fragment a feed entry carries (`html_to_text`, beautifulsoup4) and a full
article page (`extract_page`: trafilatura's main-text choice, rendered by us into plain
paragraphs, with split article bodies re-joined and site boilerplate dropped). A choice that
holds little of the page's paragraph text is checked against readability and justext, a story
section that trafilatura's precision rules cut comes back from its default mode, and no
cleaning step may cut most of the text: such a cut is taken for a rule misreading the page.
Hostile pages never raise: they come back with little or no text and a `reason`.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json
from trafilatura.settings import Document, set_date_params
from trafilatura.xpaths import PRECISION_DISCARD_XPATH

from pipeline.language import detect_language
from pipeline.pagemeta import parse_datetime, read_meta
from pipeline.siterules import site_rules
from pipeline.urls import canonical_url, preferred_url

log = logging.getLogger(__name__)

# Bounds that keep one hostile page from taking the worker's time or memory.
MAX_HTML_CHARS = 4_000_000
MAX_ELEMENTS = 60_000
# libxml2 stops building the tree at this depth and drops what is nested deeper.
PARSER_MAX_DEPTH = 255
MAX_FALLBACK_CHARS = 200_000
MAX_FILE_BYTES = 50 * 1024 * 1024

# Reasons recorded when the text is empty or may be incomplete.
REASON_EMPTY = "empty_document"
REASON_UNPARSABLE = "unparsable"
REASON_NO_BODY = "no_body"
REASON_NO_TEXT = "no_main_text"
REASON_TRUNCATED = "truncated"
REASON_TOO_MANY = "too_many_elements"
REASON_TOO_DEEP = "too_deep"
REASON_ENCODING = "invalid_encoding"
REASON_EXTRACTOR = "extractor_error"

# Comments and processing instructions dropped at parse time: lxml keeps tails attached to
# them, and trafilatura's tree walk loses the text that follows an inline comment.
_PARSER = etree.HTMLParser(
    collect_ids=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
# Every element an HtmlElement, chosen in C: lxml.html's own parser picks each element's
# class in Python (form, input, label...), on every access, which cost a tenth of the time.
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)
# C0 controls but tab, line feed and carriage return: lxml's tree cannot hold them. In UTF-8
# these bytes only ever stand for themselves.
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# trafilatura's body vocabulary: an element holding any of these is a container of
# paragraphs, anything else is one paragraph (its inline <hi>, <ref>, <lb> flattened).
_BLOCKISH = {"p", "head", "item", "code", "quote", "list", "table", "row", "cell", "div"}
# HTML's inline elements: a <div> holding only these (and text) is a paragraph.
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "big", "br", "cite", "code", "dfn", "em", "font", "i", "img",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
    "tt", "u", "var", "wbr",
}  # fmt: skip
# A paragraph of a split article body has at least this much text.
_CHUNK_MIN_CHARS = 30
# How far up from the main text's container the other chunks of a split body are looked for.
_CHUNK_SCOPE_LEVELS = 3
# An item whose text is at least this share link text counts as a link.
_LINK_LIST_SHARE = 0.9
# A main text shorter than this is checked against readability and justext.
_CHECK_BELOW = 1000
# A removal step (site pruning, lists of links, trailer lines) that would take more
# than this share of the text it is given is undone: a cut of most of what the extractor
# kept is far likelier a rule misreading the page than that much boilerplate.
_MAX_CUT_SHARE = 0.5
# A main text holding less than this share of the page's story-like paragraph text may have
# missed part of the story. Half: readability's result replaces trafilatura's only when more
# than twice as long, so above this the comparison could not change the result.
_COVERAGE_BELOW = 0.5
# Paragraphs inside these are page chrome or teasers, never counted as story-like.
_CHROME = frozenset({"a", "nav", "footer", "aside", "form", "figure", "figcaption", "li"})
# On the page at large a <header> is the site's; near the story it is the article's own (a
# lede, a section's subheading), which precision mode drops.
_NOT_STORY = _CHROME | {"header"}
# A paragraph whose text is more than this share link text is a teaser, not story-like.
_STORY_MAX_LINK_SHARE = 0.5
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


@dataclass(frozen=True, slots=True)
class PageText:
    """What a full article page yields. `reason` says why `text` is empty or partial."""

    title: str | None
    text: str
    author: str | None = None
    published_at: datetime | None = None
    canonical_url: str | None = None
    image: str | None = None
    language: str | None = None
    reason: str | None = None


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


def read_page_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A saved page, gunzipped when it is gzip; refuses more than `limit` bytes of HTML."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"page larger than {limit} bytes")
    return data


def _norm(text: str) -> str:
    return " ".join(text.split())


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, bool]:
    """Bytes to text by BOM, HTTP charset, <meta charset>, then UTF-8; True if bytes were lost."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), False
    declared = []
    if content_type and (m := _CT_CHARSET.search(content_type)):
        declared.append(m.group(1))
    if m := _META_CHARSET.search(data[:4096]):
        declared.append(m.group(1).decode("ascii"))
    for encoding in [*declared, "utf-8"]:
        try:
            return data.decode(encoding), False
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace"), True


def _shape(tree: etree._Element) -> tuple[int, int]:
    """(element count, deepest nesting), stopping once the count passes MAX_ELEMENTS."""
    count = depth = deepest = 0
    for event, _el in etree.iterwalk(tree, events=("start", "end")):
        if event == "start":
            count += 1
            depth += 1
            deepest = max(deepest, depth)
            if count > MAX_ELEMENTS:
                break
        else:
            depth -= 1
    return count, deepest


def _texts(el: etree._Element) -> str:
    """Text of a trafilatura element; line breaks and inline boundaries become spaces."""
    parts: list[str] = []
    for node in el.iter():
        if node.tag == "lb":
            parts.append(" ")
        elif node.text:
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return _norm("".join(parts))


def _is_link_list(el: etree._Element) -> bool:
    """A list whose every item is a link: related stories or navigation, not the story."""
    items = [i for i in el if i.tag == "item"]
    if not items:
        return False
    for item in items:
        text = _texts(item)
        linked = sum(len(_norm("".join(r.itertext()))) for r in item.iter("ref"))
        if not text or linked < _LINK_LIST_SHARE * len(text):
            return False
    return True


def _chars(paragraphs: list[str]) -> int:
    return sum(len(p) for p in paragraphs)


def _unless_most_cut(before: list[str], after: list[str]) -> list[str]:
    """`after`, unless it lost more than _MAX_CUT_SHARE of `before`'s text."""
    return after if _chars(after) >= (1 - _MAX_CUT_SHARE) * _chars(before) else before


def _render(body: etree._Element) -> list[tuple[str, bool]]:
    """trafilatura's XML body as plain paragraphs: no Markdown pipes, bullets or rulers.
    Each paragraph comes with whether it is an item of a list of links."""
    out: list[tuple[str, bool]] = []

    def walk(el: etree._Element, in_link_list: bool) -> None:
        for child in el:
            if child.tag == "row":
                cells = [_texts(c) for c in child if c.tag == "cell"]
                row = " ".join(c for c in cells if c)
                if row:
                    out.append((row, in_link_list))
            elif any(g.tag in _BLOCKISH for g in child):
                if child.text and child.text.strip():
                    out.append((_norm(child.text), in_link_list))
                walk(child, in_link_list or (child.tag == "list" and _is_link_list(child)))
            elif child.tag != "graphic":
                text = _texts(child)
                if text:
                    out.append((text, in_link_list))
            # Loose text between blocks is a paragraph of its own.
            if child.tail and child.tail.strip():
                out.append((_norm(child.tail), in_link_list))

    walk(body, False)
    return out


def _without_link_lists(body: etree._Element) -> list[str]:
    """The rendered body less its lists of links (related stories, navigation), unless
    those are most of it: then the story itself is such a list."""
    rendered = _render(body)
    return _unless_most_cut(
        [text for text, _ in rendered], [text for text, linked in rendered if not linked]
    )


def _paragraph_texts(tree: etree._Element) -> list[tuple[etree._Element, str]]:
    return [(p, t) for p in tree.iter("p") if (t := _norm(p.text_content()))]


def _text_blocks(tree: etree._Element) -> list[tuple[etree._Element, str]]:
    """The page's paragraphs with their texts: every <p>, and every <div> holding only text
    and inline elements (some sites set each paragraph of a story in a <div>)."""
    blocks = []
    for el in tree.iter("p", "div"):
        if el.tag == "div" and any(child.tag not in _INLINE for child in el):
            continue
        if text := _norm(el.text_content()):
            blocks.append((el, text))
    return blocks


def _main_holder(
    page: list[tuple[etree._Element, str]], extracted: list[str]
) -> etree._Element | None:
    """The element that holds most of the extracted paragraphs directly, if any."""
    seen = {p for p in extracted if len(p) >= _CHUNK_MIN_CHARS}
    holders = Counter(
        p.getparent()
        for p, text in page
        if p.tag == "p" and text in seen and p.getparent() is not None
    )
    return holders.most_common(1)[0][0] if holders else None


def _up(el: etree._Element, levels: int) -> etree._Element:
    """`el`'s ancestor `levels` up, or the root if that is nearer."""
    for _ in range(levels):
        if (parent := el.getparent()) is None:
            break
        el = parent
    return el


def _split_body_rest(page: list[tuple[etree._Element, str]], extracted: list[str]) -> list[str]:
    """Paragraphs of the other chunks of an article body split across same-class containers.

    Some sites cut one story into several `<div class="article__body">` blocks around ads;
    the main-text choice keeps the first. The container holding most extracted paragraphs
    names the class; its look-alikes elsewhere on the page give back the rest. `page`: the
    page's paragraphs and their texts.
    """
    main = _main_holder(page, extracted)
    if main is None:
        return []
    seen = {p for p in extracted if len(p) >= _CHUNK_MIN_CHARS}
    css = (main.get("class") or "").strip()
    if not css:
        return []
    # Chunks sit close together; a same-class block far away (comments, a teaser rail)
    # is not part of this story.
    scope = _up(main, _CHUNK_SCOPE_LEVELS)
    found: list[str] = []
    for other in scope.iter(main.tag):
        if other is main or (other.get("class") or "").strip() != css:
            continue
        if any(a is main for a in other.iterancestors()) or any(
            a is other for a in main.iterancestors()
        ):
            continue
        for p in other.iter("p"):
            text = _norm(p.text_content())
            if text and text not in seen:
                found.append(text)
                seen.add(text)
    return found


def _linked_chars(el: etree._Element) -> int:
    return sum(len(_norm(a.text_content())) for a in el.iter("a"))


def _is_story_like(el: etree._Element, text: str, not_story: frozenset[str]) -> bool:
    """A paragraph that may be story: long enough, mostly not link text, and not inside
    any of `not_story` (links, list items, navigation, footers, asides, forms, figures...)."""
    if len(text) < _CHUNK_MIN_CHARS or any(a.tag in not_story for a in el.iterancestors()):
        return False
    return _linked_chars(el) <= _STORY_MAX_LINK_SHARE * len(text)


def _story_like_chars(page: list[tuple[etree._Element, str]]) -> int:
    """Text of the page's paragraphs that may be story, headers counted as the site's."""
    return sum(len(text) for p, text in page if _is_story_like(p, text, _NOT_STORY))


def _covers_page(paragraphs: list[str], page: list[tuple[etree._Element, str]]) -> bool:
    """Whether `paragraphs` hold at least _COVERAGE_BELOW of the page's story-like text."""
    kept = _chars(paragraphs)
    # Counting all paragraphs first is cheap, and enough for most pages.
    if kept >= _COVERAGE_BELOW * sum(len(text) for _p, text in page):
        return True
    return kept >= _COVERAGE_BELOW * _story_like_chars(page)


def _fallback_paragraphs(tree: etree._Element) -> list[str]:
    """Linear and bounded: the page's paragraph texts, for trees too big for the extractor."""
    out: list[str] = []
    size = 0
    for _p, text in _paragraph_texts(tree):
        if len(text) < _CHUNK_MIN_CHARS:
            continue
        out.append(text)
        size += len(text)
        if size > MAX_FALLBACK_CHARS:
            break
    return out


def _author(tree: lxml_html.HtmlElement) -> str | None:
    """trafilatura's author, by the steps of its `extract_metadata`, without the date search
    it also runs there (htmldate: a third of a page's extraction time)."""
    found = examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    # As trafilatura itself: broken JSON-LD costs only its own fields.
    except Exception:  # noqa: BLE001
        log.debug("JSON-LD metadata unreadable", exc_info=True)
    return found.author or extract_author(tree)


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
    paragraphs = _without_link_lists(document.body)
    return paragraphs + _split_body_rest(page, paragraphs)


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
    if _covers_page(fast, page):
        return fast
    compared = _story(_bare_extraction(tree, fast=False), page)
    return compared if _chars(compared) > _chars(fast) else fast


def _is_all_link(el: etree._Element) -> bool:
    text = _norm(el.text_content())
    return bool(text) and _linked_chars(el) >= _LINK_LIST_SHARE * len(text)


def _is_teaser(el: etree._Element, text: str, cards: dict[etree._Element, bool]) -> bool:
    """Whether paragraph `el` is the blurb under a linked headline: right after an element
    that is all link, or in a card (the nearest element around it holding more text) whose
    text beside it is mostly link. `cards`: that verdict by card, as one section holds many."""
    if (headline := el.getprevious()) is not None and _is_all_link(headline):
        return True
    for card in el.iterancestors():
        if card not in cards:
            rest = len(_norm(card.text_content())) - len(text)
            if rest <= 0:
                continue
            linked = _linked_chars(card) - _linked_chars(el)
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
    holder = _main_holder(page, paragraphs)
    if holder is None:
        return paragraphs
    container = _up(holder, _CUT_SCOPE_LEVELS)
    kept = set(paragraphs)
    blocks = dict(page)
    lacked = [
        (el, text)
        for el in container.iter("p", "div")
        if (text := blocks.get(el)) and text not in kept
    ]
    floor = _CUT_SECTION_SHARE * _chars(paragraphs)
    # Most containers lack little of the story's text, and that is cheap to count.
    if _chars([text for _el, text in lacked]) < floor:
        return paragraphs
    lacked = [(el, text) for el, text in lacked if _is_story_like(el, text, _CHROME)]
    if _chars([text for _el, text in lacked]) < floor:
        return paragraphs
    cut = _cut_by_precision(container, lacked)
    if _chars(list(cut)) < floor:
        return paragraphs
    default = _story(_bare_extraction(tree, fast=True, favor_precision=False), page)
    cards: dict[etree._Element, bool] = {}
    taken = {
        after: run
        for after, run in _added_runs(default, paragraphs).items()
        if 2 * sum(len(p) for p in run if p in cut and not _is_teaser(cut[p], p, cards))
        >= _chars(run)
    }
    if sum(_chars(run) for run in taken.values()) < floor:
        return paragraphs
    out = list(taken.get(-1, []))
    for i, paragraph in enumerate(paragraphs):
        out.append(paragraph)
        out.extend(taken.get(i, []))
    return out


def _main_paragraphs(tree: lxml_html.HtmlElement) -> list[str]:
    page = _text_blocks(tree)
    return _with_cut_sections(tree, page, _precise_paragraphs(tree, page))


def _without_headline(paragraphs: list[str], title: str | None) -> list[str]:
    """The body without a leading copy of the headline (the page's <h1> inside the article)."""
    if paragraphs and title:
        first, headline = paragraphs[0].casefold(), title.casefold()
        if first == headline or (len(first) > 15 and headline.startswith(first)):
            return paragraphs[1:]
    return paragraphs


def _prune(tree: lxml_html.HtmlElement, xpaths: tuple[etree.XPath, ...]) -> None:
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
    cut = sum(len(_norm(element.text_content())) for element in found)
    if cut > _MAX_CUT_SHARE * len(_norm(tree.text_content())):
        log.info("site rules would cut %d of the page's characters; page kept whole", cut)
        return
    for element in found:
        if element.getparent() is not None:
            element.drop_tree()


def _cleaned(paragraphs: list[str], title: str | None, host: str | None) -> list[str]:
    """The body without a leading copy of the headline (one paragraph, the page's own title)
    and without boilerplate lines, unless these are most of it."""
    body = _without_headline(paragraphs, title)
    return _unless_most_cut(body, [p for p in body if not is_trailer(p, host)])


def _empty(reason: str, url: str | None = None) -> PageText:
    return PageText(title=None, text="", canonical_url=url, reason=reason)


def extract_page(
    page: bytes | str,
    url: str | None = None,
    content_type: str | None = None,
    want_date: bool = True,
    want_author: bool = True,
    declared: Sequence[str | None] = (),
) -> PageText:
    """Main text and metadata of a full article page. Never raises for bad input.

    `want_date`, `want_author`: look for them (a date in the page's text when its meta tags
    give none: a third of the extraction time; an author: a sixth). Callers that have
    them from the feed turn these off. `declared`: languages declared for the page besides
    its own markup (its Content-Language header, its feed's language), for the decision."""
    reasons: list[str] = []
    if isinstance(page, bytes):
        html, lossy = decode_html(page, content_type)
        if lossy:
            reasons.append(REASON_ENCODING)
    else:
        html = page
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
        reasons.append(REASON_TRUNCATED)
    # Deleting the control bytes from the UTF-8 form costs a quarter of a regex over the text.
    data = html.encode("utf-8", "surrogatepass").translate(None, _CONTROL_BYTES)
    # The text's own strip() also counts Unicode spaces (a page of NBSPs) as empty.
    if not data.strip() or not html.strip():
        return _empty(REASON_EMPTY, url and preferred_url(url, None))
    try:
        tree = lxml_html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        log.info("unparsable page %s: %s", url, exc)
        return _empty(REASON_UNPARSABLE, url and preferred_url(url, None))
    meta = read_meta(tree, url)
    if url:
        canonical: str | None = preferred_url(url, meta.canonical_url)
    else:
        canonical = canonical_url(meta.canonical_url) if meta.canonical_url else None
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)
    count, deepest = _shape(tree)
    if deepest >= PARSER_MAX_DEPTH:
        reasons.append(REASON_TOO_DEEP)
    host = urlsplit(canonical or url or "").hostname
    _prune(tree, site_rules().for_host(host).prune_xpath)
    author: str | None = None
    date: str | None = None
    if tree.find("body") is None:
        paragraphs: list[str] = []
        reasons.append(REASON_NO_BODY)
    elif count > MAX_ELEMENTS:
        paragraphs = _fallback_paragraphs(tree)
        reasons.append(REASON_TOO_MANY)
    else:
        try:
            paragraphs = _main_paragraphs(tree)
            author = _author(tree) if want_author else None
            if want_date and meta.published_at is None:
                date = find_date(tree, **set_date_params(), url=canonical or url)
        # A third-party extractor failing on one odd page must not stop the batch.
        except Exception as exc:  # noqa: BLE001
            log.warning("extractor failed on %s: %s", url, exc)
            paragraphs = _fallback_paragraphs(tree)
            reasons.append(REASON_EXTRACTOR)
    text = "\n\n".join(_cleaned(paragraphs, meta.title, host))
    if not text and REASON_NO_BODY not in reasons:
        reasons.append(REASON_NO_TEXT)
    return PageText(
        title=meta.title,
        text=text,
        author=author or None,
        published_at=meta.published_at or parse_datetime(date),
        canonical_url=canonical,
        image=meta.image,
        language=detect_language(text, (meta.language, *declared)),
        reason=", ".join(dict.fromkeys(reasons)) or None,
    )
