"""logtriage diff: a fix shows as resolved and better; a regression exits 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from logtriage.cli import main

Writer = Callable[..., Path]


def report(write_nginx_log: Writer, tmp_path: Path, name: str, report_seconds: float) -> Path:
    requests = [("GET", f"/users/{i}", 200, 0.02) for i in range(200)]
    requests += [("GET", f"/reports/{i}", 200, report_seconds) for i in range(50)]
    log = write_nginx_log(requests, f"{name}.log")
    out = tmp_path / f"{name}.json"
    result = CliRunner().invoke(main, ["analyze", str(log), "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_fix_is_resolved_and_better(write_nginx_log: Writer, tmp_path: Path) -> None:
    before = report(write_nginx_log, tmp_path, "before", 3.0)
    after = report(write_nginx_log, tmp_path, "after", 0.05)
    result = CliRunner().invoke(
        main, ["diff", str(before), str(after), "--output-format", "json", "--fail-on-regression"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schema"] == "logtriage.diff/1"
    assert [f["code"] for f in data["findings"]["resolved"]] == ["P004"]
    p95 = [
        c for c in data["routes"] if c["subject"] == "GET /reports/{id}" and c["metric"] == "p95_ms"
    ]
    assert p95 and p95[0]["verdict"] == "better"
    assert data["regressions"] == []


def test_regression_exits_1_and_names_it(write_nginx_log: Writer, tmp_path: Path) -> None:
    before = report(write_nginx_log, tmp_path, "before", 0.05)
    after = report(write_nginx_log, tmp_path, "after", 3.0)
    result = CliRunner().invoke(main, ["diff", str(before), str(after), "--fail-on-regression"])
    assert result.exit_code == 1
    assert "New findings" in result.stdout
    assert "regression" in result.stdout
    md = CliRunner().invoke(main, ["diff", str(before), str(after), "--output-format", "markdown"])
    assert "### New findings" in md.stdout
    assert "| GET /reports/{id} | p95_ms |" in md.stdout


def test_not_a_report_is_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text('{"hello": 1}')
    result = CliRunner().invoke(main, ["diff", str(bogus), str(bogus)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("logtriage: error:")
    assert "not a logtriage report" in result.stderr
    missing = CliRunner().invoke(main, ["diff", str(tmp_path / "nope.json"), str(bogus)])
    assert missing.exit_code == 2
    assert "no such report" in missing.stderr


def test_a_cut_or_edited_report_is_one_line_error(write_nginx_log: Writer, tmp_path: Path) -> None:
    good = report(write_nginx_log, tmp_path, "good", 3.0)
    data = json.loads(good.read_text())
    for name, change, problem in (
        ("no-findings", {"findings": None}, "'findings' is not a list"),
        ("bad-route", {"routes": [{"p95_ms": 1.0}]}, "routes[0] has no 'route'"),
        ("bad-query", {"queries": ["select 1"]}, "queries[0] has no 'fingerprint_id'"),
    ):
        broken = tmp_path / f"{name}.json"
        broken.write_text(json.dumps({**data, **change}))
        result = CliRunner().invoke(main, ["diff", str(good), str(broken)])
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and problem in result.stderr, result.stderr
