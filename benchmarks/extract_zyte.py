"""Main-text quality on the Zyte article-extraction benchmark (development half).

Runs `pipeline.extract.extract_page` over ../shared/corpora/articles/zyte-dev/ and prints the
mean token precision, recall and F1 of `text` against the gold `articleBody` (whitespace
tokens, multiset overlap, as the benchmark scores it) and pages per second.

    .venv/bin/python benchmarks/extract_zyte.py [--worst N] [--dir PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.extract import extract_page  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "corpora" / "articles" / "zyte-dev"


def token_scores(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of whitespace tokens as multisets."""
    pred, true = Counter(predicted.split()), Counter(gold.split())
    overlap = sum((pred & true).values())
    precision = overlap / sum(pred.values()) if pred else 0.0
    recall = overlap / sum(true.values()) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--worst", type=int, default=0, help="list the N lowest-F1 pages")
    args = parser.parse_args()
    truth_file = args.dir / "ground-truth.json"
    if not truth_file.exists():
        print(f"corpus not found: {truth_file}", file=sys.stderr)
        return 2
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pages = {
        key: gzip.decompress((args.dir / "html" / f"{key}.html.gz").read_bytes()) for key in truth
    }
    scores: dict[str, tuple[float, float, float]] = {}
    started = time.perf_counter()
    for key, page in pages.items():
        result = extract_page(page, url=truth[key].get("url"))
        scores[key] = token_scores(result.text, truth[key]["articleBody"])
    elapsed = time.perf_counter() - started
    n = len(scores)
    mean = [sum(s[i] for s in scores.values()) / n for i in range(3)]
    print(f"pages {n}  precision {mean[0]:.4f}  recall {mean[1]:.4f}  F1 {mean[2]:.4f}")
    print(f"time {elapsed:.2f}s  pages/s {n / elapsed:.1f}")
    for key in sorted(scores, key=lambda k: scores[k][2])[: args.worst]:
        p, r, f = scores[key]
        print(f"  {key[:12]}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}  {truth[key].get('url')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
