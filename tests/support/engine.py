"""The environment a `wirefeed` subprocess needs to reach the test's engine as its user."""

from __future__ import annotations

from pipeline.config import EngineSettings


def engine_env(engine: EngineSettings) -> dict[str, str]:
    return {
        "ELASTICSEARCH_URL": engine.url,
        "ELASTICSEARCH_USERNAME": engine.username or "",
        "ELASTICSEARCH_PASSWORD": engine.password or "",
        "WIREFEED_INDEX_PREFIX": engine.index_prefix,
    }
