"""Article text: no cleaning step may cut most of a story that the extractor found."""

from __future__ import annotations

import gzip
import json
import textwrap
from pathlib import Path

import pytest
import trafilatura

from benchmarks.extract_zyte import SHORTFALL, token_scores
from pipeline.text import siterules
from pipeline.text.extract import extract_page
from tests.support.pages import invented_story
from tests.support.paths import shared_path

URL = "https://www.example-outlet.com/2024/06/council-votes"


def _page(body: str) -> str:
    return (
        "<html><head><title>Council votes on the bridge</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/local'>Local</a></nav></header>"
        f"<main><article><h1>Council votes on the bridge</h1>{body}</article></main>"
        "<footer><p>Example Outlet, 1 High Street, Arlen.</p></footer></body></html>"
    )


def _paragraphs(paragraphs: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _split_same_class_wrapped(story: list[str]) -> str:
    # Each chunk's paragraphs sit in a wrapper without a class of its own.
    return "".join(
        f"<div class='article-body'><div>{_paragraphs(story[i : i + 4])}</div></div>"
        "<div class='ad-slot'>Advertisement</div>"
        for i in range(0, len(story), 4)
    )


def _split_first_chunk_marked(story: list[str]) -> str:
    # The first chunk carries a class the others lack.
    first = f"<div class='article-body article-body--first'>{_paragraphs(story[:5])}</div>"
    rest = "".join(
        f"<div class='article-body'>{_paragraphs(story[i : i + 5])}</div>"
        for i in range(5, len(story), 5)
    )
    return first + rest


def _split_div_paragraphs(story: list[str]) -> str:
    # Each paragraph a <div> of its own, not a <p>.
    return "".join(
        "<div class='article-body'>"
        + "".join(f"<div class='para'>{p}</div>" for p in story[i : i + 5])
        + "</div><div class='ad-slot'>Advertisement</div>"
        for i in range(0, len(story), 5)
    )


@pytest.mark.parametrize(
    "layout", [_split_same_class_wrapped, _split_first_chunk_marked, _split_div_paragraphs]
)
def test_story_split_over_sibling_containers_comes_out_whole(layout) -> None:
    story = invented_story(20)
    text = extract_page(_page(layout(story)), url=URL).text
    assert text.split("\n\n") == story


def test_long_promo_block_in_the_story_is_still_dropped() -> None:
    """The guards undo only a cut of most of the text: a long promo block that is less than
    the story goes, and the story stays whole."""
    story = invented_story(8)
    promo = [
        "Advertisement",
        "Sign up for our daily newsletter",
        "Follow Example Outlet on Facebook, Instagram and YouTube",
        "Read more: Arlen bridge closed for a fortnight after the storm",
        "Read more: Bexford school trust names its new head teacher",
        "Read more: Harbour authority raises mooring fees by a tenth",
        "Get the best of local news delivered straight to your inbox every morning",
        "Like this story? Share it with a friend",
        "© 2024 Example Outlet. All rights reserved.",
    ]
    body = _paragraphs(story[:4]) + _paragraphs(promo[:3]) + _paragraphs(story[4:] + promo[3:])
    text = extract_page(_page(f"<div class='story'>{body}</div>"), url=URL).text
    assert text.split("\n\n") == story


def test_long_related_block_beside_the_story_stays_out() -> None:
    """Teasers of other stories, twice the story's length, in the same article: the check for
    a story missing text must not bring them in."""
    story = invented_story(6)
    cards = "".join(
        f"<div class='card'><h3><a href='/s/{i}'>Another headline from the valley, {i}</a></h3>"
        f"<p>A teaser of another story, number {i}, says what happened at the village fete, "
        "who won the prize for the largest marrow, and what the mayor said afterwards.</p></div>"
        for i in range(20)
    )
    body = f"<div class='story'>{_paragraphs(story)}</div><div class='related'>{cards}</div>"
    assert extract_page(_page(body), url=URL).text.split("\n\n") == story


_SUBHEADS = ["What the vote means", "Who pays for the work", "What happens next"]


def _bordered_section(story: list[str]) -> tuple[str, list[str]]:
    # The second half of the story in a box with a border.
    box = f"<div style='border-left: 2px solid #ccc'>{_paragraphs(story[6:])}</div>"
    return f"<div class='story'>{_paragraphs(story[:6])}{box}</div>", story


def _bottom_section(story: list[str]) -> tuple[str, list[str]]:
    # The second half in a "bottom" block beside the wrapper of the story's body.
    body = f"<div class='story-wrap'><div class='story'>{_paragraphs(story[:6])}</div></div>"
    return body + f"<div class='story-bottom'>{_paragraphs(story[6:])}</div>", story


def _sections_with_headers(story: list[str]) -> tuple[str, list[str]]:
    # Each section opens with a <header>: its subheading and its first paragraph.
    sections = "".join(
        f"<section><header><h2>{head}</h2><p>{story[4 * i]}</p></header>"
        f"{_paragraphs(story[4 * i + 1 : 4 * i + 4])}</section>"
        for i, head in enumerate(_SUBHEADS)
    )
    expected = [
        line for i, head in enumerate(_SUBHEADS) for line in [head, *story[4 * i : 4 * i + 4]]
    ]
    return f"<div class='story'>{sections}</div>", expected


@pytest.mark.parametrize("layout", [_bordered_section, _bottom_section, _sections_with_headers])
def test_section_that_precision_mode_cuts_comes_back(layout) -> None:
    """trafilatura's precision mode drops every element with a border or a "bottom" class and
    every <header> of the story; here those hold a real part of it, which its default mode
    keeps."""
    body, expected = layout(invented_story(12))
    assert extract_page(_page(body), url=URL).text.split("\n\n") == expected


def _card(i: int) -> str:
    return (
        f"<div class='card'><h3><a href='/s/{i}'>Another headline from the valley, {i}</a></h3>"
        f"<p>{_blurb(i)}</p></div>"
    )


def _dated_card(i: int) -> str:
    return (
        f"<div class='card'><h3><a href='/s/{i}'>Another headline from the valley, {i}</a></h3>"
        f"<span class='date'>2 June 2024</span><div class='dek'><p>{_blurb(i)}</p></div></div>"
    )


def _bare_teaser(i: int) -> str:
    return f"<h3><a href='/s/{i}'>Another headline from the valley, {i}</a></h3><p>{_blurb(i)}</p>"


def _blurb(i: int) -> str:
    return (
        f"A teaser of another story, number {i}, says what happened at the village fete, who "
        "won the prize for the largest marrow, and what the mayor said afterwards."
    )


@pytest.mark.parametrize("teaser", [_card, _dated_card, _bare_teaser])
def test_teasers_in_a_box_that_precision_mode_cuts_stay_out(teaser) -> None:
    """Linked headlines over blurbs of other stories, in a "bottom" box: precision mode drops
    the box and default mode keeps it, and the blurbs read like story text; they stay out."""
    story = invented_story(8)
    cards = "".join(teaser(i) for i in range(12))
    page = _page(
        f"<div class='story'>{_paragraphs(story)}</div><div class='more-bottom'>{cards}</div>"
    )
    assert _blurb(5) in trafilatura.extract(page)
    assert extract_page(page, url=URL).text.split("\n\n") == story


def test_small_box_that_precision_mode_cuts_stays_out() -> None:
    """A bordered note under a tenth of the story's length, which trafilatura alone keeps:
    precision's judgement stands."""
    story = invented_story(10)
    note = (
        "The author has reported on the valley's councils for twenty years and lives in Arlen "
        "with two dogs, a very old bicycle and a garden that floods every single winter."
    )
    box = f"<div style='border: 1px solid #ddd'><p>{note}</p></div>"
    page = _page(f"<div class='story'>{_paragraphs(story)}{box}</div>")
    assert note in trafilatura.extract(page)
    assert extract_page(page, url=URL).text.split("\n\n") == story


def test_standfirst_in_the_article_masthead_stays_out() -> None:
    """A <header> around the headline holds a standfirst, a fifth of this short story's
    length: precision mode drops it, default mode keeps it, and it is not the story."""
    story = invented_story(3)
    standfirst = (
        "The valley's councils agreed on Tuesday to share the cost of repairing the bridge, "
        "ending a dispute that had run since the spring floods closed it to lorries and buses."
    )
    page = (
        "<html><head><title>Council votes on the bridge</title></head><body><main><article>"
        f"<header><h1>Council votes on the bridge</h1><p class='standfirst'>{standfirst}</p>"
        f"<div class='byline'>By a staff reporter</div></header>"
        f"<div class='story'>{_paragraphs(story)}</div></article></main></body></html>"
    )
    assert standfirst in trafilatura.extract(page)
    assert extract_page(page, url=URL).text.split("\n\n") == story


def test_story_of_lines_that_look_like_cross_links_is_not_cut_to_nothing() -> None:
    """Every paragraph of a video round-up opens like a teaser ("Watch: ..."); dropping them
    all would leave nothing of the story."""
    clips = [
        f"Watch: the {name} crew lifts the {i + 2}-tonne span of the Arlen bridge into place"
        for i, name in enumerate(["morning", "evening", "night", "weekend", "relief", "last"])
    ]
    text = extract_page(_page(f"<div class='story'>{_paragraphs(clips)}</div>"), url=URL).text
    assert text.split("\n\n") == clips


def test_reading_list_keeps_its_list_of_links() -> None:
    """A reading list: a short introduction, then the story itself as a list of linked
    titles, which is most of the text."""
    story = invented_story(15)
    intro, titles = story[:3], [line[:120].strip() for line in story[3:]]
    items = "".join(f"<li><a href='/reads/{i}'>{t}</a></li>" for i, t in enumerate(titles))
    body = f"<div class='story'>{_paragraphs(intro)}<ul>{items}</ul></div>"
    text = extract_page(_page(body), url=URL).text
    assert text.split("\n\n") == intro + titles


def test_site_rule_matching_the_story_leaves_the_page_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pruning rule written for one layout of a site that, on another, names the story's
    own container is not applied; where it names chrome, it is."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        textwrap.dedent(
            """\
            sites:
              example-outlet.com:
                prune_xpath: ['//div[@class="story"]']
            """
        )
    )
    monkeypatch.setenv(siterules.ENV_VAR, str(rules))
    story = invented_story(8)
    whole = extract_page(_page(f"<div class='story'>{_paragraphs(story)}</div>"), url=URL)
    assert whole.text.split("\n\n") == story
    promo = "Our new podcast explains a week of local politics in twenty minutes flat. " * 3
    other_layout = f"<div class='article-text'>{_paragraphs(story)}</div>" + (
        f"<div class='story'><p>{promo}</p></div>"
    )
    assert extract_page(_page(other_layout), url=URL).text.split("\n\n") == story


def test_no_zyte_page_falls_far_below_trafilatura_alone() -> None:
    """On every real page of the benchmark, wirefeed's text is within SHORTFALL F1 of what
    trafilatura alone extracts from the raw page."""
    folder = shared_path("corpora", "articles", "zyte-dev")
    truth = json.loads((folder / "ground-truth.json").read_text())
    behind = []
    for key, record in truth.items():
        page = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        ours = token_scores(extract_page(page, url=record["url"]).text, record["articleBody"])
        plain = token_scores(trafilatura.extract(page) or "", record["articleBody"])
        if ours[2] < plain[2] - SHORTFALL:
            behind.append((key[:12], round(ours[2], 3), round(plain[2], 3)))
    assert behind == []
