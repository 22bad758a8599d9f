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
    return _burst_rule(
        gap_ms,
        is_first="lag(q.line) OVER w IS NULL",
        begins=begins,
        ends=ends,
        prev_ends=f"lag({ends}) OVER w",
        prev_end=f"lag(q.ts + {_DURATION}) OVER w",
        has_transactions=f"bool_or({begins}) OVER c",
        whole_seconds="bool_and(q.ts = date_trunc('second', q.ts)) OVER s",
    )


# A query's duration as an interval, to add to its start.
_DURATION = "to_microseconds((coalesce(q.duration_ms, 0) * 1000)::BIGINT)"


def _burst_rule(
    gap_ms: float,
    *,
    is_first: str,
    begins: str,
    ends: str,
    prev_ends: str,
    prev_end: str,
    has_transactions: str,
    whole_seconds: str,
) -> str:
    """The rule of ``burst_start_sql`` over SQL that gives each input it reads."""
    after_end = f"({prev_ends} AND NOT {ends})"
    return f"""CASE
        WHEN {is_first} THEN 1
        WHEN {has_transactions} THEN
            CASE WHEN {begins} OR {after_end} THEN 1 ELSE 0 END
        WHEN {after_end} THEN 1
        WHEN epoch(q.ts - {prev_end}) * 1000
             <= {gap_ms} + CASE WHEN {whole_seconds} THEN 1000 ELSE 0 END THEN 0
        ELSE 1
    END"""


# Columns: unit (text key), route (NULL for connection bursts), request_source, request_line,
# request_id, request_ms, ts, duration_ms, sql, fingerprint, source, line, rows_sent,
# rows_examined, seq (1-based order in the unit), uid (the unit as a number: a request's is
# its file's number * 2^40 + its line, a connection burst's is negative), fid (the shape: the
# fingerprint's place in the order of the fingerprints' text).
#
# The analyzers count by (uid, fid) before they look at any text: integer keys group and join
# cheaper than two texts, and a unit's number is its own even where its text is not (a file
# name with ':' in it could spell another file's connection).
_SOURCE_SPAN = 2**40
_BURST_SPAN = 2**32


def build_unit_queries(db: Database, burst_gap_ms: float = 50.0) -> None:
    """Create table ``unit_queries`` (after correlation).

    The windows that cut connections into bursts and number each unit's queries sort only
    narrow rows (keys, times, two flags); the statements are joined back once at the end.
    """
    has_correlations = db.count("correlations") > 0
    # Every shape numbered once, in the order of its text (one pass over the queries).
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE unit_shapes AS
        SELECT fingerprint, row_number() OVER (ORDER BY fingerprint) AS fid
        FROM (SELECT DISTINCT coalesce(fingerprint, sql) AS fingerprint FROM queries)
        WHERE fingerprint IS NOT NULL
        """
    )
    correlated = (
        f"""
        SELECT 'request ' || c.request_source || ':' || c.request_line AS unit, r.route,
               c.request_source, c.request_line, r.request_id, r.duration_ms AS request_ms,
               q.ts, q.duration_ms, q.sql, coalesce(q.fingerprint, q.sql) AS fingerprint,
               q.source, q.line, q.rows_sent, q.rows_examined,
               row_number() OVER (PARTITION BY c.request_source, c.request_line
                                  ORDER BY q.ts, q.source, q.line) AS seq,
               f.sid * {_SOURCE_SPAN} + c.request_line AS uid
        FROM correlations c
        JOIN (SELECT request_source, row_number() OVER (ORDER BY request_source) AS sid
              FROM (SELECT DISTINCT request_source FROM correlations)) f
          ON f.request_source = c.request_source
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
    is_new = _burst_rule(
        burst_gap_ms,
        is_first="q.pos = 1",
        begins="q.begins",
        ends="q.ends",
        prev_ends="q.prev_ends",
        prev_end="q.prev_end",
        has_transactions="q.has_transactions",
        whole_seconds="q.whole_seconds",
    )
    # Connections are numbered first: windows partitioned by one integer sort far faster than
    # by (file name, connection) text. The burst rule reads its neighbours from one window,
    # a second one counts the bursts; each query's place is counted from its burst's first.
    bursts = f"""
        WITH unbound AS (
            SELECT q.source, q.line, q.connection, q.ts, q.duration_ms,
                   {begins_sql("q.sql")} AS begins, {ends_sql("q.sql")} AS ends
            FROM queries q
            WHERE q.connection IS NOT NULL AND q.ts IS NOT NULL AND {uncorrelated_filter}
        ), connections AS (
            SELECT source, connection, row_number() OVER (ORDER BY source, connection) AS cid
            FROM (SELECT DISTINCT source, connection FROM unbound)
        ), sources AS (
            SELECT source, bool_and(ts = date_trunc('second', ts)) AS whole_seconds
            FROM unbound GROUP BY source
        ), neighbours AS (
            SELECT q.source, q.line, c.cid, q.ts, q.begins, q.ends, s.whole_seconds,
                   row_number() OVER w AS pos,
                   lag(q.ends) OVER w AS prev_ends,
                   lag(q.ts + {_DURATION}) OVER w AS prev_end,
                   bool_or(q.begins) OVER (PARTITION BY c.cid) AS has_transactions
            FROM unbound q
            JOIN connections c ON c.source = q.source AND c.connection = q.connection
            JOIN sources s ON s.source = q.source
            WINDOW w AS (PARTITION BY c.cid ORDER BY q.ts, q.line)
        ), marked AS (
            SELECT source, line, cid, pos, sum(is_new) OVER (PARTITION BY cid ORDER BY pos) AS burst
            FROM (SELECT q.source, q.line, q.cid, q.pos, {is_new} AS is_new FROM neighbours q)
        ), b AS (
            -- A query's place in its burst, from the burst's first one (a running max costs
            -- more than this join).
            SELECT m.source, m.line, m.burst, m.pos + 1 - f.pos AS seq,
                   -(m.cid * {_BURST_SPAN} + m.burst) AS uid
            FROM marked m
            JOIN (SELECT cid, burst, min(pos) AS pos FROM marked GROUP BY cid, burst) f
              ON f.cid = m.cid AND f.burst = m.burst
        )
        SELECT 'connection ' || q.source || ':' || q.connection || '#' || b.burst AS unit,
               NULL::VARCHAR AS route, NULL::VARCHAR AS request_source,
               NULL::BIGINT AS request_line, NULL::VARCHAR AS request_id,
               NULL::DOUBLE AS request_ms, q.ts, q.duration_ms, q.sql,
               coalesce(q.fingerprint, q.sql) AS fingerprint, q.source, q.line,
               q.rows_sent, q.rows_examined, b.seq, b.uid
        FROM b JOIN queries q ON q.source = b.source AND q.line = b.line
    """
    # Queries not tied to a request still form units: their transactions or bursts.
    body = f"{correlated} UNION ALL SELECT * FROM ({bursts})" if correlated else bursts
    db.execute(
        f"""
        CREATE OR REPLACE TABLE unit_queries AS
        SELECT u.*, s.fid FROM ({body}) u LEFT JOIN unit_shapes s ON s.fingerprint = u.fingerprint
        """
    )
    db.execute("DROP TABLE unit_shapes")
