"""The query profile (pt-query-digest style): ranking, shares, percentiles, worst example."""

from __future__ import annotations

import io

from rich.console import Console

from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.pipeline import redact_report
from logtriage.engine.stats import query_table, summary
from logtriage.model.report import Report
from logtriage.report.terminal import render_terminal
from tests.canonical import database, insert_rows


def _profile(rows: list[dict[str, object]], limit: int = 10) -> list[dict[str, object]]:
    with database() as db:
        insert_rows(db, "queries", rows)
        normalize_queries(db)
        return query_table(db, limit)


def test_ranked_by_total_time_with_shares_percentiles_and_worst_example() -> None:
    rows: list[dict[str, object]] = [
        # 20 fast lookups: 20 x 5 ms = 100 ms
        *(
            {"sql": f"SELECT * FROM users WHERE id = {i}", "duration_ms": 5.0, "db_system": "mysql",
             "rows_sent": 1, "rows_examined": 1}
            for i in range(20)
        ),
        # 3 report queries: 100 + 200 + 600 = 900 ms, the slowest has a tag
        {"sql": "SELECT sum(total) FROM orders WHERE day > '2024-01-01'", "duration_ms": 100.0,
         "db_system": "mysql", "rows_sent": 1, "rows_examined": 5000},
        {"sql": "SELECT sum(total) FROM orders WHERE day > '2024-02-01' /*controller='reports'*/",
         "duration_ms": 600.0, "db_system": "mysql", "rows_sent": 1, "rows_examined": 9000},
        {"sql": "SELECT sum(total) FROM orders WHERE day > '2024-03-01'", "duration_ms": 200.0,
         "db_system": "mysql", "rows_sent": 1, "rows_examined": 7000},
    ]  # fmt: skip
    profile = _profile(rows)
    assert [p["rank"] for p in profile] == [1, 2]
    top, second = profile
    assert top["fingerprint"] == "select sum(total) from orders where day > ?"
    assert top["count"] == 3 and top["total_ms"] == 900.0
    assert top["share_of_time"] == 0.9
    assert top["mean_ms"] == 300.0 and top["max_ms"] == 600.0
    assert top["p50_ms"] == 200.0
    assert 500.0 < top["p95_ms"] < 600.0
    assert top["rows_examined"] == 21000 and top["rows_sent"] == 3
    assert top["example"]["line"] == 22 and top["example"]["duration_ms"] == 600.0
    assert top["example"]["sql"] == "SELECT sum(total) FROM orders WHERE day > '2024-02-01'"
    assert top["example"]["tags"] == {"controller": "reports"}
    assert second["count"] == 20 and second["total_ms"] == 100.0 and second["p95_ms"] == 5.0
    assert len(top["fingerprint_id"]) == 16


def test_limit_and_count_ranking_without_durations() -> None:
    rows = [
        {"sql": "SELECT 1 FROM a", "db_system": "mysql"},
        *({"sql": f"SELECT * FROM b WHERE x = {i}", "db_system": "mysql"} for i in range(3)),
        *({"sql": f"DELETE FROM c WHERE x = {i}", "db_system": "mysql"} for i in range(2)),
    ]
    profile = _profile(rows, limit=2)
    assert [(p["fingerprint"], p["count"]) for p in profile] == [
        ("select * from b where x = ?", 3),
        ("delete from c where x = ?", 2),
    ]
    assert profile[0]["total_ms"] is None and profile[0]["share_of_time"] is None
    assert profile[0]["rows_examined"] is None


def test_empty_table_and_summary_db_time() -> None:
    with database() as db:
        assert query_table(db, 10) == []
        insert_rows(
            db,
            "queries",
            [
                {"sql": "SELECT 1", "duration_ms": 2.5, "db_system": "postgresql"},
                {"sql": "SELECT 2", "duration_ms": None, "db_system": "postgresql"},
                {"sql": "SELECT x FROM t", "duration_ms": 1.5, "db_system": "postgresql"},
            ],
        )
        normalize_queries(db)
        out = summary(db, ())
        assert out["total_query_ms"] == 4.0
        assert out["timed_queries"] == 2
        assert out["query_shapes"] == 2


def test_profile_is_redacted_and_rendered() -> None:
    profile = _profile(
        [
            {
                "sql": "UPDATE users SET password = 'hunter2secret' WHERE id = 1",
                "duration_ms": 30.0,
                "db_system": "mysql",
            }
        ]
    )
    report = redact_report(
        Report(
            generated_at="2026-01-01T00:00:00Z",
            inputs=(),
            summary={"requests": 0, "queries": 1, "total_query_ms": 30.0},
            findings=(),
            queries=tuple(profile),
        )
    )
    assert "hunter2secret" not in str(report.queries)
    out = io.StringIO()
    render_terminal(report, Console(file=out, width=160))
    text = out.getvalue()
    assert "Queries by total time" in text
    assert "update users set password = ? where id = ?" in text
    assert "DB time 30 ms" in text


def test_database_is_the_most_used_one_and_a_tie_goes_to_the_first_name() -> None:
    rows = [
        *(
            {"sql": f"SELECT * FROM t WHERE id = {i}", "duration_ms": 1.0, "db": db}
            for i, db in enumerate(["shop", "analytics", "shop", "analytics"])
        ),
        *(
            {"sql": f"DELETE FROM u WHERE id = {i}", "duration_ms": 1.0, "db": db}
            for i, db in enumerate(["shop", "shop", None, "analytics"])
        ),
    ]
    dbs = {p["fingerprint"]: p["db"] for p in _profile(rows)}
    assert dbs == {
        "select * from t where id = ?": "analytics",
        "delete from u where id = ?": "shop",
    }
