"""--engine spark without a usable Java: one clear line and exit 2, before Spark starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logtriage.cli import main

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")

LOG = Path(__file__).resolve().parents[1] / "examples" / "nginx" / "access.log"


def _fake_java(home: Path, version: str) -> None:
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2021-01-19' >&2\n")
    java.chmod(0o755)


@pytest.mark.parametrize(("version", "said"), [(None, "no java found"), ("11.0.2", "Java 11")])
def test_missing_or_old_java_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, said: str
) -> None:
    if version is not None:
        _fake_java(tmp_path, version)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["analyze", str(LOG), "--engine", "spark", "-q"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "needs Java 17 or newer" in result.stderr and said in result.stderr
