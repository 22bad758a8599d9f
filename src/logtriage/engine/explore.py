"""Drill-down queries over a saved history (``analyze --state``): read-only, parameterized SQL.

The dashboard (``logtriage serve``) asks these questions of ``history.duckdb``: routes under
filters, a route's slowest requests, a request's queries in time order, the query profile and
the traffic over time. Every value a filter carries is a bound parameter, never SQL text; every
string that leaves this module has passed the secret redactor (the history keeps raw log text).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from logtriage.engine.charts import bucket_seconds
from logtriage.engine.pipeline import redact_report
from logtriage.errors import LogtriageError
from logtriage.model.i18n import _
from logtriage.model.percentiles import percentiles_sql
from logtriage.model.redaction import redact_text, redact_value
from logtriage.model.report import Report
from logtriage.model.saved_report import report_from_json

HISTORY_FILE = "history.duckdb"
REPORT_FILE = "report.json"
# One configuration for every connection: DuckDB shares a file between the connections of one
# process only when they agree. No file, network or extension may be reached from a query.
_CONNECT_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "memory_limit": "512MB",
    "threads": 2,
}
_ISO = "%Y-%m-%dT%H:%M:%SZ"
# Over a route's row ``a`` and its percentiles ``p`` (see Explorer.routes).
ROUTE_SORTS = {
    "total": "coalesce(a.total_ms, 0) DESC",
    "count": "a.count DESC",
    "p95": "p.q[2] DESC NULLS LAST",
    "errors": "a.errors_5xx DESC",
}
# A route's row: its percentiles come from a histogram that spills (model/percentiles.py),
# joined as ``p``; a quantile state holds every duration of the route.
_ROUTE_ROW = """
    SELECT left(md5(coalesce(r.route, '')), 12) AS route_id, r.route, count(*) AS count,
           max(r.duration_ms) AS max_ms, sum(r.duration_ms) AS total_ms,
           count(*) FILTER (WHERE r.status >= 500) AS errors_5xx,
           count(*) FILTER (WHERE r.status >= 400 AND r.status < 500) AS errors_4xx,
           sum(coalesce(w.queries, 0)) AS queries, count(w.queries) AS with_queries,
           min(r.ts) AS first_ts, max(r.ts) AS last_ts
    FROM requests r {work_join}
    WHERE {where}
    GROUP BY r.route
"""
_ROUTE_CUTS = (0.5, 0.95, 0.99)


def _route_spread(where: str) -> str:
    """The percentiles of each route's durations under ``where`` (a condition on ``r``)."""
    return percentiles_sql(
        f"(SELECT r.route, r.duration_ms FROM requests r WHERE {where}) f",
        "duration_ms",
        _ROUTE_CUTS,
        by=["route"],
    )


def route_id(route: str | None) -> str:
    """The short stable id of a route in URLs (the same digest ``md5`` gives in SQL)."""
    return hashlib.md5((route or "").encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Filters:
    """What the dashboard narrows requests to: a time range, a route, statuses, a client."""

    since: datetime | None = None  # naive UTC, inclusive
    until: datetime | None = None  # naive UTC, exclusive
    route: str = ""  # part of the route name, any case
    statuses: tuple[tuple[int, int], ...] = ()  # inclusive ranges: 5xx = (500, 599)
    client: str = ""  # the client address, or its beginning (``10.0.0.``)

    @property
    def narrows_requests(self) -> bool:
        """True when a filter other than time applies (the queries then follow their requests)."""
        return bool(self.route or self.statuses or self.client)

    def request_where(self, *, with_route: bool = True) -> tuple[str, list[Any]]:
        """A WHERE condition on ``requests r`` and its bound parameters."""
        parts, params = self._time("r")
        if with_route and self.route:
            parts.append("contains(lower(r.route), lower(?))")
            params.append(self.route)
        if self.statuses:
            parts.append("(" + " OR ".join("r.status BETWEEN ? AND ?" for _ in self.statuses) + ")")
            params.extend(value for pair in self.statuses for value in pair)
        if self.client:
            parts.append("starts_with(r.client, ?)")
            params.append(self.client)
        return " AND ".join(parts) or "true", params

    def _time(self, alias: str) -> tuple[list[str], list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            parts.append(f"{alias}.ts >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append(f"{alias}.ts < ?")
            params.append(self.until)
        return parts, params

    def without_route(self) -> Filters:
        """The same filters for a page that already names its route."""
        return Filters(self.since, self.until, "", self.statuses, self.client)


@dataclass(frozen=True)
class RequestRecord:
    """One request of the history: its key (file and line) and its fields, redacted for display."""

    source: str
    line: int
    ts: datetime | None
    request_id: str | None
    trace_id: str | None
    fields: dict[str, Any]


class HistoryUnavailableError(LogtriageError):
    """The history file cannot be opened now (another run is writing it, or it is not ours)."""


class History:
    """A read-only connection to one ``history.duckdb``; open it for one page, then close."""

    def __init__(self, path: str) -> None:
        try:
            self.con = duckdb.connect(path, read_only=True, config=dict(_CONNECT_CONFIG))
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise HistoryUnavailableError(
                _("cannot open the history {path}: {problem}").format(path=path, problem=first)
            ) from exc
        self.con.execute("SET TimeZone = 'UTC'")
        self.tables = {
            str(row[0])
            for row in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file, so the next ``analyze --state`` run can write it."""
        self.con.close()

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def has(self, table: str) -> bool:
        """True when the history holds ``table``."""
        return table in self.tables

    def _work_join(self) -> str:
        """A join that gives each request ``w.queries`` and ``w.db_ms`` (null without them)."""
        if self.has("request_db_work"):
            return "LEFT JOIN request_db_work w ON w.source = r.source AND w.line = r.line"
        return (
            "LEFT JOIN (SELECT NULL::VARCHAR AS source, NULL::BIGINT AS line, "
            "NULL::BIGINT AS queries, NULL::DOUBLE AS db_ms WHERE false) w "
            "ON w.source = r.source AND w.line = r.line"
        )

    # Routes -----------------------------------------------------------------------------

    def routes(
        self, filters: Filters, sort: str = "total", limit: int = 200
    ) -> list[dict[str, Any]]:
        """Per route under ``filters``: requests, percentiles, errors, queries per request."""
        if not self.has("requests"):
            return []
        where, params = filters.request_where()
        row_sql = _ROUTE_ROW.format(work_join=self._work_join(), where=where)
        rows = self._rows(
            f"""
            SELECT a.*, p.q FROM ({row_sql}) a
            LEFT JOIN ({_route_spread(where)}) p ON a.route IS NOT DISTINCT FROM p.route
            ORDER BY {ROUTE_SORTS.get(sort, ROUTE_SORTS["total"])}, a.route
            LIMIT ?
            """,
            [*params, *params, limit],
        )
        return [_shown(_route_row(row)) for row in rows]

    def route_name(self, rid: str) -> str | None:
        """The route whose id is ``rid`` (None when no request has it)."""
        if not self.has("requests"):
            return None
        rows = self._rows(
            "SELECT route FROM (SELECT DISTINCT route FROM requests) "
            "WHERE left(md5(coalesce(route, '')), 12) = ? LIMIT 1",
            [rid],
        )
        return rows[0]["route"] if rows else None

    def route_summary(self, route: str, filters: Filters) -> dict[str, Any] | None:
        """The route's row of the routes table, under ``filters``."""
        where, params = filters.request_where(with_route=False)
        where = f"r.route IS NOT DISTINCT FROM ? AND {where}"
        row_sql = _ROUTE_ROW.format(work_join=self._work_join(), where=where)
        rows = self._rows(
            f"SELECT a.*, p.q FROM ({row_sql}) a LEFT JOIN ({_route_spread(where)}) p ON true",
            [route, *params, route, *params],
        )
        return _shown(_route_row(rows[0])) if rows else None

    def slowest_requests(
        self, route: str, filters: Filters, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The route's slowest requests under ``filters``, with the database work of each."""
        where, params = filters.request_where(with_route=False)
        rows = self._rows(
            f"""
            SELECT left(md5(r.source), 8) || '-' || r.line AS request_id_url,
                   r.ts, r.duration_ms, r.method, r.path, r.query, r.status, r.client,
                   r.request_id, w.queries, w.db_ms
            FROM requests r {self._work_join()}
            WHERE r.route IS NOT DISTINCT FROM ? AND {where}
            ORDER BY r.duration_ms DESC NULLS LAST, r.ts, r.source, r.line
            LIMIT ?
            """,
            [route, *params, limit],
        )
        return [_shown(_times(row)) for row in rows]

    # Requests ---------------------------------------------------------------------------

    def _request_key(self, request_url_id: str) -> tuple[str, int] | None:
        digest, _sep, line = request_url_id.partition("-")
        if len(digest) != 8 or not line.isdigit() or not self.has("requests"):
            return None
        rows = self._rows(
            "SELECT source FROM (SELECT DISTINCT source FROM requests) "
            "WHERE left(md5(source), 8) = ?",
            [digest],
        )
        return (rows[0]["source"], int(line)) if rows else None

    def request(self, request_url_id: str) -> RequestRecord | None:
        """One request by its URL id (``<source digest>-<line>``): every canonical field."""
        key = self._request_key(request_url_id)
        if key is None:
            return None
        rows = self._rows(
            f"""
            SELECT r.*, left(md5(coalesce(r.route, '')), 12) AS route_id, w.queries, w.db_ms
            FROM requests r {self._work_join()}
            WHERE r.source = ? AND r.line = ?
            """,
            list(key),
        )
        if not rows:
            return None
        row = rows[0]
        return RequestRecord(
            source=key[0],
            line=key[1],
            ts=row["ts"],
            request_id=row["request_id"],
            trace_id=row["trace_id"],
            fields=_shown(_times(row)),
        )

    def _tied_queries(self, request: RequestRecord) -> tuple[str, list[Any]] | None:
        """FROM/WHERE of the request's queries (``q``, with ``how``); None when none can be."""
        if not self.has("queries"):
            return None
        if self.has("correlations"):
            return (
                "FROM correlations c JOIN queries q ON q.source = c.source AND q.line = c.line "
                "WHERE c.kind = 'query' AND c.request_source = ? AND c.request_line = ?",
                [request.source, request.line],
            )
        if request.request_id or request.trace_id:
            # No correlation table: the exact keys alone still tie queries to the request.
            key = "request_id" if request.request_id else "trace_id"
            return f"FROM queries q WHERE q.{key} = ?", [request.request_id or request.trace_id]
        return None

    def request_queries(self, request: RequestRecord, limit: int = 1000) -> list[dict[str, Any]]:
        """The request's first ``limit`` queries in time order, each with its shape's count.

        ``repeats`` is how many times the request ran that query shape (over all its queries):
        an N+1 shows as one fingerprint repeated many times with different parameters.
        """
        tied = self._tied_queries(request)
        if tied is None:
            return []
        source, params = tied
        how = "c.how" if self.has("correlations") else "'exact key'"
        rows = self._rows(
            f"""
            SELECT q.ts, q.duration_ms, q.fingerprint_id, q.fingerprint, q.sql, q.rows_sent,
                   q.rows_examined, q.connection, q.db, {how} AS how,
                   count(*) OVER (PARTITION BY q.fingerprint_id) AS repeats
            {source}
            ORDER BY q.ts NULLS LAST, q.source, q.line
            LIMIT ?
            """,
            [*params, limit],
        )
        start = request.ts
        out = []
        for n, row in enumerate(rows, start=1):
            at = row["ts"]
            row["n"] = n
            row["offset_ms"] = (
                round((at - start).total_seconds() * 1000, 3) if at and start else None
            )
            out.append(_shown(_times(row)))
        return out

    def request_shapes(self, request: RequestRecord) -> list[dict[str, Any]]:
        """Per query shape of the request: how often it ran and its time, most repeated first."""
        tied = self._tied_queries(request)
        if tied is None:
            return []
        source, params = tied
        rows = self._rows(
            f"""
            SELECT q.fingerprint_id, min(q.fingerprint) AS fingerprint, count(*) AS count,
                   sum(q.duration_ms) AS total_ms
            {source}
            GROUP BY q.fingerprint_id
            ORDER BY count(*) DESC, sum(q.duration_ms) DESC NULLS LAST, q.fingerprint_id
            """,
            params,
        )
        return [_times(row) for row in rows]

    def request_events(self, request: RequestRecord) -> list[dict[str, Any]]:
        """App events tied to the request (log lines, exceptions), in time order."""
        if not (self.has("correlations") and self.has("app_events")):
            return []
        rows = self._rows(
            """
            SELECT e.ts, e.level, e.message, e.error_type, c.how FROM correlations c
            JOIN app_events e ON e.source = c.source AND e.line = c.line
            WHERE c.kind = 'app_event' AND c.request_source = ? AND c.request_line = ?
            ORDER BY e.ts NULLS LAST, e.line
            """,
            [request.source, request.line],
        )
        return [_shown(_times(row)) for row in rows]

    # Queries ----------------------------------------------------------------------------

    def _query_where(self, filters: Filters) -> tuple[str, list[Any]] | None:
        """A WHERE condition on ``queries q``; None when request filters cannot be followed."""
        parts, params = filters._time("q")
        if filters.narrows_requests:
            if not (self.has("correlations") and self.has("requests")):
                return None
            where, more = Filters(
                route=filters.route, statuses=filters.statuses, client=filters.client
            ).request_where()
            parts.append(
                "EXISTS (SELECT 1 FROM correlations c JOIN requests r "
                "ON r.source = c.request_source AND r.line = c.request_line "
                f"WHERE c.kind = 'query' AND c.source = q.source AND c.line = q.line AND {where})"
            )
            params.extend(more)
        return " AND ".join(parts) or "true", params

    def queries(self, filters: Filters, limit: int = 200) -> list[dict[str, Any]]:
        """The query profile under ``filters``: fingerprints ranked by total time."""
        condition = self._query_where(filters) if self.has("queries") else None
        if condition is None:
            return []
        where, params = condition
        # The p95 from a histogram that spills (model/percentiles.py): a quantile state holds
        # every duration of the shape.
        where = f"q.fingerprint_id IS NOT NULL AND {where}"
        spread = percentiles_sql(
            f"(SELECT q.fingerprint_id, q.duration_ms FROM queries q WHERE {where}) f",
            "duration_ms",
            [0.95],
            by=["fingerprint_id"],
        )
        rows = self._rows(
            f"""
            SELECT a.fingerprint_id, a.fingerprint, a.count, a.total_ms, p.q[1] AS p95_ms,
                   a.max_ms, a.rows_examined, a.rows_sent
            FROM (
                SELECT q.fingerprint_id, min(q.fingerprint) AS fingerprint, count(*) AS count,
                       sum(q.duration_ms) AS total_ms, max(q.duration_ms) AS max_ms,
                       sum(q.rows_examined) AS rows_examined, sum(q.rows_sent) AS rows_sent
                FROM queries q WHERE {where}
                GROUP BY q.fingerprint_id
                ORDER BY coalesce(sum(q.duration_ms), 0) DESC, count(*) DESC, q.fingerprint_id
                LIMIT ?
            ) a LEFT JOIN ({spread}) p USING (fingerprint_id)
            ORDER BY coalesce(a.total_ms, 0) DESC, a.count DESC, a.fingerprint_id
            """,
            [*params, limit, *params],
        )
        return [_shown(_times(row)) for row in rows]

    def query_calls(
        self, fingerprint_id: str, filters: Filters, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The slowest calls of one query shape, each with the request it belongs to."""
        condition = self._query_where(filters) if self.has("queries") else None
        if condition is None:
            return []
        where, params = condition
        if self.has("correlations") and self.has("requests"):
            request = """
                LEFT JOIN correlations c ON c.kind = 'query' AND c.source = q.source
                     AND c.line = q.line
                LEFT JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
            """
            columns = (
                "r.route, CASE WHEN r.line IS NOT NULL THEN "
                "left(md5(r.source), 8) || '-' || r.line END AS request_id_url"
            )
        else:
            request, columns = "", "NULL AS route, NULL AS request_id_url"
        rows = self._rows(
            f"""
            SELECT q.ts, q.duration_ms, q.sql, q.rows_sent, q.rows_examined, q.connection,
                   {columns}
            FROM queries q {request}
            WHERE q.fingerprint_id = ? AND {where}
            ORDER BY q.duration_ms DESC NULLS LAST, q.ts, q.source, q.line
            LIMIT ?
            """,
            [fingerprint_id, *params, limit],
        )
        return [_shown(_times(row)) for row in rows]

    def fingerprint(self, fingerprint_id: str) -> str | None:
        """The normalized text of one query shape (None when the history has no such shape)."""
        if not self.has("queries"):
            return None
        rows = self._rows(
            "SELECT min(fingerprint) AS f FROM queries WHERE fingerprint_id = ? "
            "HAVING count(*) > 0",
            [fingerprint_id],
        )
        return rows[0]["f"] if rows else None

    # Time series ------------------------------------------------------------------------

    def timeseries(self, filters: Filters, route: str | None = None) -> dict[str, Any]:
        """Requests, errors, latency percentiles and database work per time bucket.

        The same shape as the report's ``timeseries`` (engine/charts.py), so the report's
        charts draw it; ``route`` narrows to one route's requests and their queries.
        """
        if not self.has("requests"):
            return {}
        narrowed = filters.without_route() if route is not None else filters
        where, params = narrowed.request_where()
        if route is not None:
            where += " AND r.route IS NOT DISTINCT FROM ?"
            params = [*params, route]
        span = self._rows(
            f"SELECT min(r.ts) AS lo, max(r.ts) AS hi FROM requests r "
            f"WHERE r.ts IS NOT NULL AND {where}",
            params,
        )[0]
        if span["lo"] is None:
            return {}
        width = bucket_seconds((span["hi"] - span["lo"]).total_seconds())
        query_part = ""
        query_params: list[Any] = []
        has_queries = self.has("queries") and self.has("correlations")
        if has_queries:
            query_part = f"""
                , qy AS (
                    SELECT time_bucket(to_seconds(?), q.ts) AS bucket, count(*) AS queries,
                           sum(q.duration_ms) AS db_ms
                    FROM correlations c
                    JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
                    JOIN queries q ON q.source = c.source AND q.line = c.line
                    WHERE c.kind = 'query' AND q.ts IS NOT NULL AND {where}
                    GROUP BY ALL
                )
            """
            query_params = [width, *params]
        # Percentiles from a histogram that spills (model/percentiles.py).
        spread = percentiles_sql(
            f"(SELECT time_bucket(to_seconds({int(width)}), r.ts) AS bucket, r.duration_ms "
            f"FROM requests r WHERE r.ts IS NOT NULL AND {where}) f",
            "duration_ms",
            _ROUTE_CUTS,
            by=["bucket"],
        )
        rows = self._rows(
            f"""
            WITH rq AS (
                SELECT a.*, p.q FROM (
                    SELECT time_bucket(to_seconds(?), r.ts) AS bucket, count(*) AS requests,
                           count(*) FILTER (WHERE r.status >= 500) AS errors_5xx,
                           count(*) FILTER (WHERE r.status >= 400 AND r.status < 500)
                               AS errors_4xx
                    FROM requests r WHERE r.ts IS NOT NULL AND {where} GROUP BY ALL
                ) a LEFT JOIN ({spread}) p USING (bucket)
            ) {query_part}, axis AS (
                SELECT unnest(generate_series(time_bucket(to_seconds(?), ?::TIMESTAMP),
                    time_bucket(to_seconds(?), ?::TIMESTAMP), to_seconds(?))) AS bucket
            )
            SELECT axis.bucket, coalesce(rq.requests, 0) AS requests,
                   coalesce(rq.errors_5xx, 0) AS errors_5xx,
                   coalesce(rq.errors_4xx, 0) AS errors_4xx, rq.q
                   {", coalesce(qy.queries, 0) AS queries, qy.db_ms" if has_queries else ""}
            FROM axis LEFT JOIN rq USING (bucket)
            {"LEFT JOIN qy USING (bucket)" if has_queries else ""}
            ORDER BY axis.bucket
            """,
            [
                width,
                *params,
                *params,
                *query_params,
                width,
                span["lo"],
                width,
                span["hi"],
                width,
            ],
        )
        points = []
        for row in rows:
            q = row["q"] or [None, None, None]
            point: dict[str, Any] = {
                "ts": row["bucket"].strftime(_ISO),
                "requests": row["requests"],
                "errors_5xx": row["errors_5xx"],
                "errors_4xx": row["errors_4xx"],
                "error_rate": round(row["errors_5xx"] / row["requests"], 4)
                if row["requests"]
                else None,
                "p50_ms": _round(q[0]),
                "p95_ms": _round(q[1]),
                "p99_ms": _round(q[2]),
            }
            if has_queries:
                point.update({"queries": row["queries"], "db_ms": _round(row["db_ms"])})
            points.append(point)
        return {"bucket_seconds": width, "points": points}


# Values we made, not copied from a log: ids, times, how a query was tied; and fingerprints,
# which hold no literal (they are all ``?``) and stay as the findings name them.
_OWN_VALUES = frozenset(
    {
        "ts",
        "first_ts",
        "last_ts",
        "fingerprint",
        "fingerprint_id",
        "route_id",
        "request_id_url",
        "how",
    }
)


@lru_cache(maxsize=8192)
def _redacted(text: str) -> str:
    # Pages repeat the same values (a route, a connection, a statement): redact each once.
    return redact_text(text)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every string that came from a log passed through the secret redactor."""
    return {
        key: value
        if key in _OWN_VALUES
        else _redacted(value)
        if isinstance(value, str)
        else redact_value(value)
        for key, value in row.items()
    }


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _times(row: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as the report writes them (ISO 8601 UTC with ``Z``), durations rounded."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat(timespec="milliseconds") + "Z"
        else:
            out[key] = _round(value)
    return out


def _route_row(row: dict[str, Any]) -> dict[str, Any]:
    q = row.pop("q") or [None, None, None]
    count = row["count"]
    with_queries = row.pop("with_queries")
    queries = row.pop("queries")
    return _times(
        {
            **row,
            "p50_ms": q[0],
            "p95_ms": q[1],
            "p99_ms": q[2],
            "error_rate": round(row["errors_5xx"] / count, 4) if count else None,
            "queries_per_request": round(queries / count, 2) if with_queries else None,
        }
    )


@dataclass(frozen=True)
class SavedAnalysis:
    """What ``serve`` shows: the latest report and, for a state directory, its history file."""

    name: str
    report: Report
    history_path: str | None
    # The report file and its modification time when read: a newer one replaces this analysis.
    report_path: str | None = None
    report_mtime_ns: int = 0

    @property
    def has_history(self) -> bool:
        """True when drill-downs can query a history (a state directory, not a bare report)."""
        return self.history_path is not None

    def history(self) -> History:
        """A read-only connection to the history, for one page."""
        if self.history_path is None:
            raise HistoryUnavailableError(_("no history: serve a directory from analyze --state"))
        return History(self.history_path)


def saved_files(target: str) -> tuple[str, str | None]:
    """The report file and history file (if any) of a state directory or a report file."""
    path = Path(target)
    if path.is_dir():
        report = path / REPORT_FILE
        if not report.is_file():
            raise LogtriageError(
                _("{target} holds no {file}: run analyze --state {target} first").format(
                    target=target, file=REPORT_FILE
                )
            )
        history = path / HISTORY_FILE
        return str(report), str(history) if history.is_file() else None
    if not path.exists():
        raise LogtriageError(_("no such state directory or report: {target}").format(target=target))
    return str(path), None


def open_saved(
    name: str,
    report_data: dict[str, Any],
    history_path: str | None,
    report_path: str | None = None,
) -> SavedAnalysis:
    """Check the history opens read-only and holds requests; read the report contract."""
    try:
        mtime_ns = os.stat(report_path).st_mtime_ns if report_path else 0
    except OSError:
        mtime_ns = 0
    try:
        report = report_from_json(report_data)
    except (KeyError, TypeError, ValueError) as exc:
        raise LogtriageError(
            _("{name}: the report is malformed ({problem})").format(name=name, problem=exc)
        ) from exc
    if history_path is not None:
        with History(history_path) as history:
            if not history.has("requests"):
                raise LogtriageError(
                    _("{path} is not a logtriage history (no requests)").format(path=history_path)
                )
    # A report written by analyze is redacted already; a hand-edited one must be too.
    return SavedAnalysis(name, redact_report(report), history_path, report_path, mtime_ns)
