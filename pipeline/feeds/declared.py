"""What a feed declares, made safe to use: its address checked, its HTML fragments made
plain text, its language tags made codes, its dates kept only when plausible.

The article pages read later (`pipeline.text`) declare the same things and use these too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "form", "svg", "template")
# Dates outside this window are bogus (year 0001, 9999, a clock far ahead).
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=1)


def feed_url_problem(url: str) -> str | None:
    """Why `url` cannot be a feed's address, or None. Credentials in a URL are refused:
    the URL is logged and indexed, so a password in it would be shown to everyone."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not accepted (they would be logged and indexed)"
    return None


def normalise_code(code: str | None) -> str | None:
    """`en-US`, `EN_gb`, `en` -> `en`, `de, en` (a Content-Language list) -> `de`; None for
    anything that is not a language tag."""
    if not code:
        return None
    primary = code.split(",")[0].strip().lower().replace("_", "-").split("-")[0]
    return primary if len(primary) in (2, 3) and primary.isalpha() else None


def plausible_date(value: datetime | None, reference: datetime) -> datetime | None:
    """The date, unless it is before 1990 or more than a day after `reference`."""
    if value is None or value < _EARLIEST or value > reference + _FUTURE_SLACK:
        return None
    return value


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (as feeds carry), one paragraph per block."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(_DROP):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
