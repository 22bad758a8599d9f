"""Units of work: each query with the request that ran it, in order (table ``unit_queries``).

A unit is a request when the query was correlated to one; without an access log, queries that
ran on one database connection in a burst (gaps under ``burst_gap_ms``) form a unit, so an N+1
is still visible from a database log alone.
"""

from __future__ import annotations

from logtriage.engine.database import Database

_BEGIN = r"'^\s*(begin|start\s+transaction)\b'"
_END = r"'^\s*(commit|rollback|end)\b'"
# Named windows the burst expression needs, over queries aliased ``q``.
BURST_WINDOWS = (
    "w AS (PARTITION BY q.source, q.connection ORDER BY q.ts, q.line), "
    "c AS (PARTITION BY q.source, q.connection), s AS (PARTITION BY q.source)"
)


def burst_start_sql(gap_ms: float) -> str:
    """1 where a query starts a new unit of work on its connection, else 0 (queries ``q``).

    Where the log shows transactions, a transaction is the unit (ORM sessions commit or roll
    back once per request; a pool's reset ROLLBACK stays with the one before it). Elsewhere a
    COMMIT/ROLLBACK ends a unit and a pause longer than ``gap_ms`` starts one; logs with
    whole-second timestamps (MariaDB) get a second more.
    """
    dur = "to_microseconds((coalesce(q.duration_ms, 0) * 1000)::BIGINT)"
    after_end = (
        f"(regexp_matches(lag(q.sql) OVER w, {_END}, 'i') "
        f"AND NOT regexp_matches(q.sql, {_END}, 'i'))"
    )
    return f"""CASE
        WHEN lag(q.line) OVER w IS NULL THEN 1
        WHEN bool_or(regexp_matches(q.sql, {_BEGIN}, 'i')) OVER c THEN
            CASE WHEN regexp_matches(q.sql, {_BEGIN}, 'i') OR {after_end} THEN 1 ELSE 0 END
        WHEN {after_end} THEN 1
        WHEN epoch(q.ts - lag(q.ts + {dur}) OVER w) * 1000
             <= {gap_ms} + CASE WHEN bool_and(q.ts = date_trunc('second', q.ts)) OVER s
                                THEN 1000 ELSE 0 END THEN 0
        ELSE 1
    END"""


# Columns: unit (text key), route (NULL for connection bursts), request_source, request_line,
# request_id, request_ms, ts, duration_ms, sql, fingerprint, source, line, rows_sent,
# rows_examined, seq (1-based order in the unit).


def build_unit_queries(db: Database, burst_gap_ms: float = 50.0) -> None:
    """Create table ``unit_queries`` (after correlation)."""
    has_correlations = db.count("correlations") > 0
    correlated = (
        """
        SELECT 'request ' || c.request_source || ':' || c.request_line AS unit, r.route,
               c.request_source, c.request_line, r.request_id, r.duration_ms AS request_ms,
               q.ts, q.duration_ms, q.sql, coalesce(q.fingerprint, q.sql) AS fingerprint,
               q.source, q.line, q.rows_sent, q.rows_examined
        FROM correlations c
        JOIN queries q ON c.kind = 'query' AND q.source = c.source AND q.line = c.line
        JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
        """
        if has_correlations
        else None
    )
    uncorrelated_filter = (
        "NOT EXISTS (SELECT 1 FROM correlations c WHERE c.kind = 'query' "
        "AND c.source = q.source AND c.line = q.line)"
        if has_correlations
        else "TRUE"
    )
    bursts = f"""
        SELECT 'connection ' || source || ':' || connection || '#' || burst AS unit,
               NULL::VARCHAR AS route, NULL::VARCHAR AS request_source,
               NULL::BIGINT AS request_line, NULL::VARCHAR AS request_id,
               NULL::DOUBLE AS request_ms, ts, duration_ms, sql, fp AS fingerprint, source, line,
               rows_sent, rows_examined
        FROM (
            SELECT *, sum(is_new) OVER (PARTITION BY source, connection ORDER BY ts, line) AS burst
            FROM (
                SELECT q.*, coalesce(q.fingerprint, q.sql) AS fp,
                       {burst_start_sql(burst_gap_ms)} AS is_new
                FROM queries q
                WHERE q.connection IS NOT NULL AND q.ts IS NOT NULL AND {uncorrelated_filter}
                WINDOW {BURST_WINDOWS}
            )
        )
    """
    # Queries not tied to a request still form units: their transactions or bursts.
    body = f"{correlated} UNION ALL {bursts}" if correlated is not None else bursts
    db.execute(
        f"""
        CREATE OR REPLACE TABLE unit_queries AS
        SELECT *, row_number() OVER (PARTITION BY unit ORDER BY ts, source, line) AS seq
        FROM ({body})
        """
    )
