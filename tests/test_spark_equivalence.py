"""The Spark engine loads and templates an nginx log into the same rows as DuckDB does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.engine.loading import load_input
from logtriage.engine.routes import assign_routes
from logtriage.sources.reading import expand_inputs

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")

CASE = Path(__file__).parent / "cases" / "sources" / "nginx" / "combined_timing.log"
COLUMNS = "ts, duration_ms, method, path, route, status, bytes_sent, client, line"


def _rows(db: object, settings: Settings, work: str) -> list[tuple[object, ...]]:
    item = expand_inputs([str(CASE)], work)[0]
    summary = load_input(db, item, 0, settings, {})  # type: ignore[arg-type]
    assign_routes(db, settings, ())  # type: ignore[arg-type]
    rows = db.rows(f"SELECT {COLUMNS} FROM requests ORDER BY line")  # type: ignore[attr-defined]
    assert summary.records == len(rows) > 0
    return [tuple(r.values()) for r in rows]


@pytest.mark.spark
def test_nginx_rows_and_routes_match_duckdb() -> None:
    from logtriage.engine.spark.database import SparkDatabase
    from logtriage.engine.spark.session import start_session

    settings = Settings(engine="spark", spark_master="local[2]")
    with tempfile.TemporaryDirectory() as work:
        duck = Database(Settings(), work)
        expected = _rows(duck, Settings(), work)
        duck.close()
        spark = SparkDatabase(settings, work, start_session("local[2]"))
        try:
            assert _rows(spark, settings, work) == expected
        finally:
            spark.close()
