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
        if options.max_length < 2 or not ctx.db.count("unit_queries"):
            return []
        total = ctx.db.rows(
            "SELECT (SELECT sum(duration_ms) FROM requests) AS r, "
            "(SELECT sum(duration_ms) FROM queries) AS q"
        )[0]
        found = ctx.db.rows(
            _repeats_sql(options.max_length),
            [max(options.min_repeats, 2), options.min_repeats, options.min_units],
        )
        if not found:
            return []
        # Shapes are numbered in the order of their text, so the blocks' order is the text's.
        ids = sorted({shape for row in found for shape in row["blk"]})
        names = {
            r["fid"]: r["fingerprint"]
            for r in ctx.db.rows(
                "SELECT DISTINCT fid, fingerprint FROM unit_queries WHERE fid IN "
                f"({', '.join(str(int(i)) for i in ids)})"
            )
        }
        rows = [{**row, "blk": [names[i] for i in row["blk"]]} for row in found]
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


def _repeats_sql(max_length: int) -> str:
    """SQL: per (route, block of shapes), the units where the block repeats back to back.

    Parameters: the fewest runs of a shape a repeat needs (``max(min_repeats, 2)``),
    ``min_repeats``, ``min_units``. The block that starts at each query is read from one sort
    of narrow integer rows (the next ``max_length - 1`` shapes as columns), and only units
    where at least two shapes run often enough to repeat are sorted at all.
    """
    leads = ", ".join(f"lead(id, {k}) OVER u AS f{k}" for k in range(1, max_length))
    blocks = []
    for length in range(2, max_length + 1):
        shapes = [f"f{k}" for k in range(length)]
        block = f"[{', '.join(shapes)}]"
        different = " AND ".join(
            f"{a} <> {b}" for i, a in enumerate(shapes) for b in shapes[i + 1 :]
        )
        # Blocks of different shapes only; the "next" block is the one ``length`` such blocks
        # later in the unit (blocks with a shape twice are skipped, not counted).
        blocks.append(
            f"""
            SELECT uid, seq, {length} AS len, blk FROM (
                SELECT uid, seq, {block} AS blk,
                       {block} = lead({block}, {length}) OVER (PARTITION BY uid ORDER BY seq)
                           AS same_next
                FROM w WHERE {different}
            ) WHERE same_next
            """
        )
    return f"""
        WITH units AS (
            -- Units where two shapes run often enough to repeat: no other can hold a block.
            -- Units and shapes by their numbers (unit_queries.uid, .fid): a shape's number
            -- follows its text, so integer blocks compare, sort and group as the text would.
            SELECT uid, any_value(route) AS route, any_value(request_ms) AS request_ms
            FROM (
                SELECT uid, any_value(route) AS route, any_value(request_ms) AS request_ms
                FROM unit_queries GROUP BY uid, fid HAVING count(*) >= ?
            )
            GROUP BY uid HAVING count(*) >= 2
        ), w AS (
            SELECT uid, seq, id AS f0, {leads}
            FROM (
                SELECT q.uid, q.seq, q.fid AS id
                FROM unit_queries q JOIN units n ON n.uid = q.uid
            )
            WINDOW u AS (PARTITION BY uid ORDER BY seq)
        ), b AS ({" UNION ALL ".join(blocks)}),
        runs AS (
            -- Gaps and islands: starts i, i+len, i+2len… whose next block is the same.
            SELECT uid, len, blk, count(*) + 1 AS repeats, min(seq) AS first_seq
            FROM (
                SELECT *, seq % len AS phase,
                       seq // len - row_number() OVER (
                           PARTITION BY uid, len, seq % len, blk ORDER BY seq) AS island
                FROM b
            )
            GROUP BY uid, len, blk, phase, island
        ), best AS (
            -- [A, B] repeated also reads as [B, A] one query later: keep one rotation.
            SELECT * FROM runs WHERE repeats >= ?
            QUALIFY row_number() OVER (
                PARTITION BY uid, len, list_sort(blk) ORDER BY repeats DESC, first_seq) = 1
        )
        SELECT n.route, b.blk, any_value(b.len) AS len, count(DISTINCT b.uid) AS units,
               quantile_disc(b.repeats, 0.5) AS repeats_p50, max(b.repeats) AS repeats_max,
               sum(n.request_ms) AS request_ms
        FROM best b JOIN units n ON n.uid = b.uid
        GROUP BY n.route, b.blk HAVING count(DISTINCT b.uid) >= ?
        ORDER BY n.route NULLS LAST, b.blk
    """
