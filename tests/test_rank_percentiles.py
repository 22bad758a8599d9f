"""A value read at quantile_disc's rank by a top-N equals DuckDB's quantile_disc (A002's span).

quantile_disc keeps every value in a state outside the memory limit; A002 counts the timestamps
and reads its two cuts with ``ORDER BY ts LIMIT 1 OFFSET k`` instead. The ranks and values must
be DuckDB's own: every count of values up to 3,000 for the cuts A002 uses, and random tables of
timestamps with ties, NULLs, one or two rows, split over the three tables A002 reads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logtriage.analyzers.error_burst import _span
from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.model.context import AnalysisContext
from logtriage.model.percentiles import disc_rank, value_at_rank_sql

_CUTS = [0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.3333, 0.6667]


def test_rank_is_duckdbs_for_every_count_up_to_3000() -> None:
    # Values 0..n-1, so quantile_disc returns its 0-based rank.
    con = duckdb.connect()
    cuts = ", ".join(format(Decimal(repr(q)), "f") for q in _CUTS)
    rows = con.execute(
        f"SELECT n, quantile_disc(x, [{cuts}]) FROM range(1, 3001) a(n), range(n) b(x) "
        "GROUP BY n ORDER BY n"
    ).fetchall()
    assert len(rows) == 3000
    for n, got in rows:
        assert [disc_rank(n, q) - 1 for q in _CUTS] == got, n


@pytest.mark.parametrize(("rank", "n"), [(0, 5), (6, 5), (1, 0)])
def test_rank_outside_the_values_is_refused(rank: int, n: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        value_at_rank_sql("t", "x", rank, n)


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as work:
        database = Database(Settings(), work)
        yield database
        database.close()


_SECONDS = st.lists(st.one_of(st.none(), st.integers(0, 40), st.integers(0, 10**8)), max_size=50)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=st.tuples(_SECONDS, _SECONDS, _SECONDS), cut=st.sampled_from(_CUTS))
@example(tables=([], [], []), cut=0.5)  # no rows
@example(tables=([None, None], [None], []), cut=0.5)  # NULLs only
@example(tables=([7], [], []), cut=0.001)  # one row
@example(tables=([], [9, 3], []), cut=0.999)  # two rows
@example(tables=([5, 5, None], [5], [5, 1]), cut=0.5)  # ties
def test_top_n_reads_quantile_discs_value(
    db: Database, tables: tuple[list[int | None], ...], cut: float
) -> None:
    for table, seconds in zip(("requests", "db_events", "app_events"), tables, strict=True):
        db.execute(f"DELETE FROM {table}")
        if seconds:
            db.con.executemany(
                f"INSERT INTO {table} (ts) VALUES (TIMESTAMP '2026-01-01' + to_seconds(?))",
                [(s,) for s in seconds],
            )
    times = (
        "(SELECT ts FROM requests UNION ALL SELECT ts FROM db_events "
        "UNION ALL SELECT ts FROM app_events)"
    )
    literal = format(Decimal(repr(cut)), "f")
    want: dict[str, Any] = db.rows(
        "SELECT q[1] AS first, q[2] AS last, q[3] AS at "
        f"FROM (SELECT quantile_disc(ts, [0.001, 0.999, {literal}]) AS q FROM {times})"
    )[0]
    n = sum(s is not None for seconds in tables for s in seconds)
    span = _span(AnalysisContext(db=db, inputs=()))
    if n == 0:
        assert span is None and want == {"first": None, "last": None, "at": None}
        return
    assert span == {"first": want["first"], "last": want["last"]}
    at = db.rows(value_at_rank_sql(times, "ts", disc_rank(n, cut), n))
    assert [r["ts"] for r in at] == [want["at"]]
