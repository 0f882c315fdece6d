"""`wirefeed reindex` as a user runs it, against the real engine."""

from __future__ import annotations

import pytest

from pipeline.stories.assign import index_new_stories
from tests.integration.index.test_reindex import _article
from tests.support.cli import wirefeed
from tests.support.engine import engine_env

pytestmark = pytest.mark.engine


def test_reindex_command_moves_the_alias_and_keeps_or_deletes_the_old_version(
    store, engine_settings
):
    index_new_stories(store, [_article(n) for n in range(3)])
    env = engine_env(engine_settings)
    kept = wirefeed("reindex", "articles", env=env)
    assert kept.returncode == 0, kept.stderr
    assert f"{store.articles}-v1 kept" in kept.stdout
    assert store.alias_indices(store.articles) == [f"{store.articles}-v2"]

    deleted = wirefeed("reindex", "articles", "--delete-old", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert store.versions(store.articles) == [f"{store.articles}-v1", f"{store.articles}-v3"]
    store.refresh()
    assert store.count_stories() == 3

    refused = wirefeed("reindex", "everything", env=env)
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
