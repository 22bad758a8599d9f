"""P007 duplicate-queries: the same statement, same parameters, repeated within one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.analyzers.base import share, table_of
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import _


@dataclass(frozen=True)
class DuplicateQueriesOptions:
    """Thresholds for P007."""

    min_repeats: int = 3
    min_units: int = 2


class DuplicateQueries:
    """The same statement with the same parameters runs several times in one request.

    What it finds:
        Within one unit of work (a request, or a burst on one connection), an identical
        statement — same text, same values — that runs at least ``min_repeats`` times, in at
        least ``min_units`` requests. A health check that runs once per request is not this:
        the repeats must be inside one request.

    Why it matters:
        The answer cannot have changed between the repeats; each one is a wasted round trip,
        usually a lookup (current user, settings, feature flags) called from several places of
        the same request.

    Example:
        ``GET /cart`` runs ``select * from users where id = 42`` 6 times per request.

    How to fix:
        Compute it once per request and pass it down, or memoize it for the request (a
        request-scoped cache, Django's ``cached_property``, Rails ``CurrentAttributes``).

    Options:
        ``min_repeats`` (3), ``min_units`` (2).
    """

    code: ClassVar[str] = "P007"
    name: ClassVar[str] = "duplicate-queries"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[DuplicateQueriesOptions]] = DuplicateQueriesOptions

    def run(self, ctx: AnalysisContext, options: DuplicateQueriesOptions) -> list[Finding]:
        """One finding per (route, fingerprint) with identical repeats."""
        if not ctx.db.count("unit_queries"):
            return []
        db_total = ctx.db.rows("SELECT sum(duration_ms) AS t FROM queries")[0]["t"] or 0.0
        rows = ctx.db.rows(
            """
            WITH shapes AS (
                -- Counts first, over the numbers of the unit and the shape: a statement can
                -- only repeat where its shape does, so only those queries are grouped by text.
                SELECT uid, fid FROM unit_queries GROUP BY uid, fid HAVING count(*) >= ?
            ), per AS (
                -- A unit has one route and a shape one fingerprint: grouped by their numbers.
                SELECT any_value(q.unit) AS unit, any_value(q.route) AS route,
                       any_value(q.fingerprint) AS fingerprint, q.sql, count(*) AS n,
                       sum(q.duration_ms) AS db_ms, min(q.source) AS source, min(q.line) AS line
                FROM unit_queries q
                JOIN shapes s ON s.uid = q.uid AND s.fid = q.fid
                -- A bound statement ($1, ?) without its parameters may differ in values.
                WHERE NOT regexp_matches(q.sql, '\\$[0-9]+|[=(,] *\\?')
                GROUP BY q.uid, q.fid, q.sql HAVING count(*) >= ?
            )
            SELECT route, fingerprint, count(DISTINCT unit) AS units,
                   quantile_disc(n, 0.5) AS n_p50, max(n) AS n_max,
                   sum(db_ms) AS db_ms, sum(db_ms * (n - 1) / n) AS wasted_ms,
                   arg_max({'sql': sql, 'source': source, 'line': line, 'repeats': n},
                           {'n': n, 'unit': unit})
                       AS example
            FROM per GROUP BY route, fingerprint HAVING count(DISTINCT unit) >= ?
            ORDER BY route NULLS LAST, fingerprint
            """,
            [options.min_repeats, options.min_repeats, options.min_units],
        )
        findings = []
        for row in rows:
            wasted = row["wasted_ms"] or 0.0
            time_share = share(wasted, db_total)
            subject = row["route"] or _("queries outside any request")
            table = table_of(row["fingerprint"]) or _("the same rows")
            findings.append(
                Finding(
                    code=self.code,
                    name=self.name,
                    severity=Severity.MEDIUM if row["n_p50"] >= 5 else Severity.LOW,
                    # Wasted database time only: duplicates are cheap next to a loop.
                    score=0.5 * time_share,
                    title=_(
                        "{subject} reads {table} with the same query {count} times per request "
                        "({requests} requests)"
                    ).format(
                        subject=subject, table=table, count=row["n_p50"], requests=row["units"]
                    ),
                    route=row["route"],
                    fingerprint=row["fingerprint"],
                    evidence={
                        "requests_affected": row["units"],
                        "repeats_per_request_p50": row["n_p50"],
                        "repeats_per_request_max": row["n_max"],
                        "db_time_ms": round(row["db_ms"] or 0.0, 3),
                    },
                    impact={
                        "wasted_db_ms": round(wasted, 3),
                        "share_of_total": round(time_share, 4),
                    },
                    fix=_(
                        "Run it once per request and reuse the result (pass it down, or a "
                        "request-scoped cache / memoized property)."
                    ),
                    examples=(row["example"],),
                )
            )
        return findings
