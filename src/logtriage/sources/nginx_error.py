"""nginx error logs (``error_log``): upstream timeouts, refused connections, missing files.

Format (src/core/ngx_log.c): ``2026/11/25 10:00:00 [error] 123#0: *45 <message>, client: …,
server: …, request: "GET /x HTTP/1.1", upstream: "http://…", host: "…"``. The level is one of
debug, info, notice, warn, error, crit, alert, emerg; ``*45`` is the connection number. The
message becomes ``message``, its normalized kind ``error_type`` (``upstream timed out
(Connection timed out)``), and the context pairs ``client``, ``server``, ``request``,
``upstream``, ``host``, ``referrer`` plus ``pid``, ``tid`` and ``connection`` become
attributes. nginx writes its error log in the server's local time without a zone: UTC unless
``[formats] app_timezone`` names the zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.app_fields import level_sql, sql_str
from logtriage.sources.base import Detection, FormatOptions, ParsePlan
from logtriage.sources.server_error_fields import (
    NGINX_ERRNO,
    continued_lines,
    entries_sql,
    kind_sql,
    multiline,
)

LINE = (
    r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(debug|info|notice|warn|error|crit|alert|emerg)\] "
    r"(\d+)#(\d+): (?:\*(\d+) )?(.*)$"
)
_LINE = re.compile(LINE)
# The same, with the lines that continue an entry (entries_sql) in its message.
WHOLE = multiline(LINE)
# ENOENT on a file nginx was asked to serve.
_MISSING_FILE = r"^open\(\) .* failed \(2: "
_CONTEXT = ("client", "server", "request", "upstream", "host", "referrer")
# Where nginx's appended context starts: ", client: 1.2.3.4, server: …".
_CONTEXT_START = r", (?:client|server|request|upstream|host|referrer): .*$"


def _context_sql(name: str) -> str:
    quoted = name in ("request", "upstream", "host", "referrer")
    value = r'"([^"]*)"' if quoted else r"([^,]*)"
    return f"NULLIF(regexp_extract(rest, '{sql_str(f', {name}: {value}')}', 1), '')"


class NginxErrorFormat:
    """nginx's own error log."""

    name = "nginx_error"
    table = "app_events"
    description = "nginx error logs: upstream timeouts and failures, missing files, limits"
    recognises = "2026/11/25 10:00:00 [error] 123#0: *45 upstream timed out (…), client: …"
    field_hints: Mapping[str, str] = {
        "request_id": (
            "nginx's error log has no request id; tie errors to requests by logging "
            "$request_id in the access log (log_format … $request_id) and matching on "
            "client, request and time"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines in nginx's error-log layout."""
        seen = sum(1 for line in lines if line.strip())
        hits = sum(1 for line in lines if _LINE.match(line))
        more = continued_lines(lines, _LINE) if hits else 0
        share = (hits + more) / seen if seen else 0.0
        return Detection(0.95 * share, variant="nginx" if hits else "")

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """One regexp per line for the layout, then the message and its context pairs."""
        zone = options.get("app_timezone")
        naive = "try_strptime(ts_text, '%Y/%m/%d %H:%M:%S')"
        ts = f"timezone('{sql_str(zone)}', {naive})::TIMESTAMP" if zone else naive
        attributes = ", ".join(f"{{'key': '{k}', 'value': {_context_sql(k)}}}" for k in _CONTEXT)
        message = f"regexp_replace(rest, '{sql_str(_CONTEXT_START)}', '')"
        errno_text = f"regexp_extract(rest, '{sql_str(NGINX_ERRNO)}', 2)"
        select_sql = f"""
SELECT line, {ts} AS ts,
    -- nginx logs every missing file at error level; it is the client's 404 (Apache: info).
    CASE WHEN lvl = 'error' AND regexp_matches(rest, '{sql_str(_MISSING_FILE)}')
         THEN 'INFO' ELSE {level_sql("lvl")} END AS level,
    {message} AS message,
    NULL::VARCHAR AS request_id, NULL::VARCHAR AS trace_id,
    {kind_sql(message, errno_text)} AS error_type,
    NULL::VARCHAR AS stack,
    map_from_entries(list_filter([
        {attributes},
        {{'key': 'pid', 'value': pid}}, {{'key': 'tid', 'value': tid}},
        {{'key': 'connection', 'value': conn}}], lambda e: e.value IS NOT NULL)) AS attributes,
    CASE WHEN NOT ok THEN 'not an nginx error log line' END AS _reject
FROM (
    SELECT line, ok, s.t AS ts_text, s.l AS lvl, s.p AS pid, s.i AS tid,
        NULLIF(s.c, '') AS conn, s.r AS rest
    FROM (SELECT line, regexp_matches(text, '{sql_str(WHOLE)}') AS ok,
                 regexp_extract(text, '{sql_str(WHOLE)}', ['t', 'l', 'p', 'i', 'c', 'r']) AS s
          FROM {entries_sql(LINE)})
)
"""
        return ParsePlan(
            table="app_events",
            variant=variant or "nginx",
            missing=("request_id",),
            select_sql=select_sql,
            joins_lines=True,
        )


FORMAT = NginxErrorFormat()
