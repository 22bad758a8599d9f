"""M004 log-gap: a stretch of time inside a log's span with no lines at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import iso_utc
from logtriage.model.i18n import _, ngettext

_TABLES = ("requests", "queries", "app_events", "db_events")


@dataclass(frozen=True)
class LogGapOptions:
    """Thresholds for M004."""

    # A silence counts when it is this many times the file's usual gap between records …
    gap_factor: float = 50.0
    # … and at least this long.
    min_gap_s: float = 300.0
    # Files with fewer records say too little about their usual rhythm.
    min_records: int = 100


class LogGap:
    """Stretches of time inside a log's span where it has no records at all.

    What it finds:
        For each input file with at least ``min_records`` timed records, silences between two
        consecutive records that last at least ``min_gap_s`` seconds and at least
        ``gap_factor`` times the file's median gap: when they started and ended, and how much
        of the span they cover.

    Why it matters:
        A busy service does not go quiet for half an hour: either it was down, or logging
        stopped (disk full, a rotation that lost a file, a sampler, a crashed shipper). Every
        other finding is computed without that stretch, so an outage can hide in it.

    Example:
        ``access.log`` has no lines from 02:10 to 02:55 UTC (45 min), while it usually writes a
        line every 0.2 s.

    How to fix:
        Check whether the service was down then (the load balancer's health checks, the
        deploy history); if not, look at the log pipeline: logrotate (``copytruncate`` versus
        ``create`` + a reload), disk space, the shipper's backlog, sampling settings.

    Options:
        ``gap_factor`` (50.0), ``min_gap_s`` (300.0), ``min_records`` (100).
    """

    code: ClassVar[str] = "M004"
    name: ClassVar[str] = "log-gap"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[LogGapOptions]] = LogGapOptions

    def run(self, ctx: AnalysisContext, options: LogGapOptions) -> list[Finding]:
        """One finding per file with silences, naming the longest ones."""
        findings = []
        for table in _TABLES:
            if not ctx.db.count(table):
                continue
            sources = _sources_with_long_gaps(ctx, table, options)
            if not sources:
                continue
            rows = ctx.db.rows(
                f"""
                WITH t AS (
                    SELECT source, ts, epoch(ts - lag(ts) OVER (PARTITION BY source ORDER BY ts))
                                       AS gap_s
                    FROM {table} WHERE ts IS NOT NULL AND list_contains(?, source)
                ), usual AS (
                    SELECT source, count(*) AS n, median(gap_s) AS median_s,
                           epoch(max(ts) - min(ts)) AS span_s
                    FROM t GROUP BY source HAVING count(*) >= ?
                )
                SELECT t.source, u.median_s, u.span_s, u.n,
                       t.ts - to_microseconds((t.gap_s * 1000000)::BIGINT) AS gap_start,
                       t.ts AS gap_end, t.gap_s
                FROM t JOIN usual u USING (source)
                WHERE t.gap_s >= ? AND t.gap_s >= ? * greatest(u.median_s, 0.001)
                ORDER BY t.source, t.gap_s DESC, t.ts
                """,
                [sources, options.min_records, options.min_gap_s, options.gap_factor],
            )
            by_source: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_source.setdefault(row["source"], []).append(row)
            for source, gaps in sorted(by_source.items()):
                findings.append(self._finding(source, gaps))
        return findings

    def _finding(self, source: str, gaps: list[dict[str, Any]]) -> Finding:
        total = sum(float(g["gap_s"]) for g in gaps)
        span = float(gaps[0]["span_s"] or 1.0)
        longest = gaps[0]
        minutes = float(longest["gap_s"]) / 60
        share = total / span if span else 0.0
        return Finding(
            code=self.code,
            name=self.name,
            severity=Severity.MEDIUM if share >= 0.05 else Severity.LOW,
            score=0.3 * min(1.0, share),
            title=ngettext(
                "{source} has no records for {minutes:.0f} min from {start} ({count} silence, "
                "{share:.0%} of its span)",
                "{source} has no records for {minutes:.0f} min from {start} ({count} silences, "
                "{share:.0%} of its span)",
                len(gaps),
            ).format(
                source=source,
                minutes=minutes,
                start=iso_utc(longest["gap_start"]),
                count=len(gaps),
                share=share,
            ),
            evidence={
                "source": source,  # the file: what a diff matches this finding by
                "silences": [
                    {
                        "start": iso_utc(g["gap_start"]),
                        "end": iso_utc(g["gap_end"]),
                        "seconds": round(float(g["gap_s"]), 1),
                    }
                    for g in gaps[:5]
                ],
                "usual_gap_s": round(float(longest["median_s"]), 3),
                "records": longest["n"],
            },
            impact={"seconds_without_records": round(total, 1), "share_of_total": round(share, 4)},
            fix=_(
                "Check whether the service was down then (health checks, deploys); if not, the "
                "log pipeline lost it: logrotate (copytruncate vs create + reload), disk space, "
                "the shipper's backlog, or sampling."
            ),
        )


def _sources_with_long_gaps(ctx: AnalysisContext, table: str, options: LogGapOptions) -> list[Any]:
    """The files of ``table`` with a silence of ``min_gap_s`` or more between two records.

    Sorting every timestamp (the lag above) costs most of this analyzer, and a busy log
    rarely has such a silence; so first a parallel GROUP BY over buckets half ``min_gap_s``
    wide. Two records at least ``min_gap_s`` apart never share a bucket, so every such
    silence runs from the last record of one non-empty bucket to the first record of the
    next: the same two records, hence the same gap, as in the sorted pass. Only the files
    found here get the sorted pass (for the median gap and the exact list).
    """
    if options.min_gap_s <= 0:
        return [r["source"] for r in ctx.db.rows(f"SELECT DISTINCT source FROM {table}")]
    rows = ctx.db.rows(
        f"""
        WITH b AS (
            SELECT source, bucket, count(*) AS n, min(ts) AS lo, max(ts) AS hi
            FROM (
                SELECT source, ts, floor(epoch(ts) / ?) AS bucket
                FROM {table} WHERE ts IS NOT NULL
            ) GROUP BY source, bucket
        ), g AS (
            SELECT source, n,
                   epoch(lead(lo) OVER (PARTITION BY source ORDER BY bucket) - hi) AS gap_s
            FROM b
        )
        SELECT source FROM g GROUP BY source
        HAVING sum(n) >= ? AND max(gap_s) >= ?
        ORDER BY source
        """,
        [options.min_gap_s / 2, options.min_records, options.min_gap_s],
    )
    return [r["source"] for r in rows]
