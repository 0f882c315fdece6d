"""A page's bytes as text and as a tree, within bounds: charset by BOM, HTTP header and
<meta>; one lxml parser for every page; the size, element count and depth a hostile page
may not exceed, and the reasons recorded when it does."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

# Bounds that keep one hostile page from taking the worker's time or memory.
MAX_HTML_CHARS = 4_000_000
MAX_ELEMENTS = 60_000
# libxml2 stops building the tree at this depth and drops what is nested deeper.
PARSER_MAX_DEPTH = 255
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
PARSER = etree.HTMLParser(
    collect_ids=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
# Every element an HtmlElement, chosen in C: lxml.html's own parser picks each element's
# class in Python (form, input, label...), on every access, which cost a tenth of the time.
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)
# C0 controls but tab, line feed and carriage return: lxml's tree cannot hold them. In UTF-8
# these bytes only ever stand for themselves.
CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


def read_page_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A saved page, gunzipped when it is gzip; refuses more than `limit` bytes of HTML."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"page larger than {limit} bytes")
    return data


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


def shape(tree: etree._Element) -> tuple[int, int]:
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
