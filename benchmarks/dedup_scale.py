"""Dedup cost per article with 1,000 and with 100,000 stories already indexed.

Runs against the real engine (ELASTICSEARCH_URL, ELASTICSEARCH_USERNAME and _PASSWORD, as
`scripts/search-engine env` prints them for the local one) under two
benchmark-only index prefixes (one per size) that it deletes afterwards. Stories are
preloaded in bulk the way the pipeline stores them: the story document, its signature
document, its body key and look-up keys, and its URL and guid keys. Then batches of fresh
articles go through the whole dedup path (exact_dedup, assign_stories, write_assignment),
alternating between the two sizes: half are syndicated copies of stored stories (dateline
added, last paragraph cut), half are new stories. Every look-up is a get by document id
(mget), never a search or a scan, so the cost should not grow with the index.

    .venv/bin/python benchmarks/dedup_scale.py [--small 1000] [--large 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from elasticsearch import helpers  # noqa: E402

from pipeline.config import Settings  # noqa: E402
from pipeline.index.store import Store, make_client  # noqa: E402
from pipeline.models import Article  # noqa: E402
from pipeline.stories.assign import assign_stories, exact_dedup, write_assignment  # noqa: E402
from pipeline.stories.dedup import (  # noqa: E402
    body_key,
    fingerprint,
    guid_key,
    signature_source,
    story_id_for,
    url_key,
)
from pipeline.stories.documents import new_story  # noqa: E402

NOW = datetime(2026, 3, 1, tzinfo=UTC)
VOCABULARY = [
    f"{a}{b}" for a in ("ka", "to", "ri", "su", "me", "lo", "na", "vi") for b in range(800)
]
PARAGRAPHS, WORDS = 4, 25


def body_for(n: int) -> str:
    rng = random.Random(n)
    return "\n\n".join(" ".join(rng.choices(VOCABULARY, k=WORDS)) for _ in range(PARAGRAPHS))


def article(n: int, outlet: str, body: str) -> Article:
    return Article(
        url=f"https://{outlet}/story/{n}",
        source=outlet,
        feed_url=f"https://{outlet}/feed",
        guid=f"{outlet}-{n}",
        title=f"Story {n}",
        body=body,
        published_at=NOW,
        fetched_at=NOW,
    )


def preload_actions(store: Store, first: int, last: int):
    """Bulk actions for stories first..last-1 exactly as the pipeline writes them."""
    for n in range(first, last):
        a = article(n, "wire.example", body_for(n))
        fp = fingerprint(a.body)
        story_id = story_id_for(a.url)
        yield {"_index": store.articles, "_id": story_id, "_source": new_story([(a, fp)])}
        yield {
            "_index": store.dedup_keys,
            "_id": f"sig:{story_id}",
            "_source": signature_source(story_id, fp),
        }
        keys = [(k, k.split(":", 1)[0]) for k in fp.lookup_keys]
        keys += [(body_key(fp.body_hash), "body"), (url_key(a.url), "url")]
        keys.append((guid_key(a.feed_url, a.guid), "guid"))
        for key, kind in keys:
            yield {
                "_index": store.dedup_keys,
                "_id": key,
                "_source": {"story_id": story_id, "kind": kind},
            }


def preload(store: Store, count: int) -> float:
    """Bulk-load `count` stories; refresh and translog fsync are off while loading."""
    started = time.perf_counter()
    names = [store.articles, store.dedup_keys]
    loading = {"refresh_interval": "-1", "translog.durability": "async"}
    store.client.indices.put_settings(index=names, settings=loading)
    for ok, item in helpers.parallel_bulk(
        store.client,
        preload_actions(store, 0, count),
        thread_count=2,
        chunk_size=5000,
        raise_on_error=True,
    ):
        if not ok:
            raise RuntimeError(item)
    serving = {"refresh_interval": "1s", "translog.durability": "request"}
    store.client.indices.put_settings(index=names, settings=serving)
    store.refresh()
    return time.perf_counter() - started


def batch(stored: int, start: int, size: int) -> list[Article]:
    """Half copies of stored stories (dateline, cut paragraph), half new stories."""
    rng = random.Random(start)
    articles = []
    for i in range(size):
        if i % 2 == 0:
            n = rng.randrange(stored)
            paragraphs = body_for(n).split("\n\n")
            body = "\n\n".join(["PARIS (AFP) - " + paragraphs[0], *paragraphs[1:-1]])
            articles.append(article(start + i, "daily.example", body))
        else:
            articles.append(article(start + i, "wire.example", body_for(start + i)))
    return articles


def timed_batch(store: Store, stored: int, start: int, size: int) -> tuple[float, int]:
    """Seconds per article for one batch through the whole dedup path, and copies made."""
    articles = batch(stored, start, size)
    started = time.perf_counter()
    result = write_assignment(assign_stories(exact_dedup(articles, store), store), store)
    return (time.perf_counter() - started) / size, result.copies_new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    client = make_client(Settings.from_env().engine)
    run = uuid.uuid4().hex[:8]
    sizes = {"small": args.small, "large": args.large}
    prefixes = {label: f"bench-dedup-{run}-{label}-" for label in sizes}
    stores = {label: Store(client, prefix) for label, prefix in prefixes.items()}
    try:
        for label, store in stores.items():
            store.setup()
            print(f"preloaded {sizes[label]} stories in {preload(store, sizes[label]):.1f} s")
        # Rounds alternate between the two sizes, so background load on the machine (and
        # the engine's own merging after the load) weighs on both alike. Round 0 warms up.
        times: dict[str, list[float]] = {label: [] for label in sizes}
        copies = dict.fromkeys(sizes, 0)
        for r in range(args.rounds + 1):
            for label, store in stores.items():
                start = 10 * args.large + r * args.batch
                seconds, made = timed_batch(store, sizes[label], start, args.batch)
                if r:
                    times[label].append(seconds)
                    copies[label] += made
        for label, store in stores.items():
            keys = client.count(index=store.dedup_keys)["count"]
            median = statistics.median(times[label]) * 1000
            print(
                f"{label}: {sizes[label]:>7} stories ({keys} key documents): {median:.2f} ms "
                f"per article (median of {args.rounds} batches of {args.batch}; "
                f"{copies[label] / (args.rounds * args.batch):.0%} became copies)"
            )
        ratio = statistics.median(times["large"]) / statistics.median(times["small"])
        print(f"ratio large/small: {ratio:.2f} (target <= 1.3)")
    finally:
        for label, store in stores.items():
            names = list(client.indices.get(index=f"{prefixes[label]}*"))
            if names:
                client.indices.delete(index=names)
            store.drop_templates()
        client.close()


if __name__ == "__main__":
    main()
