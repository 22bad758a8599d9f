"""The terminal report: summary, findings by viewpoint, route table; width-aware via rich."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from logtriage.model.finding import Finding, Severity, Viewpoint
from logtriage.model.formatting import byte_size, count, ms
from logtriage.model.i18n import N_, _, language, ngettext
from logtriage.model.report import Report
from logtriage.report.line_breaking import fold, has_wide
from logtriage.report.values import (
    example_place,
    label,
    scalar,
    severity_name,
    viewpoint_name,
)

# Column and label names: English keys in code, shown through the catalog.
_COLUMNS = {
    "file": N_("file"),
    "format": N_("format"),
    "lines": N_("lines"),
    "records": N_("records"),
    "rejected": N_("rejected"),
    "from": N_("from"),
    "to": N_("to"),
    "route": N_("route"),
    "count": N_("count"),
    "total": N_("total"),
    "share": N_("share"),
    "bytes": N_("bytes"),
    "fingerprint": N_("fingerprint"),
    "calls": N_("calls"),
    "mean": N_("mean"),
    "rows exam": N_("rows exam"),
    "rows sent": N_("rows sent"),
}


def _column(name: str) -> str:
    """A column heading in the active language (p95, 5xx, id stay as written)."""
    return _(_COLUMNS[name]) if name in _COLUMNS else name


_SEVERITY_STYLE = {
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _when(iso: str | None) -> str:
    """``2026-11-24T10:00:00.123Z`` as ``2026-11-24 10:00:00``: seconds are enough to read."""
    return iso[:19].replace("T", " ") if iso else "-"


def _inputs_table(report: Report, width: int) -> Table:
    # The time range is in the summary line too: narrow terminals drop it here.
    wide = width >= 120
    table = Table(title=_("Inputs"), title_justify="left", expand=False)
    table.add_column(_column("file"), overflow="fold", min_width=16)
    table.add_column(_column("format"), overflow="fold", min_width=12)
    numbers = ("lines", "records", "rejected") if wide else ("records", "rejected")
    for col in numbers:
        table.add_column(_column(col), justify="right", no_wrap=True)
    if wide:
        for col in ("from", "to"):
            table.add_column(_column(col), no_wrap=True)
    for item in report.inputs:
        cells: dict[str, str | Text] = {
            "lines": count(item.lines),
            "records": count(item.records),
            "rejected": Text(count(item.rejected), style="red" if item.rejected else ""),
        }
        row: list[str | Text] = [escape(item.path), escape(f"{item.format} {item.variant}".strip())]
        row += [cells[c] for c in numbers]
        if wide:
            row += [_when(item.first_ts), _when(item.last_ts)]
        table.add_row(*row)
    return table


def _summary_line(report: Report) -> Text:
    s = report.summary
    parts = [_("{count} requests").format(count=count(s.get("requests")))]
    if s.get("queries"):
        parts.append(_("{count} queries").format(count=count(s["queries"])))
    if s.get("total_query_ms") is not None:
        parts.append(_("DB time {time}").format(time=ms(s["total_query_ms"])))
    if s.get("routes"):
        parts.append(_("{count} routes").format(count=count(s["routes"])))
    if s.get("p95_ms") is not None:
        parts.append(f"p50 {ms(s.get('p50_ms'))}, p95 {ms(s['p95_ms'])}, p99 {ms(s.get('p99_ms'))}")
    if s.get("error_rate") is not None:
        parts.append(f"5xx {s['error_rate']:.2%}")
    if s.get("time_range"):
        parts.append(f"{_when(s['time_range'][0])} → {_when(s['time_range'][1])} UTC")
    return Text(" · ".join(parts))


def _prose(text: str, width: int, used: int) -> str:
    """CJK text broken into lines here (rich breaks only at spaces); other text as it is."""
    if not has_wide(text):
        return text
    return "\n".join(fold(text, width, first_width=width - used))


def _finding_block(index: int, finding: Finding, verbose: bool, width: int) -> Group:
    head = Text()
    head.append(f"{index}. ", style="bold")
    severity = severity_name(finding.severity)
    head.append(f"[{severity}] ", style=_SEVERITY_STYLE[finding.severity])
    head.append(f"{finding.code} {finding.name}  ", style="bold")
    head.append(_prose(finding.title, width, head.cell_len))
    lines: list[Text] = [head]
    # Labels padded to one width in the active language (display cells: CJK is two wide).
    labels = {
        key: _(text)
        for key, text in (
            ("evidence", N_("evidence:")),
            ("impact", N_("impact:")),
            ("location", N_("location:")),
            ("fix", N_("fix:")),
            ("example", N_("example:")),
        )
    }
    label_width = max(cell_len(v) for v in labels.values()) + 1

    def label(key: str) -> Text:
        text = labels[key]
        return Text("   " + text + " " * (label_width - cell_len(text)), style="dim")

    evidence = finding.evidence if verbose else dict(list(finding.evidence.items())[:6])
    if evidence:
        shown = ", ".join(f"{_key(k)}={_value(k, v)}" for k, v in evidence.items())
        lines.append(label("evidence") + Text(shown))
    if finding.impact:
        shown = ", ".join(f"{_key(k)}={_value(k, v)}" for k, v in finding.impact.items())
        lines.append(label("impact") + Text(shown))
    for loc in finding.location[: 3 if not verbose else None]:
        where = f"{loc.path}:{loc.line}" if loc.line else loc.path
        lines.append(label("location") + Text(f"{where} ({loc.how})"))
    fix_label = label("fix")
    fix = _prose(finding.fix, width, fix_label.cell_len)
    lines.append(fix_label + Text(fix, style="green"))
    for ex in finding.examples[: 1 if not verbose else None]:
        where, detail = example_place(ex)
        lines.append(label("example") + Text(f"{where} {_short(detail, 120)}".strip()))
    return Group(*lines)


def _key(key: str) -> str:
    """English keeps the JSON key (what jq and --fail-on users type); other languages a label."""
    return key if language() == "en" else label(key)


def _value(key: str, value: object) -> str:
    """Evidence values read as people say them: durations in ms/s, shares in %."""
    if language() != "en":
        # Our codes by name, yes/no, small tables as pairs (report/values.py decides which).
        return _short(scalar(key, value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key.endswith("_ms"):
            return ms(float(value))
        if key.startswith("share") or key.endswith(("_share", "_rate")) or "share_of" in key:
            return f"{value:.1%}"
        if isinstance(value, int):
            return count(value)
    if isinstance(value, dict):
        # A small table (O001's per-second rates) as "(peak 2, p99 2, …)", not a Python dict.
        return "(" + _short(scalar(key, value), 110) + ")"
    if isinstance(value, list | tuple) and not any(isinstance(v, dict | list) for v in value):
        return _short(scalar(key, value), 90)
    if isinstance(value, list | tuple):
        return "; ".join(_value(key, v) for v in value[:3]) + ("; …" if len(value) > 3 else "")
    return _short(value)


def _short(value: object, width: int = 60) -> str:
    text = str(value)
    if isinstance(value, float):
        # 20000.0 reads "20,000", not "2e+04"; small values keep four significant digits.
        text = count(value) if 1000 <= abs(value) < 1e15 else f"{value:.4g}"
    return text if len(text) <= width else text[: width - 1] + "…"


def _routes_table(report: Report, limit: int, width: int) -> Table:
    # Narrow terminals keep the columns that answer "where does the time go"; wide ones get all.
    wide = width >= 120
    columns = ["count", "p50", "p95", "p99", "max", "total", "share", "5xx", "bytes"]
    if not wide:
        columns = ["count", "p95", "total", "share", "5xx"]
    table = Table(title=_("Routes by total time"), title_justify="left")
    table.add_column(_column("route"), overflow="fold", min_width=min(40, max(16, width // 4)))
    for col in columns:
        table.add_column(_column(col), justify="right", no_wrap=True)
    for row in report.routes[:limit]:
        share = row.get("share_of_time")
        cells: dict[str, str | Text] = {
            "count": count(row["count"]),
            "p50": ms(row.get("p50_ms")),
            "p95": ms(row.get("p95_ms")),
            "p99": ms(row.get("p99_ms")),
            "max": ms(row.get("max_ms")),
            "total": ms(row.get("total_ms")),
            "share": f"{share:.0%}" if share is not None else "-",
            "5xx": Text(
                f"{row['error_rate']:.1%}", style="red" if row["error_rate"] >= 0.01 else ""
            ),
            "bytes": byte_size(row.get("bytes_sent")),
        }
        table.add_row(escape(row["route"]), *(cells[c] for c in columns))
    return table


def _queries_table(report: Report, limit: int, width: int) -> Table:
    # pt-query-digest's profile: where the database time goes, one row per fingerprint.
    wide = width >= 120
    columns = ["id", "calls", "total", "share", "mean", "p95", "max", "rows exam", "rows sent"]
    if not wide:
        columns = ["calls", "total", "share", "p95"]
    table = Table(title=_("Queries by total time"), title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(
        _column("fingerprint"), overflow="fold", min_width=min(50, max(20, width // 3))
    )
    for col in columns:
        table.add_column(_column(col), justify="right", no_wrap=True)
    for row in report.queries[:limit]:
        share = row.get("share_of_time")
        cells: dict[str, str] = {
            "id": row["fingerprint_id"],
            "calls": count(row["count"]),
            "total": ms(row.get("total_ms")),
            "share": f"{share:.0%}" if share is not None else "-",
            "mean": ms(row.get("mean_ms")),
            "p95": ms(row.get("p95_ms")),
            "max": ms(row.get("max_ms")),
            "rows exam": count(row.get("rows_examined")),
            "rows sent": count(row.get("rows_sent")),
        }
        table.add_row(
            str(row.get("rank", "")),
            escape(_short(row["fingerprint"], 400)),
            *(cells[c] for c in columns),
        )
    return table


def render_terminal(
    report: Report, console: Console, *, verbose: bool = False, quiet: bool = False
) -> None:
    """Print ``report`` on ``console``: findings by viewpoint, then the route and query tables."""
    if not quiet:
        console.print(_inputs_table(report, console.width))
        console.print(_summary_line(report))
        console.print()
    if not report.findings:
        console.print(Text(_("No findings."), style="green"))
    # Numbers are the global rank by score, so "1." is the first thing to fix in any section.
    rank = {id(f): i for i, f in enumerate(report.findings, start=1)}
    for viewpoint in Viewpoint:
        group = [f for f in report.findings if f.viewpoint is viewpoint]
        if not group:
            continue
        # The panel takes two cells of border and two of padding.
        blocks = [_finding_block(rank[id(f)], f, verbose, console.width - 4) for f in group]
        title = f"{viewpoint_name(viewpoint)} ({len(group)})"
        console.print(Panel(Group(*blocks), title=title, title_align="left"))
    suppressed = report.extra.get("suppressed") or []
    if suppressed:
        names = ", ".join(
            f"{s['code']} {s.get('route') or s.get('fingerprint') or ''}".strip()
            for s in suppressed
        )
        note = ngettext(
            "{count} accepted finding suppressed by the config: ",
            "{count} accepted findings suppressed by the config: ",
            len(suppressed),
        ).format(count=len(suppressed))
        console.print(Text(note, style="dim") + Text(names))
    if not quiet and report.routes:
        console.print(_routes_table(report, len(report.routes) if verbose else 15, console.width))
    if not quiet and report.queries:
        console.print(_queries_table(report, len(report.queries) if verbose else 10, console.width))
