"""Loopback header shim between the official Elasticsearch client and the local OpenSearch.

For tests and local runs only; production talks to Elasticsearch directly. The
`elasticsearch` 8.x client sends `compatible-with=8` vendor media types,
which OpenSearch rejects, and refuses any server that does not answer with
`X-Elastic-Product: Elasticsearch`. This proxy rewrites exactly those headers and passes
everything else (method, path, query, body, status, other headers) through unchanged.

Usage: python es_compat_shim.py LISTEN_PORT UPSTREAM_PORT
"""

from __future__ import annotations

import http.client
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_VENDOR = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with=\d+")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def plain_media_type(value: str) -> str:
    """`application/vnd.elasticsearch+json; compatible-with=8` -> `application/json`."""
    return _VENDOR.sub(lambda m: f"application/{m.group(1)}", value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0
    _local = threading.local()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=300)
            self._local.conn = conn
        return conn

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {}
        for name, value in self.headers.items():
            if name.lower() in _HOP_BY_HOP or name.lower() == "host":
                continue
            if name.lower() in ("accept", "content-type"):
                value = plain_media_type(value)
            headers[name] = value
        for attempt in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    self.send_error(502, "search engine unreachable")
                    return
        self.send_response(resp.status, resp.reason)
        for name, value in resp.getheaders():
            if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                continue
            self.send_header(name, value)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


def main() -> None:
    listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    _Handler.upstream_port = upstream_port
    server = ThreadingHTTPServer(("127.0.0.1", listen_port), _Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
