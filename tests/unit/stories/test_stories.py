"""Story documents from copies: best copy, times, outlets, idempotent merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.models import Article, Entities, EntityMention
from pipeline.stories.dedup import fingerprint
from pipeline.stories.documents import merge_copies, new_story
from tests.support.articles import make_article

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = " ".join(f"word{i}" for i in range(60))
LONGER = BODY + " " + " ".join(f"extra{i}" for i in range(20))


def _article(outlet: str, n: int = 1, body: str = BODY, minutes: int = 0, **kw) -> Article:
    return make_article(
        f"https://{outlet}/story/{n}",
        body,
        published_at=T0 + timedelta(minutes=minutes),
        fetched_at=T0 + timedelta(minutes=minutes + 1),
        **kw,
    )


def _pair(article: Article) -> tuple[Article, object]:
    return article, fingerprint(article.body)


def test_the_longest_copy_gives_the_text_the_earliest_gives_the_time():
    early_short = _article("wire.example", minutes=0)
    late_long = _article("paper.example", body=LONGER, minutes=30)
    story = new_story([_pair(early_short), _pair(late_long)])
    assert story["title"] == "Headline at paper.example"
    assert story["body"] == LONGER
    assert story["url"] == late_long.url
    assert story["published_at"] == early_short.published_at.isoformat()
    assert story["first_seen"] == early_short.fetched_at.isoformat()
    assert story["last_seen"] == late_long.fetched_at.isoformat()
    assert story["copies_count"] == 2
    assert story["urls"] == sorted([early_short.url, late_long.url])


def test_the_story_does_not_depend_on_the_order_copies_arrive_in():
    copies = [_pair(_article(o, minutes=m)) for o, m in [("a.example", 5), ("b.example", 1)]]
    assert new_story(copies) == new_story(list(reversed(copies)))
    one_by_one = merge_copies(new_story(copies[1:]), copies[:1])
    assert one_by_one == new_story(copies)


def test_sources_list_each_outlet_once():
    story = new_story(
        [
            _pair(_article("a.example", 1)),
            _pair(_article("a.example", 2)),
            _pair(_article("b.example")),
        ]
    )
    assert story["copies_count"] == 3
    assert story["sources"] == ["a.example", "b.example"]


def test_a_copy_already_present_changes_nothing():
    first = _pair(_article("a.example"))
    story = new_story([first])
    assert merge_copies(story, [first]) is None


def test_a_shorter_new_copy_keeps_the_story_text():
    story = new_story([_pair(_article("a.example", body=LONGER))])
    merged = merge_copies(story, [_pair(_article("b.example", minutes=-10))])
    assert merged["body"] == LONGER and merged["title"] == "Headline at a.example"
    assert merged["published_at"] == (T0 - timedelta(minutes=10)).isoformat()
    assert merged["sources"] == ["a.example", "b.example"]


def test_an_undated_copy_does_not_set_the_story_time():
    dated = _article("a.example", minutes=30)
    undated = _article("b.example", minutes=0, date_missing=True)
    story = new_story([_pair(dated), _pair(undated)])
    assert story["published_at"] == dated.published_at.isoformat()
    assert story["date_missing"] is False


def test_entities_come_from_the_story_never_from_a_later_copy():
    founder = _article(
        "a.example", entities=Entities("v1", (EntityMention("Paris", "location", 2),))
    )
    story = new_story([_pair(founder)])
    assert story["entities"]["location"] == ["Paris"]
    other = _article("b.example", body=LONGER, entities=Entities("v1", ()))
    merged = merge_copies(story, [_pair(other)])
    assert merged["entities"]["location"] == ["Paris"]
    assert merged["body"] == LONGER
    bare = new_story([_pair(_article("c.example"))])
    assert "entities" not in bare
    assert merge_copies(bare, [_pair(founder)])["entity_mentions"][0]["name"] == "Paris"
