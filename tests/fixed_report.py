"""A hand-built report that exercises every renderer feature, and the XSS payloads to plant."""

from __future__ import annotations

from typing import Any

from logtriage.model.finding import Finding, Location, Severity
from logtriage.model.report import InputSummary, Report

# Script that must never run when the HTML report is opened: each sets a sentinel or alerts.
XSS_PAYLOADS = (
    "<script>window.__xss=1</script>",
    '"><script>window.__xss=2</script>',
    "'><img src=x onerror=window.__xss=3>",
    "<img src=x onerror=alert(4)>",
    "<svg onload=window.__xss=5>",
    "<svg><script>window.__xss=6</script></svg>",
    "javascript:window.__xss=7",
    "<iframe src=javascript:window.__xss=8></iframe>",
    "<body onload=window.__xss=9>",
    "</textarea><script>window.__xss=10</script>",
    "</title><script>window.__xss=11</script>",
    "</style><script>window.__xss=12</script>",
    "<details open ontoggle=window.__xss=13>",
    "<a href=javascript:window.__xss=14>x</a>",
    "{{7*7}}<script>window.__xss=15</script>",
    "<math><mtext></table><img src=x onerror=window.__xss=16>",
    "<input autofocus onfocus=window.__xss=17>",
    "&lt;script&gt;window.__xss=18&lt;/script&gt;",
    "<scr<script>ipt>window.__xss=19</scr</script>ipt>",
    "<video><source onerror=window.__xss=20>",
    "<object data=javascript:window.__xss=21>",
    "`<marquee onstart=window.__xss=22>`",
    "]]><script>window.__xss=23</script>",
    "<meta http-equiv=refresh content=0;url=javascript:window.__xss=24>",
)

# Secrets the pipeline must redact before any renderer sees them.
SECRETS = ("hunter2-s3cret", "AKIAABCDEFGHIJKLMNOP", "sk_live_abcdefghijklmnop1234")


def payload(i: int) -> str:
    return XSS_PAYLOADS[i % len(XSS_PAYLOADS)]


def fixed_report(*, hostile: bool = False) -> Report:
    """A deterministic report; with ``hostile`` every string a log can reach holds a payload."""

    def s(text: str, i: int) -> str:
        return f"{text} {payload(i)}" if hostile else text

    route = s("GET /articles", 0)
    sql = s("select * from authors where authors.id = ?", 1)
    findings = (
        Finding(
            code="P001",
            name="n-plus-one-queries",
            severity=Severity.HIGH,
            score=0.42,
            title=s("GET /articles runs 30 queries on authors per request", 2),
            route=route,
            fingerprint=sql,
            evidence={
                "requests_affected": 812,
                "queries_per_request_p50": 30,
                "db_time_ms": 5123.4,
                "source_query": s("select * from articles limit ?", 3),
                "sequence": [s("select 1", 4), "select * from authors where id = ?"],
                "statuses": {"200": 800, s("500", 5): 12},
            },
            impact={"time_ms": 123456.0, "share_of_total": 0.31},
            location=(Location(s("app/views.py", 6), 57, "source-scan", 0.8),),
            fix=s("Load authors with the articles: `selectinload` or one `WHERE id IN (...)`", 7),
            examples=({"request_id": s("req-1", 8), "source": "access.log", "line": 1234},),
        ),
        Finding(
            code="A001",
            name="error-prone-route",
            severity=Severity.MEDIUM,
            score=0.12,
            title=s("POST /checkout fails 33% of the time", 9),
            route=s("POST /checkout", 10),
            evidence={"requests": 90, "errors_5xx": 30, "error_rate": 0.3333},
            impact={"requests_failed": 30, "share_of_total": 0.08},
            fix="Look for the stack trace of the 502s in the app log.",
            examples=({"source": s("access.log", 11), "line": 77, "path": s("/checkout?a=1", 12)},),
        ),
        Finding(
            code="M001",
            name="unparsed-input",
            severity=Severity.LOW,
            score=0.01,
            title=s("3 lines of access.log did not parse", 13),
            evidence={"rejected": 3, "reason": s("no match", 14)},
            fix="Give the log_format with --nginx-log-format.",
            examples=({"source": "access.log", "line": 5, "text": s('GET "/x" 200', 15)},),
        ),
    )
    routes = (
        {
            "route": route,
            "count": 812,
            "p50_ms": 120.0,
            "p95_ms": 900.5,
            "p99_ms": 1500.0,
            "max_ms": 2100.0,
            "total_ms": 123456.0,
            "share_of_time": 0.31,
            "error_rate": 0.0,
            "errors_4xx": 3,
            "bytes_sent": 1048576,
            "queries_per_request": 31.0,
        },
        {
            "route": s("POST /checkout", 10),
            "count": 90,
            "p50_ms": 50.0,
            "p95_ms": 80.0,
            "p99_ms": 95.0,
            "max_ms": 120.0,
            "total_ms": 4500.0,
            "share_of_time": 0.01,
            "error_rate": 0.3333,
            "errors_4xx": 0,
            "bytes_sent": None,
            "queries_per_request": None,
        },
    )
    queries = (
        {
            "fingerprint_id": "a1b2c3d4e5f60718",
            "fingerprint": sql,
            "count": 24360,
            "total_ms": 5123.4,
            "p95_ms": 0.9,
            "rows_examined": None,
            "rows_sent": 24360,
        },
        {
            "fingerprint_id": "0f1e2d3c4b5a6978",
            "fingerprint": s("select * from articles limit ?", 16),
            "count": 812,
            "total_ms": 2100.0,
            "p95_ms": 4.0,
            "rows_examined": 8120,
            "rows_sent": 8120,
        },
    )
    points: list[dict[str, Any]] = [
        {
            "ts": f"2026-11-24T10:{minute:02d}:00Z",
            "requests": 100 + minute,
            "errors_5xx": minute % 4,
            "errors_4xx": 1,
            "error_rate": round((minute % 4) / (100 + minute), 4),
            "p50_ms": 100.0 + minute,
            "p95_ms": 800.0 + 10 * minute,
            "p99_ms": 1400.0 + 10 * minute,
            "queries": 3000 + minute,
            "db_ms": 600.0 + minute,
        }
        for minute in range(12)
    ]
    histograms = (
        {
            "route": route,
            "metric": "duration_ms",
            "scale": "log",
            "count": 812,
            "bins": [
                {"lo": 70.0, "hi": 100.0, "count": 100},
                {"lo": 100.0, "hi": 150.0, "count": 500},
                {"lo": 150.0, "hi": 200.0, "count": 200},
                {"lo": 200.0, "hi": 300.0, "count": 12},
            ],
        },
        {
            "route": route,
            "metric": "queries_per_request",
            "scale": "linear",
            "count": 812,
            "bins": [
                {"lo": 30.0, "hi": 31.0, "count": 700},
                {"lo": 31.0, "hi": 32.0, "count": 112},
            ],
        },
    )
    return Report(
        generated_at="2026-11-25T00:00:00Z",
        inputs=(
            InputSummary(
                path=s("access.log", 17),
                format="nginx",
                lines=1000,
                records=997,
                rejected=3,
                first_ts="2026-11-24T10:00:00Z",
                last_ts="2026-11-24T10:11:59Z",
                variant=s("combined_timing", 18),
                missing=("request_id",),
            ),
        ),
        summary={
            "requests": 997,
            "queries": 25172,
            "correlated_queries": 25000,
            "time_range": ["2026-11-24T10:00:00Z", "2026-11-24T10:11:59Z"],
            "lines": 1000,
            "rejected": 3,
            "routes": 2,
            "p50_ms": 110.0,
            "p95_ms": 880.0,
            "p99_ms": 1450.0,
            "error_rate": 0.03,
        },
        findings=findings,
        routes=routes,
        queries=queries,
        extra={
            "suppressed": [
                {
                    "code": "P004",
                    "title": s("GET /batch is slow", 19),
                    "route": s("GET /batch", 20),
                    "reason": s("batch job, by design", 21),
                }
            ]
        },
        timeseries={"bucket_seconds": 60, "points": points},
        histograms=histograms,
    )
