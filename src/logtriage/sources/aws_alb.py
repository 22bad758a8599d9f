"""AWS Application Load Balancer access logs (and Classic Load Balancer ones).

Fields: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
(``type time elb client:port target:port request_processing_time target_processing_time
response_processing_time elb_status_code target_status_code received_bytes sent_bytes
"request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
"chosen_cert_arn" matched_rule_priority request_creation_time …``); Classic:
https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html
(no ``type`` and nothing after ``ssl_protocol``). ALB's ``time`` is when the response was
sent, ``request_creation_time`` when the request came in (the row's ``ts``); Classic's
``time`` is when the request came in. The duration is the sum of the three processing times
(``-1``: the target did not answer; on ALB the duration is then ``time`` minus
``request_creation_time``, how long the client waited, on Classic it is NULL), the target
processing time is the upstream time; ``error_reason`` and a desync ``classification`` of
Ambiguous/Severe become a WARNING app event beside the request. ``X-Amzn-Trace-Id``
(``Root=1-…``) is the request id as the targets receive it, and the trace id in W3C form
(X-Ray's id without ``1-`` and dashes: what OpenTelemetry's X-Ray propagator reports).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.app_fields import sql_str
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

# The request and user agent are the client's text (a quote inside is escaped); the other
# quoted fields are AWS's own, without quotes. Escape-aware matching of every field costs 3.5x.
_QUOTED_ESC = r'"((?:[^"\\]|\\.)*)"'
_QUOTED = r'"([^"]*)"'
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"
_SECONDS = r"-?\d+(?:\.\d+)?"
_LINE = (
    r"^(?:(https?|h2|grpcs|wss?) )?(" + _ISO + r") (\S+) (\S+) (\S+) "
    rf"({_SECONDS}) ({_SECONDS}) ({_SECONDS}) (\d{{3}}|-) (\d{{3}}|-) (\d+|-) (\d+|-) "
    rf"{_QUOTED_ESC} {_QUOTED_ESC} (\S+) (\S+)"
    rf"(?: (\S+)(?: {_QUOTED} {_QUOTED} {_QUOTED} (\S+) (\S+)"
    # actions_executed redirect_url error_reason target:port_list target_status_code_list
    # classification classification_reason (each added to the format over the years).
    rf"(?: {_QUOTED} {_QUOTED} {_QUOTED}(?: {_QUOTED} {_QUOTED}(?: {_QUOTED} {_QUOTED})?)?)?)?)?"
    r"(?: .*)?$"
)
_GROUPS = [
    "type",
    "time",
    "elb",
    "client",
    "target",
    "t_request",
    "t_target",
    "t_response",
    "status",
    "target_status",
    "received",
    "sent",
    "request",
    "user_agent",
    "cipher",
    "protocol",
    "target_group",
    "trace",
    "domain",
    "cert",
    "priority",
    "created",
    "actions",
    "redirect_url",
    "error_reason",
    "target_list",
    "target_status_list",
    "classification",
    "classification_reason",
]
_LINE_RE = re.compile(_LINE)
_REQUEST = r"^([A-Za-z][A-Za-z0-9_-]{0,31}|-) (\S+) ?(?:HTTP/\d(?:\.\d)?|-)?$"


def _seconds_ms(name: str) -> str:
    return f"CASE WHEN NOT starts_with({name}, '-') THEN try_cast({name} AS DOUBLE) * 1000.0 END"


def setup_sql() -> str:
    """Parse every line once into ``tmp_aws_alb`` (requests and app events read it)."""
    fields = ", ".join(f"'{g}'" for g in _GROUPS)
    return f"""
CREATE TEMP TABLE tmp_aws_alb AS
WITH x AS (
    SELECT line, regexp_extract(text, '{sql_str(_LINE)}', [{fields}]) AS g FROM {{lines}}
), f AS (
    SELECT line, g.time = '' AS bad, unnest(g) FROM x
)
SELECT *,
    regexp_extract(request, '{sql_str(_REQUEST)}', ['method', 'url']) AS rl,
    regexp_extract(trace, 'Root=(1-[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{24}})', 1) AS xray,
    try_cast(time AS TIMESTAMPTZ)::TIMESTAMP AS end_ts,
    CASE WHEN type = '' THEN try_cast(time AS TIMESTAMPTZ)::TIMESTAMP
        ELSE coalesce(try_cast(created AS TIMESTAMPTZ)::TIMESTAMP,
                      try_cast(time AS TIMESTAMPTZ)::TIMESTAMP) END AS ts
FROM f
"""


def requests_sql() -> str:
    """Request rows from ``tmp_aws_alb``, with ``_reject``."""
    return f"""
SELECT
    ts,
    CASE WHEN NOT (starts_with(t_request, '-') OR starts_with(t_target, '-')
                   OR starts_with(t_response, '-'))
        THEN (try_cast(t_request AS DOUBLE) + try_cast(t_target AS DOUBLE)
              + try_cast(t_response AS DOUBLE)) * 1000.0
        -- A target that never answered (-1): the client still waited from the request's
        -- arrival (request_creation_time) to the response (time): the 504 after the idle
        -- timeout is the slowest request there is, not one without a duration.
        WHEN type <> '' AND created <> '' AND end_ts >= ts
        THEN round((epoch(end_ts) - epoch(ts)) * 1000.0, 3) END AS duration_ms,
    NULLIF(NULLIF(rl.method, ''), '-') AS method,
    NULLIF(split_part(regexp_replace(rl.url, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', ''),
        '?', 1), '') AS path,
    NULL::VARCHAR AS route,
    CASE WHEN strpos(rl.url, '?') > 0
        THEN NULLIF(substr(rl.url, strpos(rl.url, '?') + 1), '') END AS query,
    try_cast(status AS INTEGER) AS status,
    try_cast(sent AS BIGINT) AS bytes_sent,
    NULLIF(NULLIF(regexp_replace(client, ':\\d+$', ''), '-'), '') AS client,
    NULLIF(NULLIF(user_agent, '-'), '') AS user_agent,
    NULL::VARCHAR AS referrer,
    NULLIF(regexp_extract(trace, 'Root=[^;"]+'), '') AS request_id,
    NULLIF(replace(substr(xray, 3), '-', ''), '') AS trace_id,
    {_seconds_ms("t_target")} AS upstream_ms,
    coalesce(NULLIF(NULLIF(domain, '-'), ''),
        NULLIF(regexp_extract(rl.url, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:]+)', 1), '')) AS host,
    line,
    CASE
        WHEN bad THEN 'not an AWS load balancer access log line'
        WHEN end_ts IS NULL THEN 'unreadable timestamp'
    END AS _reject
FROM tmp_aws_alb
"""


def app_events_sql() -> str:
    """One WARNING per request the load balancer itself failed or flagged.

    ``error_reason`` (``LambdaInvalidResponse``, ``AuthInvalidIdToken``, …) and a desync
    ``classification`` of Ambiguous or Severe say why; the event keeps the request's line
    and trace id beside it, WARNING so a 5xx is not counted twice by the error analyzers.
    """
    return """
SELECT ts, 'WARNING' AS level,
    'AWS load balancer: ' || concat_ws('; ', NULLIF(NULLIF(error_reason, '-'), ''),
        CASE WHEN classification IN ('Ambiguous', 'Severe')
            THEN classification || ' request (' || classification_reason || ')' END)
        || ' -> ' || status || ' ' || request AS message,
    NULLIF(regexp_extract(trace, 'Root=[^;"]+'), '') AS request_id,
    NULLIF(replace(substr(xray, 3), '-', ''), '') AS trace_id,
    coalesce(NULLIF(NULLIF(error_reason, '-'), ''), classification) AS error_type,
    NULL::VARCHAR AS stack,
    MAP {'error_reason': error_reason, 'classification': classification,
         'classification_reason': classification_reason, 'elb_status_code': status,
         'target_status_code': target_status, 'target': target} AS attributes,
    line
FROM tmp_aws_alb
WHERE NOT bad AND ts IS NOT NULL
    AND (NULLIF(NULLIF(error_reason, '-'), '') IS NOT NULL
         OR classification IN ('Ambiguous', 'Severe'))
"""


class AwsAlbFormat:
    """AWS Application Load Balancer access logs; Classic Load Balancer lines too."""

    name = "aws_alb"
    table = "requests"
    description = (
        "AWS Application Load Balancer access logs (and Classic Load Balancer ones), "
        "as delivered to S3"
    )
    recognises = (
        "type time elb client:port target:port three processing times, ELB and target "
        'status, bytes, "GET https://host:443/path HTTP/1.1" "user agent" … "Root=1-…" …; '
        "Classic lines start with the time"
    )
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            "the three processing times are -1 when the load balancer could not reach a "
            "target or the target closed the connection: check the target group's health "
            "and the targets' keep-alive timeout (longer than the load balancer's idle timeout)"
        ),
        "request_id": (
            "Classic Load Balancer logs carry no trace id: an Application Load Balancer adds "
            "X-Amzn-Trace-Id (Root=1-…) to each request and logs it; have the targets log "
            "that header too"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are ALB or Classic ELB access log lines."""
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return Detection(confidence=0.0)
        hits = [m for ln in sample if (m := _LINE_RE.match(ln))]
        alb = sum(1 for m in hits if m.group(1))
        variant = "alb" if alb * 2 >= len(hits) else "classic"
        return Detection(confidence=len(hits) / len(sample), variant=variant, detail=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse; Classic logs lack the trace id (reported missing)."""
        hits = [m for ln in sample if (m := _LINE_RE.match(ln))]
        has_trace = any((m.group(18) or "-") != "-" for m in hits)
        missing = () if has_trace or not hits else ("request_id", "trace_id")
        return ParsePlan(
            table="requests",
            select_sql=requests_sql(),
            variant=variant or "alb",
            missing=missing,
            setup=(setup_sql(),),
            also=(("app_events", app_events_sql()),),
        )


FORMAT = AwsAlbFormat()
