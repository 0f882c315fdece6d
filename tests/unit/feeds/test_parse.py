"""Feed bytes to typed entries: ids, links, dates, hostile XML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.feeds.parse import MAX_ENTRIES, MAX_TITLE_CHARS, parse_feed

FETCHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8000/news/feed.xml"


def rss(items: str, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'
        ' xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>T</title><link>http://127.0.0.1/</link>{channel}{items}</channel></rss>"
    ).encode()


def test_entry_fields_are_typed_and_absolute():
    body = rss(
        "<item><title>Rain &lt;b&gt;again&lt;/b&gt;</title><link>/a/1</link>"
        "<guid isPermaLink='false'>id-1</guid><pubDate>Sun, 01 Mar 2026 10:00:00 +0200</pubDate>"
        "<description>&lt;p&gt;Hi&lt;/p&gt;</description><author>a@b.c (Ann)</author>"
        "<category>Weather</category>"
        "<media:content url='/img/1.jpg' medium='image'/></item>"
    )
    parsed = parse_feed(body, BASE, FETCHED)
    assert parsed.error is None
    (entry,) = parsed.entries
    assert entry.guid == "id-1"
    assert entry.link == "http://127.0.0.1:8000/a/1"
    assert entry.title == "Rain again"
    assert entry.published_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert entry.date_missing is False
    assert "<p>Hi</p>" in entry.summary_html
    assert entry.tags == ["Weather"]
    assert entry.image == "http://127.0.0.1:8000/img/1.jpg"


def test_guid_falls_back_to_link_and_missing_date_is_flagged():
    parsed = parse_feed(
        rss("<item><title>x</title><link>http://h.test/x</link></item>"), BASE, FETCHED
    )
    (entry,) = parsed.entries
    assert entry.guid == "http://h.test/x"
    assert entry.published_at == FETCHED
    assert entry.date_missing is True


def test_xml_base_resolves_relative_links():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://127.0.0.1/blog/">'
        b"<title>A</title><entry xml:base='posts/'><id>urn:1</id><title>t</title>"
        b"<link href='one.html'/><updated>2026-02-28T10:00:00Z</updated></entry></feed>"
    )
    (entry,) = parse_feed(body, BASE, FETCHED).entries
    assert entry.link == "http://127.0.0.1/blog/posts/one.html"


def test_a_broken_feed_keeps_its_good_entries_and_records_a_warning():
    body = rss("<item><title>good</title><link>http://h.test/1</link></item><item><title>bad &")
    parsed = parse_feed(body, BASE, FETCHED)
    assert parsed.error is None
    assert [e.title for e in parsed.entries][:1] == ["good"]
    assert parsed.warning


def test_garbage_is_a_feed_error():
    assert parse_feed(b"<html><body>Not found", BASE, FETCHED).error
    assert parse_feed(b"", BASE, FETCHED).error
    assert parse_feed(b"\x00\xff\xfe garbage", BASE, FETCHED).error


def test_channel_hints_are_read():
    body = rss(
        "",
        "<ttl>45</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
        "<sy:updateFrequency>2</sy:updateFrequency>",
    )
    parsed = parse_feed(body, BASE, FETCHED)
    assert parsed.ttl_seconds == 45 * 60
    assert parsed.update_seconds == 1800


def test_entity_expansion_bomb_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    )
    parsed = parse_feed(bomb, BASE, FETCHED)
    assert parsed.error and parsed.error.startswith("refused")
    assert not parsed.entries


def test_external_entities_are_never_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
        "<link>http://h.test/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, BASE, FETCHED)
    text = " ".join(e.title + e.summary_html for e in parsed.entries) + (parsed.title or "")
    assert "TOPSECRET" not in text


def test_a_tiny_literal_entity_is_still_fine():
    body = (
        b'<!DOCTYPE rss [\n  <!ENTITY id "tag:example.com,">\n]>\n<rss version="2.0"><channel>'
        b"<item><guid isPermaLink='false'>&id;2006:/blog/</guid></item></channel></rss>"
    )
    (entry,) = parse_feed(body, BASE, FETCHED).entries
    assert entry.guid == "tag:example.com,2006:/blog/"


def test_json_feed():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "1", "url": "/p/1", "title": "One", "content_html": "<p>x</p>",'
        b' "date_published": "2026-02-28T10:00:00-05:00", "authors": [{"name": "Bo"}]}]}'
    )
    parsed = parse_feed(body, BASE, FETCHED)
    (entry,) = parsed.entries
    assert entry.link == "http://127.0.0.1:8000/p/1"
    assert entry.published_at == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert entry.authors == ["Bo"]


def test_only_bytes_are_accepted():
    with pytest.raises(TypeError):
        parse_feed("http://127.0.0.1/feed.xml", BASE, FETCHED)  # type: ignore[arg-type]


def test_entries_keep_the_registered_feed_url_and_links_use_where_the_bytes_came_from():
    body = rss("<item><title>x</title><link>/story</link></item>")
    moved = "http://127.0.0.2/new/feed.xml"
    (entry,) = parse_feed(body, BASE, FETCHED, base_url=moved).entries
    assert entry.feed_url == BASE
    assert entry.link == "http://127.0.0.2/story"


def _rss(items: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.com/</link>{items}</channel></rss>"
    ).encode()


def _item(n: int, extra: str = "", title: str = "t") -> str:
    url = f"https://example.com/{n}"
    return f"<item><title>{title}</title><link>{url}</link><guid>{url}</guid>{extra}</item>"


def test_many_references_to_a_small_entity_are_refused():
    doctype = f'<!DOCTYPE rss [<!ENTITY a "{"A" * 200}">]>'
    body = _rss(_item(1, f"<description>{'&a;' * 6000}</description>"), doctype)
    parsed = parse_feed(body, "https://example.com/feed", FETCHED)
    assert parsed.entries == []
    assert "expand to more than" in parsed.error


def test_a_few_references_to_a_small_entity_are_fine():
    doctype = '<!DOCTYPE rss [<!ENTITY org "Example News">]>'
    body = _rss(_item(1, "<description>By &org; staff</description>"), doctype)
    (entry,) = parse_feed(body, "https://example.com/feed", FETCHED).entries
    assert entry.summary_html == "By Example News staff"


@pytest.mark.parametrize(
    "date",
    ["Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Sun, 01 Jan 1950 0:00 GMT"],
)
def test_implausible_dates_count_as_missing(date):
    body = _rss(_item(1, f"<pubDate>{date}</pubDate>"))
    (entry,) = parse_feed(body, "https://example.com/feed", FETCHED).entries
    assert entry.date_missing is True
    assert entry.published_at == FETCHED


def test_a_plausible_date_is_kept():
    body = _rss(_item(1, "<pubDate>Sat, 28 Feb 2026 09:30:00 GMT</pubDate>"))
    (entry,) = parse_feed(body, "https://example.com/feed", FETCHED).entries
    assert entry.date_missing is False
    assert entry.published_at == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)


def test_huge_title_is_cut_at_a_word():
    title = "word " * 100_000
    (entry,) = parse_feed(_rss(_item(1, title=title)), "https://example.com/f", FETCHED).entries
    assert len(entry.title) <= MAX_TITLE_CHARS + 1
    assert entry.title.endswith("word…")


def test_entries_beyond_the_cap_are_dropped_with_a_warning():
    items = "".join(_item(n) for n in range(MAX_ENTRIES + 5))
    parsed = parse_feed(_rss(items), "https://example.com/feed", FETCHED)
    assert len(parsed.entries) == MAX_ENTRIES
    assert parsed.entries[0].guid == "https://example.com/0"
    assert f"only the first {MAX_ENTRIES}" in parsed.warning


def test_each_entry_carries_the_language_its_feed_declares():
    plain = "<item><title>a</title><link>http://h.test/a</link></item>"
    items = plain + (
        "<item xmlns:dc='http://purl.org/dc/elements/1.1/'><title>b</title>"
        "<link>http://h.test/b</link><dc:language>de-AT</dc:language></item>"
    )
    first, second = parse_feed(rss(items, "<language>en-GB</language>"), BASE, FETCHED).entries
    assert (first.language, second.language) == ("en", "de")
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>A</title>'
        b"<entry><id>urn:1</id><title>t</title><summary xml:lang='es'>s</summary>"
        b"<link href='http://h.test/1'/></entry>"
        b"<entry><id>urn:2</id><title>t</title><link href='http://h.test/2'/></entry></feed>"
    )
    assert [e.language for e in parse_feed(atom, BASE, FETCHED).entries] == ["es", "fr"]
    json_feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "language": "pt-BR", "items": ['
        b'{"id": "1", "url": "/p/1"}, {"id": "2", "url": "/p/2", "language": "it"}]}'
    )
    assert [e.language for e in parse_feed(json_feed, BASE, FETCHED).entries] == ["pt", "it"]
    assert parse_feed(rss(plain), BASE, FETCHED).entries[0].language is None
