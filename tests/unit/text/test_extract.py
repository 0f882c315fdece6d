"""Article text: feed HTML, full pages in site chrome, trailers, site rules, metadata."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import ConfigError
from pipeline.feeds.declared import html_to_text
from pipeline.text import siterules
from pipeline.text.boilerplate import strip_trailers
from pipeline.text.extract import extract_page
from pipeline.text.language import detect_language
from pipeline.text.pagehtml import read_page_file
from tests.support.pages import article_page, seed_story
from tests.support.paths import shared_path

PAGE_URL = "https://m.example-news.com/world-news/putin-north-korea-123?utm_source=rss"
CANONICAL = "https://www.example-news.com/world-news/putin-north-korea-123"


def test_seed_article_in_site_chrome_keeps_every_paragraph_and_no_trailer() -> None:
    story, trailers = seed_story()
    subheads = [line for line in story if len(line.split()) <= 4]
    page = article_page(
        "Putin To Visit North Korea",
        story,
        subheads=subheads,
        trailers=trailers,
        canonical=CANONICAL,
    )
    result = extract_page(page.encode("utf-8"), url=PAGE_URL)
    paragraphs = result.text.split("\n\n")
    assert paragraphs == story
    for trailer in trailers:
        assert trailer not in result.text
    for chrome in ("Trending", "Related News", "Copyright 2024", "Sensex", "Share on"):
        assert chrome not in result.text
    assert result.reason is None
    assert result.title == "Putin To Visit North Korea"
    assert result.author == "Agence France-Presse"
    assert result.published_at == datetime(2024, 6, 17, 4, 45, tzinfo=UTC)
    assert result.canonical_url == CANONICAL
    assert result.image == "https://m.example-news.com/images/lead.jpg"
    assert result.language == "en"


def test_canonical_on_another_site_is_not_taken() -> None:
    story, _ = seed_story()
    page = article_page("Putin", story, canonical="https://www.afp.com/en/putin-story")
    result = extract_page(page, url="https://portal.example/news/afp-1?fbclid=x")
    assert result.canonical_url == "https://portal.example/news/afp-1"


def test_seed_trailers_stripped_from_feed_html() -> None:
    story, trailers = seed_story()
    html = "".join(f"<p>{line}</p>" for line in [*story[:3], *trailers])
    assert strip_trailers(html_to_text(html)).split("\n\n") == story[:3]


@pytest.mark.parametrize(
    "line",
    [
        "(Except for the headline, this story has not been edited by NDTV staff and is "
        "published from a syndicated feed.)",
        "This story has not been edited by Business Standard staff and is auto-generated "
        "from a syndicated feed.",
        "Track Latest News Live on NDTV.com and get news updates from India and around the world",
        "Also Read: Putin lands in Pyongyang",
        "READ MORE | Kim hosts Putin",
        "Follow us on Twitter and Instagram",
        "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.",
        "Sign up for our daily newsletter",
        "Subscribe to our Morning Briefing newsletter",
        "Get the latest updates right in your inbox. Subscribe to our newsletters.",
        "Advertisement",
        "Story continues below advertisement",
        "You may also like...",
        "Comments",
        "Reading time: 4 minutes",
        "© 2024 Example News. All rights reserved.",
    ],
)
def test_boilerplate_line_dropped(line: str) -> None:
    assert strip_trailers(f"The story itself.\n\n{line}") == "The story itself."


@pytest.mark.parametrize(
    "line",
    [
        "Kim said he would follow the Russian leader on his next trip to Moscow.",
        "Readers who sign up for the newsletter will get the story first, the paper said.",
        "Also, the Kremlin said the visit would last two days.",
        "More than 300 people attended the summit in Pyongyang on Tuesday.",
        # Long paragraphs are never dropped, whatever they start with.
        "Follow us on Twitter, the minister told reporters, before launching into a long "
        "explanation of why his ministry had stopped posting on the platform altogether "
        "after the election, citing harassment of staff, misinformation, the cost of "
        "moderation, a lack of reach among rural voters, and the advice of a parliamentary "
        "committee that had examined the question for more than a year.",
    ],
)
def test_story_lines_that_look_alike_are_kept(line: str) -> None:
    assert strip_trailers(f"The story itself.\n\n{line}") == f"The story itself.\n\n{line}"


def test_site_rule_applies_to_its_site_only() -> None:
    line = "Also on rt.com Journalists threatened with arrest"
    assert strip_trailers(f"Story.\n\n{line}", host="www.rt.com") == "Story."
    assert strip_trailers(f"Story.\n\n{line}", host="example.com").endswith(line)


def test_operator_rules_file_extends_the_packaged_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "sites:\n"
        "  example.com:\n"
        "    drop_lines: ['^Download the Example app\\b']\n"
        "    prune_xpath: ['//div[@class=\"promo\"]']\n"
    )
    monkeypatch.setenv(siterules.ENV_VAR, str(rules))
    text = "Story.\n\nDownload the Example app for breaking news alerts"
    assert strip_trailers(text, host="www.example.com") == "Story."
    # The packaged generic rules still apply.
    assert strip_trailers("Story.\n\nAdvertisement", host="www.example.com") == "Story."
    story, _ = seed_story()
    page = article_page("Putin", story).replace(
        '<div class="story-body">',
        '<div class="story-body"><div class="promo"><p>'
        + "Our new podcast explains the week in world politics in twenty minutes flat. " * 3
        + "</p></div>",
    )
    assert "podcast" in extract_page(page, url="https://www.other.org/a").text
    assert "podcast" not in extract_page(page, url="https://www.example.com/a").text


def test_bad_operator_rules_file_names_the_problem(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("generic:\n  drop_lines: ['(unclosed']\n")
    with pytest.raises(ConfigError, match=r"rules.yaml: generic.drop_lines\[0\]"):
        siterules.load_file(rules)
    rules.write_text("sites:\n  example.com:\n    prune_xpath: ['//div[']\n")
    with pytest.raises(ConfigError, match=r"sites.example.com.prune_xpath\[0\]: bad XPath"):
        siterules.load_file(rules)
    rules.write_text("sites:\n  example.com:\n    drop_line: ['x']\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        siterules.load_file(rules)


def test_split_article_body_is_joined() -> None:
    """A story cut into several same-class body blocks between ad rails comes out whole."""
    sentence = "the story tells the reader something new and specific, at some length."
    parts = [f"Paragraph {i}: {sentence} " * 4 for i in range(15)]
    parts = [p.strip() for p in parts]
    chunks = "".join(
        '<div class="grid"><div class="grid-item body article__body">'
        + "".join(f"<p>{p}</p>" for p in parts[i : i + 5])
        + '</div><div class="grid-item rail"><div class="ad">Advertisement</div></div></div>'
        for i in range(0, 15, 5)
    )
    page = (
        "<html><body><nav><a href='/'>Home</a></nav><article class='article main-content'>"
        f"<div class='article__chunks'>{chunks}</div></article></body></html>"
    )
    assert extract_page(page, url="https://example.com/a").text.split("\n\n") == parts


def test_same_class_block_far_from_the_story_is_not_joined() -> None:
    parts = [
        f"Paragraph {i} of the story tells the reader something new and specific." for i in range(6)
    ]
    body = '<div class="text">' + "".join(f"<p>{p}</p>" for p in parts) + "</div>"
    comment = "A reader's comment about the story, long enough to pass for a paragraph."
    far = f'<div><div><div><div class="text"><p>{comment}</p></div></div></div></div>'
    page = (
        "<html><body><div><div><div><div><article>"
        f"{body}</article></div></div></div></div><section>{far}</section></body></html>"
    )
    text = extract_page(page, url="https://example.com/a").text
    assert text.split("\n\n") == parts


def test_inline_formatting_stays_inside_its_paragraph() -> None:
    story, _ = seed_story()
    quote = (
        "<blockquote>Kim called the ties <b>an unbreakable relationship</b> of "
        "<a href='/x'>comrades-in-arms</a>, state media said.</blockquote>"
    )
    page = article_page("Putin", story).replace("</p><p>", f"</p>{quote}<p>", 1)
    paragraphs = extract_page(page, url="https://example.com/a").text.split("\n\n")
    assert paragraphs[1] == (
        "Kim called the ties an unbreakable relationship of comrades-in-arms, state media said."
    )


def test_list_of_links_is_dropped_but_a_story_list_is_kept() -> None:
    story, _ = seed_story()
    links = "".join(f"<li><a href='/r/{i}'>Related headline number {i}</a></li>" for i in range(4))
    points = (
        "<ul><li>Russia wants shells</li>"
        "<li>North Korea wants <a href='/t'>technology</a></li></ul>"
    )
    page = article_page("Putin", story).replace("</p><p>", f"</p><ul>{links}</ul>{points}<p>", 1)
    paragraphs = extract_page(page, url="https://example.com/a").text.split("\n\n")
    assert not any("Related headline" in p for p in paragraphs)
    assert paragraphs[1:3] == ["Russia wants shells", "North Korea wants technology"]


def test_tables_and_lists_render_as_plain_paragraphs() -> None:
    story, _ = seed_story()
    table = (
        "<table><tr><th>Country</th><th>Shells fired in May</th></tr>"
        "<tr><td>North Korea</td><td>5000 shells, according to Seoul</td></tr>"
        "<tr><td>Russia</td><td>More than 10000 shells a day</td></tr></table>"
        "<ul><li>First point of the list here</li><li>Second point of the list</li></ul>"
    )
    page = article_page("Putin", story).replace("</p><p>", f"</p>{table}<p>", 1)
    paragraphs = extract_page(page, url="https://example.com/a").text.split("\n\n")
    assert paragraphs[1:6] == [
        "Country Shells fired in May",
        "North Korea 5000 shells, according to Seoul",
        "Russia More than 10000 shells a day",
        "First point of the list here",
        "Second point of the list",
    ]
    assert not any(p.startswith(("|", "- ")) for p in paragraphs)


def test_page_language_detected_from_text_over_declared() -> None:
    paragraphs = [
        "Le président russe se rendra en Corée du Nord mardi pour une visite amicale.",
        "La visite intervient alors que Moscou cherche des munitions pour son offensive.",
        "Les pays occidentaux accusent Pyongyang de fournir des armes à la Russie.",
    ]
    page = article_page("Poutine en Corée du Nord", paragraphs, lang="en")
    assert extract_page(page, url="https://example.fr/a").language == "fr"


def test_declared_language_used_when_text_too_short() -> None:
    assert detect_language("Kurz.", ("de-DE",)) == "de"
    assert detect_language("Kurz.", ("nonsense-tag",)) is None


def test_read_page_file_plain_and_gzip(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.html", tmp_path / "a.html.gz"
    plain.write_bytes(b"<p>hi</p>")
    packed.write_bytes(gzip.compress(b"<p>hi</p>"))
    assert read_page_file(plain) == read_page_file(packed) == b"<p>hi</p>"
    with pytest.raises(ValueError, match="larger than"):
        read_page_file(packed, limit=4)


def test_zyte_page_gold_overlap_is_high() -> None:
    """One real page of the benchmark: the extracted body is the gold body, near enough."""
    folder = shared_path("corpora", "articles", "zyte-dev")
    truth = json.loads((folder / "ground-truth.json").read_text())
    key = sorted(truth)[0]
    page = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
    text = extract_page(page, url=truth[key]["url"]).text
    gold = set(truth[key]["articleBody"].split())
    got = set(text.split())
    assert len(gold & got) / len(gold) > 0.9
    assert len(gold & got) / len(got) > 0.9


def test_strip_trailers_judges_each_line_of_plain_text():
    text = (
        "First paragraph of the story.\n"
        "Second paragraph of the story.\n"
        "(Except for the headline, this story has not been edited by NDTV staff and is "
        "published from a syndicated feed.)\n"
        "Track Latest News Live on NDTV.com and get news updates from India and around "
        "the world\n\n"
        "A later paragraph."
    )
    assert strip_trailers(text) == (
        "First paragraph of the story.\nSecond paragraph of the story.\n\nA later paragraph."
    )


def test_short_main_text_is_checked_against_the_slower_extractors() -> None:
    """A real page on which trafilatura's first pass keeps only a caption: the comparison
    with readability, run for short results only, gives back the story."""
    folder = shared_path("corpora", "articles", "zyte-dev")
    truth = json.loads((folder / "ground-truth.json").read_text())
    key = next(k for k in sorted(truth) if k.startswith("0ec95c7261"))
    page = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
    text = extract_page(page, url=truth[key]["url"]).text
    gold = set(truth[key]["articleBody"].split())
    assert len(gold & set(text.split())) / len(gold) > 0.9


def test_page_date_and_author_are_looked_for_only_when_wanted() -> None:
    story, _ = seed_story()
    page = (
        article_page("Putin To Visit North Korea", story)
        .replace('<meta property="article:published_time" content="2024-06-17T10:15:00+05:30">', "")
        .replace('<meta name="author" content="Agence France-Presse">', "")
    )
    found = extract_page(page, url=PAGE_URL)
    assert found.published_at is not None
    assert found.published_at.date() == datetime(2024, 6, 17).date()
    assert found.author is not None and "Agence France-Presse" in found.author
    skipped = extract_page(page, url=PAGE_URL, want_date=False, want_author=False)
    assert (skipped.published_at, skipped.author) == (None, None)
    assert skipped.text == found.text
