"""Copies of a story as outlets run them, for dedup tests."""

from __future__ import annotations


def first_share(text: str, share: float) -> list[str]:
    """The paragraphs holding the first `share` of the words, the last one cut."""
    keep, kept = round(len(text.split()) * share), []
    for paragraph in text.split("\n\n"):
        if keep <= 0:
            break
        words = paragraph.split()
        kept.append(" ".join(words[:keep]))
        keep -= len(words)
    return kept


def partial_copy(text: str, share: float) -> str:
    """The first `share` of a story as an outlet runs it: dateline, a promo line, a photo
    caption and a credit of its own, straight quotes and odd spacing."""
    paragraphs = first_share(text, share)
    paragraphs[0] = "LONDON (AP) -- " + paragraphs[0]
    paragraphs.insert(2, "ALSO READ | Heatwave warning issued for the south as temperatures climb")
    paragraphs.append("Photo: the eastern embankment, seen from the valley road on Tuesday.")
    paragraphs.append("(With inputs from agencies)")
    text = "\n\n".join(paragraphs).replace("\u201c", '"').replace("\u201d", '"')
    return text.replace(". ", ".  ")
