"""A real PostgreSQL runs a known workload; its stderr, csvlog and jsonlog must tell the same story.

Each capture of ``postgres_server.CAPTURES`` (a log_line_prefix and how statements are logged)
starts a private cluster, runs the workload (plain, multi-line and commented statements,
PREPARE/EXECUTE, pgbench's extended and prepared protocols, a failing statement, a statement
timeout, a lock timeout, a deadlock between two sessions) and stops it. The readers must find
each of those, with durations and sessions, in all three log destinations.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings
from tests.loaded_tables import Loaded, load_tables

from .postgres_server import (
    COMMENTED_SQL,
    DEADLOCK_FIRST,
    DEADLOCK_SECOND,
    FAILING_SQL,
    LOCKED_SQL,
    MULTILINE_SQL,
    PgCapture,
    _pg_capture_fixture,  # noqa: F401  (the pg_capture fixture)
)

pytestmark = pytest.mark.e2e

EXTENDED_SELECT = "SELECT balance FROM accounts WHERE id = $1;"
EXTENDED_UPDATE = "UPDATE accounts SET balance = balance + 1 WHERE id = $1;"
FORMATS = {"stderr": "postgresql", "csvlog": "postgresql_csv", "jsonlog": "postgresql_json"}


def _load(capture: PgCapture, destination: str) -> Loaded:
    loaded = load_tables(str(capture.logs[destination]))
    assert loaded.summary.format == FORMATS[destination]
    return loaded


def _is_timed(capture: PgCapture) -> bool:
    """Durations for every statement: log_min_duration_statement = 0, or log_duration."""
    return capture.settings.get("log_min_duration_statement", "0") == "0" or (
        capture.settings.get("log_duration") == "on"
    )


@pytest.mark.parametrize("destination", sorted(FORMATS))
def test_every_line_is_read(pg_capture: PgCapture, destination: str) -> None:
    loaded = _load(pg_capture, destination)
    assert loaded.rejects == []
    assert loaded.summary.missing == ()


@pytest.mark.parametrize("destination", sorted(FORMATS))
def test_statements_of_the_workload(pg_capture: PgCapture, destination: str) -> None:
    queries = _load(pg_capture, destination).queries
    sql = Counter(q["sql"] for q in queries)
    assert sql[MULTILINE_SQL] == 1
    assert sql[COMMENTED_SQL] == 1  # the comment is kept for the tag reader
    assert sql["EXECUTE by_owner('owner 3');"] == sql["EXECUTE by_owner('owner 4');"] == 1
    # pgbench: one execute per statement and transaction, for each of the two protocols;
    # parse/bind steps are not statements.
    runs = 2 * pg_capture.workload.pgbench_transactions
    assert sql[EXTENDED_SELECT] == sql[EXTENDED_UPDATE] == runs
    assert all(q["db_system"] == "postgresql" for q in queries)
    assert {q["db"] for q in queries} == {q["user"] for q in queries} == {"postgres"}


@pytest.mark.parametrize("destination", sorted(FORMATS))
def test_durations(pg_capture: PgCapture, destination: str) -> None:
    loaded = _load(pg_capture, destination)
    queries = loaded.queries
    errors = [e for e in loaded.db_events if e["level"] == "ERROR" and e["statement"]]
    failed = {(e["connection"], e["statement"]) for e in errors}
    assert len(failed) == 4  # missing table, statement timeout, lock timeout, deadlock victim
    succeeded = [q for q in queries if (q["connection"], q["sql"]) not in failed]
    if _is_timed(pg_capture):
        assert all(q["duration_ms"] is not None and q["duration_ms"] >= 0 for q in succeeded)
    # Statements that failed have no duration (when log_statement logged them at all).
    assert all(q["duration_ms"] is None for q in queries if (q["connection"], q["sql"]) in failed)
    # The victim's partner waited until the victim's deadlock check (deadlock_timeout = 1s after
    # the victim began to wait, which was before the partner did).
    waited = [q for q in queries if q["sql"] in (DEADLOCK_FIRST, DEADLOCK_SECOND)]
    assert max(q["duration_ms"] or 0 for q in waited) >= 100
    checkpoint = next(q for q in queries if q["sql"] == "CHECKPOINT;")
    assert checkpoint["duration_ms"] > 0


@pytest.mark.parametrize("destination", sorted(FORMATS))
def test_sessions(pg_capture: PgCapture, destination: str) -> None:
    loaded = _load(pg_capture, destination)
    by_sql: dict[str, set[Any]] = {}
    for q in loaded.queries:
        by_sql.setdefault(q["sql"], set()).add(q["connection"])
    assert None not in {q["connection"] for q in loaded.queries}
    # The script is one session; each pgbench run is one session for its statements.
    assert len(by_sql[MULTILINE_SQL] | by_sql[COMMENTED_SQL] | by_sql["CHECKPOINT;"]) == 1
    assert len(by_sql[EXTENDED_SELECT]) == len(by_sql[EXTENDED_UPDATE]) == 2
    # The two deadlocked sessions are told apart.
    assert len(by_sql[DEADLOCK_FIRST] | by_sql[DEADLOCK_SECOND]) == 2
    events = loaded.db_events
    opened = [e["connection"] for e in events if e["message"].startswith("connection authorized")]
    closed = [e["connection"] for e in events if e["kind"] == "disconnection"]
    assert sorted(opened) == sorted(closed)
    assert len(set(opened)) == len(opened) >= pg_capture.workload.min_sessions


@pytest.mark.parametrize("destination", sorted(FORMATS))
def test_errors_timeouts_and_the_deadlock(pg_capture: PgCapture, destination: str) -> None:
    events = _load(pg_capture, destination).db_events
    kinds = Counter(e["kind"] for e in events)
    assert kinds["deadlock"] == kinds["lock_timeout"] == kinds["statement_timeout"] == 1
    assert kinds["checkpoint"] >= 2 and kinds["connection"] >= 14
    failed = next(e for e in events if e["kind"] == "error" and e["statement"] == FAILING_SQL)
    assert failed["message"] == 'relation "missing_table" does not exist'
    deadlock = next(e for e in events if e["kind"] == "deadlock")
    assert deadlock["level"] == "ERROR"
    assert deadlock["statement"] in (DEADLOCK_FIRST, DEADLOCK_SECOND)
    assert DEADLOCK_FIRST.rstrip(";") in deadlock["detail"]
    assert DEADLOCK_SECOND.rstrip(";") in deadlock["detail"]
    lock = next(e for e in events if e["kind"] == "lock_timeout")
    assert lock["statement"] == LOCKED_SQL
    timeout = next(e for e in events if e["kind"] == "statement_timeout")
    assert timeout["statement"] == "SELECT pg_sleep(2);"
    if destination != "stderr":  # csvlog and jsonlog always carry the SQLSTATE
        assert (deadlock["sqlstate"], lock["sqlstate"]) == ("40P01", "55P03")


def test_three_destinations_agree(pg_capture: PgCapture) -> None:
    def statements(destination: str) -> list[tuple[Any, ...]]:
        rows = _load(pg_capture, destination).queries
        return sorted((q["sql"], q["duration_ms"] or -1.0, q["db"]) for q in rows)

    stderr = statements("stderr")
    assert statements("csvlog") == stderr
    assert statements("jsonlog") == stderr


def test_the_whole_analysis_runs_on_the_logs(pg_capture: PgCapture) -> None:
    report = api.analyze([str(p) for p in pg_capture.logs.values()], Settings())
    per_file = len(_load(pg_capture, "stderr").queries)
    assert report.summary["queries"] == 3 * per_file
    assert [i.format for i in report.inputs] == [FORMATS[d] for d in pg_capture.logs]
