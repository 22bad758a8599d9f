"""O001 capacity-profile: peak load, concurrency and database mix, the numbers for sizing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import _

# Statement kinds by first keyword (after comments and parentheses).
_READ = "('select', 'with', 'show', 'describe', 'desc', 'explain', 'values', 'table')"
_WRITE = (
    "('insert', 'update', 'delete', 'merge', 'replace', 'upsert', 'copy', 'truncate', "
    "'create', 'alter', 'drop', 'call')"
)


@dataclass(frozen=True)
class CapacityProfileOptions:
    """Thresholds for O001."""

    # The profile needs this much traffic to say anything about load.
    min_requests: int = 100
    min_span_s: float = 60.0
    # Headroom the sizing note applies on top of the observed peak.
    headroom: float = 1.5
    top_routes: int = 5


class CapacityProfile:
    """Peak and p99 load, peak concurrency, database mix and busiest hours, for sizing.

    What it finds:
        The load the logs show: requests per second (peak, p99 and median over every second
        of the span, idle seconds included), peak concurrency (requests in flight at once,
        from each request's start and duration: +1 at start, −1 at end, running sum), the
        time of the peak, bytes sent, the busiest hours of the day, and — with a database
        log — queries per second, the read/write mix, database time per request by route
        (for queries tied to requests). It ends with a short sizing note.

    Why it matters:
        Sizing containers, worker pools and a managed database for a migration needs the
        peak, not the average: worker count follows peak concurrency, connection pools
        follow peak concurrent database work, and the read share says whether a read replica
        helps.

    Example:
        ``Peak 48 req/s (p99 31), 22 in flight at once, 310 queries/s (87 % reads)``.

    How to fix:
        Nothing is wrong: use the numbers. Size workers for peak concurrency times the
        ``headroom`` option, connection pools for the database's concurrent work, and check
        the busiest hours against the planned scaling schedule.

    Options:
        ``min_requests`` (100), ``min_span_s`` (60.0), ``headroom`` (1.5), ``top_routes`` (5).
    """

    code: ClassVar[str] = "O001"
    name: ClassVar[str] = "capacity-profile"
    needs: ClassVar[tuple[str, ...]] = ("requests",)
    Options: ClassVar[type[CapacityProfileOptions]] = CapacityProfileOptions

    def run(self, ctx: AnalysisContext, options: CapacityProfileOptions) -> list[Finding]:
        """One informational finding with the load profile."""
        if ctx.db.count("requests") < options.min_requests:
            return []
        span = ctx.db.rows(
            "SELECT min(ts) AS first, max(ts) AS last, count(*) AS n, sum(bytes_sent) AS bytes "
            "FROM requests WHERE ts IS NOT NULL"
        )[0]
        if span["first"] is None:
            return []
        span_s = (span["last"] - span["first"]).total_seconds()
        if span_s < options.min_span_s:
            return []
        rates = _per_second(ctx, "requests")
        concurrency = _concurrency(ctx)
        evidence: dict[str, Any] = {
            "requests": span["n"],
            "span_s": round(span_s, 1),
            "requests_per_s": rates,
            "busiest_hours_utc": _busiest_hours(ctx),
        }
        if concurrency:
            evidence["concurrency"] = concurrency
        if span["bytes"] is not None:
            evidence["bytes_sent"] = {
                "total": int(span["bytes"]),
                "per_s_avg": round(span["bytes"] / max(span_s, 1.0), 1),
                "per_s_peak": _peak_bytes(ctx),
            }
        if ctx.db.count("queries"):
            evidence["database"] = _database(ctx, options)
        title = _("Peak {peak:g} req/s (p99 {p99:g}, median {p50:g})").format(
            peak=rates["peak"], p99=rates["p99"], p50=rates["p50"]
        )
        if concurrency:
            approx = "" if concurrency["method"].startswith("sweep") else "≈"
            title += _(", {approx}{count} in flight at once").format(
                approx=approx, count=concurrency["peak"]
            )
        db = evidence.get("database")
        if db:
            title += _(", {rate:g} queries/s").format(rate=db["queries_per_s"]["peak"])
            if db["read_share"] is not None:
                title += _(" ({share:.0%} reads)").format(share=db["read_share"])
        return [
            Finding(
                code=self.code,
                name=self.name,
                severity=Severity.INFO,
                score=0.001,
                title=title,
                evidence=evidence,
                impact={"peak_requests_per_s": rates["peak"]},
                fix=_sizing_note(evidence, options.headroom),
            )
        ]


def _per_second(ctx: AnalysisContext, table: str) -> dict[str, Any]:
    """Peak, p99, p50 and mean per-second counts over every second of the table's span.

    Idle seconds count as zeros; they are counted, not generated, so a span of months (or a
    stray timestamp years away) costs nothing.
    """
    counts = ctx.db.rows(
        f"""
        WITH per_second AS (
            SELECT date_trunc('second', ts) AS s, count(*) AS n FROM {table}
            WHERE ts IS NOT NULL GROUP BY 1
        )
        SELECT n, count(*) AS seconds, min(s) AS first_at,
               (SELECT epoch(max(s)) - epoch(min(s)) + 1 FROM per_second) AS span
        FROM per_second GROUP BY n ORDER BY n
        """
    )
    if not counts:
        return {"peak": 0, "p99": 0, "p50": 0, "mean": 0.0, "peak_at": None}
    total = max(int(counts[0]["span"]), sum(int(c["seconds"]) for c in counts))
    histogram = [(0, total - sum(int(c["seconds"]) for c in counts))]
    histogram += [(int(c["n"]), int(c["seconds"])) for c in counts]

    def quantile(q: float) -> int:
        # The value at 1-based rank ceil(q × N), idle seconds included.
        rank, seen = max(1, math.ceil(q * total)), 0
        for value, seconds in histogram:
            seen += seconds
            if seen >= rank:
                return value
        return histogram[-1][0]

    events = sum(value * seconds for value, seconds in histogram)
    return {
        "peak": histogram[-1][0],
        "p99": quantile(0.99),
        "p50": quantile(0.5),
        "mean": round(events / total, 2),
        "peak_at": counts[-1]["first_at"].isoformat(),
    }


def _concurrency(ctx: AnalysisContext) -> dict[str, Any] | None:
    """Requests in flight at once: a sweep over start (+1) and end (−1) events.

    A log with whole-second times (nginx ``$time_local``, Apache ``%t``) puts every request
    of a second at the same instant, which a sweep would count as overlapping; there the
    peak is the busiest second's average in flight (each request's overlap with that
    second, summed), a lower bound.
    """
    end = "ts + to_microseconds(CAST(duration_ms * 1000 AS BIGINT))"
    facts = ctx.db.rows(
        f"""
        SELECT count(*) AS timed, sum(duration_ms) AS busy_ms, min(ts) AS first,
               max({end}) AS last,
               -- Whole-second ends (nginx $time_local) or starts (Apache %t).
               bool_and({end} = date_trunc('second', {end}))
                   OR bool_and(ts = date_trunc('second', ts)) AS coarse
        FROM requests WHERE ts IS NOT NULL AND duration_ms IS NOT NULL
        """
    )[0]
    if not facts["timed"]:
        return None
    window_ms = max((facts["last"] - facts["first"]).total_seconds() * 1000.0, 1.0)
    if facts["coarse"]:
        # The logged second holds the true end (or start): centre it (+0.5 s), then sum each
        # request's overlap with every second it spans.
        peak = ctx.db.rows(
            f"""
            WITH iv AS (
                SELECT ts + INTERVAL 500 MILLISECOND AS s0, {end} + INTERVAL 500 MILLISECOND AS s1
                FROM requests WHERE ts IS NOT NULL AND duration_ms IS NOT NULL
            ), secs AS (
                SELECT unnest(range(date_trunc('second', s0), s1, INTERVAL 1 SECOND)) AS sec,
                       s0, s1
                FROM iv
            )
            SELECT max(busy) AS peak, arg_max(sec, busy) AS peak_at FROM (
                SELECT sec, sum(epoch(least(s1, sec + INTERVAL 1 SECOND))
                                - epoch(greatest(s0, sec))) AS busy
                FROM secs GROUP BY sec)
            """
        )[0]
        method = "busiest second's average (whole-second timestamps)"
        value = math.ceil(float(peak["peak"] or 0.0))
    else:
        peak = ctx.db.rows(
            f"""
            WITH events AS (
                SELECT ts AS t, 1 AS d FROM requests
                WHERE ts IS NOT NULL AND duration_ms IS NOT NULL
                UNION ALL
                SELECT {end}, -1 FROM requests WHERE ts IS NOT NULL AND duration_ms IS NOT NULL
            ), running AS (
                -- Ends before starts at the same instant: back-to-back requests do not overlap.
                SELECT t, sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS in_flight
                FROM events
            )
            SELECT max(in_flight) AS peak, arg_max(t, in_flight) AS peak_at FROM running
            """
        )[0]
        method = "sweep over request start and end"
        value = int(peak["peak"] or 0)
    return {
        "peak": value,
        "peak_at": peak["peak_at"].isoformat() if peak["peak_at"] is not None else None,
        # Little's law: average in flight = total busy time / elapsed time.
        "mean": round(float(facts["busy_ms"] or 0.0) / window_ms, 2),
        "method": method,
    }


def _peak_bytes(ctx: AnalysisContext) -> int:
    value = ctx.db.rows(
        "SELECT max(b) AS peak FROM (SELECT sum(bytes_sent) AS b FROM requests "
        "WHERE ts IS NOT NULL GROUP BY date_trunc('second', ts))"
    )[0]["peak"]
    return int(value or 0)


def _busiest_hours(ctx: AnalysisContext) -> list[dict[str, Any]]:
    """The three hours of the day (UTC) with the most requests per day observed."""
    rows = ctx.db.rows(
        """
        SELECT hour(ts) AS hour, count(*) / count(DISTINCT CAST(ts AS DATE)) AS per_day
        FROM requests WHERE ts IS NOT NULL GROUP BY 1 ORDER BY per_day DESC, hour LIMIT 3
        """
    )
    return [{"hour": int(r["hour"]), "requests_per_day": round(r["per_day"], 1)} for r in rows]


def _database(ctx: AnalysisContext, options: CapacityProfileOptions) -> dict[str, Any]:
    kind = (
        "lower(regexp_extract(regexp_replace(coalesce(sql, ''), "
        "'^(\\s|\\(|/\\*.*?\\*/|--[^\\n]*\\n)+', ''), '^([A-Za-z]+)', 1))"
    )
    mix = ctx.db.rows(
        f"""
        SELECT count(*) AS n,
               count(*) FILTER (WHERE {kind} IN {_READ}) AS reads,
               count(*) FILTER (WHERE {kind} IN {_WRITE}) AS writes,
               sum(duration_ms) AS db_ms
        FROM queries
        """
    )[0]
    classified = mix["reads"] + mix["writes"]
    out: dict[str, Any] = {
        "queries": mix["n"],
        "queries_per_s": _per_second(ctx, "queries"),
        "reads": mix["reads"],
        "writes": mix["writes"],
        "read_share": round(mix["reads"] / classified, 4) if classified else None,
    }
    if mix["db_ms"] is not None:
        out["db_time_ms"] = round(float(mix["db_ms"]), 1)
    if ctx.db.count("correlations"):
        routes = ctx.db.rows(
            """
            WITH per_request AS (
                SELECT r.route, r.source, r.line, count(*) AS queries,
                       sum(q.duration_ms) AS db_ms
                FROM correlations c
                JOIN queries q ON q.source = c.source AND q.line = c.line
                JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
                WHERE c.kind = 'query' AND r.route IS NOT NULL
                GROUP BY r.route, r.source, r.line
            )
            SELECT route, count(*) AS requests, avg(queries) AS queries_per_request,
                   avg(db_ms) AS db_ms_per_request, sum(db_ms) AS db_ms
            FROM per_request GROUP BY route
            ORDER BY db_ms DESC NULLS LAST, route LIMIT ?
            """,
            [options.top_routes],
        )
        out["by_route"] = [
            {
                "route": r["route"],
                "requests": r["requests"],
                "queries_per_request": round(r["queries_per_request"], 2),
                "db_ms_per_request": (
                    round(r["db_ms_per_request"], 3) if r["db_ms_per_request"] is not None else None
                ),
            }
            for r in routes
        ]
    return out


def _sizing_note(evidence: dict[str, Any], headroom: float) -> str:
    rates = evidence["requests_per_s"]
    parts = [
        _(
            "Plan for {target} req/s ({headroom:g}× the observed peak of {peak}; median second "
            "{p50})"
        ).format(
            target=math.ceil(rates["peak"] * headroom),
            headroom=headroom,
            peak=rates["peak"],
            p50=rates["p50"],
        )
    ]
    concurrency = evidence.get("concurrency")
    if concurrency:
        parts.append(
            _(
                "synchronous workers (gunicorn sync, Puma threads, PHP-FPM children) ≥ "
                "{workers} across instances, for a peak of {peak} requests in flight (average "
                "{mean:g})"
            ).format(
                workers=math.ceil(concurrency["peak"] * headroom),
                peak=concurrency["peak"],
                mean=concurrency["mean"],
            )
        )
    db = evidence.get("database")
    if db:
        share = db["read_share"]
        note = _("the database peaks at {rate} queries/s").format(rate=db["queries_per_s"]["peak"])
        if share is not None:
            note += _(", {share:.0%} reads").format(share=share) + (
                _(" (a read replica or a cache would take most of it)") if share >= 0.8 else ""
            )
        parts.append(note)
    hours = evidence.get("busiest_hours_utc") or []
    if hours:
        busiest = ", ".join(f"{h['hour']:02d}:00" for h in hours)
        parts.append(_("busiest hours (UTC): {hours}").format(hours=busiest))
    return _("{parts}.").format(parts="; ".join(parts))
