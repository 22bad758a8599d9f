"""Apache httpd error logs (``ErrorLog``): proxy failures, missing files, module errors.

Apache 2.4's default ``ErrorLogFormat`` (https://httpd.apache.org/docs/2.4/mod/core.html#errorlogformat):
``[Wed Nov 25 10:00:00.123456 2026] [proxy_http:error] [pid 1:tid 2] (70007)The timeout
specified has expired: [client 1.2.3.4:5] AH01102: error reading status line …``, and 2.2's
``[Wed Nov 25 10:00:00 2026] [error] [client 1.2.3.4] message``. ``module`` and ``AH`` code,
``client`` (the address without its port), ``pid``/``tid``, a trailing ``, referer: …`` and
the APR error (``70007``) become attributes; the message without the prefixes becomes
``message``, and its normalized kind with the system error text ``error_type``
(``error reading status line from remote server (The timeout specified has expired)``).
Apache writes local time without a zone: UTC unless ``[formats] app_timezone`` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.app_fields import level_sql, sql_str
from logtriage.sources.base import Detection, FormatOptions, ParsePlan
from logtriage.sources.server_error_fields import continued_lines, entries_sql, kind_sql, multiline

_LEVELS = r"emerg|alert|crit|error|warn|notice|info|debug|trace[1-8]"
LINE = (
    r"^\[(\w{3} \w{3} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4})\] "
    rf"\[(?:([\w.-]*):)?({_LEVELS})\] (?:\[pid (\d+)(?::tid (\d+))?\] )?(.*)$"
)
_LINE = re.compile(LINE)
# The same, with the lines that continue an entry (entries_sql) in its message.
WHOLE = multiline(LINE)
# After the prefixes: ``file.c(123): `` (LogLevel debug), ``(70007)APR text: ``, the client.
_SOURCE_FILE = r"^[\w.-]+\.c\(\d+\): "
_APR = r"^\((-?\d+)\)([^:]*): "
_CLIENT = r"^\[client ([^\]]+)\] "
_CODE = r"^(AH\d{5}): "
_REFERER = r", referer: (\S*)$"


def _strip(expr: str, pattern: str) -> str:
    return f"regexp_replace({expr}, '{sql_str(pattern)}', '')"


def _take(expr: str, pattern: str, group: int = 1) -> str:
    return f"NULLIF(regexp_extract({expr}, '{sql_str(pattern)}', {group}), '')"


class ApacheErrorFormat:
    """Apache httpd's own error log."""

    name = "apache_error"
    table = "app_events"
    description = "Apache httpd error logs (2.4 and 2.2 layouts): proxy errors, missing files"
    recognises = "[Wed Nov 25 10:00:00.123456 2026] [proxy_http:error] [pid 1:tid 2] … AH01102: …"
    field_hints: Mapping[str, str] = {
        "request_id": (
            "add the request id to error lines: ErrorLogFormat with %L (the log id) and "
            "%{UNIQUE_ID}e, and log %L (mod_unique_id's id) in the access log too"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines in Apache's error-log layout."""
        seen = sum(1 for line in lines if line.strip())
        hits = [m for m in map(_LINE.match, lines) if m]
        variant = "2.4" if any(m.group(4) for m in hits) else "2.2"
        more = continued_lines(lines, _LINE) if hits else 0
        share = (len(hits) + more) / seen if seen else 0.0
        return Detection(0.95 * share, variant=variant if hits else "")

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """One regexp per line for the prefix, then peel the message's own prefixes."""
        zone = options.get("app_timezone")
        naive = (
            "try_strptime(regexp_replace(ts_text, ' +', ' ', 'g'), "
            "['%a %b %d %H:%M:%S.%f %Y', '%a %b %d %H:%M:%S %Y'])"
        )
        ts = f"timezone('{sql_str(zone)}', {naive})::TIMESTAMP" if zone else naive
        after_file = _strip("rest", _SOURCE_FILE)
        after_apr = _strip(after_file, _APR)
        after_client = _strip(after_apr, _CLIENT)
        body = _strip(after_client, _CODE)
        select_sql = f"""
SELECT line, {ts} AS ts, {level_sql("lvl")} AS level, message,
    NULL::VARCHAR AS request_id, NULL::VARCHAR AS trace_id,
    CASE WHEN lvl IN ('error', 'crit', 'alert', 'emerg')
         THEN {kind_sql("message", "apr_text")} END AS error_type,
    NULL::VARCHAR AS stack,
    map_from_entries(list_filter([
        {{'key': 'module', 'value': module}}, {{'key': 'code', 'value': code}},
        {{'key': 'client', 'value': client}}, {{'key': 'referrer', 'value': referer}},
        {{'key': 'apr_status', 'value': apr_status}},
        {{'key': 'pid', 'value': pid}}, {{'key': 'tid', 'value': tid}}],
        lambda e: e.value IS NOT NULL)) AS attributes,
    CASE WHEN NOT ok THEN 'not an Apache error log line' END AS _reject
FROM (
    SELECT *, {_strip(body, _REFERER)} AS message,
        {_take(body, _REFERER)} AS referer,
        {_take(after_file, _APR)} AS apr_status, {_take(after_file, _APR, 2)} AS apr_text,
        -- The client's address without its port (``[client 127.0.0.1:59710]``).
        regexp_replace({_take(after_apr, _CLIENT)}, ':\\d+$', '') AS client,
        {_take(after_client, _CODE)} AS code
    FROM (
        SELECT line, ok, s.t AS ts_text, NULLIF(s.m, '') AS module, s.l AS lvl,
            NULLIF(s.p, '') AS pid, NULLIF(s.i, '') AS tid, s.r AS rest
        FROM (SELECT line, regexp_matches(text, '{sql_str(WHOLE)}') AS ok,
                     regexp_extract(text, '{sql_str(WHOLE)}', ['t', 'm', 'l', 'p', 'i', 'r']) AS s
              FROM {entries_sql(LINE)})
    )
)
"""
        return ParsePlan(
            table="app_events",
            variant=variant or "2.4",
            missing=("request_id",),
            select_sql=select_sql,
            joins_lines=True,
        )


FORMAT = ApacheErrorFormat()
