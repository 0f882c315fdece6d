"""A loopback HTTP proxy in front of the REAL search engine that injects faults on cue.

Traffic is forwarded unchanged to the real engine unless a rule matches a request; a rule
can answer a status of its own (429, 401, ...) without forwarding, forward and then drop
the connection before the answer reaches the client (the write happened, the client never
hears of it), drop without forwarding, or run a hook first (stop the engine, kill a
process). Every injected fault is counted in `injected`.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te"}


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Match = Callable[[ProxyRequest], bool]


@dataclass
class Rule:
    """What to do with the next `times` requests that `match` accepts.

    action: "answer" (status + body, not forwarded), "drop" (close, not forwarded),
    "drop_after" (forward, call `hook` if any, then close without answering), "hook" (call
    `hook`, then forward; if forwarding fails the connection is dropped).
    """

    match: Match
    action: str
    times: int = 1
    status: int = 429
    body: bytes = b""
    hook: Callable[[ProxyRequest], None] | None = None
    used: int = 0


def bulk_to(index: str) -> Match:
    """A bulk request carrying an action on `index` (the alias or a concrete index)."""
    needle = f'"_index":"{index}'.encode()
    return lambda r: "/_bulk" in r.path and needle in r.body.replace(b" ", b"")


def path_contains(fragment: str) -> Match:
    return lambda r: fragment in r.path


@dataclass
class Seen:
    method: str
    path: str
    outcome: str


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules: list[Rule] = []
        self.injected = 0
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = ProxyRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                rule = proxy._take_rule(request)
                action = rule.action if rule else "forward"
                proxy._record(request, action)
                if rule is not None and rule.action == "answer":
                    self._answer(rule.status, {"content-type": "application/json"}, rule.body)
                    return
                if rule is not None and rule.action == "drop":
                    self.close_connection = True
                    return
                if rule is not None and rule.action == "hook" and rule.hook is not None:
                    rule.hook(request)
                try:
                    status, headers, payload = proxy._forward(request)
                except OSError:
                    # The engine is gone: the client sees the connection close unanswered.
                    proxy._record(request, "upstream_down")
                    self.close_connection = True
                    return
                if rule is not None and rule.action == "drop_after":
                    if rule.hook is not None:
                        rule.hook(request)
                    self.close_connection = True
                    return
                self._answer(status, headers, payload)

            def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def answer(self, match: Match, status: int, times: int = 1, body: bytes = b"") -> Rule:
        body = body or b'{"error":{"type":"injected_fault","reason":"injected"},"status":%d}' % (
            status
        )
        return self.add(Rule(match, "answer", times, status, body))

    def drop(self, match: Match, times: int = 1, after_forward: bool = False) -> Rule:
        return self.add(Rule(match, "drop_after" if after_forward else "drop", times))

    def on(
        self, match: Match, hook: Callable[[ProxyRequest], None], after_forward: bool = False
    ) -> Rule:
        return self.add(Rule(match, "drop_after" if after_forward else "hook", 1, hook=hook))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take_rule(self, request: ProxyRequest) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.used < rule.times and rule.match(request):
                    rule.used += 1
                    self.injected += 1
                    return rule
        return None

    def _record(self, request: ProxyRequest, outcome: str) -> None:
        with self._lock:
            self.seen.append(Seen(request.method, request.path, outcome))

    def _forward(self, request: ProxyRequest) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            conn.request(request.method, request.path, body=request.body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, dict(response.getheaders()), payload
        finally:
            conn.close()

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
