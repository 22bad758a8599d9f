"""The bundled example logs: exactly the seeded capture plan, and the planted findings show."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.model.report import Report
from logtriage.sources.reading import expand_inputs

from .e2e.planted_app import FAILING_ROUTE, SLOW_MS, SLOW_ROUTE
from .e2e.traffic import example_plan, expected_routes

EXAMPLES = Path(__file__).parent.parent / "examples"
SERVERS = ("apache", "nginx")
_REPORTS: dict[str, Report] = {}


def report_of(name: str) -> Report:
    if name not in _REPORTS:
        target = EXAMPLES if name == "all" else EXAMPLES / name / "access.log"
        _REPORTS[name] = api.analyze([str(target)], Settings(top_routes=1000))
    return _REPORTS[name]


def test_directory_holds_only_the_logs(tmp_path: Path) -> None:
    # README.md (and the capture script, were it here) are not read as logs.
    found = [f.path for f in expand_inputs([str(EXAMPLES)], str(tmp_path))]
    assert sorted(found) == sorted(str(EXAMPLES / s / "access.log") for s in SERVERS)
    assert (EXAMPLES / "README.md").is_file()
    total = sum((EXAMPLES / s / "access.log").stat().st_size for s in SERVERS)
    assert total < 2 * 1024 * 1024


@pytest.mark.parametrize("server", SERVERS)
def test_example_log_is_the_capture_plan_with_planted_findings(server: str) -> None:
    report = report_of(server)
    plan = example_plan()
    (item,) = report.inputs
    assert item.format == server
    assert (item.records, item.rejected) == (len(plan), 0)
    assert {r["route"]: r["count"] for r in report.routes} == dict(expected_routes(plan))
    slow = next(r for r in report.routes if r["route"] == SLOW_ROUTE)
    assert slow["p50_ms"] >= SLOW_MS
    assert [f.route for f in report.findings if f.code == "P004"] == [SLOW_ROUTE]
    (failing,) = [f for f in report.findings if f.code == "A001"]
    assert failing.route == FAILING_ROUTE
    planted = Counter(str(p.status) for p in plan if p.route == FAILING_ROUTE and p.status >= 500)
    assert failing.evidence["statuses"] == dict(planted)
    assert not [f for f in report.findings if f.code in {"M001", "M002"}]


def test_demo_directory_shows_the_planted_findings() -> None:
    # What `make demo` prints: both logs together, the slow and the failing route on top.
    report = report_of("all")
    assert sum(i.records for i in report.inputs) == 2 * len(example_plan())
    assert {f.route for f in report.findings if f.code == "P004"} == {SLOW_ROUTE}
    assert {f.route for f in report.findings if f.code == "A001"} == {FAILING_ROUTE}
    assert {f.code for f in report.findings[:2]} == {"P004", "A001"}
    # The report handler's time is spent in the app: nginx logs it as upstream time, and the
    # Apache log (no upstream field) read beside it must not dilute that share.
    (slow,) = [f for f in report.findings if f.code == "P004"]
    assert slow.evidence["upstream_share_of_time"] >= 0.8
