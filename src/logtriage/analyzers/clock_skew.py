"""M006 clock-skew: two logs whose clocks disagree, measured on queries tied to requests by id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import _


@dataclass(frozen=True)
class ClockSkewOptions:
    """Thresholds for M006."""

    min_pairs: int = 20
    # Report when the typical query falls this far outside its request's window …
    min_skew_ms: float = 50.0
    # … and most tied queries are outside it on the same side.
    min_share_outside: float = 0.5


class ClockSkew:
    """A database (or app) log whose clock disagrees with the web server's.

    What it finds:
        Pairs of logs where queries tied to their request by an exact id (request id or trace
        id) mostly start before their request began or after it ended, by a consistent amount:
        the median distance outside the window is the skew between the two machines' clocks.

    Why it matters:
        Time is what ties untagged queries to requests, and what puts an error burst next to
        the deploy that caused it. A clock that is off by a second sends every time-based
        match to the wrong request and every timeline out of order.

    Example:
        ``postgresql.log`` runs 1.8 s behind ``access.log``: 96 % of 12,000 tied queries start
        before their request.

    How to fix:
        Run NTP (chrony/systemd-timesyncd) on every host and log in UTC with milliseconds
        (nginx ``$msec``, PostgreSQL ``%m``); until then, tag queries with the request id so
        matching does not depend on time.

    Options:
        ``min_pairs`` (20), ``min_skew_ms`` (50.0), ``min_share_outside`` (0.5).
    """

    code: ClassVar[str] = "M006"
    name: ClassVar[str] = "clock-skew"
    needs: ClassVar[tuple[str, ...]] = ("queries", "requests")
    Options: ClassVar[type[ClockSkewOptions]] = ClockSkewOptions

    def run(self, ctx: AnalysisContext, options: ClockSkewOptions) -> list[Finding]:
        """One finding per (request log, query log) pair whose clocks disagree."""
        if not ctx.db.count("correlations"):
            return []
        rows = ctx.db.rows(
            """
            WITH pairs AS (
                SELECT r.source AS web, q.source AS db,
                       -- ms before the request's start (< 0) or after its end (> 0), else 0
                       CASE
                           WHEN q.ts < r.ts THEN epoch(q.ts - r.ts) * 1000
                           WHEN q.ts > r.ts + to_microseconds((r.duration_ms * 1000)::BIGINT)
                           THEN epoch(q.ts - r.ts) * 1000 - r.duration_ms
                           ELSE 0 END AS outside_ms
                FROM correlations c
                JOIN queries q ON q.source = c.source AND q.line = c.line
                JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
                WHERE c.kind = 'query' AND c.how IN ('request_id', 'trace_id')
                  AND q.ts IS NOT NULL AND r.ts IS NOT NULL AND r.duration_ms IS NOT NULL
            )
            SELECT web, db, count(*) AS n, median(outside_ms) AS skew_ms,
                   count(*) FILTER (WHERE outside_ms < 0) AS before,
                   count(*) FILTER (WHERE outside_ms > 0) AS after
            FROM pairs GROUP BY web, db HAVING count(*) >= ?
            ORDER BY web, db
            """,
            [options.min_pairs],
        )
        return [
            self._finding(row)
            for row in rows
            if abs(row["skew_ms"]) >= options.min_skew_ms
            and max(row["before"], row["after"]) / row["n"] >= options.min_share_outside
        ]

    def _finding(self, row: dict[str, Any]) -> Finding:
        skew = float(row["skew_ms"])
        outside = max(row["before"], row["after"]) / row["n"]
        title = (
            _(
                "{db} runs about {seconds:.2f} s behind {web}: {share:.0%} of {count} queries "
                "tied by id fall outside their request"
            )
            if skew < 0
            else _(
                "{db} runs about {seconds:.2f} s ahead of {web}: {share:.0%} of {count} queries "
                "tied by id fall outside their request"
            )
        ).format(
            db=row["db"],
            seconds=abs(skew) / 1000,
            web=row["web"],
            share=outside,
            count=f"{row['n']:,}",
        )
        return Finding(
            code=self.code,
            name=self.name,
            severity=Severity.MEDIUM if abs(skew) >= 1000 else Severity.LOW,
            score=0.05,
            title=title,
            evidence={
                "request_log": row["web"],
                "query_log": row["db"],
                "tied_queries": row["n"],
                "median_outside_ms": round(skew, 3),
                "before_request": row["before"],
                "after_request": row["after"],
            },
            impact={"queries": row["n"]},
            fix=_(
                "Run NTP (chrony or systemd-timesyncd) on both hosts and log in UTC with "
                "milliseconds (nginx $msec, PostgreSQL %m); keep tagging queries with the "
                "request id so matching does not depend on time."
            ),
        )
