"""Stored stories enriched again from their stored title and body (no re-fetch), when the
rules or the models change (`enrichment_version`): entities replaced in place, and a stored
language with no entity model decided again."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.entities.ner import Enricher
from pipeline.index.store import Store
from pipeline.models import StoryText
from pipeline.stories.documents import entity_fields


@dataclass(slots=True)
class ReenrichSummary:
    version: str
    stories: int = 0  # re-enriched in place
    without_entities: int = 0  # of those, how many got an error instead (empty text, ...)


def reenrich(
    store: Store, enricher: Enricher, *, everything: bool = False, batch_size: int = 200
) -> ReenrichSummary:
    """Re-enrich stored stories from their stored title and body (no re-fetch): those under
    another enrichment version, or every story. A batch at a time, so memory stays flat."""
    summary = ReenrichSummary(enricher.version)
    outdated_from = None if everything else enricher.version
    batch: list[StoryText] = []
    for story in store.stories_to_enrich(outdated_from, page_size=batch_size):
        batch.append(story)
        if len(batch) >= batch_size:
            _reenrich_batch(store, enricher, batch, summary)
            batch = []
    if batch:
        _reenrich_batch(store, enricher, batch, summary)
    return summary


def rechecked_language(story: StoryText, models: Mapping[str, str]) -> StoryText:
    """The story with its stored language decided again where that language has no entity
    model: code before the language decision weighed all evidence stored misreadings
    (sports results as Nigerian Pidgin) that switched entities off. A stored language with
    a model stands: it may come from declarations that are not stored (the page's)."""
    from pipeline.text.language import detect_language  # numpy: only where it is needed

    stored = (story.language or "").split("-")[0].lower()
    if not stored or stored in models:
        return story
    return dataclasses.replace(story, language=detect_language(f"{story.title}\n{story.body}"))


def _reenrich_batch(
    store: Store, enricher: Enricher, batch: list[StoryText], summary: ReenrichSummary
) -> None:
    rechecked = [rechecked_language(story, enricher.models) for story in batch]
    found = enricher.enrich(rechecked)
    # The language too where it was decided again; text and copies stay as they are.
    summary.stories += store.update_stories(
        [
            (
                new.id,
                {
                    **entity_fields(entities),
                    **({"language": new.language} if new.language != old.language else {}),
                },
            )
            for old, new, entities in zip(batch, rechecked, found, strict=True)
        ]
    )
    summary.without_entities += sum(1 for entities in found if entities.error)
