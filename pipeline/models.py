"""Records that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FullText = Literal["auto", "always", "never"]
# The status of a feed whose last body was malformed but readable (parse.ParsedFeed.degraded):
# its entries were kept and it is scheduled as a success, its reason is in `last_error`.
DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One feed as the operator registered it."""

    url: str
    name: str | None = None
    tags: tuple[str, ...] = ()
    interval: int | None = None  # seconds; overrides the adaptive schedule
    full_text: FullText = "auto"
    enabled: bool = True


@dataclass(slots=True)
class FeedEntry:
    """One entry of a parsed feed, before any article text work."""

    feed_url: str
    guid: str
    link: str | None
    title: str
    summary_html: str
    content_html: str
    published_at: datetime
    date_missing: bool = False
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    language: str | None = None  # as the feed declares it for the entry or for itself


@dataclass(slots=True)
class Article:
    """One copy of a story as one outlet published it, ready to index."""

    url: str
    source: str
    feed_url: str
    guid: str
    title: str
    body: str
    published_at: datetime
    fetched_at: datetime
    language: str | None = None  # decided from the text and what feed and page declare
    date_missing: bool = False
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    entities: Entities | None = None  # set by enrichment for new stories
    # Where `body` came from: "feed" (the entry's own HTML) or "page" (the fetched article).
    body_source: str = "feed"
    # Why the article page's text was not used or may be incomplete (robots, fetch, extract).
    text_note: str | None = None
    # The page's own rel=canonical (same site) where it differs from `url`; `url` stays the
    # copy's identity, the one exact dedup already claimed.
    page_url: str | None = None
    feed_language: str | None = None  # the language the feed declares for the entry


EntityType = Literal["person", "organization", "location", "misc"]
ENTITY_TYPES: tuple[EntityType, ...] = ("person", "organization", "location", "misc")


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One entity of a story under its canonical name, with how often the story names it."""

    name: str
    type: EntityType
    mentions: int
    in_title: bool = False


@dataclass(frozen=True, slots=True)
class Entities:
    """A story's enrichment: its entities, or no entities and the reason why."""

    version: str
    mentions: tuple[EntityMention, ...] = ()
    error: str | None = None

    def names(self, entity_type: EntityType) -> list[str]:
        return [m.name for m in self.mentions if m.type == entity_type]


@dataclass(frozen=True, slots=True)
class StoryText:
    """What enrichment reads of a story: enough to re-enrich a stored one without re-fetch."""

    id: str
    title: str
    body: str
    language: str | None = None


@dataclass(slots=True)
class SearchHit:
    id: str
    title: str
    url: str
    source: str
    published_at: str | None
    score: float
    highlight: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FeedOutcome:
    """What happened to one feed in one cycle."""

    url: str
    ok: bool
    status: str
    entries_seen: int = 0
    stories_new: int = 0
    error: str | None = None  # why it failed, or why it was read only degraded
    copies_new: int = 0  # copies added to stories that already existed


@dataclass(slots=True)
class RunSummary:
    feeds_polled: int = 0
    feeds_failed: int = 0
    entries_seen: int = 0
    stories_new: int = 0
    outcomes: list[FeedOutcome] = field(default_factory=list)
    copies_new: int = 0
    entities: int = 0  # entities tagged on the new stories of the cycle
    feeds_degraded: int = 0  # read, but only from a malformed body

    def add(self, outcome: FeedOutcome) -> None:
        self.outcomes.append(outcome)
        self.feeds_polled += 1
        self.feeds_failed += 0 if outcome.ok else 1
        self.feeds_degraded += 1 if outcome.status == DEGRADED else 0
        self.entries_seen += outcome.entries_seen
        self.stories_new += outcome.stories_new
        self.copies_new += outcome.copies_new

    def merge(self, other: RunSummary) -> None:
        for outcome in other.outcomes:
            self.add(outcome)
        self.entities += other.entities

    def as_dict(self) -> dict[str, object]:
        return {
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "feeds_degraded": self.feeds_degraded,
            "entries_seen": self.entries_seen,
            "stories_new": self.stories_new,
            "copies_new": self.copies_new,
            "entities": self.entities,
            "failures": [
                {"url": o.url, "status": o.status, "error": o.error}
                for o in self.outcomes
                if not o.ok
            ],
            "degraded": [
                {"url": o.url, "reason": o.error} for o in self.outcomes if o.status == DEGRADED
            ],
        }


@dataclass(slots=True)
class FeedState:
    """A feed's polling state as stored in the `feeds` index."""

    url: str
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    enabled: bool = True
    status: str = "new"
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    next_poll: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    entries_seen: int = 0
    moved_to: str | None = None
    http_status: int | None = None
    # Seconds between polls the adaptive schedule last chose; kept across 304s.
    poll_interval: int | None = None
    last_success: datetime | None = None


# A feed's health before its first verdict.
NEW = "new"


@dataclass(slots=True)
class FeedHealth:
    url: str
    checked_at: datetime
    health: str
    flags: list[str] = field(default_factory=list)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    status: str = NEW
    failures: int = 0
    last_error: str | None = None
    last_polled: datetime | None = None
    failing_since: datetime | None = None  # the last success, else carried day to day
    quiet_since: datetime | None = None  # carried while the feed has no story at all
    last_story_at: datetime | None = None
    moved_to: str | None = None
