"""The Elasticsearch client, as every part of wirefeed builds it: auth, retries, orjson."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.exceptions import SerializationError
from elasticsearch.serializer import JsonSerializer, OrjsonSerializer

from pipeline.config import EngineSettings


class FastJsonSerializer(OrjsonSerializer):
    """orjson: a cycle's bulk bodies and mget answers are tens of thousands of documents,
    which the standard library's json takes several times longer over. What orjson refuses
    (a lone surrogate from a broken page, sent or stored) goes through the standard
    serializer, as before: the engine then judges that document alone."""

    def dumps(self, data: Any) -> bytes:
        try:
            return super().dumps(data)
        except SerializationError:
            return JsonSerializer().dumps(data)

    def loads(self, data: bytes) -> Any:
        try:
            return super().loads(data)
        except SerializationError:
            return JsonSerializer().loads(data)


def make_client(engine: EngineSettings) -> Elasticsearch:
    kwargs: dict[str, Any] = {
        "request_timeout": 60,
        "retry_on_timeout": True,
        "max_retries": 3,
        "serializer": FastJsonSerializer(),
    }
    if engine.api_key:
        kwargs["api_key"] = engine.api_key
    elif engine.username:
        kwargs["basic_auth"] = (engine.username, engine.password or "")
    if engine.ca_certs:
        kwargs["ca_certs"] = engine.ca_certs
    if not engine.verify_certs:
        kwargs["verify_certs"] = False
    return Elasticsearch(engine.urls, **kwargs)
