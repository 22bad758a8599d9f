"""analyze --state DIR: each run parses only new lines; the report covers the whole history."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from click.testing import CliRunner

from logtriage import api
from logtriage.cli import main
from logtriage.config import Settings
from logtriage.engine.history import HISTORY, MARKER, REPORT, locked_state
from logtriage.errors import LogtriageError
from logtriage.model.report import Report
from tests.serve_history import write_logs
from tests.test_report_json import schema

START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def nginx_lines(first: int, count: int) -> str:
    """``count`` nginx lines, request n at START + n seconds, path /items/n."""
    out = []
    for n in range(first, first + count):
        stamp = (START + timedelta(seconds=n)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        status = 500 if n % 7 == 0 else 200
        out.append(
            f'10.0.0.{n % 5} - - [{stamp}] "GET /items/{n} HTTP/1.1" {status} 99 "-" "curl" '
            f"0.{n % 90 + 10:03d}\n"
        )
    return "".join(out)


def analyze(state: Path, *paths: Path) -> Report:
    settings = Settings(state=str(state))
    return api.analyze([str(p) for p in paths], settings, now=NOW)


def history(state: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(state / HISTORY), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def lines_by_source(state: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for source, line in history(state, "SELECT source, line FROM requests ORDER BY source, line"):
        out.setdefault(source, []).append(line)
    return out


def test_appended_lines_are_the_only_ones_parsed(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 40))
    first = analyze(state, log)
    assert first.extra["state"]["new_lines"] == 40
    with log.open("a") as handle:
        handle.write(nginx_lines(40, 15))
    second = analyze(state, log)
    assert second.extra["state"] == {"run": 2, "new_lines": 15, "new_records": 15}
    assert second.summary["requests"] == 55
    assert second.inputs[0].lines == 55 and second.inputs[0].read == "appended: lines 41-55"
    # Line numbers stay the file's own: the resumed read starts counting at 41.
    assert lines_by_source(state) == {str(log): list(range(1, 56))}
    third = analyze(state, log)
    assert third.extra["state"]["new_lines"] == 0 and third.inputs[0].read == "unchanged"
    assert third.summary["requests"] == 55
    saved = json.loads((state / REPORT).read_text())
    assert saved["summary"]["requests"] == 55 and saved["inputs"][0]["read"] == "unchanged"
    jsonschema.validate(saved, schema())
    assert history(state, "SELECT run, new_lines FROM runs ORDER BY run") == [
        (1, 40),
        (2, 15),
        (3, 0),
    ]
    alone = CliRunner().invoke(main, ["analyze", "--state", str(state), "-q"])
    assert alone.exit_code == 0 and "read 0 new lines" in alone.stderr
    named_nothing = analyze(state)
    assert named_nothing.summary["requests"] == 55
    assert named_nothing.inputs[0].read == "not named in this run"


def test_an_unterminated_last_line_waits_for_its_end(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    text = nginx_lines(0, 3)
    log.write_text(text[:-20])  # the third line is still being written
    assert analyze(state, log).summary["requests"] == 2
    log.write_text(text)
    report = analyze(state, log)
    assert report.extra["state"]["new_lines"] == 1
    assert report.summary["requests"] == 3
    assert lines_by_source(state) == {str(log): [1, 2, 3]}


def test_a_truncated_file_is_read_again_and_its_old_rows_kept(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 30))
    analyze(state, log)
    log.write_text(nginx_lines(100, 5))  # copytruncate, then five new lines
    # A rotated sibling with other content is not what the old lines became: left unread.
    (tmp_path / "access.log.1").write_text(nginx_lines(500, 9))
    report = analyze(state, log)
    assert report.extra["state"]["new_lines"] == 5
    assert report.summary["requests"] == 35
    reads = {i.path: i.read for i in report.inputs}
    assert reads[str(log)] == "truncated: read again from line 1: lines 1-5"
    kept = f"{log} (before run 2)"
    assert reads[kept].startswith("replaced by other content")
    assert lines_by_source(state) == {kept: list(range(1, 31)), str(log): [1, 2, 3, 4, 5]}


@pytest.mark.parametrize("compress", [False, True], ids=["to-.1", "to-.1.gz"])
def test_rotation_resumes_the_rotated_file_and_reads_the_new_one(
    tmp_path: Path, compress: bool
) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 20))
    analyze(state, log)
    with log.open("a") as handle:  # written after run 1, before the rotation
        handle.write(nginx_lines(20, 5))
    rotated = tmp_path / ("access.log.1.gz" if compress else "access.log.1")
    if compress:
        rotated.write_bytes(gzip.compress(log.read_bytes()))
        log.unlink()
    else:
        log.rename(rotated)
    log.write_text(nginx_lines(25, 7))
    # Only the live file is named: the rotated sibling is found by its content.
    report = analyze(state, log)
    assert report.extra["state"]["new_lines"] == 5 + 7
    assert report.summary["requests"] == 32
    reads = {i.path: i.read for i in report.inputs}
    assert reads[str(rotated)] == "rotated from " + str(log) + ": lines 21-25"
    assert reads[str(log)] == "new: lines 1-7"
    assert lines_by_source(state) == {str(rotated): list(range(1, 26)), str(log): list(range(1, 8))}
    # Named by a glob next time: nothing is read twice.
    again = analyze(state, tmp_path / "access.log*")
    assert again.extra["state"]["new_lines"] == 0 and again.summary["requests"] == 32


def _without_run_details(report: Report) -> dict[str, Any]:
    data = report.to_json()
    for key in ("generated_at", "inputs", "state"):
        data.pop(key, None)
    return data


def test_two_incremental_runs_report_what_one_run_over_everything_reports(
    tmp_path: Path,
) -> None:
    full_dir, part_dir, state = tmp_path / "full", tmp_path / "part", tmp_path / "state"
    full_dir.mkdir()
    part_dir.mkdir()
    full = write_logs(full_dir)
    parts = [part_dir / p.name for p in full]
    for whole, part in zip(full, parts, strict=True):
        lines = whole.read_text().splitlines(keepends=True)
        part.write_text("".join(lines[: len(lines) // 2]))
    analyze(state, *parts)
    for whole, part in zip(full, parts, strict=True):
        lines = whole.read_text().splitlines(keepends=True)
        with part.open("a") as handle:
            handle.write("".join(lines[len(lines) // 2 :]))
    incremental = analyze(state, *parts)
    once = api.analyze([str(p) for p in parts], Settings(), now=NOW)
    assert incremental.summary["requests"] > 0 and incremental.findings
    assert [i.to_json() | {"read": ""} for i in incremental.inputs] == [
        i.to_json() | {"read": ""} for i in once.inputs
    ]
    assert _without_run_details(incremental) == _without_run_details(once)


def test_a_second_run_on_the_same_state_is_refused(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 3))
    with locked_state(str(state)), pytest.raises(LogtriageError, match="another logtriage run"):
        analyze(state, log)
    result = CliRunner().invoke(main, ["analyze", str(log), "--state", str(state)])
    assert result.exit_code == 0
    assert f"{state}: run 1 read 3 new lines; the history holds 3 lines of 1 file" in result.stderr


def test_concurrent_cli_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 3))
    with locked_state(str(state)):
        result = CliRunner().invoke(main, ["analyze", str(log), "--state", str(state)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "another logtriage run" in result.stderr


@pytest.mark.parametrize("damage", ["foreign", "version", "corrupt", "column"])
def test_a_foreign_or_damaged_state_is_one_line_and_exit_2(tmp_path: Path, damage: str) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 3))
    if damage == "foreign":
        state.mkdir()
        (state / "notes.txt").write_text("mine")
    else:
        assert CliRunner().invoke(main, ["analyze", str(log), "--state", str(state)]).exit_code == 0
        if damage == "version":
            (state / MARKER).write_text(json.dumps({"schema": "logtriage.state/99"}))
        elif damage == "column":
            con = duckdb.connect(str(state / HISTORY))
            con.execute("ALTER TABLE requests ADD COLUMN from_the_future INTEGER")
            con.close()
        else:
            (state / HISTORY).write_bytes(os.urandom(8192))
    result = CliRunner().invoke(main, ["analyze", str(log), "--state", str(state)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "--state" in result.stderr or HISTORY in result.stderr


def test_state_refuses_stdin(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["analyze", "-", "--state", str(tmp_path / "s")], input=b"x\n"
    )
    assert result.exit_code == 2 and "standard input" in result.stderr


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"tables": "t"}, "--tables and --state"), ({"engine": "spark"}, "--engine duckdb")],
)
def test_state_refuses_what_it_cannot_keep(
    tmp_path: Path, changes: dict[str, str], words: str
) -> None:
    log = tmp_path / "access.log"
    log.write_text(nginx_lines(0, 2))
    settings = Settings(state=str(tmp_path / "s")).with_overrides(**changes)
    with pytest.raises(LogtriageError, match=words):
        api.analyze([str(log)], settings)


def test_diff_compares_two_time_ranges_of_one_history(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    day = 24 * 3600
    lines = []
    for n in range(600):
        second = n * 288  # two days of requests, one every 4.8 minutes
        stamp = (START + timedelta(seconds=second)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        # The second day's /pay fails one time in two: a regression the diff must show.
        status = 500 if second >= day and n % 2 else 200
        lines.append(
            f'10.0.0.{n % 5} - - [{stamp}] "POST /api/orders/{n}/pay HTTP/1.1" {status} 9 '
            f'"-" "app" 0.050\n'
        )
    log.write_text("".join(lines))
    analyze(state, log)
    first_day = "2026-11-24T10:00:00Z..2026-11-25T10:00:00Z"
    result = CliRunner().invoke(
        main,
        ["diff", "--state", str(state), "--before", first_day, "--after", "2026-11-25T10:00:00Z..",
         "--output-format", "json", "--fail-on-regression"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["before"] == f"{state} 2026-11-24T10:00:00Z..2026-11-25T10:00:00Z"
    appeared = [(f["code"], f.get("route")) for f in data["findings"]["appeared"]]
    assert appeared == [("A001", "POST /api/orders/{id}/pay")]
    empty = CliRunner().invoke(
        main, ["diff", "--state", str(state), "--before", "2020-01-01..2020-01-02", "--after", ".."]
    )
    assert empty.exit_code == 2 and "no records" in empty.stderr
    mixed = CliRunner().invoke(main, ["diff", "a.json", "--state", str(state)])
    assert mixed.exit_code == 2 and mixed.stderr.count("\n") == 1


def test_a_rotated_set_shifts_by_one_and_every_line_is_read_once(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state"
    logs.mkdir()
    (logs / "access.log.1").write_text(nginx_lines(0, 10))
    (logs / "access.log").write_text(nginx_lines(10, 10))
    analyze(state, logs)
    with (logs / "access.log").open("a") as handle:
        handle.write(nginx_lines(20, 3))
    # logrotate with delaycompress: .1 → .2.gz, the live file → .1, a new live file.
    (logs / "access.log.2.gz").write_bytes(gzip.compress((logs / "access.log.1").read_bytes()))
    (logs / "access.log").rename(logs / "access.log.1")
    (logs / "access.log").write_text(nginx_lines(23, 4))
    report = analyze(state, logs)
    assert report.extra["state"]["new_lines"] == 3 + 4
    assert report.summary["requests"] == 27
    assert lines_by_source(state) == {
        str(logs / "access.log.2.gz"): list(range(1, 11)),
        str(logs / "access.log.1"): list(range(1, 14)),
        str(logs / "access.log"): list(range(1, 5)),
    }
    # The old .1 was found again as .2.gz: the history keeps no stale name.
    assert history(state, "SELECT count(*) FROM read_files WHERE status = 'archived'") == [(0,)]


def test_a_canonical_column_added_later_joins_an_old_history(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 5))
    analyze(state, log)
    con = duckdb.connect(str(state / HISTORY))
    con.execute("ALTER TABLE requests DROP COLUMN upstream_ms")  # as an older version wrote it
    con.close()
    with log.open("a") as handle:
        handle.write(nginx_lines(5, 2))
    assert analyze(state, log).summary["requests"] == 7
    assert history(state, "SELECT count(*) FROM requests WHERE upstream_ms IS NULL") == [(7,)]


def test_a_multi_line_entry_cut_by_a_run_is_read_whole_next_time(tmp_path: Path) -> None:
    log, state = tmp_path / "postgresql.log", tmp_path / "state"
    entry = "2026-11-24 10:00:0{s}.000 UTC [100] LOG:  duration: 1.500 ms  statement: SELECT {c}\n"
    log.write_text(entry.format(s=0, c="a") + entry.format(s=1, c="id") + "\tFROM users\n")
    analyze(state, log)
    with log.open("a") as handle:  # the rest of the statement, then one more entry
        handle.write("\tWHERE id = 7\n" + entry.format(s=2, c="b"))
    report = analyze(state, log)
    assert report.extra["state"] == {"run": 2, "new_lines": 2, "new_records": 1}
    assert report.summary["queries"] == 3 and report.inputs[0].rejected == 0
    assert history(state, "SELECT line, sql FROM queries ORDER BY line") == [
        (1, "SELECT a"),
        (2, "SELECT id FROM users WHERE id = 7"),
        (5, "SELECT b"),
    ]
    assert analyze(state, log).extra["state"]["new_lines"] == 0


def test_a_run_that_fails_leaves_the_history_as_it_was(tmp_path: Path) -> None:
    log, broken, state = tmp_path / "a.log", tmp_path / "b.log.gz", tmp_path / "state"
    log.write_text(nginx_lines(0, 10))
    analyze(state, log)
    with log.open("a") as handle:
        handle.write(nginx_lines(10, 5))
    # A gzip file cut short: its head reads, its end does not (after a.log was loaded).
    broken.write_bytes(gzip.compress(nginx_lines(100, 400).encode())[:-64])
    with pytest.raises(LogtriageError, match="cannot read"):
        analyze(state, log, broken)
    report = analyze(state, log)
    assert report.extra["state"] == {"run": 2, "new_lines": 5, "new_records": 5}
    assert lines_by_source(state) == {str(log): list(range(1, 16))}


def test_two_files_named_alike_from_two_directories_stay_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    for name, first in (("a", 0), ("b", 50)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "access.log").write_text(nginx_lines(first, 4))
    monkeypatch.chdir(tmp_path / "a")
    analyze(state, Path("access.log"))
    monkeypatch.chdir(tmp_path / "b")
    report = analyze(state, Path("access.log"))
    assert report.summary["requests"] == 8
    assert lines_by_source(state) == {
        "access.log": [1, 2, 3, 4],
        os.path.realpath(tmp_path / "b" / "access.log"): [1, 2, 3, 4],
    }


def test_a_copy_is_another_file_not_the_original_moved(tmp_path: Path) -> None:
    log, copy, state = tmp_path / "access.log", tmp_path / "backup.log", tmp_path / "state"
    log.write_text(nginx_lines(0, 6))
    analyze(state, log)
    copy.write_bytes(log.read_bytes())
    assert analyze(state, copy).extra["state"]["new_lines"] == 6
    assert analyze(state, log, copy).extra["state"]["new_lines"] == 0
    assert sorted(lines_by_source(state)) == [str(log), str(copy)]


def test_runs_cut_anywhere_in_a_multi_line_log_add_up_to_one_run(tmp_path: Path) -> None:
    whole, log, state = tmp_path / "whole.log", tmp_path / "postgresql.log", tmp_path / "state"
    entries = []
    for n in range(40):
        stamp = (START + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
        sql = f"SELECT id, name\n\tFROM authors\n\tWHERE id = {n}" if n % 3 else f"SELECT {n}"
        entries.append(
            f"{stamp} [{200 + n % 4}] LOG:  duration: {n + 0.5:.3f} ms  statement: {sql}\n"
        )
    data = "".join(entries).encode()
    whole.write_bytes(data)
    # Cuts mid-entry and mid-line: each run sees what a writer had flushed so far.
    for cut in (len(data) // 5 + 7, len(data) // 2 - 3, len(data) * 4 // 5, len(data)):
        log.write_bytes(data[:cut])
        analyze(state, log)
    with duckdb.connect(str(state / HISTORY), read_only=True) as con:
        kept = con.execute("SELECT line, sql, duration_ms FROM queries ORDER BY line").fetchall()
    _, rows, rejects = api.records(str(whole))
    assert kept == [(r["line"], r["sql"], r["duration_ms"]) for r in rows]
    assert len(kept) == 40 and rejects == []
    assert history(state, "SELECT count(*) FROM rejects") == [(0,)]


def test_new_lines_are_read_with_the_reader_options_of_the_first_run(tmp_path: Path) -> None:
    log, state = tmp_path / "custom.log", tmp_path / "state"
    lines = [
        f'0.00{n}|10.0.0.1|[24/Nov/2026:10:00:0{n} +0000]|"GET /x/{n} HTTP/1.1"|200\n'
        for n in range(6)
    ]
    log.write_text("".join(lines[:4]))
    given = {"nginx_log_format": '$request_time|$remote_addr|[$time_local]|"$request"|$status'}
    first = api.analyze([str(log)], Settings(state=str(state), format_options=given), now=NOW)
    assert first.inputs[0].format == "nginx" and first.summary["requests"] == 4
    with log.open("a") as handle:
        handle.write("".join(lines[4:]))
    # The daily run forgets the flag: the file is still read as its first lines were.
    second = analyze(state, log)
    assert second.summary["requests"] == 6 and second.inputs[0].rejected == 0


def test_a_utf16_log_is_read_and_resumed_like_a_utf8_one(tmp_path: Path) -> None:
    # A Windows service writing UTF-16 LE with a byte-order mark and CRLF endings.
    log = tmp_path / "access.log"
    log.write_bytes(b"\xff\xfe" + nginx_lines(1, 20).replace("\n", "\r\n").encode("utf-16-le"))
    analyze(tmp_path / "state", log)
    with open(log, "ab") as out:
        out.write(nginx_lines(21, 10).replace("\n", "\r\n").encode("utf-16-le"))
    report = analyze(tmp_path / "state", log)
    assert lines_by_source(tmp_path / "state") == {str(log): list(range(1, 31))}
    assert report.summary["rejected"] == 0
