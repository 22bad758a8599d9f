"""Real nginx and Apache httpd in front of the planted app: the report matches what was sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.model.report import Report

from .conftest import Capture
from .planted_app import FAILING_ROUTE, SLOW_MS, SLOW_ROUTE
from .traffic import STATIC, expected_routes

pytestmark = pytest.mark.e2e

# What the analysis needs from each server's latency log, and the directive M002 quotes.
LATENCY_HINT = {"nginx": "$request_time", "apache": "%D"}
_REPORTS: dict[tuple[str, str], Report] = {}


def report_of(capture: Capture, log: str) -> Report:
    """Analyze one of the capture's logs once per session (the analysis is the slow part)."""
    key = (capture.server, log)
    if key not in _REPORTS:
        _REPORTS[key] = api.analyze([str(capture.logs[log])])
    return _REPORTS[key]


def findings(report: Report, code: str) -> list[Any]:
    return [f for f in report.findings if f.code == code]


def test_client_got_the_planted_answers(capture: Capture) -> None:
    # The harness itself: the server and app answered as planned (static files, 404 probes,
    # 500 from the app and 502 from the proxy when the app drops the connection).
    assert capture.statuses == [r.status for r in capture.plan]


def test_every_request_is_read_and_none_rejected(capture: Capture) -> None:
    report = report_of(capture, "timed")
    (item,) = report.inputs
    assert item.format == capture.server
    assert item.lines == len(capture.plan)
    assert item.records == len(capture.plan)
    assert item.rejected == 0
    assert not findings(report, "M001")


def test_rows_carry_what_the_client_sent(capture: Capture) -> None:
    _, rows, rejects = api.records(str(capture.logs["timed"]))
    assert rejects == []
    seen = Counter(
        (r["client"], r["method"], r["path"], r["query"], r["status"], r["user_agent"])
        for r in rows
    )
    sent = Counter(
        (
            p.client,
            p.method,
            p.target.split("?", 1)[0],
            p.target.split("?", 1)[1] if "?" in p.target else None,
            p.status,
            p.user_agent,
        )
        for p in capture.plan
    )
    assert seen == sent
    assert all(isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0 for r in rows)
    assert all(r["referrer"] == "http://shop.test/" for r in rows)
    if capture.server == "nginx":
        assert all(re.fullmatch(r"[0-9a-f]{32}", str(r["request_id"])) for r in rows)
        # Static files never reach the upstream: nginx logs "-" for its time.
        assert all((r["upstream_ms"] is None) == (r["path"] in STATIC) for r in rows)


def test_route_table_is_exactly_the_planted_routes(capture: Capture) -> None:
    report = report_of(capture, "timed")
    table = {r["route"]: r["count"] for r in report.routes}
    assert table == dict(expected_routes(capture.plan))


def test_slow_route_percentiles_are_at_least_the_sleep(capture: Capture) -> None:
    report = report_of(capture, "timed")
    rows = {r["route"]: r for r in report.routes}
    slow = rows[SLOW_ROUTE]
    assert slow["p50_ms"] >= SLOW_MS
    assert slow["p95_ms"] >= SLOW_MS
    # Units: a microsecond or second value read as milliseconds would be 1000x off.
    assert slow["p95_ms"] < 20 * SLOW_MS
    fast = [r for route, r in rows.items() if route != SLOW_ROUTE]
    assert all(r["p50_ms"] < SLOW_MS / 2 for r in fast)


def test_only_the_planted_routes_are_slow_or_failing(capture: Capture) -> None:
    report = report_of(capture, "timed")
    assert [f.route for f in findings(report, "P004")] == [SLOW_ROUTE]
    (failing,) = findings(report, "A001")
    assert failing.route == FAILING_ROUTE
    planted = Counter(
        str(p.status) for p in capture.plan if p.route == FAILING_ROUTE and p.status >= 500
    )
    assert failing.evidence["statuses"] == dict(planted)
    assert failing.evidence["errors_5xx"] == sum(planted.values())
    top_status = planted.most_common(1)[0][0]
    assert f"mostly {top_status}" in failing.title
    # The timed log carries latency: no missing-field finding for it.
    assert not [f for f in findings(report, "M002") if f.evidence["field"] == "duration_ms"]


def test_combined_log_gets_missing_latency_finding(capture: Capture) -> None:
    report = report_of(capture, "combined")
    (item,) = report.inputs
    assert item.records == len(capture.plan)
    assert item.rejected == 0
    missing = [f for f in findings(report, "M002") if f.evidence["field"] == "duration_ms"]
    assert len(missing) == 1
    # Plain combined is the same bytes from nginx and Apache: the hint follows the reader
    # that won the tie (nginx, first in the registry), so Apache users get nginx advice.
    assert item.format in LATENCY_HINT
    assert LATENCY_HINT[item.format] in missing[0].fix
    assert not findings(report, "P004")
    # Counts and errors do not need latency.
    assert {r["route"]: r["count"] for r in report.routes} == dict(expected_routes(capture.plan))
    assert [f.route for f in findings(report, "A001")] == [FAILING_ROUTE]


def test_nginx_main_log_is_read_with_the_forwarded_client(capture: Capture) -> None:
    if "main" not in capture.logs:
        pytest.skip("the main log_format is nginx's")
    report = report_of(capture, "main")
    (item,) = report.inputs
    # Its last field is $http_x_forwarded_for, not a time: no latency, and M002 says so.
    assert (item.format, item.variant) == ("nginx", "main")
    assert (item.records, item.rejected) == (len(capture.plan), 0)
    missing = [f for f in findings(report, "M002") if f.evidence["field"] == "duration_ms"]
    assert len(missing) == 1 and "$request_time" in missing[0].fix
    _, rows, _ = api.records(str(capture.logs["main"]))
    _, combined, _ = api.records(str(capture.logs["combined"]))
    # nginx's real_ip made $remote_addr the forwarded client in combined; main reads it from
    # the header itself.
    assert [r["client"] for r in rows] == [r["client"] for r in combined]
    assert all(r["duration_ms"] is None for r in rows)


def test_ingress_nginx_log_is_recognised_and_read_whole(capture: Capture) -> None:
    if "ingress" not in capture.logs:
        pytest.skip("ingress-nginx's format is nginx's")
    report = report_of(capture, "ingress")
    (item,) = report.inputs
    assert (item.format, item.variant) == ("nginx", "ingress-nginx")
    assert (item.records, item.rejected) == (len(capture.plan), 0)
    assert {r["route"]: r["count"] for r in report.routes} == dict(expected_routes(capture.plan))
    _, rows, _ = api.records(str(capture.logs["ingress"]))
    # Proxied requests carry the upstream's time and the id nginx passed to the app.
    proxied = [r for r in rows if not r["path"].startswith(("/static/", "/favicon"))]
    assert proxied and all(r["upstream_ms"] is not None for r in proxied)
    assert all(r["request_id"] for r in rows)


def test_cli_json_report_matches_the_library(capture: Capture, tmp_path: Path) -> None:
    log = capture.logs["timed"]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "logtriage", "analyze", str(log), "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    report = report_of(capture, "timed")
    assert data["schema"] == "logtriage.report/1"
    assert data["inputs"][0]["records"] == len(capture.plan)
    assert {r["route"]: r["count"] for r in data["routes"]} == dict(expected_routes(capture.plan))
    assert [(f["code"], f.get("route")) for f in data["findings"]] == [
        (f.code, f.route) for f in report.findings
    ]
    scores = [f["score"] for f in data["findings"]]
    assert scores == sorted(scores, reverse=True)
