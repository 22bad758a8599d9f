"""JSON-lines access logs: Elastic Common Schema, Caddy, Traefik and nginx ``escape=json``.

One JSON object per line. Each *profile* names, per canonical column, the keys that carry it
in one family of writers, with their units:

- ``ecs``: Elastic Common Schema (https://www.elastic.co/guide/en/ecs/current/), nested or
  dotted keys (``{"url": {"path": …}}`` or ``{"url.path": …}``); ``event.duration`` is in
  nanoseconds.
- ``caddy``: Caddy 2's access log (https://caddyserver.com/docs/caddyfile/directives/log):
  ``ts`` is when the entry was written (the request's end), ``duration`` is in seconds unless
  ``duration_format`` says otherwise (integers too large for seconds are read as nanoseconds,
  Go duration strings such as ``1.5ms`` by their unit).
- ``traefik``: Traefik's JSON access log (https://doc.traefik.io/traefik/observability/access-logs/):
  ``StartUTC``, ``Duration`` and ``OriginDuration`` in nanoseconds, headers as ``request_<Name>``.
- ``nginx``: ``log_format … escape=json`` with the nginx variable names as keys
  (``$time_local``/``$time_iso8601``/``$msec`` are the request's end, ``$request_time`` is in
  seconds).
- ``gcp``: Google Cloud Logging entries with an ``httpRequest`` (load balancer, Cloud Run,
  App Engine request logs exported one per line); ``latency`` is ``"0.18s"``.

The profile that fits most sample lines is chosen; parsing is DuckDB's JSON functions in bulk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any

from logtriage.sources.access_template import slot_sql
from logtriage.sources.app_fields import cloud_trace_sql
from logtriage.sources.base import MAX_DURATION_MS, Detection, FormatOptions, ParsePlan

# A key is a path of segments; an int segment indexes an array (Caddy's header lists).
Key = tuple[str | int, ...]

# How a value is read: SQL over the extracted string ``{x}`` (VARCHAR, NULL when absent).
_TEXT = "NULLIF(NULLIF(trim({x}), ''), '-')"
_INT = "try_cast(try_cast({x} AS DOUBLE) AS BIGINT)"
_GO_DURATION_MS = (
    "CASE WHEN regexp_full_match({x}, '(?:[0-9.]+(?:ns|us|µs|ms|s|m|h))+') THEN "
    "list_sum(list_transform(regexp_extract_all({x}, '[0-9.]+(?:ns|us|µs|ms|s|m|h)'), "
    "lambda t: try_cast(regexp_extract(t, '^[0-9.]+') AS DOUBLE) * "
    "CASE regexp_extract(t, '[a-zµ]+$') WHEN 'h' THEN 3600000.0 WHEN 'm' THEN 60000.0 "
    "WHEN 's' THEN 1000.0 WHEN 'ms' THEN 1.0 WHEN 'ns' THEN 0.000001 ELSE 0.001 END)) END"
)
_CONVERT: dict[str, str] = {
    "text": _TEXT,
    "int": _INT,
    "seconds": "try_cast({x} AS DOUBLE) * 1000.0",
    "ms": "try_cast({x} AS DOUBLE)",
    "us": "try_cast({x} AS DOUBLE) / 1000.0",
    "ns": "try_cast({x} AS DOUBLE) / 1000000.0",
    # Caddy: seconds by default; integers beyond 10^4 can only be nanoseconds ("nano").
    "caddy_duration": (
        "CASE WHEN regexp_full_match({x}, '\\d{5,}') THEN try_cast({x} AS DOUBLE) / 1000000.0 "
        "ELSE coalesce(try_cast({x} AS DOUBLE) * 1000.0, " + _GO_DURATION_MS + ") END"
    ),
    # nginx lists one time per upstream tried ("0.010, 0.020 : 0.005"): their sum.
    "seconds_list": slot_sql("upstream_s_list").replace("{g}", "{x}"),
    # Epoch numbers by magnitude (s, ms, µs, ns), CLF, ISO 8601 and Go's "2006/01/02 15:04:05".
    "time": (
        "coalesce(CASE WHEN regexp_full_match({x}, '\\d{9,19}(?:\\.\\d+)?') THEN "
        "make_timestamp(try_cast(CASE "
        "WHEN try_cast({x} AS DOUBLE) >= 1e17 THEN try_cast({x} AS DOUBLE) / 1000 "
        "WHEN try_cast({x} AS DOUBLE) >= 1e14 THEN try_cast({x} AS DOUBLE) "
        "WHEN try_cast({x} AS DOUBLE) >= 1e11 THEN try_cast({x} AS DOUBLE) * 1000 "
        "ELSE try_cast({x} AS DOUBLE) * 1000000 END AS BIGINT)) END, "
        "try_strptime({x}, '%d/%b/%Y:%H:%M:%S %z')::TIMESTAMP, "
        "try_cast({x} AS TIMESTAMPTZ)::TIMESTAMP)"
    ),
    # ip:port, [v6]:port or a bare address (one colon is a port; a bare IPv6 keeps its colons).
    "address": (
        "NULLIF(CASE WHEN length(trim({x})) - length(replace(trim({x}), ':', '')) = 1 "
        "THEN split_part(trim({x}), ':', 1) "
        "ELSE regexp_replace(trim({x}), '^\\[(.*)\\](:\\d+)?$', '\\1') END, '')"
    ),
    # X-Forwarded-For: the first address is the client.
    "first_address": "NULLIF(NULLIF(trim(split_part({x}, ',', 1)), ''), '-')",
    "traceparent": "NULLIF(split_part({x}, '-', 2), '')",
    # Google's Duration in JSON: seconds with an "s" ("0.182345s").
    "seconds_s": "try_cast(rtrim({x}, 's') AS DOUBLE) * 1000.0",
    "url_host": "NULLIF(regexp_extract({x}, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)', 1), '')",
    # Cloud Logging's trace: "projects/<project>/traces/<32 hex>".
    "gcp_trace": cloud_trace_sql("{x}"),
}


@dataclass(frozen=True)
class Profile:
    """The keys (with units) of one writer family, and the keys that identify its lines."""

    name: str
    # A line fits when every group has one of its keys.
    signature: tuple[tuple[Key, ...], ...]
    # Column -> alternatives (key, conversion), the first present one wins.
    columns: Mapping[str, tuple[tuple[Key, str], ...]]
    # Keys holding the time the request *ended* (the start is that minus the duration).
    end_times: tuple[tuple[Key, str], ...] = ()
    # The request line ("GET /path HTTP/1.1"), target (path?query) and full URL keys.
    request_line: tuple[Key, ...] = ()
    targets: tuple[Key, ...] = ()


def _k(dotted: str) -> Key:
    """``"a.b.c"`` → ``("a", "b", "c")``; ``"h.User-Agent[0]"`` → ``("h", "User-Agent", 0)``."""
    out: list[str | int] = []
    for part in dotted.split("."):
        match = re.fullmatch(r"(.*)\[(\d+)\]", part)
        if match:
            out.extend([match.group(1), int(match.group(2))])
        else:
            out.append(part)
    return tuple(out)


def _keys(*dotted: str) -> tuple[Key, ...]:
    return tuple(_k(d) for d in dotted)


def _alts(conversion: str, *dotted: str) -> tuple[tuple[Key, str], ...]:
    return tuple((_k(d), conversion) for d in dotted)


ECS = Profile(
    name="ecs",
    signature=(
        _keys("http.request.method", "http.response.status_code"),
        _keys("url.path", "url.original", "url.full", "@timestamp"),
    ),
    columns={
        "ts": _alts("time", "event.start", "@timestamp"),
        "duration_ms": _alts("ns", "event.duration"),
        "method": _alts("text", "http.request.method"),
        "path": _alts("text", "url.path"),
        "query": _alts("text", "url.query"),
        "status": _alts("int", "http.response.status_code"),
        "bytes_sent": _alts("int", "http.response.body.bytes", "http.response.bytes"),
        "client": _alts("text", "client.ip", "source.ip", "client.address", "source.address"),
        "user_agent": _alts("text", "user_agent.original"),
        "referrer": _alts("text", "http.request.referrer"),
        "request_id": _alts("text", "http.request.id"),
        "trace_id": _alts("text", "trace.id"),
        "host": _alts("text", "url.domain", "host.name", "service.name"),
    },
    end_times=_alts("time", "event.end"),
    targets=_keys("url.original", "url.full"),
)

CADDY = Profile(
    name="caddy",
    signature=(_keys("request.method"), _keys("request.uri"), _keys("status")),
    columns={
        "duration_ms": _alts("caddy_duration", "duration"),
        "method": _alts("text", "request.method"),
        "status": _alts("int", "status"),
        "bytes_sent": _alts("int", "size"),
        "client": (
            *_alts("text", "request.client_ip", "request.remote_ip"),
            *_alts("address", "request.remote_addr"),
        ),
        "user_agent": _alts("text", "request.headers.User-Agent[0]"),
        "referrer": _alts("text", "request.headers.Referer[0]"),
        "request_id": _alts(
            "text", "request.headers.X-Request-Id[0]", "resp_headers.X-Request-Id[0]"
        ),
        "trace_id": (
            *_alts("text", "traceID", "trace_id"),
            *_alts("traceparent", "request.headers.Traceparent[0]"),
        ),
        "host": _alts("text", "request.host"),
    },
    end_times=_alts("time", "ts"),
    targets=_keys("request.uri"),
)

TRAEFIK = Profile(
    name="traefik",
    signature=(
        _keys("RequestMethod"),
        _keys("RequestPath", "RequestAddr"),
        _keys("DownstreamStatus", "OriginStatus"),
    ),
    columns={
        "ts": _alts("time", "StartUTC", "StartLocal"),
        "duration_ms": _alts("ns", "Duration"),
        "method": _alts("text", "RequestMethod"),
        "status": _alts("int", "DownstreamStatus", "OriginStatus"),
        "bytes_sent": _alts("int", "DownstreamContentSize"),
        "client": (*_alts("text", "ClientHost"), *_alts("address", "ClientAddr")),
        "user_agent": _alts("text", "request_User-Agent"),
        "referrer": _alts("text", "request_Referer"),
        "request_id": _alts("text", "request_X-Request-Id", "downstream_X-Request-Id"),
        # TraceId where Traefik's tracing adds it; else the traceparent header when kept.
        "trace_id": (*_alts("text", "TraceId"), *_alts("traceparent", "request_Traceparent")),
        "upstream_ms": _alts("ns", "OriginDuration"),
        "host": _alts("text", "RequestHost", "RequestAddr"),
    },
    end_times=_alts("time", "time"),
    targets=_keys("RequestPath"),
)

NGINX_JSON = Profile(
    name="nginx",
    signature=(
        _keys("status", "status_code"),
        _keys("request", "request_uri", "uri", "request_method", "method", "path"),
    ),
    columns={
        "duration_ms": _alts("seconds", "request_time"),
        "method": _alts("text", "request_method", "method"),
        "path": _alts("text", "uri", "path"),
        "query": _alts("text", "args", "query_string"),
        "status": _alts("int", "status", "status_code"),
        "bytes_sent": _alts("int", "body_bytes_sent", "bytes_sent"),
        "client": (
            *_alts("first_address", "http_x_forwarded_for"),
            *_alts("text", "remote_addr", "realip_remote_addr", "http_x_real_ip"),
            *_alts("text", "remote_ip", "client_ip"),
        ),
        "user_agent": _alts("text", "http_user_agent", "user_agent"),
        "referrer": _alts("text", "http_referer", "referer", "referrer"),
        "request_id": _alts("text", "request_id", "http_x_request_id"),
        "trace_id": (
            *_alts("text", "otel_trace_id", "trace_id"),
            *_alts("traceparent", "http_traceparent"),
        ),
        "upstream_ms": _alts("seconds_list", "upstream_response_time"),
        "host": _alts("text", "host", "http_host", "server_name"),
    },
    # $msec has milliseconds; $time_iso8601 and $time_local only seconds.
    end_times=_alts("time", "msec", "time_iso8601", "time_local", "time", "timestamp"),
    request_line=_keys("request"),
    targets=_keys("request_uri"),
)

# Google Cloud Logging entries with an HttpRequest (https://cloud.google.com/logging/docs/
# reference/v2/rest/v2/LogEntry#HttpRequest): load balancer, Cloud Run, App Engine request
# logs as a sink or `gcloud logging read --format=json` exports them, one entry per line.
# ``timestamp`` is read as the request's arrival and ``latency`` as its duration.
GCP = Profile(
    name="gcp",
    signature=(
        _keys("httpRequest.requestMethod"),
        _keys("httpRequest.status", "httpRequest.requestUrl"),
    ),
    columns={
        "ts": _alts("time", "timestamp"),
        "duration_ms": _alts("seconds_s", "httpRequest.latency"),
        "method": _alts("text", "httpRequest.requestMethod"),
        "status": _alts("int", "httpRequest.status"),
        "bytes_sent": _alts("int", "httpRequest.responseSize"),
        "client": _alts("address", "httpRequest.remoteIp"),
        "user_agent": _alts("text", "httpRequest.userAgent"),
        "referrer": _alts("text", "httpRequest.referer"),
        "trace_id": _alts("gcp_trace", "trace"),
        "host": (
            *_alts(
                "text",
                "resource.labels.service_name",
                "resource.labels.module_id",
                "resource.labels.backend_service_name",
            ),
            *_alts("url_host", "httpRequest.requestUrl"),
        ),
    },
    targets=_keys("httpRequest.requestUrl"),
)

# In the order ties are broken: the most specific key sets first.
PROFILES = (GCP, TRAEFIK, CADDY, ECS, NGINX_JSON)
_REQUEST_LINE = r"^([A-Za-z][A-Za-z0-9_-]{0,31}) (\S+)(?: HTTP/\d(?:\.\d)?)?$"
_WANTED = ("ts", "duration_ms", "request_id", "trace_id", "status")


def _splits(key: Key) -> list[Key]:
    """Every way a nested key may be written: ``a.b.c`` nested, dotted, or partly dotted."""
    names = [k for k in key if isinstance(k, str)]
    tail = key[len(names) :]
    out: list[Key] = []
    # Each subset of the gaps between names is where the key nests; nested first.
    for kept in range(len(names) - 1, -1, -1):
        for cuts in combinations(range(1, len(names)), kept):
            bounds = [0, *cuts, len(names)]
            out.append((*(".".join(names[a:b]) for a, b in pairwise(bounds)), *tail))
    return out


def _json_path(key: Key) -> str:
    """A DuckDB JSON path with every name quoted."""
    parts = [f"[{k}]" if isinstance(k, int) else '."' + k.replace('"', '\\"') + '"' for k in key]
    return "$" + "".join(parts)


def _lookup(obj: Any, key: Key) -> Any:
    """The value at ``key`` in a parsed object, accepting nested or dotted spellings."""
    for variant in _splits(key):
        cur: Any = obj
        for part in variant:
            if isinstance(part, int):
                cur = cur[part] if isinstance(cur, list) and len(cur) > part else None
            else:
                cur = cur.get(part) if isinstance(cur, dict) else None
            if cur is None:
                break
        if cur is not None:
            return cur
    return None


def _fits(profile: Profile, obj: Any) -> bool:
    return isinstance(obj, dict) and all(
        any(_lookup(obj, key) is not None for key in group) for group in profile.signature
    )


def _objects(lines: Sequence[str]) -> tuple[list[Any], int]:
    """The sample lines parsed as JSON (None where they are not), and how many lines."""
    sample = [ln for ln in lines if ln.strip()]
    out: list[Any] = []
    for ln in sample:
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append(None)
    return out, len(sample)


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


class _Extraction:
    """Collects the JSON paths to extract in one call and names their list positions."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def value(self, key: Key, conversion: str) -> str:
        """SQL for ``key`` read with ``conversion`` (any spelling of the key)."""
        exprs = []
        for variant in _splits(key):
            path = _json_path(variant)
            if path not in self.paths:
                self.paths.append(path)
            exprs.append(f"k{self.paths.index(path) + 1}")
        raw = exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"
        return "(" + _CONVERT[conversion].replace("{x}", raw) + ")"

    def first(self, alternatives: Sequence[tuple[Key, str]]) -> str:
        values = [self.value(k, c) for k, c in alternatives]
        if not values:
            return "NULL"
        return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


def build_plan(profile: Profile, present: set[Key], variant: str) -> ParsePlan:
    """The bulk parse for lines of ``profile``; ``present`` = keys seen in the sample."""
    ex = _Extraction()
    # A file keeps its time key; reading times is the costly part, so only the time keys the
    # sample has are read (all of them when it has none).
    starts = _seen(profile.columns.get("ts", ()), present)
    ends = _seen(profile.end_times, present)
    if not starts and not ends:
        starts, ends = profile.columns.get("ts", ()), profile.end_times
    columns = {**profile.columns, "ts": starts}
    col = {name: ex.first(alts) for name, alts in columns.items() if alts}
    raw_times = [ex.value(k, "text") for k, _ in (*starts, *ends)]
    has_time = f"coalesce({', '.join(raw_times)}) IS NOT NULL" if raw_times else "FALSE"
    values = ",\n        ".join(
        [
            *(f"{expr} AS c_{name}" for name, expr in col.items()),
            f"CAST({ex.first(ends)} AS TIMESTAMP) AS end_ts",
            f"{ex.first([(k, 'text') for k in profile.targets])} AS target",
            f"{ex.first([(k, 'text') for k in profile.request_line])} AS request_line",
            f"{has_time} AS has_time",
        ]
    )
    paths_sql = "[" + ", ".join(f"'{_sql_str(p)}'" for p in ex.paths) + "]"
    # One column per extracted key, so that no expression indexes the list again.
    keys = ", ".join(f"v[{i}] AS k{i}" for i in range(1, len(ex.paths) + 1))

    def c(name: str) -> str:
        return f"c_{name}" if name in col else "NULL"

    # Each value is computed once per stage; later stages refer to it by name.
    select = f"""
WITH src AS (
    SELECT line, text, json_valid(text) AS is_json FROM {{lines}}
), obj AS (
    SELECT line, is_json, is_json AND ltrim(text)[1] = '{{' AS is_object, text FROM src
), x AS (
    SELECT line, is_json, is_object,
           CASE WHEN is_object THEN json_extract_string(text, {paths_sql}) END AS v
    FROM obj
), k AS (
    SELECT line, is_json, is_object, {keys} FROM x
), a AS (
    SELECT line, is_json, is_object,
        {values}
    FROM k
), b AS (
    SELECT a.*,
        regexp_extract(request_line, '{_sql_str(_REQUEST_LINE)}', ['method', 'target']) AS rl
    FROM a
), t AS (
    SELECT b.*, coalesce(target, NULLIF(rl.target, '')) AS target_any FROM b
), r AS (
    SELECT
        coalesce({c("ts")}, CASE WHEN {c("duration_ms")} IS NULL THEN end_ts
            WHEN {c("duration_ms")} < {MAX_DURATION_MS}
            THEN end_ts - to_microseconds(({c("duration_ms")} * 1000)::BIGINT) END) AS ts,
        {c("duration_ms")} AS duration_ms,
        coalesce({c("method")}, upper(NULLIF(rl.method, ''))) AS method,
        -- The target as the client sent it first (nginx's $uri is rewritten); absolute-form
        -- targets and full URLs carry scheme and host: keep the path only.
        coalesce(NULLIF(split_part(regexp_replace(target_any,
            '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', ''), '?', 1), ''), {c("path")}) AS path,
        NULL::VARCHAR AS route,
        CASE WHEN target_any IS NULL THEN {c("query")} WHEN strpos(target_any, '?') > 0
            THEN NULLIF(substr(target_any, strpos(target_any, '?') + 1), '') END AS query,
        {c("status")} AS status,
        {c("bytes_sent")} AS bytes_sent,
        {c("client")} AS client,
        {c("user_agent")} AS user_agent,
        {c("referrer")} AS referrer,
        {c("request_id")} AS request_id,
        {c("trace_id")} AS trace_id,
        {c("upstream_ms")} AS upstream_ms,
        {c("host")} AS host,
        line, is_json, is_object, has_time
    FROM t
)
SELECT * EXCLUDE (is_json, is_object, has_time),
    CASE
        WHEN NOT is_json THEN 'not valid JSON'
        WHEN NOT is_object THEN 'JSON that is not an object'
        WHEN method IS NULL AND path IS NULL AND status IS NULL
            THEN 'JSON object without access-log fields'
        WHEN ts IS NULL AND has_time THEN 'unreadable timestamp'
    END AS _reject
FROM r
"""
    return ParsePlan(
        table="requests",
        select_sql=select,
        variant=variant,
        missing=_missing(profile, present),
    )


def _seen(
    alternatives: Sequence[tuple[Key, str]], present: set[Key]
) -> tuple[tuple[Key, str], ...]:
    return tuple((k, c) for k, c in alternatives if k in present)


def _missing(profile: Profile, present: set[Key]) -> tuple[str, ...]:
    """Canonical columns none of the sample lines carries (reported as M002)."""
    out = []
    for column in _WANTED:
        keys = [k for k, _ in profile.columns.get(column, ())]
        if column == "ts":
            keys += [k for k, _ in profile.end_times]
        if not any(k in present for k in keys):
            out.append(column)
    return tuple(out)


def _present(profile: Profile, objects: Sequence[Any]) -> set[Key]:
    keys = {k for alts in profile.columns.values() for k, _ in alts}
    keys |= {k for k, _ in profile.end_times}
    return {k for k in keys if any(_lookup(o, k) is not None for o in objects if _fits(profile, o))}


class JsonAccessFormat:
    """JSON-lines access logs (ECS, Caddy, Traefik, nginx ``escape=json``)."""

    name = "json_access"
    table = "requests"
    description = (
        "JSON-lines access logs: Elastic Common Schema, Caddy, Traefik, nginx escape=json, "
        "Google Cloud request logs"
    )
    recognises = (
        "one JSON object per line with an access log's keys: ECS http.request.method / "
        "http.response.status_code and url.*; Caddy request.{method,uri} and status; Traefik "
        "RequestMethod, RequestPath, DownstreamStatus; nginx variable names (status, request "
        "or request_uri, …); Google Cloud Logging entries with httpRequest.requestMethod and "
        "status or requestUrl (load balancer, Cloud Run)"
    )
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            'log the request duration: nginx escape=json: add "request_time":"$request_time" '
            "to the log_format; ECS: fill event.duration (nanoseconds); Traefik writes Duration "
            "and Caddy duration unless the fields were dropped from the access log config"
        ),
        "request_id": (
            'log a request id: nginx: "request_id":"$request_id" (and proxy_set_header '
            "X-Request-ID $request_id); Traefik: accessLog.fields.headers.names.X-Request-Id=keep; "
            "Caddy logs request headers, so have the client or a proxy send X-Request-Id; "
            "ECS: http.request.id"
        ),
        "trace_id": (
            'log the W3C trace context: nginx "traceparent":"$http_traceparent"; Traefik '
            "accessLog.fields.headers.names.Traceparent=keep; ECS: trace.id"
        ),
    }

    def _choose(self, lines: Sequence[str]) -> tuple[Profile, list[Any], float]:
        """The profile that fits most sample lines, the parsed sample, and the share fitted."""
        objects, total = _objects(lines)
        best, best_count = NGINX_JSON, 0
        for profile in PROFILES:
            count = sum(1 for o in objects if _fits(profile, o))
            if count > best_count:
                best, best_count = profile, count
        return best, objects, (best_count / total if total else 0.0)

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are JSON objects with the keys of one profile."""
        profile, _, share = self._choose(lines)
        return Detection(confidence=share, variant=profile.name, detail=profile.name)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse for the profile that fits the sample (or ``variant`` when forced)."""
        profile, objects, share = self._choose(sample)
        if share == 0.0:
            profile = next((p for p in PROFILES if p.name == variant), NGINX_JSON)
        return build_plan(profile, _present(profile, objects), profile.name)


FORMAT = JsonAccessFormat()
