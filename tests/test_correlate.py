"""Correlation of queries to requests: exact keys, connection bursts, time windows, ambiguity."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.config import Settings
from logtriage.engine import correlate as correlate_module
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database
from tests.correlation_truth import time_ties_against_ids

CAPTURE = Path(__file__).parent / "cases" / "correlation"
T0 = datetime(2026, 11, 24, 10, 0, 0)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


@pytest.fixture
def db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as work:
        database = Database(Settings(), work)
        yield database
        database.close()


def add_request(
    db: Database, line: int, start_ms: float, dur_ms: float, rid: str | None = None
) -> None:
    db.execute(
        "INSERT INTO requests (ts, duration_ms, method, path, route, status, request_id, source, "
        "line) VALUES (?, ?, 'GET', '/x', 'GET /x', 200, ?, 'access.log', ?)",
        [at(start_ms), dur_ms, rid, line],
    )


def add_query(
    db: Database, line: int, start_ms: float, conn: str | None, rid: str | None = None
) -> None:
    db.execute(
        "INSERT INTO queries (ts, duration_ms, sql, connection, request_id, source, line) "
        "VALUES (?, 1.0, 'select 1', ?, ?, 'db.log', ?)",
        [at(start_ms), conn, rid, line],
    )


def matches(db: Database) -> dict[int, tuple[int, str]]:
    rows = db.rows("SELECT line, request_line, how FROM correlations WHERE kind = 'query'")
    return {r["line"]: (r["request_line"], r["how"]) for r in rows}


def test_request_id_wins_even_when_windows_overlap(db: Database) -> None:
    add_request(db, 1, 0.5, 100, "a")
    add_request(db, 2, 0.5, 100, "b")
    add_query(db, 10, 10.5, "c1", "b")
    add_query(db, 11, 20.5, "c2", "a")
    stats = correlate(db)
    assert matches(db) == {10: (2, "request_id"), 11: (1, "request_id")}
    assert stats.correlated == 2


def test_burst_on_one_connection_inside_one_request(db: Database) -> None:
    add_request(db, 1, 0.5, 100)
    add_request(db, 2, 150.5, 100)
    for i, ms in enumerate((5, 10, 15, 160, 170)):
        add_query(db, 10 + i, ms + 0.5, "pid-1")
    correlate(db)
    got = matches(db)
    assert got[10] == got[11] == got[12] == (1, "connection-burst")
    assert got[13][0] == got[14][0] == 2


def test_concurrent_requests_leave_lone_queries_ambiguous(db: Database) -> None:
    add_request(db, 1, 0.5, 100)
    add_request(db, 2, 10.5, 100)
    add_query(db, 10, 50.5, None)  # inside both windows, no connection to narrow it down
    add_query(db, 11, 500.5, None)  # inside no request at all
    stats = correlate(db)
    assert matches(db) == {}
    assert stats.ambiguous == 1
    assert stats.outside_any_request == 1


def test_whole_second_request_logs_get_wider_windows(db: Database) -> None:
    # nginx $time_local: the end is known to the second only (start = end - duration).
    add_request(db, 1, 1000 - 200, 200)  # ended "at 10:00:01" (truncated)
    add_query(db, 10, 1400.5, "c1")  # really ran at 10:00:01.4, inside the true window
    correlate(db)
    assert matches(db)[10][0] == 1


def test_no_requests_means_nothing_to_do(db: Database) -> None:
    add_query(db, 10, 1.0, "c1")
    stats = correlate(db)
    assert stats.correlated == 0
    assert stats.queries == 1


def test_untagged_statements_between_tagged_ones_follow_their_connection(db: Database) -> None:
    add_request(db, 1, 0.5, 300, "a")
    add_request(db, 2, 10.5, 300, "b")  # concurrent: time alone cannot decide
    add_query(db, 10, 20.5, "c1")  # BEGIN, untagged
    add_query(db, 11, 21.5, "c1", "a")
    add_query(db, 12, 22.5, "c2", "b")
    add_query(db, 13, 30.5, "c1", "a")
    add_query(db, 14, 250.5, "c1")  # COMMIT, untagged, long after: still request a's
    add_query(db, 15, 260.5, "c2")  # ROLLBACK of b
    correlate(db)
    got = matches(db)
    assert got[10] == (1, "connection-neighbour")
    assert got[14] == (1, "connection-neighbour")
    assert got[15] == (2, "connection-neighbour")


# Instants on a coarse 10 s grid over four minutes: windows cross minute boundaries and share
# instants with queries and with each other's ends.
_instants = st.integers(min_value=0, max_value=24).map(lambda i: i * 10_000.0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    requests=st.lists(st.tuples(_instants, _instants), min_size=1, max_size=12),
    # Windows reach 2 ms (the clock skew) beyond their request: queries land on those edges too.
    queries=st.lists(
        st.tuples(_instants, st.sampled_from([-2.0, 0.0, 2.0])).map(sum), min_size=1, max_size=12
    ),
    # Runs of minutes swept one statement at a time: one minute each, a few, or all at once.
    chunk_rows=st.sampled_from([1, 7, correlate_module.SWEEP_CHUNK_ROWS]),
)
def test_time_matching_counts_the_windows_a_join_would_list(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    requests: list[tuple[float, float]],
    queries: list[float],
    chunk_rows: int,
) -> None:
    """The sweep's count of open windows, and its pick when there is one, equal a plain join."""
    monkeypatch.setattr(correlate_module, "SWEEP_CHUNK_ROWS", chunk_rows)
    db.execute("DELETE FROM requests")
    db.execute("DELETE FROM queries")
    for line, (start, duration) in enumerate(requests, 1):
        add_request(db, line, start + 0.5, duration)
    for line, start in enumerate(queries, 100):
        add_query(db, line, start + 0.5, None)
    correlate(db)
    expected = db.rows(
        """
        SELECT q.line, count(w.request_line) AS k, min(w.request_line) AS request_line
        FROM tmp_query_times q
        LEFT JOIN tmp_windows w ON q.q_lo BETWEEN w.w_start AND w.w_end
        GROUP BY q.line ORDER BY q.line
        """
    )
    got = db.rows("SELECT line, k, request_line FROM tmp_candidates ORDER BY line")
    assert got == [
        {**row, "request_line": row["request_line"] if row["k"] == 1 else None} for row in expected
    ]


def test_time_ties_agree_with_the_request_ids_they_did_not_see() -> None:
    # A real capture (tests/cases/correlation/SOURCES.md): Flask + SQLAlchemy under two
    # gunicorn workers behind nginx, on PostgreSQL, every statement tagged with its request id.
    truth = time_ties_against_ids(str(CAPTURE / "access.log"), str(CAPTURE / "postgresql.log.gz"))
    assert truth.by_id >= 400, truth
    # Time and connection alone tie most of them, and almost always to the right request:
    # a wrong tie would put one request's queries on another's route.
    assert truth.tied >= 0.6 * truth.by_id, truth
    assert truth.precision >= 0.9, truth
