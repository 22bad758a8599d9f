"""The HTML report: one self-contained, offline file with findings, charts and sortable tables."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from logtriage import __version__
from logtriage.model.finding import Finding, Severity, Viewpoint
from logtriage.model.formatting import count, ms
from logtriage.model.i18n import _, language, ngettext
from logtriage.model.report import Report
from logtriage.model.rules import RuleDoc
from logtriage.report.chart_specs import (
    Chart,
    histogram_charts,
    query_time_chart,
    route_time_chart,
    traffic_charts,
)
from logtriage.report.svg import SvgRenderer, UnsafeSvgError, check_svg, vega_lite_svg
from logtriage.report.values import (
    label,
    pair_label,
    percent,
    scalar,
    severity_name,
    shorten,
    size,
    viewpoint_name,
)

_TEMPLATES = "templates"
_CODE_SPAN = re.compile(r"``?([^`\n]+?)``?")
# Evidence keys whose values are SQL or other code: shown in a monospace block.
_CODE_KEYS = ("sql", "fingerprint", "query", "statement", "sequence", "text", "line_text")


@dataclass(frozen=True)
class RenderedChart:
    """A chart ready for the page: its caption and checked SVG, or why it is missing."""

    key: str
    title: str
    caption: str
    svg: Markup | None
    error: str | None = None
    small: bool = False


@dataclass
class _Charts:
    """Renders each chart once and keeps it, so a finding card can reuse a route's chart."""

    renderer: SvgRenderer
    done: dict[str, RenderedChart] = field(default_factory=dict)

    def render(self, chart: Chart) -> RenderedChart:
        if chart.key in self.done:
            return self.done[chart.key]
        try:
            svg: Markup | None = Markup(check_svg(self.renderer(chart.spec)))
            error = None
        except UnsafeSvgError as exc:
            svg, error = None, _("chart withheld: {reason}").format(reason=exc)
        except Exception as exc:  # a chart library failure must not cost the whole report
            svg, error = None, _("chart unavailable ({kind})").format(kind=type(exc).__name__)
        rendered = RenderedChart(chart.key, chart.title, chart.caption, svg, error, chart.small)
        self.done[chart.key] = rendered
        return rendered


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("logtriage.report", _TEMPLATES),
        # Every value from a log is attacker-controlled: escaping is on for every template.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Messages come from our catalog in the active language; newstyle: _("… %(n)s", n=…).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True
    )
    env.globals["severity_name"] = severity_name
    env.globals["viewpoint_name"] = viewpoint_name
    env.filters["ms"] = ms
    env.filters["count"] = count
    env.filters["percent"] = percent
    env.filters["size"] = size
    env.filters["code_spans"] = code_spans
    return env


def code_spans(text: str) -> Markup:
    """Escape ``text``, then show its `backticked` parts as code (fix texts and rule docs)."""
    escaped = str(escape(text))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def _static(name: str) -> str:
    return resources.files("logtriage.report").joinpath(_TEMPLATES, name).read_text("utf-8")


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _is_code(key: str, value: object) -> bool:
    return isinstance(value, str) and any(part in key for part in _CODE_KEYS)


def _evidence_items(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Evidence as rows the template lays out: a value, a list, a small table, or code."""
    items: list[dict[str, Any]] = []
    for key, value in values.items():
        item: dict[str, Any] = {"label": label(key)}
        if isinstance(value, dict):
            item["kind"] = "pairs"
            item["pairs"] = [(pair_label(key, k), scalar(k, v)) for k, v in value.items()]
        elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
            item["kind"] = "table"
            item["table"] = _table(value)
        elif isinstance(value, list | tuple):
            item["kind"] = "list"
            item["code"] = any(part in key for part in _CODE_KEYS)
            item["values"] = [scalar(key, v) for v in value]
        elif _is_code(key, value):
            item["kind"] = "code"
            item["value"] = str(value)
        else:
            item["kind"] = "scalar"
            item["value"] = scalar(key, value)
        items.append(item)
    return items


def _table(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return {
        "columns": [label(c) for c in columns],
        "code": [any(part in c for part in _CODE_KEYS) or c == "path" for c in columns],
        "rows": [[scalar(c, row.get(c)) for c in columns] for row in rows],
    }


def _finding_view(
    rank: int,
    finding: Finding,
    rules: dict[str, RuleDoc],
    route_charts: dict[tuple[str, str], RenderedChart],
) -> dict[str, Any]:
    charts = [
        route_charts[key]
        for key in (
            (finding.route or "", "duration_ms"),
            (finding.route or "", "queries_per_request"),
        )
        if finding.route and key in route_charts
    ]
    return {
        "rank": rank,
        "anchor": f"finding-{rank}",
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "viewpoint": finding.viewpoint.value,
        "title": finding.title,
        "route": finding.route,
        "fingerprint": finding.fingerprint,
        "score": finding.score,
        "evidence": _evidence_items(finding.evidence),
        "impact": _evidence_items(finding.impact),
        "locations": [
            {
                "where": f"{loc.path}:{loc.line}" if loc.line else loc.path,
                "how": loc.how,
                "confidence": percent(loc.confidence),
            }
            for loc in finding.location
        ],
        "fix": finding.fix,
        "examples": _table(finding.examples) if finding.examples else None,
        "charts": charts,
        "rule": rules.get(finding.code),
    }


def _overview(report: Report) -> dict[str, Any]:
    matrix = []
    for viewpoint in Viewpoint:
        cells = [
            sum(1 for f in report.findings if f.viewpoint is viewpoint and f.severity is s)
            for s in Severity
        ]
        matrix.append({"viewpoint": viewpoint.value, "cells": cells, "total": sum(cells)})
    s = report.summary
    tiles: list[tuple[str, str, str]] = [(_("requests"), count(s.get("requests")), "")]
    if s.get("routes") is not None:
        tiles.append((_("routes"), count(s["routes"]), ""))
    if s.get("p50_ms") is not None:
        tiles.append(
            (
                "p50 · p95 · p99",
                " · ".join(ms(s.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")),
                _("request time"),
            )
        )
    if s.get("error_rate") is not None:
        tiles.append((_("server errors"), percent(s["error_rate"]), _("5xx share of requests")))
    if s.get("queries"):
        note = ""
        if s.get("correlated_queries") is not None:
            tied = percent(s["correlated_queries"] / s["queries"])
            note = _("{share} tied to requests").format(share=tied)
        tiles.append((_("queries"), count(s["queries"]), note))
    if s.get("app_events"):
        tiles.append((_("app events"), count(s["app_events"]), ""))
    rejected = s.get("rejected") or 0
    not_parsed = _("{count} not parsed").format(count=count(rejected))
    tiles.append((_("lines read"), count(s.get("lines")), not_parsed))
    return {"matrix": matrix, "tiles": tiles, "severities": [sv.value for sv in Severity]}


def render_html(
    report: Report,
    rules: Sequence[RuleDoc] = (),
    *,
    svg_renderer: SvgRenderer = vega_lite_svg,
) -> str:
    """Render ``report`` as one self-contained HTML page (inline CSS, JS and SVG charts)."""
    charts = _Charts(svg_renderer)
    by_code = {rule.code: rule for rule in rules}
    route_charts = {key: charts.render(c) for key, c in histogram_charts(report).items()}
    findings = [
        _finding_view(i, f, by_code, route_charts) for i, f in enumerate(report.findings, start=1)
    ]
    grouped = [
        {"viewpoint": vp.value, "findings": [f for f in findings if f["viewpoint"] == vp.value]}
        for vp in Viewpoint
    ]
    script = _static("report.js")
    route_time = route_time_chart(report)
    query_time = query_time_chart(report)
    context = {
        "report": report,
        "version": __version__,
        "overview": _overview(report),
        "traffic": [charts.render(c) for c in traffic_charts(report)],
        "route_time": charts.render(route_time) if route_time else None,
        "latency_histograms": [
            c for (_, metric), c in route_charts.items() if metric == "duration_ms"
        ],
        "query_histograms": [
            c for (_, metric), c in route_charts.items() if metric == "queries_per_request"
        ],
        "query_time": charts.render(query_time) if query_time else None,
        "findings": findings,
        "grouped": [g for g in grouped if g["findings"]],
        "routes": report.routes,
        "queries": report.queries,
        "suppressed": report.extra.get("suppressed") or [],
        "subject": shorten(", ".join(i.path for i in report.inputs) or _("no input"), 80),
        "lang": language(),
        "css": Markup(_static("report.css")),
        "script": Markup(script),
        "script_hash": _script_hash(script),
        "rules": [by_code[c] for c in sorted({f.code for f in report.findings}) if c in by_code],
    }
    template = _environment().get_template("report.html.j2")
    return template.render(context)
