"""Every index wirefeed keeps, with its version and mapping."""

from __future__ import annotations

from pipeline.index.mappings import (
    ARTICLES_MAPPING,
    ARTICLES_VERSION,
    DEAD_LETTERS_MAPPING,
    DEDUP_KEYS_MAPPING,
    FEED_HEALTH_MAPPING,
    FEED_HEALTH_VERSION,
    FEEDS_MAPPING,
    FEEDS_VERSION,
)
from pipeline.index.templates import IndexDefinition


def index_definitions(prefix: str = "") -> list[IndexDefinition]:
    """Every index wirefeed keeps, each behind its alias: what `setup` creates, and all that
    the writer role (pipeline.index.security) grants access to."""
    return [
        IndexDefinition(f"{prefix}articles", ARTICLES_VERSION, ARTICLES_MAPPING),
        IndexDefinition(f"{prefix}feeds", FEEDS_VERSION, FEEDS_MAPPING),
        IndexDefinition(f"{prefix}dedup-keys", 1, DEDUP_KEYS_MAPPING),
        IndexDefinition(f"{prefix}feed-health", FEED_HEALTH_VERSION, FEED_HEALTH_MAPPING),
        IndexDefinition(f"{prefix}dead-letters", 1, DEAD_LETTERS_MAPPING),
    ]
