"""A real MariaDB runs a known workload; the slow and general log readers must find all of it."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings

from ..loaded_tables import Loaded, load_tables
from .mariadb_server import (
    AFTER_RESTART,
    APP_SESSION,
    DEADLOCK_SESSIONS,
    PREPARED_SESSION,
    SKIP_ENV,
    MariadbUnavailable,
    Workload,
    captured_mariadb,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class MariadbLogs:
    """The logs one workload run left, copied out of the server's directory."""

    slow: Path
    general: Path
    error: Path
    workload: Workload


@pytest.fixture(scope="module")
def mariadb_logs(tmp_path_factory: pytest.TempPathFactory) -> MariadbLogs:
    """Install, start, run the workload (with a restart), stop; keep the three logs."""
    keep = tmp_path_factory.mktemp("mariadb-logs")
    try:
        with captured_mariadb() as (server, workload):
            for path in server.logs.values():
                shutil.copyfile(path, keep / path.name)
    except MariadbUnavailable as exc:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{exc} and {SKIP_ENV}=1")
        pytest.fail(
            f"{exc}: run `make system` (scripts/setup-system.sh installs mariadb-server and "
            f"percona-toolkit), or set {SKIP_ENV}=1 to skip the end-to-end tests",
            pytrace=False,
        )
    return MariadbLogs(
        slow=keep / "slow.log",
        general=keep / "general.log",
        error=keep / "error.log",
        workload=workload,
    )


def _one(loaded: Loaded, sql: str) -> dict[str, object]:
    rows = [r for r in loaded.queries if r["sql"] == sql]
    assert len(rows) == 1, f"{len(rows)} rows for {sql!r}"
    return rows[0]


def test_workload_ran_as_planned(mariadb_logs: MariadbLogs) -> None:
    # The failing statement failed, and InnoDB chose one deadlock victim.
    assert "ERROR 1146" in mariadb_logs.workload.errors
    assert mariadb_logs.workload.deadlock_errors == 1


def test_slow_log_has_every_statement_with_its_numbers(mariadb_logs: MariadbLogs) -> None:
    loaded = load_tables(str(mariadb_logs.slow))
    assert loaded.summary.format == "mysql_slow"
    assert loaded.summary.variant == "mariadb"
    # The two start-up banners are skipped, never rejected.
    assert loaded.rejects == []
    sessions = (
        ("app", APP_SESSION),
        ("root", PREPARED_SESSION),
        ("app", AFTER_RESTART),
    )
    for user, statements in sessions:
        connections = set()
        for statement in statements:
            row = _one(loaded, statement.sql)
            assert row["user"] == user
            assert row["db"] == "shop"
            assert row["db_system"] == "mariadb"
            assert row["ts"] is not None
            assert isinstance(row["duration_ms"], float)
            assert row["duration_ms"] >= statement.min_duration_ms
            if statement.rows_sent is not None:
                assert row["rows_sent"] == statement.rows_sent
            connections.add(row["connection"])
        # One client session is one server thread.
        assert len(connections) == 1 and None not in connections
    slow_sleep = _one(loaded, "SELECT SLEEP(0.2)")
    assert isinstance(slow_sleep["duration_ms"], float) and slow_sleep["duration_ms"] < 5000
    # Statements come out in the order the server ran them (one session, one thread).
    order = [r["sql"] for r in loaded.queries]
    positions = [order.index(s.sql) for s in APP_SESSION]
    assert positions == sorted(positions)


def test_general_log_has_the_same_statements_as_the_slow_log(mariadb_logs: MariadbLogs) -> None:
    slow = load_tables(str(mariadb_logs.slow))
    general = load_tables(str(mariadb_logs.general))
    assert general.summary.format == "mysql_general"
    assert general.rejects == []
    assert "duration_ms" in general.summary.missing
    assert all(r["duration_ms"] is None for r in general.queries)
    # long_query_time=0 logs every statement once: both logs hold the same statements, the
    # SQL-level EXECUTE counted once (as the statement it ran) in the general log too.
    assert Counter(r["sql"] for r in general.queries) == Counter(r["sql"] for r in slow.queries)
    for statement in (*APP_SESSION, *PREPARED_SESSION, *AFTER_RESTART):
        slow_row, general_row = _one(slow, statement.sql), _one(general, statement.sql)
        for column in ("user", "db", "connection", "db_system"):
            assert general_row[column] == slow_row[column], (statement.sql, column)


def test_general_log_connection_events(mariadb_logs: MariadbLogs) -> None:
    general = load_tables(str(mariadb_logs.general))
    text = mariadb_logs.general.read_text()
    kinds = Counter(str(e["kind"]) for e in general.db_events)
    assert kinds["connection"] == text.count(" Connect\t")
    assert kinds["disconnection"] == text.count(" Quit\t")
    app_logins = [e for e in general.db_events if e["kind"] == "connection" and e["user"] == "app"]
    # Once before the restart, once after (the thread id may repeat: the server restarted).
    assert len(app_logins) == 2
    assert all(e["db"] == "shop" for e in app_logins)


def test_analyze_reads_both_logs(mariadb_logs: MariadbLogs) -> None:
    report = api.analyze([str(mariadb_logs.slow), str(mariadb_logs.general)], Settings())
    formats = {Path(i.path).name: i.format for i in report.inputs}
    assert formats == {"slow.log": "mysql_slow", "general.log": "mysql_general"}
    assert all(i.rejected == 0 for i in report.inputs)
    assert not [f for f in report.findings if f.code == "M001"]


def test_error_log_has_the_deadlock_and_its_victim(mariadb_logs: MariadbLogs) -> None:
    loaded = load_tables(str(mariadb_logs.error))
    assert loaded.summary.format == "mysql_error"
    assert loaded.rejects == []
    deadlocks = [e for e in loaded.db_events if e["kind"] == "deadlock"]
    assert len(deadlocks) == mariadb_logs.workload.deadlock_errors == 1
    # The rolled-back statement is one of the two crossing updates, taken from the dump.
    crossing = {
        part.strip()
        for session in DEADLOCK_SESSIONS
        for part in session.split(";")
        if "WHERE id" in part
    }
    assert deadlocks[0]["statement"] in crossing
    assert "WE ROLL BACK TRANSACTION" in str(deadlocks[0]["detail"])
