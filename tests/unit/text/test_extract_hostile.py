"""Hostile pages: empty or partial text with a recorded reason, never an exception.

Bounded time and memory come from the caps in pipeline.text.pagehtml (input characters, element
count, the parser's depth limit); these tests check the behaviour that the caps produce.
"""

from __future__ import annotations

from pipeline.text import pagehtml
from pipeline.text.extract import extract_page

STORY = "".join(
    f"<p>Paragraph {i}: the council voted on Tuesday to widen the road past the school.</p>"
    for i in range(6)
)


def test_ten_megabytes_of_nested_divs() -> None:
    depth = 1_000_000
    page = "<html><body>" + "<div>" * depth + "deep text" + "</div>" * depth + "</body></html>"
    assert len(page) > 10_000_000
    result = extract_page(page.encode(), url="https://example.com/a")
    assert result.text == ""
    assert pagehtml.REASON_TRUNCATED in result.reason
    assert pagehtml.REASON_TOO_DEEP in result.reason


def test_story_before_deep_nesting_is_kept_as_partial_text() -> None:
    nest = "<div>" * 400 + "lost" + "</div>" * 400
    page = f"<html><body><article>{STORY}</article>{nest}</body></html>"
    result = extract_page(page, url="https://example.com/a")
    assert "Paragraph 5: the council voted" in result.text
    assert result.reason == pagehtml.REASON_TOO_DEEP


def test_too_many_elements_falls_back_to_plain_paragraphs() -> None:
    filler = "<span>x</span>" * (pagehtml.MAX_ELEMENTS + 10)
    page = f"<html><body><article>{STORY}</article><div>{filler}</div></body></html>"
    result = extract_page(page, url="https://example.com/a")
    assert result.text.split("\n\n")[0].startswith("Paragraph 0: the council voted")
    assert result.reason == pagehtml.REASON_TOO_MANY


def test_script_only_page() -> None:
    page = "<html><head><script>" + "var a = 1;" * 100_000 + "</script></head></html>"
    result = extract_page(page, url="https://example.com/a")
    assert result.text == ""
    assert result.reason is not None


def test_scripts_in_body_give_no_text() -> None:
    script = "document.write('<p>' + 'x'.repeat(500) + '</p>')"
    page = f"<html><body><script>{script}</script></body></html>"
    result = extract_page(page, url="https://example.com/a")
    assert result.text == ""
    assert result.reason == pagehtml.REASON_NO_TEXT


def test_no_body() -> None:
    result = extract_page(b"<html><head><title>Only a title</title></head></html>")
    assert result.text == ""
    assert result.reason == pagehtml.REASON_NO_BODY
    assert result.title == "Only a title"


def test_empty_and_whitespace_documents() -> None:
    for page in (b"", b"   \n\t ", "", b"\x00\x07 \x1b\r\n"):
        result = extract_page(page, url="https://example.com/a")
        assert (result.text, result.reason) == ("", pagehtml.REASON_EMPTY)
        assert result.canonical_url == "https://example.com/a"


def test_invalid_utf8_keeps_readable_text_and_says_so() -> None:
    page = (f"<html><body><article>{STORY}".encode() + b"<p>caf\xe9 \xff\xfe broken</p>") + (
        b"</article></body></html>"
    )
    result = extract_page(
        page, url="https://example.com/a", content_type="text/html; charset=utf-8"
    )
    assert "Paragraph 3: the council voted" in result.text
    assert result.reason == pagehtml.REASON_ENCODING


def test_declared_legacy_charset_is_honoured() -> None:
    story = "<p>Le café de la gare a rouvert ses portes après trois ans de travaux lundi.</p>" * 4
    page = f'<html><head><meta charset="iso-8859-1"></head><body><article>{story}</article>'
    result = extract_page(page.encode("iso-8859-1"), url="https://example.fr/a")
    assert "Le café de la gare" in result.text
    assert result.reason is None


def test_unknown_charset_and_binary_garbage() -> None:
    page = b'<meta charset="no-such-charset">' + bytes(range(256)) * 50
    result = extract_page(page, url="https://example.com/a")
    assert isinstance(result.text, str)
    assert result.reason is not None


def test_nul_bytes_and_control_characters() -> None:
    page = f"<html><body><article>{STORY}</article></body></html>".replace(
        "council", "coun\x00cil\x07"
    )
    result = extract_page(page, url="https://example.com/a")
    assert "the council voted" in result.text
