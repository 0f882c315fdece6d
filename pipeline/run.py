"""One ingest cycle over a batch of feeds: poll, parse, build articles, index, save state.

Used alike by the CLI and by Airflow tasks. Feed state is saved only after that poll's
stories are indexed, so a crash in between means the next poll redoes the work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.entities.ner import enrich_articles
from pipeline.feeds.poll import poll_batch
from pipeline.index.store import Store
from pipeline.models import Article, FeedOutcome, FeedSource, RunSummary
from pipeline.stories.assign import assign_stories, claim_stories, exact_dedup, write_claimed
from pipeline.stories.dedup import threshold_from
from pipeline.text.articles import article_from_entry, with_language
from pipeline.text.fulltext import fill_full_text

log = logging.getLogger(__name__)


def run_cycle(feeds: Sequence[FeedSource], store: Store, settings: Settings) -> RunSummary:
    """Poll every enabled feed in `feeds` once and index what is new."""
    feeds = [f for f in feeds if f.enabled]
    previous = store.feed_states(f.url for f in feeds)
    polled = poll_batch(feeds, previous, settings.fetch)
    summary = RunSummary()
    per_feed: list[tuple[FeedOutcome, list[Article]]] = []
    for result in polled:
        now = result.fetched_at or datetime.now(UTC)
        try:
            found = [a for e in result.entries if (a := article_from_entry(e, now)) is not None]
        except Exception as exc:  # one broken feed must not stop the others
            log.exception("feed %s: entries to articles failed", result.feed.url)
            error = f"{type(exc).__name__}: {exc}"
            result.outcome.ok, result.outcome.status, result.outcome.error = False, "error", error
            result.state.status, result.state.last_error = "error", error
            result.state.failures += 1
            # Forget the validators so the next poll fetches and retries these entries.
            result.state.etag = result.state.last_modified = result.state.body_hash = None
            found = []
        per_feed.append((result.outcome, found))
    threshold = threshold_from(os.environ)
    exact = exact_dedup([a for _, found in per_feed for a in found], store)
    modes = {e.feed_url: r.feed.full_text for r in polled for e in r.entries}
    exact.pending = with_language(fill_full_text(exact.pending, modes, settings.fetch))
    assignment = assign_stories(exact, store, threshold)
    # NER runs for new stories only: a copy takes its story's entities. It runs (on the
    # workers) while this process claims the stories' keys, which needs no entities.
    with ThreadPoolExecutor(1, thread_name_prefix="wirefeed-ner") as background:
        ner = background.submit(enrich_articles, assignment.to_enrich())
        claimed = claim_stories(assignment, store, threshold)
        founders = ner.result()
    summary.entities = sum(len(f.entities.mentions) for f in founders if f.entities)
    for story, founder in zip(assignment.new_stories, founders, strict=True):
        story.members[0].article = founder
    written = write_claimed(claimed, store)
    store.save_feed_states(r.state for r in polled)
    outcomes = dict(written.outcomes)
    for outcome, found in per_feed:
        # pop: a URL that came through two feeds in this batch counts for the first one only
        made = [outcomes.pop(a.url, None) for a in found]
        outcome.stories_new = made.count("story")
        outcome.copies_new = made.count("copy")
        summary.add(outcome)
    return summary
