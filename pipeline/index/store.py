"""The only part of wirefeed that talks to the search engine, one repository per index.

`Store` is the facade the pipeline, the CLI and the Airflow tasks hold: it is every
repository at once over one client and one index prefix, so a call site needs one object.
Each repository is also usable alone (`FeedStateIndex(client, prefix)`); none of them
decides what a story is: the stories stage hands them documents.
"""

from __future__ import annotations

from pipeline.config import EngineSettings
from pipeline.index.client import make_client
from pipeline.index.dedup_keys import DedupKeyIndex
from pipeline.index.feed_health import FeedHealthIndex
from pipeline.index.feed_state import FeedStateIndex
from pipeline.index.indices import StoreError
from pipeline.index.search import SearchIndex
from pipeline.index.stories import StoredStory, StoryIndex, StoryWrite
from pipeline.index.versions import IndexVersions

__all__ = ["Store", "StoreError", "StoredStory", "StoryWrite", "make_client"]


class Store(IndexVersions, StoryIndex, DedupKeyIndex, FeedStateIndex, FeedHealthIndex, SearchIndex):
    """Indices live behind aliases (`articles`, `feeds`) over versioned indices."""

    @classmethod
    def from_settings(cls, engine: EngineSettings) -> Store:
        return cls(make_client(engine), engine.index_prefix)
