"""Words per second of the whole enrichment stage next to raw spaCy NER on the same texts.

    .venv/bin/python benchmarks/enrich_speed.py [--rounds 3] [--full]

Texts: the gold article bodies of ../shared/corpora/articles/zyte-dev/ground-truth.json,
read by path. "raw" is `nlp.pipe` over the NER-only pipeline the stage itself loads, docs
discarded; "stage" is Enricher.enrich (checks, NER, name resolution, counting), every text
marked English so that both read exactly the same texts (the corpus has a few in other
languages, which the stage would otherwise skip, flattering it). Rounds
alternate the two so that load from other processes hits both alike; the best round of
each counts. `--full` also times the model with all its components, to show what
excluding the others saves. Exits 1 when the stage keeps less than 80% of raw.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.entities.ner import Enricher, EnrichSettings, load_ner  # noqa: E402
from pipeline.models import StoryText  # noqa: E402

GOLD = ROOT.parent / "shared" / "corpora" / "articles" / "zyte-dev" / "ground-truth.json"
REQUIRED_SHARE = 0.80


def _best_seconds(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time the full model")
    args = parser.parse_args()
    if not GOLD.exists():
        print(f"corpus not found: {GOLD}", file=sys.stderr)
        return 2
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    texts = [entry["articleBody"] for entry in gold.values()]
    stories = [StoryText(key, "", text, "en") for key, text in zip(gold, texts, strict=True)]
    words = sum(len(text.split()) for text in texts)

    settings = EnrichSettings.from_env()
    enricher = Enricher(settings)
    model = dict(settings.models)["en"]
    nlp = load_ner(model)
    batch = settings.batch_size
    enricher.enrich(stories[:4])  # warm-up: first calls allocate

    def raw() -> None:
        for _doc in nlp.pipe(texts, batch_size=batch):
            pass

    def stage() -> None:
        enricher.enrich(stories)

    raw_best = stage_best = float("inf")
    for _ in range(args.rounds):
        raw_best = min(raw_best, _best_seconds(raw, 1))
        stage_best = min(stage_best, _best_seconds(stage, 1))
    raw_rate, stage_rate = words / raw_best, words / stage_best
    share = stage_rate / raw_rate

    print(f"texts {len(texts)}, words {words}, model {model} ({', '.join(nlp.pipe_names)})")
    print(f"version            {enricher.version}")
    print(f"raw NER only       {raw_rate:9.0f} words/s  ({raw_best:.2f} s)")
    print(f"enrichment stage   {stage_rate:9.0f} words/s  ({stage_best:.2f} s)")
    print(f"stage / raw        {share:9.1%}  (required >= {REQUIRED_SHARE:.0%})")
    if args.full:
        import spacy

        full = spacy.load(model)
        full_best = _best_seconds(lambda: list(full.pipe(texts, batch_size=batch)), args.rounds)
        print(
            f"full model         {words / full_best:9.0f} words/s  ({full_best:.2f} s, "
            f"{', '.join(full.pipe_names)})"
        )
    return 0 if share >= REQUIRED_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
