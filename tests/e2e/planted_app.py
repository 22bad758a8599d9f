"""A tiny shop application with planted behaviour, served behind the real web servers.

The behaviour is a pure function of the request (method and path), so a request plan knows
exactly which status and which route every request gets:

- ``GET /report/{id}`` sleeps ``SLOW_MS`` (+ up to 75 ms by id): the slow route (P004).
- ``POST /api/orders/{id}/pay`` fails: 500 when id % 8 == 0, and when id % 13 == 0 (else) the
  app drops the connection without answering, which the proxy logs as 502 (A001).
- Everything else answers quickly; unknown paths (scanner probes) get 404.

Routes are named as logtriage templates them: ids and UUIDs by shape, product slugs as
``{param}`` once a plan uses more distinct slugs than the templating threshold (40).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SLOW_ROUTE = "GET /report/{id}"
SLOW_MS = 300
FAILING_ROUTE = "POST /api/orders/{id}/pay"
# What the proxy in front logs when the app closes the connection without a response.
DROPPED = 502

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# (method, path regex, route as logtriage templates it)
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"/"), "GET /"),
    ("GET", re.compile(r"/search"), "GET /search"),
    ("GET", re.compile(r"/products/[a-z-]+"), "GET /products/{param}"),
    ("GET", re.compile(r"/cart"), "GET /cart"),
    ("POST", re.compile(r"/login"), "POST /login"),
    ("GET", re.compile(r"/api/orders/\d+"), "GET /api/orders/{id}"),
    ("POST", re.compile(r"/api/orders/\d+/pay"), FAILING_ROUTE),
    ("GET", re.compile(rf"/api/users/{_UUID}"), "GET /api/users/{uuid}"),
    ("GET", re.compile(r"/api/products/\d+/reviews"), "GET /api/products/{id}/reviews"),
    ("GET", re.compile(r"/report/\d+"), SLOW_ROUTE),
)


# Approximate response sizes of the HTML pages (API routes answer small JSON).
_BODY_BYTES = {
    "GET /": 18_000,
    "GET /search": 9_000,
    "GET /products/{param}": 14_000,
    "GET /cart": 6_000,
    SLOW_ROUTE: 48_000,
}


@dataclass(frozen=True)
class Outcome:
    """What the app does with one request: the status the client sees and any delay."""

    route: str | None
    status: int
    delay_ms: int = 0


def _last_id(path: str) -> int:
    return int(re.findall(r"\d+", path)[-1])


def outcome(method: str, target: str) -> Outcome:
    """The planted behaviour for ``method target`` (``target`` may carry a query string)."""
    path = urlsplit(target).path
    route = next((name for m, regex, name in ROUTES if m == method and regex.fullmatch(path)), None)
    if route is None:
        return Outcome(None, 404)
    if route == SLOW_ROUTE:
        return Outcome(route, 200, SLOW_MS + 25 * (_last_id(path) % 4))
    if route == FAILING_ROUTE:
        order = _last_id(path)
        if order % 8 == 0:
            return Outcome(route, 500)
        if order % 13 == 0:
            return Outcome(route, DROPPED)
        return Outcome(route, 201)
    if route == "POST /login":
        return Outcome(route, 302)
    return Outcome(route, 200)


class _Handler(BaseHTTPRequestHandler):
    """Answers every request from ``outcome``; quiet (the web server's log is the record)."""

    server_version = "planted-shop/1.0"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        result = outcome(self.command, self.path)
        if result.delay_ms:
            time.sleep(result.delay_ms / 1000)
        if result.status == DROPPED:
            # Crash mid-request: no status line at all, the proxy answers 502 for us.
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        meta = {
            "route": result.route,
            "path": path,
            "query": parse_qs(urlsplit(self.path).query),
            "request_id": self.headers.get("X-Request-ID"),
        }
        size = _BODY_BYTES.get(result.route or "", 0)
        if size:
            # Pages and reports are larger than API answers, and vary a little by path.
            filler = "<li>item</li>" * ((size + 97 * (len(path) % 23)) // 13)
            body = f"<html><!-- {json.dumps(meta)} --><ul>{filler}</ul></html>".encode()
            content_type = "text/html; charset=utf-8"
        else:
            body = json.dumps({**meta, "items": list(range(len(path) % 17 * 3))}).encode()
            content_type = "application/json"
        self.send_response(result.status)
        if result.status == 302:
            self.send_header("Location", "/")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer
    do_HEAD = _answer


@contextmanager
def serve_app() -> Iterator[int]:
    """Run the app on 127.0.0.1 on a free port in a background thread; yield the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="planted-app", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
