"""HAProxy HTTP logs (``option httplog`` / ``option httpslog``), raw or inside syslog.

Format: https://docs.haproxy.org/2.6/configuration.html#8.2.3 ::

    %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
    %sq/%bq %hr %hs %{+Q}r

``httpslog`` appends TLS fields after the request; versions before 1.9 wrote
``Tq/Tw/Tc/Tr/Tt`` in the same place. A syslog head (``<134>Nov 25 19:20:51 host
haproxy[123]:``, RFC 5424 or an ISO time) or none (``log stdout format raw``) may precede
the line. The bracketed time is when the request began, in HAProxy's local time (UTC unless
the ``haproxy_timezone`` option names a zone); the last timer is the duration (``-1`` timers
were not reached: NULL), ``Tr`` the server's response time, the backend is the service. The
``{…}`` blocks hold captured headers: a value shaped like a request id (UUID, long hex, the
documented ``unique-id-format``) or a W3C traceparent becomes ``request_id``/``trace_id``.
The termination state (``sH--``: server timeout, ``SC--``: connection refused, ``CD--``:
client abort) decides the status HAProxy logs (504, 503; ``-1``, no response, is NULL) and is
kept as an app event (WARNING, ``error_type`` = the state, same line and request id) beside each
request that did not end normally; HAProxy's own notices (``Server web/s1 is DOWN``, ``Proxy
… stopped``) are app events too. ``option tcplog`` lines have no HTTP request and are
rejected with their own reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.app_fields import sql_str
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

# Any syslog head, or none. After <PRI>: RFC 3164/3339 time, host and ``tag[pid]: `` (or
# ``haproxy: ``), or RFC 5424's ``time host app procid msgid sd ``.
_HEAD_BODY = r"(?:[^\[\]]*?\[\d+\]: |[^\[\]]*? haproxy: |.*? \d+ - - )"
_HEAD = r"^(?:<\d{1,3}>\d?\s*)?" + _HEAD_BODY + "?"
_TIMER = r"\+?-?\d+"
_HTTP = (
    _HEAD + r"(\S+):(\d+) \[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3})\] "
    r"(\S+) ([^/\s]+)/(\S+) "
    rf"({_TIMER})/({_TIMER})/({_TIMER})/({_TIMER})/({_TIMER}) "
    r"(-?\d+) \+?(\d+) \S+ \S+ (\S{4}) \d+/\d+/\d+/\d+/\+?\d+ \d+/\d+"
    r'(?: \{([^}]*)\})?(?: \{([^}]*)\})? "([^"]*)"?(?: .*)?$'
)
_GROUPS = [
    "client",
    "port",
    "time",
    "frontend",
    "backend",
    "server",
    "t1",
    "t2",
    "t3",
    "t4",
    "t5",
    "status",
    "bytes",
    "termination",
    "cap1",
    "cap2",
    "request",
]
_TCP = (
    _HEAD + r"\S+:\d+ \[\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}\] \S+ \S+/\S+ "
    r"-?\d+/-?\d+/\+?-?\d+ \+?\d+ \S{2} \d+/\d+/\d+/\d+/\+?\d+ \d+/\d+$"
)
# Captured values that can only be ids: UUID, long hex, HAProxy's documented unique-id-format
# (%{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid), AWS's X-Amzn-Trace-Id.
_ID = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,64}|[0-9A-F]+:[0-9A-F]+_[0-9A-F]+:[0-9A-F]+_[0-9A-F]+_[0-9A-F]+:[0-9A-F]+"
    r"|Root=1-[0-9a-f]{8}-[0-9a-f]{24}\S*"
)
_TRACEPARENT = r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"
_REQUEST = r"^([A-Za-z][A-Za-z0-9_-]{0,31}) (\S+)(?: HTTP/\d(?:\.\d)?)?$"

_HTTP_RE = re.compile(_HTTP)
_ID_RE = re.compile(rf"(?:{_ID})")
# A line without a syslog head starts with the client address and the bracketed time.
_RAW_START = re.compile(r"\S+:\d+ \[")


def _ids(line: str) -> bool:
    """Whether an httplog line's first capture block holds an id or a traceparent."""
    match = _HTTP_RE.match(line)
    if not match or match.group(15) is None:
        return False
    return any(
        _ID_RE.fullmatch(v) or re.fullmatch(_TRACEPARENT, v) for v in match.group(15).split("|")
    )


def _is_notice(line: str) -> bool:
    """Whether a line is one of HAProxy's own notices (after any syslog head)."""
    match = _HEAD_PARTS_RE.match(line)
    return bool(match and _EVENT_RE.match(match.group(2)))


def _timer(name: str) -> str:
    """A timer in ms; -1 (not reached) is NULL, a ``+`` (option logasap) is dropped."""
    return f"CASE WHEN NOT starts_with({name}, '-') THEN try_cast(ltrim({name}, '+') AS DOUBLE) END"


# HAProxy's own notices (start/stop, health checks), after any syslog head.
_EVENT = (
    r"^(?:\[(?:NOTICE|WARNING|ALERT)\] +\(\d+\) : )?(?:Proxy \S+ (?:started|stopped|paused|resumed)"
    r"|Server \S+ is (?:going )?(?:DOWN|UP)|backend \S+ has no server available"
    r"|Health check for |Stopping (?:frontend|backend|proxy) |Pausing |Resuming |Loading success)"
)
# The head's time: RFC 3164 (no year) or RFC 3339.
_HEAD_TIME = r"^(?:<\d{1,3}>\d?\s*)?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+)"
# The head again, to find where the message starts (and its syslog severity, if any).
_HEAD_PARTS = r"^(?:<(\d{1,3})>\d?\s*)?" + _HEAD_BODY + "?(.*)$"
_HEAD_PARTS_RE = re.compile(_HEAD_PARTS)
_EVENT_RE = re.compile(_EVENT)


def setup_sql(zone: str | None) -> str:
    """Parse every line once into ``tmp_haproxy`` (requests and app events read it)."""
    fields = ", ".join(f"'{g}'" for g in _GROUPS)
    naive = "try_strptime(time, '%d/%b/%Y:%H:%M:%S.%g')"
    ts = f"timezone('{sql_str(zone)}', {naive})::TIMESTAMP" if zone else naive
    # A notice's time is its syslog head's; RFC 3164 has no year: the year of the file's
    # last request (one earlier when that would put the notice after it, as at New Year).
    short = (
        "try_strptime(year_ || ' ' || regexp_replace(head_time, ' +', ' '), '%Y %b %d %H:%M:%S')"
    )
    if zone:
        short = f"timezone('{sql_str(zone)}', {short})::TIMESTAMP"
    iso = "try_cast(head_time AS TIMESTAMPTZ)::TIMESTAMP"
    return f"""
CREATE TEMP TABLE tmp_haproxy AS
WITH x AS (
    SELECT line, text, regexp_extract(text, '{sql_str(_HTTP)}', [{fields}]) AS g FROM {{lines}}
), f AS (
    SELECT line, text, g.client = '' AS bad, unnest(g) FROM x
)
SELECT * EXCLUDE (head_time, year_, last_ts),
    CASE WHEN NOT is_event OR head_time = '' THEN NULL
        WHEN substr(head_time, 5, 1) = '-' THEN {iso}
        WHEN {short} > last_ts + INTERVAL 1 DAY THEN {short} - INTERVAL 1 YEAR
        ELSE {short} END AS event_ts
FROM (
SELECT *, coalesce(bad AND regexp_matches(head.message, '{sql_str(_EVENT)}'), FALSE) AS is_event,
    CASE WHEN bad THEN regexp_extract(text, '{sql_str(_HEAD_TIME)}', 1) END AS head_time,
    max(ts) OVER () AS last_ts, CAST(year(max(ts) OVER ()) AS VARCHAR) AS year_
FROM (
SELECT line, text, bad, client, frontend, backend, server, status, bytes, request, termination,
       CASE WHEN cap1 <> '' THEN string_split(cap1, '|') END AS caps,
       {ts} AS ts, t4, t5,
       regexp_extract(request, '{sql_str(_REQUEST)}', ['method', 'target']) AS rl,
       list_filter(caps, lambda x: regexp_full_match(x, '{sql_str(_ID)}'))[1] AS rid,
       list_filter(caps, lambda x: regexp_full_match(x, '{_TRACEPARENT}'))[1] AS tp,
       CASE WHEN bad THEN regexp_extract(text, '{sql_str(_HEAD_PARTS)}', ['pri', 'message'])
       END AS head
FROM f
)
)
"""


def requests_sql() -> str:
    """Request rows from ``tmp_haproxy``, with ``_reject`` (notices are app events instead)."""
    return f"""
SELECT
    ts,
    {_timer("t5")} AS duration_ms,
    NULLIF(rl.method, '') AS method,
    NULLIF(split_part(regexp_replace(NULLIF(rl.target, ''),
        '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', ''), '?', 1), '') AS path,
    NULL::VARCHAR AS route,
    CASE WHEN strpos(rl.target, '?') > 0
        THEN NULLIF(substr(rl.target, strpos(rl.target, '?') + 1), '') END AS query,
    CASE WHEN NOT starts_with(status, '-') THEN try_cast(status AS INTEGER) END AS status,
    try_cast(bytes AS BIGINT) AS bytes_sent,
    NULLIF(regexp_replace(client, '^\\[(.*)\\]$', '\\1'), '') AS client,
    NULL::VARCHAR AS user_agent,
    NULL::VARCHAR AS referrer,
    rid AS request_id,
    NULLIF(split_part(tp, '-', 2), '') AS trace_id,
    {_timer("t4")} AS upstream_ms,
    NULLIF(backend, '') AS host,
    line,
    CASE
        WHEN bad AND regexp_matches(text, '{sql_str(_TCP)}')
            THEN 'HAProxy TCP log line (option tcplog): no HTTP request'
        WHEN bad THEN 'not an HAProxy HTTP log line'
        WHEN ts IS NULL THEN 'unreadable timestamp'
    END AS _reject
FROM tmp_haproxy
WHERE NOT is_event
"""


# Syslog severity (PRI % 8) -> level; without a head, ALERT/DOWN notices are errors.
_LEVEL = """CASE
    WHEN head.pri <> '' THEN CASE try_cast(head.pri AS INTEGER) % 8
        WHEN 0 THEN 'CRITICAL' WHEN 1 THEN 'CRITICAL' WHEN 2 THEN 'CRITICAL' WHEN 3 THEN 'ERROR'
        WHEN 4 THEN 'WARNING' WHEN 7 THEN 'DEBUG' ELSE 'INFO' END
    WHEN regexp_matches(head.message, '^\\[ALERT\\]| is DOWN|has no server available')
        THEN 'ERROR'
    WHEN starts_with(head.message, '[WARNING]') THEN 'WARNING'
    ELSE 'INFO' END"""


def app_events_sql() -> str:
    """HAProxy's notices, and one WARNING per request that did not end normally.

    The termination state (``sH--``, ``SC--``, ``CD--``) is kept beside the request it
    belongs to (same line and request id) as ``error_type``; WARNING, so a 5xx is not counted
    twice by the error analyzers.
    """
    return f"""
SELECT event_ts AS ts, {_LEVEL} AS level, head.message AS message,
    NULL::VARCHAR AS request_id, NULL::VARCHAR AS trace_id, NULL::VARCHAR AS error_type,
    NULL::VARCHAR AS stack, MAP {{'reader': 'haproxy'}} AS attributes, line
FROM tmp_haproxy WHERE is_event
UNION ALL
SELECT ts, 'WARNING', 'HAProxy termination state ' || termination || ': ' || request
        || ' -> ' || status || ' (' || backend || '/' || server || ')',
    rid, NULLIF(split_part(tp, '-', 2), ''), termination, NULL,
    MAP {{'termination_state': termination, 'frontend': frontend, 'backend': backend,
         'server': server, 'status': status}},
    line
FROM tmp_haproxy
WHERE NOT bad AND ts IS NOT NULL AND NOT starts_with(termination, '-')
"""


class HaproxyFormat:
    """HAProxy HTTP log (``option httplog``/``httpslog``), with or without a syslog head."""

    name = "haproxy"
    table = "requests"
    description = "HAProxy HTTP log (option httplog or httpslog), raw (log stdout) or inside syslog"
    recognises = (
        "client:port [06/Feb/2009:12:14:14.655] frontend backend/server Th/Tw/Tc/Tr/Ta "
        'status bytes - - ---- 1/1/1/1/0 0/0 {captures} "GET / HTTP/1.1", after any syslog head'
    )
    field_hints: Mapping[str, str] = {
        "request_id": (
            "give each request an id and capture it into the log: in the frontend, "
            "unique-id-format %[uuid()], unique-id-header X-Request-ID (sent to the servers) "
            "and http-request capture unique-id len 40 (logged in the {…} block)"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are HAProxy HTTP log lines (syslog head or not)."""
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return Detection(confidence=0.0)
        hits = [ln for ln in sample if _HTTP_RE.match(ln)]
        if not hits:
            return Detection(confidence=0.0)
        # HAProxy's own notices (a restart writes several) belong to the file too.
        notices = sum(1 for ln in sample if _is_notice(ln))
        raw = sum(1 for ln in hits if _RAW_START.match(ln))
        variant = "raw" if raw * 2 >= len(hits) else "syslog"
        share = (len(hits) + notices) / len(sample)
        return Detection(confidence=share, variant=variant, detail=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse; request_id is reported missing when no sample line captures one."""
        lines = [ln for ln in sample if _HTTP_RE.match(ln)]
        missing = () if any(_ids(ln) for ln in lines) else ("request_id",)
        return ParsePlan(
            table="requests",
            select_sql=requests_sql(),
            variant=variant or "raw",
            missing=missing,
            setup=(setup_sql(options.get("haproxy_timezone")),),
            also=(("app_events", app_events_sql()),),
        )


FORMAT = HaproxyFormat()
