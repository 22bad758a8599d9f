"""A report read back from its JSON contract (``logtriage.report/1``) into the in-memory model."""

from __future__ import annotations

from typing import Any

from logtriage.model.finding import Finding, Location, Severity
from logtriage.model.report import InputSummary, Report

# Keys Report.to_json writes itself; any other top-level key came from ``Report.extra``.
_OWN_KEYS = frozenset(
    {
        "schema",
        "generated_at",
        "inputs",
        "summary",
        "findings",
        "routes",
        "queries",
        "timeseries",
        "histograms",
    }
)


def _location(data: dict[str, Any]) -> Location:
    snippet = data.get("snippet") or {}
    return Location(
        path=str(data.get("path") or ""),
        line=data.get("line"),
        how=str(data.get("how") or ""),
        confidence=float(data.get("confidence") or 0.0),
        snippet=snippet.get("text"),
        snippet_start=snippet.get("start_line"),
    )


def finding_from_json(data: dict[str, Any]) -> Finding:
    """One finding object of the contract as a ``Finding``."""
    return Finding(
        code=str(data["code"]),
        name=str(data.get("name") or ""),
        severity=Severity(data.get("severity") or "info"),
        score=float(data.get("score") or 0.0),
        title=str(data.get("title") or ""),
        fix=str(data.get("fix") or ""),
        evidence=dict(data.get("evidence") or {}),
        impact=dict(data.get("impact") or {}),
        route=data.get("route"),
        fingerprint=data.get("fingerprint"),
        location=tuple(_location(loc) for loc in data.get("location") or ()),
        examples=tuple(data.get("examples") or ()),
    )


def _input(data: dict[str, Any]) -> InputSummary:
    return InputSummary(
        path=str(data.get("path") or ""),
        format=str(data.get("format") or ""),
        lines=int(data.get("lines") or 0),
        records=int(data.get("records") or 0),
        rejected=int(data.get("rejected") or 0),
        first_ts=data.get("first_ts"),
        last_ts=data.get("last_ts"),
        table=str(data.get("table") or ""),
        variant=str(data.get("variant") or ""),
        skipped=int(data.get("skipped") or 0),
        missing=tuple(data.get("missing_fields") or ()),
    )


def report_from_json(data: dict[str, Any]) -> Report:
    """The ``Report`` a contract document describes (raises KeyError/ValueError when malformed)."""
    return Report(
        generated_at=str(data.get("generated_at") or ""),
        inputs=tuple(_input(i) for i in data.get("inputs") or ()),
        summary=dict(data.get("summary") or {}),
        findings=tuple(finding_from_json(f) for f in data.get("findings") or ()),
        routes=tuple(data.get("routes") or ()),
        queries=tuple(data.get("queries") or ()),
        extra={k: v for k, v in data.items() if k not in _OWN_KEYS},
        timeseries=dict(data.get("timeseries") or {}),
        histograms=tuple(data.get("histograms") or ()),
    )
