"""P001 n-plus-one-queries: one request runs the same query shape many times with new parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import share, table_of
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import ms
from logtriage.model.i18n import _


@dataclass(frozen=True)
class NPlusOneOptions:
    """Thresholds for P001 (Sentry's defaults are 5 repeats and 50 ms of span time)."""

    min_repeats: int = 5
    # Database time of the repeats in one request; logs measure server time only (no round
    # trips), so the default is lower than Sentry's span-based 50 ms.
    min_db_ms: float = 0.0
    # One request is enough: a single traced request with a loop is an N+1.
    min_units: int = 1
    examples: int = 1
    sequence_shown: int = 12


class NPlusOneQueries:
    """One request runs the same query shape many times with different parameters (N+1).

    What it finds:
        Within one unit of work — a request the query was tied to, or, without an access log,
        a burst of queries on one database connection — a fingerprint that runs at least
        ``min_repeats`` times with different parameters (distinct statements), other queries
        interleaved or not. It names the "source" query that ran just before the loop, how
        many queries per request (p50, max), whether the count grows with the data (varies
        between requests) or is a fixed fan-out, and the database time.

    Why it matters:
        Each repeat is a round trip: 30 authors loaded one by one cost 30 network hops, 30
        parses and 30 plans where one query would do. It grows with the data, so the page gets
        slower as the customer gets bigger — the classic reason "only this page is slow".

    Example:
        ``GET /articles`` runs ``select … from authors where authors.id = ?`` 30 times per
        request (p50 30, max 100) after ``select … from articles limit ?``.

    How to fix:
        Load the related rows with the parent query: eager loading (SQLAlchemy
        ``selectinload``/``joinedload``, Django ``select_related``/``prefetch_related``, Rails
        ``includes``, Hibernate ``JOIN FETCH``) or one ``WHERE id IN (...)`` query for the
        whole page, or a join.

    Options:
        ``min_repeats`` (5), ``min_db_ms`` (0.0), ``min_units`` (1): requests that must show
        it, ``examples`` (1), ``sequence_shown`` (12): queries listed from an example request.
    """

    code: ClassVar[str] = "P001"
    name: ClassVar[str] = "n-plus-one-queries"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[NPlusOneOptions]] = NPlusOneOptions

    def run(self, ctx: AnalysisContext, options: NPlusOneOptions) -> list[Finding]:
        """One finding per (route, fingerprint) that loops."""
        if not ctx.db.count("unit_queries"):
            return []
        totals = ctx.db.rows(
            "SELECT (SELECT sum(duration_ms) FROM requests) AS request_ms, "
            "(SELECT sum(duration_ms) FROM queries) AS db_ms"
        )[0]
        rows = ctx.db.rows(
            """
            WITH per AS (
                -- Counts first, over the numbers of the unit (it has one route) and the shape
                -- (one fingerprint): only the queries of a shape that runs often enough in its
                -- unit are compared by their text.
                SELECT uid, fid, any_value(unit) AS unit, any_value(route) AS route,
                       any_value(fingerprint) AS fingerprint, count(*) AS n,
                       sum(duration_ms) AS db_ms, min(seq) AS first_seq,
                       any_value(request_ms) AS request_ms
                FROM unit_queries GROUP BY uid, fid
                HAVING count(*) >= ? AND coalesce(sum(duration_ms), 0) >= ?
            ), texts AS (
                SELECT q.uid, q.fid, count(DISTINCT q.sql) AS distinct_sql,
                       bool_and(regexp_matches(q.sql, '\\$[0-9]+|[=(,] *\\?')) AS all_bound
                FROM unit_queries q
                JOIN per p ON p.uid = q.uid AND p.fid = q.fid
                GROUP BY q.uid, q.fid
            ), hits AS (
                -- Bind placeholders ($1, ?) hide the values when the log has no parameters:
                -- repeats of a bound statement count as different parameters.
                SELECT p.* FROM per p
                JOIN texts t ON t.uid = p.uid AND t.fid = p.fid
                WHERE t.distinct_sql >= ? OR t.all_bound
            ), sourced AS (
                SELECT h.*, u.fingerprint AS source_fp, u.rows_sent AS source_rows
                FROM hits h LEFT JOIN unit_queries u ON u.uid = h.uid AND u.seq = h.first_seq - 1
            ), route_units AS (
                -- Each unit has one first query: counting those counts the units.
                SELECT route, count(*) AS units FROM unit_queries WHERE seq = 1 GROUP BY route
            )
            SELECT s.route, s.fingerprint, count(*) AS units, any_value(r.units) AS route_units,
                   quantile_disc(s.n, 0.5) AS n_p50, max(s.n) AS n_max, min(s.n) AS n_min,
                   sum(s.db_ms) AS db_ms, sum(s.request_ms) AS request_ms,
                   mode(s.source_fp ORDER BY s.source_fp) AS source_fp,
                   corr(s.n, s.source_rows) AS rows_corr,
                   -- Ties (on the count, on the commonest source) go to one named value,
                   -- so two runs show the same example.
                   arg_max(s.unit, {'n': s.n, 'unit': s.unit}) AS example_unit
            FROM sourced s LEFT JOIN route_units r ON r.route IS NOT DISTINCT FROM s.route
            GROUP BY s.route, s.fingerprint HAVING count(*) >= ?
            ORDER BY s.route NULLS LAST, s.fingerprint
            """,
            [options.min_repeats, options.min_db_ms, options.min_repeats, options.min_units],
        )
        # The same loop seen in requests and, where they could not be tied, on bare
        # connections is one finding: the untied part is evidence, not a second finding.
        routed = {r["fingerprint"] for r in rows if r["route"] is not None}
        untied = {r["fingerprint"]: r["units"] for r in rows if r["route"] is None}
        shown = [r for r in rows if r["route"] is not None or r["fingerprint"] not in routed]
        examples = _example_queries(ctx, {r["example_unit"] for r in shown}, options)
        findings = []
        for row in shown:
            finding = self._finding(options, row, totals, examples[row["example_unit"]])
            if row["route"] is not None and row["fingerprint"] in untied:
                finding.evidence["units_not_tied_to_a_request"] = untied[row["fingerprint"]]
            findings.append(finding)
        return findings

    def _finding(
        self,
        options: NPlusOneOptions,
        row: dict[str, Any],
        totals: dict[str, Any],
        unit_rows: list[dict[str, Any]],
    ) -> Finding:
        route = row["route"]
        fingerprint = row["fingerprint"]
        table = table_of(fingerprint) or _("one table")
        grows = row["n_min"] != row["n_max"]
        if route is not None and totals["request_ms"] and row["request_ms"]:
            impact_ms = row["request_ms"]
            time_share = share(impact_ms, totals["request_ms"])
        else:
            impact_ms = row["db_ms"] or 0.0
            time_share = share(impact_ms, totals["db_ms"] or 0.0)
        severity = (
            Severity.HIGH
            if row["n_p50"] >= 20 or time_share >= 0.2
            else Severity.MEDIUM
            if row["n_p50"] >= 10 or time_share >= 0.05
            else Severity.LOW
        )
        subject = route or _("queries outside any request (one database connection)")
        title = (
            _("{subject} runs {count} queries on {table} per request (up to {max}) — an N+1")
            if grows
            else _("{subject} runs {count} queries on {table} per request — an N+1")
        ).format(subject=subject, count=row["n_p50"], table=table, max=row["n_max"])
        sequence = unit_rows[: options.sequence_shown]
        request = unit_rows[0]
        example: dict[str, Any] = {
            "unit": row["example_unit"],
            "queries": [
                {k: q[k] for k in ("seq", "sql", "duration_ms", "source", "line")} for q in sequence
            ],
        }
        if request["request_line"] is not None:
            example.update(
                source=request["request_source"],
                line=request["request_line"],
                request_id=request["request_id"],
                duration_ms=request["request_ms"],
            )
        evidence: dict[str, Any] = {
            "requests_affected": row["units"],
            "requests_of_route": row["route_units"],
            "queries_per_request_p50": row["n_p50"],
            "queries_per_request_max": row["n_max"],
            "count": (
                _("grows with the data")
                if grows
                else _("fixed at {count}").format(count=row["n_max"])
            ),
            "db_time_ms": round(row["db_ms"] or 0.0, 3),
        }
        if row["source_fp"]:
            evidence["source_query"] = row["source_fp"]
        # NaN when the counts do not vary (no correlation to speak of): left out.
        if row["rows_corr"] is not None and not math.isnan(row["rows_corr"]):
            evidence["correlation_with_source_rows"] = round(row["rows_corr"], 3)
        loader = (
            _(" (the rows of `{table}`)").format(table=table_of(row["source_fp"]))
            if row["source_fp"]
            else ""
        )
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            # Fixing the loop is the root-cause fix of its route's time: rank it just above.
            score=min(1.0, 1.1 * time_share),
            title=title,
            route=route,
            fingerprint=fingerprint,
            evidence=evidence,
            impact={"time_ms": round(impact_ms, 3), "share_of_total": round(time_share, 4)},
            fix=_(
                "Load {table} together with the rows that drive the loop{loader}: eager "
                "loading (SQLAlchemy selectinload/joinedload, Django select_related/"
                "prefetch_related, Rails includes, Hibernate JOIN FETCH) or one "
                "`WHERE id IN (...)` query for the whole page instead of "
                "{count} single-row queries ({time} of database time in all)."
            ).format(table=table, loader=loader, count=row["n_p50"], time=ms(row["db_ms"] or 0.0)),
            examples=(example,),
        )


def _example_queries(
    ctx: AnalysisContext, units: set[str], options: NPlusOneOptions
) -> dict[str, list[dict[str, Any]]]:
    """The first queries of each example unit, in order: one scan for all the findings."""
    if not units:
        return {}
    names = sorted(units)
    rows = ctx.db.rows(
        "SELECT unit, seq, fingerprint, sql, duration_ms, source, line, request_source, "
        "request_line, request_id, request_ms FROM unit_queries "
        f"WHERE seq <= ? AND unit IN ({', '.join('?' for _ in names)}) ORDER BY unit, seq",
        [max(options.sequence_shown, 1), *names],
    )
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for row in rows:
        out[row["unit"]].append(row)
    return out
