"""Chart data for the reports, computed in bulk: traffic over time and per-route distributions."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from logtriage.engine.database import Database
from logtriage.model.percentiles import percentiles_sql

# Bucket widths a person reads without arithmetic; the first giving at most TARGET_BUCKETS wins.
_BUCKET_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                   21600, 43200, 86400, 604800)  # fmt: skip
TARGET_BUCKETS = 90
# Latency bins on a 1-1.5-2-3-5-7 scale, in ms: the shape of a slow tail shows on a log axis;
# one bin [0, 0.001 ms) holds what a log rounds to zero. A route whose slowest request is less
# than _NARROW times its fastest gets linear bins instead.
_LOG_STEPS = (1, 1.5, 2, 3, 5, 7)
_ZERO_MS = 0.001
_NARROW = 10.0
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def _r(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, float) else value


def bucket_seconds(span_seconds: float) -> int:
    """The smallest readable bucket width that cuts ``span_seconds`` into few enough buckets."""
    for width in _BUCKET_SECONDS:
        if span_seconds / width <= TARGET_BUCKETS:
            return width
    return _BUCKET_SECONDS[-1]


def timeseries(db: Database) -> dict[str, Any]:
    """Requests, latency percentiles, errors, queries and database time per time bucket.

    Empty buckets are kept (zero requests, null latency) so a gap in traffic shows as a gap.
    """
    has_requests = db.count("requests") > 0
    has_queries = db.count("queries") > 0
    parts = []
    if has_requests:
        parts.append("SELECT min(ts) AS lo, max(ts) AS hi FROM requests")
    if has_queries:
        parts.append("SELECT min(ts) AS lo, max(ts) AS hi FROM queries")
    if not parts:
        return {}
    span = db.rows(
        f"SELECT min(lo) AS lo, max(hi) AS hi, epoch(max(hi)) - epoch(min(lo)) AS seconds "
        f"FROM ({' UNION ALL '.join(parts)})"
    )[0]
    if span["lo"] is None:
        return {}
    width = bucket_seconds(float(span["seconds"] or 0.0))
    # Percentiles from a histogram that spills (model/percentiles.py): quantile states of all
    # buckets together hold every duration.
    spread = percentiles_sql(
        f"(SELECT time_bucket(to_seconds({int(width)}), ts) AS bucket, duration_ms "
        "FROM requests WHERE ts IS NOT NULL) b",
        "duration_ms",
        [0.5, 0.95, 0.99],
        by=["bucket"],
    )
    request_cte = (
        f"""
        SELECT a.*, p.q FROM (
            SELECT time_bucket(to_seconds(?), ts) AS bucket, count(*) AS requests,
                   count(*) FILTER (WHERE status >= 500) AS errors_5xx,
                   count(*) FILTER (WHERE status >= 400 AND status < 500) AS errors_4xx
            FROM requests WHERE ts IS NOT NULL GROUP BY ALL
        ) a LEFT JOIN ({spread}) p USING (bucket)
        """
        if has_requests
        else "SELECT NULL::TIMESTAMP AS bucket, 0 AS requests, 0 AS errors_5xx, "
        "0 AS errors_4xx, NULL::DOUBLE[] AS q WHERE false AND ? IS NULL"
    )
    query_cte = (
        """
        SELECT time_bucket(to_seconds(?), ts) AS bucket, count(*) AS queries,
               sum(duration_ms) AS db_ms
        FROM queries WHERE ts IS NOT NULL GROUP BY ALL
        """
        if has_queries
        else "SELECT NULL::TIMESTAMP AS bucket, 0 AS queries, NULL::DOUBLE AS db_ms "
        "WHERE false AND ? IS NULL"
    )
    rows = db.rows(
        f"""
        WITH r AS ({request_cte}), qy AS ({query_cte}),
        axis AS (
            SELECT unnest(generate_series(
                time_bucket(to_seconds(?), ?::TIMESTAMP),
                time_bucket(to_seconds(?), ?::TIMESTAMP),
                to_seconds(?))) AS bucket
        )
        SELECT axis.bucket, coalesce(r.requests, 0) AS requests,
               coalesce(r.errors_5xx, 0) AS errors_5xx, coalesce(r.errors_4xx, 0) AS errors_4xx,
               r.q, coalesce(qy.queries, 0) AS queries, qy.db_ms
        FROM axis LEFT JOIN r USING (bucket) LEFT JOIN qy USING (bucket)
        ORDER BY axis.bucket
        """,
        [width, width, width, span["lo"], width, span["hi"], width],
    )
    points = []
    for row in rows:
        q = row["q"] or [None, None, None]
        point: dict[str, Any] = {"ts": row["bucket"].strftime(_ISO)}
        if has_requests:
            point.update(
                {
                    "requests": row["requests"],
                    "errors_5xx": row["errors_5xx"],
                    "errors_4xx": row["errors_4xx"],
                    "error_rate": _r(row["errors_5xx"] / row["requests"], 4)
                    if row["requests"]
                    else None,
                    "p50_ms": _r(q[0]),
                    "p95_ms": _r(q[1]),
                    "p99_ms": _r(q[2]),
                }
            )
        if has_queries:
            point.update({"queries": row["queries"], "db_ms": _r(row["db_ms"])})
        points.append(point)
    return {"bucket_seconds": width, "points": points}


def nice_width(raw: float) -> float:
    """The smallest 1-2-5 step at or above ``raw`` (bin widths people read at a glance)."""
    if raw <= 0:
        return 0.001
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(round(m * magnitude, 6) for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.9999)


def _log_edges() -> list[float]:
    return [round(m * 10.0**e, 6) for e in range(-3, 10) for m in _LOG_STEPS]


def latency_histograms(db: Database, routes: Sequence[str]) -> list[dict[str, Any]]:
    """Per route, how many requests fall in each latency bin.

    A route whose times spread over more than a decade gets log bins (1-1.5-2-3-5-7 steps), so
    its slow tail shows; a narrow one gets about 20 linear bins of a 1-2-5 width.
    """
    if not routes or not db.count("requests"):
        return []
    names = list(routes)
    spread = db.rows(
        "SELECT route, min(duration_ms) AS lo, max(duration_ms) AS hi FROM requests "
        "WHERE route IN (SELECT unnest(?::VARCHAR[])) AND duration_ms IS NOT NULL GROUP BY route",
        [names],
    )
    width = {row["route"]: 0.0 for row in spread}  # 0.0 = log bins
    for row in spread:
        lo, hi = float(row["lo"]), float(row["hi"])
        if lo > 0 and hi < _NARROW * lo:
            width[row["route"]] = nice_width((hi - lo) / 20 if hi > lo else lo / 20)
    steps = " ".join(f"WHEN m >= {m} THEN {m}" for m in reversed(_LOG_STEPS[1:]))
    rows = db.rows(
        f"""
        WITH p AS (SELECT unnest(?::VARCHAR[]) AS route, unnest(?::DOUBLE[]) AS width),
        r AS (
            SELECT route, p.width, duration_ms AS d,
                   floor(log10(greatest(duration_ms, {_ZERO_MS})) + 1e-9) AS e
            FROM requests JOIN p USING (route) WHERE duration_ms IS NOT NULL
        ),
        b AS (
            SELECT route, CASE
                WHEN width > 0 THEN floor(d / width + 1e-9) * width
                WHEN d < {_ZERO_MS} THEN 0.0
                ELSE (CASE {steps} ELSE 1 END) * pow(10, e) END AS lo
            FROM (SELECT *, d / pow(10, e) AS m FROM r)
        )
        SELECT route, round(lo, 6) AS lo, count(*) AS count FROM b GROUP BY ALL ORDER BY route, lo
        """,
        [list(width), list(width.values())],
    )
    out = []
    for route in names:
        bins = [(float(row["lo"]), int(row["count"])) for row in rows if row["route"] == route]
        if bins:
            out.append(_histogram(route, "duration_ms", bins, width[route]))
    return out


def queries_per_request_histograms(db: Database, limit: int) -> list[dict[str, Any]]:
    """For the routes with most queries per request, how many requests ran N queries.

    Requests with no query tied to them count as zero, so a fan-out that only some requests
    take shows as two humps. Bins are single counts up to 40 distinct values, wider beyond.
    """
    if not db.count("requests") or not db.count("correlations"):
        return []
    rows = db.rows(
        """
        WITH per AS (
            SELECT r.route, count(c.query_line) AS n
            FROM requests r LEFT JOIN (
                SELECT request_source, request_line, line AS query_line FROM correlations
                WHERE kind = 'query'
            ) c ON c.request_source = r.source AND c.request_line = r.line
            WHERE r.route IS NOT NULL GROUP BY r.source, r.line, r.route
        ), top AS (
            SELECT route, greatest(1, ceil((max(n) + 1) / 40.0))::BIGINT AS width,
                   avg(n) AS mean_n, sum(n) AS total_n
            FROM per GROUP BY route HAVING avg(n) >= 2
            ORDER BY mean_n DESC, total_n DESC, route LIMIT ?
        )
        SELECT per.route, any_value(width) AS width, (n // width) * width AS lo,
               count(*) AS count, any_value(mean_n) AS mean_n, any_value(total_n) AS total_n
        FROM per JOIN top USING (route) GROUP BY per.route, lo
        ORDER BY mean_n DESC, total_n DESC, per.route, lo
        """,
        [limit],
    )
    out = []
    for route in dict.fromkeys(row["route"] for row in rows):
        mine = [row for row in rows if row["route"] == route]
        bins = [(float(row["lo"]), int(row["count"])) for row in mine]
        out.append(_histogram(route, "queries_per_request", bins, float(mine[0]["width"])))
    return out


def _histogram(
    route: str, metric: str, counted: list[tuple[float, int]], width: float
) -> dict[str, Any]:
    """Bins from the first to the last filled one, empty ones included so the axis is true."""
    counts = dict(counted)
    # Logs with millisecond resolution write 0 for fast requests: that bin stands apart, else
    # a dozen empty bins would sit between it and the first measurable one.
    zero = counts.pop(0.0, 0) if width == 0 else 0
    bins: list[dict[str, Any]] = []
    if zero:
        bins.append({"lo": 0.0, "hi": _ZERO_MS, "count": zero})
    if counts:
        first, last = min(counts), max(counts)
        if width > 0:
            steps = round((last - first) / width) + 1
            edges = [round(first + i * width, 6) for i in range(steps + 1)]
        else:
            log = _log_edges()
            start = min(range(len(log)), key=lambda k: abs(log[k] - first))
            stop = min(range(len(log)), key=lambda k: abs(log[k] - last))
            edges = log[start : stop + 2]
        for lo, hi in itertools.pairwise(edges):
            bins.append({"lo": lo, "hi": hi, "count": counts.get(lo, 0)})
    return {
        "route": route,
        "metric": metric,
        "scale": "log" if width == 0 else "linear",
        "count": sum(b["count"] for b in bins),
        "bins": bins,
    }


def chart_data(
    db: Database, top_routes: Sequence[str], *, limit: int = 6
) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
    """Everything the report's charts draw: the time series and the per-route histograms."""
    histograms = [
        *latency_histograms(db, top_routes[:limit]),
        *queries_per_request_histograms(db, limit),
    ]
    return timeseries(db), tuple(histograms)
