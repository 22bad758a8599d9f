"""The report's tables: per-route latency and errors, the query profile, the summary numbers."""

from __future__ import annotations

from typing import Any

from logtriage.engine.database import Database
from logtriage.model.percentiles import percentiles_sql
from logtriage.model.report import InputSummary

_ROUTE_CUTS = (0.5, 0.95, 0.99)


def _r(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, float) else value


def route_table(db: Database, limit: int) -> list[dict[str, Any]]:
    """Routes ranked by total time (by count when there is no latency), top ``limit``."""
    if not db.count("requests"):
        return []
    total_ms = db.scalar("SELECT sum(duration_ms) FROM requests") or 0.0
    has_correlations = db.count("correlations") > 0
    # Percentiles from a histogram that spills (model/percentiles.py), joined to the top routes.
    spread = percentiles_sql("requests", "duration_ms", _ROUTE_CUTS, by=["route"])
    rows = db.rows(
        f"""
        SELECT a.*, p.q FROM (
            SELECT route, count(*) AS count, sum(coalesce(w.queries, 0)) AS queries,
                   max(duration_ms) AS max_ms, sum(duration_ms) AS total_ms,
                   count(*) FILTER (WHERE status >= 500) AS errors_5xx,
                   count(*) FILTER (WHERE status >= 400 AND status < 500) AS errors_4xx,
                   sum(bytes_sent) AS bytes_sent
            FROM requests r LEFT JOIN request_db_work w USING (source, line) GROUP BY route
            ORDER BY coalesce(sum(duration_ms), 0) DESC, count(*) DESC, route
            LIMIT ?
        ) a LEFT JOIN ({spread}) p ON a.route IS NOT DISTINCT FROM p.route
        ORDER BY coalesce(a.total_ms, 0) DESC, a.count DESC, a.route
        """,
        [limit],
    )
    out = []
    for row in rows:
        q = row["q"] or [None, None, None]
        out.append(
            {
                "route": row["route"],
                "count": row["count"],
                "p50_ms": _r(q[0]),
                "p95_ms": _r(q[1]),
                "p99_ms": _r(q[2]),
                "max_ms": _r(row["max_ms"]),
                "total_ms": _r(row["total_ms"]),
                "share_of_time": _r(row["total_ms"] / total_ms, 4)
                if row["total_ms"] is not None and total_ms
                else None,
                "error_rate": _r(row["errors_5xx"] / row["count"], 4),
                "errors_4xx": row["errors_4xx"],
                "bytes_sent": row["bytes_sent"],
                "queries_per_request": _r(row["queries"] / row["count"])
                if has_correlations
                else None,
            }
        )
    return out


def query_table(db: Database, limit: int) -> list[dict[str, Any]]:
    """The query profile, as pt-query-digest's: fingerprints ranked by total time, top ``limit``.

    Without durations (a general query log) the ranking falls back to the call count. The
    example is the slowest call (ties: first in the input); its text is redacted later, with
    the rest of the report. ``db`` is the database most calls ran in (ties: the first name).
    """
    if not db.count("queries"):
        return []
    spread = percentiles_sql(
        "queries",
        "duration_ms",
        [0.5, 0.95],
        by=["fingerprint_id"],
        where="fingerprint_id IS NOT NULL",
    )
    rows = db.rows(
        f"""
        WITH shapes AS (
            SELECT fingerprint_id, min(fingerprint) AS fingerprint, count(*) AS count,
                   count(duration_ms) AS timed, sum(duration_ms) AS total_ms,
                   avg(duration_ms) AS mean_ms,
                   max(duration_ms) AS max_ms, sum(lock_ms) AS lock_ms,
                   sum(rows_sent) AS rows_sent, sum(rows_examined) AS rows_examined,
                   min(db_system) AS db_system, min(ts) AS first_ts, max(ts) AS last_ts
            FROM queries WHERE fingerprint_id IS NOT NULL GROUP BY fingerprint_id
        ), spread AS ({spread}
        ), dbs AS (
            -- The database most calls ran in; a tie goes to the first name, so two runs agree.
            SELECT fingerprint_id, db FROM (
                SELECT fingerprint_id, db, count(*) AS n FROM queries
                WHERE fingerprint_id IS NOT NULL AND db IS NOT NULL GROUP BY fingerprint_id, db
            )
            QUALIFY row_number() OVER (PARTITION BY fingerprint_id ORDER BY n DESC, db) = 1
        ), slowest AS (
            -- The slowest call's place (ties: first in the input), from narrow columns; only
            -- that call's text is read, not every call's sorted.
            SELECT q.fingerprint_id, min({{'source': q.source, 'line': q.line}}) AS at
            FROM queries q JOIN shapes s ON s.fingerprint_id = q.fingerprint_id
            WHERE q.duration_ms = s.max_ms OR s.max_ms IS NULL
            GROUP BY q.fingerprint_id
        ), worst AS (
            SELECT k.fingerprint_id, q.source, q.line, q.sql, q.duration_ms, q.tags
            FROM slowest k JOIN queries q ON q.source = k.at.source AND q.line = k.at.line
        )
        SELECT s.*, p.q, d.db, sum(s.total_ms) OVER () AS all_ms,
               w.source AS ex_source, w.line AS ex_line, w.sql AS ex_sql,
               w.duration_ms AS ex_ms, w.tags AS ex_tags
        FROM shapes s JOIN worst w USING (fingerprint_id)
        LEFT JOIN spread p USING (fingerprint_id)
        LEFT JOIN dbs d USING (fingerprint_id)
        ORDER BY coalesce(s.total_ms, 0) DESC, s.count DESC, s.fingerprint_id
        LIMIT ?
        """,
        [limit],
    )
    out = []
    for rank, row in enumerate(rows, start=1):
        q = row["q"] or [None, None]
        total, all_ms = row["total_ms"], row["all_ms"]
        example: dict[str, Any] = {
            "source": row["ex_source"],
            "line": row["ex_line"],
            "duration_ms": _r(row["ex_ms"]),
            "sql": row["ex_sql"],
        }
        if row["ex_tags"]:
            example["tags"] = dict(row["ex_tags"])
        out.append(
            {
                "rank": rank,
                "fingerprint_id": row["fingerprint_id"],
                "fingerprint": row["fingerprint"],
                "count": row["count"],
                "total_ms": _r(total),
                "share_of_time": _r(total / all_ms, 4) if total is not None and all_ms else None,
                "mean_ms": _r(row["mean_ms"]),
                "p50_ms": _r(q[0]),
                "p95_ms": _r(q[1]),
                "max_ms": _r(row["max_ms"]),
                "lock_ms": _r(row["lock_ms"]),
                "rows_sent": row["rows_sent"],
                "rows_examined": row["rows_examined"],
                "db_system": row["db_system"],
                "db": row["db"],
                "first_ts": _iso(row["first_ts"]),
                "last_ts": _iso(row["last_ts"]),
                "example": example,
            }
        )
    return out


def _iso(value: Any) -> str | None:
    """UTC timestamps as the rest of the report writes them: ISO 8601 with ``Z``."""
    return value.isoformat() + "Z" if value is not None and hasattr(value, "isoformat") else None


def summary(db: Database, inputs: tuple[InputSummary, ...]) -> dict[str, Any]:
    """Counts and time range over everything that was read."""
    requests = db.count("requests")
    queries = db.count("queries")
    firsts = [i.first_ts for i in inputs if i.first_ts]
    lasts = [i.last_ts for i in inputs if i.last_ts]
    out: dict[str, Any] = {
        "requests": requests,
        "queries": queries,
        "correlated_queries": 0,
        "app_events": db.count("app_events"),
        "time_range": [min(firsts), max(lasts)] if firsts and lasts else None,
        "lines": sum(i.lines for i in inputs),
        "rejected": sum(i.rejected for i in inputs),
        # Spark approximates percentiles of large inputs (engine/spark/dialect.py).
        "percentiles": getattr(db, "percentiles", "exact"),
    }
    if queries:
        row = db.rows(
            "SELECT count(duration_ms) AS timed, sum(duration_ms) AS total_ms, "
            "count(DISTINCT fingerprint_id) AS shapes FROM queries"
        )[0]
        out.update(
            {
                "timed_queries": row["timed"],
                "total_query_ms": _r(row["total_ms"]),
                "query_shapes": row["shapes"],
            }
        )
    if requests:
        spread = percentiles_sql("requests", "duration_ms", _ROUTE_CUTS)
        row = db.rows(
            "SELECT a.*, p.q FROM (SELECT count(duration_ms) AS timed, "
            "sum(duration_ms) AS total_ms, count(*) FILTER (WHERE status >= 500) AS errors_5xx, "
            "count(DISTINCT route) AS routes FROM requests) a "
            f"LEFT JOIN ({spread}) p ON true"
        )[0]
        q = row["q"] or [None, None, None]
        out.update(
            {
                "routes": row["routes"],
                "timed_requests": row["timed"],
                "total_request_ms": _r(row["total_ms"]),
                "p50_ms": _r(q[0]),
                "p95_ms": _r(q[1]),
                "p99_ms": _r(q[2]),
                "error_rate": _r(row["errors_5xx"] / requests, 4),
            }
        )
    return out
