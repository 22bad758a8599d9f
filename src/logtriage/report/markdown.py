"""The Markdown report, for a pull request or an issue: findings, top routes, top queries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from logtriage import __version__
from logtriage.model.finding import Finding
from logtriage.model.formatting import count, ms
from logtriage.model.i18n import _
from logtriage.model.report import Report
from logtriage.report.values import (
    example_place,
    label,
    percent,
    scalar,
    severity_name,
    shorten,
    viewpoint_name,
)

# Characters that Markdown (CommonMark + GFM tables) would read as syntax in plain text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_SEVERITY_MARK = {"high": "🔴", "medium": "🟠", "low": "🔵", "info": "⚪"}


def text(value: object) -> str:
    """Plain text that Markdown shows as written: syntax escaped, one line, no raw HTML."""
    flat = re.sub(r"\s+", " ", str(value))  # one line; edge spaces kept: prose joins parts
    return _SPECIAL.sub(r"\\\1", flat.replace("&", "&amp;"))


def code(value: object, *, in_table: bool = False) -> str:
    """A code span that holds any text: a fence longer than its longest run of backticks."""
    flat = " ".join(str(value).split())
    if not flat:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    if in_table:  # GFM splits table cells on "|" even inside code spans
        flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"


def prose(value: str) -> str:
    """Text with `backticked` parts kept as code (fix texts say `WHERE id IN (...)`)."""
    parts = []
    last = 0
    for match in _CODE_SPAN.finditer(value):
        parts.append(text(value[last : match.start()]))
        parts.append(code(match.group(1)))
        last = match.end()
    parts.append(text(value[last:]))
    return "".join(parts)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> list[str]:
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _pairs(values: dict[str, Any]) -> str:
    shown = []
    for key, value in values.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{text(label(k))} {text(scalar(k, v))}" for k, v in value.items())
            shown.append(f"{text(label(key))}: {inner}")
        elif isinstance(value, list | tuple):
            items = [
                text(shorten(str(v), 60)) if not isinstance(v, dict) else "…" for v in value[:5]
            ]
            more = f" (+{len(value) - 5})" if len(value) > 5 else ""
            shown.append(f"{text(label(key))}: {', '.join(items)}{more}")
        else:
            shown.append(f"{text(label(key))} {text(scalar(key, value))}")
    return " · ".join(shown)


def _where(finding: Finding) -> str:
    if finding.location:
        loc = finding.location[0]
        return code(f"{loc.path}:{loc.line}" if loc.line else loc.path, in_table=True)
    return "–"


def _labels() -> dict[str, str]:
    """The report's field labels in the active language."""
    return {
        "severity": _("Severity:"),
        "viewpoint": _("Viewpoint:"),
        "route": _("Route:"),
        "query": _("Query:"),
        "impact": _("Impact:"),
        "evidence": _("Evidence:"),
        "location": _("Location:"),
        "fix": _("Fix:"),
        "example": _("Example:"),
        "logtriage_report": _("logtriage report"),
        "requests": _("Requests:"),
        "queries": _("Queries:"),
        "time_range": _("Time range:"),
        "inputs": _("Inputs:"),
    }


def _finding_section(rank: int, finding: Finding) -> list[str]:
    names = _labels()
    out = [
        f"### {rank}. {finding.code} {finding.name}: {text(finding.title)}",
        "",
        f"- **{names['severity']}** {_SEVERITY_MARK[finding.severity.value]} "
        f"{severity_name(finding.severity)} · "
        f"**{names['viewpoint']}** {viewpoint_name(finding.viewpoint)}",
    ]
    if finding.route:
        out.append(f"- **{names['route']}** {code(finding.route)}")
    if finding.fingerprint:
        out.append(f"- **{names['query']}** {code(shorten(finding.fingerprint, 300))}")
    if finding.impact:
        out.append(f"- **{names['impact']}** {_pairs(finding.impact)}")
    if finding.evidence:
        out.append(f"- **{names['evidence']}** {_pairs(finding.evidence)}")
    for loc in finding.location[:3]:
        where = f"{loc.path}:{loc.line}" if loc.line else loc.path
        out.append(
            f"- **{names['location']}** {code(where)} ({text(loc.how)}, {percent(loc.confidence)})"
        )
    out.append(f"- **{names['fix']}** {prose(finding.fix)}")
    for example in finding.examples[:2]:
        where, detail = example_place(example)
        shown = f" {code(shorten(detail, 160))}" if detail else ""
        out.append(f"- **{names['example']}** {code(where) if where else ''}{shown}")
    out.append("")
    return out


def render_markdown(report: Report, *, top: int = 10) -> str:
    """Render ``report`` as GitHub-flavoured Markdown; every log value is escaped."""
    s = report.summary
    names = _labels()
    out = [f"# {names['logtriage_report']}", ""]
    facts = [f"**{names['requests']}** {count(s.get('requests'))}"]
    if s.get("p95_ms") is not None:
        facts.append(
            f"p50 {ms(s.get('p50_ms'))} · p95 {ms(s['p95_ms'])} · p99 {ms(s.get('p99_ms'))}"
        )
    if s.get("error_rate") is not None:
        facts.append(f"5xx {percent(s['error_rate'])}")
    if s.get("queries"):
        facts.append(f"**{names['queries']}** {count(s['queries'])}")
    out.append(" · ".join(facts) + "  ")
    if s.get("time_range"):
        span = f"{text(s['time_range'][0])} → {text(s['time_range'][1])}"
        out.append(f"**{names['time_range']}** {span}  ")
    inputs = ", ".join(
        f"{code(i.path)} ({text(i.format)}, "
        + _("{count} lines").format(count=count(i.lines))
        + (", " + _("{count} not parsed").format(count=count(i.rejected)) if i.rejected else "")
        + ")"
        for i in report.inputs
    )
    out.extend([f"**{names['inputs']}** {inputs or '–'}", ""])

    out.append("## " + _("Findings ({count})").format(count=len(report.findings)))
    out.append("")
    if not report.findings:
        out.extend([_("No findings."), ""])
    else:
        rows = [
            [
                str(i),
                f"{_SEVERITY_MARK[f.severity.value]} {severity_name(f.severity)}",
                f"{f.code} {f.name}",
                viewpoint_name(f.viewpoint),
                text(f.title),
                _where(f),
            ]
            for i, f in enumerate(report.findings, start=1)
        ]
        header = ["#", _("severity"), _("code"), _("viewpoint"), _("finding"), _("location")]
        out.extend(_table(header, rows, "rlllll"))
        out.append("")
        for i, finding in enumerate(report.findings, start=1):
            out.extend(_finding_section(i, finding))
    suppressed = report.extra.get("suppressed") or []
    if suppressed:
        note = _("Accepted in the config and not counted above: {count}:")
        out.append(note.format(count=len(suppressed)) + " ")
        out.extend(
            f"- {text(x['code'])} {code(x.get('route') or x.get('fingerprint') or '')}: "
            f"{text(x.get('reason', ''))}"
            for x in suppressed
        )
        out.append("")

    if report.routes:
        shown = min(top, len(report.routes))
        out.extend(["## " + _("Top routes (by total time, {count} shown)").format(count=shown), ""])
        rows = [
            [
                code(r["route"], in_table=True),
                count(r["count"]),
                ms(r.get("p50_ms")),
                ms(r.get("p95_ms")),
                ms(r.get("p99_ms")),
                ms(r.get("total_ms")),
                percent(r.get("share_of_time")),
                percent(r.get("error_rate")),
                "-" if r.get("queries_per_request") is None else f"{r['queries_per_request']:g}",
            ]
            for r in report.routes[:top]
        ]
        header = [_("route"), _("requests"), "p50", "p95", "p99", _("total"), _("share"), "5xx"]
        header.append(_("queries/req"))
        out.extend(_table(header, rows, "lrrrrrrrr"))
        out.append("")
    if report.queries:
        shown = min(top, len(report.queries))
        out.extend(
            ["## " + _("Top queries (by total time, {count} shown)").format(count=shown), ""]
        )
        rows = [
            [
                str(i),
                code(shorten(str(q["fingerprint"]), 120), in_table=True),
                count(q.get("count")),
                ms(q.get("total_ms")),
                ms(q.get("p95_ms")),
                count(q.get("rows_examined")),
                count(q.get("rows_sent")),
            ]
            for i, q in enumerate(report.queries[:top], start=1)
        ]
        header = ["#", _("fingerprint"), _("calls"), _("total"), "p95"]
        header += [_("rows examined"), _("rows sent")]
        out.extend(_table(header, rows, "rlrrrrr"))
        out.append("")
    generated = _("generated {time}").format(time=text(report.generated_at))
    redacted = _("secrets found in the logs are shown as {mark}").format(mark="\\[REDACTED\\]")
    out.append(f"<sub>logtriage {__version__} · {generated} · {redacted}</sub>")
    return "\n".join(out) + "\n"
