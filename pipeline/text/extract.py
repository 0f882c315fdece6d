"""A full article page to its main text and metadata (`extract_page`).

The steps, each in its module: the bytes decoded and parsed within bounds (`pagehtml`), the
page's metadata read (`pagemeta`), the site's chrome pruned and, after the extraction, trailer
lines dropped (`boilerplate`), trafilatura's main-text choice rendered into plain paragraphs
with split article bodies re-joined (`paragraphs`), and that choice checked against
readability and justext where it holds little of the page, with story sections that
trafilatura's precision rules cut brought back from its default mode (`recovery`). No
cleaning step may cut most of the text: such a cut is taken for a rule misreading the page.
Hostile pages never raise: they come back with little or no text and a `reason`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json
from trafilatura.settings import set_date_params

from pipeline.text.boilerplate import cleaned, prune
from pipeline.text.language import detect_language
from pipeline.text.pagehtml import (
    CONTROL_BYTES,
    MAX_ELEMENTS,
    MAX_HTML_CHARS,
    PARSER,
    PARSER_MAX_DEPTH,
    REASON_EMPTY,
    REASON_ENCODING,
    REASON_EXTRACTOR,
    REASON_NO_BODY,
    REASON_NO_TEXT,
    REASON_TOO_DEEP,
    REASON_TOO_MANY,
    REASON_TRUNCATED,
    REASON_UNPARSABLE,
    decode_html,
    shape,
)
from pipeline.text.pagemeta import parse_datetime, read_meta
from pipeline.text.paragraphs import fallback_paragraphs
from pipeline.text.recovery import main_paragraphs
from pipeline.text.siterules import site_rules
from pipeline.text.urls import canonical_url, preferred_url

log = logging.getLogger(__name__)


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
    data = html.encode("utf-8", "surrogatepass").translate(None, CONTROL_BYTES)
    # The text's own strip() also counts Unicode spaces (a page of NBSPs) as empty.
    if not data.strip() or not html.strip():
        return _empty(REASON_EMPTY, url and preferred_url(url, None))
    try:
        tree = lxml_html.document_fromstring(data, parser=PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        log.info("unparsable page %s: %s", url, exc)
        return _empty(REASON_UNPARSABLE, url and preferred_url(url, None))
    meta = read_meta(tree, url)
    if url:
        canonical: str | None = preferred_url(url, meta.canonical_url)
    else:
        canonical = canonical_url(meta.canonical_url) if meta.canonical_url else None
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)
    count, deepest = shape(tree)
    if deepest >= PARSER_MAX_DEPTH:
        reasons.append(REASON_TOO_DEEP)
    host = urlsplit(canonical or url or "").hostname
    prune(tree, site_rules().for_host(host).prune_xpath)
    author: str | None = None
    date: str | None = None
    if tree.find("body") is None:
        paragraphs: list[str] = []
        reasons.append(REASON_NO_BODY)
    elif count > MAX_ELEMENTS:
        paragraphs = fallback_paragraphs(tree)
        reasons.append(REASON_TOO_MANY)
    else:
        try:
            paragraphs = main_paragraphs(tree)
            author = _author(tree) if want_author else None
            if want_date and meta.published_at is None:
                date = find_date(tree, **set_date_params(), url=canonical or url)
        # A third-party extractor failing on one odd page must not stop the batch.
        except Exception as exc:  # noqa: BLE001
            log.warning("extractor failed on %s: %s", url, exc)
            paragraphs = fallback_paragraphs(tree)
            reasons.append(REASON_EXTRACTOR)
    text = "\n\n".join(cleaned(paragraphs, meta.title, host))
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
