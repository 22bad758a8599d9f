"""Render a report diff for the terminal and as Markdown (for the pull request of the fix)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from logtriage.model.diff import Change, ReportDiff


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.endswith("_ms"):
        return f"{value:,.1f} ms"
    if metric == "error_rate":
        return f"{value:.2%}"
    return f"{value:,.1f}"


def _changes_table(title: str, changes: tuple[Change, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("subject", "metric", "before", "after", ""):
        table.add_column(col, overflow="fold" if col == "subject" else "ellipsis")
    for c in changes:
        style = "green" if c.verdict == "better" else "red"
        table.add_row(escape(c.subject), c.metric, _fmt(c.metric, c.before),
                      _fmt(c.metric, c.after), Text(c.verdict, style=style))  # fmt: skip
    return table


def render_diff_terminal(diff: ReportDiff, console: Console) -> None:
    """Print what got better, what got worse, what appeared and what is gone."""
    console.print(Text(f"{diff.before} → {diff.after}", style="bold"))
    for label, items, style in (
        ("Resolved findings", diff.resolved, "green"),
        ("New findings", diff.appeared, "red"),
    ):
        if items:
            console.print(Text(f"{label} ({len(items)})", style=f"bold {style}"))
            for f in items:
                console.print(Text(f"  {f['code']} [{f['severity']}] ") + Text(str(f["title"])))
    if diff.persisting:
        console.print(Text(f"Still present ({len(diff.persisting)})", style="bold"))
        for f in diff.persisting:
            moved = f"score {f['score_before']} → {f['score']}"
            console.print(Text(f"  {f['code']} {f['title']} ({moved})"))
    if diff.routes:
        console.print(_changes_table("Routes", diff.routes))
    if diff.queries:
        console.print(_changes_table("Queries", diff.queries))
    if diff.has_regression:
        console.print(Text(f"{len(diff.regressions)} regression(s)", style="bold red"))
    else:
        console.print(Text("No regression.", style="green"))


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(diff: ReportDiff) -> str:
    """A Markdown summary of the diff."""
    out = [f"## logtriage diff: `{_md(diff.before)}` → `{_md(diff.after)}`", ""]
    verdict = (
        f"**{len(diff.regressions)} regression(s)**" if diff.has_regression else "No regression."
    )
    out += [verdict, ""]
    for label, items in (("Resolved", diff.resolved), ("New", diff.appeared)):
        if items:
            out.append(f"### {label} findings")
            out += [f"- `{f['code']}` ({f['severity']}) {_md(f['title'])}" for f in items]
            out.append("")
    for label, changes in (("Routes", diff.routes), ("Queries", diff.queries)):
        if changes:
            out += [
                f"### {label}",
                "",
                "| subject | metric | before | after | |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {_md(c.subject)} | {c.metric} | {_fmt(c.metric, c.before)} | "
                f"{_fmt(c.metric, c.after)} | {c.verdict} |"
                for c in changes
            ]
            out.append("")
    return "\n".join(out)
