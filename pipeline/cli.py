"""`wirefeed` / `python -m pipeline`: the command line.

Exit codes: 0 done (a cycle with failed feeds is still done), 1 engine or runtime failure,
2 bad arguments, bad settings or a bad feeds file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict

from pipeline.config import ConfigError, Settings
from pipeline.sources import load_feeds
from pipeline.store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings.engine)
    actions = store.setup()
    print("\n".join(actions) if actions else "indices up to date")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.run import run_cycle

    feeds = load_feeds(args.feeds)
    store = Store.from_settings(settings.engine)
    store.setup()
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirefeed", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="create or upgrade indices and aliases (idempotent)")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("run", help="run ingest cycles")
    p.add_argument("--once", action="store_true", required=True, help="run one cycle and exit")
    p.add_argument("--feeds", required=True, help="feeds file (YAML)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("search", help="full-text search over stories")
    p.add_argument("query")
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
