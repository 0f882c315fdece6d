"""The only module that talks to the search engine."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers
from elasticsearch.exceptions import SerializationError
from elasticsearch.serializer import JsonSerializer, OrjsonSerializer

from pipeline.config import EngineSettings
from pipeline.dedup import Fingerprint, decode_values, encode_values, fingerprint, story_id_for
from pipeline.feeds.health import FEED_HEALTH_MAPPING, FEED_HEALTH_VERSION, FeedHealth
from pipeline.ids import doc_id
from pipeline.mappings import (
    ARTICLES_MAPPING,
    ARTICLES_VERSION,
    DEAD_LETTERS_MAPPING,
    DEDUP_KEYS_MAPPING,
    FEEDS_MAPPING,
    FEEDS_VERSION,
)
from pipeline.models import Article, Entities, FeedState, SearchHit, StoryText
from pipeline.stories import entity_fields, new_story
from pipeline.templates import (
    CopyResult,
    IndexDefinition,
    index_name,
    template_set,
    version_of,
)

log = logging.getLogger(__name__)

# A bulk answered 429 (engine busy) is retried this often, waiting 0.5 s, 1 s, 2 s, ...
BULK_RETRIES = 5
BULK_BACKOFF = 0.5
# A bulk request is cut at this size, whatever its count of documents: stories with many
# copies or long reads stay far below the engine's request limit (100 MB by default).
BULK_MAX_BYTES = 10 * 1024 * 1024
_MAX_ERROR = 2000
_MAX_DEAD_LETTER = 1_000_000


class FastJsonSerializer(OrjsonSerializer):
    """orjson: a cycle's bulk bodies and mget answers are tens of thousands of documents,
    which the standard library's json takes several times longer over. What orjson refuses
    (a lone surrogate from a broken page, sent or stored) goes through the standard
    serializer, as before: the engine then judges that document alone."""

    def dumps(self, data: Any) -> bytes:
        try:
            return super().dumps(data)
        except SerializationError:
            return JsonSerializer().dumps(data)

    def loads(self, data: bytes) -> Any:
        try:
            return super().loads(data)
        except SerializationError:
            return JsonSerializer().loads(data)


def make_client(engine: EngineSettings) -> Elasticsearch:
    kwargs: dict[str, Any] = {
        "request_timeout": 60,
        "retry_on_timeout": True,
        "max_retries": 3,
        "serializer": FastJsonSerializer(),
    }
    if engine.api_key:
        kwargs["api_key"] = engine.api_key
    elif engine.username:
        kwargs["basic_auth"] = (engine.username, engine.password or "")
    if engine.ca_certs:
        kwargs["ca_certs"] = engine.ca_certs
    if not engine.verify_certs:
        kwargs["verify_certs"] = False
    return Elasticsearch(engine.urls, **kwargs)


def signature_source(story_id: str, fp: Fingerprint) -> dict[str, Any]:
    """A story's `sig:` document: what a racing worker compares a candidate against."""
    return {
        "story_id": story_id,
        "kind": "signature",
        "signature": encode_values(fp.signature),
        "sketch": encode_values(fp.sketch),
        "body_hash": fp.body_hash,
        "words": fp.words,
    }


def fingerprint_from_source(source: dict[str, Any]) -> Fingerprint:
    """The fingerprint a `sig:` document holds; one stored before sketches has none."""
    return Fingerprint(
        words=int(source.get("words") or 0),
        body_hash=source.get("body_hash"),
        signature=decode_values(source.get("signature")),
        sketch=decode_values(source.get("sketch")),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclasses.dataclass(frozen=True, slots=True)
class StoredStory:
    """A story document as read, with what an optimistic-concurrency write needs."""

    id: str
    source: dict[str, Any]
    seq_no: int
    primary_term: int


@dataclasses.dataclass(frozen=True, slots=True)
class StoryWrite:
    """Create `source` as story `id` (base None), or replace the version `base` read."""

    id: str
    source: dict[str, Any]
    base: StoredStory | None = None


def index_definitions(prefix: str = "") -> list[IndexDefinition]:
    """Every index wirefeed keeps, each behind its alias: what `setup` creates, and all that
    the writer role (pipeline.security) grants access to."""
    return [
        IndexDefinition(f"{prefix}articles", ARTICLES_VERSION, ARTICLES_MAPPING),
        IndexDefinition(f"{prefix}feeds", FEEDS_VERSION, FEEDS_MAPPING),
        IndexDefinition(f"{prefix}dedup-keys", 1, DEDUP_KEYS_MAPPING),
        IndexDefinition(f"{prefix}feed-health", FEED_HEALTH_VERSION, FEED_HEALTH_MAPPING),
        IndexDefinition(f"{prefix}dead-letters", 1, DEAD_LETTERS_MAPPING),
    ]


class Store:
    """Indices live behind aliases (`articles`, `feeds`) over versioned indices."""

    def __init__(self, client: Elasticsearch, prefix: str = "") -> None:
        self.client = client
        self.articles = f"{prefix}articles"
        self.feeds = f"{prefix}feeds"
        self.dedup_keys = f"{prefix}dedup-keys"
        self.feed_health = f"{prefix}feed-health"
        self.dead_letters = f"{prefix}dead-letters"
        self._prefix = prefix
        self._definitions = {d.alias: (d.version, d.mapping) for d in index_definitions(prefix)}

    @classmethod
    def from_settings(cls, engine: EngineSettings) -> Store:
        return cls(make_client(engine), engine.index_prefix)

    # -- setup ---------------------------------------------------------------------------

    def index_definitions(self) -> list[IndexDefinition]:
        return [IndexDefinition(a, v, m) for a, (v, m) in self._definitions.items()]

    def put_templates(self) -> None:
        """Component and index templates for every versioned index; PUT replaces them."""
        templates = template_set(self._prefix, self.index_definitions())
        for name, body in templates.components.items():
            self.client.cluster.put_component_template(name=name, **body)
        for name, body in templates.index_templates.items():
            self.client.indices.put_index_template(name=name, **body)

    def drop_templates(self) -> None:
        """Remove this store's templates (a throwaway prefix's, in tests); indices stay."""
        templates = template_set(self._prefix, self.index_definitions())
        for name in templates.index_templates:
            self.client.options(ignore_status=404).indices.delete_index_template(name=name)
        for name in templates.components:
            self.client.options(ignore_status=404).cluster.delete_component_template(name=name)

    def setup(self) -> list[str]:
        """Templates, then missing indices and aliases, then new mapping fields on the
        indices behind each alias; safe to repeat."""
        self.put_templates()
        actions = []
        for definition in self.index_definitions():
            alias = definition.alias
            current = self.alias_indices(alias)
            if not current:
                index = index_name(alias, definition.version)
                if self.client.indices.exists(index=index):
                    self.client.indices.put_alias(index=index, name=alias, is_write_index=True)
                    actions.append(f"aliased {alias} -> {index}")
                else:
                    # Settings and mapping come from the index template.
                    self.client.indices.create(
                        index=index, aliases={alias: {"is_write_index": True}}
                    )
                    actions.append(f"created {index}")
                current = [index]
            try:
                self.client.indices.put_mapping(index=current, **definition.mapping)
            except BadRequestError as exc:
                raise StoreError(
                    f"{alias}: the index mapping cannot take the new definition "
                    f"({exc.message}); build a new version with `wirefeed reindex`"
                ) from None
        return actions

    # -- index versions: aliases, reindex ------------------------------------------------

    def alias_indices(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    def write_index(self, alias: str) -> str:
        """The index behind `alias` that takes writes."""
        response = self.client.indices.get_alias(name=alias)
        indices = sorted(response)
        for index in indices:
            if response[index]["aliases"][alias].get("is_write_index"):
                return index
        if len(indices) == 1:
            return indices[0]
        raise StoreError(f"{alias}: no write index among {', '.join(indices)}")

    def versions(self, alias: str) -> list[str]:
        """Every version index of `alias`, oldest first."""
        names = self.client.indices.get(index=f"{alias}-v*", expand_wildcards="open")
        found = [(version_of(alias, n), n) for n in names]
        return [n for v, n in sorted(f for f in found if f[0] is not None)]

    def create_next_version(self, alias: str) -> tuple[str, str]:
        """A new version index after the newest one (settings and mapping from the
        template); returns (current write index, new index).

        A newer version that the alias does not point at yet is an unfinished reindex: it is
        returned again, so a retried copy resumes instead of starting a third version.
        """
        self.put_templates()
        source = self.write_index(alias)
        newest = self.versions(alias)[-1]
        if newest != source and (version_of(alias, newest) or 0) > (version_of(alias, source) or 0):
            return source, newest
        target = index_name(alias, (version_of(alias, newest) or 0) + 1)
        self.client.indices.create(index=target)
        return source, target

    def copy_index(self, source: str, target: str) -> CopyResult:
        """Copy every document of `source` into `target`: a scroll over `source`, written
        to `target` in bulk, each document with its version as an external version.

        Done by the client, not the server's reindex API, so that one path runs on every
        engine (the test distribution has no reindex module) and that path is what the
        tests exercise. External versioning makes a pass repeatable: a second pass adds
        documents written to `source` since the first and updates those changed there, but
        never overwrites a newer version that was written to `target` directly (409, kept).
        """
        self.client.indices.refresh(index=source)
        source_count = int(self.client.count(index=source)["count"])
        actions = (
            {
                "_op_type": "index",
                "_index": target,
                "_id": hit["_id"],
                "version": hit["_version"],
                "version_type": "external",
                "_source": hit["_source"],
            }
            for hit in helpers.scan(
                self.client, index=source, query={"sort": ["_doc"]}, version=True, size=1000
            )
        )
        created = updated = 0
        failures = []
        for ok, item in self._streaming_bulk(actions):
            info = item["index"]
            if ok:
                created += info.get("result") == "created"
                updated += info.get("result") == "updated"
            elif info.get("status") != 409:
                failures.append(f"{info.get('_id')}: {info.get('error')}")
        self.client.indices.refresh(index=target)
        return CopyResult(
            source=source,
            target=target,
            source_count=source_count,
            target_count=int(self.client.count(index=target)["count"]),
            created=created,
            updated=updated,
            failures=failures,
        )

    def swap_alias(self, alias: str, source: str, target: str) -> None:
        """Move `alias` (and its writes) from `source` to `target` in one atomic request."""
        self.client.indices.update_aliases(
            actions=[
                {"remove": {"index": source, "alias": alias}},
                {"add": {"index": target, "alias": alias, "is_write_index": True}},
            ]
        )

    def drop_version(self, alias: str, index: str) -> None:
        """Delete an old version; refuses the index the alias still points at."""
        if version_of(alias, index) is None:
            raise StoreError(f"{index} is not a version of {alias}")
        if index in self.alias_indices(alias):
            raise StoreError(f"{index} is still behind {alias}; swap the alias first")
        self.client.indices.delete(index=index)

    def refresh(self) -> None:
        self.client.indices.refresh(index=[self.articles, self.feeds, self.dedup_keys])

    # -- stories -------------------------------------------------------------------------

    def index_new_stories(self, articles: Sequence[Article]) -> set[str]:
        """One single-copy story per article, without dedup (bulk loads, tests); returns the
        URLs that made one. op_type=create makes a re-run a no-op instead of an overwrite."""
        writes = [
            StoryWrite(story_id_for(a.url), new_story([(a, fingerprint(a.body))])) for a in articles
        ]
        conflicts = self.write_stories(writes)
        return {a.url for a, w in zip(articles, writes, strict=True) if w.id not in conflicts}

    # -- dedup keys: documents whose _id is the key --------------------------------------

    def claimed(self, keys: Iterable[str]) -> dict[str, str]:
        """Key -> story id for every key already claimed. A get by id is real-time: a claim
        made a moment ago by another worker counts, refresh or not."""
        ids = sorted(set(keys))
        if not ids:
            return {}
        response = self.client.mget(
            index=self.dedup_keys, ids=ids, realtime=True, source_includes=["story_id"]
        )
        return {d["_id"]: d["_source"]["story_id"] for d in response["docs"] if d.get("found")}

    def claim(self, claims: Sequence[tuple[str, str, str]]) -> set[str]:
        """Create (key, story id, kind) claims; returns the keys this call won.

        op_type=create is atomic: of two workers claiming one key, exactly one wins."""
        actions = [
            {
                "_op_type": "create",
                "_index": self.dedup_keys,
                "_id": key,
                "_source": {"story_id": story_id, "kind": kind},
            }
            for key, story_id, kind in claims
        ]
        return self._bulk(actions, tolerate_conflicts=True)[0]

    def repoint(self, claims: Sequence[tuple[str, str, str]]) -> None:
        """Point keys this worker had claimed at another story (a lost race)."""
        actions = [
            {
                "_op_type": "index",
                "_index": self.dedup_keys,
                "_id": key,
                "_source": {"story_id": story_id, "kind": kind},
            }
            for key, story_id, kind in claims
        ]
        self._bulk(actions, tolerate_conflicts=False)

    def save_signatures(self, signatures: dict[str, Fingerprint]) -> None:
        """Each new story's fingerprint, written before its band keys are claimed, so anyone
        who finds a claim can read what to compare against."""
        actions = [
            {
                "_op_type": "index",
                "_index": self.dedup_keys,
                "_id": f"sig:{story_id}",
                "_source": signature_source(story_id, fp),
            }
            for story_id, fp in signatures.items()
        ]
        self._bulk(actions, tolerate_conflicts=False)

    def signatures(self, story_ids: Iterable[str]) -> dict[str, Fingerprint]:
        ids = sorted({f"sig:{s}" for s in story_ids})
        if not ids:
            return {}
        response = self.client.mget(index=self.dedup_keys, ids=ids, realtime=True)
        return {
            d["_source"]["story_id"]: fingerprint_from_source(d["_source"])
            for d in response["docs"]
            if d.get("found")
        }

    # -- stories -------------------------------------------------------------------------

    def stories(self, story_ids: Iterable[str]) -> dict[str, StoredStory]:
        """Real-time read of stories by id, with their sequence numbers."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        response = self.client.mget(index=self.articles, ids=ids, realtime=True)
        return {
            d["_id"]: StoredStory(d["_id"], d["_source"], d["_seq_no"], d["_primary_term"])
            for d in response["docs"]
            if d.get("found")
        }

    def write_stories(self, writes: Sequence[StoryWrite]) -> set[str]:
        """Create new stories and replace read ones only if unchanged since the read
        (if_seq_no/if_primary_term); returns the ids that conflicted, to read and retry."""
        actions = []
        for write in writes:
            action: dict[str, Any] = {"_index": self.articles, "_id": write.id}
            if write.base is None:
                action["_op_type"] = "create"
            else:
                action["_op_type"] = "index"
                action["if_seq_no"] = write.base.seq_no
                action["if_primary_term"] = write.base.primary_term
            action["_source"] = write.source
            actions.append(action)
        return self._bulk(actions, tolerate_conflicts=True)[1]

    def story_by_url(self, url: str) -> StoredStory | None:
        """The story that holds a copy with this URL (`urls` lists every copy's URL)."""
        response = self.client.search(
            index=self.articles,
            size=1,
            query={"term": {"urls": url}},
            seq_no_primary_term=True,
        )
        hits = response["hits"]["hits"]
        if not hits:
            return None
        hit = hits[0]
        return StoredStory(hit["_id"], hit["_source"], hit["_seq_no"], hit["_primary_term"])

    # -- enrichment ----------------------------------------------------------------------

    def stories_to_enrich(
        self, outdated_from: str | None = None, page_size: int = 200
    ) -> Iterator[StoryText]:
        """Every story, or (given a version) those enriched under any other version or never;
        read page by page through a scroll, never the whole index in memory."""
        query: dict[str, Any] = {"match_all": {}}
        if outdated_from is not None:
            query = {"bool": {"must_not": [{"term": {"enrichment_version": outdated_from}}]}}
        body = {"query": query, "sort": ["_doc"], "_source": ["title", "body", "language"]}
        # A story indexed a moment ago is a story to enrich too.
        self.client.indices.refresh(index=self.articles)
        for hit in helpers.scan(self.client, index=self.articles, query=body, size=page_size):
            src = hit["_source"]
            yield StoryText(
                hit["_id"], src.get("title") or "", src.get("body") or "", src.get("language")
            )

    def update_entities(
        self,
        updates: Sequence[tuple[str, Entities]],
        languages: Mapping[str, str | None] | None = None,
    ) -> int:
        """Replace stories' entities (and, for the ids in `languages`, their language) in
        place. A partial update: text and copies stay as they are, even when a copy was added
        since the story was read. Returns how many."""
        languages = languages or {}
        actions = [
            {
                "_op_type": "update",
                "_index": self.articles,
                "_id": story_id,
                "doc": {
                    **entity_fields(entities),
                    **({"language": languages[story_id]} if story_id in languages else {}),
                },
                "retry_on_conflict": 3,
            }
            for story_id, entities in updates
        ]
        return len(self._bulk(actions, tolerate_conflicts=False)[0])

    def _bulk(
        self, actions: list[dict[str, Any]], *, tolerate_conflicts: bool
    ) -> tuple[set[str], set[str]]:
        """Run a bulk request; returns (ids written, ids refused with 409 Conflict)."""
        written: set[str] = set()
        conflicts: set[str] = set()
        rejected: list[tuple[dict[str, Any], dict[str, Any]]] = []
        errors = []
        by_id = {a["_id"]: a for a in actions}
        for ok, item in self._streaming_bulk(actions):
            info = next(iter(item.values()))
            if ok:
                written.add(info["_id"])
            elif info.get("status") == 409 and tolerate_conflicts:
                conflicts.add(info["_id"])
            elif info.get("status") == 400 and info.get("_id") in by_id:
                # The document itself is wrong: a retry cannot help, so it is kept aside.
                rejected.append((by_id[info["_id"]], info))
            else:
                errors.append(info)
        if rejected:
            self._dead_letter(rejected)
        if errors:
            raise StoreError(f"{len(errors)} documents rejected: {errors[0].get('error')}")
        return written, conflicts

    def _streaming_bulk(
        self, actions: Iterable[dict[str, Any]]
    ) -> Iterator[tuple[bool, dict[str, Any]]]:
        """(ok, item) per action, in requests of at most 1,000 actions and BULK_MAX_BYTES.
        Only 429 (engine busy) is retried, by the helper with exponential backoff; the
        transport's own immediate status retries would skip the backoff."""
        return helpers.streaming_bulk(
            self.client.options(retry_on_status=()),
            actions,
            raise_on_error=False,
            max_retries=BULK_RETRIES,
            initial_backoff=BULK_BACKOFF,
            chunk_size=1000,
            max_chunk_bytes=BULK_MAX_BYTES,
        )

    def _dead_letter(self, rejected: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Record documents the mapping refused, with the engine's error, in `dead-letters`;
        the id is derived from index and document id, so a repeat replaces, never doubles."""
        now = datetime.now(UTC).isoformat()
        letters = []
        for action, info in rejected:
            source = action.get("_source") or action.get("doc") or {}
            error = info.get("error") or {}
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            caused = error.get("caused_by", {}) if isinstance(error, dict) else {}
            letters.append(
                {
                    "_op_type": "index",
                    "_index": self.dead_letters,
                    "_id": doc_id("dead-letter", action["_index"], action["_id"]),
                    "_source": {
                        "index": action["_index"],
                        "doc_id": action["_id"],
                        "url": source.get("url") if isinstance(source, dict) else None,
                        "status": info.get("status"),
                        "error_type": error.get("type") if isinstance(error, dict) else None,
                        "error": ": ".join(filter(None, [reason, caused.get("reason")]))[
                            :_MAX_ERROR
                        ],
                        "document": json.dumps(source, default=str)[:_MAX_DEAD_LETTER],
                        "failed_at": now,
                    },
                }
            )
        helpers.bulk(self.client, letters, max_retries=BULK_RETRIES)
        first = letters[0]["_source"]
        log.error(
            "%d documents rejected by the mapping went to %s; first: %s %s: %s",
            len(letters),
            self.dead_letters,
            first["index"],
            first["url"] or first["doc_id"],
            first["error"],
        )

    def search(self, query: str, size: int = 10) -> list[SearchHit]:
        response = self.client.search(
            index=self.articles,
            size=size,
            query={
                "multi_match": {
                    "query": query,
                    "fields": ["title^3", "body", "copies.title"],
                    "type": "best_fields",
                }
            },
            highlight={"fields": {"title": {}, "body": {"fragment_size": 160}}},
            source_includes=["title", "url", "source", "published_at"],
        )
        hits = []
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            fragments = [f for frags in hit.get("highlight", {}).values() for f in frags]
            hits.append(
                SearchHit(
                    id=hit["_id"],
                    title=src.get("title", ""),
                    url=src.get("url", ""),
                    source=src.get("source", ""),
                    published_at=src.get("published_at"),
                    score=float(hit["_score"] or 0.0),
                    highlight=fragments,
                )
            )
        return hits

    def count_stories(self) -> int:
        return int(self.client.count(index=self.articles)["count"])

    # -- feed state ----------------------------------------------------------------------

    def feed_states(self, urls: Iterable[str]) -> dict[str, FeedState]:
        ids = {doc_id("feed", url): url for url in urls}
        if not ids:
            return {}
        try:
            response = self.client.mget(index=self.feeds, ids=list(ids))
        except NotFoundError:
            return {}
        states = {}
        for doc in response["docs"]:
            if doc.get("found"):
                states[ids[doc["_id"]]] = _feed_state_from_source(doc["_source"])
        return states

    def save_feed_states(self, states: Iterable[FeedState]) -> None:
        actions = [
            {
                "_op_type": "index",
                "_index": self.feeds,
                "_id": doc_id("feed", state.url),
                "_source": _feed_state_source(state),
            }
            for state in states
        ]
        if actions:
            helpers.bulk(self.client, actions, max_retries=3)

    def all_feed_states(self) -> list[FeedState]:
        """Every feed's state as last saved. A scan sees only what a refresh has made
        searchable, and callers write these states back (sync_feeds): a state saved a
        moment before must not read as missing, so the small feeds index is refreshed
        first. Reads by URL (`feed_states`) are real-time gets and need no refresh."""
        self.client.indices.refresh(index=self.feeds)
        return [
            _feed_state_from_source(hit["_source"])
            for hit in helpers.scan(self.client, index=self.feeds, query={"sort": ["_doc"]})
        ]

    # -- feed health ---------------------------------------------------------------------

    def save_feed_health(self, verdicts: Iterable[FeedHealth]) -> int:
        """One document per feed per day: a re-run on the same day replaces it."""
        actions = [
            {
                "_op_type": "index",
                "_index": self.feed_health,
                "_id": doc_id("feed-health", v.url, v.checked_at.date().isoformat()),
                "_source": _dated_source(v),
            }
            for v in verdicts
        ]
        ok, _ = helpers.bulk(self.client, actions, max_retries=3) if actions else (0, [])
        return ok

    def latest_feed_health(self, before: datetime) -> dict[str, FeedHealth]:
        """Each feed's newest verdict from before `before`."""
        response = self.client.search(
            index=self.feed_health,
            size=10_000,
            query={"range": {"checked_at": {"lt": before.isoformat()}}},
            collapse={"field": "url"},
            sort=[{"checked_at": "desc"}],
        )
        verdicts = (_dated_record(FeedHealth, h["_source"]) for h in response["hits"]["hits"])
        return {v.url: v for v in verdicts}

    def last_story_times(self, feed_urls: Sequence[str]) -> dict[str, datetime]:
        """The newest `last_seen` of a story carrying a copy from each feed.

        `copies` is an object array, so a story counts for every feed among its copies.
        """
        urls = list(feed_urls)
        if not urls:
            return {}
        newest = {"newest": {"max": {"field": "last_seen"}}}
        aggs = {
            key: {"terms": {"field": key, "include": urls, "size": len(urls)}, "aggs": newest}
            for key in ("feed_url", "copies.feed_url")
        }
        response = self.client.search(index=self.articles, size=0, aggs=aggs)
        times: dict[str, datetime] = {}
        for key in aggs:
            for bucket in response["aggregations"][key]["buckets"]:
                value = bucket["newest"].get("value_as_string")
                if value:
                    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
                    times[bucket["key"]] = max(when, times.get(bucket["key"], when))
        return times


def _dated_source(record: Any) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in dataclasses.asdict(record).items()
    }


def _dated_record(cls: Any, source: dict[str, Any]) -> Any:
    """A dataclass from a stored document: unknown keys dropped, date fields parsed."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in source:
            value = source[f.name]
            if isinstance(value, str) and "datetime" in str(f.type):
                value = datetime.fromisoformat(value)
            values[f.name] = value
    return cls(**values)


class StoreError(RuntimeError):
    """The engine refused a write that the pipeline cannot simply retry."""


_DATE_FIELDS = ("last_polled", "next_poll", "last_success")


def _feed_state_source(state: FeedState) -> dict[str, Any]:
    source = dataclasses.asdict(state)
    for name in _DATE_FIELDS:
        source[name] = _iso(source[name])
    return source


def _feed_state_from_source(source: dict[str, Any]) -> FeedState:
    known = {f.name for f in dataclasses.fields(FeedState)}
    values = {k: v for k, v in source.items() if k in known}
    for name in _DATE_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    return FeedState(**values)
