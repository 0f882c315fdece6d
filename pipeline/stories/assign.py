"""Articles to stories: exact dedup, near-duplicate assignment, then the writes.

Separate steps, so the ingest flow can work between them:

1. `exact_dedup` (before the full-text fetch): drops articles already recorded by canonical
   URL or (feed, guid), and turns those whose normalised body hash is known into copies.
2. `assign_stories` (after the full text): each remaining article joins a known story, a
   story opened earlier in the same batch, or opens a new story. Enrichment runs after
   this step (alongside the next) on `Assignment.new_stories` only; a copy takes its
   story's entities.
3. `claim_stories`: claims the new stories' keys and settles races with other workers. It
   needs no entities, so it may run while enrichment does; a story that loses its race
   becomes copies of the winner, and its entities go unused.
4. `write_claimed`: writes stories and copies, and records the URL and guid keys last.
   (`write_assignment` is steps 3 and 4 in one.)

The decisions are pure functions of `dedup` and `documents`; every look-up is by document
id (real-time, no search, no scan), so its cost does not grow with the index.
URL and guid keys are written only after the story holds the copy: a crash before that
means the next poll redoes the article instead of dropping it as known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pipeline.index.store import Store, StoreError, StoryWrite
from pipeline.models import Article
from pipeline.stories.dedup import (
    DEFAULT_THRESHOLD,
    Fingerprint,
    best_match,
    body_key,
    fingerprint,
    fingerprint_from_source,
    fingerprints,
    guid_key,
    race_winner,
    signature_source,
    story_id_for,
    url_key,
)
from pipeline.stories.documents import merge_copies, new_story

WRITE_ATTEMPTS = 20


@dataclass(slots=True)
class Member:
    """An article with the fingerprint of its body."""

    article: Article
    fingerprint: Fingerprint


@dataclass(slots=True)
class NewStory:
    """A story this batch opens; `members[0]` opened it, the rest are its copies in the batch."""

    id: str
    members: list[Member]

    @property
    def founder(self) -> Member:
        return self.members[0]


@dataclass(slots=True)
class CopyOf:
    story_id: str
    member: Member


@dataclass(slots=True)
class ExactResult:
    pending: list[Article] = field(default_factory=list)  # go on to full text and assignment
    copies: list[CopyOf] = field(default_factory=list)  # same body as a known story
    known: list[Article] = field(default_factory=list)  # already recorded: nothing to do


@dataclass(slots=True)
class Assignment:
    new_stories: list[NewStory] = field(default_factory=list)
    copies: list[CopyOf] = field(default_factory=list)

    def to_enrich(self) -> list[Article]:
        """The articles whose entities the new stories take: each new story's founder."""
        return [story.founder.article for story in self.new_stories]


Outcome = Literal["story", "copy"]


@dataclass(slots=True)
class WriteResult:
    """Per article URL: opened a story or was added as a copy. Absent: already recorded."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @property
    def stories_new(self) -> int:
        return sum(1 for o in self.outcomes.values() if o == "story")

    @property
    def copies_new(self) -> int:
        return sum(1 for o in self.outcomes.values() if o == "copy")


def exact_dedup(articles: list[Article], store: Store) -> ExactResult:
    result = ExactResult()
    members = [Member(a, fingerprint(a.body)) for a in articles]
    keys = []
    for m in members:
        keys += [url_key(m.article.url), guid_key(m.article.feed_url, m.article.guid)]
        if m.fingerprint.body_hash:
            keys.append(body_key(m.fingerprint.body_hash))
    claimed = store.claimed(keys)
    seen: set[str] = set()
    for m in members:
        article = m.article
        if (
            article.url in seen
            or url_key(article.url) in claimed
            or guid_key(article.feed_url, article.guid) in claimed
        ):
            result.known.append(article)
        elif m.fingerprint.body_hash and body_key(m.fingerprint.body_hash) in claimed:
            result.copies.append(CopyOf(claimed[body_key(m.fingerprint.body_hash)], m))
        else:
            result.pending.append(article)
        seen.add(article.url)
    return result


def save_signatures(store: Store, found: Mapping[str, Fingerprint]) -> None:
    """Each new story's fingerprint, written before its band keys are claimed, so anyone
    who finds a claim can read what to compare against."""
    store.save_signatures({s: signature_source(s, fp) for s, fp in found.items()})


def read_signatures(store: Store, story_ids: Iterable[str]) -> dict[str, Fingerprint]:
    return {s: fingerprint_from_source(source) for s, source in store.signatures(story_ids).items()}


def index_new_stories(store: Store, articles: Sequence[Article]) -> set[str]:
    """One single-copy story per article, without dedup (bulk loads, tests); returns the
    URLs that made one. op_type=create makes a re-run a no-op instead of an overwrite."""
    writes = [
        StoryWrite(story_id_for(a.url), new_story([(a, fingerprint(a.body))])) for a in articles
    ]
    conflicts = store.write_stories(writes)
    return {a.url for a, w in zip(articles, writes, strict=True) if w.id not in conflicts}


def assign_stories(
    exact: ExactResult, store: Store, threshold: float = DEFAULT_THRESHOLD
) -> Assignment:
    """Each pending article to a known story, a story new in this batch, or a new story."""
    assignment = Assignment(copies=list(exact.copies))
    found = fingerprints([a.body for a in exact.pending])
    members = [Member(a, fp) for a, fp in zip(exact.pending, found, strict=True)]
    claimed = store.claimed(k for m in members for k in m.fingerprint.claim_keys())
    known = read_signatures(
        store, (claimed[k] for m in members for k in m.fingerprint.lookup_keys if k in claimed)
    )
    local_keys: dict[str, str] = {}  # claim key -> story opened earlier in this batch
    opened: dict[str, NewStory] = {}
    for m in members:
        fp = m.fingerprint
        digest = body_key(fp.body_hash) if fp.body_hash else None
        target = (claimed.get(digest) or local_keys.get(digest)) if digest else None
        if target is None:
            candidates = {
                owner: known[owner] if owner in known else opened[owner].founder.fingerprint
                for key in fp.lookup_keys
                if (owner := claimed.get(key) or local_keys.get(key))
                and (owner in known or owner in opened)
            }
            target = best_match(fp, candidates, threshold)
        if target in opened:
            opened[target].members.append(m)
        elif target is not None:
            assignment.copies.append(CopyOf(target, m))
        else:
            story = NewStory(story_id_for(m.article.url), [m])
            opened[story.id] = story
            assignment.new_stories.append(story)
            for key in fp.claim_keys():
                local_keys.setdefault(key, story.id)
    return assignment


@dataclass(slots=True)
class Claimed:
    """After the claims: the new stories to create, and every copy to add."""

    stories: list[NewStory]
    copies: list[CopyOf]


def claim_stories(
    assignment: Assignment, store: Store, threshold: float = DEFAULT_THRESHOLD
) -> Claimed:
    """Claim the new stories' keys; a story that lost the race to a copy of itself becomes
    copies of the winner."""
    stories = assignment.new_stories
    save_signatures(store, {s.id: s.founder.fingerprint for s in stories})
    claims = [
        (k, s.id, k.split(":", 1)[0]) for s in stories for k in s.founder.fingerprint.claim_keys()
    ]
    won = store.claim(claims)
    owners = store.claimed(k for k, _, _ in claims if k not in won)
    rivals_of: dict[str, set[str]] = defaultdict(set)
    won_by: dict[str, set[str]] = defaultdict(set)
    for key, story_id, _ in claims:
        owner = owners.get(key, story_id)
        # A key held under our own id was claimed by an earlier run of this same work.
        if key in won or owner == story_id:
            won_by[story_id].add(key)
        else:
            rivals_of[story_id].add(owner)
    rival_signatures = read_signatures(store, (r for rivals in rivals_of.values() for r in rivals))
    kept, copies = [], list(assignment.copies)
    for story in stories:
        rivals = {r: rival_signatures[r] for r in rivals_of[story.id] if r in rival_signatures}
        winner = race_winner(
            story.id, story.founder.fingerprint, won_by[story.id], rivals, threshold
        )
        if winner == story.id:
            kept.append(story)
            continue
        store.repoint([(k, winner, k.split(":", 1)[0]) for k in sorted(won_by[story.id])])
        copies += [CopyOf(winner, m) for m in story.members]
    return Claimed(kept, copies)


def write_assignment(
    assignment: Assignment, store: Store, threshold: float = DEFAULT_THRESHOLD
) -> WriteResult:
    """Record the assignment; safe to repeat and safe against other workers doing the same."""
    return write_claimed(claim_stories(assignment, store, threshold), store)


def write_claimed(claimed: Claimed, store: Store) -> WriteResult:
    """Write the claimed stories and every copy, then the URL and guid keys."""
    groups: dict[str, list[Member]] = defaultdict(list)
    for story in claimed.stories:
        groups[story.id] += story.members
    for copy in claimed.copies:
        groups[copy.story_id].append(copy.member)
    result = WriteResult()
    pending = sorted(groups)
    for _ in range(WRITE_ATTEMPTS):
        if not pending:
            break
        current = store.stories(pending)
        writes, planned = [], {}
        for story_id in pending:
            pairs = [(m.article, m.fingerprint) for m in groups[story_id]]
            base = current.get(story_id)
            if base is None:
                writes.append(StoryWrite(story_id, new_story(pairs)))
                planned[story_id] = _created(groups[story_id])
                continue
            merged = merge_copies(base.source, pairs)
            present = {c["url"] for c in base.source.get("copies", [])}
            if merged is not None:
                writes.append(StoryWrite(story_id, merged, base))
                planned[story_id] = {
                    m.article.url: "copy" for m in groups[story_id] if m.article.url not in present
                }
        conflicts = store.write_stories(writes)
        for story_id, outcomes in planned.items():
            if story_id not in conflicts:
                result.outcomes.update(outcomes)
        pending = sorted(conflicts)
    if pending:
        raise StoreError(f"stories kept changing under us: {', '.join(pending[:5])}")
    markers = []
    for story_id, members in groups.items():
        for m in members:
            markers += [
                (url_key(m.article.url), story_id, "url"),
                (guid_key(m.article.feed_url, m.article.guid), story_id, "guid"),
            ]
            if m.article.page_url:
                markers.append((url_key(m.article.page_url), story_id, "url"))
            if m.fingerprint.body_hash:
                markers.append((body_key(m.fingerprint.body_hash), story_id, "body"))
    store.claim(markers)
    return result


def _created(members: list[Member]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for m in members:
        outcomes.setdefault(m.article.url, "copy" if outcomes else "story")
    return outcomes
