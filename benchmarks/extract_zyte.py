"""Main-text quality on the Zyte article-extraction benchmark (development half).

Runs `pipeline.text.extract.extract_page`, plain `trafilatura.extract` (default settings, the raw
page) and plain readability-lxml over ../shared/corpora/articles/zyte-dev/ and prints, for
the tuning half and the held-out half of the pages apart (split by a stable hash of the page
id: tune on the first only), the mean token precision, recall and F1 of each against the gold
`articleBody` (whitespace tokens, multiset overlap, as the benchmark scores it); then every
page where wirefeed is more than 0.10 F1 below trafilatura alone, and wirefeed's pages/s.

    .venv/bin/python benchmarks/extract_zyte.py [--worst N] [--dir PATH]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura
from readability import Document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.feeds.declared import html_to_text  # noqa: E402
from pipeline.text.extract import extract_page  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "corpora" / "articles" / "zyte-dev"
HALVES = ("tuning", "held-out")
# A page where wirefeed scores this much F1 below trafilatura alone is listed.
SHORTFALL = 0.10

Scores = tuple[float, float, float]


def token_scores(predicted: str, gold: str) -> Scores:
    """Precision, recall, F1 of whitespace tokens as multisets."""
    pred, true = Counter(predicted.split()), Counter(gold.split())
    overlap = sum((pred & true).values())
    precision = overlap / sum(pred.values()) if pred else 0.0
    recall = overlap / sum(true.values()) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def half_of(page_id: str) -> str:
    """The page's half: the first byte of the SHA-256 of its id, even or odd."""
    return HALVES[hashlib.sha256(page_id.encode("utf-8")).digest()[0] % 2]


def wirefeed_text(page: bytes, url: str | None) -> str:
    return extract_page(page, url=url).text


def trafilatura_text(page: bytes, _url: str | None) -> str:
    return trafilatura.extract(page) or ""


def readability_text(page: bytes, _url: str | None) -> str:
    return html_to_text(Document(page).summary(html_partial=True))


EXTRACTORS: dict[str, Callable[[bytes, str | None], str]] = {
    "wirefeed": wirefeed_text,
    "trafilatura": trafilatura_text,
    "readability": readability_text,
}


def mean(scores: list[Scores]) -> Scores:
    n = len(scores) or 1
    p, r, f = (sum(s[i] for s in scores) / n for i in range(3))
    return p, r, f


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--worst", type=int, default=0, help="list wirefeed's N lowest-F1 pages")
    args = parser.parse_args()
    truth_file = args.dir / "ground-truth.json"
    if not truth_file.exists():
        print(f"corpus not found: {truth_file}", file=sys.stderr)
        return 2
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pages = {
        key: gzip.decompress((args.dir / "html" / f"{key}.html.gz").read_bytes()) for key in truth
    }
    halves = {key: half_of(key) for key in pages}
    scores: dict[str, dict[str, Scores]] = {}
    pages_per_s: dict[str, float] = {}
    for name, extract in EXTRACTORS.items():
        started = time.perf_counter()
        texts = {key: extract(page, truth[key].get("url")) for key, page in pages.items()}
        pages_per_s[name] = len(pages) / (time.perf_counter() - started)
        scores[name] = {key: token_scores(texts[key], truth[key]["articleBody"]) for key in texts}
    for half in HALVES:
        keys = [key for key in pages if halves[key] == half]
        print(f"{half} half: {len(keys)} pages")
        for name in EXTRACTORS:
            p, r, f = mean([scores[name][key] for key in keys])
            print(f"  {name:12} precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}")
    ours, plain = scores["wirefeed"], scores["trafilatura"]
    behind = sorted(k for k in pages if ours[k][2] < plain[k][2] - SHORTFALL)
    print(f"pages where wirefeed is more than {SHORTFALL:.2f} F1 below trafilatura: {len(behind)}")
    for key in behind:
        print(
            f"  {key[:12]}  {halves[key]:8}  wirefeed F1 {ours[key][2]:.3f}  "
            f"trafilatura F1 {plain[key][2]:.3f}  {truth[key].get('url')}"
        )
    rates = "  ".join(f"{name} {rate:.1f}" for name, rate in pages_per_s.items())
    print(f"pages/s: {rates}")
    for key in sorted(ours, key=lambda k: ours[k][2])[: args.worst]:
        p, r, f = ours[key]
        url = truth[key].get("url")
        print(f"  {key[:12]}  {halves[key]:8}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}  {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
