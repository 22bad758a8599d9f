"""A002 error-burst: time windows where server, database or application errors spike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from logtriage.analyzers.secret_shapes import mask_sql
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _
from logtriage.model.percentiles import disc_rank, value_at_rank_sql

# Bucket widths tried, widest first: the widest that still gives ``min_buckets`` buckets.
_BUCKETS_S = (3600, 900, 300, 60, 10)

_ERRORS_SQL = """
    SELECT ts, 'http' AS signal, source, line, route AS subject,
           CAST(status AS VARCHAR) AS detail, NULL::VARCHAR AS message, client
    FROM requests WHERE status >= 500 AND ts IS NOT NULL
    UNION ALL
    SELECT ts, 'db', source, line, db, kind, message, NULL
    FROM db_events
    WHERE ts IS NOT NULL AND (level IN ('ERROR', 'FATAL', 'PANIC')
          OR kind IN ('error', 'deadlock', 'lock_timeout', 'statement_timeout'))
    UNION ALL
    SELECT ts, 'app', source, line, NULL, error_type, message, NULL
    FROM app_events WHERE ts IS NOT NULL AND level IN ('ERROR', 'CRITICAL')
"""
# Every timestamp, and the cuts of them that bound the buckets.
_TIMES = (
    "SELECT ts FROM requests UNION ALL SELECT ts FROM db_events UNION ALL SELECT ts FROM app_events"
)
_CUTS = (0.001, 0.999)
# App and database lines that say the service changed: deploys, restarts, crashes.
_MARKERS = (
    r"(?i)\b(deploy(ed|ing|ment)?|release[ds]?|starting|started|booting|listening at|"
    r"shutting down|shutdown|restart(ed|ing)?|reload(ed|ing)?|migrat(e|ed|ing|ion)|"
    r"worker timeout|out of memory|oom|killed|sigterm|sigkill|database system is|"
    r"terminating|ready to accept connections|version \d)"
)
_LABELS = {"http": "5xx", "db": N_("database"), "app": N_("app")}


def _normalised(text: str) -> str:
    """SQL: a message with numbers, quoted values, IPs, hex and ids as ``?``, secrets masked."""
    return (
        "regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace("
        f"{mask_sql(text)}, "
        r"'''[^'']*''|\"[^\"]*\"', '?', 'g'), "
        r"'\b\d{1,3}(\.\d{1,3}){3}\b', '?', 'g'), "
        r"'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', '?', 'g'), "
        r"'\b(0x)?[0-9a-f]{12,}\b', '?', 'g'), '\b\d+(\.\d+)?\b', '?', 'g')"
    )


def _span(ctx: AnalysisContext) -> dict[str, datetime] | None:
    """The 0.1 % and 99.9 % points of every timestamp (quantile_disc's), None without any.

    Not min and max: one stray timestamp years away must not stretch the buckets to hours.
    Not quantile_disc itself: its state holds every timestamp outside the memory limit (23M
    requests took the run past 1 GiB), nor the histogram of model/percentiles.py (timestamps
    are nearly all distinct): the timestamps are counted, then each point is read at its rank
    by a top-N of 0.1 % of them.
    """
    n = int(ctx.db.rows(f"SELECT count(ts) AS n FROM ({_TIMES})")[0]["n"])
    if n == 0:
        return None
    first, last = (value_at_rank_sql(f"({_TIMES})", "ts", disc_rank(n, q), n) for q in _CUTS)
    return ctx.db.rows(f"SELECT ({first}) AS first, ({last}) AS last")[0]


@dataclass(frozen=True)
class ErrorBurstOptions:
    """Thresholds for A002."""

    # A bucket is hot when its errors exceed median + k × MAD (scaled) of the same signal.
    k: float = 5.0
    # ...and reach at least this many errors.
    min_errors: int = 10
    # Bucket width adapts to the span: the widest giving this many buckets (10 s at least).
    min_buckets: int = 100
    # Fewer buckets than this and there is no baseline to compare against.
    min_baseline_buckets: int = 20
    max_findings: int = 5
    examples: int = 3


class ErrorBurst:
    """Time windows where 5xx responses, database errors or application errors spike.

    What it finds:
        Windows where a signal — 5xx responses in the access log, errors in the database log
        (failed statements, deadlocks, timeouts), ERROR/CRITICAL events in the application
        log — is far above its own baseline in the same log: a bucket is hot when its count
        is at least ``min_errors`` and above median + ``k`` × MAD of all buckets (robust to
        the burst itself), and for 5xx when the bucket's error rate is also at least twice
        the log's (more errors from more traffic at the usual rate is load, not a burst).
        Buckets are as wide as the span allows while keeping ``min_buckets`` of them (1 min
        for two hours of log, 10 s at least). Neighbouring hot
        buckets form one window. Per window: when it started and ended, the errors per
        signal against the baseline, the routes and statuses hit, the top error messages
        (numbers and values normalised), and what else changed then: routes or clients seen
        for the first time, and app or database lines that mark a deploy, restart or crash.

    Why it matters:
        A burst is an incident: users failed together. Its start time and what changed at
        that moment are the fastest way to its cause (a deploy, a restart, a dependency
        going down, a new client hammering one route).

    Example:
        ``Error burst 10:14–10:21: 412 errors (5xx 300, app 100, database 12) against a
        baseline of 0 per minute; mostly POST /checkout 502``.

    How to fix:
        Read the logs from the window's start: the finding names the top messages and any
        deploy or restart line around it. Roll back or fix what changed; a 502/503 burst
        alongside worker restarts points at the upstream crashing or being recycled.

    Options:
        ``k`` (5.0), ``min_errors`` (10), ``min_buckets`` (100), ``min_baseline_buckets``
        (20), ``max_findings`` (5), ``examples`` (3).
    """

    code: ClassVar[str] = "A002"
    name: ClassVar[str] = "error-burst"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[ErrorBurstOptions]] = ErrorBurstOptions

    def run(self, ctx: AnalysisContext, options: ErrorBurstOptions) -> list[Finding]:
        """One finding per burst window, largest first."""
        span = _span(ctx)
        if span is None:
            return []
        span_s = (span["last"] - span["first"]).total_seconds()
        bucket_s = next((b for b in _BUCKETS_S if span_s / b >= options.min_buckets), 10)
        if span_s / bucket_s + 1 < options.min_baseline_buckets:
            return []
        windows = self._windows(ctx, options, bucket_s, span["first"], span["last"])
        totals = ctx.db.rows(
            f"SELECT count(*) AS errors, (SELECT count(*) FROM requests) AS requests "
            f"FROM ({_ERRORS_SQL})"
        )[0]
        return [
            self._finding(ctx, options, w, bucket_s, span["first"], totals)
            for w in windows[: options.max_findings]
        ]

    def _windows(
        self,
        ctx: AnalysisContext,
        options: ErrorBurstOptions,
        bucket_s: int,
        first: datetime,
        last: datetime,
    ) -> list[dict[str, Any]]:
        """Hot buckets per signal, merged into windows (a one-bucket gap still joins)."""
        bucket = f"INTERVAL {bucket_s} SECOND"
        return ctx.db.rows(
            f"""
            WITH errors AS ({_ERRORS_SQL}),
            buckets AS (
                SELECT unnest(range(time_bucket({bucket}, ?::TIMESTAMP),
                                    time_bucket({bucket}, ?::TIMESTAMP) + {bucket}, {bucket}))
                    AS b
            ),
            signals AS (SELECT DISTINCT signal FROM errors),
            counts AS (
                SELECT s.signal, k.b, count(e.ts) AS n
                FROM signals s CROSS JOIN buckets k
                LEFT JOIN errors e ON e.signal = s.signal AND time_bucket({bucket}, e.ts) = k.b
                GROUP BY s.signal, k.b
            ),
            medians AS (SELECT signal, median(n) AS med FROM counts GROUP BY signal),
            -- The median absolute deviation spelled out (DuckDB's mad()): Spark has no mad.
            baseline AS (
                SELECT c.signal, m.med, median(abs(c.n - m.med)) AS mad
                FROM counts c JOIN medians m USING (signal) GROUP BY c.signal, m.med
            ),
            traffic AS (
                SELECT time_bucket({bucket}, ts) AS b, count(*) AS requests FROM requests
                WHERE ts IS NOT NULL GROUP BY 1
            ),
            overall AS (
                SELECT count(*) FILTER (WHERE status >= 500) / greatest(count(*), 1) AS rate
                FROM requests WHERE ts IS NOT NULL
            ),
            hot AS (
                SELECT c.signal, c.b, c.n, b.med,
                       greatest(?, b.med + ? * greatest(1.4826 * b.mad, 1)) AS threshold
                FROM counts c JOIN baseline b USING (signal)
                LEFT JOIN traffic t ON t.b = c.b
                WHERE c.n >= greatest(?, b.med + ? * greatest(1.4826 * b.mad, 1))
                  -- More 5xx because more traffic at the usual error rate is load, not a
                  -- burst: the window's 5xx rate must be at least twice the log's.
                  AND (c.signal <> 'http'
                       OR c.n >= 2 * (SELECT rate FROM overall) * coalesce(t.requests, 0))
            ),
            hot_buckets AS (SELECT DISTINCT b FROM hot),
            numbered AS (
                SELECT b, sum(CASE WHEN prev IS NULL OR b - prev > 2 * {bucket} THEN 1 ELSE 0 END)
                          OVER (ORDER BY b) AS window_id
                FROM (SELECT b, lag(b) OVER (ORDER BY b) AS prev FROM hot_buckets)
            ),
            per_signal AS (
                SELECT n.window_id, h.signal, sum(h.n) AS hot_errors, max(h.n) AS peak,
                       any_value(h.med) AS baseline
                FROM hot h JOIN numbered n USING (b) GROUP BY n.window_id, h.signal
            )
            -- Joins, not correlated subqueries in the select list: Spark refuses those.
            SELECT w.window_id, w.start, w."end", p.baselines, p.peak
            FROM (
                SELECT window_id, min(b) AS start, max(b) + {bucket} AS "end"
                FROM numbered GROUP BY window_id
            ) w JOIN (
                SELECT window_id, max(peak) AS peak,
                       map_from_entries(list({{'key': signal, 'value': baseline}})) AS baselines
                FROM per_signal GROUP BY window_id
            ) p USING (window_id)
            ORDER BY w.window_id
            """,
            [first, last, options.min_errors, options.k, options.min_errors, options.k],
        )

    def _finding(
        self,
        ctx: AnalysisContext,
        options: ErrorBurstOptions,
        window: dict[str, Any],
        bucket_s: int,
        span_first: datetime,
        totals: dict[str, Any],
    ) -> Finding:
        start, end = window["start"], window["end"]
        per_signal = {
            r["signal"]: int(r["n"])
            for r in ctx.db.rows(
                f"SELECT signal, count(*) AS n FROM ({_ERRORS_SQL}) "
                "WHERE ts >= ? AND ts < ? GROUP BY signal ORDER BY n DESC, signal",
                [start, end],
            )
        }
        errors = sum(per_signal.values())
        minutes = (end - start).total_seconds() / 60.0
        requests = ctx.db.rows(
            "SELECT count(*) AS n, count(*) FILTER (WHERE status >= 500) AS e FROM requests "
            "WHERE ts >= ? AND ts < ?",
            [start, end],
        )[0]
        routes = ctx.db.rows(
            """
            SELECT route, count(*) AS errors, histogram(status) AS statuses FROM requests
            WHERE ts >= ? AND ts < ? AND status >= 500 AND route IS NOT NULL
            GROUP BY route ORDER BY errors DESC, route LIMIT 5
            """,
            [start, end],
        )
        messages = ctx.db.rows(
            f"""
            SELECT signal, {_normalised("coalesce(detail || ': ', '') || message")} AS message,
                   count(*) AS n
            FROM ({_ERRORS_SQL})
            WHERE ts >= ? AND ts < ? AND message IS NOT NULL
            GROUP BY ALL ORDER BY n DESC, message LIMIT 5
            """,
            [start, end],
        )
        changes = self._changes(ctx, start, end, bucket_s, span_first)
        evidence: dict[str, Any] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "bucket_s": bucket_s,
            "errors": per_signal,
            "baseline_per_bucket": {
                _LABELS[k]: float(v) for k, v in sorted((window["baselines"] or {}).items())
            },
            "peak_bucket_errors": int(window["peak"] or 0),
        }
        if requests["n"]:
            evidence["requests_in_window"] = requests["n"]
            evidence["error_rate_in_window"] = round(requests["e"] / requests["n"], 4)
        if routes:
            evidence["routes"] = [
                {
                    "route": r["route"],
                    "errors": r["errors"],
                    "statuses": {str(k): v for k, v in sorted(r["statuses"].items())},
                }
                for r in routes
            ]
        if messages:
            evidence["top_messages"] = [
                {"signal": _LABELS[m["signal"]], "message": m["message"][:300], "count": m["n"]}
                for m in messages
            ]
        evidence.update(changes)
        what = ", ".join(f"{_(_LABELS[k])} {v}" for k, v in per_signal.items())
        baseline = max((float(v) for v in (window["baselines"] or {}).values()), default=0.0)
        title = _(
            "Error burst {start}–{end} ({minutes:.0f} min): {errors} errors ({what}) against a "
            "baseline of {baseline:g} per {bucket} s"
        ).format(
            start=f"{start:%Y-%m-%d %H:%M:%S}",
            end=f"{end:%H:%M:%S}",
            minutes=minutes,
            errors=errors,
            what=what,
            baseline=baseline,
            bucket=bucket_s,
        )
        if routes:
            top_status = max(routes[0]["statuses"].items(), key=lambda kv: kv[1])[0]
            title += _("; mostly {route} {status}").format(
                route=routes[0]["route"], status=top_status
            )
        http = per_signal.get("http", 0)
        rate = evidence.get("error_rate_in_window", 0.0)
        if errors >= 100 or (http >= 20 and rate >= 0.2):
            severity = Severity.HIGH
        elif errors >= 3 * options.min_errors:
            severity = Severity.MEDIUM
        else:
            severity = Severity.LOW
        share_of_errors = errors / totals["errors"] if totals["errors"] else 0.0
        failed_share = http / totals["requests"] if totals["requests"] else 0.0
        score = min(1.0, 0.05 + 2.0 * failed_share + 0.1 * share_of_errors)
        examples = ctx.db.rows(
            f"""
            SELECT source, line, signal, detail, left({mask_sql("message")}, 200) AS message
            FROM ({_ERRORS_SQL}) WHERE ts >= ? AND ts < ?
            ORDER BY ts, source, line LIMIT ?
            """,
            [start, end, options.examples],
        )
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=score,
            title=title,
            evidence=evidence,
            impact={
                "errors": errors,
                "requests_failed": http,
                "share_of_errors": round(share_of_errors, 4),
            },
            fix=_fix(start, messages, changes),
            examples=tuple(
                {k: (_LABELS[v] if k == "signal" else v) for k, v in ex.items() if v is not None}
                for ex in examples
            ),
        )

    @staticmethod
    def _changes(
        ctx: AnalysisContext, start: datetime, end: datetime, bucket_s: int, span_first: datetime
    ) -> dict[str, Any]:
        """What else was new in the window: routes, clients, deploy/restart/crash lines."""
        out: dict[str, Any] = {}
        # "New" needs history before the window.
        if start - span_first >= timedelta(seconds=2 * bucket_s):
            new_routes = ctx.db.rows(
                """
                SELECT route, count(*) AS requests FROM requests
                WHERE ts >= ? AND ts < ? AND route IS NOT NULL
                  -- DISTINCT: the lookup holds each earlier route once, not every request.
                  AND route NOT IN (SELECT DISTINCT route FROM requests
                                    WHERE ts < ? AND route IS NOT NULL)
                GROUP BY route ORDER BY requests DESC, route LIMIT 3
                """,
                [start, end, start],
            )
            if new_routes:
                out["new_routes"] = new_routes
            new_clients = ctx.db.rows(
                """
                WITH w AS (SELECT client FROM requests WHERE ts >= ? AND ts < ?)
                SELECT client, count(*) AS requests FROM w
                WHERE client IS NOT NULL
                  AND client NOT IN (SELECT DISTINCT client FROM requests
                                     WHERE ts < ? AND client IS NOT NULL)
                GROUP BY client HAVING count(*) >= 0.05 * (SELECT count(*) FROM w)
                ORDER BY requests DESC, client LIMIT 3
                """,
                [start, end, start],
            )
            if new_clients:
                out["new_clients"] = new_clients
        around = (start - timedelta(seconds=2 * bucket_s), end + timedelta(seconds=bucket_s))
        markers = ctx.db.rows(
            f"""
            SELECT min(ts) AS ts, source, left({mask_sql("message")}, 200) AS message,
                   count(*) AS count
            FROM (
                SELECT ts, source, message FROM app_events
                UNION ALL SELECT ts, source, message FROM db_events
            )
            WHERE ts >= ? AND ts < ? AND regexp_matches(message, '{_MARKERS}')
            GROUP BY source, message ORDER BY min(ts), message LIMIT 5
            """,
            list(around),
        )
        if markers:
            out["markers"] = [
                {**m, "ts": m["ts"].isoformat() if m["ts"] is not None else None} for m in markers
            ]
        return out


def _fix(start: datetime, messages: list[dict[str, Any]], changes: dict[str, Any]) -> str:
    parts = [_("Read the logs from {start}").format(start=f"{start:%Y-%m-%d %H:%M:%S}")]
    if messages:
        parts.append(_('the top error is "{message}"').format(message=messages[0]["message"][:120]))
    if changes.get("markers"):
        marker = changes["markers"][0]
        parts.append(
            _(
                'it lines up with "{message}" at {time}: a deploy, restart or crash — roll back '
                "or fix that change, and check worker restarts and OOM kills"
            ).format(message=marker["message"][:100], time=marker["ts"])
        )
    if changes.get("new_routes"):
        parts.append(
            _("route {route} appeared only then").format(route=changes["new_routes"][0]["route"])
        )
    if changes.get("new_clients"):
        parts.append(
            _("client {client} appeared only then (rate-limit it if it is the cause)").format(
                client=changes["new_clients"][0]["client"]
            )
        )
    return _("{steps}.").format(steps="; ".join(parts))
