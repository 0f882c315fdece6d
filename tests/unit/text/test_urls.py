"""Canonical URLs: each rule, and what must not change."""

from __future__ import annotations

import pytest

from pipeline.text.urls import canonical_url, preferred_url, same_site, source_of


def test_host_and_scheme_lower_cased_path_case_kept() -> None:
    assert canonical_url("HTTPS://News.Example.COM/World/Story-1") == (
        "https://news.example.com/World/Story-1"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
    ],
)
def test_default_port_dropped_other_ports_kept(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_fragment_dropped() -> None:
    assert canonical_url("https://example.com/a#comments") == "https://example.com/a"


def test_trailing_dot_of_host_and_empty_path() -> None:
    assert canonical_url("https://example.com.") == "https://example.com/"


@pytest.mark.parametrize(
    "param",
    [
        "utm_source=rss",
        "utm_medium=feed",
        "utm_campaign=x",
        "UTM_Content=y",
        "fbclid=IwAR0",
        "gclid=abc",
        "mc_cid=123",
        "mc_eid=456",
        "ocid=msn",
        "cmpid=rss",
        "at_medium=RSS",
        "at_campaign=feed",
        "igshid=1",
        "msclkid=2",
        "_ga=2.1",
        "xtor=RSS-1",
        "smid=tw-share",
    ],
)
def test_tracking_parameter_removed(param: str) -> None:
    assert canonical_url(f"https://example.com/story?{param}") == "https://example.com/story"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/article.php?id=123",
        "https://blog.example.com/?p=42",
        "https://www.facebook.com/permalink.php?id=456&story_fbid=123",
        "https://example.com/news?articleid=9&page=2",
        "https://example.com/search?q=putin",
    ],
)
def test_article_selecting_parameters_kept(url: str) -> None:
    assert canonical_url(url) == url


def test_tracking_removed_but_selector_kept() -> None:
    url = "https://example.com/article.php?utm_source=rss&id=123&fbclid=x"
    assert canonical_url(url) == "https://example.com/article.php?id=123"


def test_parameter_order_does_not_matter() -> None:
    assert canonical_url("https://e.com/a?b=2&a=1") == canonical_url("https://e.com/a?a=1&b=2")


def test_blank_parameter_value_kept() -> None:
    assert canonical_url("https://e.com/a?preview") == "https://e.com/a?preview="


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/2024/06/story/amp/", "https://example.com/2024/06/story/"),
        ("https://example.com/amp/2024/story", "https://example.com/2024/story"),
        ("https://www.bbc.co.uk/news/world-123.amp", "https://www.bbc.co.uk/news/world-123"),
        ("https://example.com/story.amp.html", "https://example.com/story.html"),
        ("https://example.com/story?amp", "https://example.com/story"),
        ("https://example.com/story?amp=1&id=3", "https://example.com/story?id=3"),
        ("https://example.com/story?outputType=amp", "https://example.com/story"),
        ("https://amp.example.com/story", "https://www.example.com/story"),
        (
            "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a/b?x=1",
            "https://www.example.com/a/b?x=1",
        ),
    ],
)
def test_amp_variants_map_to_main_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_amp_as_a_word_in_the_path_is_kept() -> None:
    assert canonical_url("https://example.com/ampere-amps") == "https://example.com/ampere-amps"
    assert canonical_url("https://example.com/amp") == "https://example.com/amp"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://m.example.com/story", "https://www.example.com/story"),
        ("https://mobile.example.com/story", "https://www.example.com/story"),
        ("https://m.bbc.co.uk/news/x", "https://www.bbc.co.uk/news/x"),
        ("https://en.m.wikipedia.org/wiki/Seoul", "https://en.wikipedia.org/wiki/Seoul"),
        # `m.com` is a site of its own, not a mobile variant.
        ("https://m.com/x", "https://m.com/x"),
    ],
)
def test_mobile_hosts_map_to_main_host(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_mobile_and_desktop_copies_meet_on_one_key() -> None:
    desktop = "https://www.ndtv.com/world-news/putin-north-korea-123?utm_source=rss"
    mobile = "https://m.ndtv.com/world-news/putin-north-korea-123#top"
    amp = "https://www.ndtv.com/world-news/putin-north-korea-123/amp?amp=1"
    assert canonical_url(desktop) == canonical_url(mobile) == canonical_url(amp)


def test_canonical_url_is_idempotent() -> None:
    url = "HTTPS://M.Example.com:443/amp/a/?utm_source=x&id=3#f"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_rel_canonical_on_same_site_is_preferred() -> None:
    page = "https://m.example.com/story?utm_source=x"
    assert preferred_url(page, "https://www.example.com/2024/story") == (
        "https://www.example.com/2024/story"
    )
    assert preferred_url("https://edition.cnn.com/a", "https://www.cnn.com/a") == (
        "https://www.cnn.com/a"
    )


def test_rel_canonical_on_another_site_is_ignored() -> None:
    page = "https://finance.portal.example/news/afp-story-1"
    assert preferred_url(page, "https://www.afp.com/en/story-1") == page


def test_rel_canonical_to_home_page_or_non_http_is_ignored() -> None:
    page = "https://example.com/2024/story"
    assert preferred_url(page, "https://example.com/") == page
    assert preferred_url(page, "javascript:void(0)") == page
    assert preferred_url(page, None) == page


def test_same_site_and_source() -> None:
    assert same_site("https://www.example.com/a", "https://m.example.com/b")
    assert not same_site("https://example.com/a", "https://notexample.com/a")
    assert source_of("https://www.ndtv.com/x") == "ndtv.com"
