"""Templates, versioned indices and an alias swap, against the real engine."""

from __future__ import annotations

import pytest

from pipeline.index.store import Store, StoreError
from pipeline.index.templates import index_name
from pipeline.models import Article
from pipeline.stories.assign import index_new_stories
from tests.support.articles import make_article

pytestmark = pytest.mark.engine


def _article(n: int) -> Article:
    return make_article(
        f"https://news.example/{n}", f"Body of story {n}.", title=f"Story number {n}", language="en"
    )


def test_setup_puts_templates_that_a_new_version_picks_up(store: Store):
    templates = store.client.indices.get_index_template(name=f"{store.articles}-template")
    (template,) = templates["index_templates"]
    assert template["index_template"]["index_patterns"] == [f"{store.articles}-v*"]

    source, target = store.create_next_version(store.articles)
    assert (source, target) == (index_name(store.articles, 1), index_name(store.articles, 2))
    mapping = store.client.indices.get_mapping(index=target)[target]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["title"]["analyzer"] == "english"
    # A new version is not behind the alias until it is swapped in.
    assert store.alias_indices(store.articles) == [source]
    # A retried build resumes the unfinished version instead of starting a third one.
    assert store.create_next_version(store.articles) == (source, target)
    assert store.setup() == []


def test_reindex_copies_swaps_atomically_and_keeps_the_old_version(store: Store):
    index_new_stories(store, [_article(n) for n in range(5)])
    source, target = store.create_next_version(store.articles)

    first = store.copy_index(source, target)
    assert first.complete and first.created == 5 and first.target_count == 5

    # Written to the old version after the copy, before the swap: the catch-up pass takes it.
    index_new_stories(store, [_article(5)])
    store.swap_alias(store.articles, source, target)
    assert store.alias_indices(store.articles) == [target]
    assert store.write_index(store.articles) == target
    index_new_stories(store, [_article(6)])  # goes to the new version through the alias

    catch_up = store.copy_index(source, target)
    assert catch_up.complete and catch_up.created == 1 and catch_up.updated == 0
    store.refresh()
    assert store.count_stories() == 7
    assert store.search("number")[0].title.startswith("Story number")
    assert store.versions(store.articles) == [source, target]

    with pytest.raises(StoreError, match="still behind"):
        store.drop_version(store.articles, target)
    store.drop_version(store.articles, source)
    assert store.versions(store.articles) == [target]
    assert store.setup() == []  # the alias exists, so no v1 is created again


def test_setup_refuses_a_mapping_the_index_cannot_take(store: Store):
    alias = store.feeds
    version, mapping = store._definitions[alias]
    changed = {**mapping, "properties": {**mapping["properties"], "failures": {"type": "text"}}}
    store._definitions[alias] = (version, changed)
    with pytest.raises(StoreError, match="wirefeed reindex"):
        store.setup()
