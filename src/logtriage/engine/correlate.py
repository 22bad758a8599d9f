"""Tie each query (and app event) to the request that caused it, in bulk, saying how.

Exact keys first — a request id or W3C trace id carried by both sides — then time: queries
that ran on one database connection in a burst are one unit of work, and a burst (or a lone
query) that fits inside exactly one request's window is that request's. When several
concurrent requests could hold it, the query stays unmatched and is counted as *ambiguous*
instead of guessed. The result is the table ``correlations``.
"""

from __future__ import annotations

from dataclasses import dataclass

from logtriage.engine.database import Database
from logtriage.engine.units import BURST_WINDOWS, burst_start_sql

CORRELATIONS_SQL = """
CREATE OR REPLACE TABLE correlations (
    kind VARCHAR,            -- 'query' or 'app_event'
    source VARCHAR,          -- the query's / event's file and line
    line BIGINT,
    request_source VARCHAR,  -- the request's file and line
    request_line BIGINT,
    how VARCHAR,             -- request_id | trace_id | connection-neighbour |
                             -- connection-burst | time-window
    confidence DOUBLE
)
"""


# Per request with tied queries: how many, and their database time (empty when none are tied,
# so every reader can LEFT JOIN it without asking whether correlation ran).
REQUEST_DB_WORK_SQL = """
CREATE OR REPLACE TABLE request_db_work (
    source VARCHAR, line BIGINT, queries BIGINT, db_ms DOUBLE
)
"""


@dataclass(frozen=True)
class CorrelationOptions:
    """Tolerances of the time-based matching."""

    # Web and database clocks (and their rounding to the millisecond) disagree a little.
    clock_skew_ms: float = 2.0
    # Queries on one connection closer than this belong to the same burst of work.
    burst_gap_ms: float = 50.0
    # Rounds of "this request already uses another connection" elimination.
    claim_rounds: int = 6
    # A window wins over the next candidate when its slack is less than half of the other's,
    # with this margin for timestamp noise.
    clear_fit_margin_ms: float = 2.0
    # A burst that starts while more requests than this are open is not matched by time: the
    # claims could not single one out, and listing every candidate grows with the crowd.
    max_open_windows: int = 64


@dataclass(frozen=True)
class CorrelationStats:
    """How many queries were tied to requests, and why the rest were not."""

    queries: int
    correlated: int
    by_how: dict[str, int]
    ambiguous: int
    outside_any_request: int
    # Database logs whose timestamps are whole seconds: time cannot tie their queries.
    coarse_query_sources: tuple[str, ...] = ()


def _windows(db: Database, options: CorrelationOptions) -> None:
    """Request windows widened by skew and by the timestamp resolution of their log.

    With the minutes they open and close in: the sweeps of ``_count_open_windows`` (bursts,
    then lone queries) cut them by minute, and read them from here rather than each building
    a copy of every window.
    """
    # A log that writes whole seconds (nginx $time_local, Apache %t) knows a request's end
    # only to the second: its window must be a second wider.
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE tmp_windows AS
        WITH ends AS (
            SELECT source,
                   ts + to_microseconds((coalesce(duration_ms, 0) * 1000)::BIGINT) AS end_ts
            FROM requests WHERE ts IS NOT NULL
        ), resolution AS (
            SELECT source,
                   CASE WHEN bool_and(end_ts = date_trunc('second', end_ts))
                        THEN 1000.0 ELSE 0.0 END AS coarse_ms
            FROM ends GROUP BY source
        )
        SELECT *, CAST(floor(epoch(w_start) / 60) AS BIGINT) AS first_minute,
               CAST(floor(epoch(w_end) / 60) AS BIGINT) AS last_minute
        FROM (
            SELECT r.source AS request_source, r.line AS request_line,
                   r.ts - to_microseconds(({options.clock_skew_ms} * 1000)::BIGINT) AS w_start,
                   r.ts + to_microseconds(((coalesce(r.duration_ms, 0) + {options.clock_skew_ms}
                                            + s.coarse_ms) * 1000)::BIGINT) AS w_end
            FROM requests r JOIN resolution s USING (source)
            WHERE r.ts IS NOT NULL
        )
        """
    )
    # The same for database logs: MariaDB's slow log writes whole seconds. A query logged at
    # second T ran somewhere in [T, T + 1 s): its interval, not its instant, must meet a window.
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE tmp_query_times AS
        WITH resolution AS (
            SELECT source, CASE WHEN bool_and(ts = date_trunc('second', ts))
                                THEN 1000.0 ELSE 0.0 END AS coarse_ms
            FROM queries WHERE ts IS NOT NULL GROUP BY source
        )
        SELECT q.source, q.line, q.ts AS q_lo,
               q.ts + to_microseconds((s.coarse_ms * 1000)::BIGINT) AS q_hi, s.coarse_ms
        FROM queries q JOIN resolution s USING (source)
        WHERE q.ts IS NOT NULL
        """
    )


def correlate(db: Database, options: CorrelationOptions | None = None) -> CorrelationStats:
    """Fill ``correlations`` for every query and app event that can be tied to a request."""
    opts = options or CorrelationOptions()
    db.execute(CORRELATIONS_SQL)
    db.execute(REQUEST_DB_WORK_SQL)
    n_queries = db.count("queries")
    if not db.count("requests"):
        return CorrelationStats(n_queries, 0, {}, 0, 0)
    # App events are tied by their ids even when there is no database log.
    if db.count("app_events"):
        for key in ("request_id", "trace_id"):
            _match_by_key(db, "app_event", "app_events", key)
    if not n_queries:
        return CorrelationStats(0, 0, {}, 0, 0)
    for key in ("request_id", "trace_id"):
        _match_by_key(db, "query", "queries", key)
    _windows(db, opts)
    if db.scalar("SELECT count(*) FROM correlations WHERE kind = 'query'"):
        _match_connection_neighbours(db)
    _match_bursts(db, opts)
    _match_single_queries(db)
    db.execute(
        """
        INSERT INTO request_db_work
        SELECT c.request_source, c.request_line, count(*), sum(q.duration_ms)
        FROM correlations c JOIN queries q ON q.source = c.source AND q.line = c.line
        WHERE c.kind = 'query'
        GROUP BY c.request_source, c.request_line
        """
    )
    return _stats(db, n_queries)


def _match_by_key(db: Database, kind: str, table: str, key: str) -> None:
    # A reused id (a client replaying X-Request-ID) is resolved by the nearest request in time.
    db.execute(
        f"""
        INSERT INTO correlations
        SELECT '{kind}', x.source, x.line, r.source, r.line, '{key}', 1.0
        FROM {table} x JOIN requests r ON x.{key} = r.{key}
        WHERE x.{key} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM correlations c
                          WHERE c.kind = '{kind}' AND c.source = x.source AND c.line = x.line)
        QUALIFY row_number() OVER (
            PARTITION BY x.source, x.line
            ORDER BY abs(epoch(x.ts) - epoch(r.ts)) NULLS LAST, r.source, r.line) = 1
        """
    )


def _match_connection_neighbours(db: Database) -> None:
    """Untagged statements between tagged ones on one connection belong to the same request.

    ORMs tag their own statements but not the driver's BEGIN/COMMIT/ROLLBACK, and a
    connection serves one request at a time: a statement whose nearest tied neighbours on its
    connection belong to one request, inside that request's window, is that request's.
    """
    db.execute(
        """
        INSERT INTO correlations
        WITH ordered AS (
            SELECT q.source, q.line, q.connection, q.ts, t.q_lo, t.q_hi,
                   c.request_source, c.request_line,
                   CASE WHEN regexp_matches(q.sql, '^\\s*(commit|rollback|end)\\b', 'i')
                        THEN 'ends'
                        WHEN regexp_matches(q.sql, '^\\s*(begin|start\\s+transaction)\\b', 'i')
                        THEN 'starts' END AS boundary
            FROM queries q JOIN tmp_query_times t USING (source, line)
            LEFT JOIN correlations c
              ON c.kind = 'query' AND c.source = q.source AND c.line = q.line
            WHERE q.connection IS NOT NULL
        ), neighbours AS (
            -- Source and line of one tied neighbour: both are set on every tied row, so the
            -- last (first) non-NULL of each comes from the same row.
            SELECT *,
                last_value(request_source IGNORE NULLS) OVER earlier AS before_source,
                last_value(request_line IGNORE NULLS) OVER earlier AS before_line,
                first_value(request_source IGNORE NULLS) OVER later AS after_source,
                first_value(request_line IGNORE NULLS) OVER later AS after_line
            FROM ordered
            WINDOW earlier AS (PARTITION BY source, connection ORDER BY ts, line
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   later AS (PARTITION BY source, connection ORDER BY ts, line
                             ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
        ), fitting AS (
            -- Two equality joins (an IN over two keys made DuckDB compare every pair).
            SELECT n.source, n.line, n.boundary, w.request_source, w.request_line,
                   w.request_source = n.before_source AND w.request_line = n.before_line
                       AS is_before,
                   w.request_source = n.after_source AND w.request_line = n.after_line
                       AS is_after
            FROM neighbours n JOIN tmp_windows w
              ON w.request_source = n.before_source AND w.request_line = n.before_line
             AND n.q_hi >= w.w_start AND n.q_lo <= w.w_end
            WHERE n.request_line IS NULL
            UNION
            SELECT n.source, n.line, n.boundary, w.request_source, w.request_line,
                   w.request_source = n.before_source AND w.request_line = n.before_line,
                   w.request_source = n.after_source AND w.request_line = n.after_line
            FROM neighbours n JOIN tmp_windows w
              ON w.request_source = n.after_source AND w.request_line = n.after_line
             AND n.q_hi >= w.w_start AND n.q_lo <= w.w_end
            WHERE n.request_line IS NULL
        ), candidates AS (
            SELECT source, line, request_source, request_line,
                   count(*) OVER (PARTITION BY source, line) AS k,
                   -- When both neighbours fit (whole-second logs), a COMMIT/ROLLBACK ends the
                   -- request before it and a BEGIN starts the one after.
                   (boundary = 'ends' AND is_before) OR (boundary = 'starts' AND is_after)
                       AS is_preferred
            FROM fitting
        )
        SELECT DISTINCT 'query', source, line, request_source, request_line,
               'connection-neighbour', 0.9
        FROM candidates WHERE k = 1 OR is_preferred
        """
    )


def _match_bursts(db: Database, options: CorrelationOptions) -> None:
    """Bursts of queries on one connection, each tied to the one request it can belong to.

    A burst (one transaction, or statements without a pause) fits in the windows of several
    concurrent requests; but a request runs on one connection, so once a request is known to
    own connection A, bursts on connection B cannot be its. Claims are repeated until nothing
    changes (a few rounds), and what stays ambiguous is left unmatched.
    """
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE tmp_bursts AS
        WITH marked AS (
            SELECT q.source, q.line, q.connection, q.ts, q.sql,
                   q.ts + to_microseconds((coalesce(q.duration_ms, 0) * 1000)::BIGINT) AS q_end,
                   {burst_start_sql(options.burst_gap_ms)} AS is_new
            FROM queries q
            WHERE q.connection IS NOT NULL AND q.ts IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM correlations c
                              WHERE c.kind = 'query' AND c.source = q.source AND c.line = q.line)
              -- Whole-second timestamps cannot place a burst inside a millisecond window.
              AND q.source NOT IN (SELECT source FROM tmp_query_times WHERE coarse_ms > 0)
            WINDOW {BURST_WINDOWS}
        )
        SELECT *, sum(is_new) OVER (PARTITION BY source, connection ORDER BY ts, line) AS burst
        FROM marked
        """
    )
    # Only windows open at a burst's start can hold it: bursts in a bounded crowd of them are
    # listed against the windows (in statements of their own: inside one statement with the
    # sweep, DuckDB planned the inequality join as a nested loop).
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE tmp_spans AS
        SELECT source, connection, burst, min(ts) AS b_start, max(q_end) AS b_end
        FROM tmp_bursts GROUP BY ALL
        """
    )
    _count_open_windows(
        db,
        "tmp_crowd",
        "SELECT source, connection, burst, b_start AS t FROM tmp_spans",
        ("source", "connection", "burst"),
    )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE tmp_spans AS
        SELECT s.* FROM tmp_spans s JOIN tmp_crowd c USING (source, connection, burst)
        WHERE c.k BETWEEN 1 AND {options.max_open_windows}
        """
    )
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE tmp_fits AS
        SELECT s.source, s.connection, s.burst, w.request_source, w.request_line,
               -- How tightly the burst sits in the window: a request's database work starts
               -- soon after it starts and ends soon before it ends.
               (epoch(s.b_start - w.w_start) + epoch(w.w_end - s.b_end)) * 1000 AS slack_ms
        FROM tmp_spans s JOIN tmp_windows w ON s.b_start >= w.w_start AND s.b_end <= w.w_end
        """
    )
    # Which connection each request already uses (from ids and neighbours).
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE tmp_owners AS
        SELECT DISTINCT c.request_source, c.request_line, q.source, q.connection
        FROM correlations c JOIN queries q ON c.kind = 'query' AND q.source = c.source
                                           AND q.line = c.line
        WHERE q.connection IS NOT NULL
        """
    )
    db.execute(
        "CREATE OR REPLACE TEMP TABLE tmp_claims AS "
        "SELECT source, connection, burst, request_source, request_line FROM tmp_fits LIMIT 0"
    )
    for _ in range(options.claim_rounds):
        before = db.count("tmp_claims")
        db.execute(
            """
            INSERT INTO tmp_claims
            WITH open AS (
                SELECT f.* FROM tmp_fits f
                WHERE NOT EXISTS (SELECT 1 FROM tmp_claims c WHERE c.source = f.source
                                  AND c.connection = f.connection AND c.burst = f.burst)
                  AND NOT EXISTS (SELECT 1 FROM tmp_owners o
                                  WHERE o.request_source = f.request_source
                                    AND o.request_line = f.request_line
                                    AND o.source = f.source AND o.connection <> f.connection)
            )
            SELECT source, connection, burst, request_source, request_line
            FROM (
                SELECT *, row_number() OVER b AS rank, lead(slack_ms) OVER b AS runner_up_ms
                FROM open WINDOW b AS (PARTITION BY source, connection, burst
                                       ORDER BY slack_ms, request_source, request_line)
            )
            -- The only window, or one that fits clearly tighter than the next best.
            WHERE rank = 1
              AND (runner_up_ms IS NULL OR runner_up_ms > 2 * slack_ms + ?)
            """,
            [options.clear_fit_margin_ms],
        )
        if db.count("tmp_claims") == before:
            break
        db.execute(
            """
            INSERT INTO tmp_owners
            SELECT DISTINCT request_source, request_line, source, connection FROM tmp_claims
            EXCEPT SELECT * FROM tmp_owners
            """
        )
    db.execute(
        """
        INSERT INTO correlations
        SELECT 'query', b.source, b.line, c.request_source, c.request_line,
               'connection-burst', 0.8
        FROM tmp_claims c JOIN tmp_bursts b USING (source, connection, burst)
        """
    )


# Events (window opens and closes, points) swept in one statement: the window operator keeps a
# minute's rows in memory, and 62 M rows at once (23 M requests, 16 M queries) exhausted 768 MB.
SWEEP_CHUNK_ROWS = 3_000_000


def _count_open_windows(db: Database, target: str, points: str, keys: tuple[str, ...]) -> None:
    """Table ``target``: how many request windows hold each point, and which when only one does.

    ``points`` selects ``keys`` and an instant ``t``; ``target`` gets ``keys``, ``k`` and
    ``request_source``/``request_line`` (NULL unless k = 1).

    Listing every (point, window) pair grows with points × concurrent requests (23 M requests
    and 10 M queries filled 61 GB of spill). A sweep only counts: windows and points sorted by
    time, a point's k is the windows opened minus those closed before it, and when k = 1 the
    one window still open is the one that closes last: the only window that closes then and
    opened by the point (two open ones would make k = 2). Windows (tmp_windows, with the first
    and last minute ``_windows`` gives them) are cut into minutes so every minute is swept on
    its own; a window is listed in each minute it touches, so a minute's sweep sees every
    window open in it. Runs of whole minutes with about SWEEP_CHUNK_ROWS events each are swept
    one statement at a time, so memory stays bounded at any size.
    """
    key_list = ", ".join(keys)
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE tmp_points AS "
        f"SELECT {key_list}, t, CAST(floor(epoch(t) / 60) AS BIGINT) AS minute "
        f"FROM ({points}) AS p"
    )
    # Events per minute (a window counts where it opens), to cut runs of similar size.
    per_minute = db.rows(
        """
        SELECT minute, sum(n) AS n FROM (
            SELECT first_minute AS minute, 2 * count(*) AS n FROM tmp_windows GROUP BY ALL
            UNION ALL
            SELECT minute, count(*) FROM tmp_points GROUP BY ALL
        ) GROUP BY minute ORDER BY minute
        """
    )
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT {key_list}, CAST(0 AS BIGINT) AS k, "
        f"CAST(NULL AS VARCHAR) AS request_source, CAST(NULL AS BIGINT) AS request_line "
        f"FROM tmp_points LIMIT 0"
    )
    start: int | None = None
    size = 0
    for position, row in enumerate(per_minute):
        start = row["minute"] if start is None else start
        size += int(row["n"])
        last = position == len(per_minute) - 1
        if size >= SWEEP_CHUNK_ROWS or last:
            db.execute(f"INSERT INTO {target} {_sweep_sql(keys, start, int(row['minute']) + 1)}")
            start, size = None, 0
    db.execute("DROP TABLE tmp_points")


def _sweep_sql(keys: tuple[str, ...], first: int, end: int) -> str:
    """SQL: the sweep of minutes [first, end) over tmp_windows and tmp_points."""
    key_list = ", ".join(keys)
    nulls = ", ".join(f"NULL AS {key}" for key in keys)
    return f"""
        WITH window_minutes AS (
            SELECT w_start, w_end,
                   unnest(range(greatest(first_minute, {first}),
                                least(last_minute, {end - 1}) + 1)) AS minute
            FROM tmp_windows
            WHERE last_minute >= {first} AND first_minute < {end}
        ), sweep_events AS (
            -- At one instant a window that opens counts and one that closes does not (windows
            -- are closed intervals): opens sort before points, points before closes.
            SELECT minute, w_start AS t, 0 AS rank, 1 AS open_change, w_end, {nulls}
            FROM window_minutes
            UNION ALL
            SELECT minute, w_end, 2, -1, NULL, {nulls} FROM window_minutes
            UNION ALL
            SELECT minute, t, 1, 0, NULL, {key_list}
            FROM tmp_points WHERE minute >= {first} AND minute < {end}
        ), sweep_counts AS (
            SELECT {key_list}, t, sum(open_change) OVER m AS k, max(w_end) OVER m AS last_end
            FROM sweep_events
            WINDOW m AS (PARTITION BY minute ORDER BY t, rank ROWS UNBOUNDED PRECEDING)
            QUALIFY rank = 1
        )
        SELECT {", ".join(f"c.{key}" for key in keys)}, c.k, w.request_source, w.request_line
        FROM sweep_counts c
        LEFT JOIN (SELECT * FROM tmp_windows
                   WHERE last_minute >= {first} AND first_minute < {end}) AS w
          ON c.k = 1 AND w.w_end = c.last_end AND w.w_start <= c.t
    """


def _match_single_queries(db: Database) -> None:
    """A query whose start lies in exactly one request window."""
    # Whole-second queries cannot be placed in a millisecond window: k = 0 (outside).
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE tmp_open_queries AS
        SELECT q.source, q.line, q.q_lo, q.coarse_ms FROM tmp_query_times q
        WHERE NOT EXISTS (SELECT 1 FROM correlations c WHERE c.kind = 'query'
                          AND c.source = q.source AND c.line = q.line)
        """
    )
    _count_open_windows(
        db,
        "tmp_candidates",
        "SELECT source, line, q_lo AS t FROM tmp_open_queries WHERE coarse_ms = 0",
        ("source", "line"),
    )
    db.execute(
        "INSERT INTO tmp_candidates SELECT source, line, 0, NULL, NULL FROM tmp_open_queries "
        "WHERE coarse_ms > 0"
    )
    db.execute(
        """
        INSERT INTO correlations
        SELECT 'query', source, line, request_source, request_line, 'time-window', 0.6
        FROM tmp_candidates WHERE k = 1
        """
    )


def _stats(db: Database, n_queries: int) -> CorrelationStats:
    by_how = {
        r["how"]: r["n"]
        for r in db.rows(
            "SELECT how, count(*) AS n FROM correlations WHERE kind = 'query' GROUP BY how "
            "ORDER BY how"
        )
    }
    rest = db.rows(
        "SELECT count(DISTINCT (source, line)) FILTER (WHERE k > 1) AS ambiguous, "
        "count(DISTINCT (source, line)) FILTER (WHERE k = 0) AS outside FROM tmp_candidates"
    )[0]
    coarse = db.rows(
        "SELECT DISTINCT source FROM tmp_query_times WHERE coarse_ms > 0 ORDER BY source"
    )
    return CorrelationStats(
        queries=n_queries,
        correlated=sum(by_how.values()),
        by_how=by_how,
        ambiguous=int(rest["ambiguous"] or 0),
        outside_any_request=int(rest["outside"] or 0),
        coarse_query_sources=tuple(r["source"] for r in coarse),
    )
