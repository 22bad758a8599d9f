"""W3C extended access logs (IIS, Amazon CloudFront): the ``#Fields:`` directive names the columns.

Microsoft IIS writes ``#Software``/``#Version``/``#Date``/``#Fields`` directives at the top of
each file (and again after a restart), then one space-separated line per request:
``2026-11-24 10:00:00 10.0.0.1 GET /api/users id=1 443 - 203.0.113.9 Mozilla/5.0+(X11) - 200
0 0 125``. Amazon CloudFront's standard logs have the same directives and tab-separated lines
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html).
Times are UTC in both, when the response finished (the start is ``time-taken`` earlier);
``time-taken`` is milliseconds in IIS and seconds (``0.002``) in
CloudFront. IIS writes spaces in values as ``+``; CloudFront percent-encodes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from logtriage.sources.base import MAX_DURATION_MS, Detection, FormatOptions, ParsePlan

_FIELDS_DIRECTIVE = "#Fields:"
# W3C field name (lower case) -> canonical meaning; the first present wins for each.
_NAMES: Mapping[str, tuple[str, ...]] = {
    "date": ("date",),
    "time": ("time",),
    "method": ("cs-method",),
    "path": ("cs-uri-stem",),
    "query": ("cs-uri-query",),
    "status": ("sc-status",),
    "bytes": ("sc-bytes",),
    "taken": ("time-taken",),
    "client": ("c-ip",),
    "user_agent": ("cs(user-agent)",),
    "referrer": ("cs(referer)", "cs(referrer)"),
    "host": ("cs-host", "cs(host)", "x-host-header", "s-sitename"),
    "request_id": ("x-edge-request-id", "cs(x-request-id)", "x-request-id"),
    "xff": ("x-forwarded-for", "cs(x-forwarded-for)"),
}


def _fields(sample: Sequence[str]) -> list[str]:
    """The field names of the first ``#Fields:`` directive in the sample (lower case)."""
    for line in sample:
        if line.startswith(_FIELDS_DIRECTIVE):
            return line[len(_FIELDS_DIRECTIVE) :].lower().split()
    return []


def _variant(sample: Sequence[str], fields: Sequence[str]) -> str:
    if "x-edge-location" in fields:
        return "cloudfront"
    is_iis = any(ln.startswith("#Software: Microsoft Internet Information") for ln in sample)
    return "iis" if is_iis or "sc-win32-status" in fields else "w3c"


def _separator(sample: Sequence[str]) -> str:
    """CloudFront separates values with tabs, IIS with spaces."""
    data = [ln for ln in sample if ln and not ln.startswith("#")]
    return "\t" if data and all("\t" in ln for ln in data) else " "


def _column(fields: Sequence[str], meaning: str) -> str:
    """SQL: the raw value of a meaning's field (``-`` is none), or NULL when not logged."""
    for name in _NAMES[meaning]:
        if name in fields:
            return f"NULLIF(f[{fields.index(name) + 1}], '-')"
    return "NULL::VARCHAR"


def _text(value: str, variant: str) -> str:
    """SQL: a logged text value decoded (IIS ``+`` for spaces, CloudFront percent-encoding)."""
    if value == "NULL::VARCHAR":
        return value
    if variant == "cloudfront":
        # CloudFront encodes twice: '%2520' is a space.
        return f"url_decode(url_decode({value}))"
    return f"replace({value}, '+', ' ')"


def _select_sql(fields: Sequence[str], variant: str) -> str:
    col = {meaning: _column(fields, meaning) for meaning in _NAMES}
    seconds = variant == "cloudfront"
    taken = f"try_cast({col['taken']} AS DOUBLE)" + (" * 1000.0" if seconds else "")
    stamp = f"try_strptime({col['date']} || ' ' || {col['time']}, '%Y-%m-%d %H:%M:%S')"
    client = f"coalesce(NULLIF(trim(split_part({col['xff']}, ',', 1)), ''), {col['client']})"
    return f"""
SELECT
    -- The logged time is when the response finished: the request started time-taken earlier.
    -- A time-taken of more than ~30 years is garbage, not a start time (no overflow).
    CASE WHEN good AND abs(coalesce({taken}, 0)) < {MAX_DURATION_MS} THEN {stamp} - to_microseconds(
        coalesce(round({taken} * 1000.0)::BIGINT, 0)) END AS ts,
    CASE WHEN good THEN {taken} END AS duration_ms,
    CASE WHEN good THEN {col["method"]} END AS method,
    CASE WHEN good THEN {col["path"]} END AS path,
    NULL::VARCHAR AS route,
    CASE WHEN good THEN {col["query"]} END AS query,
    CASE WHEN good THEN try_cast({col["status"]} AS INTEGER) END AS status,
    CASE WHEN good THEN try_cast({col["bytes"]} AS BIGINT) END AS bytes_sent,
    CASE WHEN good THEN {client} END AS client,
    CASE WHEN good THEN {_text(col["user_agent"], variant)} END AS user_agent,
    CASE WHEN good THEN {_text(col["referrer"], variant)} END AS referrer,
    CASE WHEN good THEN {col["request_id"]} END AS request_id,
    NULL::VARCHAR AS trace_id,
    NULL::DOUBLE AS upstream_ms,
    CASE WHEN good THEN {col["host"]} END AS host,
    line,
    CASE WHEN NOT good THEN 'not a line of the #Fields: directive ({len(fields)} values)'
         WHEN {stamp} IS NULL THEN 'unreadable date and time' END AS _reject
FROM tmp_w3c
"""


def _split_sql(fields: Sequence[str], separator: str) -> str:
    """Directive lines (``#…``) are left out, like a server's banner: not requests, not errors."""
    sep = "chr(9)" if separator == "\t" else "' '"
    return f"""
CREATE TEMP TABLE tmp_w3c AS
SELECT line, f, len(f) = {len(fields)} AS good
FROM (SELECT line, string_split(text, {sep}) AS f FROM {{lines}}
      WHERE NOT starts_with(text, '#') AND trim(text) <> '')
"""


class W3cFormat:
    """W3C extended log file format: Microsoft IIS and Amazon CloudFront access logs."""

    name = "w3c"
    table = "requests"
    description = "W3C extended access logs: Microsoft IIS and Amazon CloudFront"
    recognises = (
        "a '#Fields: date time … cs-method cs-uri-stem … sc-status …' directive and the "
        "space-separated (IIS) or tab-separated (CloudFront) lines it describes"
    )
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            "IIS: select the time-taken field (IIS Manager > Logging > Select Fields, or "
            "logExtFileFlags TimeTaken in applicationHost.config)"
        ),
        "request_id": (
            "IIS: log the X-Request-ID request header as a custom field (Logging > Select "
            "Fields > Add Field, source type Request Header) and pass the same id to the "
            "application; CloudFront logs x-edge-request-id"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are directives or lines of the named fields."""
        body = [ln for ln in lines if ln.strip()]
        fields = _fields(body)
        if not body or not fields or "cs-uri-stem" not in fields:
            return Detection(0.0)
        separator = _separator(body)
        fits = sum(
            1 for ln in body if ln.startswith("#") or len(ln.split(separator)) == len(fields)
        )
        variant = _variant(body, fields)
        return Detection(confidence=fits / len(body), variant=variant, detail=" ".join(fields))

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Columns by position from the sample's ``#Fields:`` directive; directives skipped."""
        body = [ln for ln in sample if ln.strip()]
        fields = _fields(body)
        kind = variant or _variant(body, fields)
        missing = tuple(
            column
            for column, meaning in (("duration_ms", "taken"), ("request_id", "request_id"))
            if not any(name in fields for name in _NAMES[meaning])
        )
        return ParsePlan(
            table="requests",
            select_sql=_select_sql(fields, kind),
            setup=(_split_sql(fields, _separator(body)),),
            variant=kind,
            missing=(*missing, "trace_id"),
        )


FORMAT = W3cFormat()
