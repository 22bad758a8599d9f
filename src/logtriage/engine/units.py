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


def begins_sql(sql: str) -> str:
    """SQL: does statement ``sql`` open a transaction."""
    return f"regexp_matches({sql}, {_BEGIN}, 'i')"


def ends_sql(sql: str) -> str:
    """SQL: does statement ``sql`` end a transaction."""
    return f"regexp_matches({sql}, {_END}, 'i')"


def burst_start_sql(gap_ms: float, begins: str = "", ends: str = "") -> str:
    """1 where a query starts a new unit of work on its connection, else 0 (queries ``q``).

    Where the log shows transactions, a transaction is the unit (ORM sessions commit or roll
    back once per request; a pool's reset ROLLBACK stays with the one before it). Elsewhere a
    COMMIT/ROLLBACK ends a unit and a pause longer than ``gap_ms`` starts one; logs with
    whole-second timestamps (MariaDB) get a second more. ``begins``/``ends`` name columns of
    ``q`` holding ``begins_sql``/``ends_sql`` of its statement (default: read ``q.sql``).
    """
    begins = begins or begins_sql("q.sql")
    ends = ends or ends_sql("q.sql")
    dur = "to_microseconds((coalesce(q.duration_ms, 0) * 1000)::BIGINT)"
    after_end = f"(lag({ends}) OVER w AND NOT {ends})"
    return f"""CASE
        WHEN lag(q.line) OVER w IS NULL THEN 1
        WHEN bool_or({begins}) OVER c THEN
            CASE WHEN {begins} OR {after_end} THEN 1 ELSE 0 END
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
    """Create table ``unit_queries`` (after correlation).

    The windows that cut connections into bursts and number each unit's queries sort only
    narrow rows (keys, times, two flags); the statements are joined back once at the end.
    """
    has_correlations = db.count("correlations") > 0
    correlated = (
        """
        SELECT 'request ' || c.request_source || ':' || c.request_line AS unit, r.route,
               c.request_source, c.request_line, r.request_id, r.duration_ms AS request_ms,
               q.ts, q.duration_ms, q.sql, coalesce(q.fingerprint, q.sql) AS fingerprint,
               q.source, q.line, q.rows_sent, q.rows_examined,
               row_number() OVER (PARTITION BY c.request_source, c.request_line
                                  ORDER BY q.ts, q.source, q.line) AS seq
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
    is_new = burst_start_sql(burst_gap_ms, begins="q.begins", ends="q.ends")
    bursts = f"""
        SELECT 'connection ' || q.source || ':' || q.connection || '#' || b.burst AS unit,
               NULL::VARCHAR AS route, NULL::VARCHAR AS request_source,
               NULL::BIGINT AS request_line, NULL::VARCHAR AS request_id,
               NULL::DOUBLE AS request_ms, q.ts, q.duration_ms, q.sql,
               coalesce(q.fingerprint, q.sql) AS fingerprint, q.source, q.line,
               q.rows_sent, q.rows_examined, b.seq
        FROM (
            SELECT source, line, burst,
                   row_number() OVER (PARTITION BY source, connection, burst
                                      ORDER BY ts, line) AS seq
            FROM (
                SELECT source, line, connection, ts,
                       sum(is_new) OVER (PARTITION BY source, connection ORDER BY ts, line)
                           AS burst
                FROM (
                    SELECT q.source, q.line, q.connection, q.ts, {is_new} AS is_new
                    FROM (
                        SELECT q.source, q.line, q.connection, q.ts, q.duration_ms,
                               {begins_sql("q.sql")} AS begins, {ends_sql("q.sql")} AS ends
                        FROM queries q
                        WHERE q.connection IS NOT NULL AND q.ts IS NOT NULL
                          AND {uncorrelated_filter}
                    ) AS q
                    WINDOW {BURST_WINDOWS}
                )
            )
        ) AS b
        JOIN queries q ON q.source = b.source AND q.line = b.line
    """
    # Queries not tied to a request still form units: their transactions or bursts.
    body = f"{correlated} UNION ALL {bursts}" if correlated is not None else bursts
    db.execute(f"CREATE OR REPLACE TABLE unit_queries AS {body}")
