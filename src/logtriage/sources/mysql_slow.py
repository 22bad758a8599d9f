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
Work that went to disk is kept in ``tags`` too: ``tmp_disk_tables`` (MySQL 8
``Created_tmp_disk_tables``, Percona/MariaDB ``Tmp_disk_tables`` or ``Tmp_table_on_disk``)
and ``sort_merge_passes`` (``Sort_merge_passes``, ``Merge_passes``, ``Filesort_on_disk``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.base import MAX_DURATION_MS, Detection, FormatOptions, ParsePlan, Pieces
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
# Header lines that hold fields but never open an entry: the sampling rate (Percona, MariaDB)
# and where temporary tables and sorts went (log_slow_verbosity=query_plan).
_KEPT_SQL = (
    "("
    + " OR ".join(
        f"starts_with(text, '# {key}: ')"
        for key in ("Log_slow_rate_type", "Tmp_tables", "Full_scan", "Filesort")
    )
    + ")"
)
# Header lines that can open an entry when they follow a statement (or the banner).
_OPENER_SQL = (
    "("
    + " OR ".join(
        f"starts_with(text, '# {key}: ')"
        for key in ("Time", "User@Host", "Thread_id", "Schema", "Query_time")
    )
    + ")"
)
# `use db` / `# Time:` / `SET timestamp` / the UTC offset known at the end of a piece of the file.
CARRY = "carry_mysql_slow"
_NO_CARRY = (
    "SELECT NULL::VARCHAR AS time_v, NULL::BIGINT AS set_v, NULL::VARCHAR AS db_v, "
    "NULL::BIGINT AS shift_s"
)
_USE = r"^use (?:`([^`]+)`|([^;`\s]+));$"
# The server writes `SET [last_insert_id=N,][insert_id=N,]timestamp=N;` before the statement.
# Some MariaDB versions write it twice on one line (`SET timestamp=N;SET timestamp=N;`).
_SET_TIMESTAMP = (
    r"^SET (?:[a-z_]+=\d+,)*timestamp=(\d+)(?:\.\d+)?;(?:SET timestamp=\d+(?:\.\d+)?;)?$"
)

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
    """SQL: the value after ``name: `` in the header line ``head`` (padded with spaces), or NULL.

    Plain string search, no regex and no list per field: a dozen fields are read per line.
    MySQL pads ``Id:     3``; an empty value (``Schema:   QC_hit: No``) stays ''.
    """
    key = f" {name}: "
    rest = f"substr(head, strpos(head, '{key}') + {len(key)})"
    if padded:
        rest = f"ltrim({rest})"
    return (
        f"CASE WHEN strpos(head, '{key}') > 0 THEN substr({rest}, 1, strpos({rest}, ' ') - 1) END"
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


# Line kinds, read from the text once per line in a parallel pass. The usual header lines
# are told apart here so that their fields are read at known places later: a `# Time:` line
# that is one time (of at most 40 characters, as read from other lines) and a `# User@Host:`
# line with no other `: ` hold no field, and the usual `# Query_time:` and `# User@Host: … Id:`
# lines hold only their own (their values hold no `:`). Any other header line (MySQL 8's
# log_slow_extra, Percona's and MariaDB's extra lines) is searched field by field.
(
    _RESTART,
    _BANNER,
    _TIME_ONLY,
    _TIME_OTHER,
    _QUERY_TIME_USUAL,
    _USER_HOST_USUAL,
    _WHO_ONLY,
    _OPENER_OTHER,
    _RATE,
    _HASH,
    _USE_KIND,
    _SET_KIND,
    _OTHER,
) = range(1, 14)
_QUERY_TIME_LINE = (
    r"# Query_time: [^\s:]+ +Lock_time: [^\s:]+ +Rows_sent: [^\s:]+ +Rows_examined: [^\s:]+ *"
)
# The same layout with its four values captured: one regex reads them all (RE2 with groups,
# half the CPU of four string searches).
_QUERY_TIME_VALUES = _QUERY_TIME_LINE.replace(r"[^\s:]+", r"([^\s:]+)")
_USER_HOST_LINE = r"# User@Host: [^:]* Id: +[^\s:]+ *"
# What a kept line of an entry gives: a header line of one of the layouts above, its
# `use db;`, its `SET timestamp=N;`, or a line of its statement.
(
    _P_TIME,
    _P_QUERY_TIME,
    _P_USER_HOST,
    _P_WHO,
    _P_ANY,
    _P_USE,
    _P_SET,
    _P_BODY,
) = range(8)


def _kinds_sql() -> str:
    """Each line's kind (banner, header layout, ``use``, ``SET timestamp``, other), in parallel.

    Kept in line order (DuckDB keeps insertion order), so the ordered pass reads one small
    number per line instead of the text.
    """
    hash_line = _HASH_SQL.format(t="text")
    return f"""
CREATE TEMP TABLE tmp_mysql_kinds AS
SELECT line, (CASE
    WHEN {BANNER_SQL} THEN CASE WHEN {RESTART_SQL} THEN {_RESTART} ELSE {_BANNER} END
    WHEN {hash_line} THEN CASE
        WHEN starts_with(text, '# Time: ') THEN CASE
            WHEN length(text) <= 48 AND regexp_full_match(text, '# Time: (?:{TIME_REGEX})')
            THEN {_TIME_ONLY} ELSE {_TIME_OTHER} END
        WHEN starts_with(text, '# Query_time: ') AND regexp_full_match(text, '{_QUERY_TIME_LINE}')
            THEN {_QUERY_TIME_USUAL}
        WHEN starts_with(text, '# User@Host: ') THEN CASE
            WHEN strpos(substr(text, 14), ': ') = 0 AND NOT ends_with(text, ':') THEN {_WHO_ONLY}
            WHEN regexp_full_match(text, '{_USER_HOST_LINE}') THEN {_USER_HOST_USUAL}
            ELSE {_OPENER_OTHER} END
        WHEN {_OPENER_SQL} THEN {_OPENER_OTHER}
        WHEN {_KEPT_SQL} THEN {_RATE}
        ELSE {_HASH} END
    WHEN starts_with(text, 'use ') AND regexp_matches(text, '{_USE}') THEN {_USE_KIND}
    WHEN starts_with(text, 'SET ') AND regexp_matches(text, '{_SET_TIMESTAMP}') THEN {_SET_KIND}
    ELSE {_OTHER} END)::UTINYINT AS kind
FROM {{lines}}
"""


def _roles_sql() -> str:
    """Each kept line's entry, server epoch and part: the one pass that runs in line order.

    Streaming windows (no ORDER BY: the kinds are read in line order, as the numbering
    already assumes) see one small number per line and write four, never the text. k counts
    the non-``#`` lines of an entry (0: its header block); entry = 0 before the first header
    (those lines are rejected). Of the header lines only those that hold fields are kept
    (MariaDB's explain and Percona's InnoDB lines can be most of the file).
    """
    time = f"kind IN ({_TIME_ONLY}, {_TIME_OTHER})"
    opener = f"kind BETWEEN {_TIME_ONLY} AND {_OPENER_OTHER}"
    return f"""
CREATE TEMP TABLE tmp_mysql_roles AS
WITH starts AS (
    SELECT line, kind,
        -- An entry starts at `# Time:`, at the file's first header line, or at a header line
        -- that follows a statement (MariaDB writes `# Time:` only when the second changes).
        CASE WHEN {time} THEN 1
             WHEN {opener} AND sum(({opener})::INTEGER) OVER w = 1 THEN 1
             WHEN {opener}
                 AND NOT coalesce(lag(kind BETWEEN {_TIME_ONLY} AND {_HASH}) OVER (), FALSE)
                 THEN 1
             ELSE 0 END AS is_start,
        -- Non-`#` lines so far: constant over an entry's header block, +1 per body line.
        (sum((kind >= {_USE_KIND})::INTEGER) OVER w)::INTEGER AS body_seen,
        coalesce(lag(kind = {_USE_KIND}) OVER (), FALSE) AS after_use
    FROM tmp_mysql_kinds
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
), numbered AS (
    SELECT line, kind, after_use,
        (sum(is_start) OVER w)::INTEGER AS entry,
        (sum((kind = {_RESTART})::INTEGER) OVER w)::INTEGER AS epoch,
        (body_seen - max(CASE WHEN is_start = 1 THEN body_seen END) OVER w)::INTEGER AS k
    FROM starts
    WINDOW w AS (ROWS UNBOUNDED PRECEDING)
)
SELECT line, entry, epoch,
    (CASE WHEN k = 0 THEN CASE kind
              WHEN {_TIME_ONLY} THEN {_P_TIME}
              WHEN {_QUERY_TIME_USUAL} THEN {_P_QUERY_TIME}
              WHEN {_USER_HOST_USUAL} THEN {_P_USER_HOST}
              WHEN {_WHO_ONLY} THEN {_P_WHO}
              ELSE {_P_ANY} END
          WHEN k = 1 AND kind = {_USE_KIND} THEN {_P_USE}
          WHEN kind = {_SET_KIND} AND (k = 1 OR (k = 2 AND after_use)) THEN {_P_SET}
          ELSE {_P_BODY} END)::UTINYINT AS part
FROM numbered
WHERE kind > {_BANNER} AND entry > 0 AND (k > 0 OR {opener} OR kind = {_RATE})
"""


# The grouped row of an entry: column -> (type, how lines are combined).
_GROUPED: dict[str, tuple[str, str]] = {
    "epoch": ("INTEGER", "max"),
    "line": ("BIGINT", "min"),
    "query_time": ("DOUBLE", "max"),
    "lock_time": ("DOUBLE", "max"),
    "rows_sent": ("BIGINT", "max"),
    "rows_examined": ("BIGINT", "max"),
    "thread_id": ("VARCHAR", "max"),
    "id": ("VARCHAR", "max"),
    "schema_name": ("VARCHAR", "max"),
    "start_text": ("VARCHAR", "max"),
    "errno": ("INTEGER", "max"),
    "last_errno": ("INTEGER", "max"),
    "killed": ("INTEGER", "max"),
    "rate_limit": ("VARCHAR", "max"),
    "rate_type": ("VARCHAR", "max"),
    "tmp_disk_tables": ("INTEGER", "max"),
    "tmp_disk_tables_p": ("INTEGER", "max"),
    "tmp_on_disk": ("INTEGER", "max"),
    "merge_passes": ("INTEGER", "max"),
    "merge_passes_p": ("INTEGER", "max"),
    "filesort_on_disk": ("INTEGER", "max"),
    "has_schema": ("BOOLEAN", "bool_or"),
    "time_text": ("VARCHAR", "max"),
    "time_line": ("BIGINT", "min"),
    "who": ("VARCHAR", "max"),
    "use_line": ("VARCHAR", "max"),
    "use_db": ("VARCHAR", "max"),
    "set_epoch": ("BIGINT", "max"),
    "set_line": ("BIGINT", "min"),
    "body_from": ("BIGINT", "min"),
    "body_to": ("BIGINT", "max"),
    "body_lines": ("BIGINT", "count"),
}
# Header fields: column, key, SQL turning the text value into the column's value.
_FIELDS = (
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
    # Temporary tables and sorts that went to disk: MySQL 8 log_slow_extra
    # (Created_tmp_disk_tables, Sort_merge_passes), Percona and MariaDB log_slow_verbosity
    # (Tmp_disk_tables, Tmp_table_on_disk, Merge_passes, Filesort_on_disk).
    ("tmp_disk_tables", "Created_tmp_disk_tables", "try_cast(NULLIF({}, '') AS INTEGER)"),
    ("tmp_disk_tables_p", "Tmp_disk_tables", "try_cast(NULLIF({}, '') AS INTEGER)"),
    ("tmp_on_disk", "Tmp_table_on_disk", "CASE {} WHEN 'Yes' THEN 1 WHEN 'No' THEN 0 END"),
    ("merge_passes", "Sort_merge_passes", "try_cast(NULLIF({}, '') AS INTEGER)"),
    ("merge_passes_p", "Merge_passes", "try_cast(NULLIF({}, '') AS INTEGER)"),
    ("filesort_on_disk", "Filesort_on_disk", "CASE {} WHEN 'Yes' THEN 1 WHEN 'No' THEN 0 END"),
)


def _value_after(key: str) -> str:
    """SQL: the rest of ``text`` after ``key`` (first occurrence), trimmed."""
    return f"trim(substr(text, strpos(text, '{key}') + {len(key)}))"


def _part_values() -> dict[int, dict[str, str]]:
    """Per part: SQL for the grouped columns its lines give (the others are NULL)."""

    def time_value(text: str) -> str:
        return f"NULLIF(regexp_extract(left({text}, 40), '^({TIME_REGEX})', 1), '')"

    # The usual `# Query_time:` line's values, captured by its value table's regex (`v`).
    query_time = {name: cast.format(f"v.{name}") for name, _, cast in _FIELDS[:4]}
    head = "(' ' || text || ' ')"
    searched = {
        name: cast.format(_field(key, padded=key == "Id").replace("head", head))
        for name, key, cast in _FIELDS
    }
    any_time = time_value(f"split_part({head}, '# Time: ', 2)")
    return {
        _P_TIME: {"time_text": "substr(text, 9)"},
        _P_QUERY_TIME: query_time,
        # The rest of `# User@Host: ` up to the end (and the space the search adds).
        _P_USER_HOST: {"who": "substr(text, 14) || ' '", "id": _value_after(" Id: ")},
        _P_WHO: {"who": "substr(text, 14) || ' '"},
        _P_ANY: {
            **searched,
            "has_schema": f"strpos({head}, ' Schema: ') > 0",
            # Old servers write `# Time: 071218 11:48:27 # User@Host: …` on one line.
            "time_text": f"CASE WHEN strpos(text, '# Time: ') > 0 THEN {any_time} END",
            "who": f"NULLIF(split_part({head}, '# User@Host: ', 2), '')",
        },
        _P_USE: {
            "use_line": "text",
            "use_db": f"coalesce(NULLIF(regexp_extract(text, '{_USE}', 1), ''), "
            f"regexp_extract(text, '{_USE}', 2))",
        },
        _P_SET: {
            # The line matched _SET_TIMESTAMP; without a `,` it is `SET timestamp=N[.f];`.
            "set_epoch": "try_cast(CASE WHEN starts_with(text, 'SET timestamp=') "
            "AND strpos(text, ',') = 0 THEN substr(text, 15, CASE WHEN strpos(text, '.') > 0 "
            "THEN strpos(text, '.') - 15 ELSE strpos(text, ';') - 15 END) "
            f"ELSE regexp_extract(text, '{_SET_TIMESTAMP}', 1) END AS BIGINT)",
            "set_line": "line",
        },
        _P_BODY: {"body_from": "line", "body_to": "line", "body_lines": "1"},
    }


# The usual lines' values are read into narrow tables (line, values) in parallel, each from
# the lines a prefix test picks: every line of its parts, and a few others that the join with
# the roles drops. The groupings then join these numbers and short texts, never the lines.
_VALUE_TABLES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("time", "starts_with(text, '# Time: ')", (_P_TIME,)),
    ("query_time", "starts_with(text, '# Query_time: ')", (_P_QUERY_TIME,)),
    ("user_host", "starts_with(text, '# User@Host: ')", (_P_USER_HOST, _P_WHO)),
    ("use", "starts_with(text, 'use ')", (_P_USE,)),
    ("set", "starts_with(text, 'SET ')", (_P_SET,)),
)
_VALUE_TABLE = {part: name for name, _, parts in _VALUE_TABLES for part in parts}
# Value tables whose values are read from one captured struct `v` (else from `text`).
_CAPTURED = {
    "query_time": f"regexp_extract(text, '^{_QUERY_TIME_VALUES}$', "
    f"{[name for name, _, _ in _FIELDS[:4]]})",
}
# Parts an entry has at most one line of: a `# Time:` line always opens an entry, and `use`
# / `SET timestamp` are read only at the statement's first (or second) line.
_ONE_LINE_PARTS = (_P_TIME, _P_USE, _P_SET)


def _values_sql() -> list[str]:
    """One statement per value table: the values of the lines its prefix test picks."""
    given = _part_values()
    statements = []
    for name, test, parts in _VALUE_TABLES:
        values = {c: v for part in parts for c, v in given[part].items() if v != "line"}
        columns = ", ".join(f"{v} AS {c}" for c, v in values.items())
        source = f"{{lines}} WHERE {test}"
        if name in _CAPTURED:
            source = f"(SELECT line, {_CAPTURED[name]} AS v FROM {source})"
        statements.append(
            f"CREATE TEMP TABLE tmp_mysql_v_{name} AS SELECT line, {columns}\nFROM {source}"
        )
    return statements


def _groups_sql() -> str:
    """One row per entry: each part's values, from its value table (or its lines' text).

    A part that has at most one line per entry (its ``# Time:`` line, which always opens
    one; its ``use``; its ``SET timestamp``) is not grouped: the entry's grouping of the roles
    finds that line's number and the values are joined by it. The others (header lines an
    entry may repeat) are grouped apart, each reading only its own values (one grouping of
    every value over every line costs several times as much in DuckDB, and spills at 300 MB).
    Typed values are kept with ``max``; statements are read afterwards by their line numbers.
    """
    base = {"epoch", "line", "body_from", "body_to", "body_lines"}
    grouped = [
        "max(epoch) AS epoch",
        "min(line) AS line",
        f"min(line) FILTER (WHERE part = {_P_BODY}) AS body_from",
        f"max(line) FILTER (WHERE part = {_P_BODY}) AS body_to",
        f"count(*) FILTER (WHERE part = {_P_BODY}) AS body_lines",
    ]
    given_by: dict[str, list[str]] = {c: [] for c in _GROUPED if c not in base}
    given_as: dict[str, dict[str, str]] = {}
    timed = []
    joins = []
    for part, given in _part_values().items():
        values = {c: v for c, v in given.items() if c not in base}
        if not values:
            continue
        name = f"p{part}"
        if part in _ONE_LINE_PARTS:
            # The entry's one line of this part, by its number: no grouping.
            grouped.append(f"min(line) FILTER (WHERE part = {part}) AS at{part}")
            joins.append(
                f"LEFT JOIN tmp_mysql_v_{_VALUE_TABLE[part]} {name} ON {name}.line = b.at{part}"
            )
            given_as[name] = {
                c: f"b.at{part}" if v == "line" else f"{name}.{c}" for c, v in values.items()
            }
            if "time_text" in values:
                line = f"CASE WHEN {name}.time_text IS NOT NULL THEN b.at{part} END"
                given_as[name] |= {
                    "time_line": line,
                    "last_time": f"{name}.time_text",
                    "last_time_line": line,
                }
                timed.append(name)
                given_by["time_line"].append(name)
            for c in values:
                given_by[c].append(name)
            continue
        if part in _VALUE_TABLE:
            # Read into the part's value table already.
            values = {c: "line" if v == "line" else c for c, v in values.items()}
        if "time_text" in values:
            values["time_line"] = f"CASE WHEN ({values['time_text']}) IS NOT NULL THEN line END"
            timed.append(name)
        aggregates = [f"{_GROUPED[c][1]}({v}) AS {c}" for c, v in values.items()]
        if "time_text" in values:
            aggregates.append(
                f"arg_max({values['time_text']}, {values['time_line']}) AS last_time, "
                f"max({values['time_line']}) AS last_time_line"
            )
        given_as[name] = {c: f"{name}.{c}" for c in [*values, "last_time", "last_time_line"]}
        for c in values:
            given_by[c].append(name)
        # The rare other header lines are joined to their text.
        table = f"tmp_mysql_v_{_VALUE_TABLE[part]}" if part in _VALUE_TABLE else "{lines}"
        joins.append(
            f"LEFT JOIN (SELECT r.entry, {', '.join(aggregates)}\n"
            f"FROM tmp_mysql_roles r JOIN {table} l USING (line) "
            f"WHERE r.part = {part} GROUP BY r.entry) {name} USING (entry)"
        )
    combine = {"max": "greatest", "min": "least", "bool_or": "greatest"}
    columns = []
    for c, (_, how) in _GROUPED.items():
        if c in base:
            columns.append(f"b.{c}")
            continue
        sources = [given_as[p][c] for p in given_by[c]]
        if len(sources) == 1:
            columns.append(f"{sources[0]} AS {c}")
        else:
            columns.append(f"{combine[how]}({', '.join(sources)}) AS {c}")
    # The time of the entry's last line with one.
    one, other = (given_as[p] for p in timed)
    columns.append(
        f"CASE WHEN coalesce({one['last_time_line']}, -1) > "
        f"coalesce({other['last_time_line']}, -1) "
        f"THEN {one['last_time']} ELSE {other['last_time']} END AS last_time"
    )
    newline = "\n"
    return f"""
CREATE TEMP TABLE tmp_mysql_groups AS
SELECT entry, {", ".join(columns)}
FROM (SELECT entry, {", ".join(grouped)} FROM tmp_mysql_roles GROUP BY entry) b
{newline.join(joins)}
"""


def _entries_sql() -> str:
    """Entries with ``use db`` / ``# Time:`` / ``SET timestamp`` carried from earlier ones.

    A value carried from an earlier entry counts within the same server epoch, and only for
    the lines of this entry before its own value (an entry opened by its own `# Time:` never
    sees the one before); a `use db;` counts from its entry's statement on (a lone `use db;`
    is the statement). The window reads only the narrow columns.
    """
    # Before a piece's first restart banner, the values of the piece before it count too.
    prior = "CASE WHEN coalesce(g.{0}_line > g.line, TRUE) THEN CASE "
    prior += "WHEN p.prior_{0}.epoch = g.epoch THEN p.prior_{0}.v "
    prior += f"WHEN g.epoch = 0 THEN (SELECT {{1}} FROM {CARRY}) END END"
    return f"""
CREATE TEMP TABLE tmp_mysql_entries AS
SELECT g.* EXCLUDE (last_time, time_line, set_line, use_db),
    greatest({prior.format("time", "time_v")}, g.time_text) AS known_time,
    greatest({prior.format("set", "set_v")}, g.set_epoch) AS known_epoch,
    CASE WHEN g.use_db IS NOT NULL AND g.body_lines > 0 THEN g.use_db
         WHEN p.prior_db.epoch = g.epoch THEN p.prior_db.v
         WHEN g.epoch = 0 THEN (SELECT db_v FROM {CARRY}) END AS known_db
FROM tmp_mysql_groups g JOIN (
    SELECT entry,
        last_value(CASE WHEN last_time IS NOT NULL THEN {{'epoch': epoch, 'v': last_time}} END
            IGNORE NULLS) OVER w AS prior_time,
        last_value(CASE WHEN set_epoch IS NOT NULL THEN {{'epoch': epoch, 'v': set_epoch}} END
            IGNORE NULLS) OVER w AS prior_set,
        last_value(CASE WHEN use_db IS NOT NULL AND body_lines > 0
            THEN {{'epoch': epoch, 'v': use_db}} END IGNORE NULLS) OVER w AS prior_db
    FROM tmp_mysql_groups
    WINDOW w AS (ORDER BY entry ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) p USING (entry)
"""


def _carry_sql() -> str:
    """The values the next piece of the file starts with: those known after this piece."""
    return f"""
CREATE OR REPLACE TEMP TABLE {CARRY} AS
SELECT
    coalesce(arg_max(g.last_time, g.entry) FILTER (WHERE g.last_time IS NOT NULL),
             CASE WHEN e.last = 0 THEN any_value(c.time_v) END) AS time_v,
    coalesce(arg_max(g.set_epoch, g.entry) FILTER (WHERE g.set_epoch IS NOT NULL),
             CASE WHEN e.last = 0 THEN any_value(c.set_v) END) AS set_v,
    coalesce(arg_max(g.use_db, g.entry) FILTER (WHERE g.use_db IS NOT NULL AND g.body_lines > 0),
             CASE WHEN e.last = 0 THEN any_value(c.db_v) END) AS db_v,
    (SELECT shift_s FROM tmp_mysql_shift) AS shift_s
FROM (SELECT coalesce(max(epoch), 0) AS last FROM tmp_mysql_groups) e
    CROSS JOIN {CARRY} c
    LEFT JOIN tmp_mysql_groups g ON g.epoch = e.last
GROUP BY e.last
"""


# Query_time in seconds when it is a duration at all (else NULL: the entry is rejected).
_SANE_QUERY_TIME = (
    f"CASE WHEN query_time BETWEEN 0 AND {MAX_DURATION_MS / 1000} THEN query_time END"
)


def _shift_sql(utc_offset_s: int | None) -> str:
    """The server's offset from UTC, in seconds to add to its zone-less times.

    Entries that also have SET timestamp (UTC) reveal it: their difference, rounded to a quarter
    hour. (The last `# Time:` is this entry's second too: old servers write it only when it
    changes.) The mysql_utc_offset option, when given, wins; a piece without such entries
    keeps the offset of the piece before it.
    """
    return f"""
CREATE TEMP TABLE tmp_mysql_shift AS
SELECT coalesce({-utc_offset_s if utc_offset_s is not None else "NULL"},
        round(median(CASE
        WHEN set_epoch IS NOT NULL AND NOT {has_zone_sql("known_time")}
        THEN set_epoch - epoch({time_sql("known_time")} - coalesce(
            to_microseconds((({_SANE_QUERY_TIME}) * 1000000)::BIGINT), INTERVAL 0 SECOND))
        END) / 900) * 900,
        (SELECT shift_s FROM {CARRY}), 0)::BIGINT AS shift_s
FROM tmp_mysql_entries
"""


def _setup_sql(system: str) -> str:
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
), single AS (
    -- A statement of one line is read by its line number: the grouping keeps no text.
    SELECT e.entry, l.text AS body
    FROM tmp_mysql_entries e JOIN {{lines}} l ON l.line = e.body_from
    WHERE e.body_lines = 1
), timed AS (
    SELECT e.* EXCLUDE (errno, killed),
        coalesce(to_microseconds((({_SANE_QUERY_TIME}) * 1000000)::BIGINT), INTERVAL 0 SECOND)
            AS took,
        coalesce(errno, last_errno, 0) AS errno, coalesce(killed, 0) AS killed,
        -- A lone `use db;` is the statement itself; the server appends one `;`.
        regexp_replace(coalesce(multi.body, single.body, use_line, ''), ';\\s*$', '') AS statement,
        query_time * 1000.0 AS duration_ms,
        coalesce(tmp_disk_tables, tmp_disk_tables_p, tmp_on_disk) AS tmp_disk,
        greatest(coalesce(merge_passes, merge_passes_p, 0), coalesce(filesort_on_disk, 0))
            AS sort_merges
    FROM tmp_mysql_entries e LEFT JOIN multi USING (entry) LEFT JOIN single USING (entry)
), shifted AS (
    -- Zone-less times are server local time (_shift_sql).
    SELECT to_seconds(shift_s) AS shift FROM tmp_mysql_shift
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
    CASE WHEN rate_limit <> '' OR tmp_disk > 0 OR sort_merges > 0 THEN map_from_entries(
        list_filter([
            {{'k': 'log_slow_rate_limit', 'v': NULLIF(rate_limit, '')}},
            {{'k': 'log_slow_rate_type',
              'v': CASE WHEN rate_limit <> '' THEN coalesce(NULLIF(rate_type, ''), 'query') END}},
            {{'k': 'tmp_disk_tables', 'v': CAST(NULLIF(tmp_disk, 0) AS VARCHAR)}},
            {{'k': 'sort_merge_passes', 'v': CAST(NULLIF(sort_merges, 0) AS VARCHAR)}}],
            lambda e: e.v IS NOT NULL)) END AS tags,
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
        WHEN NOT (duration_ms BETWEEN 0 AND {MAX_DURATION_MS}) THEN 'Query_time out of range'
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


def _starts_entry(previous: bytes, line: bytes) -> bool:
    """May a piece of the file begin at ``line``: an entry's first header after a statement?

    Not after a header line (the entry began above) nor after a server banner (the restart it
    announces belongs to the entries that follow it).
    """
    if not line.startswith((b"# Time: ", b"# User@Host: ")):
        return False
    before = previous.strip()
    return (
        bool(before)
        and not before.startswith((b"#", b"Tcp port: ", b"TCP Port: ", b"Time"))
        and not before.endswith(b"started with:")
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
    # A large file is read in pieces that start at an entry, with the values carried over.
    pieces = Pieces(starts_entry=_starts_entry, carry=(CARRY, _NO_CARRY))

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
                _kinds_sql(),
                *_values_sql(),
                _roles_sql(),
                "DROP TABLE tmp_mysql_kinds",
                _groups_sql(),
                "DROP TABLE tmp_mysql_roles",
                *(f"DROP TABLE tmp_mysql_v_{name}" for name, _, _ in _VALUE_TABLES),
                _entries_sql(),
                _shift_sql(utc_offset_seconds(options)),
                _carry_sql(),
                "DROP TABLE tmp_mysql_groups",
                _setup_sql(system),
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
