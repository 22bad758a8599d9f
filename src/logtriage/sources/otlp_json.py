"""OpenTelemetry traces as OTLP JSON lines: spans, plus HTTP server requests and DB queries.

The collector's ``file`` exporter and the SDKs' OTLP file exporters write one ``TracesData``
object per line (``{"resourceSpans": [{"resource", "scopeSpans": [{"scope", "spans": […]}]}]}``,
opentelemetry-proto ``docs/specification.md``, ``examples/trace.json``). OTLP/JSON writes ids as
hex and enums as integers, but protobuf's own JSON printer (``MessageToJson``) writes ids as
base64 and enums as names (``SPAN_KIND_SERVER``): both are read. Times are nanoseconds since the
epoch, as decimal strings or numbers. Attribute names follow both the current and the older
semantic conventions (``http.request.method``/``http.method``, ``db.query.text``/
``db.statement``…).

One line holds many spans, but every row of the engine is identified by ``(source, line)``:
a span's ``line`` is ``physical line × 1 000 000 + its ordinal in that line`` (line 3's second
span is 3000002), so each request and query stays one unit the correlator can tie.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan

# Spans per physical line are numbered below this; see the module docstring.
LINE_STRIDE = 1_000_000

_KINDS = (
    "CASE coalesce(try_cast(sp->>'$.kind' AS INTEGER), -1) "
    "WHEN 0 THEN 'unspecified' WHEN 1 THEN 'internal' WHEN 2 THEN 'server' "
    "WHEN 3 THEN 'client' WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer' "
    "ELSE nullif(lower(regexp_replace(sp->>'$.kind', '^SPAN_KIND_', '')), '') END"
)


def _id_sql(expr: str) -> str:
    """A trace or span id as lowercase hex, whether written as hex or base64 (or absent)."""
    return (
        f"CASE WHEN nullif({expr}, '') IS NULL THEN NULL "
        f"WHEN regexp_full_match({expr}, '[0-9a-fA-F]{{16}}|[0-9a-fA-F]{{32}}') THEN lower({expr}) "
        f"ELSE lower(hex(try(from_base64({expr})))) END"
    )


def _attr(*keys: str) -> str:
    """The first of ``keys`` present in the span's attribute map ``a``."""
    return "coalesce(" + ", ".join(f"a['{k}']" for k in keys) + ")"


def _value_sql(v: str) -> str:
    """One attribute value as text: scalars as written, arrays (HTTP headers) joined by commas."""
    return (
        f"coalesce({v}->>'$.stringValue', {v}->>'$.intValue', {v}->>'$.doubleValue', "
        f"{v}->>'$.boolValue', array_to_string(list_transform("
        f"json_extract({v}, '$.arrayValue.values[*]'), lambda e: coalesce(e->>'$.stringValue', "
        f"e->>'$.intValue', e->>'$.doubleValue', e->>'$.boolValue')), ','), ({v})::VARCHAR)"
    )


_PARSED_SQL = """
CREATE TEMP TABLE tmp_otlp_lines AS
SELECT line, CASE WHEN json_valid(text) THEN text::JSON END AS j FROM {lines}
"""

# Every span of every line, in order; resource attributes (service.name) go with the span's
# own, which win on a clash. ``instrumentationLibrarySpans`` is OTLP before 0.15.
_SPANS_SQL = f"""
CREATE TEMP TABLE tmp_otlp_spans AS
WITH resources AS (
    SELECT line, unnest(json_extract(j, '$.resourceSpans[*]')) AS r,
           generate_subscripts(json_extract(j, '$.resourceSpans[*]'), 1) AS ri
    FROM tmp_otlp_lines
    WHERE json_type(j, '$.resourceSpans') = 'ARRAY'
), scopes AS (
    SELECT line, ri, r, unnest(s) AS s, generate_subscripts(s, 1) AS si
    -- Not coalesce: json_extract of a missing list is [], not NULL.
    FROM (SELECT *, CASE WHEN json_type(r, '$.scopeSpans') = 'ARRAY'
                         THEN json_extract(r, '$.scopeSpans[*]')
                         ELSE json_extract(r, '$.instrumentationLibrarySpans[*]') END AS s
          FROM resources)
), spans AS (
    SELECT line, ri, si, r, unnest(json_extract(s, '$.spans[*]')) AS sp,
           generate_subscripts(json_extract(s, '$.spans[*]'), 1) AS pi
    FROM scopes
), attrs AS (
    SELECT *, list_concat(
        list_transform(json_extract(sp, '$.attributes[*]'),
            lambda x: {{'key': x->>'$.key', 'value': {_value_sql("(x->'$.value')")}}}),
        list_transform(json_extract(r, '$.resource.attributes[*]'),
            lambda x: {{'key': x->>'$.key', 'value': {_value_sql("(x->'$.value')")}}})
    ) AS entries
    FROM spans
)
SELECT line AS physical_line,
    line * {LINE_STRIDE} + row_number() OVER (PARTITION BY line ORDER BY ri, si, pi) AS line,
    {_id_sql("sp->>'$.traceId'")} AS trace_id,
    {_id_sql("sp->>'$.spanId'")} AS span_id,
    {_id_sql("sp->>'$.parentSpanId'")} AS parent_id,
    sp->>'$.name' AS name,
    {_KINDS} AS kind,
    try_cast(sp->>'$.startTimeUnixNano' AS HUGEINT) AS start_ns,
    try_cast(sp->>'$.endTimeUnixNano' AS HUGEINT) AS end_ns,
    -- A key written twice (invalid, but seen) keeps its first value instead of failing.
    map_from_entries(list_filter(entries, lambda e, i:
        e.key IS NOT NULL AND list_position(list_transform(entries, lambda f: f.key), e.key) = i
    )) AS a,
    sp->>'$.status.code' AS status_code
FROM attrs
"""

# Nanoseconds since the epoch that fit a timestamp (to the year 2262); beyond is not a time.
_START_IN_RANGE = "start_ns BETWEEN 0 AND 9223372036854775807"
_GOOD = f"trace_id IS NOT NULL AND span_id IS NOT NULL AND {_START_IN_RANGE}"

_SPAN_ROWS = f"""
SELECT trace_id, span_id, parent_id, name, kind,
    CASE WHEN {_START_IN_RANGE} THEN make_timestamp((start_ns // 1000)::BIGINT) END AS ts,
    (end_ns - start_ns) / 1e6 AS duration_ms,
    a AS attributes,
    -- A span that cannot be a row is rejected at its physical line, whose text is shown.
    CASE WHEN {_GOOD} THEN line ELSE physical_line END AS line,
    CASE WHEN trace_id IS NULL OR span_id IS NULL THEN 'span without traceId or spanId'
         WHEN start_ns IS NULL THEN 'span without startTimeUnixNano'
         WHEN NOT {_START_IN_RANGE} THEN 'startTimeUnixNano out of range' END AS _reject
FROM tmp_otlp_spans
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, line,
    CASE WHEN j IS NULL THEN 'not JSON'
         WHEN json_type(j, '$.resourceLogs') IS NOT NULL
           OR json_type(j, '$.resourceMetrics') IS NOT NULL
           THEN 'OTLP logs or metrics, not traces'
         ELSE 'JSON without resourceSpans (not OTLP traces)' END
FROM tmp_otlp_lines
WHERE j IS NULL OR json_type(j, '$.resourceSpans') IS DISTINCT FROM 'ARRAY'
"""

_TS = f"CASE WHEN {_START_IN_RANGE} THEN make_timestamp((start_ns // 1000)::BIGINT) END"
_DURATION = "(end_ns - start_ns) / 1e6"

# ``http.target`` (old conventions) and ``url.full``/``http.url`` carry the query string.
_TARGET = _attr("url.path", "http.target") + (
    " , regexp_extract(" + _attr("url.full", "http.url") + ", '^[A-Za-z]+://[^/?#]*([^#]*)', 1)"
)

_REQUESTS_SQL = f"""
SELECT {_TS} AS ts, {_DURATION} AS duration_ms, upper(method) AS method,
    split_part(target, '?', 1) AS path,
    -- The framework's own route (Flask ``<int:id>``, Express ``:id``) in the ``{{id}}`` shape.
    upper(method) || ' ' || regexp_replace(regexp_replace(route,
        '<(?:[^:<>]+:)?([^<>]+)>', '{{\\1}}', 'g'), ':([A-Za-z_][A-Za-z0-9_]*)', '{{\\1}}', 'g')
        AS route,
    coalesce(a['url.query'], nullif(split_part(target, '?', 2), '')) AS query,
    try_cast({_attr("http.response.status_code", "http.status_code")} AS INTEGER) AS status,
    try_cast({_attr("http.response.body.size", "http.response_content_length")} AS BIGINT)
        AS bytes_sent,
    {_attr("client.address", "http.client_ip", "net.peer.ip", "net.sock.peer.addr")} AS client,
    {_attr("user_agent.original", "http.user_agent")} AS user_agent,
    {_attr("http.request.header.referer")} AS referrer,
    {_attr("http.request.header.x-request-id", "http.request_id", "request_id")} AS request_id,
    trace_id, NULL::DOUBLE AS upstream_ms,
    {_attr("server.address", "http.host", "net.host.name", "service.name")} AS host,
    line
FROM (
    SELECT *, {_attr("http.request.method", "http.method")} AS method,
        coalesce({_TARGET}) AS target, a['http.route'] AS route
    FROM tmp_otlp_spans WHERE {_GOOD} AND kind = 'server'
)
WHERE method IS NOT NULL
"""

_QUERIES_SQL = f"""
SELECT {_TS} AS ts, {_DURATION} AS duration_ms, sql,
    NULL::VARCHAR AS fingerprint, NULL::VARCHAR AS fingerprint_id,
    NULL::MAP(VARCHAR, VARCHAR) AS tags,
    {_attr("db.namespace", "db.name")} AS db, a['db.user'] AS "user",
    -- A trace is one unit of work: its statements form one "connection" for burst grouping.
    trace_id AS connection,
    try_cast(a['db.response.returned_rows'] AS BIGINT) AS rows_sent,
    NULL::BIGINT AS rows_examined, NULL::DOUBLE AS lock_ms,
    NULL::VARCHAR AS request_id, trace_id,
    {_attr("db.system.name", "db.system")} AS db_system,
    line
FROM (SELECT *, {_attr("db.query.text", "db.statement")} AS sql FROM tmp_otlp_spans
      WHERE {_GOOD} AND kind = 'client')
WHERE sql IS NOT NULL
"""


def _is_traces(obj: object) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("resourceSpans"), list)


class OtlpJsonFormat:
    """OpenTelemetry traces as OTLP JSON lines (collector ``file`` exporter, SDK file exporters)."""

    name = "otlp_json"
    table = "spans"
    description = "OpenTelemetry traces, OTLP JSON lines (one TracesData object per line)"
    recognises = '{"resourceSpans":[{"resource":{…},"scopeSpans":[{"spans":[…]}]}]}'
    field_hints: Mapping[str, str] = {}

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are JSON objects with a ``resourceSpans`` list."""
        seen = hits = 0
        for line in lines:
            if not line.strip():
                continue
            seen += 1
            # Cheap test first: a batch line can be megabytes of JSON.
            if '"resourceSpans"' not in line:
                continue
            try:
                hits += _is_traces(json.loads(line))
            except ValueError:
                continue
        if not seen or not hits:
            return Detection(0.0)
        return Detection(hits / seen, variant="otlp")

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Explode every line's spans in one statement; server and DB spans feed two more tables."""
        return ParsePlan(
            table="spans",
            variant=variant or "otlp",
            setup=(_PARSED_SQL, _SPANS_SQL),
            select_sql=_SPAN_ROWS,
            also=(("requests", _REQUESTS_SQL), ("queries", _QUERIES_SQL)),
        )


FORMAT = OtlpJsonFormat()
