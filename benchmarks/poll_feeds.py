"""Poll 1,000 feeds on a loopback feed farm: all changed, then all unchanged.

    .venv/bin/python benchmarks/poll_feeds.py [--feeds 1000] [--hosts 50]

The farm runs in its own process and listens on --hosts loopback addresses (127.0.0.1,
127.0.0.2, ...), so the per-host limit applies as it would across real publishers. Bodies
are the real news captures in ../shared/corpora/feeds/publisher_captures, read by path.
Measures the polling half (fetch, conditional GET, hash skip, parse, next state), not the
indexing half. Prints feeds/s for each pass.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import hashlib
import ipaddress
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import FetchSettings  # noqa: E402
from pipeline.feeds.poll import poll_batch  # noqa: E402
from pipeline.models import FeedSource  # noqa: E402

CAPTURES = ROOT.parent / "shared" / "corpora" / "feeds" / "publisher_captures"


def news_bodies() -> list[bytes]:
    with (CAPTURES / "MANIFEST.csv").open(encoding="utf-8") as manifest:
        rows = [r for r in csv.DictReader(manifest) if r["category"] == "news"]
    return [(CAPTURES / r["file"]).read_bytes() for r in rows]


def serve(hosts: list[str], port: int, ready: multiprocessing.Event) -> None:
    from aiohttp import web

    bodies = news_bodies()
    tags = [f'"{hashlib.sha1(b).hexdigest()}"' for b in bodies]

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        body, tag = bodies[n % len(bodies)], tags[n % len(bodies)]
        # "validators" feeds answer conditional GETs; "plain" ones ignore them.
        if request.match_info["kind"] == "validators":
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers={"ETag": tag})
            return web.Response(
                body=body, content_type="application/rss+xml", headers={"ETag": tag}
            )
        return web.Response(body=body, content_type="application/rss+xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{kind}/{n}.xml", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for host in hosts:
            await web.TCPSite(runner, host, port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def timed_pass(label: str, feeds, states, settings) -> dict:
    started = time.perf_counter()
    results = poll_batch(feeds, states, settings)
    elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.outcome.status] = statuses.get(r.outcome.status, 0) + 1
    print(f"{label:42} {len(feeds) / elapsed:8.1f} feeds/s  ({elapsed:.2f}s, {statuses})")
    return {r.feed.url: r.state for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args()
    if not CAPTURES.exists():
        sys.exit(f"missing corpus: {CAPTURES}")
    hosts = [str(ipaddress.IPv4Address("127.0.0.1") + i) for i in range(args.hosts)]
    ready = multiprocessing.Event()
    farm = multiprocessing.Process(target=serve, args=(hosts, args.port, ready), daemon=True)
    farm.start()
    try:
        if not ready.wait(30):
            sys.exit("feed farm did not start")
        settings = dataclasses.replace(
            FetchSettings(), only_networks=(ipaddress.ip_network("127.0.0.0/8"),)
        )
        print(
            f"{args.feeds} feeds on {args.hosts} loopback hosts, per-host limit "
            f"{settings.per_host_limit}, global limit {settings.global_limit}"
        )
        for kind in ("validators", "plain"):
            feeds = [
                FeedSource(f"http://{hosts[n % len(hosts)]}:{args.port}/{kind}/{n}.xml")
                for n in range(args.feeds)
            ]
            states = timed_pass(f"{kind}: all changed (first poll)", feeds, {}, settings)
            how = "304 Not Modified" if kind == "validators" else "body-hash skip"
            timed_pass(f"{kind}: all unchanged ({how})", feeds, states, settings)
    finally:
        farm.terminate()
        farm.join()


if __name__ == "__main__":
    main()
