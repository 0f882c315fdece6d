"""The Elasticsearch hook: an Airflow Connection in, the official client out, built lazily."""

from __future__ import annotations

import base64
import json

import pytest
from elastic_transport import SecurityWarning
from wirefeed_airflow.hooks import WirefeedElasticsearchHook


def _connection(monkeypatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def _node(client):
    (node,) = client.transport.node_pool.all()
    return node.config


def test_building_the_hook_looks_nothing_up():
    hook = WirefeedElasticsearchHook("no_such_connection")  # no lookup, no client yet
    assert hook.elasticsearch_conn_id == "no_such_connection"
    with pytest.raises(Exception, match="no_such_connection"):
        hook.get_conn()


def test_https_api_key_and_tls_extras(monkeypatch):
    _connection(
        monkeypatch,
        "es_tls",
        conn_type="elasticsearch",
        host="es.internal",
        port=9243,
        schema="https",
        login="ignored-when-api-key",
        password="secret-password",
        extra={
            "api_key": "a2V5OnNlY3JldA==",
            "ca_certs": "/etc/ssl/ca.pem",
            "verify_certs": "false",
        },
    )
    # The client warns about verify_certs=False; the extra must still reach it.
    with pytest.warns(SecurityWarning, match="verify_certs=False"):
        client = WirefeedElasticsearchHook("es_tls").get_conn()
    node = _node(client)
    assert (node.scheme, node.host, node.port) == ("https", "es.internal", 9243)
    assert (node.ca_certs, node.verify_certs) == ("/etc/ssl/ca.pem", False)
    assert client._headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="


def test_login_and_password_are_basic_auth_and_the_client_is_built_once(monkeypatch):
    _connection(
        monkeypatch,
        "es_basic",
        conn_type="elasticsearch",
        host="127.0.0.1",
        port=9200,
        login="wirefeed",
        password="s3cret-pass",
        extra={"index_prefix": "staging-"},
    )
    hook = WirefeedElasticsearchHook("es_basic")
    client = hook.get_conn()
    assert hook.get_conn() is client
    node = _node(client)
    assert (node.scheme, node.port) == ("http", 9200)
    token = base64.b64encode(b"wirefeed:s3cret-pass").decode()
    assert client._headers["authorization"] == f"Basic {token}"
    assert hook.index_prefix == "staging-"


def test_a_url_in_the_host_field(monkeypatch):
    _connection(monkeypatch, "es_url", conn_type="elasticsearch", host="https://es.example:9443")
    node = _node(WirefeedElasticsearchHook("es_url").get_conn())
    assert (node.scheme, node.host, node.port) == ("https", "es.example", 9443)


@pytest.mark.engine
def test_the_client_logs_in_to_the_real_engine(monkeypatch, engine_settings):
    host, port = engine_settings.url.rsplit("//", 1)[1].rsplit(":", 1)
    _connection(
        monkeypatch,
        "es_real",
        conn_type="elasticsearch",
        host=host,
        port=int(port),
        login=engine_settings.username,
        password=engine_settings.password,
    )
    client = WirefeedElasticsearchHook("es_real").get_conn()
    assert client.security.authenticate()["username"] == engine_settings.username
    assert client.cluster.health()["status"] in ("green", "yellow")


def test_a_uri_connection_keeps_its_https_scheme(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ES_URI", "https://elastic:pw@es.internal:9243")
    client = WirefeedElasticsearchHook("es_uri").get_conn()
    node = _node(client)
    assert (node.scheme, node.host, node.port) == ("https", "es.internal", 9243)
    expected = base64.b64encode(b"elastic:pw").decode()
    assert client._headers["authorization"] == f"Basic {expected}"


def test_several_nodes_in_the_host_field(monkeypatch):
    _connection(
        monkeypatch, "es_nodes", conn_type="elasticsearch", host="es1,es2:9201, es3", port=9200
    )
    client = WirefeedElasticsearchHook("es_nodes").get_conn()
    nodes = sorted((n.config.host, n.config.port) for n in client.transport.node_pool.all())
    assert nodes == [("es1", 9200), ("es2", 9201), ("es3", 9200)]
