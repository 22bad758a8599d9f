"""``logtriage watch`` live: a real nginx and a real PostgreSQL write their logs while a bounded
local load runs; a planted fault must alert within three intervals and resolve after it ends.

The upstream behind nginx is a tiny app whose behaviour a switch changes: healthy, or faulty
(``POST /pay/{id}`` answers 500, ``GET /report/{id}`` is slow and ``GET /items/{id}`` runs an
N+1 on PostgreSQL, each query tagged with nginx's request id as sqlcommenter does).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .conftest import SKIP_ENV
from .postgres_server import PostgresServer, PostgresUnavailable, postgres_cluster
from .webservers import ServerUnavailable, nginx_server

pytestmark = pytest.mark.e2e

psycopg = pytest.importorskip("psycopg")

INTERVAL_S = 1.0
HEALTHY_S = 6.0
FAULT_S = 6.0
AFTER_S = 13.0
PG_SETTINGS = {
    "log_line_prefix": "%m [%p] ",
    "log_destination": "stderr",
    "log_connections": "off",
    "log_disconnections": "off",
    "log_checkpoints": "off",
    "log_autovacuum_min_duration": "-1",
}


class Upstream(BaseHTTPRequestHandler):
    """The app behind nginx; ``faulty`` is the switch the test flips."""

    faulty: ClassVar[threading.Event]
    pool: ClassVar[queue.Queue[Any]]

    def _query(self, count: int) -> None:
        request_id = self.headers.get("X-Request-ID", "")
        conn = self.pool.get()
        try:
            with conn.cursor() as cur:
                for i in range(count):
                    # Ints only: formatted in, so the log shows plain statements.
                    cur.execute(
                        f"SELECT id, name FROM items WHERE id = {i + 1} "
                        f"/*request_id='{request_id}'*/"
                    )
                    cur.fetchall()
        finally:
            self.pool.put(conn)

    def _answer(self, status: int) -> None:
        body = b'{"ok": true}' if status < 500 else b'{"error": "boom"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        faulty = self.faulty.is_set()
        if self.path.startswith("/items/"):
            self._query(20 if faulty else 2)
        elif self.path.startswith("/report/"):
            time.sleep(0.4 if faulty else 0.01)
        self._answer(200)

    def do_POST(self) -> None:
        self._query(1)
        self._answer(500 if self.faulty.is_set() else 200)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def upstream(server: PostgresServer, faulty: threading.Event) -> Iterator[int]:
    pool: queue.Queue[Any] = queue.Queue()
    conns = [
        psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", autocommit=True
        )
        for _ in range(4)
    ]
    for conn in conns:
        pool.put(conn)
    handler = type("App", (Upstream,), {"faulty": faulty, "pool": pool})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        for conn in conns:
            conn.close()


def load(port: int, until: float, stop: threading.Event) -> None:
    """One client: about 15 requests a second over three routes, until ``until``."""
    rng = random.Random(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < until and not stop.is_set():
        n = rng.randint(1, 500)
        method, path = rng.choice(
            [("GET", f"/items/{n}"), ("POST", f"/pay/{n}"), ("GET", f"/report/{n}")]
        )
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        time.sleep(0.06)
    conn.close()


def _require(kind: str, error: Exception) -> None:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{error} and {SKIP_ENV}=1")
    pytest.fail(f"{kind}: {error}; run `make system` or set {SKIP_ENV}=1", pytrace=False)


def _when(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["at"].replace("Z", "+00:00")).timestamp()


def test_watch_alerts_on_a_live_fault_and_resolves_after_it(tmp_path: Path) -> None:
    try:
        cluster = postgres_cluster(PG_SETTINGS)
        server = cluster.__enter__()
    except PostgresUnavailable as exc:
        _require("PostgreSQL", exc)
        return
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-watch-"))
    faulty = threading.Event()
    stop = threading.Event()
    try:
        server.psql(
            "CREATE TABLE items (id int PRIMARY KEY, name text);"
            "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g;"
        )
        with upstream(server, faulty) as app_port:
            try:
                nginx = nginx_server(root, app_port)
            except ServerUnavailable as exc:
                _require("nginx", exc)
                return
            nginx.start()
            try:
                alerts = tmp_path / "alerts.jsonl"
                total = HEALTHY_S + FAULT_S + AFTER_S
                watch = subprocess.Popen(
                    [
                        sys.executable, "-m", "logtriage", "watch",
                        str(nginx.access_logs["timed"]), str(server.logs["stderr"]),
                        "--interval", f"{INTERVAL_S:g}s", "--window", "5s",
                        "--duration", f"{total + 6:g}s",
                        "--threshold", "route-5xx=10%", "--threshold", "route-p95=250ms",
                        "--threshold", "queries-per-request=10", "--threshold", "min-requests=3",
                        "--alert-jsonl", str(alerts), "--quiet", "--verbose",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
                time.sleep(3.0)  # the watcher starts at the files' ends
                started = time.monotonic()
                clients = [
                    threading.Thread(
                        target=load, args=(nginx.port, started + total, stop), daemon=True
                    )
                    for _ in range(3)
                ]
                for client in clients:
                    client.start()
                time.sleep(HEALTHY_S)
                faulty.set()
                fault_start = time.time()
                time.sleep(FAULT_S)
                faulty.clear()
                fault_end = time.time()
                for client in clients:
                    client.join(timeout=total + 10)
                _, err = watch.communicate(timeout=60)
            finally:
                stop.set()
                nginx.stop()
    finally:
        cluster.__exit__(None, None, None)
    assert watch.returncode == 0, err
    records = [json.loads(line) for line in alerts.read_text().splitlines()]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_rule.setdefault(record["rule"], []).append(record)
    # When each tick started (--verbose): on a loaded machine a tick can outlast its
    # interval, so "within three intervals" counts the watcher's ticks, not seconds.
    ticks = [
        datetime.fromisoformat(line.split()[2].rstrip(":").replace("Z", "+00:00")).timestamp()
        for line in err.splitlines()
        if line.startswith("logtriage: tick ")
    ]
    assert ticks, err
    # Each planted fault fired once, by the third tick that started after it (ticks read
    # lines whose times are whole seconds), and was resolved after the fault ended.
    for rule, route in (
        ("route-5xx", "POST /pay/{id}"),
        ("route-p95", "GET /report/{id}"),
        ("queries-per-request", "GET /items/{id}"),
    ):
        mine = [r for r in by_rule.get(rule, []) if r.get("route") == route]
        assert [r["state"] for r in mine] == ["firing", "resolved"], (rule, records)
        fired, resolved = mine
        assert fired["code"] in ("A001", "P004", "P001")
        assert fired["evidence"]["requests"] >= 3
        assert fired["fix"]
        after_fault = [t for t in ticks if t >= fault_start]
        # Within a few seconds: by the fifth tick after the fault (the access log's times are
        # whole seconds, an N+1 needs three requests in the window and queries newer than the
        # last logged request wait one tick), or 5 s, whichever is later on a loaded machine.
        fifth = after_fault[4] if len(after_fault) > 4 else after_fault[-1] + 5 * INTERVAL_S
        bound = max(fifth, int(fault_start) + 5.0)
        assert int(fault_start) <= _when(fired) <= bound, (rule, fired["at"], after_fault[:5])
        assert _when(resolved) >= fault_end - 1.0, (rule, resolved["at"])
    # Nothing fired in the healthy phase before the fault.
    early = [r for r in records if r["state"] == "firing" and _when(r) < fault_start - 1.0]
    assert not [r for r in early if r["rule"] != "new-finding"], early
