"""SQL normalization cases (tests/cases/fingerprint.toml) through a real engine database."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.engine.database import Database
from logtriage.engine.fingerprint import normalize_queries
from tests.canonical import database, insert_rows

CASES = tomllib.loads((Path(__file__).parent / "cases" / "fingerprint.toml").read_text())["case"]
EXPECTED_KEYS = ("fingerprint", "clean", "tags", "request_id", "trace_id")


@pytest.fixture(scope="module")
def normalized() -> Iterator[dict[int, dict[str, Any]]]:
    """Every case inserted as one row (line = case index + 1), normalized in one bulk pass."""
    with database() as db:
        insert_rows(db, "queries", [{"sql": c["sql"], "db_system": c["db"] or None} for c in CASES])
        normalize_queries(db)
        rows = db.rows("SELECT * FROM queries")
        yield {row["line"] - 1: row for row in rows}


def test_case_file_is_well_formed() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert set(case) <= {"name", "db", "sql", "origin", "differs", *EXPECTED_KEYS}, case
        assert any(k in case for k in EXPECTED_KEYS), f"{case['name']}: nothing to check"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_normalization_case(normalized: dict[int, dict[str, Any]], index: int) -> None:
    case, row = CASES[index], normalized[index]
    if "fingerprint" in case:
        assert row["fingerprint"] == case["fingerprint"]
        # The id is the engine's md5 of the fingerprint: 16 upper-case hex digits.
        assert row["fingerprint_id"] is not None and len(row["fingerprint_id"]) == 16
        assert row["fingerprint_id"] == row["fingerprint_id"].upper()
    if "clean" in case:
        assert row["sql"] == case["clean"]
    if "tags" in case:
        assert row["tags"] == (case["tags"] or None)
    for key in ("request_id", "trace_id"):
        if key in case:
            assert row[key] == (case[key] or None)


def test_trailing_comments_never_split_a_shape(normalized: dict[int, dict[str, Any]]) -> None:
    shapes = [i for i, c in enumerate(CASES) if c["name"].startswith("trailing comment shape")]
    assert len(shapes) == 5
    assert len({normalized[i]["fingerprint_id"] for i in shapes}) == 1


def test_fingerprint_id_is_stable_and_distinct(normalized: dict[int, dict[str, Any]]) -> None:
    import hashlib

    by_fingerprint: dict[str, str] = {}
    for row in normalized.values():
        expected = hashlib.md5(row["fingerprint"].encode()).hexdigest()[:16].upper()
        assert row["fingerprint_id"] == expected
        by_fingerprint[row["fingerprint"]] = row["fingerprint_id"]
    assert len(set(by_fingerprint.values())) == len(by_fingerprint)


def _one(db: Database, **row: Any) -> dict[str, Any]:
    insert_rows(db, "queries", [row])
    normalize_queries(db)
    return db.rows("SELECT * FROM queries")[0]


def test_existing_ids_and_tags_are_kept_and_a_second_run_changes_nothing() -> None:
    with database() as db:
        first = _one(
            db,
            sql="SELECT 1 /* request_id=from-comment */",
            db_system="postgresql",
            request_id="from-reader",
            tags={"reader": "tag"},
        )
        assert first["request_id"] == "from-reader"
        assert first["tags"] == {"request_id": "from-comment", "reader": "tag"}
        assert first["fingerprint"] == "select ?"
        assert normalize_queries(db) == 0
        assert db.rows("SELECT * FROM queries")[0] == first


def test_reader_tags_merge_with_comment_tags_and_win_on_the_same_key() -> None:
    with database() as db:
        row = _one(
            db,
            sql="SELECT 1 /*controller='orders',log_slow_rate_limit='1'*/",
            db_system="mysql",
            tags={"log_slow_rate_limit": "10", "log_slow_rate_type": "query"},
        )
        assert row["tags"] == {
            "controller": "orders",
            "log_slow_rate_limit": "10",
            "log_slow_rate_type": "query",
        }


def test_null_sql_and_empty_table() -> None:
    with database() as db:
        assert normalize_queries(db) == 0
        row = _one(db, sql=None, db_system="mysql", duration_ms=1.0)
        assert row["fingerprint"] is None and row["fingerprint_id"] is None


def test_same_text_on_two_systems_is_read_by_each_dialect() -> None:
    with database() as db:
        sql = 'SELECT "Name" FROM t # x'
        insert_rows(
            db,
            "queries",
            [{"sql": sql, "db_system": "mysql"}, {"sql": sql, "db_system": "postgresql"}],
        )
        assert normalize_queries(db) == 2
        got = {r["db_system"]: r["fingerprint"] for r in db.rows("SELECT * FROM queries")}
        assert got == {"mysql": "select ? from t", "postgresql": 'select "Name" from t # x'}


_TEXTS = st.lists(
    st.text(alphabet=st.sampled_from("sSeE$'\"`/*-#\\ \n1.xX?(),=_:%aAnN!+;"), max_size=40)
    | st.text(max_size=40),
    min_size=1,
    max_size=8,
)


def test_arbitrary_text_never_raises() -> None:
    with database() as db:

        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(_TEXTS, st.sampled_from(["mysql", "postgresql", None]))
        def check(texts: list[str], system: str | None) -> None:
            db.execute("DELETE FROM queries")
            insert_rows(db, "queries", [{"sql": t, "db_system": system} for t in texts])
            normalize_queries(db)
            rows = db.rows("SELECT fingerprint, fingerprint_id FROM queries")
            assert len(rows) == len(texts)
            assert all(r["fingerprint"] is not None and r["fingerprint_id"] for r in rows)

        check()


def test_a_rewrite_of_a_large_table_gives_the_rows_an_update_gives_in_the_same_order() -> None:
    # Above REBUILD_ABOVE_ROWS the table is rewritten (an UPDATE's values stay in memory);
    # forced here on every case, plus reader tags and ids, a NULL statement and a row that
    # already holds a fingerprint, twice each so equal texts share one fingerprint row.
    rows: list[dict[str, Any]] = [{"sql": c["sql"], "db_system": c["db"] or None} for c in CASES]
    rows += [
        {"sql": "SELECT 2 /* request_id=c */", "db_system": "mysql", "request_id": "r"},
        {"sql": "SELECT 3 /*a='1'*/", "db_system": "mysql", "tags": {"a": "2", "b": "3"}},
        {"sql": None, "db_system": "mysql", "duration_ms": 1.0},
        {"sql": "SELECT 4", "db_system": "mysql", "fingerprint": "kept", "fingerprint_id": "K"},
    ]
    results = []
    for rebuild_above in (10**9, 0):
        with database() as db:
            insert_rows(db, "queries", [{**row, "line": i} for i, row in enumerate(rows * 2)])
            distinct = normalize_queries(db, rebuild_above=rebuild_above)
            in_place = [row["line"] for row in db.rows("SELECT line FROM queries")]
            results.append((distinct, db.rows("SELECT * FROM queries ORDER BY line")))
    assert results[0] == results[1]
    # The rewrite keeps the rows where they were (an UPDATE may move the ones it changed).
    assert in_place == list(range(2 * len(rows)))
    assert results[1][1][-1]["fingerprint"] == "kept"
