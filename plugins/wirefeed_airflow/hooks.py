"""A hook keyed by conn_id that builds the official Elasticsearch client lazily."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from elasticsearch import Elasticsearch


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() not in ("false", "0", "no", "off")


class WirefeedElasticsearchHook(BaseHook):
    """Connection fields: host, port, schema (http/https), login/password; extras:
    `api_key`, `ca_certs`, `verify_certs`, `index_prefix`."""

    conn_name_attr = "elasticsearch_conn_id"
    default_conn_name = "elasticsearch_default"
    conn_type = "elasticsearch"
    hook_name = "Elasticsearch (wirefeed)"

    def __init__(self, elasticsearch_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.elasticsearch_conn_id = elasticsearch_conn_id
        self._client: Elasticsearch | None = None
        self._extra: dict[str, Any] | None = None

    def _connection_kwargs(self) -> tuple[str, dict[str, Any]]:
        conn = self.get_connection(self.elasticsearch_conn_id)
        extra = conn.extra_dejson
        self._extra = extra
        host = conn.host or "localhost"
        if "://" in host:  # a full URL typed into the host field
            url = host if conn.port is None else f"{host.rstrip('/')}:{conn.port}"
        else:
            # A URI connection (https://user:pw@host:port) puts the scheme in conn_type.
            scheme = (
                conn.schema
                or extra.get("scheme")
                or (conn.conn_type if conn.conn_type in ("http", "https") else "http")
            ).lower()
            if scheme not in ("http", "https"):
                scheme = "http"
            url = f"{scheme}://{host}:{conn.port or 9200}"
        kwargs: dict[str, Any] = {"request_timeout": 60, "retry_on_timeout": True}
        if extra.get("api_key"):
            kwargs["api_key"] = extra["api_key"]
        elif conn.login:
            kwargs["basic_auth"] = (conn.login, conn.password or "")
        if extra.get("ca_certs"):
            kwargs["ca_certs"] = extra["ca_certs"]
        if "verify_certs" in extra:
            kwargs["verify_certs"] = _truthy(extra["verify_certs"])
        return url, kwargs

    def get_conn(self) -> Elasticsearch:
        """The client, built on first use: constructing the hook does no I/O."""
        if self._client is None:
            url, kwargs = self._connection_kwargs()
            self._client = Elasticsearch(url, **kwargs)
        return self._client

    @property
    def index_prefix(self) -> str:
        if self._extra is None:
            self.get_conn()
        return str((self._extra or {}).get("index_prefix", ""))
