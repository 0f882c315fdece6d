"""`wirefeed` / `python -m pipeline`: the command line.

Exit codes: 0 done (a cycle with failed feeds is still done), 1 engine or runtime failure,
2 bad arguments, bad settings or a bad feeds file.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from pipeline.config import ConfigError, Settings, redact, secret_values
from pipeline.feeds.opml import load_opml
from pipeline.feeds.sources import dump_feeds, load_feeds, merge_feeds, with_registered
from pipeline.index.store import Store
from pipeline.models import DEGRADED, FeedState, StoryText
from pipeline.text.urls import canonical_url

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings.engine)
    actions = store.setup()
    print("\n".join(actions) if actions else "indices up to date")
    return EXIT_OK


def cmd_security_setup(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.index.security import SecuritySetup, apply
    from pipeline.index.store import make_client

    wanted = SecuritySetup.from_env(os.environ)
    for line in apply(make_client(settings.engine), wanted):
        print(line)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.run import run_cycle

    # A bad feeds file is reported before the engine is even contacted.
    feeds = load_feeds(args.feeds) if args.feeds else None
    store = Store.from_settings(settings.engine)
    store.setup()
    if feeds is None:
        # Feeds registered in the index (`feeds import --register`) stand in for a file.
        feeds = with_registered([], store.all_feed_states())
    summary = run_cycle(feeds, store, settings)
    if args.json:
        _print_json(summary.as_dict())
    else:
        print(
            f"feeds polled {summary.feeds_polled}, failed {summary.feeds_failed}, "
            f"entries seen {summary.entries_seen}, stories new {summary.stories_new}"
        )
        for outcome in summary.outcomes:
            if not outcome.ok:
                print(f"  failed: {outcome.url}: {outcome.error}")
            elif outcome.status == DEGRADED:
                print(f"  degraded: {outcome.url}: {outcome.error}")
    return EXIT_OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings.engine)
    hits = store.search(args.query, size=args.size)
    if args.json:
        _print_json([{k: v for k, v in asdict(h).items() if k != "highlight"} for h in hits])
        return EXIT_OK
    if not hits:
        print("no stories found")
    for hit in hits:
        print(f"{hit.score:6.2f}  {hit.published_at or '':25}  {hit.source:20}  {hit.title}")
        print(f"        {hit.url}")
    return EXIT_OK


def cmd_story(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings.engine)
    found = store.story_by_url(canonical_url(args.url))
    if found is None:
        print(f"wirefeed: no story holds a copy with URL {args.url}", file=sys.stderr)
        return EXIT_FAILED
    copies = [
        {"url": c["url"], "source": c["source"], "published_at": c.get("published_at")}
        for c in found.source.get("copies", [])
    ]
    if args.json:
        _print_json({"id": found.id, "title": found.source.get("title", ""), "copies": copies})
        return EXIT_OK
    print(f"{found.source.get('title', '')}  ({found.id}, {len(copies)} copies)")
    for c in copies:
        print(f"  {c['published_at'] or '':25}  {c['source']:24}  {c['url']}")
    return EXIT_OK


def _feed_status(state: FeedState) -> dict[str, object]:
    return {
        "url": state.url,
        "name": state.name,
        "status": state.status,
        "enabled": state.enabled,
        "last_polled": state.last_polled.isoformat() if state.last_polled else None,
        "next_poll": state.next_poll.isoformat() if state.next_poll else None,
        "failures": state.failures,
        "last_error": state.last_error,
        "http_status": state.http_status,
        "entries_seen": state.entries_seen,
        "moved_to": state.moved_to,
    }


def cmd_feeds_status(args: argparse.Namespace, settings: Settings) -> int:
    from elasticsearch import NotFoundError

    store = Store.from_settings(settings.engine)
    try:
        states = {s.url: s for s in store.all_feed_states()}
    except NotFoundError:  # nothing set up or polled yet
        states = {}
    if args.feeds:
        # Registered but never polled feeds are listed too, as "new".
        for feed in load_feeds(args.feeds):
            states.setdefault(feed.url, FeedState(url=feed.url, name=feed.name))
    rows = [_feed_status(s) for s in sorted(states.values(), key=lambda s: s.url)]
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("no feeds polled yet")
    for row in rows:
        print(
            f"{row['status']:14} failures {row['failures']:<3} "
            f"last {row['last_polled'] or '-':32} next {row['next_poll'] or '-':32} {row['url']}"
        )
        if row["last_error"]:
            print(f"{'':14} {row['last_error']}")
    return EXIT_OK


def cmd_feeds_import(args: argparse.Namespace, settings: Settings) -> int:
    found = load_opml(args.file)
    for problem in found.skipped:
        print(f"wirefeed: skipped {problem}", file=sys.stderr)
    if args.register:
        store = Store.from_settings(settings.engine)
        store.setup()
        known = store.feed_states(f.url for f in found.feeds)
        new = [
            FeedState(url=f.url, name=f.name, tags=list(f.tags))
            for f in found.feeds
            if f.url not in known
        ]
        store.save_feed_states(new)
        print(f"registered {len(new)} feeds ({len(found.feeds) - len(new)} already known)")
    elif args.output:
        output = Path(args.output)
        existing = load_feeds(output) if output.exists() else []
        merged = merge_feeds(existing, found.feeds)
        output.write_text(dump_feeds(merged), encoding="utf-8")
        print(f"wrote {len(merged) - len(existing)} new feeds to {output} ({len(merged)} in all)")
    else:
        sys.stdout.write(dump_feeds(found.feeds))
    return EXIT_OK


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.text.extract import extract_page
    from pipeline.text.pagehtml import read_page_file

    try:
        page = read_page_file(Path(args.path))
    except (OSError, EOFError, ValueError) as exc:
        print(f"wirefeed: cannot read {args.path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = extract_page(page, url=args.url)
    published = result.published_at.isoformat() if result.published_at else None
    if args.json:
        _print_json({**asdict(result), "published_at": published})
    else:
        print(result.title or "(no title)")
        print(f"{result.language or '-'}  {published or '-'}  {result.canonical_url or '-'}")
        if result.reason:
            print(f"note: {result.reason}")
        print()
        print(result.text)
    return EXIT_OK


def cmd_entities(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.entities.ner import default_enricher
    from pipeline.text.boilerplate import strip_trailers
    from pipeline.text.language import detect_language

    try:
        data = sys.stdin.buffer.read() if args.path == "-" else Path(args.path).read_bytes()
    except OSError as exc:
        print(f"wirefeed: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    text = strip_trailers(data.decode("utf-8", errors="replace"))
    found = default_enricher().enrich([StoryText("-", "", text, detect_language(text))])[0]
    if found.error:
        print(f"wirefeed: no entities: {found.error}", file=sys.stderr)
    rows = [{"name": m.name, "type": m.type, "mentions": m.mentions} for m in found.mentions]
    if args.json:
        _print_json({"entities": rows})
        return EXIT_OK
    for row in rows:
        print(f"{row['type']:13} {row['mentions']:4}  {row['name']}")
    return EXIT_OK


def cmd_reenrich(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.entities.ner import default_enricher
    from pipeline.entities.reenrich import reenrich

    store = Store.from_settings(settings.engine)
    summary = reenrich(store, default_enricher(), everything=args.all)
    if args.json:
        _print_json(asdict(summary))
    else:
        print(
            f"re-enriched {summary.stories} stories to {summary.version} "
            f"({summary.without_entities} without entities)"
        )
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings.engine)
    alias = f"{settings.engine.index_prefix}{args.index}"
    source, target = store.create_next_version(alias)
    copied = store.copy_index(source, target)
    if not copied.complete:
        print(
            f"wirefeed: copy {source} -> {target} incomplete: {copied.failures[:3]}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    store.swap_alias(alias, source, target)
    late = store.copy_index(source, target)  # what reached the old version meanwhile
    if not late.complete:
        print(f"wirefeed: {target} lacks documents of {source}; {source} kept", file=sys.stderr)
        return EXIT_FAILED
    if args.delete_old:
        store.drop_version(alias, source)
    kept = "deleted" if args.delete_old else "kept"
    print(f"{alias} -> {target} ({late.target_count} documents); {source} {kept}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirefeed", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="create or upgrade indices and aliases (idempotent)")
    p.set_defaults(func=cmd_setup)

    security = sub.add_parser("security", help="the engine's users and roles for wirefeed")
    security_sub = security.add_subparsers(dest="security_command", required=True)
    p = security_sub.add_parser(
        "setup",
        help="create or update the least-privilege writer role and user (as a superuser)",
        description="Role <prefix>wirefeed_writer on every wirefeed index of "
        "WIREFEED_INDEX_PREFIX, user WIREFEED_ES_USER (default wirefeed) with password "
        "WIREFEED_ES_PASSWORD, and kibana_system's password from KIBANA_SYSTEM_PASSWORD if "
        "set; connects with ELASTICSEARCH_URL/USERNAME/PASSWORD.",
    )
    p.set_defaults(func=cmd_security_setup)

    p = sub.add_parser("reindex", help="copy an index into a new version and swap its alias")
    p.add_argument("index", choices=["articles", "feeds", "dedup-keys", "feed-health"])
    p.add_argument("--delete-old", action="store_true", help="delete the old version after")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("run", help="run ingest cycles")
    p.add_argument("--once", action="store_true", required=True, help="run one cycle and exit")
    p.add_argument("--feeds", help="feeds file (YAML); default: the feeds registered in the index")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("search", help="full-text search over stories")
    p.add_argument("query")
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("extract", help="main text and metadata of a saved article page")
    p.add_argument("path", help="an .html or .html.gz file")
    p.add_argument("--url", help="the page's address (resolves links, picks site rules)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("entities", help="people, organisations and places named in a text")
    p.add_argument("path", nargs="?", default="-", help="a text file, or - for stdin (default)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("reenrich", help="re-enrich stored stories in place (no re-fetch)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every story")
    which.add_argument(
        "--outdated", action="store_true", help="only stories of another version (default)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reenrich)

    p = sub.add_parser("story", help="the story that holds the copy with this URL")
    p.add_argument("url")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_story)

    feeds = sub.add_parser("feeds", help="the feed registry and feed health")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    p = feeds_sub.add_parser("status", help="one line (or JSON object) per feed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--feeds", help="feeds file: also list its never-polled feeds")
    p.set_defaults(func=cmd_feeds_status)
    p = feeds_sub.add_parser("import", help="import an OPML subscription list")
    p.add_argument("file", help="OPML file")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--output", help="write or extend this feeds file (YAML)")
    target.add_argument("--register", action="store_true", help="register in the feeds index")
    p.set_defaults(func=cmd_feeds_import)
    return parser


class _Redacting(io.TextIOBase):
    """A text stream that blanks out secret values before they reach the real one."""

    def __init__(self, inner: TextIO, secrets: tuple[str, ...]) -> None:
        self._inner, self._secrets = inner, secrets

    def write(self, text: str) -> int:
        self._inner.write(redact(text, self._secrets))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()


def main(argv: Sequence[str] | None = None) -> int:
    secrets = secret_values(os.environ)
    if not secrets:
        return _main(argv)
    # Everything the command prints or logs goes through these, tracebacks included.
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Redacting(real[0], secrets), _Redacting(real[1], secrets)
    try:
        return _main(argv)
    except Exception:
        traceback.print_exc()
        return EXIT_FAILED
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = real


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The transport logs each failed attempt with a traceback; one clear line is ours to print.
    logging.getLogger("elastic_transport").setLevel(
        logging.INFO if args.verbose else logging.CRITICAL
    )
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except ConfigError as exc:
        print(f"wirefeed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # the engine down, a refused write: say what, exit non-zero
        from elasticsearch import ApiError, TransportError

        if isinstance(exc, ApiError | TransportError):
            print(f"wirefeed: search engine error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        raise
