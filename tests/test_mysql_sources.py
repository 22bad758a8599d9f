"""MySQL/MariaDB readers beyond the shared case runner: db_events, recognition, robustness."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.config import Settings
from logtriage.errors import FormatError
from logtriage.sources.base import FormatOptions
from logtriage.sources.mysql_error import FORMAT as ERROR
from logtriage.sources.mysql_general import FORMAT as GENERAL
from logtriage.sources.mysql_slow import FORMAT as SLOW

from .loaded_tables import load_tables

CASES = Path(__file__).parent / "cases" / "sources"
MYSQL_CASES = sorted(
    p for folder in ("mysql_slow", "mysql_general") for p in (CASES / folder).glob("*.log")
)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, datetime):
        actual = actual.isoformat()
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-6)
    return bool(actual == expected)


@pytest.mark.parametrize("log_path", MYSQL_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_db_events(log_path: Path) -> None:
    """Each case's db_events rows, in line order; a case without the file must give none."""
    expected_path = log_path.with_name(log_path.name.removesuffix(".log") + ".db_events.jsonl")
    expected = (
        [json.loads(line) for line in expected_path.read_text().splitlines() if line]
        if expected_path.exists()
        else []
    )
    events = load_tables(str(log_path)).db_events
    assert len(events) == len(expected), [(e["line"], e["kind"]) for e in events]
    for event, want in zip(events, expected, strict=True):
        diffs = {k: (event.get(k), v) for k, v in want.items() if not _same(event.get(k), v)}
        assert not diffs, f"line {event['line']}: (actual, expected) {diffs}"


@pytest.mark.parametrize("log_path", MYSQL_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_raw_statements(log_path: Path) -> None:
    """The reader's raw statement text, comments and line breaks included, before any cleanup."""
    stem = log_path.name.removesuffix(".log")
    path = log_path.with_name(stem + ".statements.jsonl")
    expected = [json.loads(line) for line in path.read_text().splitlines() if line]
    assert [row["sql"] for row in load_tables(str(log_path)).queries] == expected


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()[:64]


def test_each_reader_recognises_only_its_own_log() -> None:
    slow = _lines(CASES / "mysql_slow" / "mariadb_10_11.log")
    general = _lines(CASES / "mysql_general" / "mariadb_10_11.log")
    nginx = _lines(CASES / "nginx" / "combined_timing.log")
    no_options = FormatOptions({})
    assert SLOW.sniff(slow, no_options).confidence > 0.9
    assert GENERAL.sniff(general, no_options).confidence > 0.9
    assert SLOW.sniff(general, no_options).confidence == 0.0
    assert GENERAL.sniff(slow, no_options).confidence == 0.0
    assert SLOW.sniff(nginx, no_options).confidence == 0.0
    assert GENERAL.sniff(nginx, no_options).confidence == 0.0


def test_error_log_lines_are_not_general_log_commands() -> None:
    # MySQL 8 / MariaDB error logs also start with a time and a thread id.
    error_log = [
        "2026-11-24T10:00:00.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld "
        "8.0.36) starting as process 1",
        "2026-11-25 13:38:59 8 [Note] InnoDB: Transactions deadlock detected, dumping detailed "
        "information.",
        "2026-11-25 13:38:58 0 [Note] /usr/sbin/mariadbd: ready for connections.",
    ]
    assert GENERAL.sniff(error_log, FormatOptions({})).confidence == 0.0
    assert SLOW.sniff(error_log, FormatOptions({})).confidence == 0.0
    assert ERROR.sniff(error_log, FormatOptions({})).confidence > 0.9


def test_error_reader_leaves_slow_and_general_logs_alone() -> None:
    for folder in ("mysql_slow", "mysql_general"):
        sample = _lines(CASES / folder / "mariadb_10_11.log")
        assert ERROR.sniff(sample, FormatOptions({})).confidence == 0.0


def test_rate_limited_slow_log_keeps_the_rate_for_scaling() -> None:
    loaded = load_tables(str(CASES / "mysql_slow" / "percona_rate_limit_pt.log"))
    rates = {row["tags"]["log_slow_rate_limit"] for row in loaded.queries}
    assert rates == {"2"}
    # One statement logged in two: what an analysis multiplies counts and time by.
    assert sum(float(r["tags"]["log_slow_rate_limit"]) for r in loaded.queries) == 6.0


def test_general_log_counts_an_sql_execute_once(tmp_path: Path) -> None:
    log = tmp_path / "general.log"
    log.write_text(
        "261125 13:39:11\t     5 Query\tPREPARE s1 FROM 'SELECT 1 FROM t WHERE id = ?'\n"
        "\t\t     5 Prepare\tSELECT 1 FROM t WHERE id = ?\n"
        "\t\t     5 Query\tEXECUTE s1 USING @a\n"
        "\t\t     6 Query\tSELECT 2\n"
        "\t\t     5 Execute\tSELECT 1 FROM t WHERE id = 3\n"
        "\t\t     6 Query\texecute s2\n"
    )
    loaded = load_tables(str(log))
    assert [r["sql"] for r in loaded.queries] == [
        "PREPARE s1 FROM 'SELECT 1 FROM t WHERE id = ?'",
        "SELECT 2",
        "SELECT 1 FROM t WHERE id = 3",
        # Not followed by an Execute of its own connection: kept (the log shows nothing else).
        "execute s2",
    ]


def test_slow_log_zone_less_times_take_the_offset_that_set_timestamp_reveals(
    tmp_path: Path,
) -> None:
    # Server in UTC-5: `# Time:` is local, SET timestamp is UTC; the first entry has no SET.
    log = tmp_path / "slow.log"
    log.write_text(
        "# Time: 261124  9:00:01\n"
        "# User@Host: app[app] @ localhost []\n"
        "# Query_time: 0.500000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
        "SELECT 1;\n"
        "# Time: 261124  9:00:03\n"
        "# User@Host: app[app] @ localhost []\n"
        "# Query_time: 0.100000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
        "SET timestamp=1795528802;\n"
        "SELECT 2;\n"
    )
    rows = load_tables(str(log)).queries
    assert [r["ts"].isoformat() for r in rows] == [
        "2026-11-24T14:00:00.500000",
        "2026-11-24T14:00:02",
    ]


_SLOW_PIECES = st.sampled_from(
    [
        "# Time: 2026-11-24T10:00:00.123456Z",
        "# Time: 261124  9:00:00",
        "# User@Host: app[app] @ localhost [127.0.0.1]  Id:    12",
        "# Query_time: 0.000123  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: 1",
        "# Query_time: x  Lock_time: y",
        "# Thread_id: 8  Schema: db  QC_hit: No",
        "use `shop`;",
        "SET timestamp=1795600800;",
        "SET timestamp=99999999999999999999;",
        "SELECT 1;",
        "# administrator command: Quit;",
        "\t\t     12 Query\tSELECT 1",
        "261124 10:00:00\t     12 Connect\tapp@localhost on shop using TCP/IP",
        "/usr/sbin/mariadbd, Version: 10.11 (x). started with:",
        "#",
        "2026-11-25 13:38:59 8 [Note] InnoDB: Transactions deadlock detected, dumping detailed",
        "*** (1) TRANSACTION:",
        "MariaDB thread id 7, OS thread handle 1, query id 34 localhost root Updating",
        "2026-11-24T10:08:00.000000Z 0 [ERROR] [MY-010119] [Server] Aborting",
        "2026-11-25 13:39:12 7 [Note] InnoDB: *** WE ROLL BACK TRANSACTION (1)",
    ]
)


# Any character but line breaks (how the loader numbers a lone `\r` is its own concern) and
# the \x01 the loader reserves as its column delimiter.
_LINE_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x01",
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.one_of(_SLOW_PIECES, st.text(_LINE_CHARS, min_size=1, max_size=40)), max_size=30
    ),
    reader=st.sampled_from(["mysql_slow", "mysql_general", "mysql_error"]),
)
def test_any_text_loads_without_raising(tmp_path: Path, lines: list[str], reader: str) -> None:
    log = tmp_path / "any.log"
    log.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    loaded = load_tables(str(log), Settings(format=reader))
    # Every record and every rejection points at a real line of the file.
    total = len(lines)
    rows = [*loaded.queries, *loaded.db_events, *loaded.rejects]
    assert all(1 <= r["line"] <= total for r in rows)


def test_utc_offset_option_moves_zone_less_times_only(tmp_path: Path) -> None:
    general = tmp_path / "general.log"
    general.write_text(
        "261124 11:00:00\t     5 Query\tSELECT 1\n"
        "2026-11-24T10:00:00.500000Z\t     6 Query\tSELECT 2\n"
    )
    berlin = Settings(format_options={"mysql_utc_offset": "+01:00"})
    rows = load_tables(str(general), berlin).queries
    assert [r["ts"].isoformat() for r in rows] == [
        "2026-11-24T10:00:00",
        "2026-11-24T10:00:00.500000",
    ]
    error = tmp_path / "error.log"
    error.write_text("2026-11-24 05:00:00 0 [ERROR] mariadbd: Disk full\n")
    new_york = Settings(format_options={"mysql_utc_offset": "-0500"})
    assert load_tables(str(error), new_york).db_events[0]["ts"].isoformat() == "2026-11-24T10:00:00"


def test_utc_offset_option_wins_over_the_inferred_one(tmp_path: Path) -> None:
    slow = tmp_path / "slow.log"
    slow.write_text(
        "# Time: 261124  9:00:01\n"
        "# User@Host: app[app] @ localhost []\n"
        "# Query_time: 0.500000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
        "SELECT 1;\n"
    )
    rows = load_tables(str(slow), Settings(format_options={"mysql_utc_offset": "-05:00"})).queries
    assert rows[0]["ts"].isoformat() == "2026-11-24T14:00:00.500000"
    # Without the option and without SET timestamp, the local time is taken as UTC.
    assert load_tables(str(slow)).queries[0]["ts"].isoformat() == "2026-11-24T09:00:00.500000"


def test_a_malformed_utc_offset_is_one_clear_error(tmp_path: Path) -> None:
    slow = tmp_path / "slow.log"
    slow.write_text("# User@Host: a[a] @ x []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0\nX;\n")
    with pytest.raises(FormatError, match="mysql_utc_offset"):
        load_tables(str(slow), Settings(format_options={"mysql_utc_offset": "Berlin"}))


def test_a_query_time_no_server_could_measure_is_a_counted_rejection(tmp_path: Path) -> None:
    # A corrupt or crafted header (10^30 s) overflowed the engine's interval arithmetic: an
    # internal error for the whole run instead of one rejected entry.
    entries = [
        f"# Time: 2024-01-01T00:00:0{i}.000000Z\n# User@Host: app[app] @ localhost []  Id: 5\n"
        f"# Query_time: {qt}  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 1\n"
        f"SET timestamp=1704067200;\nselect {i};\n"
        for i, qt in enumerate(["0.5", "1e30", "99999999999999999999.5", "0.25"])
    ]
    path = tmp_path / "slow.log"
    path.write_text("".join(entries))
    loaded = load_tables(str(path))
    assert [q["sql"] for q in loaded.queries] == ["select 0", "select 3"]
    assert [q["duration_ms"] for q in loaded.queries] == [500.0, 250.0]
    assert {r["reason"] for r in loaded.rejects} == {"Query_time out of range"}
    assert loaded.summary.rejected == 2
