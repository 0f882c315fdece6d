"""Feed registry: a YAML feeds file in, FeedSource records out."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import ConfigError
from pipeline.feeds.declared import feed_url_problem
from pipeline.feeds.opml import load_opml
from pipeline.models import FeedSource, FeedState

log = logging.getLogger(__name__)

_FULL_TEXT = ("auto", "always", "never")
# libyaml's loader where PyYAML was built with it: ten times the pure-Python one's speed,
# which every ingest task pays on a feeds file of thousands of entries.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _entry_error(path: Path, index: int, field: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: feed #{index + 1}: field '{field}': {problem}")


def feed_from_mapping(raw: Any, path: Path, index: int) -> FeedSource:
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        raise _entry_error(path, index, "url", "entry must be a mapping with a 'url'")
    url = raw.get("url")
    if not url or not isinstance(url, str):
        raise _entry_error(path, index, "url", "missing")
    problem = feed_url_problem(url.strip())
    if problem:
        raise _entry_error(path, index, "url", problem)
    tags = raw.get("tags") or ()
    if isinstance(tags, str):
        tags = (tags,)
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise _entry_error(path, index, "tags", "must be a list of strings")
    interval = raw.get("interval")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0
    ):
        raise _entry_error(path, index, "interval", "must be a positive number of seconds")
    full_text = raw.get("full_text", "auto")
    if full_text not in _FULL_TEXT:
        raise _entry_error(path, index, "full_text", f"must be one of {', '.join(_FULL_TEXT)}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _entry_error(path, index, "enabled", "must be true or false")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _entry_error(path, index, "name", "must be a string")
    unknown = set(raw) - {"url", "name", "tags", "interval", "full_text", "enabled"}
    if unknown:
        raise _entry_error(path, index, sorted(unknown)[0], "unknown field")
    return FeedSource(
        url=url.strip(),
        name=name,
        tags=tuple(tags),
        interval=int(interval) if interval is not None else None,
        full_text=full_text,
        enabled=enabled,
    )


def load_feeds(path: str | Path) -> list[FeedSource]:
    """Read a feeds file: a list of entries, or a mapping with a `feeds:` list."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read feeds file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data = data.get("feeds")
    if not isinstance(data, list):
        raise ConfigError(f"{path}: field 'feeds': expected a list of feeds")
    feeds = [feed_from_mapping(raw, path, i) for i, raw in enumerate(data)]
    seen: set[str] = set()
    for i, feed in enumerate(feeds):
        if feed.url in seen:
            raise _entry_error(path, i, "url", f"duplicate feed {feed.url}")
        seen.add(feed.url)
    return feeds


def feed_to_mapping(feed: FeedSource) -> dict[str, Any]:
    """A feed as a feeds-file entry, leaving out fields at their defaults."""
    entry: dict[str, Any] = {"url": feed.url}
    if feed.name:
        entry["name"] = feed.name
    if feed.tags:
        entry["tags"] = list(feed.tags)
    if feed.interval is not None:
        entry["interval"] = feed.interval
    if feed.full_text != "auto":
        entry["full_text"] = feed.full_text
    if not feed.enabled:
        entry["enabled"] = False
    return entry


def merge_feeds(existing: list[FeedSource], new: list[FeedSource]) -> list[FeedSource]:
    """Existing feeds first, untouched; new ones appended unless their URL is known."""
    known = {f.url for f in existing}
    return existing + [f for f in new if f.url not in known]


def dump_feeds(feeds: list[FeedSource]) -> str:
    return yaml.safe_dump(
        {"feeds": [feed_to_mapping(f) for f in feeds]},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )


def feed_from_state(state: FeedState) -> FeedSource:
    """A feed registered straight into the index (OPML --register), as a registry entry."""
    return FeedSource(url=state.url, name=state.name, tags=tuple(state.tags), enabled=state.enabled)


def load_registry(feeds_file: Path, opml_files: Sequence[Path] = ()) -> list[FeedSource]:
    """The feeds file, then the feeds of the OPML files not already in it."""
    feeds = load_feeds(feeds_file)
    for path in opml_files:
        found = load_opml(path)
        for problem in found.skipped:
            log.warning("%s: skipped %s", path, problem)
        feeds = merge_feeds(feeds, found.feeds)
    return feeds


def with_registered(feeds: list[FeedSource], states: Iterable[FeedState]) -> list[FeedSource]:
    """`feeds`, plus the feeds registered straight into the index (`wirefeed feeds import
    --register`) and enabled there."""
    return merge_feeds(feeds, [feed_from_state(s) for s in states if s.enabled])
