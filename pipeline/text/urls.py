"""Canonical URLs: one spelling per article, so copies and re-polls meet on one key.

Rules, in order: lower-case scheme and host, default port and fragment dropped, AMP-cache,
AMP and mobile variants mapped to the main URL, tracking parameters removed (parameters
that select the article, such as `?id=123` or `?p=42`, stay), remaining parameters sorted.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "hsa_", "oly_", "vero_", "__twitter")
_TRACKING = {
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "ocid",
    "cmpid",
    "cmp",
    "icid",
    "igshid",
    "yclid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "ref_src",
    "ref_url",
    "smid",
    "smtyp",
    "ito",
    "xtor",
    "ncid",
    "sr_share",
    "soc_src",
    "soc_trk",
    "wt.mc_id",
    "wt_mc",
    "s_cid",
    "cid_source",
    "spm",
    "rss",
}
# Parameters that only ask for the AMP rendering of the same page.
_AMP_PARAMS = {"amp", "amp_js_v", "usqp", "outputtype"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MOBILE_LABELS = {"m", "mobile", "amp"}
_AMP_CACHE = re.compile(r"\.cdn\.ampproject\.org$")
_AMP_CACHE_PATH = re.compile(r"^/[a-z]/(s/)?")
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)")


def _main_host(host: str) -> str:
    """`m.example.com`, `mobile.`, `amp.` -> `www.example.com`; `en.m.wiki.org` -> `en.wiki.org`.

    A leading mobile label stands where the main site has `www` (m.facebook.com,
    m.bbc.co.uk); one further in is simply dropped. The last two labels are the site itself
    (`m.com` stays `m.com`).
    """
    labels = host.split(".")
    if len(labels) > 2 and labels[0] in _MOBILE_LABELS:
        labels[0] = "www"
    return ".".join(
        label
        for i, label in enumerate(labels)
        if not (0 < i < len(labels) - 2 and label in _MOBILE_LABELS)
    )


def _main_path(path: str) -> str:
    """`/amp/2024/story`, `/2024/story/amp/`, `/story.amp.html` -> the non-AMP path."""
    segments = path.split("/")
    if len(segments) > 2 and "amp" in segments[1:]:
        segments = [s for i, s in enumerate(segments) if i == 0 or s != "amp"]
        path = "/".join(segments) or "/"
    return _AMP_SUFFIX.sub("", path)


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in _TRACKING or key in _AMP_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _unwrap_amp_cache(url: str) -> str:
    """`https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a` -> the origin URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not _AMP_CACHE.search(host):
        return url
    match = _AMP_CACHE_PATH.match(parts.path)
    if not match:
        return url
    scheme = "https" if match.group(1) else "http"
    rest = parts.path[match.end() :]
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{rest}{query}"


def canonical_url(url: str) -> str:
    """The one spelling of `url` that every copy, AMP page and re-poll agrees on."""
    parts = urlsplit(_unwrap_amp_cache(url.strip()))
    scheme = parts.scheme.lower()
    host = _main_host((parts.hostname or "").lower().rstrip("."))
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    return urlunsplit((scheme, netloc, _main_path(parts.path or "/"), urlencode(query), ""))


def site_of(url: str) -> str:
    """The host a URL belongs to, without `www.` and mobile/AMP labels."""
    host = _main_host((urlsplit(url).hostname or "").lower().rstrip("."))
    return host[4:] if host.startswith("www.") else host


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on one site: equal hosts, or one a subdomain of the other."""
    host_a, host_b = site_of(a), site_of(b)
    if not host_a or not host_b:
        return False
    return host_a == host_b or host_a.endswith(f".{host_b}") or host_b.endswith(f".{host_a}")


def preferred_url(page_url: str, declared: str | None) -> str:
    """The page's own `rel=canonical`/`og:url` when it stays on the same site, else the page URL.

    A declared canonical on another site (a syndication partner) or pointing at the site's
    home page (a common template mistake) is not this article's address.
    """
    page = canonical_url(page_url)
    if not declared:
        return page
    parts = urlsplit(declared.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return page
    candidate = canonical_url(declared)
    if not same_site(page, candidate):
        return page
    if urlsplit(candidate).path in ("", "/") and urlsplit(page).path not in ("", "/"):
        return page
    return candidate


def source_of(url: str) -> str:
    """The outlet a URL belongs to: its host without `www.`."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
