"""MySQL, Percona Server and MariaDB general query logs: statements and connection events.

Each command the server receives is one line (the statement may continue on the next lines).
MySQL 5.7+ times every line (``2026-11-24T10:00:00.123456Z<TAB>   12 Query<TAB>SELECT …``);
MariaDB and MySQL <= 5.6 write ``261124 10:00:00<TAB>     12 Connect<TAB>app@localhost on
shop using TCP/IP`` and leave the time out (``<TAB><TAB>     12 Query<TAB>…``) until it changes.

Writers: MySQL ``sql/log.cc`` ``File_query_log::write_general``, MariaDB
``MYSQL_QUERY_LOG::write``. Samples: percona-toolkit ``t/lib/samples/genlogs/``.
``Query`` and ``Execute`` (a server-side prepared statement, with its parameters filled in)
become ``queries`` rows without duration; ``Connect`` and ``Quit`` become ``db_events``;
``Init DB``, ``USE db`` and ``Connect … on db`` set the database of the connection's later
statements. Other commands (``Prepare``, ``Close stmt``, ``Ping``…) are read and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan
from logtriage.sources.mysql_server import (
    BANNER_SQL,
    FIELD_HINTS,
    RESTART_SQL,
    TIME_REGEX,
    db_system,
    flavour,
    time_sql,
    utc_offset_seconds,
)

# Command names: MySQL `Command_names` (sql/sql_parse.cc) and MariaDB's `command_name`.
# Longest first: the regex takes the first alternative that matches.
_COMMANDS = sorted(
    (
        "Sleep", "Quit", "Init DB", "Query", "Field List", "Create DB", "Drop DB", "Refresh",
        "Shutdown", "Statistics", "Processlist", "Connect", "Kill", "Debug", "Ping", "Time",
        "Delayed insert", "Change user", "Binlog Dump", "Binlog Dump GTID", "Table Dump",
        "Connect Out", "Register Slave", "Register Replica", "Prepare", "Execute", "Long Data",
        "Close stmt", "Reset stmt", "Set option", "Fetch", "Daemon", "Reset Connection",
        "Reset connection", "clone", "Group Replication Data Stream", "Error", "Bulk_execute",
        "Slave_worker", "Slave_IO", "Slave_SQL", "Com_multi",
    ),
    key=len,
    reverse=True,
)  # fmt: skip
# [time] whitespace thread-id command [tab-or-spaces argument]; MySQL <= 5.0 used spaces.
_ENTRY = rf"^({TIME_REGEX})?\s+(\d+) ({'|'.join(re.escape(c) for c in _COMMANDS)})(?:[\t ]+(.*))?$"
_CONNECT = r"^(\S*)@(\S*) (?:as (\S*) )?on (\S*)"
_USE = r"(?i)^\s*use\s+`?([^`;\s]+)`?\s*;?\s*$"
# SQL-level `EXECUTE stmt USING @a` is logged twice: as this Query, then as an `Execute` line
# with the statement it ran (parameters filled in). Only the second becomes a query.
_EXECUTE = r"(?i)^\s*execute\s"


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _setup_sql(system: str, utc_offset_s: int) -> str:
    """The bulk parse: number entries, join continuation lines, carry time/user/db forward."""
    return f"""
CREATE TEMP TABLE tmp_mysql_general AS
WITH heads AS (
    -- One line per command; nearly every line is one, so they are never grouped.
    SELECT line, g.t, g.conn, g.cmd, g.arg
    FROM (SELECT line, text,
                 regexp_extract(text, '{_sql_str(_ENTRY)}', ['t', 'conn', 'cmd', 'arg']) AS g
          FROM {{lines}})
    WHERE g.cmd <> '' AND NOT {BANNER_SQL}
), others AS (
    -- The few other lines: statement continuations, banners, text before the first command.
    SELECT line, text, {BANNER_SQL} AS is_banner
    FROM {{lines}}
    WHERE NOT regexp_full_match(text, '{_sql_str(_ENTRY)}') OR {BANNER_SQL}
), restarts AS (
    SELECT line, row_number() OVER (ORDER BY line) AS epoch
    FROM others WHERE is_banner AND {RESTART_SQL}
), first_head AS (
    SELECT coalesce(min(line), 9223372036854775807) AS at FROM heads
), continued AS (
    SELECT h.line AS head, string_agg(o.text, chr(10) ORDER BY o.line) AS more
    FROM others AS o ASOF JOIN heads AS h ON o.line >= h.line
    WHERE NOT o.is_banner
    GROUP BY h.line
), e AS (
    SELECT h.line AS entry, coalesce(r.epoch, 0) AS epoch, h.line, h.t, h.conn, h.cmd,
        CASE WHEN c.more IS NULL THEN h.arg ELSE h.arg || chr(10) || c.more END AS arg
    FROM heads AS h
        ASOF LEFT JOIN restarts AS r ON h.line >= r.line
        LEFT JOIN continued AS c ON c.head = h.line
), s AS (
    SELECT *,
        CASE WHEN cmd IN ('Connect', 'Change user')
             THEN regexp_extract(arg, '{_CONNECT}', ['user', 'host', 'proxy', 'db']) END AS who,
        CASE WHEN cmd = 'Init DB' THEN NULLIF(trim(arg), '')
             WHEN cmd = 'Query' AND regexp_matches(arg, '{_USE}')
                 THEN regexp_extract(arg, '{_USE}', 1) END AS db_set
    FROM e
), c AS (
    SELECT *,
        last_value({time_sql("NULLIF(t, '')", utc_offset_s)} IGNORE NULLS)
            OVER (ORDER BY entry ROWS UNBOUNDED PRECEDING) AS ts,
        last_value(NULLIF(who.user, '') IGNORE NULLS) OVER w AS session_user,
        last_value(coalesce(db_set, NULLIF(who.db, '')) IGNORE NULLS) OVER w AS session_db,
        cmd = 'Query' AND lead(cmd) OVER (PARTITION BY epoch, conn ORDER BY entry) = 'Execute'
            AND regexp_matches(arg, '{_EXECUTE}') AS is_executed_below
    FROM s
    WINDOW w AS (PARTITION BY epoch, conn ORDER BY entry ROWS UNBOUNDED PRECEDING)
)
SELECT ts, CASE WHEN is_executed_below THEN 'Execute SQL' ELSE cmd END AS cmd, arg,
       who.user <> '' AS is_login, session_db AS db, session_user AS "user",
       conn AS connection, '{system}' AS db_system, line, NULL::VARCHAR AS _reject
FROM c
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{system}', line,
       'text before the first general-log entry'
FROM others, first_head WHERE line < first_head.at AND NOT is_banner
"""


_QUERIES_SQL = """
SELECT ts, NULL::DOUBLE AS duration_ms, arg AS sql, NULL::VARCHAR AS fingerprint,
       NULL::VARCHAR AS fingerprint_id, NULL::MAP(VARCHAR, VARCHAR) AS tags, db, "user",
       connection, NULL::BIGINT AS rows_sent, NULL::BIGINT AS rows_examined,
       NULL::DOUBLE AS lock_ms, NULL::VARCHAR AS request_id, NULL::VARCHAR AS trace_id,
       db_system, line, _reject
FROM tmp_mysql_general
WHERE _reject IS NOT NULL OR cmd IN ('Query', 'Execute')
"""

# Connect lines that are not `user@host on db` are refused logins (`Access denied for user …`).
_EVENTS_SQL = """
SELECT ts,
       CASE WHEN cmd = 'Connect' AND NOT is_login THEN 'ERROR' ELSE 'INFO' END AS level,
       CASE WHEN cmd = 'Quit' THEN 'disconnection'
            WHEN cmd = 'Connect' AND NOT is_login THEN 'error'
            ELSE 'connection' END AS kind,
       CASE WHEN cmd = 'Quit' THEN 'Quit' ELSE trim(arg) END AS message,
       NULL::VARCHAR AS detail, NULL::VARCHAR AS statement, NULL::VARCHAR AS sqlstate,
       db, "user", connection, db_system, line
FROM tmp_mysql_general
WHERE _reject IS NULL AND cmd IN ('Connect', 'Quit', 'Change user')
"""

_ENTRY_RE = re.compile(_ENTRY)
_BANNER_RE = re.compile(
    r", Version: .*started with:$|^(?:Tcp port|TCP Port): |^Time\s+Id\s+Command\s+Argument\s*$"
)


class MysqlGeneralFormat:
    """MySQL / Percona Server / MariaDB general query log."""

    name = "mysql_general"
    table = "queries"
    description = "MySQL, Percona Server and MariaDB general query log (statements, connections)"
    recognises = (
        "'[time] <thread id> <Command>\\t<argument>' lines: Query, Execute, Connect, Quit, "
        "Init DB …; the time is ISO 8601 (MySQL 5.7+) or 'yymmdd hh:mm:ss' (MariaDB)"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are commands; statements may span several lines."""
        body = [ln for ln in lines if ln.strip() and not _BANNER_RE.search(ln)]
        commands = sum(1 for ln in body if _ENTRY_RE.match(ln))
        if not commands:
            return Detection(0.0)
        first_is_command = bool(_ENTRY_RE.match(body[0]))
        confidence = 0.5 + 0.35 * commands / len(body) + (0.1 if first_is_command else 0.0)
        return Detection(confidence=min(confidence, 0.95), variant=flavour(lines))

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse; the flavour read from the sample decides ``db_system``."""
        kind = variant or self.sniff(sample, options).variant
        return ParsePlan(
            table="queries",
            variant=kind,
            missing=("duration_ms", "rows_sent", "rows_examined", "lock_ms"),
            setup=(_setup_sql(db_system(kind), utc_offset_seconds(options) or 0),),
            select_sql=_QUERIES_SQL,
            also=(("db_events", _EVENTS_SQL),),
        )


FORMAT = MysqlGeneralFormat()
