"""A finding's example reads as ``file:line text`` in the terminal and Markdown, any shape."""

from __future__ import annotations

import dataclasses
from io import StringIO

from rich.console import Console

from logtriage.model.report import Report
from logtriage.report.markdown import render_markdown
from logtriage.report.terminal import render_terminal
from tests.fixed_report import fixed_report

# P001/P002 examples name their unit (a request, a connection) and list its queries.
PER_UNIT = {
    "unit": "connection db.log:17288#1",
    "queries": [
        {"seq": 1, "sql": "SELECT balance FROM accounts WHERE id = $1;", "source": "db.log",
         "line": 172},
    ],
}  # fmt: skip


def _with_per_unit_examples() -> Report:
    report = fixed_report()
    findings = tuple(dataclasses.replace(f, examples=(PER_UNIT,)) for f in report.findings)
    return dataclasses.replace(report, findings=findings)


def test_per_unit_example_shows_its_first_query() -> None:
    report = _with_per_unit_examples()
    out = StringIO()
    render_terminal(report, Console(file=out, width=200, color_system=None))
    assert "example:  db.log:172 SELECT balance FROM accounts WHERE id = $1;" in out.getvalue()
    assert "example:  :" not in out.getvalue()
    markdown = render_markdown(report)
    assert "`db.log:172` `SELECT balance FROM accounts WHERE id = $1;`" in markdown
    assert "`:`" not in markdown
