"""MySQL, Percona Server and MariaDB slow query logs: one ``queries`` row per logged statement.

An entry is a block of ``#`` header lines, an optional ``use db;`` and ``SET timestamp=N;``,
then the statement (any number of lines, ending with the ``;`` the server appends):

    # Time: 2026-11-24T10:00:00.123456Z
    # User@Host: app[app] @ localhost [127.0.0.1]  Id: 12
    # Query_time: 0.000123  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: 1
    use shop;
    SET timestamp=1795514400;
    SELECT …;

``# Time:`` is ``261124 10:00:00`` before MySQL 5.7, and MariaDB (like MySQL <= 5.6) writes it
only when the second changes, so an entry may start at ``# User@Host:``.

Writers: MySQL ``sql/log.cc`` ``File_query_log::write_slow`` (``log_slow_extra`` adds
``Thread_id … Start: … End: …`` to the Query_time line), Percona Server's extended lines
(docs.percona.com improved-slow-query-log: ``# Schema:``, ``# Bytes_sent:``, InnoDB lines,
``# Log_slow_rate_type: query  Log_slow_rate_limit: 10``), MariaDB ``MYSQL_QUERY_LOG::write``
(``# Thread_id: 8  Schema: db  QC_hit: No``, ``# Rows_affected:``, and with
``log_slow_verbosity=query_plan,explain`` ``# Full_scan:`` and ``# explain:`` lines).
Samples: percona-toolkit ``t/lib/samples/slowlogs/``.

Times: ``# Time:`` is when the statement *ended*; ``SET timestamp=`` (UTC epoch seconds) and
MySQL 8's ``Start:`` are when it started. ``ts`` is the start: ``Start:`` when it carries a
zone, else an ISO ``# Time:`` (with zone) minus Query_time, else ``SET timestamp``, else a
zone-less time minus Query_time (server local time, taken as UTC).

Rate-limited logs (Percona ``log_slow_rate_limit = N`` logs one statement in N): the rate is
kept per row in ``tags`` as ``log_slow_rate_limit`` (and ``log_slow_rate_type``), so an
analysis multiplies counts and total time by it; the rows themselves are never invented.
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
    has_zone_sql,
    time_sql,
)

# A `#` line that belongs to a header block (an administrator command takes a statement's place).
_HASH_SQL = "(starts_with({t}, '#') AND NOT starts_with({t}, '# administrator command: '))"
# Header lines that can open an entry when they follow a statement (or the banner).
_OPENER = r"^# (?:Time|User@Host|Thread_id|Schema|Query_time): "
_USE = r"^use (?:`([^`]+)`|([^;`\s]+));$"
# The server writes `SET [last_insert_id=N,][insert_id=N,]timestamp=N;` before the statement.
_SET_TIMESTAMP = r"^SET (?:[a-z_]+=\d+,)*timestamp=(\d+)(?:\.\d+)?;$"

# errno -> (db_events.kind, short message) for failures MySQL 8 (`Errno:`) and Percona
# (`Last_errno:`) record on the entry itself.
_ERRNO_KINDS: dict[int, tuple[str, str]] = {
    1213: ("deadlock", "Deadlock found when trying to get lock"),
    1205: ("lock_timeout", "Lock wait timeout exceeded"),
    3024: ("statement_timeout", "maximum statement execution time exceeded"),
    1969: ("statement_timeout", "max_statement_time exceeded"),
    1317: ("statement_timeout", "Query execution was interrupted"),
    1146: ("error", "Table doesn't exist"),
    1054: ("error", "Unknown column"),
    1062: ("error", "Duplicate entry"),
    1064: ("error", "SQL syntax error"),
    1048: ("error", "Column cannot be null"),
    1452: ("error", "Foreign key constraint fails"),
}


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _field(name: str, value: str = r"(\d+)") -> str:
    """SQL: the value of header field ``name`` in the entry's header block, or ''."""
    return f"regexp_extract(head, '(?:^|\\s){name}: {_sql_str(value)}', 1)"


def _errno_kind_sql() -> str:
    kinds = " ".join(f"WHEN {n} THEN '{k}'" for n, (k, _) in _ERRNO_KINDS.items())
    texts = " ".join(f"WHEN {n} THEN '{_sql_str(m)}'" for n, (_, m) in _ERRNO_KINDS.items())
    return (
        f"CASE errno {kinds} ELSE CASE WHEN errno > 0 THEN 'error' ELSE 'statement_timeout' "
        f"END END AS kind, CASE WHEN errno > 0 THEN 'MySQL error ' || errno || coalesce(': ' "
        f"|| CASE errno {texts} END, '') ELSE 'statement killed (Killed: ' || killed || ')' "
        "END AS message"
    )


def _setup_sql(system: str) -> str:
    """The bulk parse: number entries, gather each entry's lines, read its fields."""
    hash_line = _HASH_SQL.format(t="text")
    hash_item = _HASH_SQL.format(t="x")
    field = {
        "query_time": _field("Query_time", r"([0-9.]+)"),
        "lock_time": _field("Lock_time", r"([0-9.]+)"),
        "rows_sent": _field("Rows_sent"),
        "rows_examined": _field("Rows_examined"),
        "thread_id": _field("Thread_id"),
        "id": _field("Id", r" *(\d+)"),
        "schema_name": _field("Schema", r"(\S*)"),
        "start_text": _field("Start", r"(\S+)"),
        "errno": _field("(?:Last_errno|Errno)"),
        "killed": _field("Killed"),
        "rate_limit": _field("Log_slow_rate_limit", r"([0-9.]+)"),
        "rate_type": _field("Log_slow_rate_type", r"(\w+)"),
    }
    return f"""
CREATE TEMP TABLE tmp_mysql_slow AS
WITH marked AS (
    SELECT line, text, {BANNER_SQL} AS is_banner, {hash_line} AS is_hash,
           starts_with(text, '# ') AND regexp_matches(text, '{_OPENER}') AS is_opener
    FROM {{lines}}
), starts AS (
    SELECT line, text, is_banner,
        CASE WHEN is_banner THEN 0
             WHEN starts_with(text, '# Time: ') THEN 1
             WHEN is_opener AND NOT coalesce(lag(is_hash) OVER (ORDER BY line), FALSE) THEN 1
             ELSE 0 END AS is_start,
        CASE WHEN is_banner AND {RESTART_SQL} THEN 1 ELSE 0 END AS is_restart
    FROM marked
), numbered AS (
    SELECT line, text, is_banner,
        sum(is_start) OVER (ORDER BY line ROWS UNBOUNDED PRECEDING) AS entry,
        sum(is_restart) OVER (ORDER BY line ROWS UNBOUNDED PRECEDING) AS epoch
    FROM starts
), entries AS (
    SELECT entry, max(epoch) AS epoch, min(line) AS line, list(text ORDER BY line) AS texts
    FROM numbered WHERE NOT is_banner AND entry > 0 GROUP BY entry
), split AS (
    SELECT entry, epoch, line, texts,
        coalesce(list_position(list_transform(texts, lambda x: {hash_item}), FALSE),
                 len(texts) + 1) AS body_at
    FROM entries
), parts AS (
    SELECT entry, epoch, line,
        array_to_string(texts[1:body_at - 1], chr(10)) AS head,
        texts[body_at:] AS body
    FROM split
), preamble AS (
    SELECT *, len(body) > 1 AND regexp_matches(body[1], '{_USE}') AS has_use
    FROM parts
), preamble2 AS (
    SELECT *,
        len(body) > 1 + has_use::INT
            AND regexp_matches(body[1 + has_use::INT], '{_SET_TIMESTAMP}') AS has_set
    FROM preamble
), fields AS (
    SELECT entry, epoch, line, head,
        CASE WHEN has_use THEN coalesce(NULLIF(regexp_extract(body[1], '{_USE}', 1), ''),
                                        regexp_extract(body[1], '{_USE}', 2)) END AS use_db,
        CASE WHEN has_set THEN try_cast(regexp_extract(body[1 + has_use::INT],
                                        '{_SET_TIMESTAMP}', 1) AS BIGINT) END AS set_epoch,
        regexp_replace(array_to_string(body[1 + has_use::INT + has_set::INT:], chr(10)),
                       ';\\s*$', '') AS statement,
        NULLIF(regexp_extract(head, '(?:^|\\n)# Time: ({TIME_REGEX})', 1), '') AS time_text,
        regexp_extract(head, '# User@Host: ([^\\[\\n]*)\\[([^\\]\\n]*)\\]', ['priv', 'login'])
            AS who,
        {field["query_time"]} AS query_time,
        {field["lock_time"]} AS lock_time,
        {field["rows_sent"]} AS rows_sent,
        {field["rows_examined"]} AS rows_examined,
        {field["thread_id"]} AS thread_id,
        {field["id"]} AS id,
        strpos(head, 'Schema: ') > 0 AS has_schema,
        {field["schema_name"]} AS schema_name,
        {field["start_text"]} AS start_text,
        coalesce(try_cast(NULLIF({field["errno"]}, '') AS INTEGER), 0) AS errno,
        coalesce(try_cast(NULLIF({field["killed"]}, '') AS INTEGER), 0) AS killed,
        {field["rate_limit"]} AS rate_limit,
        {field["rate_type"]} AS rate_type
    FROM preamble2
), carried AS (
    SELECT *,
        last_value(use_db IGNORE NULLS) OVER w AS known_db,
        last_value(time_text IGNORE NULLS) OVER w AS known_time,
        last_value(set_epoch IGNORE NULLS) OVER w AS known_epoch
    FROM fields
    WINDOW w AS (PARTITION BY epoch ORDER BY entry ROWS UNBOUNDED PRECEDING)
), timed AS (
    SELECT *,
        try_cast(NULLIF(query_time, '') AS DOUBLE) * 1000.0 AS duration_ms,
        coalesce(to_microseconds((try_cast(NULLIF(query_time, '') AS DOUBLE) * 1000000)::BIGINT),
                 INTERVAL 0 SECOND) AS took
    FROM carried
), shifted AS (
    -- Zone-less times are server local time. Entries that also have SET timestamp (UTC)
    -- reveal the server's offset: their difference, rounded to a quarter hour. (The last
    -- `# Time:` is this entry's second too: old servers write it only when it changes.)
    SELECT *,
        to_seconds(coalesce(round(median(CASE
            WHEN set_epoch IS NOT NULL AND NOT {has_zone_sql("known_time")}
            THEN set_epoch - epoch({time_sql("known_time")} - took) END) OVER () / 900) * 900,
            0)::BIGINT) AS shift
    FROM timed
)
SELECT
    CASE
        WHEN start_text <> '' AND {has_zone_sql("start_text")} THEN {time_sql("start_text")}
        WHEN time_text IS NOT NULL AND {has_zone_sql("time_text")}
            THEN {time_sql("time_text")} - took
        WHEN set_epoch IS NOT NULL THEN make_timestamp(set_epoch * 1000000)
        WHEN start_text <> '' THEN {time_sql("start_text")} + shift
        WHEN time_text IS NOT NULL THEN {time_sql("time_text")} - took + shift
        WHEN known_epoch IS NOT NULL THEN make_timestamp(known_epoch * 1000000)
        ELSE {time_sql("known_time")} - took + shift
    END AS ts,
    duration_ms,
    CASE WHEN starts_with(statement, '# administrator command: ') THEN substr(statement, 3)
         ELSE statement END AS sql,
    NULL::VARCHAR AS fingerprint,
    NULL::VARCHAR AS fingerprint_id,
    CASE WHEN rate_limit <> '' THEN MAP {{
        'log_slow_rate_limit': rate_limit,
        'log_slow_rate_type': coalesce(NULLIF(rate_type, ''), 'query')}} END AS tags,
    CASE WHEN has_schema THEN NULLIF(trim(schema_name, '`'), '') ELSE known_db END AS db,
    coalesce(NULLIF(trim(who.priv), ''), NULLIF(trim(who.login), '')) AS "user",
    coalesce(NULLIF(thread_id, ''), NULLIF(id, '')) AS connection,
    try_cast(NULLIF(rows_sent, '') AS BIGINT) AS rows_sent,
    try_cast(NULLIF(rows_examined, '') AS BIGINT) AS rows_examined,
    try_cast(NULLIF(lock_time, '') AS DOUBLE) * 1000.0 AS lock_ms,
    NULL::VARCHAR AS request_id,
    NULL::VARCHAR AS trace_id,
    '{system}' AS db_system,
    line,
    errno,
    killed,
    CASE
        WHEN duration_ms IS NULL THEN 'slow-log entry without a # Query_time line'
        WHEN statement = '' THEN 'slow-log entry without a statement'
    END AS _reject
FROM shifted
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       '{system}', line, 0, 0, 'text before the first slow-log entry header'
FROM numbered WHERE entry = 0 AND NOT is_banner
"""


_COLUMNS = (
    'ts, duration_ms, sql, fingerprint, fingerprint_id, tags, db, "user", connection, '
    "rows_sent, rows_examined, lock_ms, request_id, trace_id, db_system, line, _reject"
)


class MysqlSlowFormat:
    """MySQL / Percona Server / MariaDB slow query log."""

    name = "mysql_slow"
    table = "queries"
    description = "MySQL, Percona Server and MariaDB slow query log (any log_slow_* verbosity)"
    recognises = (
        "'# Query_time: … Lock_time: … Rows_sent: … Rows_examined: …' header blocks with "
        "'# Time:' / '# User@Host:' lines before each statement"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Recognise slow-log header lines; the variant is the server flavour."""
        timing = sum(1 for ln in lines if _QUERY_TIME.match(ln))
        if not timing:
            return Detection(0.0)
        who = sum(1 for ln in lines if ln.startswith(("# User@Host: ", "# Time: ")))
        variant = flavour(lines) + ("+log_slow_extra" if _EXTRA.search("\n".join(lines)) else "")
        return Detection(confidence=0.98 if who else 0.8, variant=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse; the flavour read from the sample decides ``db_system``."""
        kind = variant or self.sniff(sample, options).variant
        system = db_system(kind.split("+")[0])
        text = "\n".join(sample)
        missing = () if _CONNECTION.search(text) else ("connection",)
        return ParsePlan(
            table="queries",
            variant=kind,
            missing=missing,
            setup=(_setup_sql(system),),
            select_sql=f"SELECT {_COLUMNS} FROM tmp_mysql_slow",
            also=(
                (
                    "db_events",
                    f"""
SELECT ts, 'ERROR' AS level, {_errno_kind_sql()}, NULL::VARCHAR AS detail,
       sql AS statement, NULL::VARCHAR AS sqlstate, db, "user", connection, db_system, line
FROM tmp_mysql_slow WHERE _reject IS NULL AND (errno > 0 OR killed > 0)
""",
                ),
            ),
        )


_QUERY_TIME = re.compile(r"^# Query_time: [0-9.]+ +Lock_time: ")
_EXTRA = re.compile(r"^# Query_time: .* Start: \S+ End: ", re.M)
_CONNECTION = re.compile(r"(?:\sId: +\d|Thread_id: \d)")

FORMAT = MysqlSlowFormat()
