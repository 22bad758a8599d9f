"""Real HAProxy in front of a real nginx (and the planted app): the report matches what was sent.

Besides the e2e plan, three requests end abnormally on purpose: one to a backend whose port
is closed (503 ``SC--``), one to a backend whose server timeout is shorter than the slow route
(504 ``sH--``), and one whose client hangs up before the slow answer (``CD--``).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from logtriage import api
from logtriage.config import Settings

from .conftest import SKIP_ENV
from .haproxy import HURRIED_TIMEOUT_MS, haproxy_stack
from .planted_app import SLOW_MS, SLOW_ROUTE
from .traffic import PlannedRequest, e2e_plan, planned, send_one, send_plan
from .webservers import ServerUnavailable

pytestmark = pytest.mark.e2e

AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
# Abnormal endings: (method, target, status the client sees, termination state logged).
GONE = ("GET", "/gone/status", 503, "SC--")
HURRIED = ("GET", "/hurried/report/777", 504, "sH--")
ABORTED_TARGET = "/report/778"


@dataclass(frozen=True)
class HaproxyCapture:
    """HAProxy's two logs of one run, and what the client sent and saw."""

    logs: dict[str, Path]
    plan: list[PlannedRequest]
    statuses: list[int]
    extra_statuses: list[int]


def _abort(port: int, target: str) -> None:
    """Send a request and hang up before the (slow) answer comes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: shop.test\r\n\r\n".encode())
        time.sleep(0.05)


@pytest.fixture(scope="module")
def haproxy_capture(
    app_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HaproxyCapture]:
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-haproxy-"))
    keep = tmp_path_factory.mktemp("haproxy-logs")
    try:
        try:
            stack = haproxy_stack(root, app_port)
        except ServerUnavailable as exc:
            if os.environ.get(SKIP_ENV) == "1":
                pytest.skip(f"{exc} and {SKIP_ENV}=1")
            pytest.fail(f"{exc}: run `make system` (scripts/setup-system.sh installs it)")
        plan = e2e_plan()
        stack.start()
        try:
            statuses = send_plan(stack.port, plan)
            extra = [
                send_one(stack.port, planned(m, t, "203.0.113.50", AGENT))
                for m, t, _, _ in (GONE, HURRIED)
            ]
            _abort(stack.port, ABORTED_TARGET)
            # The aborted request is logged once the app's slow answer reaches HAProxy.
            time.sleep(SLOW_MS / 1000 + 0.5)
        finally:
            stack.stop()
        logs = {}
        for name, path in stack.logs.items():
            logs[name] = keep / f"haproxy-{name}.log"
            shutil.copyfile(path, logs[name])
        yield HaproxyCapture(logs=logs, plan=plan, statuses=statuses, extra_statuses=extra)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _tables(capture: HaproxyCapture, log: str, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Analyze one log keeping the canonical tables; a connection with views over them."""
    api.analyze([str(capture.logs[log])], Settings(tables=str(tmp_path / "tables")))
    con = duckdb.connect()
    for table in ("requests", "app_events"):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet("
            f"'{tmp_path}/tables/{table}/**/*.parquet', hive_partitioning = true)"
        )
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_client_got_the_planted_answers(haproxy_capture: HaproxyCapture) -> None:
    assert haproxy_capture.statuses == [r.status for r in haproxy_capture.plan]
    assert haproxy_capture.extra_statuses == [GONE[2], HURRIED[2]]


@pytest.mark.parametrize("log", ["raw", "syslog"])
def test_every_request_is_read_and_none_rejected(haproxy_capture: HaproxyCapture, log: str) -> None:
    summary, rows, rejects = api.records(str(haproxy_capture.logs[log]))
    assert summary.format == "haproxy"
    assert summary.variant == log
    assert rejects == []
    # The plan, the two abnormal requests and the aborted one.
    assert len(rows) == len(haproxy_capture.plan) + 3
    assert summary.missing == ()
    sent = Counter((r.method, r.target.split("?")[0]) for r in haproxy_capture.plan)
    read = Counter((r["method"], r["path"]) for r in rows)
    for key, count in sent.items():
        assert read[key] == count, key
    want = Counter(r.status for r in haproxy_capture.plan) + Counter([GONE[2], HURRIED[2]])
    got = Counter(r["status"] for r in rows if r["path"] != ABORTED_TARGET)
    assert got == want


def test_rows_carry_ids_times_and_backends(haproxy_capture: HaproxyCapture) -> None:
    _, rows, _ = api.records(str(haproxy_capture.logs["raw"]))
    ids = [str(r["request_id"]) for r in rows]
    assert all(uuid.UUID(i) for i in ids)
    assert len(set(ids)) == len(ids)
    by_path = {r["path"]: r for r in rows}
    assert by_path[GONE[1]]["host"] == "gone"
    assert by_path[GONE[1]]["upstream_ms"] is None  # never connected: Tc/Tr are -1
    hurried = by_path[HURRIED[1]]
    assert hurried["host"] == "hurried"
    assert hurried["upstream_ms"] is None  # no response headers before the timeout
    assert HURRIED_TIMEOUT_MS <= float(str(hurried["duration_ms"])) < SLOW_MS
    slow = [r for r in rows if r["route"] == SLOW_ROUTE and r["status"] == 200]
    assert slow and all(float(str(r["duration_ms"])) >= SLOW_MS for r in slow)
    assert all(float(str(r["upstream_ms"])) >= SLOW_MS for r in slow)
    assert all(r["host"] == "web" for r in rows if r["path"] not in (GONE[1], HURRIED[1]))


def test_termination_states_are_app_events_beside_the_request(
    haproxy_capture: HaproxyCapture, tmp_path: Path
) -> None:
    con = _tables(haproxy_capture, "syslog", tmp_path)
    events = _rows(
        con,
        "SELECT e.error_type, e.level, r.path, r.status FROM app_events e "
        "JOIN requests r ON e.request_id = r.request_id AND e.line = r.line "
        "WHERE e.error_type IS NOT NULL",
    )
    states = {(e["path"], e["error_type"][:2]) for e in events}
    assert (GONE[1], GONE[3][:2]) in states
    assert (HURRIED[1], HURRIED[3][:2]) in states
    assert (ABORTED_TARGET, "CD") in states
    assert {e["level"] for e in events} == {"WARNING"}
    # HAProxy's own shutdown notices are app events too, not rejected lines.
    notices = _rows(con, "SELECT message FROM app_events WHERE error_type IS NULL")
    assert any(n["message"].startswith("Proxy http-in stopped") for n in notices)


def test_report_sees_the_slow_route_and_the_failures(haproxy_capture: HaproxyCapture) -> None:
    report = api.analyze([str(haproxy_capture.logs["raw"])])
    slow = [f for f in report.findings if f.code == "P004"]
    assert any(SLOW_ROUTE in f.title for f in slow)
    assert not [f for f in report.findings if f.code in ("M001", "M002")]
