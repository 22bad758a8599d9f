"""What got better or worse between two reports: findings, routes and queries, with thresholds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DIFF_SCHEMA = "logtriage.diff/1"
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass(frozen=True)
class DiffThresholds:
    """How much a number must move before it counts as better or worse (noise is ignored)."""

    # Latency: relative and absolute change, both needed.
    latency_ratio: float = 0.10
    latency_ms: float = 5.0
    # Error rate, in absolute points (0.005 = half a percentage point).
    error_rate: float = 0.005
    queries_ratio: float = 0.10
    # Routes and query shapes with fewer calls than this on both sides are not compared.
    min_count: int = 10
    # New findings at or above this severity are regressions.
    regression_severity: str = "medium"


@dataclass(frozen=True)
class Change:
    """One metric of one subject that moved beyond its threshold."""

    subject: str
    metric: str
    before: float | None
    after: float | None
    verdict: str  # "better" | "worse"

    def to_json(self) -> dict[str, Any]:
        """Render for the diff JSON."""
        return {
            "subject": self.subject,
            "metric": self.metric,
            "before": self.before,
            "after": self.after,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ReportDiff:
    """The comparison of two reports."""

    before: str
    after: str
    appeared: tuple[dict[str, Any], ...] = ()
    resolved: tuple[dict[str, Any], ...] = ()
    persisting: tuple[dict[str, Any], ...] = ()
    routes: tuple[Change, ...] = ()
    queries: tuple[Change, ...] = ()
    regressions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_regression(self) -> bool:
        """True when anything got worse beyond its threshold or a serious finding appeared."""
        return bool(self.regressions)

    def to_json(self) -> dict[str, Any]:
        """Render as the diff JSON (schema ``logtriage.diff/1``)."""
        return {
            "schema": DIFF_SCHEMA,
            "before": self.before,
            "after": self.after,
            "findings": {
                "appeared": list(self.appeared),
                "resolved": list(self.resolved),
                "persisting": list(self.persisting),
            },
            "routes": [c.to_json() for c in self.routes],
            "queries": [c.to_json() for c in self.queries],
            "regressions": list(self.regressions),
        }


# Evidence that names what a finding without route or fingerprint is about. These values come
# from the logs and the inputs, never from a message catalog, and not from counts or times that
# change from run to run (A002's start excepted: a burst is the burst that began then). The title
# is no key: it is written in the report's language and carries the counts.
_SUBJECT_EVIDENCE = (
    "source",
    "client",
    "table",
    "field",
    "request_log",
    "query_log",
    "access_logs",
    "kind",
    "sqlstate",
    "db",
    "user",
    "message",
    "start",
)


def finding_key(finding: Mapping[str, Any]) -> tuple[str, str]:
    """Findings match across reports by code and subject, whatever language each is written in.

    The subject is the route and/or fingerprint; without them, the naming evidence values, else
    the files the examples come from (M001), else nothing (one finding of that code per report).
    """
    subject = " | ".join(str(finding[k]) for k in ("route", "fingerprint") if finding.get(k))
    if not subject:
        evidence = finding.get("evidence") or {}
        named = [f"{k}={evidence[k]}" for k in _SUBJECT_EVIDENCE if evidence.get(k) is not None]
        sources = sorted({str(e["source"]) for e in finding.get("examples", ()) if "source" in e})
        subject = " ".join(named) or " ".join(f"source={s}" for s in sources)
    return (str(finding.get("code", "")), subject)


def _keyed(findings: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Findings by key; findings a key cannot tell apart are numbered in report order."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for finding in findings:
        code, subject = finding_key(finding)
        key, n = (code, subject), 1
        while key in out:
            n += 1
            key = (code, f"{subject} #{n}")
        out[key] = finding
    return out


def _brief(finding: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: finding.get(k) for k in ("code", "name", "severity", "score", "title")}
    for key in ("route", "fingerprint"):
        if finding.get(key):
            out[key] = finding[key]
    return out


def _compare(
    subject: str,
    metric: str,
    before: float | None,
    after: float | None,
    *,
    ratio: float,
    absolute: float,
) -> Change | None:
    """Lower is better for every metric compared here."""
    if before is None or after is None:
        return None
    delta = after - before
    if abs(delta) < absolute:
        return None
    if before and abs(delta) / abs(before) < ratio:
        return None
    return Change(subject, metric, before, after, "worse" if delta > 0 else "better")


def _route_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]], t: DiffThresholds
) -> list[Change]:
    old = {r["route"]: r for r in before}
    changes: list[Change] = []
    for row in after:
        prev = old.get(row["route"])
        if prev is None or min(prev.get("count", 0), row.get("count", 0)) < t.min_count:
            continue
        for metric in ("p50_ms", "p95_ms", "p99_ms"):
            change = _compare(row["route"], metric, prev.get(metric), row.get(metric),
                              ratio=t.latency_ratio, absolute=t.latency_ms)  # fmt: skip
            if change:
                changes.append(change)
        change = _compare(row["route"], "error_rate", prev.get("error_rate"),
                          row.get("error_rate"), ratio=0.0, absolute=t.error_rate)  # fmt: skip
        if change:
            changes.append(change)
        change = _compare(row["route"], "queries_per_request", prev.get("queries_per_request"),
                          row.get("queries_per_request"), ratio=t.queries_ratio,
                          absolute=0.5)  # fmt: skip
        if change:
            changes.append(change)
    return changes


def _query_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]], t: DiffThresholds
) -> list[Change]:
    old = {q["fingerprint_id"]: q for q in before}
    changes: list[Change] = []
    for row in after:
        prev = old.get(row["fingerprint_id"])
        if prev is None or max(prev.get("count", 0), row.get("count", 0)) < t.min_count:
            continue
        subject = row.get("fingerprint", row["fingerprint_id"])
        for metric, absolute in (("p95_ms", t.latency_ms), ("count", 1.0)):
            change = _compare(subject, metric, prev.get(metric), row.get(metric),
                              ratio=t.latency_ratio, absolute=absolute)  # fmt: skip
            if change:
                changes.append(change)
    return changes


def compute_diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    before_name: str = "before",
    after_name: str = "after",
    thresholds: DiffThresholds | None = None,
) -> ReportDiff:
    """Compare two report JSON objects (``logtriage.report/1``)."""
    t = thresholds or DiffThresholds()
    old = _keyed(before.get("findings", []))
    new = _keyed(after.get("findings", []))
    appeared = [_brief(new[k]) for k in new if k not in old]
    resolved = [_brief(old[k]) for k in old if k not in new]
    persisting = []
    for key in new.keys() & old.keys():
        item = _brief(new[key])
        item["score_before"] = old[key].get("score")
        item["severity_before"] = old[key].get("severity")
        persisting.append(item)
    persisting.sort(key=lambda f: (-(f.get("score") or 0), f["code"]))
    routes = _route_changes(list(before.get("routes", [])), list(after.get("routes", [])), t)
    queries = _query_changes(list(before.get("queries", [])), list(after.get("queries", [])), t)
    limit = _SEVERITY_RANK.get(t.regression_severity, 1)
    regressions = [
        f"new finding {f['code']} {f.get('route') or f.get('fingerprint') or f['title']}"
        for f in appeared
        if _SEVERITY_RANK.get(str(f.get("severity")), 3) <= limit
    ]
    regressions += [
        f"{c.subject}: {c.metric} {c.before} → {c.after}" for c in (*routes, *queries)
        if c.verdict == "worse" and c.metric != "count"
    ]  # fmt: skip
    return ReportDiff(
        before=before_name,
        after=after_name,
        appeared=tuple(sorted(appeared, key=lambda f: -(f.get("score") or 0))),
        resolved=tuple(sorted(resolved, key=lambda f: -(f.get("score") or 0))),
        persisting=tuple(persisting),
        routes=tuple(routes),
        queries=tuple(queries),
        regressions=tuple(regressions),
    )
