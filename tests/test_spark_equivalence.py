"""The Spark engine gives the DuckDB engine's report: same rows, routes, findings, fingerprints."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.engine.loading import load_input
from logtriage.engine.pipeline import run_analysis
from logtriage.engine.routes import assign_routes
from logtriage.report.json_report import render_json
from logtriage.sources.reading import expand_inputs
from tests.test_spark_dialect import planted_n_plus_one

pytest.importorskip("pyspark", reason="the [spark] extra is not installed")

CASE = Path(__file__).parent / "cases" / "sources" / "nginx" / "combined_timing.log"
COLUMNS = "ts, duration_ms, method, path, route, status, bytes_sent, client, line"
SPARK = Settings(engine="spark", spark_master="local[2]")


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    """One local[2] session for the module: later SparkDatabases get it back (getOrCreate)."""
    from logtriage.engine.spark.session import start_session

    yield start_session("local[2]")


def _rows(db: object, settings: Settings, work: str) -> list[tuple[object, ...]]:
    item = expand_inputs([str(CASE)], work)[0]
    summary = load_input(db, item, 0, settings, {})  # type: ignore[arg-type]
    assign_routes(db, settings, ())  # type: ignore[arg-type]
    rows = db.rows(f"SELECT {COLUMNS} FROM requests ORDER BY line")  # type: ignore[attr-defined]
    assert summary.records == len(rows) > 0
    return [tuple(r.values()) for r in rows]


@pytest.mark.spark
def test_nginx_rows_and_routes_match_duckdb(session: Any) -> None:
    from logtriage.engine.spark.database import SparkDatabase

    with tempfile.TemporaryDirectory() as work:
        duck = Database(Settings(), work)
        expected = _rows(duck, Settings(), work)
        duck.close()
        spark = SparkDatabase(SPARK, work, session)
        try:
            assert _rows(spark, SPARK, work) == expected
        finally:
            spark.close()


SOURCES = Path(__file__).parent / "cases" / "sources"
# One or two case files per reader the Spark engine runs since the rules of d1228b0/832cdae,
# with wrapped inputs (saved prefixes, container records, CloudWatch exports).
READER_CASES = [
    "mysql_slow/mysql57_pt.log",
    "mysql_slow/mariadb_10_11.log",
    "mysql_slow/percona_rate_limit_pt.log",
    "mysql_slow/mysql80_slow_extra.log",
    "mysql_slow/mariadb_disk_work.log",
    "mysql_slow/rds_cloudwatch_tail.log",
    "mysql_general/mariadb_10_11.log",
    "mysql_general/mysql57_system_tz_pt.log",
    "mysql_error/mariadb_10_11_before_10am.log",
    "haproxy/real_syslog_udp.log",
    "aws_alb/documented_entries.log",
    "json_access/caddy.log",
    "json_access/ecs.log",
    "json_access/gcp_http_requests.log",
    "w3c/iis.log",
    "postgresql_json/statement_duration.json",
    "postgresql_json/auto_explain.json",
    "postgresql_json/lock_wait.json",
    "postgresql/explain_duplicate_pgbadger.log",
    "postgresql/keyed_unknown_app_pgbadger.log",
    "apache_error/proxy_failures.log",
    "logfmt/logfmter.log",
    "logfmt_access/heroku_router.log",
    "app_json/structlog_dict_tracebacks.log",
    "app_json/lograge_with_rails_exceptions.log",
    "app_json/gelf.log",
    "otlp_json/protobuf_json.log",
    "container_wrappers/docker_nginx.log",
    "container_wrappers/gcp_gke_nginx.log",
    "container_wrappers/kubectl_timestamps_nginx.log",
]
# The plain-text application cases, run as one file (_all_app_text_cases).
ALL_APP_TEXT = "app_text/*.log"


def _loaded(db: Any, path: Path, settings: Settings, work: str) -> tuple[Any, list[Any], Any]:
    """What a reader made of ``path``: summary, canonical rows (fingerprinted), rejections."""
    from logtriage.engine.fingerprint import normalize_queries

    item = expand_inputs([str(path)], work)[0]
    summary = load_input(db, item, 0, settings, {})
    normalize_queries(db)
    assign_routes(db, settings, ())
    rows = db.rows(f"SELECT * FROM {summary.table or 'requests'} ORDER BY source, line")
    rejects = db.rows("SELECT line, reason FROM rejects ORDER BY line")
    return summary, rows, rejects


def _all_app_text_cases(directory: Path) -> Path:
    """Every plain-text application case in one file: each layout's lines, one Spark run.

    The layouts are one reader (every line tries all of them), so one file mixing them checks
    the same SQL as ten runs, and a layout added later is covered without a new entry.
    """
    combined = directory / "all_app_text_cases.log"
    with combined.open("w", encoding="utf-8") as out:
        for case in sorted((SOURCES / "app_text").glob("*.log")):
            text = case.read_text(encoding="utf-8")
            out.write(text if text.endswith("\n") else text + "\n")
    return combined


@pytest.mark.spark
@pytest.mark.parametrize("case", [*READER_CASES, ALL_APP_TEXT])
def test_reader_gives_the_same_rows_on_spark(session: Any, case: str, tmp_path: Path) -> None:
    from logtriage.engine.spark.database import SparkDatabase

    path = _all_app_text_cases(tmp_path) if case == ALL_APP_TEXT else SOURCES / case
    with tempfile.TemporaryDirectory() as work:
        duck = Database(Settings(), work)
        try:
            expected = _loaded(duck, path, Settings(), work)
        finally:
            duck.close()
        spark = SparkDatabase(SPARK, work, session)
        try:
            summary, rows, rejects = _loaded(spark, path, SPARK, work)
        finally:
            spark.close()
    assert (summary.format, summary.variant) == (expected[0].format, expected[0].variant)
    assert len(rows) == len(expected[1]) > 0
    assert _close(expected[1], rows) == []
    assert rejects == expected[2]


def _report(paths: list[str], settings: Settings) -> dict[str, Any]:
    report = json.loads(render_json(run_analysis(paths, settings)))
    report.pop("generated_at")
    return dict(report)


def _close(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two reports differ; floats agree to 1e-9 relative (summation order differs)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in sorted(set(a) | set(b)) for d in _close(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _close(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, int | float):
        return [] if abs(a - b) <= 1e-9 * max(abs(a), 1.0) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {str(a)[:80]} != {str(b)[:80]}"]


@pytest.mark.spark
def test_access_and_postgresql_logs_with_an_n_plus_one_give_the_same_report(
    session: Any, tmp_path: Path
) -> None:
    access, pg = planted_n_plus_one(tmp_path, requests=150)
    paths = [str(access), str(pg)]
    duck = _report(paths, Settings())
    spark = _report(paths, SPARK)
    assert "P001" in {f["code"] for f in duck["findings"]}
    assert spark["summary"]["percentiles"] == "exact"
    assert [r["route"] for r in spark["routes"]] == [r["route"] for r in duck["routes"]]
    assert [(f["code"], f.get("fingerprint")) for f in spark["findings"]] == [
        (f["code"], f.get("fingerprint")) for f in duck["findings"]
    ]
    assert _close(duck, spark) == []


@pytest.mark.spark
def test_mysql_slow_logs_give_the_same_report(session: Any) -> None:
    """A fleet's database logs are Spark's main use: the whole report, findings included."""
    paths = [
        str(SOURCES / "mysql_slow" / "mysql57_pt.log"),
        str(SOURCES / "mysql_slow" / "percona_rate_limit_pt.log"),
        str(SOURCES / "mysql_slow" / "mariadb_10_11.log"),
    ]
    duck = _report(paths, Settings())
    spark = _report(paths, SPARK)
    assert duck["findings"]
    assert [(f["code"], f.get("fingerprint")) for f in spark["findings"]] == [
        (f["code"], f.get("fingerprint")) for f in duck["findings"]
    ]
    assert _close(duck, spark) == []


@pytest.mark.spark
def test_approximate_percentiles_stay_within_the_stated_rank_error(session: Any) -> None:
    """Above the exact limit, Spark's percentile_approx: rank error ≤ n / PERCENTILE_ACCURACY."""
    from logtriage.engine.spark.dialect import PERCENTILE_ACCURACY, translate

    n = 200_000
    # A skewed latency-like column: most fast, a long slow tail (same values on both engines).
    skewed = f"exp(((id * 7919) % {n}) / {n / 8})"
    exact_sorted = sorted(
        r[0] for r in duckdb.sql(f"SELECT {skewed} FROM range({n}) AS t(id)").fetchall()
    )
    session.range(n).selectExpr(f"{skewed} AS d").createOrReplaceTempView("v")
    sql = "SELECT quantile_cont(d, [0.5, 0.95, 0.99]) AS q FROM v"
    approx = session.sql(translate(sql, approximate=True)).collect()[0][0]
    for q, got in zip([0.5, 0.95, 0.99], approx, strict=True):
        rank = sum(1 for v in exact_sorted if v <= got)
        assert abs(rank - q * n) <= n / PERCENTILE_ACCURACY + 1, (q, got, rank)


JSON_TEXTS = [
    '{"a": 1, "b": 1.50, "c": "x\\n\\u00e9", "d": null, "e": true,'
    ' "f": {"z": [1, 2.0, "h"], "y": 1}, "i": 1e3, "l": -5, "n": [], "@t": "2026-01-01"}',
    '{"b": "[not a list", "f": [{"q": 1, "p": 2.0}, "s", 3, null, [1]]}',
    "[1, 2]",
    '"text"',
]


@pytest.mark.spark
def test_json_types_values_lists_and_maps_are_duckdbs(session: Any) -> None:
    from logtriage.engine.spark.dialect import translate

    paths = ["$.a", "$.b", "$.c", "$.d", "$.e", "$.f", "$.i", "$.l", "$.n", '$."@t"', "$.zz"]
    path_list = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    sql = f"""
SELECT n, json_type(s) AS whole, json_type(s, {path_list}) AS types,
    json_extract_string(s, {path_list}) AS texts,
    json_extract(s, '$.f.z[*]') AS elements, json_extract(s, '$.f[*]') AS objects,
    list_sort(list_transform(map_entries(try_cast(s::JSON AS MAP(VARCHAR, JSON))),
        lambda e: e.key || '=' || coalesce(e.value::VARCHAR, '<null>'))) AS entries
FROM docs ORDER BY n"""
    rows = [(n, text) for n, text in enumerate(JSON_TEXTS)]
    # Each element of a list with its position (OTLP's resourceSpans, scopeSpans, spans).
    sql += "; SELECT n, unnest(l) AS x, generate_subscripts(l, 1) AS i, n * 2 AS m FROM "
    sql += "(SELECT n, json_extract(s, '$.f[*]') AS l FROM docs) ORDER BY n, i"
    duck = duckdb.connect()
    duck.execute("CREATE TABLE docs (n INTEGER, s VARCHAR)")
    duck.executemany("INSERT INTO docs VALUES (?, ?)", rows)
    session.createDataFrame(rows, "n INT, s STRING").createOrReplaceTempView("docs")
    for statement in sql.split(";"):
        expected = [tuple(r) for r in duck.execute(statement).fetchall()]
        got = [tuple(r) for r in session.sql(translate(statement)).collect()]
        assert got == expected != []
