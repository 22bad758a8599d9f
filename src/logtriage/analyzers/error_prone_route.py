"""A001 error-prone-route: a route's server-error rate above its objective."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import share
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import iso_utc
from logtriage.model.i18n import N_, _

_STATUS_FIXES = {
    500: N_("an unhandled exception in the handler: look for its stack trace in the app log"),
    502: N_(
        "the upstream closed or refused the connection: it crashed, restarted or is not "
        "listening (check its health, worker restarts and OOM kills)"
    ),
    503: N_("the upstream is overloaded or in maintenance: check worker/connection limits"),
    504: N_(
        "the upstream did not answer in time: the handler is slower than the proxy timeout "
        "(proxy_read_timeout / ProxyTimeout); make it faster or move the work to a background "
        "job"
    ),
}

_OTHER_STATUS = N_("a server-side failure: read the app log")


@dataclass(frozen=True)
class ErrorProneRouteOptions:
    """Thresholds for A001."""

    # Availability objective per route: 0.99 allows 1 % of requests to fail with a 5xx.
    objective: float = 0.99
    min_requests: int = 20
    min_errors: int = 5
    examples: int = 3


def wilson_lower_bound(errors: int, total: int, z: float = 1.96) -> float:
    """Lower bound of the 95 % Wilson interval of ``errors / total`` (robust on small counts)."""
    if total == 0:
        return 0.0
    p = errors / total
    denom = 1 + z * z / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, (centre - margin) / denom)


class ErrorProneRoute:
    """Routes whose server-error (5xx) rate is above the availability objective.

    What it finds:
        Routes with at least ``min_requests`` requests and ``min_errors`` 5xx responses whose
        error rate is above ``1 - objective`` with 95 % confidence (Wilson lower bound), so a
        route with 2 errors in 3 requests is not flagged on noise alone.

    Why it matters:
        Every 5xx is a user who did not get what they asked for; a route that fails often
        burns the error budget of the whole service and usually hides a bug or a dependency
        that is down or too slow.

    Example:
        ``POST /checkout`` fails 7.5 % of the time (151 of 2,013), mostly 504.

    How to fix:
        The finding names the dominant status and what it usually means (500: exception in
        the handler; 502: upstream crashed or not listening; 503: overloaded; 504: slower than
        the proxy timeout) and when the errors started, so the app log can be read there.

    Options:
        ``objective`` (0.99), ``min_requests`` (20), ``min_errors`` (5), ``examples`` (3).
    """

    code: ClassVar[str] = "A001"
    name: ClassVar[str] = "error-prone-route"
    needs: ClassVar[tuple[str, ...]] = ("requests",)
    Options: ClassVar[type[ErrorProneRouteOptions]] = ErrorProneRouteOptions

    def run(self, ctx: AnalysisContext, options: ErrorProneRouteOptions) -> list[Finding]:
        """Flag routes whose 5xx rate is confidently above the objective."""
        total = ctx.db.count("requests")
        if not total:
            return []
        allowed = 1.0 - options.objective
        rows = ctx.db.rows(
            """
            SELECT route, count(*) AS n, count(*) FILTER (WHERE status >= 500) AS errors,
                   min(ts) FILTER (WHERE status >= 500) AS first_error,
                   max(ts) FILTER (WHERE status >= 500) AS last_error,
                   histogram(status) FILTER (WHERE status >= 500) AS statuses
            FROM requests WHERE route IS NOT NULL
            GROUP BY route HAVING count(*) >= ? AND count(*) FILTER (WHERE status >= 500) >= ?
            """,
            [options.min_requests, options.min_errors],
        )
        findings = []
        for row in rows:
            rate = row["errors"] / row["n"]
            if wilson_lower_bound(row["errors"], row["n"]) <= allowed:
                continue
            findings.append(self._finding(ctx, options, row, rate, total))
        return findings

    @staticmethod
    def _exceptions(ctx: AnalysisContext, route: str, limit: int) -> list[dict[str, Any]]:
        """The exception types the app logged for this route's failed requests (tied by id)."""
        if not ctx.db.count("app_events") or not ctx.db.count("correlations"):
            return []
        return ctx.db.rows(
            """
            SELECT e.error_type, count(*) AS count, min(e.message) AS message,
                   min(e.source || ':' || e.line) AS example
            FROM correlations c
            JOIN app_events e ON c.kind = 'app_event' AND e.source = c.source AND e.line = c.line
            JOIN requests r ON r.source = c.request_source AND r.line = c.request_line
            WHERE r.route = ? AND r.status >= 500 AND e.error_type IS NOT NULL
            GROUP BY e.error_type ORDER BY count(*) DESC, e.error_type LIMIT ?
            """,
            [route, limit],
        )

    def _finding(
        self,
        ctx: AnalysisContext,
        options: ErrorProneRouteOptions,
        row: dict[str, Any],
        rate: float,
        total: int,
    ) -> Finding:
        route = row["route"]
        statuses = sorted(row["statuses"].items(), key=lambda kv: (-kv[1], kv[0]))
        top_status = statuses[0][0]
        severity = (
            Severity.HIGH if rate >= 0.2 else Severity.MEDIUM if rate >= 0.05 else Severity.LOW
        )
        examples = ctx.db.rows(
            "SELECT source, line, request_id, path, status, ts FROM requests "
            "WHERE route = ? AND status >= 500 ORDER BY ts, source, line LIMIT ?",
            [route, options.examples],
        )
        meaning = _(_STATUS_FIXES.get(top_status, _OTHER_STATUS))
        first = iso_utc(row["first_error"]) or "?"
        exceptions = self._exceptions(ctx, route, options.examples)
        # Failed requests weigh more than slow ones in the ranking: the user got nothing.
        score = min(1.0, 2.0 * share(row["errors"], total) + 0.1 * rate)
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=score,
            title=_(
                "{route} fails {rate:.1%} of the time ({errors} of {count}), mostly {status}"
            ).format(
                route=route, rate=rate, errors=row["errors"], count=row["n"], status=top_status
            ),
            route=route,
            evidence={
                "requests": row["n"],
                "errors_5xx": row["errors"],
                "error_rate": round(rate, 4),
                "objective": options.objective,
                "statuses": {str(k): v for k, v in statuses},
                "first_error": first,
                "last_error": iso_utc(row["last_error"]),
                **({"exceptions": exceptions} if exceptions else {}),
            },
            impact={
                "requests_failed": row["errors"],
                "share_of_total": round(share(row["errors"], total), 4),
            },
            fix=(
                _("Mostly {status}: {meaning}.").format(status=top_status, meaning=meaning)
                + " "
                + (
                    _(
                        "The app log ties {count} of these failures to {error_type}: start from "
                        "its stack trace."
                    ).format(count=exceptions[0]["count"], error_type=exceptions[0]["error_type"])
                    if exceptions
                    else _("Start with the app log around {time}.").format(time=first)
                )
            ),
            examples=tuple(
                {
                    k: (iso_utc(v) if hasattr(v, "isoformat") else v)
                    for k, v in ex.items()
                    if v is not None
                }
                for ex in examples
            ),
        )
