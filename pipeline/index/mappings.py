"""Index definitions: explicit, strict mappings that Elasticsearch 8/9 and OpenSearch accept."""

from __future__ import annotations

from typing import Any

ARTICLES_VERSION = 1
FEEDS_VERSION = 1

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_DATE = {"type": "date"}
_ENGLISH_TEXT_WITH_KEYWORD = {
    "type": "text",
    "analyzer": "english",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 512}},
}

ARTICLES_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "title": _ENGLISH_TEXT_WITH_KEYWORD,
        "body": {"type": "text", "analyzer": "english"},
        "url": _KEYWORD,
        "urls": _KEYWORD,
        "source": _KEYWORD,
        "sources": _KEYWORD,
        "feed_url": _KEYWORD,
        "guid": _KEYWORD,
        "language": _KEYWORD,
        "authors": _KEYWORD,
        "tags": _KEYWORD,
        "image": {"type": "keyword", "index": False},
        "published_at": _DATE,
        "date_missing": {"type": "boolean"},
        "first_seen": _DATE,
        "last_seen": _DATE,
        "body_hash": _KEYWORD,
        "copies_count": {"type": "integer"},
        "copies": {
            "properties": {
                "url": _KEYWORD,
                "source": _KEYWORD,
                "feed_url": _KEYWORD,
                "guid": _KEYWORD,
                "title": {"type": "text", "analyzer": "english"},
                "published_at": _DATE,
                "first_seen": _DATE,
                # Normalised word count and body hash: how the story picks its best copy.
                "words": {"type": "integer"},
                "body_hash": _KEYWORD,
                "date_missing": {"type": "boolean"},
                # The page's own rel=canonical when it differs from the feed's link.
                "page_url": _KEYWORD,
                # "feed" or "page", and why the page's text was not used (robots, fetch).
                "body_source": _KEYWORD,
                "text_note": _KEYWORD,
            }
        },
        "entities": {
            "properties": {
                "person": _KEYWORD,
                "organization": _KEYWORD,
                "location": _KEYWORD,
                "misc": _KEYWORD,
            }
        },
        "entity_mentions": {
            "properties": {
                "name": _KEYWORD,
                "type": _KEYWORD,
                "mentions": {"type": "integer"},
                "in_title": {"type": "boolean"},
            }
        },
        "enrichment_version": {"type": "keyword"},
        "enrichment_error": {"type": "keyword", "ignore_above": 2048},
    },
}

FEEDS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "url": _KEYWORD,
        "name": _KEYWORD,
        "tags": _KEYWORD,
        "enabled": {"type": "boolean"},
        "status": _KEYWORD,
        "etag": {"type": "keyword", "index": False},
        "last_modified": {"type": "keyword", "index": False},
        "body_hash": _KEYWORD,
        "last_polled": _DATE,
        "next_poll": _DATE,
        "failures": {"type": "integer"},
        "last_error": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
        },
        "entries_seen": {"type": "long"},
        "moved_to": _KEYWORD,
        "http_status": {"type": "integer"},
        "poll_interval": {"type": "integer"},
        "last_success": _DATE,
    },
}

DEDUP_KEYS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "story_id": _KEYWORD,
        "kind": _KEYWORD,
        # On a story's `sig:` document only: what a racing worker compares against.
        "signature": {"type": "binary"},
        # The bottom-k sketch of the shingle hashes; absent on signatures stored before it.
        "sketch": {"type": "binary"},
        "body_hash": {"type": "keyword", "index": False},
        "words": {"type": "integer", "index": False},
    },
}

# Documents a bulk write had refused by the mapping: kept with the engine's error, never
# silently dropped, so they can be fixed and replayed.
DEAD_LETTERS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "index": _KEYWORD,
        "doc_id": _KEYWORD,
        "url": _KEYWORD,
        "status": {"type": "integer"},
        "error_type": _KEYWORD,
        "error": {"type": "text"},
        # The refused document as JSON, stored only: it failed a mapping once already.
        "document": {"type": "text", "index": False},
        "failed_at": _DATE,
    },
}

# One replica as soon as a second node exists; a single node stays green.
INDEX_SETTINGS: dict[str, Any] = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}

FEED_HEALTH_VERSION = 1
FEED_HEALTH_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "url": _KEYWORD,
        "name": _KEYWORD,
        "tags": _KEYWORD,
        "checked_at": _DATE,
        "health": _KEYWORD,
        "flags": _KEYWORD,
        "status": _KEYWORD,
        "failures": {"type": "integer"},
        "last_error": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
        },
        "last_polled": _DATE,
        "failing_since": _DATE,
        "quiet_since": _DATE,
        "last_story_at": _DATE,
        "moved_to": _KEYWORD,
    },
}
