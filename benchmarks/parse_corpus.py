"""Which captured feeds yield entries: plain feedparser, wirefeed's parse stage without and
with the repair pass, and fastfeedparser (a tolerant parser), on the same files.

Files: every capture listed in ../shared/corpora/feeds/publisher_captures/MANIFEST.csv and
every file under ../shared/corpora/feeds/feedparser/illformed. They are split for the
tuning / held-out discipline by the SHA-256 of their path under corpora/feeds (odd first
byte: held out). Per half and reader it prints how many files yield any entry, how many an
entry with an http(s) link, the linked entries in all, how many are errors (nothing read;
for fastfeedparser, an exception) and, after the change, how many wirefeed reads degraded.
wirefeed drops entries with neither id nor link (some feedparser test files have only
such) and resolves relative links against the feed URL, which the plain parsers lack.

Last, the check that the repair changes nothing on well-formed feeds: over every file under
corpora/feeds, the files feedparser reads without a bozo flag whose entries differ with the
repair pass on and off (must be 0).

    .venv/bin/python benchmarks/parse_corpus.py [--feeds PATH]

fastfeedparser is a test-only extra; without it its rows say so.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

import pipeline.feeds.parse  # noqa: E402
from pipeline.feeds.parse import parse_feed  # noqa: E402

DEFAULT_FEEDS = ROOT.parent / "shared" / "corpora" / "feeds"
FETCHED = datetime(2026, 3, 1, tzinfo=UTC)
FEED_URL = "http://127.0.0.1/feed.xml"


@dataclass(frozen=True, slots=True)
class Reading:
    entries: int = 0
    linked: int = 0  # entries with an http(s) link: what could become a story
    degraded: bool = False
    error: bool = False


def held_out(relative: str) -> bool:
    return hashlib.sha256(relative.encode()).digest()[0] % 2 == 1


def survey_files(feeds: Path) -> list[Path]:
    captures = feeds / "publisher_captures"
    with (captures / "MANIFEST.csv").open(encoding="utf-8") as manifest:
        files = [captures / row["file"] for row in csv.DictReader(manifest)]
    return files + sorted(p for p in (feeds / "feedparser" / "illformed").rglob("*") if p.is_file())


def _linked(links: list[object]) -> int:
    return sum(1 for link in links if isinstance(link, str) and link.startswith("http"))


def read_feedparser(body: bytes) -> Reading:
    entries = feedparser.parse(body).entries
    return Reading(len(entries), _linked([e.get("link") for e in entries]))


@contextmanager
def repair_off() -> Iterator[None]:
    """wirefeed as before the repair pass: feedparser's reading alone."""
    with mock.patch.object(pipeline.feeds.parse, "repair_feed_xml", lambda body, encoding: None):
        yield


def read_wirefeed(body: bytes) -> Reading:
    parsed = parse_feed(body, FEED_URL, FETCHED)
    links = [e.link for e in parsed.entries]
    return Reading(len(links), _linked(links), parsed.degraded, parsed.error is not None)


def read_wirefeed_before(body: bytes) -> Reading:
    # Before the repair pass there was no degraded status either.
    with repair_off():
        reading = read_wirefeed(body)
    return Reading(reading.entries, reading.linked, error=reading.error)


def fastfeedparser_reader() -> Callable[[bytes], Reading] | None:
    try:
        import fastfeedparser
    except ImportError:
        return None

    def read(body: bytes) -> Reading:
        try:
            entries = fastfeedparser.parse(body).entries
        except Exception:  # it raises on what it cannot read; that file yields nothing
            return Reading(error=True)
        return Reading(len(entries), _linked([e.get("link") for e in entries]))

    return read


def report(name: str, readings: list[Reading]) -> str:
    with_entries = sum(1 for r in readings if r.entries)
    with_links = sum(1 for r in readings if r.linked)
    linked = sum(r.linked for r in readings)
    line = (
        f"  {name:28} files with entries {with_entries:3}/{len(readings):<3} "
        f"with linked entries {with_links:3}  linked entries {linked:5}"
        f"  errors {sum(r.error for r in readings):2}"
    )
    degraded = sum(r.degraded for r in readings)
    return line + (f"  degraded {degraded:2}" if degraded else "")


def _entries_key(body: bytes) -> list[tuple[str, str | None, str]]:
    return [(e.guid, e.link, e.title) for e in parse_feed(body, FEED_URL, FETCHED).entries]


def well_formed_changes(feeds: Path) -> tuple[int, list[str]]:
    """Files feedparser reads without a bozo flag, and those whose entries the repair
    pass changes."""
    changed, checked = [], 0
    for path in sorted(p for p in feeds.rglob("*") if p.suffix in (".xml", ".json")):
        body = path.read_bytes()
        if feedparser.parse(body).bozo:
            continue
        checked += 1
        with repair_off():
            before = _entries_key(body)
        if _entries_key(body) != before:
            changed.append(path.relative_to(feeds).as_posix())
    return checked, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=Path, default=DEFAULT_FEEDS)
    args = parser.parse_args()
    if not (args.feeds / "publisher_captures" / "MANIFEST.csv").exists():
        print(f"corpus not found: {args.feeds}", file=sys.stderr)
        return 2
    readers: dict[str, Callable[[bytes], Reading] | None] = {
        "plain feedparser": read_feedparser,
        "wirefeed before (no repair)": read_wirefeed_before,
        "wirefeed after": read_wirefeed,
        "fastfeedparser": fastfeedparser_reader(),
    }
    files = survey_files(args.feeds)
    halves = {"tuning": [], "held-out": []}
    for path in files:
        halves[
            "held-out" if held_out(path.relative_to(args.feeds).as_posix()) else "tuning"
        ].append(path.read_bytes())
    for half, bodies in halves.items():
        print(f"{half} half: {len(bodies)} files")
        for name, read in readers.items():
            if read is None:
                print(f"  {name:28} not installed (pip install fastfeedparser)")
                continue
            print(report(name, [read(body) for body in bodies]))
    checked, changed = well_formed_changes(args.feeds)
    print(f"well-formed feeds (no bozo flag) under {args.feeds.name}/: {checked}, ", end="")
    print(f"entries changed by the repair pass: {len(changed)}")
    for name in changed:
        print(f"  changed: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
