"""The Spark engine's row counts (kept per view) follow every change to the view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logtriage.config import Settings

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    from logtriage.engine.spark.session import start_session

    yield start_session("local[2]")


@pytest.mark.spark
def test_counts_follow_inserts_updates_deletes_and_drops(session: Any, tmp_path: Path) -> None:
    from logtriage.engine.spark.database import SparkDatabase

    db = SparkDatabase(Settings(engine="spark", spark_master="local[2]"), str(tmp_path), session)
    try:
        assert db.count("t") == 0
        db.execute("CREATE TABLE t (n INTEGER)")
        assert db.count("t") == 0
        db.execute("INSERT INTO t SELECT * FROM (VALUES (0), (1), (2), (3), (4)) AS v(n)")
        assert db.count("T") == 5
        db.execute("DELETE FROM t WHERE n < 2")
        assert db.count("t") == 3
        db.execute("UPDATE t SET n = n + 1")
        assert db.count("t") == 3
        db.execute("CREATE OR REPLACE TABLE t AS SELECT 1 AS n")
        assert db.count("t") == 1
        db.execute("DROP TABLE t")
        assert db.count("t") == 0
        db.execute("CREATE TABLE t AS SELECT 1 AS n UNION ALL SELECT 2")
        assert db.count("t") == 2
    finally:
        db.close()
