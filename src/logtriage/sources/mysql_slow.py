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
    utc_offset_seconds,
)

# A `#` line that belongs to a header block (an administrator command takes a statement's place).
_HASH_SQL = "(starts_with({t}, '#') AND NOT starts_with({t}, '# administrator command: '))"
# Header lines that can open an entry when they follow a statement (or the banner).
_OPENER_SQL = (
    "("
    + " OR ".join(
        f"starts_with(text, '# {key}: ')"
        for key in ("Time", "User@Host", "Thread_id", "Schema", "Query_time")
    )
    + ")"
)
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


def _field(name: str, *, padded: bool = False) -> str:
    """SQL: the value after ``name: `` in the header line ``head`` (padded with spaces), or ''.

    Plain string search, no regex and no list per field: a dozen fields are read per line.
    MySQL pads ``Id:     3``; an empty value (``Schema:   QC_hit: No``) stays ''.
    """
    key = f" {name}: "
    rest = f"substr(head, strpos(head, '{key}') + {len(key)})"
    if padded:
        rest = f"ltrim({rest})"
    return (
        f"CASE WHEN strpos(head, '{key}') > 0 THEN substr({rest}, 1, strpos({rest}, ' ') - 1) "
        "ELSE '' END"
    )


def _errno_kind_sql() -> str:
    kinds = " ".join(f"WHEN {n} THEN '{k}'" for n, (k, _) in _ERRNO_KINDS.items())
    texts = " ".join(f"WHEN {n} THEN '{_sql_str(m)}'" for n, (_, m) in _ERRNO_KINDS.items())
    return (
        f"CASE errno {kinds} ELSE CASE WHEN errno > 0 THEN 'error' ELSE 'statement_timeout' "
        f"END END AS kind, CASE WHEN errno > 0 THEN 'MySQL error ' || errno || coalesce(': ' "
        f"|| CASE errno {texts} END, '') ELSE 'statement killed (Killed: ' || killed || ')' "
        "END AS message"
    )


# Line roles within an entry.
_HEADER, _USE_LINE, _SET_LINE, _BODY = 0, 1, 2, 3


def _entries_sql() -> str:
    """One row per entry, from one streaming pass over the lines and one grouping.

    Streaming windows (no ORDER BY: ``{lines}`` is read in line order, as its numbering
    already assumes) number the entries and carry values from entry to entry without a sort.
    k counts the non-``#`` lines of an entry (0: its header block); entry = 0 before the first
    header (those lines are rejected). Each header line is searched on its own and typed
    values are kept with ``max``, so the grouping holds no joined text; statements of
    several lines are joined afterwards.
    """
    hash_line = _HASH_SQL.format(t="text")
    fields = ",\n    ".join(
        f"max({cast.format(_field(key, padded=key == 'Id'))}) AS {name}"
        for name, key, cast in (
            ("query_time", "Query_time", "try_cast(NULLIF({}, '') AS DOUBLE)"),
            ("lock_time", "Lock_time", "try_cast(NULLIF({}, '') AS DOUBLE)"),
            ("rows_sent", "Rows_sent", "try_cast(NULLIF({}, '') AS BIGINT)"),
            ("rows_examined", "Rows_examined", "try_cast(NULLIF({}, '') AS BIGINT)"),
            ("thread_id", "Thread_id", "NULLIF({}, '')"),
            ("id", "Id", "NULLIF({}, '')"),
            ("schema_name", "Schema", "{}"),
            ("start_text", "Start", "NULLIF({}, '')"),
            ("errno", "Errno", "try_cast(NULLIF({}, '') AS INTEGER)"),
            ("last_errno", "Last_errno", "try_cast(NULLIF({}, '') AS INTEGER)"),
            ("killed", "Killed", "try_cast(NULLIF({}, '') AS INTEGER)"),
            ("rate_limit", "Log_slow_rate_limit", "NULLIF({}, '')"),
            ("rate_type", "Log_slow_rate_type", "NULLIF({}, '')"),
        )
    )
    # Values carried from earlier entries of the same server epoch, read at any line of the
    # entry (they change only at its own `# Time:` line, its first line, and SET line, before
    # its statement), except the database, which the entry's own `use` sets for its statement.
    carried = "CASE WHEN {0}.epoch = epoch THEN {0}.v END"
    return f"""
CREATE TEMP TABLE tmp_mysql_entries AS
WITH marked AS (
    SELECT line, text, {BANNER_SQL} AS is_banner, {hash_line} AS is_hash,
        {_OPENER_SQL} AS is_opener,
        starts_with(text, '# Time: ') AS is_time,
        starts_with(text, '# Log_slow_rate_type: ') AS is_rate,
        starts_with(text, 'use ') AND regexp_matches(text, '{_USE}') AS is_use,
        starts_with(text, 'SET ') AND regexp_matches(text, '{_SET_TIMESTAMP}') AS is_set,
        {RESTART_SQL} AS is_restart
    FROM {{lines}}
), starts AS (
    SELECT line, text, is_banner, is_use, is_set, is_opener, is_rate,
        -- An entry starts at `# Time:`, at the file's first header line, or at a header line
        -- that follows a statement (MariaDB writes `# Time:` only when the second changes).
        CASE WHEN is_banner THEN 0
             WHEN is_time OR (is_opener AND sum(is_opener::INTEGER) OVER w = 1) THEN 1
             WHEN is_opener AND NOT coalesce(lag(is_hash) OVER (), FALSE) THEN 1
             ELSE 0 END AS is_start,
        CASE WHEN is_banner AND is_restart THEN 1 ELSE 0 END AS is_restart,
        -- Non-`#` lines so far: constant over an entry's header block, +1 per body line.
        (sum(CASE WHEN is_hash OR is_banner THEN 0 ELSE 1 END) OVER w)::INTEGER AS body_seen,
        coalesce(lag(is_use) OVER (), FALSE) AS after_use
    FROM marked
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
), numbered AS (
    SELECT line, text, is_banner, is_use, is_set, after_use, is_opener, is_rate,
        (sum(is_start) OVER w)::INTEGER AS entry,
        (sum(is_restart) OVER w)::INTEGER AS epoch,
        (body_seen - max(CASE WHEN is_start = 1 THEN body_seen END) OVER w)::INTEGER AS k
    FROM starts
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
), roles AS (
    SELECT line, text, entry, epoch,
        CASE WHEN k = 0 THEN {_HEADER}
             WHEN k = 1 AND is_use THEN {_USE_LINE}
             WHEN is_set AND (k = 1 OR (k = 2 AND after_use)) THEN {_SET_LINE}
             ELSE {_BODY} END AS role,
        CASE WHEN k = 0 THEN ' ' || text || ' ' END AS head
    FROM numbered
    -- Of the header lines only those that hold fields are read (MariaDB's explain and
    -- Percona's InnoDB lines can be most of the file).
    WHERE NOT is_banner AND entry > 0 AND (k > 0 OR is_opener OR is_rate)
), values AS (
    SELECT *,
        -- Old servers write `# Time: 071218 11:48:27 # User@Host: …` on one line.
        NULLIF(regexp_extract(left(split_part(head, '# Time: ', 2), 40), '^({TIME_REGEX})', 1),
               '') AS time_text,
        CASE WHEN role = {_USE_LINE} THEN coalesce(NULLIF(regexp_extract(text, '{_USE}', 1), ''),
                 regexp_extract(text, '{_USE}', 2)) END AS use_db,
        CASE WHEN role = {_SET_LINE}
            THEN try_cast(regexp_extract(text, '{_SET_TIMESTAMP}', 1) AS BIGINT) END AS set_epoch
    FROM roles
), carried AS (
    SELECT *,
        last_value(CASE WHEN use_db IS NOT NULL THEN {{'entry': entry, 'v': use_db}} END
            IGNORE NULLS) OVER w AS last_use,
        last_value(CASE WHEN time_text IS NOT NULL THEN {{'epoch': epoch, 'v': time_text}} END
            IGNORE NULLS) OVER w AS last_time,
        last_value(CASE WHEN set_epoch IS NOT NULL THEN {{'epoch': epoch, 'v': set_epoch}} END
            IGNORE NULLS) OVER w AS last_set
    FROM values
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
), carried_db AS (
    -- A `use db;` counts from its entry's statement on (a lone `use db;` is the statement).
    SELECT *,
        last_value(CASE WHEN role = {_BODY} AND last_use.entry = entry
            THEN {{'epoch': epoch, 'v': last_use.v}} END IGNORE NULLS) OVER w AS last_db
    FROM carried
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
)
SELECT entry, max(epoch) AS epoch, min(line) AS line,
    {fields},
    bool_or(strpos(head, ' Schema: ') > 0) AS has_schema,
    max(time_text) AS time_text,
    max(NULLIF(split_part(head, '# User@Host: ', 2), '')) AS who,
    max(text) FILTER (WHERE role = {_USE_LINE}) AS use_line,
    max(set_epoch) AS set_epoch,
    max({carried.format("last_time")}) AS known_time,
    max({carried.format("last_set")}) AS known_epoch,
    coalesce(max({carried.format("last_db")}) FILTER (WHERE role = {_BODY}),
             max({carried.format("last_db")})) AS known_db,
    max(text) FILTER (WHERE role = {_BODY}) AS body,
    min(line) FILTER (WHERE role = {_BODY}) AS body_from,
    max(line) FILTER (WHERE role = {_BODY}) AS body_to,
    count(*) FILTER (WHERE role = {_BODY}) AS body_lines
FROM carried_db
GROUP BY entry
"""


def _setup_sql(system: str, utc_offset_s: int | None) -> str:
    """Statements of several lines joined, times made UTC, text before the first header."""
    return f"""
CREATE TEMP TABLE tmp_mysql_slow AS
WITH multi AS (
    -- Statements of several lines are rare: only their lines are read again, in order.
    -- Every line from an entry's first statement line to its last belongs to the statement.
    SELECT s.entry, string_agg(l.text, chr(10) ORDER BY l.line) AS body
    FROM (
        SELECT entry, unnest(range(body_from, body_to + 1)) AS line
        FROM tmp_mysql_entries WHERE body_lines > 1
    ) s JOIN {{lines}} l ON l.line = s.line
    GROUP BY s.entry
), timed AS (
    SELECT e.* EXCLUDE (body, errno, killed),
        coalesce(to_microseconds((query_time * 1000000)::BIGINT), INTERVAL 0 SECOND) AS took,
        coalesce(errno, last_errno, 0) AS errno, coalesce(killed, 0) AS killed,
        -- A lone `use db;` is the statement itself; the server appends one `;`.
        regexp_replace(coalesce(multi.body, e.body, use_line, ''), ';\\s*$', '') AS statement,
        query_time * 1000.0 AS duration_ms
    FROM tmp_mysql_entries e LEFT JOIN multi USING (entry)
), shifted AS (
    -- Zone-less times are server local time. Entries that also have SET timestamp (UTC)
    -- reveal the server's offset: their difference, rounded to a quarter hour. (The last
    -- `# Time:` is this entry's second too: old servers write it only when it changes.)
    -- The mysql_utc_offset option, when given, wins.
    SELECT to_seconds(coalesce({-utc_offset_s if utc_offset_s is not None else "NULL"},
            round(median(CASE
            WHEN set_epoch IS NOT NULL AND NOT {has_zone_sql("known_time")}
            THEN set_epoch - epoch({time_sql("known_time")} - coalesce(
                to_microseconds((query_time * 1000000)::BIGINT), INTERVAL 0 SECOND)) END)
            / 900) * 900, 0)::BIGINT) AS shift
    FROM tmp_mysql_entries
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
    CASE WHEN coalesce(has_schema, FALSE) THEN NULLIF(trim(schema_name, '`'), '')
         ELSE known_db END AS db,
    -- `priv_user[login] @ host [ip]`: the account matched, else the name the client gave.
    coalesce(NULLIF(trim(split_part(who, '[', 1)), ''),
             NULLIF(split_part(split_part(who, '[', 2), ']', 1), '')) AS "user",
    coalesce(thread_id, id) AS connection,
    rows_sent,
    rows_examined,
    lock_time * 1000.0 AS lock_ms,
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
FROM timed, shifted
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       '{system}', line, 0, 0, 'text before the first slow-log entry header'
FROM {{lines}}
WHERE line < (SELECT coalesce(min(line), 9223372036854775807) FROM tmp_mysql_entries)
    AND NOT {BANNER_SQL}
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
            setup=(
                _entries_sql(),
                _setup_sql(system, utc_offset_seconds(options)),
            ),
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
