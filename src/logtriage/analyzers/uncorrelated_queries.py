"""M003 uncorrelated-queries: queries that cannot be tied to requests, and how to tag them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import share
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _

_HOW_TO_TAG = N_(
    "Tag every query with the request it serves: enable sqlcommenter (SQLAlchemy: "
    "google-cloud-sqlcommenter / opentelemetry-instrumentation-sqlalchemy with "
    "enable_commenter=True; Django: the sqlcommenter middleware; Rails 7+: "
    "config.active_record.query_log_tags_enabled = true with a :request_id tag), make the web "
    "server log the same id (nginx: $request_id in log_format and proxy_set_header "
    "X-Request-ID $request_id; Apache: %{UNIQUE_ID}e with mod_unique_id), and "
    "let the database log the session (PostgreSQL: %c or %p in log_line_prefix)."
)


@dataclass(frozen=True)
class UncorrelatedQueriesOptions:
    """Thresholds for M003."""

    # Report when at least this share of the queries could not be tied to a request.
    min_share_uncorrelated: float = 0.1


class UncorrelatedQueries:
    """Queries that could not be tied to the request that caused them, and how to fix that.

    What it finds:
        When both requests and queries were read: how many queries matched no request, split
        by why — no shared id and several concurrent requests could have run them
        (ambiguous), or no request was running at that time (background jobs, another
        service, clocks far apart) — and how the matched ones were matched.

    Why it matters:
        Per-request analysis (N+1, duplicate queries, queries per request by route) sees only
        the queries tied to requests. Timing alone cannot separate concurrent requests; an id
        shared by the web log and the SQL comments can.

    Example:
        62 % of 48,210 queries are not tied to a request: 29,001 fell in the windows of
        several concurrent requests; no query carries a request id.

    How to fix:
        Put the request id into the SQL (sqlcommenter, Rails QueryLogs, marginalia) and into
        the access log (nginx ``$request_id`` + ``X-Request-ID``), and log the database
        session (``%c``/``%p``); with millisecond timestamps (nginx ``$msec``) time windows
        get sharper too.

    Options:
        ``min_share_uncorrelated`` (0.1).
    """

    code: ClassVar[str] = "M003"
    name: ClassVar[str] = "uncorrelated-queries"
    needs: ClassVar[tuple[str, ...]] = ("queries", "requests")
    Options: ClassVar[type[UncorrelatedQueriesOptions]] = UncorrelatedQueriesOptions

    def run(self, ctx: AnalysisContext, options: UncorrelatedQueriesOptions) -> list[Finding]:
        """One finding when too many queries stay untied."""
        stats: dict[str, Any] = dict(ctx.facts.get("correlation") or {})
        queries = int(stats.get("queries") or ctx.db.count("queries"))
        correlated = int(stats.get("correlated") or 0)
        missing = queries - correlated
        ratio = share(missing, queries)
        if not queries or ratio < options.min_share_uncorrelated:
            return []
        keyed = ctx.db.rows(
            "SELECT count(request_id) AS with_request_id, count(trace_id) AS with_trace_id, "
            "count(connection) AS with_connection FROM queries"
        )[0]
        coarse = list(stats.get("coarse_query_sources") or ())
        evidence: dict[str, Any] = {
            "queries": queries,
            "correlated": correlated,
            "uncorrelated": missing,
            "ambiguous": stats.get("ambiguous", 0),
            "outside_any_request": stats.get("outside_any_request", 0),
            "matched_by": stats.get("by_how", {}),
            **keyed,
        }
        fix = _(_HOW_TO_TAG)
        if coarse:
            evidence["one_second_timestamps"] = coarse
            fix = (
                _(
                    "{sources} writes timestamps to the second only, so time cannot tell which "
                    "request ran a query (MariaDB's slow log; MySQL 8 writes microseconds)."
                ).format(sources=", ".join(coarse))
                + " "
                + fix
            )
        return [
            Finding(
                code=self.code,
                name=self.name,
                severity=Severity.MEDIUM if ratio >= 0.5 else Severity.LOW,
                score=0.2 * ratio,
                title=_(
                    "{share:.0%} of {count} queries are not tied to a request: per-request "
                    "analysis (N+1, duplicates) sees only the rest"
                ).format(share=ratio, count=f"{queries:,}"),
                evidence=evidence,
                impact={"queries_untied": missing, "share_of_total": round(ratio, 4)},
                fix=fix,
            )
        ]
