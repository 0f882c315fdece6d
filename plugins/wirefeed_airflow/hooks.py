"""A hook keyed by conn_id that builds the official Elasticsearch client lazily."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from elasticsearch import Elasticsearch

from pipeline.config import EngineSettings
from pipeline.index.store import make_client


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() not in ("false", "0", "no", "off")


def _node_url(host: str, scheme: str, port: int | None) -> str:
    if "://" in host:  # a full URL typed into the host field
        has_port = ":" in host.split("://", 1)[1]
        return host if port is None or has_port else f"{host.rstrip('/')}:{port}"
    if ":" in host:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port or 9200}"


class WirefeedElasticsearchHook(BaseHook):
    """Connection fields: host (several nodes: comma-separated), port, schema (http/https),
    login/password; extras: `api_key`, `ca_certs`, `verify_certs`, `index_prefix`."""

    conn_name_attr = "elasticsearch_conn_id"
    default_conn_name = "elasticsearch_default"
    conn_type = "elasticsearch"
    hook_name = "Elasticsearch (wirefeed)"

    def __init__(self, elasticsearch_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.elasticsearch_conn_id = elasticsearch_conn_id
        self._client: Elasticsearch | None = None
        self._settings: EngineSettings | None = None

    def engine_settings(self) -> EngineSettings:
        """The connection as pipeline settings, looked up on first use."""
        if self._settings is None:
            self._settings = self._read_connection()
        return self._settings

    def _read_connection(self) -> EngineSettings:
        conn = self.get_connection(self.elasticsearch_conn_id)
        extra = conn.extra_dejson
        # Several nodes: comma-separated hosts (each may carry its own port, else the
        # connection's), or full URLs.
        hosts = [h.strip() for h in (conn.host or "localhost").split(",") if h.strip()]
        scheme = (
            conn.schema
            or extra.get("scheme")
            # A URI connection (https://user:pw@host:port) puts the scheme in conn_type.
            or (conn.conn_type if conn.conn_type in ("http", "https") else "http")
        ).lower()
        if scheme not in ("http", "https"):
            scheme = "http"
        url = ",".join(_node_url(host, scheme, conn.port) for host in hosts)
        return EngineSettings(
            url=url,
            api_key=extra.get("api_key") or None,
            username=conn.login or None,
            password=conn.password or None,
            index_prefix=str(extra.get("index_prefix", "")),
            ca_certs=extra.get("ca_certs") or None,
            verify_certs=_truthy(extra.get("verify_certs", True)),
        )

    def get_conn(self) -> Elasticsearch:
        """The client, built on first use: constructing the hook does no I/O."""
        if self._client is None:
            self._client = make_client(self.engine_settings())
        return self._client

    @property
    def index_prefix(self) -> str:
        return self.engine_settings().index_prefix
