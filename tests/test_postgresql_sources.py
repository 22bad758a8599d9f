"""PostgreSQL readers beyond the shared case runner: events, raw statements, prefixes, zones."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.cli import main
from logtriage.config import Settings
from logtriage.sources.base import FormatOptions
from logtriage.sources.postgresql import FORMAT as STDERR
from logtriage.sources.postgresql_csv import FORMAT as CSVLOG
from logtriage.sources.postgresql_json import FORMAT as JSONLOG
from logtriage.sources.postgresql_messages import FIELD_HINTS
from logtriage.sources.postgresql_prefix import (
    KNOWN_PREFIXES,
    compile_prefix,
    guess_prefix,
    normalise_prefix,
)

from .e2e.postgres_server import COMMENTED_SQL, MULTILINE_SQL
from .loaded_tables import load_tables

CASES = Path(__file__).parent / "cases" / "sources"
PG_CASES = sorted(
    p
    for folder, pattern in (
        ("postgresql", "*.log"),
        ("postgresql_csv", "*.csv"),
        ("postgresql_json", "*.json"),
    )
    for p in (CASES / folder).glob(pattern)
)
DEBIAN = CASES / "postgresql" / "debian_min_duration.log"
NO_OPTIONS = FormatOptions({})


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _companion(path: Path, suffix: str) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + suffix)


def _settings(path: Path) -> Settings:
    """The case's `[formats]` options (e.g. an explicit pg_prefix), as the case runner reads."""
    import tomllib

    from logtriage.config import settings_from_mapping

    meta_path = _companion(path, ".toml")
    meta = tomllib.loads(meta_path.read_text()) if meta_path.exists() else {}
    return settings_from_mapping({k: v for k, v in meta.items() if not k.startswith("expect_")})


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, datetime):
        actual = actual.isoformat()
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-6)
    return bool(actual == expected)


def _jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.mark.parametrize("log_path", PG_CASES, ids=_case_id)
def test_case_db_events(log_path: Path) -> None:
    """Each case's db_events rows (errors, deadlocks, connections…), in line order."""
    expected = _jsonl(_companion(log_path, ".db_events.jsonl"))
    events = load_tables(str(log_path), _settings(log_path)).db_events
    assert len(events) == len(expected), [(e["line"], e["kind"]) for e in events]
    for event, want in zip(events, expected, strict=True):
        diffs = {k: (event.get(k), v) for k, v in want.items() if not _same(event.get(k), v)}
        assert not diffs, f"line {event['line']}: (actual, expected) {diffs}"


@pytest.mark.parametrize("log_path", PG_CASES, ids=_case_id)
def test_case_raw_statements(log_path: Path) -> None:
    """The reader's raw statement text, comments and line breaks included, before cleanup."""
    expected = _jsonl(_companion(log_path, ".statements.jsonl"))
    queries = load_tables(str(log_path), _settings(log_path)).queries
    assert [row["sql"] for row in queries] == expected


def _statements(path: Path) -> list[tuple[Any, ...]]:
    # Sorted: the collector may order concurrent sessions' lines differently per destination.
    rows = [
        (row["duration_ms"] or -1.0, row["sql"], row["db"], row["user"])
        for row in load_tables(str(path)).queries
    ]
    return sorted(rows)


@pytest.mark.parametrize(
    ("stderr", "others"),
    [
        ("postgresql/debian_min_duration.log", ("debian_min_duration",)),
        ("postgresql/pgbadger_statement_duration.log", ("statement_duration",)),
        ("postgresql/auto_explain.log", ("auto_explain",)),
    ],
)
def test_stderr_csvlog_and_jsonlog_of_one_run_agree(stderr: str, others: tuple[str, ...]) -> None:
    """Three independent layouts of the same server run give the same statements."""
    expected = _statements(CASES / stderr)
    assert expected
    for name in others:
        assert _statements(CASES / "postgresql_csv" / f"{name}.csv") == expected
        assert _statements(CASES / "postgresql_json" / f"{name}.json") == expected


def test_workload_statements_keep_their_lines_and_comments() -> None:
    statements = [row["sql"] for row in load_tables(str(DEBIAN)).queries]
    assert MULTILINE_SQL in statements
    assert COMMENTED_SQL in statements


def test_deadlock_and_timeouts_are_kinds_with_their_statement() -> None:
    events = load_tables(str(CASES / "postgresql_csv" / "debian_min_duration.csv")).db_events
    by_kind = {e["kind"]: e for e in events}
    deadlock = by_kind["deadlock"]
    assert deadlock["sqlstate"] == "40P01"
    assert deadlock["statement"].startswith("UPDATE accounts SET balance = balance - 1")
    assert deadlock["detail"].count("\n") == 3  # four "Process …" lines, one per line
    assert by_kind["lock_timeout"]["sqlstate"] == "55P03"
    assert by_kind["statement_timeout"]["statement"] == "SELECT pg_sleep(2);"
    assert by_kind["error"]["message"] == 'relation "missing_table" does not exist'


def test_stderr_error_message_drops_the_position_as_csvlog_does() -> None:
    stderr = {e["kind"]: e["message"] for e in load_tables(str(DEBIAN)).db_events}
    assert stderr["error"] == 'relation "missing_table" does not exist'


def test_sessions_are_told_apart() -> None:
    queries = load_tables(str(DEBIAN)).queries
    deadlocked = {q["connection"] for q in queries if "balance = balance - 1" in q["sql"]}
    begins = [q["connection"] for q in queries if q["sql"] == "BEGIN;"]
    assert len(deadlocked) == 2
    assert len(set(begins)) == len(begins) == 3


def test_start_time_is_the_logged_end_minus_the_duration() -> None:
    first = load_tables(str(DEBIAN)).queries[0]
    logged_end = DEBIAN.read_text().splitlines()[first["line"] - 1][:23]
    end = datetime.fromisoformat(logged_end)
    assert (end - first["ts"]).total_seconds() * 1000 == pytest.approx(
        first["duration_ms"], abs=0.001
    )


@pytest.mark.parametrize(("name", "prefix"), KNOWN_PREFIXES)
def test_known_prefixes_compile_to_a_regex_of_their_escapes(name: str, prefix: str) -> None:
    compiled = compile_prefix(prefix)
    assert ("pid" in compiled.slots) == ("%p" in prefix), name
    assert ("session" in compiled.slots) == ("%c" in prefix), name


def test_a_custom_prefix_is_guessed_from_one_line() -> None:
    line = (
        "2026-11-25 14:40:47.967 CET 6b06e55f.df8 00000 [3576  ] postgres@postgres "
        "app=wl-simple LOG:  duration: 0.320 ms  statement: SELECT 1 AS one;"
    )
    assert guess_prefix(line) == "%m %c %e [%-6p] %u@%d app=%a "


def test_the_custom_prefix_case_is_detected_without_being_given() -> None:
    path = CASES / "postgresql" / "session_sqlstate_cet.log"
    detection = STDERR.sniff(path.read_text().splitlines()[:64], NO_OPTIONS)
    assert detection.confidence == 1.0
    assert detection.detail == "%m %c %e [%-6p] %q%u@%d app=%a "
    given_rows = load_tables(str(path), _settings(path)).queries
    assert load_tables(str(path)).queries == given_rows


@pytest.mark.parametrize(
    "text",
    ["%m [%p] ", "'%m [%p] '", "log_line_prefix = '%m [%p] '  # comment"],
)
def test_prefix_may_be_given_as_the_setting_line(text: str) -> None:
    assert normalise_prefix(text) == "%m [%p] "


def test_pg_prefix_flag_reaches_the_reader(tmp_path: Path) -> None:
    log = tmp_path / "pg.log"
    log.write_text(
        "db=shop app=web 2026-11-24 10:00:00.500 UTC LOG:  duration: 2.000 ms  statement: "
        "SELECT 1\n"
    )
    result = CliRunner().invoke(
        main,
        ["analyze", str(log), "--output-format", "json", "--pg-prefix", "db=%d app=%a %m "],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["inputs"][0]["format"] == "postgresql"
    assert report["inputs"][0]["rejected"] == 0
    assert report["summary"]["queries"] == 1


def _write(tmp_path: Path, text: str, name: str = "pg.log") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("zone", "utc"),
    [
        ("UTC", "2026-07-01T10:00:00"),
        ("CEST", "2026-07-01T08:00:00"),
        ("EDT", "2026-07-01T14:00:00"),
        ("+0530", "2026-07-01T04:30:00"),
        ("-03", "2026-07-01T13:00:00"),
    ],
)
def test_log_timezone_abbreviations_become_utc(tmp_path: Path, zone: str, utc: str) -> None:
    text = f"2026-07-01 10:00:00.000 {zone} [7] LOG:  duration: 0.000 ms  statement: SELECT 1\n"
    loaded = load_tables(_write(tmp_path, text))
    assert loaded.queries[0]["ts"].isoformat() == utc


def test_an_ambiguous_zone_is_rejected_unless_named(tmp_path: Path) -> None:
    text = "2026-07-01 10:00:00.000 IST [7] LOG:  duration: 0.000 ms  statement: SELECT 1\n"
    path = _write(tmp_path, text)
    loaded = load_tables(path)
    assert not loaded.queries
    assert "pg_timezone" in loaded.rejects[0]["reason"]
    named = load_tables(path, Settings(format_options={"pg_timezone": "Asia/Kolkata"}))
    assert named.queries[0]["ts"].isoformat() == "2026-07-01T04:30:00"


def test_statement_then_timed_duplicate_counts_once(tmp_path: Path) -> None:
    # log_statement = 'all' together with log_min_duration_statement on a fast query that the
    # server still logs with its text (e.g. when log_statement is 'mod' and the query is DDL).
    text = (
        "2026-07-01 10:00:00.000 UTC [7] LOG:  statement: CREATE TABLE t (a int)\n"
        "2026-07-01 10:00:00.009 UTC [7] LOG:  duration: 9.000 ms  statement: CREATE TABLE t "
        "(a int)\n"
        "2026-07-01 10:00:01.000 UTC [7] LOG:  statement: SELECT 2\n"
        "2026-07-01 10:00:01.000 UTC [8] LOG:  duration: 5.000 ms\n"
        "2026-07-01 10:00:01.003 UTC [7] LOG:  duration: 3.000 ms\n"
    )
    queries = load_tables(_write(tmp_path, text)).queries
    assert [(q["sql"], q["duration_ms"]) for q in queries] == [
        ("CREATE TABLE t (a int)", 9.0),
        ("SELECT 2", 3.0),
    ]


def test_parse_and_bind_are_steps_not_statements(tmp_path: Path) -> None:
    text = (
        "2026-07-01 10:00:00.001 UTC [7] LOG:  duration: 0.100 ms  parse S_1: SELECT $1\n"
        "2026-07-01 10:00:00.002 UTC [7] LOG:  duration: 0.200 ms  bind S_1: SELECT $1\n"
        "2026-07-01 10:00:00.002 UTC [7] DETAIL:  parameters: $1 = 'a\n"
        "\tb'\n"
        "2026-07-01 10:00:00.003 UTC [7] LOG:  duration: 0.300 ms  execute S_1: SELECT $1\n"
        "2026-07-01 10:00:00.003 UTC [7] DETAIL:  parameters: $1 = 'a\n"
        "\tb'\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["duration_ms"], q["line"]) for q in loaded.queries] == [
        ("SELECT $1", 0.3, 5)
    ]
    assert not loaded.rejects
    assert not loaded.db_events


def test_details_and_statements_of_a_message_join_in_line_order(tmp_path: Path) -> None:
    # One message with two DETAIL lines (read apart from the usual single one), one with one.
    text = (
        "2026-07-01 10:00:00.000 UTC [7] ERROR:  deadlock detected\n"
        "2026-07-01 10:00:00.000 UTC [7] DETAIL:  Process 7 waits for ShareLock.\n"
        '2026-07-01 10:00:00.000 UTC [8] ERROR:  syntax error at or near "x"\n'
        "2026-07-01 10:00:00.000 UTC [7] DETAIL:  Process 8 waits for\n"
        "\tShareLock.\n"
        "2026-07-01 10:00:00.000 UTC [8] DETAIL:  only one\n"
        "2026-07-01 10:00:00.000 UTC [7] STATEMENT:  UPDATE t SET a = 1\n"
        "2026-07-01 10:00:00.000 UTC [8] STATEMENT:  x\n"
    )
    events = load_tables(_write(tmp_path, text)).db_events
    assert [(e["line"], e["detail"], e["statement"]) for e in events] == [
        (
            1,
            "Process 7 waits for ShareLock.\nProcess 8 waits for\nShareLock.",
            "UPDATE t SET a = 1",
        ),
        (3, "only one", "x"),
    ]


def test_a_time_in_an_unknown_zone_rejects_its_message_and_quotes_the_time(
    tmp_path: Path,
) -> None:
    text = (
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 1.000 ms  statement: SELECT 1\n"
        "2026-07-01 10:00:01.000 XYZT [7] LOG:  duration: 2.000 ms  statement: SELECT 2\n"
        "2026-07-01 10:00:02.000 UTC [7] LOG:  duration: 3.000 ms  statement: SELECT 3\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [q["sql"] for q in loaded.queries] == ["SELECT 1", "SELECT 3"]
    assert [(r["line"], r["reason"].split(" (")[0]) for r in loaded.rejects] == [
        (2, "unreadable time '2026-07-01 10:00:01.000 XYZT'")
    ]


def test_missing_prefix_fields_are_reported_with_the_setting_to_add() -> None:
    summary = load_tables(str(CASES / "postgresql" / "no_pid_statement_only.log")).summary
    assert set(summary.missing) == {"connection", "db", "user", "duration_ms"}
    assert all(column in FIELD_HINTS for column in summary.missing)
    assert "%p" in FIELD_HINTS["connection"] and "%c" in FIELD_HINTS["connection"]
    assert "log_min_duration_statement = 0" in FIELD_HINTS["duration_ms"]


def test_csvlog_record_with_a_wrong_column_count_is_rejected(tmp_path: Path) -> None:
    good = (
        '2026-07-01 10:00:00.000 UTC,"u","d",7,"127.0.0.1:5",6b06.7,1,"SELECT",'
        '2026-07-01 09:00:00 UTC,3/4,0,LOG,00000,"duration: 1.500 ms  statement: SELECT 1",'
        ',,,,,,,,"app"\n'
    )
    short = '2026-07-01 10:00:01.000 UTC,"u","d",7,"127.0.0.1:5",6b06.7,2,"SELECT",x\n'
    loaded = load_tables(
        _write(tmp_path, good + short, "pg.csv"), Settings(format="postgresql_csv")
    )
    assert [(q["sql"], q["duration_ms"], q["connection"]) for q in loaded.queries] == [
        ("SELECT 1", 1.5, "6b06.7")
    ]
    assert [r["line"] for r in loaded.rejects] == [2]


def test_jsonlog_line_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    text = (
        '{"timestamp":"2026-07-01 10:00:00.000 UTC","pid":7,"session_id":"6b06.7",'
        '"error_severity":"LOG","message":"duration: 2.000 ms  statement: SELECT 1"}\n'
        "not json at all\n"
    )
    loaded = load_tables(_write(tmp_path, text, "pg.json"), Settings(format="postgresql_json"))
    assert [q["sql"] for q in loaded.queries] == ["SELECT 1"]
    assert [(r["line"], r["reason"]) for r in loaded.rejects] == [(2, "not a JSON object")]


def test_each_reader_recognises_only_its_own_log() -> None:
    samples = {
        "stderr": DEBIAN.read_text().splitlines()[:64],
        "csv": (CASES / "postgresql_csv" / "debian_min_duration.csv").read_text().splitlines(),
        "json": (CASES / "postgresql_json" / "debian_min_duration.json").read_text().splitlines(),
        "nginx": (CASES / "nginx" / "combined_timing.log").read_text().splitlines(),
    }
    readers = {"stderr": STDERR, "csv": CSVLOG, "json": JSONLOG}
    for name, reader in readers.items():
        for sample_name, sample in samples.items():
            confidence = reader.sniff(sample[:64], NO_OPTIONS).confidence
            if sample_name == name:
                assert confidence > 0.9, (name, sample_name)
            else:
                assert confidence < 0.3, (name, sample_name)


_PG_PIECES = st.sampled_from(
    [
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 1.0 ms  statement: SELECT 1",
        "2026-07-01 10:00:00.000 UTC [7] LOG:  statement: SELECT 1",
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 1.0 ms",
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 1.0 ms  plan:",
        "\tQuery Text: SELECT 1",
        "\tSeq Scan on t  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=1 loops=2)",
        "\t  Rows Removed by Filter: 9",
        "2026-07-01 10:00:00.000 UTC [7] DETAIL:  parameters: $1 = 'x'",
        "2026-07-01 10:00:00.000 XYZ [7] ERROR:  boom",
        "\tcontinued",
        '2026-07-01 10:00:00.000 UTC,"u","d",7,,6b.7,1,,,,,LOG,00000,"x"',
        '{"timestamp":"bad","error_severity":"LOG","message":"duration: x ms"}',
        '"unterminated',
    ]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # No CR: how a lone CR numbers lines is the line reader's business (engine.loading).
    lines=st.lists(
        st.one_of(
            _PG_PIECES,
            st.text(st.characters(blacklist_characters="\r"), min_size=1, max_size=40),
        ),
        max_size=30,
    ),
    reader=st.sampled_from(["postgresql", "postgresql_csv", "postgresql_json"]),
)
def test_any_text_loads_without_raising(tmp_path: Path, lines: list[str], reader: str) -> None:
    log = tmp_path / "any.log"
    log.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    loaded = load_tables(str(log), Settings(format=reader))
    total = len(log.read_bytes().splitlines())
    assert all(1 <= r["line"] <= total for r in [*loaded.queries, *loaded.rejects])


def test_cloudwatch_export_of_rds_with_a_multi_line_statement(tmp_path: Path) -> None:
    # Aurora/RDS logs exported from CloudWatch: an ISO time before each message, continuation
    # lines as PostgreSQL wrote them (darold/pgbadger#521 shows the layout).
    text = (
        "2019-08-08T00:49:34.000Z 2019-08-08 00:49:34 UTC:10.40.77.242(56266):xyz@xyz_db:"
        "[20474]:LOG:  duration: 5.076 ms  statement: SELECT col1, col2\n"
        "\tFROM sample1 JOIN sample2 ON sample1.id = sample2.id\n"
        "2019-08-08T00:49:35.000Z 2019-08-08 00:49:35 UTC::@:[20475]:LOG:  checkpoint starting: "
        "time\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert loaded.summary.variant == "cloudwatch/rds"
    assert [(q["sql"], q["db"], q["user"], q["connection"]) for q in loaded.queries] == [
        ("SELECT col1, col2\nFROM sample1 JOIN sample2 ON sample1.id = sample2.id", "xyz_db",
         "xyz", "20474")
    ]  # fmt: skip
    assert [e["kind"] for e in loaded.db_events] == ["checkpoint"]
    assert not loaded.rejects


def test_traditional_syslog_times_have_no_year_so_no_time(tmp_path: Path) -> None:
    text = (
        "Nov 25 13:40:37 db1 postgres[2051]: [8-1] user=app,db=shop LOG:  duration: 0.220 ms  "
        "statement: SELECT 1\n"
        "Nov 25 13:40:37 db1 postgres[2051]: [9-1] user=app,db=shop LOG:  duration: 0.300 ms  "
        "statement: SELECT a,\n"
        "Nov 25 13:40:37 db1 postgres[2051]: [9-2] #011       b FROM t\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert loaded.summary.variant.startswith("syslog/")
    assert "ts" in loaded.summary.missing
    assert [(q["sql"], q["ts"], q["connection"]) for q in loaded.queries] == [
        ("SELECT 1", None, "2051"),
        ("SELECT a,\n       b FROM t", None, "2051"),
    ]


def test_cloudnativepg_records_and_operator_lines(tmp_path: Path) -> None:
    # CloudNativePG prints csvlog's columns under "record" (its documentation's example shape).
    record = {
        "log_time": "2026-07-01 10:00:00.250 UTC",
        "user_name": "app",
        "database_name": "shop",
        "process_id": "25",
        "session_id": "608be681.19",
        "error_severity": "LOG",
        "sql_state_code": "00000",
        "message": "duration: 250.000 ms  statement: SELECT 1",
    }
    lines = [
        {"level": "info", "ts": 1, "logger": "postgres", "msg": "record", "record": record},
        {"level": "info", "ts": 2, "logger": "pg_controldata", "msg": "x", "record": {}},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    loaded = load_tables(_write(tmp_path, text, "cnpg.json"))
    assert loaded.summary.format == "postgresql_json"
    assert [(q["sql"], q["duration_ms"], q["connection"], q["db"]) for q in loaded.queries] == [
        ("SELECT 1", 250.0, "608be681.19", "shop")
    ]
    assert loaded.queries[0]["ts"].isoformat() == "2026-07-01T10:00:00"
    assert [r["line"] for r in loaded.rejects] == [2]
    assert "logger pg_controldata" in loaded.rejects[0]["reason"]


def test_languages_without_a_catalog_are_rejected_with_the_setting_to_fix(tmp_path: Path) -> None:
    # German is read (tests/test_postgresql_i18n.py); Brazilian Portuguese has no catalog in the
    # PostgreSQL this table was made from: its severity words and timings are rejected, not lost.
    text = (
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 1.000 ms  statement: SELECT 1\n"
        '2026-07-01 10:00:00.000 UTC [7] ERRO:  relação "x" não existe\n'
        "cp: cannot stat 'pg_wal/000000010000000000000001': No such file or directory\n"
        "2026-07-01 10:00:01.000 UTC [7] LOG:  duração: 2.000 ms  comando: SELECT 2\n"
        "2026-07-01 10:00:02.000 UTC [7] FEHLER:  Relation »x« existiert nicht\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    reasons = {r["line"]: r["reason"] for r in loaded.rejects}
    assert "lc_messages = 'C'" in reasons[2] and "ja" in reasons[2]
    assert reasons[3].startswith("does not match log_line_prefix '%m [%p] '")
    assert "statement timing in a language" in reasons[4]
    assert sorted(reasons) == [2, 3, 4]
    assert len(loaded.queries) == 1
    assert [(e["level"], e["message"]) for e in loaded.db_events] == [
        ("ERROR", 'relation "x" does not exist')
    ]


def test_a_duration_no_server_could_measure_is_a_counted_rejection(tmp_path: Path) -> None:
    # 10^26 ms overflowed the engine's interval arithmetic: an internal error for the whole run
    # instead of one rejected line.
    lines = [
        "2024-01-01 00:00:00.100 UTC [7] LOG:  duration: 1.500 ms  statement: select 1",
        "2024-01-01 00:00:00.200 UTC [7] LOG:  duration: 99999999999999999999999999.0 ms  "
        "statement: select 2",
        "2024-01-01 00:00:00.300 UTC [7] LOG:  duration: 2.000 ms  statement: select 3",
    ]
    path = tmp_path / "postgresql.log"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_tables(str(path))
    assert [q["sql"] for q in loaded.queries] == ["select 1", "select 3"]
    assert [q["duration_ms"] for q in loaded.queries] == [1.5, 2.0]
    assert [(r["line"], r["reason"]) for r in loaded.rejects] == [(2, "duration out of range")]


# --- auto_explain plans (tests/e2e/pg_auto_explain.py runs them on a real server) -------------


def _plan(pid: int, time: str, ms: str, *lines: str) -> str:
    head = f"2026-07-01 10:00:{time} UTC [{pid}] LOG:  duration: {ms} ms  plan:\n"
    return head + "".join(f"\t{line}\n" for line in lines)


def test_a_plan_alone_is_a_statement_with_its_rows(tmp_path: Path) -> None:
    text = _plan(
        7,
        "01.000",
        "250.000",
        "Query Text: SELECT * FROM t WHERE a = 1",
        "Gather  (cost=0.00..10.00 rows=5 width=4) (actual time=0.1..249.0 rows=6 loops=1)",
        "  ->  Parallel Seq Scan on t  (cost=0.00..9.00 rows=2 width=4) "
        "(actual time=0.1..248.0 rows=2 loops=3)",
        "        Filter: (a = 1)",
        "        Rows Removed by Filter: 33331",
    )
    loaded = load_tables(_write(tmp_path, text))
    assert not loaded.rejects
    [query] = loaded.queries
    assert query["sql"] == "SELECT * FROM t WHERE a = 1"
    assert query["duration_ms"] == 250.0
    # Logged when it ended: the statement started 250 ms before.
    assert query["ts"].isoformat() == "2026-07-01T10:00:00.750000"
    # Rows Removed by Filter and actual rows are per loop: three loops (two workers + leader).
    assert (query["rows_sent"], query["rows_examined"]) == (6, (2 + 33331) * 3)


def test_a_plan_gives_its_rows_to_the_statement_logged_after_it(tmp_path: Path) -> None:
    text = (
        _plan(
            7,
            "01.000",
            "2.000",
            "Query Text: SELECT * FROM t WHERE a = 1",
            "Bitmap Heap Scan on t  (cost=1.00..9.00 rows=5 width=4) "
            "(actual time=0.1..1.9 rows=5 loops=1)",
            "  Recheck Cond: (a = 1)",
            "  Rows Removed by Index Recheck: 95",
            "  ->  Bitmap Index Scan on t_a  (cost=0.00..1.00 rows=5 width=0) "
            "(actual time=0.1..0.1 rows=100 loops=1)",
        )
        + "2026-07-01 10:00:01.001 UTC [7] LOG:  duration: 2.500 ms  statement: "
        "SELECT * FROM t WHERE a = 1\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    [query] = loaded.queries
    assert (query["line"], query["duration_ms"]) == (7, 2.5)
    # The index entries (the Bitmap Index Scan's 100) are not table rows read.
    assert (query["rows_sent"], query["rows_examined"]) == (5, 100)


def test_a_nested_statement_plan_is_a_statement_beside_its_caller(tmp_path: Path) -> None:
    # auto_explain.log_nested_statements: the function's statement is planned and logged before
    # the call that ran it; the call's own text differs, so both are statements.
    text = (
        _plan(7, "01.000", "1.000", "Query Text: UPDATE t SET a = a + 1", "Update on t")
        + _plan(7, "01.002", "3.000", "Query Text: SELECT bump()", "Result")
        + "2026-07-01 10:00:01.003 UTC [7] LOG:  duration: 3.100 ms  statement: SELECT bump()\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["duration_ms"]) for q in loaded.queries] == [
        ("UPDATE t SET a = a + 1", 1.0),
        ("SELECT bump()", 3.1),
    ]


def test_a_plan_between_a_started_statement_and_its_duration(tmp_path: Path) -> None:
    # log_statement = 'all' + log_duration: the plan comes before the bare duration line, which
    # must still time the statement.
    text = (
        "2026-07-01 10:00:01.000 UTC [7] LOG:  statement: SELECT 2\n"
        + _plan(
            7,
            "01.004",
            "4.000",
            "Query Text: SELECT 2",
            "Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1)",
        )
        + "2026-07-01 10:00:01.005 UTC [7] LOG:  duration: 5.000 ms\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["duration_ms"], q["rows_sent"]) for q in loaded.queries] == [
        ("SELECT 2", 5.0, 1)
    ]


def _prefix_settings(prefix: str) -> Settings:
    from logtriage.config import settings_from_mapping

    return settings_from_mapping({"formats": {"pg_prefix": prefix}})


def test_without_a_session_key_a_plan_pairs_with_the_next_statement(tmp_path: Path) -> None:
    text = (
        "2026-07-01 10:00:01 UTC LOG:  duration: 2.000 ms  plan:\n"
        "\tQuery Text: SELECT 3\n"
        "\tResult  (cost=0.00..0.01 rows=1 width=4) (actual time=0.1..0.1 rows=1 loops=1)\n"
        "2026-07-01 10:00:01 UTC LOG:  duration: 2.100 ms  statement: SELECT 3\n"
    )
    loaded = load_tables(_write(tmp_path, text), _prefix_settings("%t "))
    assert [(q["sql"], q["duration_ms"], q["rows_sent"]) for q in loaded.queries] == [
        ("SELECT 3", 2.1, 1)
    ]


def test_a_plan_without_a_readable_statement_is_a_counted_rejection(tmp_path: Path) -> None:
    text = _plan(7, "01.000", "2.000", "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)")
    loaded = load_tables(_write(tmp_path, text))
    assert loaded.queries == []
    assert [(r["line"], r["reason"]) for r in loaded.rejects] == [
        (1, "auto_explain plan whose Query Text could not be read")
    ]


# --- lock waits (log_lock_waits) become the waiting statement's lock_ms ---------------------


def _wait(pid: int, time: str, what: str, ms: str, statement: str) -> str:
    head = f"2026-07-01 10:00:{time} UTC [{pid}] "
    return (
        f"{head}LOG:  process {pid} {what} ShareLock on transaction 9 after {ms} ms\n"
        f"{head}STATEMENT:  {statement}\n"
    )


def test_a_lock_wait_is_the_lock_time_of_the_statement_logged_after_it(tmp_path: Path) -> None:
    update = "UPDATE t SET a = 1 WHERE id = 1"
    text = (
        "2026-07-01 10:00:00.000 UTC [7] LOG:  duration: 0.100 ms  statement: BEGIN\n"
        + _wait(7, "01.000", "still waiting for", "1000.000", update)
        + _wait(7, "04.000", "acquired", "4000.500", update)
        + f"2026-07-01 10:00:04.010 UTC [7] LOG:  duration: 4010.000 ms  statement: {update}\n"
        + "2026-07-01 10:00:05.000 UTC [7] LOG:  duration: 1.000 ms  statement: COMMIT\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["lock_ms"]) for q in loaded.queries] == [
        ("BEGIN", None),
        (update, 4000.5),
        ("COMMIT", None),
    ]


def test_a_lock_wait_under_log_statement_belongs_to_the_statement_before_it(
    tmp_path: Path,
) -> None:
    update = "UPDATE t SET a = 2 WHERE id = 2"
    text = (
        f"2026-07-01 10:00:00.000 UTC [7] LOG:  statement: {update}\n"
        + _wait(7, "02.500", "acquired", "2500.000", update)
        + "2026-07-01 10:00:02.510 UTC [7] LOG:  duration: 2510.000 ms\n"
        + "2026-07-01 10:00:03.000 UTC [7] LOG:  statement: SELECT 1\n"
        + "2026-07-01 10:00:03.001 UTC [7] LOG:  duration: 1.000 ms\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["duration_ms"], q["lock_ms"]) for q in loaded.queries] == [
        (update, 2510.0, 2500.0),
        ("SELECT 1", 1.0, None),
    ]


def test_the_wait_of_a_statement_that_failed_is_nobody_elses(tmp_path: Path) -> None:
    # Acquired, then the statement failed (no timed line): the next statement did not wait.
    update = "UPDATE t SET a = 3 WHERE id = 3"
    text = (
        _wait(7, "02.000", "acquired", "2000.000", update)
        + "2026-07-01 10:00:02.001 UTC [7] ERROR:  duplicate key value violates unique "
        'constraint "t_pkey"\n'
        + f"2026-07-01 10:00:02.001 UTC [7] STATEMENT:  {update}\n"
        + "2026-07-01 10:00:03.000 UTC [7] LOG:  duration: 1.000 ms  statement: SELECT 1\n"
    )
    loaded = load_tables(_write(tmp_path, text))
    assert [(q["sql"], q["lock_ms"]) for q in loaded.queries] == [("SELECT 1", None)]
