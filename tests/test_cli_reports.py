"""`analyze --html/--markdown/--sarif FILE` and `--output-format markdown|sarif`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from logtriage.cli import main
from tests.conftest import NGINX_CASE


def test_every_file_rendering_at_once(tmp_path: Path) -> None:
    out = {kind: tmp_path / f"r.{kind}" for kind in ("json", "html", "markdown", "sarif")}
    args = ["analyze", str(NGINX_CASE), "-q"]
    for kind, path in out.items():
        args += [f"--{kind}", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    html = out["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "<svg" in html  # charts inline, not linked
    assert out["markdown"].read_text(encoding="utf-8").startswith("# logtriage report")
    sarif = json.loads(out["sarif"].read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    report = json.loads(out["json"].read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == len(report["findings"])
    assert report["timeseries"]["points"], "chart data is part of the JSON report"


def test_markdown_and_sarif_to_stdout() -> None:
    runner = CliRunner()
    md = runner.invoke(main, ["analyze", str(NGINX_CASE), "--output-format", "markdown"])
    assert md.exit_code == 0 and md.output.startswith("# logtriage report")
    sarif = runner.invoke(main, ["analyze", str(NGINX_CASE), "--output-format", "sarif"])
    assert sarif.exit_code == 0
    assert json.loads(sarif.output)["runs"][0]["tool"]["driver"]["name"] == "logtriage"
