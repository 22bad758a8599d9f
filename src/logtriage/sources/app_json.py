"""Application logs written as JSON lines (structlog, python-json-logger, logstash, ECS, pino…).

One JSON object per line. Each canonical column is the first of a list of known keys that the
line has, as a flat key (``"log.level"``) or nested (``{"log": {"level": …}}``):

- time: ``@timestamp`` (logstash, ECS), ``timestamp`` (structlog), ``time`` (pino epoch ms,
  bunyan ISO, logrus, lograge), ``ts`` (zap epoch s), ``@t`` (Serilog), ``asctime``
  (python-json-logger, ``2026-11-24 10:00:00,123``), ``Timestamp`` (ASP.NET Core),
  ``timeMillis``/``instant.epochSecond`` (log4j2), ``timestamp.seconds`` (Google Cloud);
- level: ``level`` (a word, pino/bunyan's 10…60, or GELF's syslog severity 0…7), ``levelname``,
  ``log.level``, ``severity`` (Google Cloud), ``@l``; klog's JSON has none (``v`` on info
  records, none on errors); message: ``message``, ``msg``, ``event`` (structlog), ``@m``/``@mt``,
  ``short_message`` (GELF), ``fields.message`` (Rust tracing), else a leveled record's error
  text (zerolog's ``Msg("")``);
- request id: ``request_id``, ``requestId``, ``req_id``, ``reqId`` (fastify), ``request.id``,
  ``http.request.id`` (ECS), ``x_request_id``, ``x-request-id``, ``correlation_id``,
  ``function_request_id`` (Lambda Powertools), ``_request_id`` (GELF)…; trace id: ``trace_id``,
  ``trace.id``, ``traceId`` (logstash MDC), ``dd.trace_id`` (Datadog, flat or nested),
  ``otelTraceID``, ``logging.googleapis.com/trace`` (its id only), ``xray_trace_id``;
- error: ``error.type`` (ECS), ``err.type``/``err.name`` (pino/bunyan), ``exc_type``,
  ``exception.type``, ``exception[0].exc_type`` (structlog dict tracebacks), ``exception_name``
  (Powertools), else the class named by the stack or by lograge's ``"error": "ZeroDivisionError:
  divided by 0"`` (a Go error string, ``pq: …``, names no class); stack: ``exc_info``
  (python-json-logger), ``exception`` (structlog), ``error.stack_trace`` (ECS), ``stack_trace``
  (logstash), ``err.stack`` (pino/bunyan), ``@x`` (Serilog)…, else GELF's ``full_message`` or a
  multi-line message that reads as a stack trace (Google Cloud Error Reporting).

Every other top-level key goes to ``attributes`` (nested values as JSON text). A line that is
not a JSON object, or an object with none of time, level, message or error, is rejected. Times
without a zone are UTC unless ``[formats] app_timezone`` names the zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from logtriage.sources.app_fields import (
    FIELD_HINTS,
    class_like_sql,
    cloud_trace_sql,
    error_type_sql,
    is_traceback_sql,
    level_sql,
    sql_str,
    time_sql,
)
from logtriage.sources.app_text import (
    CONTINUATION,
    LAYOUTS,
    entries_select_sql,
    looks_like_continuation,
    start_sql,
)
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

# Canonical column -> candidate keys, most specific first. "a.b" is read flat and nested.
_KEYS: Mapping[str, tuple[str, ...]] = {
    "ts": ("@timestamp", "timestamp", "time", "ts", "@t", "asctime", "datetime", "date",
           "Timestamp", "timeMillis", "timestamp.seconds", "instant.epochSecond"),
    "level": ("level", "levelname", "log.level", "severity", "@l", "lvl", "loglevel",
              "log_level", "level_name", "LogLevel", "Level"),
    "message": ("message", "msg", "event", "@m", "@mt", "text", "Message", "RenderedMessage",
                "MessageTemplate", "short_message", "fields.message"),
    "request_id": ("request_id", "requestId", "requestID", "req_id", "reqId", "request.id",
                   "http.request.id", "x_request_id", "x-request-id", "X-Request-ID",
                   "correlation_id", "correlationId", "req.id", "RequestId",
                   "function_request_id", "_request_id", "_requestId"),
    "trace_id": ("trace_id", "trace.id", "traceId", "traceID", "dd.trace_id", "otelTraceID",
                 "logging.googleapis.com/trace", "@tr", "TraceId", "xray_trace_id",
                 "_trace_id", "_traceId"),
    "error_type": ("error.type", "err.type", "err.name", "exc_type", "exception.type",
                   "error.kind", "exception.class", "exception_class", "exception[0].exc_type",
                   "thrown.name", "exception_name"),
    "stack": ("exc_info", "exception", "error.stack_trace", "stack_trace", "err.stack",
              "error.stack", "@x", "exception.stacktrace", "exception.stack_trace",
              "stacktrace", "stack", "backtrace", "Exception"),
    # A string error ("ZeroDivisionError: divided by 0", lograge) names the type; it stays in
    # attributes too.
    "error_text": ("error", "err", "exception_message", "fields.error"),
    # GELF's long message, "possibly with a backtrace": the stack when it reads as one.
    "full_message": ("full_message",),
}  # fmt: skip
# Columns read only to derive others: their keys stay in ``attributes``.
_KEPT = frozenset({"error_text", "full_message"})
# Keys whose value goes to a canonical column, so they are left out of ``attributes``.
_CONSUMED = frozenset(
    key for column, keys in _KEYS.items() if column not in _KEPT for key in keys if "[" not in key
)
# A Python traceback logged as the message itself (print_exc to a JSON-wrapping runtime).
_TRACEBACK_MESSAGE = (
    "CASE WHEN starts_with(f.message, 'Traceback (most recent call last):') THEN f.message END"
)
# Serilog's compact format leaves @l out for Information.
_SERILOG_INFO = """CASE WHEN json_type(j, '$."@t"') IS NOT NULL AND json_type(j, '$."@l"') IS NULL
    THEN 'INFO' END"""
# GELF's level is a syslog severity (0 emergency … 7 debug), not pino's 10…60: read so only in a
# GELF record (it has short_message, which the spec requires), where the ranges cannot mix.
_SYSLOG_NAMES = ("EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")
_GELF_LEVEL = (
    # One digit first: the JSON is parsed again only for records whose level could be GELF's.
    "CASE WHEN length(level_given) = 1 AND json_type(j, '$.short_message') = 'VARCHAR' "
    "THEN CASE level_given "
    + " ".join(f"WHEN '{n}' THEN '{name}'" for n, name in enumerate(_SYSLOG_NAMES))
    + " END END"
)
# klog's JSON format (Kubernetes, --logging-format=json; KEP-1602) writes no level: an info
# record has its verbosity "v", an error record has no "v" and usually an "err".
_KLOG_LEVEL = """CASE WHEN json_type(j, '$.caller') = 'VARCHAR'
        AND json_type(j, '$.msg') = 'VARCHAR' AND json_type(j, '$.ts') IN ('DOUBLE', 'UBIGINT')
    THEN CASE WHEN json_type(j, '$.err') IS NOT NULL OR json_type(j, '$.v') IS NULL
              THEN 'ERROR' ELSE 'INFO' END END"""


# Stack values may be arrays or objects (structlog dict tracebacks): kept as JSON text.
_STRUCTURED_OK = frozenset({"stack"})


def _paths(key: str) -> list[str]:
    """JSONPaths for a key: as one flat key, and nested when it has dots."""
    if "[" in key:
        return [f"$.{key}"]
    flat = '$."' + key.replace('"', '\\"') + '"'
    if "." not in key:
        return [flat]
    nested = "$." + ".".join('"' + part + '"' for part in key.split("."))
    return [flat, nested]


def _library(obj: Mapping[str, Any]) -> str:
    """Which logging library wrote this object, from its keys (the variant shown)."""
    keys = set(obj)
    level = obj.get("level")
    if "ecs.version" in keys or "log.level" in keys or "ecs" in keys:
        return "ecs"
    if "@version" in keys and "@timestamp" in keys:
        return "logstash"
    if isinstance(level, int) and "msg" in keys:
        return "bunyan" if "v" in keys else "pino"
    if {"controller", "action", "status"} <= keys:
        return "lograge"
    if "@t" in keys or {"MessageTemplate", "Level"} <= keys:
        return "serilog"
    if {"LogLevel", "Category"} <= keys:
        return "microsoft"
    if "loggerName" in keys and ("instant" in keys or "timeMillis" in keys):
        return "log4j2"
    if "levelname" in keys or "asctime" in keys:
        return "python-json-logger"
    if isinstance(obj.get("event"), str) and "level" in keys:
        return "structlog"
    if "short_message" in keys and "version" in keys:
        return "gelf"
    if isinstance(obj.get("fields"), dict) and "target" in keys:
        return "tracing"
    if "xray_trace_id" in keys or {"location", "service", "function_request_id"} <= keys:
        return "powertools"
    if "caller" in keys and "msg" in keys and isinstance(obj.get("ts"), int | float) and not level:
        return "klog"
    if isinstance(level, str) and level.isupper() and {"time", "msg"} <= keys:
        return "slog"
    if isinstance(level, str) and "time" in keys and "message" in keys and "msg" not in keys:
        return "zerolog"
    if "severity" in keys:
        return "gcp"
    if isinstance(obj.get("ts"), int | float) and "msg" in keys:
        return "zap"
    return "json"


def _is_app_record(obj: object) -> bool:
    """A JSON object with a message, or a level and a time, and none of the database shapes."""
    if not isinstance(obj, dict):
        return False
    keys = set(obj)
    # PostgreSQL jsonlog and CloudNativePG have their own reader.
    if "error_severity" in keys or ("record" in keys and "logger" in keys):
        return False
    if "resourceSpans" in keys or "resourceLogs" in keys:
        return False
    has_message = any(isinstance(obj.get(k), str) for k in _KEYS["message"])
    has_level = any(k in keys for k in _KEYS["level"])
    has_time = any(k in keys for k in _KEYS["ts"])
    lograge = {"method", "path", "status"} <= keys
    return has_message or (has_level and has_time) or lograge


_STATUS_KEYS = (
    "status",
    "status_code",
    "DownstreamStatus",
    "http.response.status_code",
    "response",
)
_TARGET_KEYS = ("uri", "request_uri", "path", "url", "RequestPath", "request", "url.path", "http")


def _looks_like_access(obj: Mapping[str, Any]) -> bool:
    """A JSON access-log record: a response status and a requested path or request object."""
    return any(k in obj for k in _STATUS_KEYS) and any(k in obj for k in _TARGET_KEYS)


class AppJsonFormat:
    """JSON-lines application logs."""

    name = "app_json"
    table = "app_events"
    description = (
        "JSON-lines application logs: structlog, python-json-logger, logstash-logback-encoder, "
        "ECS, pino, bunyan, winston, lograge, Serilog, zap, zerolog, logrus, slog, Rust tracing, "
        "ASP.NET Core, log4j2, GELF, klog, Lambda Powertools, Google Cloud, Datadog"
    )
    recognises = "one JSON object per line with a message (message/msg/event) or a level and a time"
    field_hints: Mapping[str, str] = FIELD_HINTS

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are application-log JSON objects; the library seen most."""
        libraries: dict[str, float] = {}
        seen = 0
        text = 0.0
        for line in lines:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                # A stack trace printed by a plain-text logger on the same stream (Rails'
                # exceptions beside lograge) neither confirms nor denies a JSON log.
                if looks_like_continuation(line):
                    continue
                seen += 1
                # A server's own text lines on the same stream (gunicorn's "Booting worker").
                text += any(layout.matches(line) for layout in LAYOUTS)
                continue
            seen += 1
            if _is_app_record(obj):
                # An access-log record (Caddy's zap lines have "msg" too) counts half: the
                # access reader's exact profiles should win it.
                weight = 0.5 if _looks_like_access(obj) else 1.0
                libraries[_library(obj)] = libraries.get(_library(obj), 0.0) + weight
        if not seen or not libraries:
            return Detection(0.0)
        # Text lines count half: a JSON log with a server's text lines still is a JSON log.
        # A few points below a reader of one exact shape (PostgreSQL jsonlog) on a tie.
        confidence = 0.95 * (sum(libraries.values()) + 0.5 * text) / seen
        return Detection(confidence, variant=max(libraries, key=lambda k: libraries[k]))

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Extract every candidate key of each line with one JSON parse, then pick per column."""
        paths: list[str] = []
        index: dict[str, list[int]] = {}
        for column, keys in _KEYS.items():
            for key in keys:
                for path in _paths(key):
                    paths.append(path)
                    index.setdefault(column, []).append(len(paths))

        def pick(column: str) -> str:
            allowed = (
                # A boolean is no stack (winston's uncaught-exception records: "exception": true).
                " AND t[{i}] IN ('VARCHAR', 'OBJECT', 'ARRAY')"
                if column in _STRUCTURED_OK
                else " AND t[{i}] NOT IN ('OBJECT', 'ARRAY')"
            )
            # Stack traces keep their indentation; other values lose padding and "-" (none).
            value = (
                "NULLIF(v[{i}], '')"
                if column == "stack"
                else "NULLIF(NULLIF(trim(v[{i}]), ''), '-')"
            )
            cases = [
                f"CASE WHEN t[{i}] IS NOT NULL AND t[{i}] <> 'NULL'{allowed.format(i=i)} "
                f"THEN {value.format(i=i)} END"
                for i in index[column]
            ]
            return f"coalesce({', '.join(cases)})"

        path_list = "[" + ", ".join(f"'{sql_str(p)}'" for p in paths) + "]"
        consumed = "[" + ", ".join(f"'{sql_str(k)}'" for k in sorted(_CONSUMED)) + "]"
        stack_keys = "[" + ", ".join(f"'{sql_str(k)}'" for k in _KEYS["stack"]) + "]"
        extract = f"""
CREATE TEMP TABLE tmp_app_json AS
SELECT line, j, json_extract_string(j, {path_list}) AS v, json_type(j, {path_list}) AS t
FROM (
    SELECT line, CASE WHEN json_valid(text) AND json_type(text) = 'OBJECT' THEN text::JSON END AS j
    FROM {{lines}}
)
"""
        fields = f"""
CREATE TEMP TABLE tmp_app_fields AS
SELECT line, j, ts_text, request_id, trace_id, error_type_given, error_text,
    {level_sql("level_any")} AS level, message, stack
FROM (
SELECT line, j, ts_text, request_id, error_type_given, error_text,
    -- Google Cloud's trace is a resource name: projects/<p>/traces/<id>.
    CASE WHEN starts_with(trace_given, 'projects/') THEN {cloud_trace_sql("trace_given")}
         ELSE trace_given END AS trace_id,
    coalesce({_GELF_LEVEL}, level_given, {_SERILOG_INFO}, {_KLOG_LEVEL}) AS level_any,
    -- zerolog's Msg(""): a leveled record whose only text is its error.
    -- klog ends a printf-style message with its newline (values are trimmed of spaces
    -- already; the regex runs only where a line break or tab ends one).
    coalesce(NULLIF(CASE WHEN ends_with(message_given, chr(10)) OR ends_with(message_given, chr(13))
                              OR ends_with(message_given, chr(9))
                         THEN regexp_replace(message_given, '\\s+$', '')
                         ELSE message_given END, ''),
             CASE WHEN level_given IS NOT NULL THEN error_text END) AS message,
    coalesce(stack_given,
             CASE WHEN {is_traceback_sql("full_message")} THEN full_message END,
             -- A stack in the message itself (Google Cloud Error Reporting's shape).
             CASE WHEN contains(message_given, chr(10)) THEN
                 CASE WHEN {is_traceback_sql("message_given")} THEN message_given END END) AS stack
FROM (
    SELECT line, j,
        {pick("ts")} AS ts_text,
        {pick("level")} AS level_given,
        {pick("message")} AS message_given,
        {pick("request_id")} AS request_id,
        {pick("trace_id")} AS trace_given,
        {pick("error_type")} AS error_type_given,
        {pick("stack")} AS stack_given,
        {pick("error_text")} AS error_text,
        {pick("full_message")} AS full_message
    FROM tmp_app_json WHERE j IS NOT NULL
)
)
"""
        # Every top-level key not read into a column, with nested values as JSON text.
        # A consumed key holding an object stays (ECS ``event: {dataset…}`` is not a message),
        # except the stack keys, whose structured values became ``stack``.
        attributes = f"""map_from_entries(list_transform(list_filter(
        map_entries(try_cast(j AS MAP(VARCHAR, JSON))),
        lambda e: e.value IS NOT NULL AND NOT (
            list_contains({consumed}, e.key)
            AND (json_type(e.value) NOT IN ('OBJECT', 'ARRAY')
                 OR list_contains({stack_keys}, e.key)))),
        lambda e: {{'key': e.key, 'value': CASE WHEN json_type(e.value) = 'VARCHAR'
                                              THEN e.value ->> '$' ELSE e.value::VARCHAR END}}))"""
        zone = options.get("app_timezone")
        select_sql = f"""
SELECT f.line,
    {time_sql("f.ts_text", zone)} AS ts,
    f.level, f.message, f.request_id, f.trace_id,
    coalesce(f.error_type_given, {error_type_sql("f.stack")},
             {class_like_sql(error_type_sql("f.error_text"))}, {error_type_sql(_TRACEBACK_MESSAGE)})
        AS error_type,
    f.stack,
    {attributes} AS attributes,
    CASE
        WHEN f.ts_text IS NULL AND f.level IS NULL AND f.message IS NULL
             AND f.stack IS NULL AND f.error_text IS NULL
            THEN 'JSON without a time, level, message or error (not an application log record)'
        WHEN f.ts_text IS NOT NULL AND {time_sql("f.ts_text", zone)} IS NULL
            THEN 'unreadable time ' || left(f.ts_text, 40)
    END AS _reject
FROM tmp_app_fields f
UNION ALL
{entries_select_sql("tmp_app_text_lines", options)}
UNION ALL
SELECT l.line, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN regexp_matches(l.text, '{sql_str(CONTINUATION)}')
         THEN 'stack trace line outside a JSON record (a plain-text logger on the same stream)'
         ELSE 'not a JSON object' END
FROM {{lines}} l JOIN tmp_app_json USING (line)
WHERE tmp_app_json.j IS NULL AND l.line NOT IN (SELECT line FROM tmp_app_text_lines)
"""
        # Text lines of a known layout (a server's own lines on the same stream) are read as
        # one-line entries of the text reader.
        text_lines = f"""
CREATE TEMP TABLE tmp_app_text_lines AS
SELECT line, text AS head, layout, NULL::VARCHAR AS cont
FROM (SELECT l.line, l.text, {start_sql("l.text")} AS layout
      FROM {{lines}} l JOIN tmp_app_json USING (line) WHERE tmp_app_json.j IS NULL)
WHERE layout IS NOT NULL
"""
        return ParsePlan(
            table="app_events",
            variant=variant,
            missing=_missing(sample),
            setup=(extract, fields, text_lines),
            select_sql=select_sql,
        )


def _missing(sample: Sequence[str]) -> tuple[str, ...]:
    """Canonical columns no sample record carries (M002 names the setting that adds them)."""
    objects = []
    for line in sample:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            objects.append(obj)
    if not objects:
        return ()

    def present(column: str) -> bool:
        for obj in objects:
            for key in _KEYS[column]:
                value: Any = obj
                for part in (key,) if key in obj else key.split("."):
                    value = value.get(part) if isinstance(value, dict) else None
                if value not in (None, "", "-"):
                    return True
        return False

    return tuple(c for c in ("ts", "request_id") if not present(c))


FORMAT = AppJsonFormat()
