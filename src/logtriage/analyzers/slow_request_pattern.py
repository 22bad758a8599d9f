"""P003 slow-request-pattern: an attribute that explains a route's slow tail."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import share
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import ms
from logtriage.model.i18n import N_, _
from logtriage.model.percentiles import percentiles_sql

# Each request's attributes as "kind value" strings, computed in bulk. Query-string values
# longer than 40 characters count only as the key's presence: ids and search text are not
# patterns, `include=comments` is.
_ATTRIBUTES_SQL = """
list_concat(
    list_transform(
        list_filter(string_split(coalesce(r.query, ''), '&'), lambda kv: kv <> ''),
        lambda kv: 'with ' || lower(split_part(kv, '=', 1))),
    list_transform(
        list_filter(string_split(coalesce(r.query, ''), '&'),
                    lambda kv: strpos(kv, '=') > 0 AND length(split_part(kv, '=', 2)) <= 40
                               AND split_part(kv, '=', 2) <> ''),
        lambda kv: 'with ' || lower(split_part(kv, '=', 1)) || '=' || split_part(kv, '=', 2)),
    ['status ' || coalesce(r.status::VARCHAR, '?'),
     'client ' || coalesce(r.client, '?'),
     'response size ' || CASE
        WHEN r.bytes_sent IS NULL THEN '?'
        WHEN r.bytes_sent < 10240 THEN 'under 10 KiB'
        WHEN r.bytes_sent < 102400 THEN '10-100 KiB'
        WHEN r.bytes_sent < 1048576 THEN '100 KiB-1 MiB'
        ELSE 'over 1 MiB' END,
     'hour ' || lpad(hour(r.ts)::VARCHAR, 2, '0') || ':00 UTC',
     'queries per request ' || CASE
        WHEN c.queries IS NULL THEN '?'
        WHEN c.queries <= 5 THEN '0-5'
        WHEN c.queries <= 20 THEN '6-20'
        WHEN c.queries <= 100 THEN '21-100'
        ELSE 'over 100' END]
)
"""

# The same attributes counted per route in the slow tail (a) and the rest (b), each kind
# grouped on its raw column first: building and unnesting a list per request costs several
# times more than grouping a million rows on a small key. Must stay in step with the above.
_GROUPED_ATTRIBUTES_SQL = """
SELECT route, unnest(list_distinct(list_concat(
    list_transform(
        list_filter(string_split(coalesce(query, ''), '&'), lambda kv: kv <> ''),
        lambda kv: 'with ' || lower(split_part(kv, '=', 1))),
    list_transform(
        list_filter(string_split(coalesce(query, ''), '&'),
                    lambda kv: strpos(kv, '=') > 0 AND length(split_part(kv, '=', 2)) <= 40
                               AND split_part(kv, '=', 2) <> ''),
        lambda kv: 'with ' || lower(split_part(kv, '=', 1)) || '=' || split_part(kv, '=', 2))
))) AS attr, a, b
FROM (SELECT route, query, count(*) FILTER (WHERE is_slow) AS a,
             count(*) FILTER (WHERE NOT is_slow) AS b
      FROM labelled GROUP BY ALL)
UNION ALL
SELECT route, 'status ' || coalesce(status::VARCHAR, '?'), a, b
FROM (SELECT route, status, count(*) FILTER (WHERE is_slow) AS a,
             count(*) FILTER (WHERE NOT is_slow) AS b FROM labelled GROUP BY ALL)
UNION ALL
SELECT route, 'client ' || coalesce(client, '?'), a, b
FROM (SELECT route, client, count(*) FILTER (WHERE is_slow) AS a,
             count(*) FILTER (WHERE NOT is_slow) AS b FROM labelled GROUP BY ALL)
UNION ALL
SELECT route, 'response size ' || size, a, b
FROM (SELECT route, CASE
        WHEN bytes_sent IS NULL THEN '?'
        WHEN bytes_sent < 10240 THEN 'under 10 KiB'
        WHEN bytes_sent < 102400 THEN '10-100 KiB'
        WHEN bytes_sent < 1048576 THEN '100 KiB-1 MiB'
        ELSE 'over 1 MiB' END AS size,
        count(*) FILTER (WHERE is_slow) AS a, count(*) FILTER (WHERE NOT is_slow) AS b
      FROM labelled GROUP BY ALL)
UNION ALL
SELECT route, 'hour ' || lpad(h::VARCHAR, 2, '0') || ':00 UTC', a, b
FROM (SELECT route, hour(ts) AS h, count(*) FILTER (WHERE is_slow) AS a,
             count(*) FILTER (WHERE NOT is_slow) AS b FROM labelled GROUP BY ALL)
UNION ALL
SELECT route, 'queries per request ' || bucket, a, b
FROM (SELECT route, CASE
        WHEN queries IS NULL THEN '?'
        WHEN queries <= 5 THEN '0-5'
        WHEN queries <= 20 THEN '6-20'
        WHEN queries <= 100 THEN '21-100'
        ELSE 'over 100' END AS bucket,
        count(*) FILTER (WHERE is_slow) AS a, count(*) FILTER (WHERE NOT is_slow) AS b
      FROM labelled GROUP BY ALL)
"""

_FIXES = {
    "with": N_(
        "Requests {attr} do extra work in the handler: look at what this parameter adds (more "
        "rows, a nested include, more queries per request) and bound it — paginate, limit the "
        "page size, load the relation in one query, or cache the result."
    ),
    "client": N_(
        "One client makes the slow tail ({attr}): a batch job, crawler or integration asking "
        "for expensive pages — give it a bulk endpoint, rate-limit it, or run it off-peak."
    ),
    "status": N_(
        "The slow requests end with {attr}: they are timing out or failing slowly — look at "
        "the upstream's timeouts and what it waits on."
    ),
    "response": N_(
        "Large responses are the slow ones ({attr}): paginate, compress, or stream them."
    ),
    "hour": N_(
        "The route is slow {attr}: something else runs then (a cron job, backup, batch import, "
        "vacuum) — move it or give it its own resources."
    ),
    "queries": N_(
        "Slow requests run many queries ({attr}): an N+1 or an unbounded loop over rows — load "
        "the data in one query (eager loading / IN (...))."
    ),
}


@dataclass(frozen=True)
class SlowRequestPatternOptions:
    """Thresholds for P003."""

    min_requests: int = 50
    # The slow tail: requests at or above this quantile of their route's latency.
    tail_quantile: float = 0.9
    min_slow_support: int = 5
    # The attribute must cover at least this share of the slow tail …
    min_share_of_slow: float = 0.5
    # … and be this much more common there than in the rest of the route's requests.
    min_contrast: float = 0.3
    # Two-proportion z statistic: how unlikely the contrast is by chance.
    min_z: float = 3.0
    # The tail must actually be slow relative to the rest (p95 ratio with/without).
    min_slowdown: float = 2.0
    # Tails faster than this are not worth a finding.
    min_tail_ms: float = 50.0


def _z(a: int, s: int, b: int, n: int) -> float:
    """Two-proportion z statistic of a/s against b/n."""
    if s == 0 or n == 0:
        return 0.0
    pooled = (a + b) / (s + n)
    denom = math.sqrt(pooled * (1 - pooled) * (1 / s + 1 / n))
    return (a / s - b / n) / denom if denom else 0.0


class SlowRequestPattern:
    """The attribute (query parameter, client, status, size, hour…) that explains a slow tail.

    What it finds:
        For each route with at least ``min_requests`` timed requests, it compares the slow tail
        (latency at or above the route's ``tail_quantile``) with the rest, over every request
        attribute: query-string keys and ``key=value`` pairs, status, client, response size,
        hour of day, and queries per request when database logs are correlated. It reports the
        attribute that covers most of the tail (``min_share_of_slow``), is much rarer in the
        rest (``min_contrast``), is not chance (two-proportion z ≥ ``min_z``, at least
        ``min_slow_support`` slow requests) and makes requests at least ``min_slowdown`` times
        slower at p95.

    Why it matters:
        A route is rarely slow for everyone. Knowing that only ``include=comments`` is slow, or
        only one client, or only at 02:00, points at the code path or the neighbour to fix
        instead of the whole route — the step that takes hours in a dashboard.

    Example:
        ``GET /users/{id}/feed`` is slow with ``include=comments``: p95 2.1 s with it against
        40 ms without; 96 % of the slow requests have it, 4 % of the others.

    How to fix:
        The fix follows the attribute: a parameter that adds work (paginate, bound, load in one
        query), one client (bulk endpoint, rate limit), an hour (move the neighbour job), large
        responses (paginate, compress), many queries per request (remove the N+1).

    Options:
        ``min_requests`` (50), ``tail_quantile`` (0.9), ``min_slow_support`` (5),
        ``min_share_of_slow`` (0.5), ``min_contrast`` (0.3), ``min_z`` (3.0),
        ``min_slowdown`` (2.0): also the least ratio of the route's p95 to its median,
        ``min_tail_ms`` (50.0): the route's p95 must be above this.
    """

    code: ClassVar[str] = "P003"
    name: ClassVar[str] = "slow-request-pattern"
    needs: ClassVar[tuple[str, ...]] = ("requests",)
    Options: ClassVar[type[SlowRequestPatternOptions]] = SlowRequestPatternOptions

    def run(self, ctx: AnalysisContext, options: SlowRequestPatternOptions) -> list[Finding]:
        """One finding per route whose slow tail one attribute explains."""
        total_ms = ctx.db.rows("SELECT sum(duration_ms) AS t FROM requests")[0]["t"]
        if not total_ms:
            return []
        spread = percentiles_sql(
            "requests",
            "duration_ms",
            [options.tail_quantile, 0.95, 0.5],
            by=["route"],
            where="route IS NOT NULL",
            discrete=True,
            count="n",
        )
        candidates = ctx.db.rows(
            f"""
            WITH spread AS (
                -- From a histogram that spills (model/percentiles.py): a quantile_disc state
                -- holds every duration of the route, and ran out of memory on 23M requests.
                {spread}
            ), tails AS (
                -- Only tails worth explaining: clearly slower than the route's median (a
                -- uniformly slow route is P004's), and slow in absolute terms.
                SELECT route, q[1] AS cut FROM spread
                WHERE n >= ? AND q[2] >= ? AND q[2] >= ? * q[3]
            ), labelled AS MATERIALIZED (
                SELECT r.route, r.duration_ms >= t.cut AS is_slow, r.query, r.status,
                       r.client, r.bytes_sent, r.ts, c.queries
                FROM requests r JOIN tails t USING (route)
                LEFT JOIN request_db_work c USING (source, line)
                WHERE r.duration_ms IS NOT NULL
            ), sizes AS (
                SELECT route, count(*) FILTER (WHERE is_slow) AS s,
                       count(*) FILTER (WHERE NOT is_slow) AS n
                FROM labelled GROUP BY route
            ), counts AS (
                SELECT route, attr, sum(a)::BIGINT AS a, sum(b)::BIGINT AS b
                FROM ({_GROUPED_ATTRIBUTES_SQL})
                WHERE NOT ends_with(attr, ' ?')
                GROUP BY ALL
            )
            SELECT c.route, c.attr, c.a, c.b, z.s, z.n
            FROM counts c JOIN sizes z USING (route)
            WHERE c.a >= ? AND z.n > 0 AND c.a >= ? * z.s
              AND c.a / z.s - c.b / z.n >= ?
            ORDER BY c.route, c.attr
            """,
            [
                options.min_requests,
                options.min_tail_ms,
                options.min_slowdown,
                options.min_slow_support,
                options.min_share_of_slow,
                options.min_contrast,
            ],
        )
        best: dict[str, tuple[float, dict[str, Any]]] = {}
        for row in candidates:
            z = _z(row["a"], row["s"], row["b"], row["n"])
            if z < options.min_z:
                continue
            # A key=value pair says more than the key alone: prefer it when nearly as strong.
            contrast = (
                row["a"] / row["s"] - row["b"] / row["n"] + (0.02 if "=" in row["attr"] else 0)
            )
            if row["route"] not in best or contrast > best[row["route"]][0]:
                best[row["route"]] = (contrast, {**row, "z": z})
        findings = []
        for route, (_contrast, row) in sorted(best.items()):
            finding = self._finding(ctx, options, route, row, total_ms)
            if finding is not None:
                findings.append(finding)
        return findings

    def _finding(
        self,
        ctx: AnalysisContext,
        options: SlowRequestPatternOptions,
        route: str,
        row: dict[str, Any],
        total_ms: float,
    ) -> Finding | None:
        split = ctx.db.rows(
            f"""
            WITH tagged AS (
                SELECT r.duration_ms, list_contains({_ATTRIBUTES_SQL}, ?) AS has_attr,
                       r.source, r.line, r.path, r.query, r.request_id
                FROM requests r LEFT JOIN request_db_work c USING (source, line)
                WHERE r.route = ? AND r.duration_ms IS NOT NULL
            )
            SELECT has_attr, n, total_ms, p.q[1] AS p50, p.q[2] AS p95, worst FROM (
                SELECT has_attr, count(*) AS n, sum(duration_ms) AS total_ms,
                       arg_max({{'source': source, 'line': line, 'path': path, 'query': query,
                                 'request_id': request_id, 'duration_ms': duration_ms}},
                               duration_ms) AS worst
                FROM tagged GROUP BY has_attr
            ) a JOIN ({percentiles_sql("tagged", "duration_ms", [0.5, 0.95], by=["has_attr"])}) p
            USING (has_attr)
            """,
            [row["attr"], route],
        )
        with_attr = next((s for s in split if s["has_attr"]), None)
        without = next((s for s in split if not s["has_attr"]), None)
        if with_attr is None or without is None or not without["p95"]:
            return None
        slowdown = with_attr["p95"] / without["p95"]
        if slowdown < options.min_slowdown:
            return None
        attr = row["attr"]
        slow_share = row["a"] / row["s"]
        rest_share = row["b"] / row["n"]
        time_share = share(with_attr["total_ms"], total_ms)
        severity = (
            Severity.HIGH
            if time_share >= 0.2
            else Severity.MEDIUM
            if time_share >= 0.05
            else Severity.LOW
        )
        kind = attr.split(" ", 1)[0]
        template = _FIXES.get(kind) or _FIXES["with"]
        fix = _(template).format(attr=attr)
        worst = {k: v for k, v in with_attr["worst"].items() if v is not None}
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=time_share,
            title=_(
                "{route} is slow {attr}: p95 {p95_with} against {p95_without} without; "
                "{slow_share:.0%} of its slow requests have it, {rest_share:.0%} of the others"
            ).format(
                route=route,
                attr=attr,
                p95_with=ms(with_attr["p95"]),
                p95_without=ms(without["p95"]),
                slow_share=slow_share,
                rest_share=rest_share,
            ),
            route=route,
            evidence={
                "attribute": attr,
                "p95_with_ms": round(with_attr["p95"], 3),
                "p95_without_ms": round(without["p95"], 3),
                "p50_with_ms": round(with_attr["p50"], 3),
                "p50_without_ms": round(without["p50"], 3),
                "requests_with": with_attr["n"],
                "requests_without": without["n"],
                "share_of_slow_with": round(slow_share, 4),
                "share_of_rest_with": round(rest_share, 4),
                "z": round(row["z"], 2),
            },
            impact={
                "time_ms": round(with_attr["total_ms"], 3),
                "share_of_total": round(time_share, 4),
            },
            fix=fix,
            examples=(worst,),
        )
