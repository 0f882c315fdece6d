"""Paragraphs: trafilatura's XML body rendered as plain paragraphs (lists of links set
apart), the page's own paragraph blocks, and what tells story from chrome there: the
container holding the story, story-like text, how much of it a main text covers, and the
other chunks of a body split across same-class containers."""

from __future__ import annotations

from collections import Counter

from lxml import etree

MAX_FALLBACK_CHARS = 200_000
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
CHUNK_MIN_CHARS = 30
# How far up from the main text's container the other chunks of a split body are looked for.
_CHUNK_SCOPE_LEVELS = 3
# An item whose text is at least this share link text counts as a link.
LINK_LIST_SHARE = 0.9
# A removal step (site pruning, lists of links, trailer lines) that would take more
# than this share of the text it is given is undone: a cut of most of what the extractor
# kept is far likelier a rule misreading the page than that much boilerplate.
MAX_CUT_SHARE = 0.5
# A main text holding less than this share of the page's story-like paragraph text may have
# missed part of the story. Half: readability's result replaces trafilatura's only when more
# than twice as long, so above this the comparison could not change the result.
_COVERAGE_BELOW = 0.5
# Paragraphs inside these are page chrome or teasers, never counted as story-like.
CHROME = frozenset({"a", "nav", "footer", "aside", "form", "figure", "figcaption", "li"})
# On the page at large a <header> is the site's; near the story it is the article's own (a
# lede, a section's subheading), which precision mode drops.
_NOT_STORY = CHROME | {"header"}
# A paragraph whose text is more than this share link text is a teaser, not story-like.
_STORY_MAX_LINK_SHARE = 0.5


def norm(text: str) -> str:
    return " ".join(text.split())


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
    return norm("".join(parts))


def _is_link_list(el: etree._Element) -> bool:
    """A list whose every item is a link: related stories or navigation, not the story."""
    items = [i for i in el if i.tag == "item"]
    if not items:
        return False
    for item in items:
        text = _texts(item)
        linked = sum(len(norm("".join(r.itertext()))) for r in item.iter("ref"))
        if not text or linked < LINK_LIST_SHARE * len(text):
            return False
    return True


def chars(paragraphs: list[str]) -> int:
    return sum(len(p) for p in paragraphs)


def unless_most_cut(before: list[str], after: list[str]) -> list[str]:
    """`after`, unless it lost more than MAX_CUT_SHARE of `before`'s text."""
    return after if chars(after) >= (1 - MAX_CUT_SHARE) * chars(before) else before


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
                    out.append((norm(child.text), in_link_list))
                walk(child, in_link_list or (child.tag == "list" and _is_link_list(child)))
            elif child.tag != "graphic":
                text = _texts(child)
                if text:
                    out.append((text, in_link_list))
            # Loose text between blocks is a paragraph of its own.
            if child.tail and child.tail.strip():
                out.append((norm(child.tail), in_link_list))

    walk(body, False)
    return out


def without_link_lists(body: etree._Element) -> list[str]:
    """The rendered body less its lists of links (related stories, navigation), unless
    those are most of it: then the story itself is such a list."""
    rendered = _render(body)
    return unless_most_cut(
        [text for text, _ in rendered], [text for text, linked in rendered if not linked]
    )


def _paragraph_texts(tree: etree._Element) -> list[tuple[etree._Element, str]]:
    return [(p, t) for p in tree.iter("p") if (t := norm(p.text_content()))]


def text_blocks(tree: etree._Element) -> list[tuple[etree._Element, str]]:
    """The page's paragraphs with their texts: every <p>, and every <div> holding only text
    and inline elements (some sites set each paragraph of a story in a <div>)."""
    blocks = []
    for el in tree.iter("p", "div"):
        if el.tag == "div" and any(child.tag not in _INLINE for child in el):
            continue
        if text := norm(el.text_content()):
            blocks.append((el, text))
    return blocks


def main_holder(
    page: list[tuple[etree._Element, str]], extracted: list[str]
) -> etree._Element | None:
    """The element that holds most of the extracted paragraphs directly, if any."""
    seen = {p for p in extracted if len(p) >= CHUNK_MIN_CHARS}
    holders = Counter(
        p.getparent()
        for p, text in page
        if p.tag == "p" and text in seen and p.getparent() is not None
    )
    return holders.most_common(1)[0][0] if holders else None


def ancestor(el: etree._Element, levels: int) -> etree._Element:
    """`el`'s ancestor `levels` up, or the root if that is nearer."""
    for _ in range(levels):
        if (parent := el.getparent()) is None:
            break
        el = parent
    return el


def split_body_rest(page: list[tuple[etree._Element, str]], extracted: list[str]) -> list[str]:
    """Paragraphs of the other chunks of an article body split across same-class containers.

    Some sites cut one story into several `<div class="article__body">` blocks around ads;
    the main-text choice keeps the first. The container holding most extracted paragraphs
    names the class; its look-alikes elsewhere on the page give back the rest. `page`: the
    page's paragraphs and their texts.
    """
    main = main_holder(page, extracted)
    if main is None:
        return []
    seen = {p for p in extracted if len(p) >= CHUNK_MIN_CHARS}
    css = (main.get("class") or "").strip()
    if not css:
        return []
    # Chunks sit close together; a same-class block far away (comments, a teaser rail)
    # is not part of this story.
    scope = ancestor(main, _CHUNK_SCOPE_LEVELS)
    found: list[str] = []
    for other in scope.iter(main.tag):
        if other is main or (other.get("class") or "").strip() != css:
            continue
        if any(a is main for a in other.iterancestors()) or any(
            a is other for a in main.iterancestors()
        ):
            continue
        for p in other.iter("p"):
            text = norm(p.text_content())
            if text and text not in seen:
                found.append(text)
                seen.add(text)
    return found


def linked_chars(el: etree._Element) -> int:
    return sum(len(norm(a.text_content())) for a in el.iter("a"))


def is_story_like(el: etree._Element, text: str, not_story: frozenset[str]) -> bool:
    """A paragraph that may be story: long enough, mostly not link text, and not inside
    any of `not_story` (links, list items, navigation, footers, asides, forms, figures...)."""
    if len(text) < CHUNK_MIN_CHARS or any(a.tag in not_story for a in el.iterancestors()):
        return False
    return linked_chars(el) <= _STORY_MAX_LINK_SHARE * len(text)


def _story_like_chars(page: list[tuple[etree._Element, str]]) -> int:
    """Text of the page's paragraphs that may be story, headers counted as the site's."""
    return sum(len(text) for p, text in page if is_story_like(p, text, _NOT_STORY))


def covers_page(paragraphs: list[str], page: list[tuple[etree._Element, str]]) -> bool:
    """Whether `paragraphs` hold at least _COVERAGE_BELOW of the page's story-like text."""
    kept = chars(paragraphs)
    # Counting all paragraphs first is cheap, and enough for most pages.
    if kept >= _COVERAGE_BELOW * sum(len(text) for _p, text in page):
        return True
    return kept >= _COVERAGE_BELOW * _story_like_chars(page)


def fallback_paragraphs(tree: etree._Element) -> list[str]:
    """Linear and bounded: the page's paragraph texts, for trees too big for the extractor."""
    out: list[str] = []
    size = 0
    for _p, text in _paragraph_texts(tree):
        if len(text) < CHUNK_MIN_CHARS:
            continue
        out.append(text)
        size += len(text)
        if size > MAX_FALLBACK_CHARS:
            break
    return out
