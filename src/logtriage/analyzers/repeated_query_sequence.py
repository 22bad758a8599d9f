"""P002 repeated-query-sequence: a sequence of query shapes repeats within one request (MN+1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.analyzers.base import share, table_of
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import _


@dataclass(frozen=True)
class RepeatedQuerySequenceOptions:
    """Thresholds for P002 (Sentry's MN+1: a pattern of at most 5, repeated at least 3 times)."""

    max_length: int = 5
    min_repeats: int = 3
    min_units: int = 1


class RepeatedQuerySequence:
    """A sequence of different query shapes that repeats within one request (an MN+1).

    What it finds:
        Within one unit of work, a block of 2 to ``max_length`` query fingerprints (not all the
        same: that is P001) that runs at least ``min_repeats`` times back to back, e.g. for
        every order: load its items, then its shipping address.

    Why it matters:
        It is an N+1 in disguise: a loop over rows that issues several queries per row. The
        per-shape counts look small, so shape-based profiles miss it.

    Example:
        ``GET /orders`` repeats [``select … from order_items …``, ``select … from addresses …``]
        25 times per request.

    How to fix:
        Load every relation the loop touches up front (eager loading of each relation, or one
        ``IN (...)`` query per relation), then loop in memory.

    Options:
        ``max_length`` (5), ``min_repeats`` (3), ``min_units`` (1).
    """

    code: ClassVar[str] = "P002"
    name: ClassVar[str] = "repeated-query-sequence"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[RepeatedQuerySequenceOptions]] = RepeatedQuerySequenceOptions

    def run(self, ctx: AnalysisContext, options: RepeatedQuerySequenceOptions) -> list[Finding]:
        """One finding per (route, sequence) that repeats."""
        if not ctx.db.count("unit_queries"):
            return []
        total = ctx.db.rows(
            "SELECT (SELECT sum(duration_ms) FROM requests) AS r, "
            "(SELECT sum(duration_ms) FROM queries) AS q"
        )[0]
        blocks = []
        for length in range(2, options.max_length + 1):
            # The block starting at each query, and whether the next blocks are the same one.
            blocks.append(
                f"""
                SELECT unit, route, request_ms, seq, {length} AS len, blk,
                       blk = lead(blk, {length}) OVER u AS same_next
                FROM (
                    SELECT *, list(fingerprint) OVER (
                        PARTITION BY unit ORDER BY seq
                        ROWS BETWEEN CURRENT ROW AND {length - 1} FOLLOWING) AS blk
                    FROM unit_queries
                )
                WHERE len(blk) = {length} AND len(list_distinct(blk)) = {length}
                WINDOW u AS (PARTITION BY unit ORDER BY seq)
                """
            )
        rows = ctx.db.rows(
            f"""
            WITH b AS ({" UNION ALL ".join(blocks)}),
            runs AS (
                -- Gaps and islands: starts i, i+len, i+2len… whose next block is the same.
                SELECT unit, route, request_ms, len, blk, count(*) + 1 AS repeats,
                       min(seq) AS first_seq
                FROM (
                    SELECT *, seq % len AS phase,
                           seq // len - row_number() OVER (
                               PARTITION BY unit, len, seq % len, blk ORDER BY seq) AS island
                    FROM b WHERE same_next
                )
                GROUP BY unit, route, request_ms, len, blk, phase, island
            ), best AS (
                -- [A, B] repeated also reads as [B, A] one query later: keep one rotation.
                SELECT * FROM runs WHERE repeats >= ?
                QUALIFY row_number() OVER (
                    PARTITION BY unit, len, list_sort(blk) ORDER BY repeats DESC, first_seq) = 1
            )
            SELECT route, blk, any_value(len) AS len, count(DISTINCT unit) AS units,
                   quantile_disc(repeats, 0.5) AS repeats_p50, max(repeats) AS repeats_max,
                   sum(request_ms) AS request_ms
            FROM best GROUP BY route, blk HAVING count(DISTINCT unit) >= ?
            ORDER BY route NULLS LAST, blk
            """,
            [options.min_repeats, options.min_units],
        )
        findings = []
        for row in rows:
            tables = [table_of(fp) or "?" for fp in row["blk"]]
            time_share = share(row["request_ms"] or 0.0, total["r"] or 0.0)
            subject = row["route"] or _("queries outside any request")
            findings.append(
                Finding(
                    code=self.code,
                    name=self.name,
                    severity=Severity.HIGH if row["repeats_p50"] >= 20 else Severity.MEDIUM,
                    score=min(1.0, 1.05 * time_share),
                    title=_(
                        "{subject} repeats a {length}-query sequence ({tables}) {count} times "
                        "per request"
                    ).format(
                        subject=subject,
                        length=row["len"],
                        tables=" → ".join(tables),
                        count=row["repeats_p50"],
                    ),
                    route=row["route"],
                    fingerprint=row["blk"][0],
                    evidence={
                        "sequence": list(row["blk"]),
                        "requests_affected": row["units"],
                        "repeats_per_request_p50": row["repeats_p50"],
                        "repeats_per_request_max": row["repeats_max"],
                    },
                    impact={
                        "time_ms": round(row["request_ms"] or 0.0, 3),
                        "share_of_total": round(time_share, 4),
                    },
                    fix=_(
                        "Load {tables} for all rows up front (eager loading of each relation, "
                        "or one IN (...) query per relation), then loop in memory."
                    ).format(tables=", ".join(dict.fromkeys(tables))),
                )
            )
        return findings
