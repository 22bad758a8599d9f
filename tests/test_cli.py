"""The command line: outputs, exit codes, one-line errors (never a traceback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from logtriage.cli import main
from tests.conftest import NGINX_CASE

Writer = Callable[..., Path]


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_analyze_prints_routes_and_summary() -> None:
    code, out, _ = run("analyze", str(NGINX_CASE))
    assert code == 0
    assert "GET /users/{id}" in out
    assert "Routes by total time" in out
    assert "Inputs" in out


def test_analyze_json_to_stdout_is_the_contract() -> None:
    code, out, _ = run("analyze", str(NGINX_CASE), "--output-format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["schema"] == "logtriage.report/1"
    assert report["summary"]["requests"] == 4
    assert report["inputs"][0]["rejected"] == 1


def test_json_file_and_text_together(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    code, out, _ = run("analyze", str(NGINX_CASE), "--json", str(target))
    assert code == 0
    assert "GET /users/{id}" in out
    assert json.loads(target.read_text())["summary"]["requests"] == 4


def test_stdin_dash_reads_standard_input() -> None:
    code, out, _ = run("analyze", "-", "--output-format", "json", stdin=NGINX_CASE.read_bytes())
    report = json.loads(out)
    assert code == 0
    assert report["inputs"][0]["path"] == "<stdin>"
    assert report["summary"]["requests"] == 4


def _assert_one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("logtriage: error:")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    code, _, err = run("analyze", str(tmp_path / "nope.log"))
    _assert_one_line_error(code, err, "no such file")


def test_unknown_format_is_one_line_error() -> None:
    code, _, err = run("analyze", str(NGINX_CASE), "--format", "klingon")
    _assert_one_line_error(code, err, "unknown format 'klingon'")


def test_empty_directory_is_one_line_error(tmp_path: Path) -> None:
    code, _, err = run("analyze", str(tmp_path))
    _assert_one_line_error(code, err, "no log files in directory")


def test_glob_with_no_match_is_one_line_error(tmp_path: Path) -> None:
    code, _, err = run("analyze", str(tmp_path / "*.log"))
    _assert_one_line_error(code, err, "no files match")


def test_bad_since_is_one_line_error() -> None:
    code, _, err = run("analyze", str(NGINX_CASE), "--since", "yesterday-ish")
    _assert_one_line_error(code, err, "cannot read time")


def test_bad_config_is_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "logtriage.toml"
    config.write_text("no_such_setting = 1\n")
    code, _, err = run("analyze", str(NGINX_CASE), "--config", str(config))
    _assert_one_line_error(code, err, "unknown setting 'no_such_setting'")


def test_binary_garbage_is_counted_not_fatal(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(bytes(range(256)) * 40 + b"\n\xff\xfe\x00zz\n")
    code, out, _ = run("analyze", str(garbage), "--output-format", "json")
    assert code == 0
    report = json.loads(out)
    item = report["inputs"][0]
    assert item["format"] == "unknown"
    assert item["rejected"] + item["skipped"] == item["lines"]
    assert any(f["code"] == "M001" for f in report["findings"])


def test_fail_on_gives_exit_1_only_when_matched(write_nginx_log: Writer) -> None:
    slow = [("GET", f"/report/{i}", 200, 2.5) for i in range(30)]
    path = write_nginx_log(slow)
    assert run("analyze", str(path), "--fail-on", "P004", "-q")[0] == 1
    assert run("analyze", str(path), "--fail-on", "A001", "-q")[0] == 0
    assert run("analyze", str(path), "--fail-on", "medium", "-q")[0] == 1


def test_since_until_filter_records(write_nginx_log: Writer) -> None:
    path = write_nginx_log([("GET", "/a", 200, 0.01)] * 100)  # 10:00:00.0 … 10:00:09.9
    code, out, _ = run(
        "analyze",
        str(path),
        "--since",
        "2026-11-24T10:00:05Z",
        "--until",
        "2026-11-24T10:00:08Z",
        "--output-format",
        "json",
    )
    report = json.loads(out)
    assert code == 0
    assert report["summary"]["requests"] == 30
    assert report["inputs"][0]["skipped"] == 70


def test_formats_lists_nginx() -> None:
    code, out, _ = run("formats")
    assert code == 0
    assert "nginx" in out


def test_explain_lists_all_codes_and_one_code() -> None:
    code, out, _ = run("explain")
    assert code == 0
    for needle in ("P004", "A001", "M001", "M002"):
        assert needle in out
    code, out, _ = run("explain", "P004")
    assert code == 0
    assert "How to fix" in out
    code, _, err = run("explain", "Z999")
    _assert_one_line_error(code, err, "unknown finding code")


def test_running_out_of_engine_memory_is_one_line_error(tmp_path: Path) -> None:
    """A limit too small for the input: say what to change, not 'internal error'."""
    big = tmp_path / "access.log"
    big.write_bytes(NGINX_CASE.read_bytes() * 20_000)
    code, _, err = run("analyze", str(big), "--memory-limit", "2MB")
    _assert_one_line_error(code, err, "ran out of memory within its limit")
    assert "--memory-limit" in err
