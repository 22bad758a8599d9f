"""The bundled example logs: exactly the seeded capture plan, and the planted findings show.

``examples/nginx`` and ``examples/apache``: the same seeded plan through two web servers in
front of the planted app. ``examples/shop``: the main job (what ``make demo`` runs), nginx and
PostgreSQL logs of the Flask shop with its planted N+1, and the shop's source beside them.
"""

from __future__ import annotations

import ast
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


SHOP = EXAMPLES / "shop"


def report_of(name: str) -> Report:
    if name not in _REPORTS:
        targets = [EXAMPLES / s / "access.log" for s in SERVERS] if name == "both" else []
        _REPORTS[name] = api.analyze(
            [str(t) for t in targets or [EXAMPLES / name / "access.log"]],
            Settings(top_routes=1000),
        )
    return _REPORTS[name]


def test_directory_holds_only_the_logs(tmp_path: Path) -> None:
    # README.md (and the capture script, were it here) are not read as logs.
    # The shop's source (examples/shop/app, *.py) is not read either.
    found = [f.path for f in expand_inputs([str(EXAMPLES)], str(tmp_path))]
    logs = [EXAMPLES / s / "access.log" for s in SERVERS]
    logs += [SHOP / "access.log", SHOP / "postgresql.log"]
    assert sorted(found) == sorted(str(p) for p in logs)
    assert (EXAMPLES / "README.md").is_file()
    assert (SHOP / "app" / "app.py").is_file()
    assert sum(p.stat().st_size for p in logs) < 2 * 1024 * 1024


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


def test_both_servers_together_show_the_planted_findings() -> None:
    # Both access logs together: the slow and the failing route on top.
    report = report_of("both")
    assert sum(i.records for i in report.inputs) == 2 * len(example_plan())
    assert {f.route for f in report.findings if f.code == "P004"} == {SLOW_ROUTE}
    assert {f.route for f in report.findings if f.code == "A001"} == {FAILING_ROUTE}
    assert {f.code for f in report.findings[:2]} == {"P004", "A001"}
    # The report handler's time is spent in the app: nginx logs it as upstream time, and the
    # Apache log (no upstream field) read beside it must not dilute that share.
    (slow,) = [f for f in report.findings if f.code == "P004"]
    assert slow.evidence["upstream_share_of_time"] >= 0.8


def test_scanner_probing_many_paths_leaves_the_site_routes_alone(tmp_path: Path) -> None:
    # Real scanners try hundreds of paths; their 404s must not make /search, /cart and even
    # / one "GET /{param}" route: they collapse among themselves instead.
    log = EXAMPLES / "nginx" / "access.log"
    lines = log.read_text().splitlines()
    stamp = lines[-1].split("[", 1)[1].split("]", 1)[0]
    probes = [
        f'203.0.113.9 - - [{stamp}] "GET /probe-{i}.php HTTP/1.1" 404 153 "-" "zgrab/0.x" '
        f"0.001 0.001 {i:032x}"
        for i in range(60)
    ]
    target = tmp_path / "access.log"
    target.write_text("\n".join([*lines, *probes]) + "\n")
    report = api.analyze([str(target)], Settings(top_routes=1000))
    routes = {r["route"]: r["count"] for r in report.routes}
    planted = expected_routes(example_plan())
    for route in ("GET /", "GET /search", "GET /cart", "POST /login"):
        assert routes[route] == planted[route]
    # The example's own one-segment probes (/.env, /wp-login.php …) are 404s of that kind too.
    single_probes = sum(1 for p in example_plan() if p.status == 404 and p.target.count("/") == 1)
    assert routes["GET /{param}"] == 60 + single_probes


def _loop_line(app: Path) -> int:
    """The line of the comprehension in the shop's ``articles()`` that reads ``a.author``."""
    tree = ast.parse(app.read_text())
    handler = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "articles"
    )
    (loop,) = [
        n
        for n in ast.walk(handler)
        if isinstance(n, ast.ListComp)
        and any(isinstance(a, ast.Attribute) and a.attr == "author" for a in ast.walk(n))
    ]
    return loop.lineno


def test_the_demo_finds_the_n_plus_one_its_route_and_its_line() -> None:
    # What `make demo` runs: nginx + PostgreSQL logs of the shop (no SQL comment tags), and
    # its source: the N+1 on GET /articles, located at the loop, with the eager-loading fix.
    report = api.analyze([str(SHOP)], Settings(source=str(SHOP / "app")))
    assert {i.format for i in report.inputs} == {"nginx", "postgresql"}
    assert all(i.rejected == 0 for i in report.inputs)
    planted = [f for f in report.findings if f.code == "P001" and f.route == "GET /articles"]
    assert len(planted) == 1, [f.title for f in report.findings]
    (n_plus_one,) = planted
    assert "authors" in (n_plus_one.fingerprint or "")
    first = n_plus_one.location[0]
    assert (first.path, first.line) == ("app.py", _loop_line(SHOP / "app" / "app.py"))
    assert "selectinload(Article.author)" in (n_plus_one.fix or "")
    # The slow /feed is the handler's own work, and its access log says which requests.
    (slow,) = [f for f in report.findings if f.code == "P004"]
    assert slow.route == "GET /feed"
    assert slow.evidence["db_share_of_time"] < 0.1
    assert "the handler's own work" in (slow.fix or "")
    assert any(
        f.code == "P003" and f.evidence["attribute"] == "with include=comments"
        for f in report.findings
    )
