"""M007 sampled-or-truncated-log: lines cut at a length limit, access logs that keep a part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _
from logtriage.model.report import InputSummary

# Lengths (bytes) that known writers and relays cut lines at, and the setting that lifts it.
_LIMITS: dict[int, str] = {
    1024: N_(
        "1 KiB is the BSD syslog (RFC 3164) limit and PHP-FPM's log_limit default: raise the "
        'relay\'s limit (rsyslog global(maxMessageSize="64k"), syslog-ng log-msg-size(65536)), '
        "set log_limit = 65536 in php-fpm.conf, or log to a file instead of syslog."
    ),
    2048: N_(
        "2 KiB is where nginx cuts its error-log lines (NGX_MAX_ERROR_STR, fixed at build time) "
        "and a common syslog relay limit: log long values (request bodies, SQL) to a file of "
        "their own, or raise the relay's maxMessageSize."
    ),
    8192: N_(
        '8 KiB is rsyslog\'s default maxMessageSize: set global(maxMessageSize="64k") (or '
        "$MaxMessageSize 64k before the inputs) on every relay the lines pass."
    ),
    10000: N_(
        "Heroku's Logplex splits lines longer than 10,000 bytes into chunks: log less per line "
        "(no request bodies or whole SQL), the limit cannot be changed."
    ),
    16384: N_(
        "16 KiB is where Docker splits a line: the shipper kept only the first piece; join "
        "them (Fluent Bit multiline.parser docker,cri; Fluentd fluent-plugin-concat) or give "
        "logtriage the runtime's json-file or CRI log itself."
    ),
    32768: N_(
        "32 KiB is Fluent Bit's tail Buffer_Max_Size default: raise Buffer_Max_Size for the "
        "input that reads this log."
    ),
    65536: N_("64 KiB is syslog-ng's default log-msg-size: raise log-msg-size() in its options."),
}
_SLACK = 2  # a relay may count the newline or a trailing NUL in its limit
_GENERIC_LIMIT = N_(
    "Something between the program and this file cuts lines at {bytes} bytes: a syslog relay "
    "(maxMessageSize, log-msg-size), the shipper's line buffer, or the writer's own limit; "
    "raise it, or log long values somewhere else."
)


@dataclass(frozen=True)
class SampledOrTruncatedLogOptions:
    """Thresholds for M007."""

    # Lines cut at one length: at least this many lines of exactly the longest length …
    min_cut_lines: int = 5
    # … that many times more than the average length just below it (a cliff, not a tail) …
    cliff_factor: float = 10.0
    # … and at least this long (short fixed-width lines are a format, not a cut).
    min_cut_bytes: int = 200
    # An access log misses requests when this share of the request ids the app or database
    # logs name within its time span is in no access log …
    min_missing_share: float = 0.2
    # … out of at least this many ids.
    min_ids: int = 20
    # An access log with at least this many requests and none below 400 logs only errors.
    min_requests: int = 50


class SampledOrTruncatedLog:
    """Logs that keep only part of what happened: lines cut at a length, or requests left out.

    What it finds:
        Lines cut at a fixed length: an input whose longest lines (at least ``min_cut_bytes``
        bytes) are at least ``min_cut_lines`` lines of exactly one length, ``cliff_factor``
        times more than the lengths just below, mostly ending mid-token; the limit is named
        when it is a known one (syslog 1 KiB/8 KiB, nginx's 2 KiB error lines, Heroku's 10,000
        bytes, Docker's 16 KiB). Access logs that keep only part of the requests: request ids
        that app or database logs name (``min_ids`` at least) inside the access logs' time
        span but that no access log has (``min_missing_share``), and access logs of at least
        ``min_requests`` requests with no status below 400 (only errors are logged).

    Why it matters:
        A cut line loses its end (the user agent, the error's cause, the SQL's WHERE) and is
        often rejected outright; a sampled or error-only access log makes counts, rates, error
        ratios and capacity numbers wrong by the sampling factor, silently.

    Example:
        ``app.log``: 412 lines are exactly 1024 bytes long, cut mid-word (syslog's 1 KiB
        limit); ``access.log``: 38% of the 900 request ids in ``app.log`` are not in it.

    How to fix:
        Raise the limit that cuts lines (rsyslog ``maxMessageSize``, syslog-ng
        ``log-msg-size``, PHP-FPM ``log_limit``) or log long values elsewhere; log every
        request for the triage window: remove the ``if=`` condition of nginx's ``access_log``
        (``map $request_id $sample`` sampling, ``map $status $loggable``), Apache's
        ``CustomLog … expr=``/``env=``, and give every server's access log.

    Options:
        ``min_cut_lines`` (5), ``cliff_factor`` (10.0), ``min_cut_bytes`` (200),
        ``min_missing_share`` (0.2), ``min_ids`` (20), ``min_requests`` (50).
    """

    code: ClassVar[str] = "M007"
    name: ClassVar[str] = "sampled-or-truncated-log"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[SampledOrTruncatedLogOptions]] = SampledOrTruncatedLogOptions

    def run(self, ctx: AnalysisContext, options: SampledOrTruncatedLogOptions) -> list[Finding]:
        """Cut lines per input, then requests the access logs left out."""
        findings = [
            finding
            for item in ctx.inputs
            if (finding := self._cut_lines(item, options)) is not None
        ]
        if ctx.db.count("requests"):
            findings.extend(self._missing_ids(ctx, options))
            findings.extend(self._errors_only(ctx, options))
        return findings

    def _cut_lines(
        self, item: InputSummary, options: SampledOrTruncatedLogOptions
    ) -> Finding | None:
        longest = item.longest
        if longest is None or longest.bytes < options.min_cut_bytes:
            return None
        neighbours = max(1.0, longest.just_below / 64)
        if (
            longest.count < options.min_cut_lines
            or longest.count < options.cliff_factor * neighbours
        ):
            return None
        if longest.open_ended * 2 < longest.count:
            return None
        limit = next((n for n in _LIMITS if n - _SLACK <= longest.bytes <= n + _SLACK), None)
        fix = _(_LIMITS[limit]) if limit else _(_GENERIC_LIMIT).format(bytes=longest.bytes)
        share = longest.count / max(1, item.lines)
        return Finding(
            code=self.code,
            name=self.name,
            severity=Severity.MEDIUM if share >= 0.01 else Severity.LOW,
            score=0.3 * min(1.0, 10 * share),
            title=_(
                "{source}: {count} lines are cut at exactly {bytes} bytes ({share:.1%} of the file)"
            ).format(source=item.path, count=longest.count, bytes=longest.bytes, share=share),
            evidence={
                "source": item.path,
                "line_bytes": longest.bytes,
                "lines_at_that_length": longest.count,
                "lines_up_to_64_bytes_shorter": longest.just_below,
                "ending_mid_token": longest.open_ended,
                "known_limit": limit,
            },
            impact={"lines": longest.count, "share_of_total": round(share, 4)},
            fix=fix,
        )

    def _missing_ids(
        self, ctx: AnalysisContext, options: SampledOrTruncatedLogOptions
    ) -> list[Finding]:
        # Plain aggregates and joins only: the same SQL runs on Spark (no ordered DISTINCT
        # string_agg, no correlated subquery).
        span = ctx.db.rows(
            "SELECT min(ts) AS lo, max(ts) AS hi, count(request_id) AS with_id "
            "FROM requests WHERE ts IS NOT NULL"
        )[0]
        # Without ids in the access log, M002 says to add them; nothing to compare here.
        if not span["with_id"]:
            return []
        named_sql = """
            SELECT request_id, source FROM app_events
            WHERE request_id IS NOT NULL AND ts BETWEEN ? AND ?
            UNION ALL
            SELECT request_id, source FROM queries
            WHERE request_id IS NOT NULL AND ts BETWEEN ? AND ?
        """
        window = [span["lo"], span["hi"], span["lo"], span["hi"]]
        row = ctx.db.rows(
            f"""
            WITH ids AS (SELECT DISTINCT request_id FROM ({named_sql}) n),
            known AS (SELECT DISTINCT request_id FROM requests WHERE request_id IS NOT NULL)
            SELECT count(*) AS named,
                   sum(CASE WHEN known.request_id IS NULL THEN 1 ELSE 0 END) AS missing
            FROM ids LEFT JOIN known ON ids.request_id = known.request_id
            """,
            window,
        )[0]
        named, missing = int(row["named"] or 0), int(row["missing"] or 0)
        if named < options.min_ids or missing / named < options.min_missing_share:
            return []
        share = missing / named
        sources = ", ".join(
            r["source"] for r in ctx.db.rows("SELECT DISTINCT source FROM requests ORDER BY source")
        )
        namers = ", ".join(
            r["source"]
            for r in ctx.db.rows(
                f"SELECT DISTINCT source FROM ({named_sql}) n ORDER BY source", window
            )
        )
        return [
            Finding(
                code=self.code,
                name=self.name,
                severity=Severity.MEDIUM,
                score=0.3 * share,
                title=_(
                    "{sources} lacks {share:.0%} of the requests {namers} names in the same "
                    "period ({missing} of {named} request ids): sampled or filtered"
                ).format(
                    sources=sources,
                    share=share,
                    namers=namers,
                    missing=missing,
                    named=named,
                ),
                evidence={
                    "access_logs": sources,
                    "named_by": namers,
                    "request_ids_named": named,
                    "request_ids_missing": missing,
                },
                impact={"requests_missing": missing, "share_of_total": round(share, 4)},
                fix=_(
                    "Log every request for the triage window: remove the if= condition of "
                    "nginx's access_log (map $request_id $sample sampling) or Apache's "
                    "CustomLog expr=/env=, and give the access logs of every server behind "
                    "the load balancer."
                ),
            )
        ]

    def _errors_only(
        self, ctx: AnalysisContext, options: SampledOrTruncatedLogOptions
    ) -> list[Finding]:
        rows = ctx.db.rows(
            """
            SELECT source, count(*) AS n, min(status) AS lowest
            FROM requests WHERE status IS NOT NULL
            GROUP BY source HAVING count(*) >= ? AND min(status) >= 400
            ORDER BY source
            """,
            [options.min_requests],
        )
        return [
            Finding(
                code=self.code,
                name=self.name,
                severity=Severity.MEDIUM,
                score=0.2,
                title=_(
                    "{source} logs only failed requests: {count} requests, none with a status "
                    "below {lowest}"
                ).format(source=row["source"], count=row["n"], lowest=row["lowest"]),
                evidence={
                    "source": row["source"],
                    "requests": row["n"],
                    "lowest_status": row["lowest"],
                },
                impact={"requests": row["n"]},
                fix=_(
                    "The access log is conditional (nginx access_log … if=$loggable with map "
                    '$status $loggable; Apache CustomLog … "expr=%{REQUEST_STATUS} >= 400"): '
                    "log every request, or error rates and traffic cannot be measured."
                ),
            )
            for row in rows
        ]
