"""P004 slow-route: a route whose latency or share of total time stands out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import share
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import ms
from logtriage.model.i18n import _
from logtriage.model.percentiles import percentiles_sql


@dataclass(frozen=True)
class SlowRouteOptions:
    """Thresholds for P004."""

    min_requests: int = 20
    slow_p95_ms: float = 1000.0
    min_time_share: float = 0.2
    # A route also stands out when its share of time is this many times its share of requests.
    time_to_traffic_ratio: float = 3.0
    min_ratio_time_share: float = 0.05
    # A fast route is not "slow" just because it carries most of the traffic.
    min_p95_ms: float = 100.0
    examples: int = 3


class SlowRoute:
    """Routes whose latency or share of the total request time stands out.

    What it finds:
        Routes (``METHOD /templated/path``) with at least ``min_requests`` timed requests where
        the 95th percentile is at or above ``slow_p95_ms``, or whose share of all request time
        is at least ``min_time_share``, or is ``time_to_traffic_ratio`` times their share of
        traffic (and at least ``min_ratio_time_share``).

    Why it matters:
        A route that holds much of the service's time is where a fix pays most: users wait on
        it, and it holds workers, connections and database time that other requests need.

    Example:
        ``GET /reports/{id}`` is 2 % of the requests but 45 % of the request time, p95 3.2 s.

    How to fix:
        The finding says where the time goes when the log carries ``$upstream_response_time``:
        inside the application or outside it (slow clients, large responses: compress,
        paginate, cache, or serve from a CDN). Inside, with the database log given and a third
        of the route's requests tied to their queries, it says which part: mostly queries
        (start with the query findings of the route) or the handler's own work (CPU,
        rendering, calls to other services: profile it).

    Options:
        ``min_requests`` (20), ``slow_p95_ms`` (1000.0), ``min_time_share`` (0.2),
        ``time_to_traffic_ratio`` (3.0), ``min_ratio_time_share`` (0.05), ``min_p95_ms``
        (100.0): routes faster than this at p95 are never flagged, ``examples`` (3).
    """

    code: ClassVar[str] = "P004"
    name: ClassVar[str] = "slow-route"
    needs: ClassVar[tuple[str, ...]] = ("requests",)
    Options: ClassVar[type[SlowRouteOptions]] = SlowRouteOptions

    def run(self, ctx: AnalysisContext, options: SlowRouteOptions) -> list[Finding]:
        """Flag routes that stand out by p95 or by share of time."""
        totals = ctx.db.rows(
            "SELECT count(*) AS n, sum(duration_ms) AS total_ms "
            "FROM requests WHERE duration_ms IS NOT NULL"
        )[0]
        if not totals["n"] or not totals["total_ms"]:
            return []
        # Percentiles from a histogram that spills (model/percentiles.py), joined to the routes.
        spread = percentiles_sql(
            "requests", "duration_ms", [0.5, 0.95, 0.99], by=["route"], where="route IS NOT NULL"
        )
        rows = ctx.db.rows(
            f"""
            SELECT a.*, p.q FROM (
                SELECT route, count(*) AS n, sum(duration_ms) AS total_ms,
                       max(duration_ms) AS max_ms, sum(upstream_ms) AS upstream_ms,
                       count(upstream_ms) AS n_upstream,
                       -- Upstream share only over inputs that log upstream time at all: an Apache
                       -- %D log read beside an nginx log must not halve it.
                       -- DISTINCT: the filter's lookup holds one row per input, not per request
                       -- (23M requests with upstream times ran out of memory building it).
                       sum(duration_ms) FILTER (WHERE source IN (
                           SELECT DISTINCT source FROM requests WHERE upstream_ms IS NOT NULL
                       )) AS upstream_scope_ms,
                       avg(bytes_sent) AS avg_bytes
                FROM requests WHERE duration_ms IS NOT NULL AND route IS NOT NULL
                GROUP BY route HAVING count(*) >= ?
            ) a JOIN ({spread}) p USING (route)
            ORDER BY a.route
            """,
            [options.min_requests],
        )
        findings = []
        for row in rows:
            time_share = share(row["total_ms"], totals["total_ms"])
            traffic_share = share(row["n"], totals["n"])
            p50, p95, p99 = row["q"]
            is_slow = p95 >= options.slow_p95_ms
            if p95 < options.min_p95_ms:
                continue
            is_heavy = time_share >= options.min_time_share
            is_outsized = (
                time_share >= options.min_ratio_time_share
                and time_share >= options.time_to_traffic_ratio * traffic_share
            )
            if not (is_slow or is_heavy or is_outsized):
                continue
            findings.append(
                self._finding(ctx, options, row, time_share, traffic_share, p50, p95, p99)
            )
        return findings

    def _finding(
        self,
        ctx: AnalysisContext,
        options: SlowRouteOptions,
        row: dict[str, Any],
        time_share: float,
        traffic_share: float,
        p50: float,
        p95: float,
        p99: float,
    ) -> Finding:
        route = row["route"]
        if time_share >= 0.3 or p95 >= 5 * options.slow_p95_ms:
            severity = Severity.HIGH
        elif time_share >= 0.1 or p95 >= options.slow_p95_ms:
            severity = Severity.MEDIUM
        else:
            severity = Severity.LOW
        upstream_share = (
            share(row["upstream_ms"] or 0.0, row["upstream_scope_ms"])
            if row["n_upstream"]
            else None
        )
        examples = ctx.db.rows(
            "SELECT source, line, request_id, path, duration_ms, status FROM requests "
            "WHERE route = ? AND duration_ms IS NOT NULL "
            "ORDER BY duration_ms DESC, source, line LIMIT ?",
            [route, options.examples],
        )
        title = _(
            "{route} is slow: p95 {p95} over {count} requests, {share:.0%} of all request time"
        ).format(route=route, p95=ms(p95), count=row["n"], share=time_share)
        evidence: dict[str, Any] = {
            "requests": row["n"],
            "p50_ms": round(p50, 3),
            "p95_ms": round(p95, 3),
            "p99_ms": round(p99, 3),
            "max_ms": round(row["max_ms"], 3),
            "share_of_requests": round(traffic_share, 4),
        }
        if upstream_share is not None:
            evidence["upstream_share_of_time"] = round(upstream_share, 4)
        work = self._database_work(ctx, route, row["n"])
        if work is not None:
            evidence["db_share_of_time"] = round(work["db_share"], 4)
            evidence["queries_per_request"] = round(work["per_request"], 1)
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=time_share,
            title=title,
            route=route,
            evidence=evidence,
            impact={"time_ms": round(row["total_ms"], 3), "share_of_total": round(time_share, 4)},
            fix=self._fix(route, upstream_share, row["avg_bytes"], work),
            examples=tuple({k: v for k, v in ex.items() if v is not None} for ex in examples),
        )

    @staticmethod
    def _database_work(ctx: AnalysisContext, route: str, requests: int) -> dict[str, float] | None:
        """The share of the route's time its tied queries take, when enough requests are tied.

        None without a database log, or when under a third of the route's requests (or fewer
        than three) have queries tied to them: too little to say where its time goes.
        """
        work = ctx.db.rows(
            "SELECT count(*) AS tied, sum(w.queries) AS queries, sum(w.db_ms) AS db_ms, "
            "sum(r.duration_ms) AS tied_ms "
            "FROM requests r JOIN request_db_work w USING (source, line) "
            "WHERE r.route = ? AND r.duration_ms IS NOT NULL",
            [route],
        )[0]
        tied = work["tied"] or 0
        if tied < max(3, requests / 3) or not work["tied_ms"]:
            return None
        return {
            "db_share": min(1.0, (work["db_ms"] or 0.0) / work["tied_ms"]),
            "per_request": (work["queries"] or 0) / tied,
        }

    @staticmethod
    def _fix(
        route: str,
        upstream_share: float | None,
        avg_bytes: float | None,
        work: dict[str, float] | None = None,
    ) -> str:
        if work is not None and (upstream_share is None or upstream_share >= 0.8):
            if work["db_share"] >= 0.5:
                return _(
                    "{share:.0%} of the time of {route} is its database queries ({queries:.0f} "
                    "per request): start with the query findings for this route (N+1, heavy "
                    "or scan-heavy queries), then cache or paginate the result."
                ).format(share=work["db_share"], route=route, queries=work["per_request"])
            # "0%" reads as none: a share under 1% is said as such.
            db_share = f"{work['db_share']:.0%}" if work["db_share"] >= 0.01 else "<1%"
            return _(
                "Its database queries take only {share} of the time of {route} "
                "({queries:.0f} per request): the rest is the handler's own work — CPU, "
                "rendering, calls to other services, sleeps or locks in the application. "
                "Profile that code path (py-spy, async-profiler, rbspy…), then cache or "
                "paginate the result."
            ).format(share=db_share, route=route, queries=work["per_request"])
        if upstream_share is None:
            return _(
                "Profile the handler of {route} and the database queries it runs (give "
                "logtriage the database log to tie queries to this route); add "
                "$upstream_response_time to the access log to tell application time from "
                "network time."
            ).format(route=route)
        if upstream_share >= 0.8:
            return _(
                "{share:.0%} of the time of {route} is spent in the upstream "
                "application: profile its handler and the queries it runs (give logtriage the "
                "database log to tie queries to this route); cache or paginate the result."
            ).format(share=upstream_share, route=route)
        size = (
            _(" (average response {size:.0f} KiB)").format(size=avg_bytes / 1024)
            if avg_bytes
            else ""
        )
        return _(
            "Only {share:.0%} of the time of {route} is spent in the upstream: "
            "the rest is sending the response to slow or distant clients{size}. Compress "
            "(gzip/brotli), paginate, cache at the edge or serve it from a CDN."
        ).format(share=upstream_share, route=route, size=size)
