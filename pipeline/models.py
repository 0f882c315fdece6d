"""Records that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FullText = Literal["auto", "always", "never"]


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
    language: str | None = None
    date_missing: bool = False
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None


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
    error: str | None = None


@dataclass(slots=True)
class RunSummary:
    feeds_polled: int = 0
    feeds_failed: int = 0
    entries_seen: int = 0
    stories_new: int = 0
    outcomes: list[FeedOutcome] = field(default_factory=list)

    def add(self, outcome: FeedOutcome) -> None:
        self.outcomes.append(outcome)
        self.feeds_polled += 1
        self.feeds_failed += 0 if outcome.ok else 1
        self.entries_seen += outcome.entries_seen
        self.stories_new += outcome.stories_new

    def merge(self, other: RunSummary) -> None:
        for outcome in other.outcomes:
            self.add(outcome)

    def as_dict(self) -> dict[str, object]:
        return {
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "entries_seen": self.entries_seen,
            "stories_new": self.stories_new,
            "failures": [
                {"url": o.url, "status": o.status, "error": o.error}
                for o in self.outcomes
                if not o.ok
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
