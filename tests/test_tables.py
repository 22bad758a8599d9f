"""--tables DIR: the canonical tables written as Parquet and read back give the same report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from logtriage.cli import main
from logtriage.engine.tables import LAYOUT, MARKER

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PG = Path(__file__).parent / "cases" / "sources" / "postgresql" / "debian_min_duration.log"


def _analyze(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["analyze", *args, "--output-format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    report.pop("generated_at")
    return dict(report)


def test_a_report_from_the_tables_alone_is_the_report_of_the_logs(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    inputs = [str(EXAMPLES / "nginx" / "access.log"), str(PG)]
    parsed = _analyze(*inputs, "--tables", str(tables))
    again = _analyze("--tables", str(tables))
    assert again == parsed
    assert parsed["summary"]["requests"] > 0 and parsed["summary"]["queries"] > 0  # type: ignore[index]


def test_layout_is_hive_partitioned_by_date_and_source(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    _analyze(str(EXAMPLES / "nginx" / "access.log"), "--tables", str(tables))
    marker = json.loads((tables / MARKER).read_text())
    assert marker["layout"] == LAYOUT
    assert marker["partitioning"]["requests"] == ["date", "source"]
    files = sorted(p.relative_to(tables).parts[:3] for p in tables.rglob("*.parquet"))
    assert ("requests", "date=2026-11-25") in {f[:2] for f in files}
    assert all(f[2].startswith("source=") for f in files if f[0] == "requests")


def test_a_directory_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["analyze", str(EXAMPLES / "nginx" / "access.log"), "--tables", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "holds other files" in result.stderr
    assert (tmp_path / "notes.txt").exists()


@pytest.mark.parametrize("args", [[], ["--tables", "{missing}"]])
def test_nothing_to_analyze_is_one_clear_line(tmp_path: Path, args: list[str]) -> None:
    argv = [a.replace("{missing}", str(tmp_path / "none")) for a in args]
    result = CliRunner().invoke(main, ["analyze", *argv])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "logtriage: error:" in result.stderr
