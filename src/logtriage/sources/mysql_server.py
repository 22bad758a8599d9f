"""What every MySQL-family server (MySQL, Percona Server, MariaDB) writes into its logs.

The start-up banner both the slow and the general log get on every (re)start, the two
timestamp styles, the server flavour, and the settings that make these logs complete.
Banner: ``sql/log.cc`` ``File_query_log::open`` (MySQL) and ``MYSQL_QUERY_LOG::open``
(MariaDB), e.g. ``/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log (Debian 12). started
with:`` / ``Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock`` / ``Time  Id Command
Argument``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.errors import FormatError
from logtriage.model.i18n import _
from logtriage.sources.base import FormatOptions

# SQL predicate over `text`: a line of the start-up banner (skipped, never rejected).
# Cheap prefix/suffix tests first; the regex runs only on candidates.
BANNER_SQL = (
    "(NOT starts_with(text, '#') AND ("
    "(ends_with(text, 'started with:') AND strpos(text, ', Version: ') > 0)"
    " OR starts_with(text, 'Tcp port: ')"
    # Windows: "TCP Port: 3306, Named Pipe: MySQL".
    " OR starts_with(text, 'TCP Port: ')"
    " OR (starts_with(text, 'Time')"
    " AND regexp_full_match(text, 'Time\\s+Id\\s+Command\\s+Argument\\s*'))))"
)
# SQL predicate over `text`: the first banner line, written once per server start. Thread ids
# restart and the slow log forgets its last `use db` there, so it separates "server epochs".
RESTART_SQL = "(ends_with(text, 'started with:') AND strpos(text, ', Version: ') > 0)"

# MySQL 5.7+ writes ISO 8601 with microseconds and `Z` (log_timestamps=UTC) or an offset
# (log_timestamps=SYSTEM); MySQL <= 5.6 and MariaDB write `yymmdd hh:mm:ss` in server local
# time, the hour padded with a space (`071218  1:48:27`).
TIME_REGEX = (
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{6} +\d{1,2}:\d{2}:\d{2}"
)


def time_sql(expr: str, utc_offset_s: int = 0) -> str:
    """SQL turning a captured server timestamp ``expr`` (VARCHAR) into a UTC TIMESTAMP.

    A time without zone (MariaDB, MySQL <= 5.6, MySQL 8's ``Start:`` with
    log_timestamps=SYSTEM) is server local time: ``utc_offset_s`` (seconds east of UTC, from
    the ``mysql_utc_offset`` option) is taken off it; without the option it is taken as UTC.
    """
    old_style = f"try_strptime(regexp_replace({expr}, ' +', ' '), '%y%m%d %H:%M:%S')"
    if not utc_offset_s:
        # The session time zone is UTC: a zone-less ISO time casts as UTC.
        return f"coalesce(try_cast({expr} AS TIMESTAMPTZ)::TIMESTAMP, {old_style})"
    local = f"(coalesce(try_cast({expr} AS TIMESTAMP), {old_style}) - to_seconds({utc_offset_s}))"
    return (
        f"CASE WHEN {has_zone_sql(expr)} THEN try_cast({expr} AS TIMESTAMPTZ)::TIMESTAMP "
        f"ELSE {local} END"
    )


def utc_offset_seconds(options: FormatOptions) -> int | None:
    """The ``mysql_utc_offset`` option (``+02:00``, ``-0500``, ``Z``) in seconds, or None.

    MariaDB and old MySQL write server local time without a zone; this says which it was.
    """
    raw = options.get("mysql_utc_offset")
    if raw is None:
        return None
    match = re.fullmatch(r"\s*(?:(Z|UTC)|([+-])(\d{1,2}):?(\d{2})?)\s*", raw, re.IGNORECASE)
    if match is None:
        raise FormatError(
            _("mysql_utc_offset must look like +02:00, -0500 or Z, not {value}").format(
                value=repr(raw)
            )
        )
    if match.group(1):
        return 0
    seconds = int(match.group(3)) * 3600 + int(match.group(4) or 0) * 60
    return -seconds if match.group(2) == "-" else seconds


def has_zone_sql(expr: str) -> str:
    """SQL: does the captured timestamp ``expr`` carry its zone (so it is exact UTC)?"""
    return f"regexp_matches({expr}, '(?:Z|[+-]\\d{{2}}:?\\d{{2}})$')"


_BANNER = re.compile(r", Version: (.*)started with:$")


def flavour(lines: Sequence[str]) -> str:
    """``mariadb``, ``percona`` or ``mysql``, from the banner or fields only one of them writes."""
    for line in lines:
        banner = _BANNER.search(line)
        if banner:
            version = banner.group(1)
            if "MariaDB" in version or "mariadbd" in line:
                return "mariadb"
            if "Percona" in version:
                return "percona"
            return "mysql"
    text = "\n".join(lines)
    # MariaDB: `# Thread_id: 8  Schema: db  QC_hit: No`; Percona writes `QC_Hit` (capital H).
    if "QC_hit:" in text:
        return "mariadb"
    if re.search(
        r"^# (?:Schema: .*Last_errno:|Bytes_sent: |Log_slow_rate_type: |QC_Hit: |  InnoDB_)",
        text,
        re.M,
    ):
        return "percona"
    return "mysql"


def db_system(flavour_name: str) -> str:
    """The canonical ``db_system`` of a flavour (Percona Server is MySQL)."""
    return "mariadb" if flavour_name == "mariadb" else "mysql"


# Per canonical column: the exact my.cnf settings that make a MySQL/MariaDB log carry it (M002).
FIELD_HINTS: Mapping[str, str] = {
    "duration_ms": (
        "the general log has no durations; write the slow log for every statement instead: "
        "[mysqld] slow_query_log = ON, slow_query_log_file = /var/log/mysql/slow.log, "
        "long_query_time = 0, log_output = FILE (SET GLOBAL slow_query_log = ON; SET GLOBAL "
        "long_query_time = 0; works without a restart, for new connections)"
    ),
    "rows_examined": (
        "read the slow log (slow_query_log = ON, long_query_time = 0, log_output = FILE): it "
        "has Rows_examined for every statement; the general log has none"
    ),
    "rows_sent": (
        "read the slow log (slow_query_log = ON, long_query_time = 0, log_output = FILE): it "
        "has Rows_sent for every statement; the general log has none"
    ),
    "lock_ms": (
        "read the slow log (slow_query_log = ON, long_query_time = 0, log_output = FILE): it "
        "has Lock_time for every statement; the general log has none"
    ),
    "connection": (
        "MySQL 8.0.14+: log_slow_extra = ON (adds Thread_id, Start/End with microseconds, "
        "Errno); MariaDB writes Thread_id always; Percona Server: log_slow_verbosity = full"
    ),
    "db": (
        "MariaDB: log_slow_verbosity = query_plan,explain (with the always-written Schema:); "
        "Percona Server: log_slow_verbosity = full (adds Schema:); MySQL writes `use db;` "
        "only when the database changes, so keep the slow log from the server start"
    ),
    "request_id": (
        "tag statements with a SQL comment that survives into the log, e.g. sqlcommenter "
        "/*request_id='…',traceparent='…'*/ (the mysql CLI needs --comments to keep them)"
    ),
    "trace_id": (
        "add sqlcommenter's traceparent comment to each statement (OpenTelemetry "
        "instrumentations for most MySQL drivers can do it)"
    ),
}
