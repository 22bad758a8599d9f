"""HTML, Markdown, SARIF and JSON renderings: golden snapshots, schema, escaping, secrets."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from logtriage import api
from logtriage.report.chart_specs import (
    histogram_charts,
    query_time_chart,
    route_time_chart,
    traffic_charts,
)
from logtriage.report.html import render_html
from logtriage.report.json_report import render_json
from logtriage.report.markdown import code, render_markdown, text
from logtriage.report.sarif import render_sarif
from logtriage.report.svg import UnsafeSvgError, check_svg, vega_lite_svg
from logtriage.report.terminal import render_terminal
from tests.fixed_report import SECRETS, XSS_PAYLOADS, fixed_report

SNAPSHOTS = Path(__file__).parent / "snapshots"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
# UPDATE_SNAPSHOTS=1 pytest tests/test_report_renderers.py rewrites the golden files; review
# their diff like code.
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
Writer = Callable[..., Path]


def stub_svg(spec: dict[str, Any]) -> str:
    """Stands for vl-convert in snapshots: the spec's digest, so a changed chart shows."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return f'<svg xmlns="http://www.w3.org/2000/svg"><desc>spec {digest}</desc></svg>'


def all_specs() -> dict[str, Any]:
    report = fixed_report()
    charts = [*traffic_charts(report), route_time_chart(report), query_time_chart(report)]
    charts.extend(histogram_charts(report).values())
    return {c.key: c.spec for c in charts if c is not None}


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {name} was missing and has been written: review and commit it")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} changed: review, then UPDATE_SNAPSHOTS=1 to accept"
    )


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("report.html", lambda r: render_html(r, api.rule_docs(), svg_renderer=stub_svg)),
        ("report.md", render_markdown),
        ("report.sarif", lambda r: render_sarif(r, api.rule_docs())),
        ("report.json", render_json),
    ],
)
def test_rendering_matches_snapshot(name: str, render: Callable[[Any], str]) -> None:
    check_snapshot(name, render(fixed_report()))


def test_chart_specs_match_snapshot() -> None:
    check_snapshot("chart-specs.json", json.dumps(all_specs(), indent=1, sort_keys=True) + "\n")


def test_renderings_are_deterministic() -> None:
    first, second = fixed_report(), fixed_report()
    assert render_html(first, svg_renderer=stub_svg) == render_html(second, svg_renderer=stub_svg)
    assert render_sarif(first, api.rule_docs()) == render_sarif(second, api.rule_docs())
    assert render_markdown(first) == render_markdown(second)


def test_every_chart_renders_offline_to_checked_svg() -> None:
    html = render_html(fixed_report(hostile=True), api.rule_docs())
    assert "chart unavailable" not in html and "chart withheld" not in html
    specs = all_specs()
    # one <svg> per chart, and a finding card reuses its route's charts (2 more)
    assert html.count("<svg") == len(specs) + 2
    assert "http://" not in html.replace("http://www.w3.org/", "")
    assert "https://" not in html


def test_sarif_validates_against_the_official_schema() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    log = json.loads(render_sarif(fixed_report(hostile=True), api.rule_docs()))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0]


def test_sarif_rules_and_locations() -> None:
    log = json.loads(render_sarif(fixed_report(), api.rule_docs()))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in api.rule_docs()]
    p004 = next(r for r in rules if r["id"] == "P004")
    assert p004["name"] == "slow-route"
    assert "## How to fix" in p004["help"]["markdown"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["P001"]["level"] == "error"
    assert by_rule["A001"]["level"] == "warning"
    assert rules[by_rule["A001"]["ruleIndex"]]["id"] == "A001"
    # A code location when there is one …
    p001 = by_rule["P001"]["locations"][0]["physicalLocation"]
    assert p001 == {"artifactLocation": {"uri": "app/views.py"}, "region": {"startLine": 57}}
    # … else the log line of the first example, so code scanning still shows the finding.
    a001 = by_rule["A001"]["locations"][0]["physicalLocation"]
    assert a001 == {"artifactLocation": {"uri": "access.log"}, "region": {"startLine": 77}}
    assert by_rule["A001"]["message"]["text"].endswith(
        "Fix: Look for the stack trace of the 502s in the app log."
    )


def test_markdown_escapes_log_values() -> None:
    md = render_markdown(fixed_report(hostile=True))
    outside_code = re.sub(r"(`+)(?:(?!\1).)+?\1", "", md)
    # Raw HTML is allowed only for our own footer.
    assert re.findall(r"<(?!/?sub>)", outside_code.replace("\\<", "")) == []
    assert text("a|b <i>*x*</i> [l](u)") == "a\\|b \\<i\\>\\*x\\*\\</i\\> \\[l\\](u)"
    assert code("a`b") == "``a`b``"
    assert code("x|y", in_table=True) == "`x\\|y`"
    # Every table row keeps its column count whatever the log held.
    for block in re.findall(r"(?:^\|.*\n)+", md, flags=re.MULTILINE):
        rows = block.strip().splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, rows


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_html_escapes_every_planted_payload() -> None:
    html = render_html(fixed_report(hostile=True), api.rule_docs(), svg_renderer=stub_svg)
    parser = _Tags()
    parser.feed(html)
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 1  # ours, allowed by its hash in the CSP
    for bad in ("img", "iframe", "object", "video", "input", "marquee", "math", "body"):
        assert bad not in names[names.index("body") + 1 :] if bad == "body" else bad not in names
    for tag, attrs in parser.tags:
        for attr, value in attrs:
            assert not attr.startswith("on"), (tag, attr)
            assert not (value or "").lower().startswith("javascript:"), (tag, attr)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html


def test_svg_check_refuses_anything_but_drawing() -> None:
    ok = '<svg xmlns="http://www.w3.org/2000/svg"><g><text>&lt;script&gt;</text></g></svg>'
    assert check_svg(ok) == ok
    for bad in (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p/></foreignObject></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        '<a x:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://e.test/x)"/></svg>',
        "<html><script>alert(1)</script></html>",
        "not xml",
    ):
        with pytest.raises(UnsafeSvgError):
            check_svg(bad)
    labels = [{"label": p, "value": i} for i, p in enumerate(XSS_PAYLOADS)]
    spec = {
        "data": {"values": labels},
        "mark": "bar",
        "encoding": {
            "y": {"field": "label", "type": "nominal"},
            "x": {"field": "value", "type": "quantitative"},
        },
    }
    svg = check_svg(vega_lite_svg(spec))  # vl-convert escapes labels: the check passes
    assert "&lt;script&gt;" in svg


def test_unsafe_chart_is_withheld_not_inlined() -> None:
    def hostile_renderer(_: dict[str, Any]) -> str:
        return '<svg xmlns="http://www.w3.org/2000/svg"><script>window.__xss=1</script></svg>'

    html = render_html(fixed_report(), svg_renderer=hostile_renderer)
    assert "window.__xss" not in html
    assert "chart withheld" in html


def planted_secrets(write_nginx_log: Writer) -> Path:
    hunter, aws, stripe = SECRETS
    requests = (
        [("GET", f"/login?user=bob&password={hunter}", 500, 0.02) for _ in range(30)]
        + [("GET", f"/files/{aws}/download", 502, 2.5) for _ in range(30)]
        + [("POST", f"/pay?key={stripe}&amount=3", 500, 1.5) for _ in range(30)]
        + [("GET", f"/items/{i}", 200, 0.01) for i in range(60)]
    )
    return write_nginx_log(requests)


def test_planted_secrets_never_reach_any_rendering(write_nginx_log: Writer) -> None:
    path = planted_secrets(write_nginx_log)
    assert all(secret in path.read_text() for secret in SECRETS)
    report = api.analyze([str(path)], now=datetime(2026, 11, 25, tzinfo=UTC))
    assert report.findings, "the planted errors must produce findings that quote the paths"
    console = Console(file=io.StringIO(), width=200)
    render_terminal(report, console, verbose=True)
    renderings = {
        "terminal": console.file.getvalue(),  # type: ignore[attr-defined]
        "json": render_json(report),
        "html": render_html(report, api.rule_docs()),
        "markdown": render_markdown(report),
        "sarif": render_sarif(report, api.rule_docs()),
    }
    for name, rendered in renderings.items():
        for secret in SECRETS:
            assert secret not in rendered, f"{secret} in the {name} report"
        assert "[REDACTED]" in rendered or "\\[REDACTED\\]" in rendered, name


def test_terminal_evidence_numbers_read_as_people_say_them() -> None:
    from logtriage.report.terminal import _value

    assert _value("rows_examined_per_call", 20000.0) == "20,000"
    assert _value("examined_per_returned", 166.66666) == "166.7"
    assert _value("rows_sent", 1234567) == "1,234,567"
    assert _value("score", 1e300) == "1e+300"


def test_terminal_evidence_tables_read_as_pairs_not_python_reprs() -> None:
    from logtriage.report.terminal import _value

    shown = _value("requests_per_s", {"peak": 2, "p99": 2, "mean": 1.97})
    assert shown == "(peak 2, p99 2, mean 1.97)"
    hours = _value("busiest_hours_utc", [{"hour": 0, "requests_per_day": 140.0}])
    assert "{" not in hours and "'" not in hours and "140" in hours
