"""Render a report diff for the terminal and as Markdown (for the pull request of the fix)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from logtriage.model.diff import Change, ReportDiff
from logtriage.model.i18n import N_, _, ngettext
from logtriage.report.values import severity_name

# Verdicts are English words in the diff JSON; people read them in their language.
_VERDICTS = {"better": N_("better"), "worse": N_("worse")}


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
    table.add_column(_("subject"), overflow="fold")
    for col in (_("metric"), _("before"), _("after"), ""):
        table.add_column(col, overflow="ellipsis")
    for c in changes:
        style = "green" if c.verdict == "better" else "red"
        table.add_row(escape(c.subject), c.metric, _fmt(c.metric, c.before),
                      _fmt(c.metric, c.after), Text(_verdict(c.verdict), style=style))  # fmt: skip
    return table


def _verdict(verdict: str) -> str:
    return _(_VERDICTS[verdict]) if verdict in _VERDICTS else verdict


def _severity(value: object) -> str:
    try:
        return severity_name(str(value))
    except ValueError:  # a report from a newer version: show its word as written
        return str(value)


def _regressions(count: int) -> str:
    return ngettext("{count} regression", "{count} regressions", count).format(count=count)


def render_diff_terminal(diff: ReportDiff, console: Console) -> None:
    """Print what got better, what got worse, what appeared and what is gone."""
    console.print(Text(f"{diff.before} → {diff.after}", style="bold"))
    for label, items, style in (
        (_("Resolved findings ({count})"), diff.resolved, "green"),
        (_("New findings ({count})"), diff.appeared, "red"),
    ):
        if items:
            console.print(Text(label.format(count=len(items)), style=f"bold {style}"))
            for f in items:
                head = f"  {f['code']} [{_severity(f['severity'])}] "
                console.print(Text(head) + Text(str(f["title"])))
    if diff.persisting:
        still = _("Still present ({count})").format(count=len(diff.persisting))
        console.print(Text(still, style="bold"))
        for f in diff.persisting:
            moved = _("score {before} → {after}").format(before=f["score_before"], after=f["score"])
            console.print(Text(f"  {f['code']} {f['title']} ({moved})"))
    if diff.routes:
        console.print(_changes_table(_("Routes"), diff.routes))
    if diff.queries:
        console.print(_changes_table(_("Queries"), diff.queries))
    if diff.has_regression:
        console.print(Text(_regressions(len(diff.regressions)), style="bold red"))
    else:
        console.print(Text(_("No regression."), style="green"))


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(diff: ReportDiff) -> str:
    """A Markdown summary of the diff."""
    title = _("logtriage diff: {before} → {after}").format(
        before=f"`{_md(diff.before)}`", after=f"`{_md(diff.after)}`"
    )
    out = [f"## {title}", ""]
    verdict = (
        f"**{_regressions(len(diff.regressions))}**" if diff.has_regression else _("No regression.")
    )
    out += [verdict, ""]
    for label, items in (
        (_("Resolved findings"), diff.resolved),
        (_("New findings"), diff.appeared),
    ):
        if items:
            out.append(f"### {label}")
            out += [
                f"- `{f['code']}` ({_severity(f['severity'])}) {_md(f['title'])}" for f in items
            ]
            out.append("")
    for label, changes in ((_("Routes"), diff.routes), (_("Queries"), diff.queries)):
        if changes:
            header = (_("subject"), _("metric"), _("before"), _("after"), "")
            out += [f"### {label}", "", "| " + " | ".join(header) + " |", "|---|---|---|---|---|"]
            out += [
                f"| {_md(c.subject)} | {c.metric} | {_fmt(c.metric, c.before)} | "
                f"{_fmt(c.metric, c.after)} | {_verdict(c.verdict)} |"
                for c in changes
            ]
            out.append("")
    return "\n".join(out)
