"""MySQL, Percona Server and MariaDB error logs: deadlocks, errors and warnings as ``db_events``.

Each message is a line with time, thread id and level; some continue on untimed lines:

    2026-11-25 13:38:59 8 [Note] InnoDB: Transactions deadlock detected, dumping detailed …
    2026-11-24T10:00:00.123456Z 8 [ERROR] [MY-012345] [InnoDB] …       (MySQL 8.0)
    2026-11-24T10:00:00.123456Z 0 [Warning] Aborted connection 12 to db: 'shop' …  (5.7)

Writers: MySQL ``log_sink_trad`` (8.0) / ``sql_print_message`` (5.7), MariaDB
``print_buffer_to_file``. Deadlocks are written only with ``innodb_print_all_deadlocks = ON``;
the dump that follows (``*** (1) TRANSACTION:`` … ``*** WE ROLL BACK TRANSACTION (1)``) gives
the event its ``detail`` and the rolled-back statement. ``[ERROR]`` lines become ``error``
events, aborted connections (a Note on MySQL 8) ``disconnection``, other ``[Warning]`` lines
``other``; the remaining ``[Note]`` and ``[System]`` lines (start-up, shutdown) are read and
skipped. The server's level is kept: InnoDB reports a deadlock as a Note.

Two more shapes share the file: InnoDB's own lines of MySQL 5.5/5.6, stamped by
``ut_print_timestamp`` without a level (``2016-06-15 20:28:25 7f72c0043700InnoDB: transactions
deadlock detected …``, the OS thread handle glued on, and a bare stamp before the dump), and the
Docker image's entrypoint (``2024-03-10 16:25:43+00:00 [Note] [Entrypoint]: …``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan
from logtriage.sources.mysql_server import db_system, flavour, time_sql, utc_offset_seconds

# time and thread id (MySQL 5.7+, MariaDB 10.1+), or the old `yymmdd hh:mm:ss` with an optional
# thread id (MySQL 5.5, MariaDB 5.5); then [Level] and MySQL 8's [MY-n] [Subsystem]. Requiring
# the thread id with ISO times keeps application logs (`2026-… [ERROR] …`) out. MariaDB pads the
# hour with a space (`2026-11-26  0:15:41`, printf "%2d"), so before 10:00 it has two spaces.
_HEAD = (
    r"^(?:(\d{4}-\d{2}-\d{2}(?:T| {1,2})\d{1,2}:\d{2}:\d{2}(?:\.\d+)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?) +(\d+)"
    r"|(\d{6} +\d{1,2}:\d{2}:\d{2})(?: +(\d+))?) +\[(Note|Warning|ERROR|System)\] +"
    r"(?:\[(MY-\d+)\] +)?(?:\[(\w+)\] +)?(.*)$"
)
# MySQL 5.5/5.6 InnoDB lines: time, the OS thread handle in hex (5.6), then "InnoDB: …", or
# the stamp alone (5.6 writes one before the dump). Level from "InnoDB: Error:"/"Warning:".
_INNODB_LEGACY = (
    r"^(\d{4}-\d{2}-\d{2} +\d{1,2}:\d{2}:\d{2}|\d{6} +\d{1,2}:\d{2}:\d{2}) *"
    r"([0-9a-f]{6,16})? *(?:InnoDB: ?(.*))?$"
)
# The official Docker image's entrypoint script, on the same stream as the server.
_ENTRYPOINT = (
    r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}) +\[(Note|Warning|ERROR)\] +"
    r"\[(Entrypoint)\]: *(.*)$"
)
_DEADLOCK = r"(?i)deadlock detected"
_ABORTED = r"^Aborted connection"
# In a deadlock dump, each transaction's statement is the line after its thread line.
_DUMP_STATEMENT = r"\*\*\* \({n}\) TRANSACTION:(?s:.*?)(?:MySQL|MariaDB) thread id [^\n]*\n([^\n]*)"


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _setup_sql(system: str, utc_offset_s: int) -> str:
    """Number messages, attach untimed lines, tie each deadlock to its dump."""
    victim = {n: _sql_str(_DUMP_STATEMENT.replace("{n}", str(n))) for n in (1, 2)}
    return f"""
CREATE TEMP TABLE tmp_mysql_error AS
WITH m AS (
    SELECT line, text,
        regexp_extract(text, '{_sql_str(_HEAD)}', ['iso', 'iso_conn', 'old', 'old_conn',
            'level', 'code', 'subsystem', 'message']) AS x,
        regexp_extract(text, '{_sql_str(_INNODB_LEGACY)}', ['t', 'handle', 'message']) AS y,
        regexp_extract(text, '{_sql_str(_ENTRYPOINT)}', ['t', 'level', 'subsystem', 'message'])
            AS z
    FROM {{lines}}
), m2 AS (
    -- key: the thread a deadlock's dump lines share (5.6: the OS thread handle, no id).
    SELECT line, text, CASE
        WHEN x.iso || x.old <> '' THEN {{'t': x.iso || x.old, 'conn': x.iso_conn || x.old_conn,
            'key': x.iso_conn || x.old_conn, 'level': x.level, 'code': x.code,
            'subsystem': x.subsystem, 'message': x.message}}
        WHEN y.t <> '' THEN {{'t': y.t, 'conn': '', 'key': y.handle,
            'level': CASE WHEN regexp_matches(y.message, '^Error:') THEN 'ERROR'
                          WHEN regexp_matches(y.message, '^Warning:') THEN 'Warning'
                          ELSE 'Note' END,
            'code': '', 'subsystem': 'InnoDB', 'message': y.message}}
        ELSE {{'t': z.t, 'conn': '', 'key': '', 'level': z.level, 'code': '',
            'subsystem': z.subsystem, 'message': z.message}} END AS g
    FROM m
), n AS (
    SELECT line, text, g,
        sum(CASE WHEN g.t <> '' THEN 1 ELSE 0 END) OVER w AS entry,
        sum(CASE WHEN regexp_matches(g.message, '{_DEADLOCK}') THEN 1 ELSE 0 END) OVER w AS dump
    FROM m2
    WINDOW w AS (ORDER BY line ROWS UNBOUNDED PRECEDING)
), e AS (
    SELECT entry, max(dump) AS dump, min(line) AS line, max(g.t) AS t, max(g.conn) AS conn,
        max(g.key) AS key,
        upper(max(g.level)) AS level, max(g.code) AS code, max(g.subsystem) AS subsystem,
        string_agg(CASE WHEN g.t <> '' THEN g.message ELSE text END, chr(10) ORDER BY line)
            AS message
    FROM n WHERE entry > 0
    GROUP BY entry
), dumps AS (
    -- The InnoDB lines of one deadlock's dump: same thread, after the 'deadlock detected' line.
    SELECT d.entry,
        string_agg(x.message, chr(10) ORDER BY x.entry) AS detail
    FROM e AS d JOIN e AS x
        ON x.dump = d.dump AND x.key = d.key AND x.entry > d.entry
           AND (x.subsystem = 'InnoDB' OR starts_with(x.message, 'InnoDB:'))
    WHERE regexp_matches(d.message, '{_DEADLOCK}')
    GROUP BY d.entry
)
SELECT {time_sql("e.t", utc_offset_s)} AS ts, e.level,
    CASE WHEN regexp_matches(e.message, '{_DEADLOCK}') THEN 'deadlock'
         WHEN e.level = 'ERROR' THEN 'error'
         WHEN regexp_matches(e.message, '{_ABORTED}') THEN 'disconnection'
         ELSE 'other' END AS kind,
    CASE WHEN regexp_matches(e.message, '{_DEADLOCK}') THEN 'Transactions deadlock detected'
         WHEN e.code <> '' THEN e.code || ' ' || e.message
         ELSE e.message END AS message,
    dumps.detail,
    NULLIF(CASE regexp_extract(dumps.detail, 'WE ROLL BACK TRANSACTION \\((\\d)\\)', 1)
        WHEN '1' THEN regexp_extract(dumps.detail, '{victim[1]}', 1)
        WHEN '2' THEN regexp_extract(dumps.detail, '{victim[2]}', 1) END, '') AS statement,
    NULL::VARCHAR AS sqlstate,
    NULLIF(regexp_extract(e.message, 'to db: ''([^'']*)''', 1), '') AS db,
    NULLIF(regexp_extract(e.message, ' user: ''([^'']*)''', 1), '') AS "user",
    NULLIF(e.conn, '') AS connection,
    '{system}' AS db_system,
    e.line,
    e.level IN ('NOTE', 'SYSTEM', 'INFO') AND NOT regexp_matches(e.message, '{_DEADLOCK}')
        AND NOT regexp_matches(e.message, '{_ABORTED}') AS is_note,
    NULL::VARCHAR AS _reject
FROM e LEFT JOIN dumps USING (entry)
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{system}', line, FALSE,
       'text before the first error-log message'
FROM n WHERE entry = 0
"""


_COLUMNS = (
    'ts, level, kind, message, detail, statement, sqlstate, db, "user", connection, '
    "db_system, line, _reject"
)
_HEAD_RE = re.compile(_HEAD)
# Lines that start a message in the shapes beside the usual one (a bare 5.6 stamp does not count).
_OTHER_HEAD_RES = (re.compile(_INNODB_LEGACY.replace("))?$", "))$")), re.compile(_ENTRYPOINT))


class MysqlErrorFormat:
    """MySQL / Percona Server / MariaDB error log."""

    name = "mysql_error"
    table = "db_events"
    description = "MySQL, Percona Server and MariaDB error log (deadlocks, errors, warnings)"
    recognises = "'<time> <thread id> [Note|Warning|ERROR|System] …' lines"
    field_hints: Mapping[str, str] = {
        "statement": (
            "innodb_print_all_deadlocks = ON writes every deadlock with the statements of both "
            "transactions to the error log (log_error_verbosity = 3 on MySQL 8 keeps the Notes)"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are timed messages (dumps continue on untimed lines)."""
        body = [ln for ln in lines if ln.strip()]
        heads = sum(
            1 for ln in body if _HEAD_RE.match(ln) or any(r.match(ln) for r in _OTHER_HEAD_RES)
        )
        if not heads:
            return Detection(0.0)
        # No banner here; MariaDB names itself at start-up ("Starting MariaDB 10.11 …").
        is_mariadb = any("MariaDB" in ln or "mariadbd" in ln for ln in body)
        variant = "mariadb" if is_mariadb else flavour(lines)
        return Detection(confidence=0.5 + 0.45 * heads / len(body), variant=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse; Notes are read and skipped, the rest become ``db_events``."""
        kind = variant or self.sniff(sample, options).variant
        return ParsePlan(
            table="db_events",
            variant=kind,
            setup=(_setup_sql(db_system(kind), utc_offset_seconds(options) or 0),),
            select_sql=f"SELECT {_COLUMNS} FROM tmp_mysql_error WHERE NOT is_note",
        )


FORMAT = MysqlErrorFormat()
