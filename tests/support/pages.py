"""Article pages for tests: a story's paragraphs inside ordinary news-site chrome."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from tests.support.paths import shared_path

_NAV = ["India", "World", "Business", "Sports", "Entertainment", "Videos", "Opinion"]
_RELATED = [
    "Ukraine says it shot down 20 drones overnight in eastern regions",
    "Markets rally as central bank holds rates steady for a third month",
    "Heatwave grips northern plains, schools told to close early this week",
    "Election commission announces schedule for by-polls in five states",
]


def article_page(
    title: str,
    paragraphs: Sequence[str],
    *,
    subheads: Sequence[str] = (),
    trailers: Sequence[str] = (),
    canonical: str | None = None,
    published: str = "2024-06-17T10:15:00+05:30",
    author: str = "Agence France-Presse",
    lang: str = "en",
) -> str:
    """A full page: header, nav, sidebar, the story (subheads as <h2>), trailers, related
    links and footer, as a syndicating news site prints it."""
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in _NAV)
    related = "".join(f'<li><a href="/news/{i}">{t}</a></li>' for i, t in enumerate(_RELATED))
    story = "".join(
        f"<h2>{html.escape(p)}</h2>" if p in subheads else f"<p>{html.escape(p)}</p>"
        for p in paragraphs
    )
    trailer_html = "".join(f"<p><i>{html.escape(t)}</i></p>" for t in trailers)
    link = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{html.escape(title)} | Example News</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:image" content="/images/lead.jpg">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{html.escape(author)}">
{link}
<script>window.ads = {{slots: ["top", "side"]}};</script>
<style>body {{ font-family: sans-serif; }}</style>
</head><body>
<header class="site-header"><a class="logo" href="/">Example News</a>
<nav class="main-nav"><ul>{nav}</ul></nav>
<div class="ticker">Sensex up 300 points | Nifty closes at record high</div></header>
<div class="container">
<main><article class="story">
<h1>{html.escape(title)}</h1>
<div class="byline">{html.escape(author)} | Updated: June 17, 2024 10:15 am IST</div>
<div class="story-body">{story}{trailer_html}</div>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
</article></main>
<aside class="sidebar"><h3>Trending</h3><ul>{related}</ul></aside>
</div>
<section class="related"><h3>Related News</h3><ul>{related}</ul></section>
<footer class="site-footer"><p>Copyright 2024 Example News Ltd. All rights reserved.</p>
<ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy policy</a></li></ul>
</footer></body></html>"""


def seed_story() -> tuple[list[str], list[str]]:
    """The seed article's story paragraphs and, apart, the site trailer lines it carries."""
    lines = [
        line.strip()
        for line in shared_path("samples", "seed_article.txt").read_text().splitlines()
        if line.strip()
    ]
    entities = json.loads(shared_path("samples", "seed_article.entities.json").read_text())
    trailers = entities["trailer_lines_not_article_text"]
    return [line for line in lines if line not in trailers], trailers


_TOWNS = ["Arlen", "Bexford", "Calder", "Dunmore", "Eskdale", "Farrow", "Glenby", "Harwick"]
_BODIES = ["council", "water board", "school trust", "harbour authority", "rail committee"]
_ISSUES = ["the bridge repairs", "a new bus depot", "flood defences", "the library budget"]


def invented_story(count: int) -> list[str]:
    """`count` distinct paragraphs of plausible local news, about 250 characters each."""
    paragraphs = []
    for i in range(count):
        town, body = _TOWNS[i % len(_TOWNS)], _BODIES[i % len(_BODIES)]
        issue = _ISSUES[i % len(_ISSUES)]
        paragraphs.append(
            f"In paragraph {i + 1}, the {body} of {town} met for {i + 2} hours on Tuesday to "
            f"settle {issue}, and voted {i + 5} to {i % 4} in favour of a plan that residents "
            f"had opposed since spring. A spokesperson said work would begin within {i + 3} "
            "weeks, weather permitting, and that costs would be published in full."
        )
    return paragraphs
