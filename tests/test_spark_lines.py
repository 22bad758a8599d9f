"""Spark numbers a file's lines 1..N in file order, also when the file spans many partitions."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.engine.loading import _read_lines
from logtriage.sources.reading import expand_inputs

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")

SPARK = Settings(engine="spark", spark_master="local[2]")


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    from logtriage.engine.spark.session import start_session

    yield start_session("local[2]")


def _spark_lines(session: Any, path: Path) -> list[tuple[int, str]]:
    from logtriage.engine.spark.database import SparkDatabase

    with tempfile.TemporaryDirectory() as work:
        db = SparkDatabase(SPARK, work, session)
        try:
            db.read_lines(str(path))
            return [(r["line"], r["text"]) for r in db.rows("SELECT * FROM lines ORDER BY line")]
        finally:
            db.close()


def _duckdb_lines(path: Path) -> list[tuple[int, str]]:
    with tempfile.TemporaryDirectory() as work:
        db = Database(Settings(), work)
        try:
            _read_lines(db, expand_inputs([str(path)], work)[0], 0)
            rows = db.rows("SELECT line, text FROM lines ORDER BY line")
        finally:
            db.close()
    # DuckDB reads an empty line as NULL, Spark as ''.
    return [(r["line"], r["text"] or "") for r in rows]


@pytest.mark.spark
def test_a_file_cut_into_many_partitions_is_numbered_in_file_order(
    session: Any, tmp_path: Path
) -> None:
    # Lines of many lengths, empty ones, CRLF endings among LF ones and a lone \r inside a line.
    parts = []
    for i in range(3000):
        text = "" if i % 250 == 7 else f"{i} " + "x" * (i * 37 % 113)
        if i == 1234:
            text = "progress 10%\r20%"
        parts.append(text + ("\r\n" if i % 10 == 3 else "\n"))
    log = tmp_path / "many.log"
    log.write_bytes("".join(parts).encode())
    session.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        assert session.read.text(str(log)).rdd.getNumPartitions() > 20
        lines = _spark_lines(session, log)
    finally:
        session.conf.unset("spark.sql.files.maxPartitionBytes")
    assert [n for n, _ in lines] == list(range(1, 3001))
    assert lines[1234] == (1235, "progress 10% 20%")
    assert lines[3] == (4, "3 " + "x" * (3 * 37 % 113))
    assert lines == _duckdb_lines(log)


@pytest.mark.spark
def test_an_empty_file_has_no_lines(session: Any, tmp_path: Path) -> None:
    log = tmp_path / "empty.log"
    log.write_bytes(b"")
    assert _spark_lines(session, log) == []
