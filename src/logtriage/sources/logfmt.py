r"""logfmt application logs (``level=info msg="…" request_id=…``) into app events.

logfmt is one record per line of ``key=value`` pairs, a value quoted with ``"`` when it has
spaces (``\"``, ``\\``, ``\n`` escapes). Writers: Go's logrus TextFormatter and log/slog
TextHandler (``time= level= msg=``), structlog's LogfmtRenderer (``timestamp= level=
event=``), Python's logfmter (``at=INFO msg=``), Heroku's router and app lines, whose
``heroku logs`` prefix ``2026-11-25T10:00:00.123456+00:00 heroku[router]:`` is read too
(its time fills a record without ``time=``). https://brandur.org/logfmt

A line with a request's ``method``, path (``path``/``uri``/``url`` or ``request="GET /x
HTTP/1.1"``) and ``status`` is an access-log record: ``logfmt_access`` reads those into
``requests``. Both readers read both kinds of lines, so a mixed stream (``heroku logs``:
router lines beside the app's) fills both tables; which reader is chosen only decides the
primary table (the kind most lines are). Parsing is one ``regexp_extract_all`` per line into
key and value lists; each column is the value of the first known key a line has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.app_fields import (
    FIELD_HINTS,
    class_like_sql,
    error_type_sql,
    level_sql,
    sql_str,
    time_sql,
)
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

_TS = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
# ``heroku logs``/``docker logs -t`` put a time and a ``source[dyno]:`` before the pairs.
PREFIX = rf"^(?:({_TS})\s+)?(?:([\w.-]+(?:\[[\w.-]+\])?):\s+)?"
# One pair; the leading blank (or line start) keeps ``?a=1`` inside a URL from being a key.
PAIR = r'(?:^|\s)([\w.@#/-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
_RAW_PAIR = r'[\w.@#/-]+=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)'
_LINE = re.compile(PREFIX + _RAW_PAIR + r"(?:\s+" + _RAW_PAIR + r")*\s*$")
_PAIR = re.compile(PAIR)

# Canonical column -> keys, most specific first.
APP_KEYS: Mapping[str, tuple[str, ...]] = {
    "ts": ("time", "ts", "timestamp", "t", "when", "@timestamp", "datetime", "date"),
    "level": ("level", "lvl", "severity", "at", "loglevel", "log_level", "levelname"),
    "message": ("msg", "message", "event", "desc"),
    "request_id": ("request_id", "requestId", "requestID", "req_id", "reqId", "request-id",
                   "x_request_id", "correlation_id", "rid"),
    "trace_id": ("trace_id", "traceID", "traceId", "trace.id", "dd.trace_id", "otelTraceID"),
    "error_type": ("error_type", "error.type", "err.type", "exc_type", "exception_type"),
    "stack": ("stack", "stacktrace", "stack_trace", "exc_info", "exception", "traceback"),
    # An error's text names its type when it has one (``KeyError: 'x'``); it stays an attribute.
    "error_text": ("error", "err"),
}  # fmt: skip
ACCESS_KEYS: Mapping[str, tuple[str, ...]] = {
    "method": ("method", "request_method", "http_method", "http.method", "http.request.method"),
    "target": ("path", "uri", "request_uri", "url", "url.path", "http.target"),
    "request": ("request",),
    "status": ("status", "status_code", "http_status", "http.status_code",
               "http.response.status_code"),
    "bytes": ("bytes", "bytes_sent", "body_bytes_sent", "size", "response_size",
              "http.response.body.size"),
    "client": ("fwd", "client", "client_ip", "remote_addr", "remote_ip", "ip", "client.address"),
    "user_agent": ("user_agent", "ua", "http_user_agent", "user_agent.original"),
    "referrer": ("referer", "referrer", "http_referer"),
    "host": ("host", "http_host", "server.address"),
}  # fmt: skip
# Duration keys with the unit of a bare number; Go duration strings (``1.5ms``) carry theirs.
DURATION_KEYS: tuple[tuple[str, float], ...] = (
    ("duration_ms", 1.0), ("latency_ms", 1.0), ("elapsed_ms", 1.0), ("took_ms", 1.0),
    ("response_time_ms", 1.0), ("request_time", 1000.0), ("measure#nginx.service", 1000.0),
    ("duration_s", 1000.0), ("duration", 1.0), ("latency", 1.0), ("elapsed", 1.0),
    ("took", 1.0), ("response_time", 1.0), ("dur", 1.0),
)  # fmt: skip


def _unquote(value: str) -> str:
    """SQL: a raw logfmt value without its quotes and escapes."""
    inner = f"substr({value}, 2, length({value}) - 2)"
    # Escaped backslashes first (via a placeholder), so ``\\n`` stays a backslash and an n.
    unescaped = (
        f"replace(replace(replace(replace(replace({inner}, '\\\\', chr(30)), '\\n', chr(10)), "
        f"'\\t', chr(9)), '\\\"', '\"'), chr(30), '\\')"
    )
    return (
        f"CASE WHEN length({value}) >= 2 AND starts_with({value}, '\"') "
        f"AND ends_with({value}, '\"') THEN {unescaped} ELSE {value} END"
    )


def pairs_sql() -> str:
    """SQL (a setup statement): ``tmp_logfmt(line, prefix_ts, process, rest, k, v)`` per line.

    One ``regexp_extract_all`` finds the pairs (whole ``key=value`` matches, each split at its
    first ``=``), one ``regexp_extract`` the prefix; a second pass of the pair regex per key
    or value would cost as much again.
    """
    prefix = f"regexp_extract(text, '{sql_str(PREFIX)}', ['ts', 'process'])"
    return f"""
CREATE TEMP TABLE tmp_logfmt AS
SELECT *, {is_access_sql()} AS is_access FROM (
SELECT line, NULLIF(p.ts, '') AS prefix_ts, NULLIF(p.process, '') AS process,
    -- A prefixed line of plain text (Heroku's ``heroku[web.1]: State changed…``) is a message.
    CASE WHEN len(m) = 0 AND p.process <> ''
         THEN NULLIF(trim(regexp_replace(text, '{sql_str(PREFIX)}', '')), '') END AS rest,
    list_transform(m, lambda x: split_part(x, '=', 1)) AS k,
    list_transform(m, lambda x: {_unquote("substr(x, strlen(split_part(x, '=', 1)) + 2)")}) AS v
FROM (
    SELECT line, text, {prefix} AS p,
        list_transform(regexp_extract_all(text, '{sql_str(PAIR)}'),
                       lambda x: ltrim(x, ' ' || chr(9))) AS m
    FROM {{lines}}
))
"""


def value_sql(keys: Sequence[str]) -> str:
    """SQL: the first non-empty value among ``keys`` in a ``tmp_logfmt`` row (NULL if none)."""
    picks = [
        f"NULLIF(NULLIF(trim(v[list_position(k, '{sql_str(key)}')]), ''), '-')" for key in keys
    ]
    return f"coalesce({', '.join(picks)})" if len(picks) > 1 else picks[0]


def duration_ms_sql(value: str, bare_factor: float) -> str:
    """SQL: milliseconds of a Go duration (``1m2.5s``, ``18ms``) or a bare number × factor."""
    parts = rf"regexp_extract_all({value}, '(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)', 0)"
    unit = (
        "CASE regexp_extract(p, '[a-zµμ]+$') WHEN 'h' THEN 3600000.0 WHEN 'm' THEN 60000.0 "
        "WHEN 's' THEN 1000.0 WHEN 'ms' THEN 1.0 WHEN 'ns' THEN 0.000001 ELSE 0.001 END"
    )
    return (
        rf"(CASE WHEN regexp_full_match({value}, '\d+(?:\.\d+)?') "
        f"THEN try_cast({value} AS DOUBLE) * {bare_factor} "
        rf"WHEN regexp_full_match({value}, '(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h))+') "
        f"THEN list_sum(list_transform({parts}, lambda p: "
        rf"try_cast(regexp_extract(p, '^[\d.]+') AS DOUBLE) * {unit})) END)"
    )


def _consumed(keys: Mapping[str, tuple[str, ...]], but: str = "error_text") -> list[str]:
    return sorted({key for column, names in keys.items() if column != but for key in names})


def attributes_sql(consumed: Sequence[str]) -> str:
    """SQL: a MAP of every pair not read into a column (a repeated key keeps its first value)."""
    listed = "[" + ", ".join(f"'{sql_str(k)}'" for k in consumed) + "]"
    return f"""map_from_entries(list_filter(
        list_transform(k, lambda key, i: {{'key': key, 'value': v[i]}}),
        lambda e, i: list_position(k, e.key) = i AND NOT list_contains({listed}, e.key)))"""


def _request_line() -> str:
    """SQL: a ``request="GET /x HTTP/1.1"`` value when it is a request line, else NULL."""
    request = value_sql(ACCESS_KEYS["request"])
    return f"CASE WHEN regexp_matches({request}, '^[A-Z]+ \\S') THEN {request} END"


def _method_sql() -> str:
    return f"coalesce({value_sql(ACCESS_KEYS['method'])}, split_part({_request_line()}, ' ', 1))"


def _target_sql() -> str:
    return f"coalesce({value_sql(ACCESS_KEYS['target'])}, split_part({_request_line()}, ' ', 2))"


def is_access_sql() -> str:
    """SQL: whether a ``tmp_logfmt`` row is an access-log record (method, path and status)."""
    return (
        f"({_method_sql()} IS NOT NULL AND NULLIF({_target_sql()}, '') IS NOT NULL "
        f"AND try_cast({value_sql(ACCESS_KEYS['status'])} AS INTEGER) IS NOT NULL)"
    )


def app_events_sql(zone: str | None) -> str:
    """SQL: ``app_events`` rows (and ``_reject``) from the non-access rows of ``tmp_logfmt``."""
    ts_text = f"coalesce({value_sql(APP_KEYS['ts'])}, prefix_ts)"
    stack = value_sql(APP_KEYS["stack"])
    error_text = value_sql(APP_KEYS["error_text"])
    attributes = attributes_sql(_consumed(APP_KEYS))
    has_any = " OR ".join(
        f"{value_sql(APP_KEYS[c])} IS NOT NULL" for c in ("level", "message", "stack")
    )
    return f"""
SELECT line, {time_sql("ts_text", zone)} AS ts, {level_sql(value_sql(APP_KEYS["level"]))} AS level,
    coalesce({value_sql(APP_KEYS["message"])}, rest) AS message,
    {value_sql(APP_KEYS["request_id"])} AS request_id,
    {value_sql(APP_KEYS["trace_id"])} AS trace_id,
    coalesce({value_sql(APP_KEYS["error_type"])}, {error_type_sql("stack_text")},
             {class_like_sql(error_type_sql("error_text"))}) AS error_type,
    stack_text AS stack,
    CASE WHEN process IS NULL THEN attributes
         ELSE map_concat(MAP {{'process': process}}, attributes) END AS attributes,
    CASE WHEN len(k) = 0 AND rest IS NULL THEN 'no key=value pairs (not a logfmt line)'
         WHEN ts_text IS NULL AND NOT ({has_any} OR error_text IS NOT NULL)
            THEN 'key=value pairs without a time, level, message or error'
         WHEN ts_text IS NOT NULL AND {time_sql("ts_text", zone)} IS NULL
            THEN 'unreadable time ' || left(ts_text, 40) END AS _reject
FROM (SELECT *, {ts_text} AS ts_text, {stack} AS stack_text, {error_text} AS error_text,
             {attributes} AS attributes
      FROM tmp_logfmt WHERE NOT is_access)
"""


def requests_sql(zone: str | None) -> str:
    """SQL: ``requests`` rows from the access rows of ``tmp_logfmt`` (Heroku router lines…)."""
    target = "target"
    # Heroku: ``connect`` (to the dyno) plus ``service`` (the dyno's time) is the request's.
    service = duration_ms_sql(value_sql(("service",)), 1.0)
    connect = duration_ms_sql(value_sql(("connect",)), 1.0)
    durations = ", ".join(duration_ms_sql(value_sql((k,)), f) for k, f in DURATION_KEYS)
    return f"""
SELECT {time_sql(f"coalesce({value_sql(APP_KEYS['ts'])}, prefix_ts)", zone)} AS ts,
    coalesce({durations}, {service} + coalesce({connect}, 0)) AS duration_ms,
    upper(method) AS method,
    split_part(regexp_replace({target}, '^[A-Za-z]+://[^/]*', ''), '?', 1) AS path,
    NULL::VARCHAR AS route,
    NULLIF(split_part({target}, '?', 2), '') AS query,
    try_cast({value_sql(ACCESS_KEYS["status"])} AS INTEGER) AS status,
    try_cast({value_sql(ACCESS_KEYS["bytes"])} AS BIGINT) AS bytes_sent,
    trim(split_part({value_sql(ACCESS_KEYS["client"])}, ',', 1)) AS client,
    {value_sql(ACCESS_KEYS["user_agent"])} AS user_agent,
    {value_sql(ACCESS_KEYS["referrer"])} AS referrer,
    {value_sql(APP_KEYS["request_id"])} AS request_id,
    {value_sql(APP_KEYS["trace_id"])} AS trace_id,
    {service} AS upstream_ms,
    {value_sql(ACCESS_KEYS["host"])} AS host,
    line
FROM (SELECT *, {_target_sql()} AS target, {_method_sql()} AS method
      FROM tmp_logfmt WHERE is_access)
"""


def _requests_with_reject(zone: str | None) -> str:
    # The access reader's primary rows: every access row is good (the line had a status).
    return requests_sql(zone).replace("    line\nFROM", "    line, NULL::VARCHAR AS _reject\nFROM")


def classify(lines: Sequence[str]) -> tuple[int, int, int, str]:
    """Count sample lines: (non-blank, access records, other logfmt records, writer seen)."""
    seen = access = app = 0
    writers: dict[str, int] = {}
    for line in lines:
        if not line.strip():
            continue
        seen += 1
        if not _LINE.match(line):
            continue
        pairs = {k: v for k, v in reversed(_PAIR.findall(line))}
        has_target = any(k in pairs for k in (*ACCESS_KEYS["target"], *ACCESS_KEYS["request"]))
        status = next((pairs[k] for k in ACCESS_KEYS["status"] if k in pairs), "")
        has_method = any(k in pairs for k in ACCESS_KEYS["method"]) or "request" in pairs
        if has_method and has_target and status.isdigit():
            access += 1
            writer = "heroku_router" if "dyno" in pairs and "connect" in pairs else "access"
            writers[writer] = writers.get(writer, 0) + 1
            continue
        if len(pairs) < 2:
            continue
        app += 1
        writer = _writer(pairs)
        writers[writer] = writers.get(writer, 0) + 1
    variant = max(writers, key=lambda w: writers[w]) if writers else ""
    return seen, access, app, variant


def _writer(pairs: Mapping[str, str]) -> str:
    """Which library wrote a record, from its keys and level spelling (the variant shown)."""
    level = pairs.get("level", "")
    if "timestamp" in pairs and "event" in pairs:
        return "structlog"
    if "at" in pairs and "msg" in pairs:
        return "logfmter"
    if "time" in pairs and "msg" in pairs and level:
        # slog writes INFO/WARN/ERROR; logrus info/warning/error.
        return "slog" if level.isupper() else "logrus"
    return "logfmt"


def confidence(lines: Sequence[str], primary_access: bool) -> Detection:
    """How well ``lines`` are logfmt, for the reader whose primary table is access or app."""
    seen, access, app, variant = classify(lines)
    if not seen or not (access + app):
        return Detection(0.0)
    share = (access + app) / seen
    # Below the readers of one exact shape (app_text layouts, PostgreSQL) on a tie; the kind
    # most lines are wins between the two logfmt readers.
    mine = access > app if primary_access else app >= access
    return Detection(share * (0.85 if mine else 0.75), variant=variant)


class LogfmtFormat:
    """logfmt application logs (logrus, slog, structlog, logfmter, Heroku app lines)."""

    name = "logfmt"
    table = "app_events"
    description = (
        "logfmt application logs: Go logrus/slog text, structlog LogfmtRenderer, logfmter, "
        "Heroku app lines (router lines beside them go to requests)"
    )
    recognises = 'key=value pairs per line: time=… level=info msg="…" request_id=…'
    field_hints: Mapping[str, str] = FIELD_HINTS

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are all key=value pairs (after an optional prefix)."""
        return confidence(lines, primary_access=False)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Split every line into pairs; app records are the table, access records go beside."""
        zone = options.get("app_timezone")
        return ParsePlan(
            table="app_events",
            variant=variant or "logfmt",
            missing=_missing(sample, access=False),
            setup=(pairs_sql(),),
            select_sql=app_events_sql(zone),
            also=(("requests", requests_sql(zone)),),
        )


def access_plan(sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
    """The plan of the access reader: requests first, the other records as app events."""
    zone = options.get("app_timezone")
    app = app_events_sql(zone)
    return ParsePlan(
        table="requests",
        variant=variant or "access",
        missing=_missing(sample, access=True),
        setup=(pairs_sql(),),
        # Lines that are no record at all are rejected here; app records are counted beside.
        select_sql=_requests_with_reject(zone)
        + f"""
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    line, _reject FROM ({app}) WHERE _reject IS NOT NULL
""",
        also=(("app_events", f"SELECT * EXCLUDE (_reject) FROM ({app}) WHERE _reject IS NULL"),),
    )


def _missing(sample: Sequence[str], *, access: bool) -> tuple[str, ...]:
    """Canonical columns no sample record of the primary kind carries (M002)."""
    records = []
    for line in sample:
        match = _LINE.match(line)
        if not match:
            continue
        pairs = dict(_PAIR.findall(line))
        if match.group(1):
            pairs.setdefault("time", match.group(1))
        is_access = any(k in pairs for k in ACCESS_KEYS["method"]) and any(
            k in pairs for k in ACCESS_KEYS["status"]
        )
        if is_access == access:
            records.append({k for k, v in pairs.items() if v not in ("", '""', "-")})
    if not records:
        return ()
    seen = set().union(*records)
    wanted: dict[str, tuple[str, ...]] = {"request_id": APP_KEYS["request_id"]}
    if access:
        wanted["duration_ms"] = (*(k for k, _ in DURATION_KEYS), "service")
    else:
        wanted["ts"] = APP_KEYS["ts"]
    return tuple(column for column, keys in wanted.items() if not seen & set(keys))


FORMAT = LogfmtFormat()
