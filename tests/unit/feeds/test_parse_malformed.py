"""Malformed but readable feeds keep their entries and are marked degraded; unreadable ones
still fail with a clear error. Every feed here is written for the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.feeds.parse import parse_feed

FETCHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8000/news/feed.xml"


def rss_prefixed(items: str, head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """RSS 2.0 with every element under an `rss:` prefix no declaration binds, and an
    unquoted version attribute: the way some site generators write it."""
    return (
        f"{head}\n<rss rss:version=2.0>\n<rss:channel>\n"
        "<rss:title>Harbour Gazette</rss:title><rss:link>http://h.test/</rss:link>"
        f"<rss:ttl>90</rss:ttl>\n{items}</rss:channel>\n</rss>\n"
    ).encode()


def prefixed_item(n: int, extra: str = "") -> str:
    return (
        f"<rss:item><rss:title>Ferry timetable {n}</rss:title>"
        f"<rss:link>http://h.test/ferry/{n}</rss:link>"
        f"<rss:guid rss:isPermaLink=false>ferry-{n}</rss:guid>"
        f"<rss:pubDate>Sun, 01 Mar 2026 0{n}:00:00 GMT</rss:pubDate>"
        f"<rss:description>Sailings for day {n}.</rss:description>{extra}</rss:item>\n"
    )


DOUBLED = '<?xml version="1.0" encoding="utf-8"?>\n<?xml version="1.0" encoding="utf-8"?>'


def test_doubled_declaration_and_rss_prefixed_elements_are_read_degraded():
    parsed = parse_feed(rss_prefixed(prefixed_item(1) + prefixed_item(2), DOUBLED), BASE, FETCHED)
    assert parsed.error is None
    assert [(e.guid, e.link, e.title) for e in parsed.entries] == [
        ("ferry-1", "http://h.test/ferry/1", "Ferry timetable 1"),
        ("ferry-2", "http://h.test/ferry/2", "Ferry timetable 2"),
    ]
    assert [e.published_at.hour for e in parsed.entries] == [1, 2]
    assert parsed.entries[0].summary_html == "Sailings for day 1."
    assert (parsed.title, parsed.ttl_seconds) == ("Harbour Gazette", 90 * 60)
    assert parsed.degraded
    # The reason names what feedparser hit and what the repair did.
    assert "SAXParseException" in parsed.warning and "repaired" in parsed.warning
    assert "rss: prefixes dropped" in parsed.warning


@pytest.mark.parametrize(
    "head",
    [
        '<!-- built by hand -->\n<?xml?xml version="1.0" encoding="UTF-8" ??>',
        "<br />\n<b>Warning</b>: cache_write(): disk full in <b>/srv/feed.php</b> on line "
        "<b>12</b><br />\n" + DOUBLED,
    ],
    ids=["broken declaration after a comment", "server warning text"],
)
def test_whatever_stands_before_the_root_is_dropped(head):
    parsed = parse_feed(rss_prefixed(prefixed_item(3), head), BASE, FETCHED)
    assert [e.link for e in parsed.entries] == ["http://h.test/ferry/3"]
    assert parsed.degraded and "before the root dropped" in parsed.warning


def test_html_entities_bare_ampersands_and_stray_brackets_survive_the_repair():
    item = (
        "<rss:item><rss:title>Caf&eacute; &amp; bar opens&nbsp;late, AT&T sponsors, 2 < 3"
        "</rss:title>"
        "<rss:link>http://h.test/news?id=4&page=2</rss:link></rss:item>"
    )
    (entry,) = parse_feed(rss_prefixed(item, DOUBLED), BASE, FETCHED).entries
    assert entry.title == "Café & bar opens late, AT&T sponsors, 2 < 3"
    assert entry.link == "http://h.test/news?id=4&page=2"


def test_undeclared_module_prefixes_are_read_by_name():
    extra = (
        "<dc:creator>Ines Harbour</dc:creator>"
        "<content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded>"
    )
    (entry,) = parse_feed(rss_prefixed(prefixed_item(5, extra), DOUBLED), BASE, FETCHED).entries
    assert entry.authors == ["Ines Harbour"]
    assert entry.content_html == "<p>Full</p>"


def test_a_well_formed_feed_is_not_degraded():
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>a</title><link>http://h.test/1</link></item></channel></rss>"
    )
    parsed = parse_feed(body, BASE, FETCHED)
    assert (parsed.degraded, parsed.warning, len(parsed.entries)) == (False, None, 1)


def test_a_wrong_content_type_warns_but_does_not_degrade():
    body = b'<rss version="2.0"><channel><item><link>http://h.test/1</link></item></channel></rss>'
    parsed = parse_feed(body, BASE, FETCHED, content_type="text/html")
    assert parsed.entries and not parsed.degraded
    assert "NonXMLContentType" in parsed.warning


def test_a_wrongly_declared_encoding_is_degraded():
    body = (
        '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item>'
        "<title>Señal</title><link>http://h.test/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, BASE, FETCHED)
    assert [e.title for e in parsed.entries] == ["Señal"]
    assert parsed.degraded and "CharacterEncodingOverride" in parsed.warning


def test_an_unreadable_body_still_fails_clearly():
    for body in (
        b"<html><body>Not found",
        b'<rss version="2.0"' + bytes(range(256)) * 4,
        b'<?xml version="1.0"?>\n<!-- nothing -->\n<?xml version="1.0"?>\n',
    ):
        parsed = parse_feed(body, BASE, FETCHED)
        assert not parsed.entries and not parsed.degraded, body[:20]
        assert parsed.error.startswith("not a feed: SAXParseException"), parsed.error
        assert parsed.error.endswith("no entries after repairing the XML either"), parsed.error


def test_the_repair_never_reads_an_external_entity(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'{DOUBLED}<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<rss rss:version=2.0><rss:channel><rss:title>&xxe;</rss:title>"
        "<rss:item><rss:title>before &xxe; after</rss:title><rss:link>http://h.test/1</rss:link>"
        "</rss:item></rss:channel></rss>"
    ).encode()
    parsed = parse_feed(body, BASE, FETCHED)
    assert parsed.degraded and [e.link for e in parsed.entries] == ["http://h.test/1"]
    text = " ".join(e.title + e.summary_html for e in parsed.entries) + (parsed.title or "")
    assert "TOPSECRET" not in text
    assert parsed.entries[0].title == "before &xxe; after"  # kept as text, never resolved


def test_an_entity_bomb_in_a_malformed_feed_is_refused_before_any_repair():
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 8))
    body = (
        f'{DOUBLED}<!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>'
        "<rss rss:version=2.0><rss:channel><rss:item><rss:title>&l7;</rss:title>"
        "<rss:link>http://h.test/1</rss:link></rss:item></rss:channel></rss>"
    ).encode()
    parsed = parse_feed(body, BASE, FETCHED)
    assert parsed.error and parsed.error.startswith("refused")
    assert not parsed.entries
