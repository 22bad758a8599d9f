"""PostgreSQL log messages → ``queries`` and ``db_events``: the SQL the three readers share.

Each reader (stderr/syslog, csvlog, jsonlog) writes a SELECT of complete messages, one row
per message (a severity line with its DETAIL, HINT, CONTEXT and STATEMENT) with
columns line (its first line), ts, level, message, detail, statement, sqlstate, db, user and
connection; ``classify_sql`` turns it into the temp table ``tmp_pg_msg`` with each message's
role, and the reader adds ``tmp_pg_rejects(line, reason)`` for input it could not read. This
module turns messages into rows:

- ``duration: N ms  statement: …`` and ``duration: N ms  execute <name>: …``
  (``log_min_duration_statement``) are statements with their duration. The logged time is when
  the statement *ended*, so ``ts`` is that time minus the duration (the start, as for requests).
- ``statement: …`` / ``execute <name>: …`` without a duration (``log_statement``) are statements
  logged when they *start*; the next ``duration: N ms`` of the same session (``log_duration``)
  is their duration. When the same session then logs the same statement with
  ``log_min_duration_statement`` too, only that timed line counts (pgBadger counts it twice).
  Without a session key (no ``%p``/``%c``) nothing is paired: such statements have no duration.
- ``parse``/``bind`` timings of the extended protocol are steps of the statement whose
  ``execute`` is logged after them, not statements: they are not rows (as pgBadger keeps them
  apart from queries).
- auto_explain's ``duration: N ms  plan:`` messages give the row counts of the statement logged
  beside them, or are the statement when nothing else logged it (``postgresql_plans``).
- Every other message is a database event: errors (``deadlock``, ``lock_timeout``,
  ``statement_timeout``, else ``error``), connections, disconnections, checkpoints, autovacuum,
  lock waits (``log_lock_waits``), and ``other`` (startup, shutdown, warnings, notices…).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from logtriage.sources.base import MAX_DURATION_MS, ParsePlan
from logtriage.sources.postgresql_lang import english_sql, languages, translation_sql
from logtriage.sources.postgresql_plans import (
    PLAN_TAGS,
    nodes_sql,
    query_text_sql,
    rows_examined_sql,
    rows_sent_sql,
    worst_scan_sql,
)

# Exact postgresql.conf settings that make the log carry a missing column (M002).
FIELD_HINTS: Mapping[str, str] = {
    "duration_ms": (
        "set log_min_duration_statement = 0 in postgresql.conf (or a threshold in ms, e.g. 100) "
        "and reload (SELECT pg_reload_conf()): statements are then logged with their duration; "
        "log_statement = 'all' alone logs no durations"
    ),
    "connection": (
        "add %p (process id) or %c (session id) to log_line_prefix, e.g. "
        "log_line_prefix = '%m [%p] %q%u@%d ': without it sessions cannot be told apart, so "
        "statements cannot be tied to connections or requests"
    ),
    "db": "add %d (database) to log_line_prefix, e.g. log_line_prefix = '%m [%p] %q%u@%d '",
    "user": "add %u (user) to log_line_prefix, e.g. log_line_prefix = '%m [%p] %q%u@%d '",
    "ts": (
        "add %m (time with milliseconds) to log_line_prefix, e.g. "
        "log_line_prefix = '%m [%p] %q%u@%d ' (%t has whole seconds only; traditional syslog "
        "times have no year: use rsyslog's RSYSLOG_FileFormat or add %m)"
    ),
}

# Time zone abbreviations PostgreSQL writes with %t/%m (log_timezone), as minutes east of UTC.
# Ambiguous ones (IST, CST, AST…) are left out: --pg-timezone / [formats] pg_timezone names
# the zone instead, rather than guessing.
_ZONE_OFFSETS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UCT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60,
    "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "SAST": 120,
    "WAT": 60, "CAT": 120, "EAT": 180, "PKT": 300, "WIB": 420, "WITA": 480, "WIT": 540,
    "HKT": 480, "AWST": 480, "JST": 540, "KST": 540, "ACST": 570, "ACDT": 630, "AEST": 600,
    "AEDT": 660, "NZST": 720, "NZDT": 780, "IDT": 180, "EST": -300, "EDT": -240, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480,
    "HST": -600, "NST": -210, "NDT": -150, "ADT": -180,
}  # fmt: skip


def durations_missing(sample: Sequence[str]) -> tuple[str, ...]:
    """``("duration_ms",)`` when the sample logs statements as they start and no duration."""
    text = "\n".join(sample)
    if re.search(r"\b(statement|execute [^:]*): ", text) and "duration: " not in text:
        return ("duration_ms",)
    return ()


def sql_str(text: str) -> str:
    """Quote ``text`` for a SQL string literal."""
    return text.replace("'", "''")


def utc_sql(local: str, zone: str, fallback_zone: str | None) -> str:
    """SQL: the naive local timestamp ``local`` written in zone ``zone`` (text), as UTC."""
    cases = " ".join(f"WHEN '{name}' THEN {minutes}" for name, minutes in _ZONE_OFFSETS.items())
    # Zones without an abbreviation print as a numeric offset: +03, -0330, +05:30.
    numeric = (
        f"CASE WHEN regexp_full_match({zone}, '[+-]\\d{{2}}(?::?\\d{{2}})?') THEN "
        f"(CASE WHEN {zone}[1] = '-' THEN -1 ELSE 1 END) * ("
        f"{zone}[2:3]::INTEGER * 60 + coalesce(try_cast(NULLIF(replace({zone}[4:], ':', ''), '') "
        "AS INTEGER), 0)) END"
    )
    minutes = f"coalesce(CASE {zone} {cases} END, {numeric})"
    by_name = (
        f"timezone('{sql_str(fallback_zone)}', {local})::TIMESTAMP" if fallback_zone else "NULL"
    )
    return (
        f"CASE WHEN {minutes} IS NOT NULL THEN {local} - to_minutes({minutes}) ELSE {by_name} END"
    )


def pg_time_sql(text: str, fallback_zone: str | None) -> str:
    """SQL: a PostgreSQL ``%m``/``%t`` time (``2026-11-24 10:00:00.123 CET``) as UTC."""
    stamp = f"split_part({text}, ' ', 1) || ' ' || split_part({text}, ' ', 2)"
    local = f"try_strptime({stamp}, ['%Y-%m-%d %H:%M:%S.%g', '%Y-%m-%d %H:%M:%S'])"
    zone = f"split_part({text}, ' ', 3)"
    return f"(CASE WHEN {zone} = '' THEN {local} ELSE {utc_sql(local, zone, fallback_zone)} END)"


# The head of a timed message: "duration: N ms" and, when the text follows, "  <verb> [name]:".
# The verb's colon is the one a space or line break follows: a statement name may hold colons
# ("execute py:0x7fde12d61b80: SELECT …", psycopg's names); the head keeps that one character.
_TIMED_HEAD = (
    "^duration: [0-9]+(?:\\.[0-9]+)? ms(?: +(?:statement|execute|parse|bind|plan|"
    "fastpath function call)(?: [^\\n]*?)?:(?:\\s|$))?"
)
# The head of a statement logged as it starts (log_statement): "statement: " or "execute <name>: ".
_STARTED_HEAD = "^(?:statement|execute)(?: [^\\n]*?)?: "


def _classified(source: str) -> str:
    """SQL: the rows of ``source`` (level, message…) plus role, ms and sql_from.

    Roles: DS a timed statement, S a statement logged as it starts, D a bare duration, P a
    parse/bind step, X an auto_explain plan, E an error; NULL for every other message. Regexes
    run only on messages that start like a statement, and match the head alone (no groups: RE2
    stays on its fast engine); the head's words are then read by position, and the text is the
    rest.
    """
    return f"""
WITH raw AS ({source}
), h AS (
    SELECT *,
        CASE WHEN level = 'LOG' AND starts_with(message, 'duration: ') THEN
            regexp_extract(message, '{_TIMED_HEAD}', 0) END AS t_head,
        CASE WHEN level = 'LOG' AND (starts_with(message, 'statement: ')
            OR starts_with(message, 'execute ')) THEN
            regexp_extract(message, '{_STARTED_HEAD}', 0) END AS s_head
    FROM raw
), c_ms AS (
    -- "duration: " (10 characters), the number, " ms", then spaces and the verb if any.
    SELECT *, CASE WHEN t_head <> '' THEN split_part(t_head, ' ', 2) END AS t_ms
    FROM h
), c_verb AS (
    SELECT *, CASE WHEN t_head <> '' THEN ltrim(substr(t_head, 14 + length(t_ms)), ' ') END
        AS t_verb
    FROM c_ms
), c_role AS (
    SELECT *, CASE
        WHEN t_verb = '' THEN 'D'
        WHEN starts_with(t_verb, 'statement') OR starts_with(t_verb, 'execute') THEN 'DS'
        WHEN starts_with(t_verb, 'plan') THEN 'X'
        WHEN t_verb IS NOT NULL THEN 'P'
    END AS t_role
    FROM c_verb
)
SELECT * EXCLUDE (t_head, s_head, t_ms, t_verb, t_role),
    CASE
        WHEN level IN ('ERROR', 'FATAL', 'PANIC') THEN 'E'
        WHEN t_role IS NOT NULL THEN t_role
        WHEN s_head <> '' THEN 'S'
    END AS role,
    try_cast(t_ms AS DOUBLE) AS ms,
    -- Where the statement starts in the message: the statement is not copied here (it is
    -- most of the message; queries_sql cuts it once).
    CASE
        -- The head ends with the space or newline after the colon (or at the message's end).
        WHEN t_role IN ('DS', 'X') THEN length(t_head) + 1
        WHEN s_head <> '' THEN length(s_head) + 1
    END AS sql_from
FROM c_role
"""


def classify_sql(messages: str, langs: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Setup: tmp_pg_msg = the reader's ``messages`` SELECT plus role, duration and statement.

    Classifying in the statement that materializes the messages saves copying every message.
    Messages in the server's language are then rewritten in English (``postgresql_lang``) and
    classified again: only those few rows are updated, so an English log is written once.
    ``langs`` are the languages to try (None: every one the table has, () English only).
    """
    create = "CREATE TEMP TABLE tmp_pg_msg AS " + _classified(english_sql(messages, langs))
    translation = translation_sql("tmp_pg_msg", langs)
    if translation is None:
        return (create,)
    columns = ("message", "lang", "role", "ms", "sql_from")
    return (
        create,
        "CREATE TEMP TABLE tmp_pg_hit AS " + _classified(translation),
        f"UPDATE tmp_pg_msg SET {', '.join(f'{c} = hit.{c}' for c in columns)} "
        "FROM tmp_pg_hit AS hit WHERE tmp_pg_msg.line = hit.line",
        "DROP TABLE tmp_pg_hit",
    )


def _side_messages_sql() -> str:
    """CTEs ``plans``, ``owned`` and ``plan_only``: messages logged beside a statement, paired.

    PostgreSQL logs some facts of a statement as messages of their own, with the statement's
    text: auto_explain's plan (``Query Text``), what it waited for (``log_lock_waits``:
    ``process N acquired <lock> on <object> after X ms``) and the temporary files it wrote
    (``log_temp_files``: ``temporary file: path "…", size N``, on a STATEMENT line). Each
    belongs to the statement its session is running: the timed one it logs next
    (``log_min_duration_statement``) or the one it logged as it started (``log_statement``),
    when the texts agree. Messages are numbered by the statements after them (and before them)
    with running counts, so a statement and its messages share a number. ``owned`` pairs them;
    a plan no statement owns is a statement of its own (``plan_only``); waits and files of
    failed statements (lock_timeout…) have none and are left out. Only sessions with such
    messages are looked at.
    """
    body = "substr(message, sql_from)"
    scan = ",\n        ".join(f"{sql} AS {tag}" for tag, sql in worst_scan_sql("nodes").items())
    after_ms = "try_cast(regexp_extract(message, ' after ([0-9]+(?:\\.[0-9]+)?) ms$', 1) AS DOUBLE)"
    size = "try_cast(regexp_extract(message, ', size ([0-9]+)$', 1) AS DOUBLE)"
    plan_values = ", ".join(PLAN_TAGS)
    no_plan = ", ".join(f"NULL AS {tag}" for tag in PLAN_TAGS)
    return f"""
plans AS (
    SELECT line, ts, level, ms, db, "user", connection, role, k, sql,
        {rows_sent_sql("nodes")} AS rows_sent, {rows_examined_sql("nodes")} AS rows_examined,
        {scan}
    FROM (SELECT *, {nodes_sql("body")} AS nodes
          FROM (SELECT line, ts, level, ms, db, "user", connection, 'DS' AS role,
                    coalesce(connection, '') AS k, {body} AS body,
                    {query_text_sql(body)} AS sql
                FROM tmp_pg_msg WHERE role = 'X'))
), side AS (
    SELECT k, line, ts, ms, sql AS statement, TRUE AS is_plan, rows_sent, rows_examined,
        {plan_values}, NULL::DOUBLE AS waited_ms, NULL::DOUBLE AS temp_bytes
    FROM plans
    UNION ALL
    SELECT coalesce(connection, '') AS k, line, ts, NULL::DOUBLE AS ms, statement,
        FALSE AS is_plan,
        NULL::DOUBLE AS rows_sent, NULL::DOUBLE AS rows_examined, {no_plan},
        CASE WHEN starts_with(message, 'process ') THEN {after_ms} END AS waited_ms,
        CASE WHEN starts_with(message, 'temporary file: ') THEN {size} END AS temp_bytes
    FROM tmp_pg_msg
    WHERE role IS NULL AND level = 'LOG' AND statement IS NOT NULL
        AND (starts_with(message, 'temporary file: path ')
             OR (starts_with(message, 'process ')
                 AND regexp_matches(message, '^process [0-9]+ acquired ')))
), numbered AS (
    SELECT *,
        sum(CASE WHEN role = 'DS' THEN 1 ELSE 0 END)
            OVER (PARTITION BY k ORDER BY line DESC ROWS UNBOUNDED PRECEDING) AS ds_after,
        sum(CASE WHEN role = 'S' THEN 1 ELSE 0 END)
            OVER (PARTITION BY k ORDER BY line ROWS UNBOUNDED PRECEDING) AS s_before
    FROM (
        SELECT NULL AS role, NULL AS sql, * FROM side
        UNION ALL BY NAME
        SELECT coalesce(connection, '') AS k, line, ts, ms, role, substr(message, sql_from) AS sql,
            -- The extended protocol's Execute is timed before its portal ends: its plan follows.
            regexp_matches(message, '^duration: [0-9.]+ ms +execute ') AS is_execute,
            CASE WHEN ts = date_trunc('second', ts) THEN INTERVAL 1 SECOND
                 ELSE INTERVAL 10 MILLISECOND END AS tolerance
        FROM tmp_pg_msg
        WHERE role IN ('DS', 'S') AND coalesce(connection, '') IN (SELECT k FROM side)
    )
), candidates AS (
    SELECT st.line AS stmt_line, st.ms AS stmt_ms, w.*,
        -- Which side a plan is usually on: the simple protocol logs the plan (ExecutorEnd)
        -- before the statement's duration; the extended protocol times Execute before its
        -- portal ends, so the plan follows. A started statement's facts follow it.
        (st.role = 'S')::INTEGER * 2 + ((w.line > st.line) <> coalesce(st.is_execute, FALSE)
            AND st.role = 'DS')::INTEGER AS unusual
    FROM numbered AS st JOIN numbered AS w
      ON w.k = st.k AND w.role IS NULL AND trim(w.statement) = trim(st.sql)
     AND CASE WHEN st.role = 'DS' AND w.is_plan THEN
                  ((w.ds_after = st.ds_after AND w.line < st.line)
                   OR (w.ds_after = st.ds_after - 1 AND w.line > st.line))
                  -- A plan ran inside its statement, to the log's time precision (a second
                  -- when the times have no fraction): another execution's plan logged alone
                  -- (auto_explain.log_min_duration below the statement's) does not fit.
                  AND w.ts <= st.ts + st.tolerance
                  AND w.ts - to_microseconds(CAST(w.ms * 1000 AS BIGINT))
                      >= st.ts - to_microseconds(CAST(st.ms * 1000 AS BIGINT)) - st.tolerance
              WHEN st.role = 'DS' THEN w.ds_after = st.ds_after AND w.line < st.line
              ELSE w.s_before = st.s_before AND w.line > st.line END
    WHERE st.role IN ('DS', 'S')
), owned AS (
    -- Each message to one statement (the usual side, then the nearest); of a statement's
    -- plans, nearest first, those whose times add up to at most the statement's own.
    SELECT * EXCLUDE (stmt_ms, unusual, plan_ms_so_far) FROM (
        SELECT *, sum(coalesce(ms, 0)) OVER (PARTITION BY stmt_line
            ORDER BY abs(line - stmt_line) ROWS UNBOUNDED PRECEDING) AS plan_ms_so_far
        FROM (SELECT * FROM candidates
              QUALIFY row_number() OVER (PARTITION BY line
                  ORDER BY unusual, abs(line - stmt_line)) = 1))
    WHERE stmt_ms IS NULL OR plan_ms_so_far <= stmt_ms * 1.001 + 1
), facts AS (
    -- Per statement: its waits and files added up; of its plans (a statement of several
    -- statements has one each), the last.
    SELECT stmt_line, sum(waited_ms) AS lock_ms,
        count(temp_bytes) AS temp_files, sum(temp_bytes) AS temp_bytes,
        {
        ", ".join(
            f"arg_max({c}, line) FILTER (WHERE is_plan) AS {c}"
            for c in ("rows_sent", "rows_examined", *PLAN_TAGS)
        )
    }
    FROM owned GROUP BY stmt_line
), plan_only AS (
    SELECT line, ts, ms, role, sql, db, "user", connection, rows_sent, rows_examined,
        {plan_values}
    FROM plans WHERE line NOT IN (SELECT line FROM owned WHERE is_plan)
)"""


def queries_sql() -> str:
    """SELECT of ``queries`` rows (all good rows; ``_reject`` NULL) from tmp_pg_msg."""
    # Only sessions that log statements as they start need pairing (a window over their
    # messages); statements timed on one line, the common case, are read as they are.
    # Inlined twice rather than a CTE used twice, which DuckDB may materialize: a copy of all.
    # Plans are apart: between a statement and its duration, one would hide the duration.
    msg = """(SELECT * EXCLUDE (sql_from), substr(message, sql_from) AS sql
        FROM tmp_pg_msg WHERE role IS NOT NULL AND role <> 'X')"""
    return f"""
WITH started AS (
    SELECT DISTINCT connection FROM tmp_pg_msg WHERE role = 'S' AND connection IS NOT NULL
), seq AS (
    SELECT *,
        lead(role) OVER w AS next_role,
        lead(sql) OVER w AS next_sql,
        lead(ms) OVER w AS next_ms
    FROM {msg} AS m
    WHERE connection IN (SELECT connection FROM started)
    WINDOW w AS (PARTITION BY connection ORDER BY line)
), timed AS (
    SELECT *, NULL AS next_role, NULL AS next_sql, NULL::DOUBLE AS next_ms
    FROM {msg} AS m
    -- Without a session key nothing is paired: statements logged as they start stay untimed.
    WHERE role IN ('DS', 'S')
        AND (connection IS NULL OR connection NOT IN (SELECT connection FROM started))
), {_side_messages_sql().strip()}, statements AS (
    SELECT * FROM seq
    WHERE role = 'DS' OR (role = 'S' AND NOT coalesce(next_role = 'DS' AND next_sql = sql, FALSE))
    UNION ALL BY NAME
    SELECT * FROM timed
), rows AS (
    SELECT r.line, r.ts, r.ms, r.role, r.next_role, r.next_ms, r.sql, r.db, r."user",
        r.connection, coalesce(r.rows_sent, f.rows_sent) AS rows_sent,
        coalesce(r.rows_examined, f.rows_examined) AS rows_examined, f.lock_ms,
        f.temp_files, f.temp_bytes,
        {", ".join(f"coalesce(r.{t}, f.{t}) AS {t}" for t in PLAN_TAGS)}
    FROM (
        SELECT line, ts, ms, role, next_role, next_ms, sql, db, "user", connection,
            NULL::DOUBLE AS rows_sent, NULL::DOUBLE AS rows_examined,
            {", ".join(f"NULL AS {t}" for t in PLAN_TAGS)}
        FROM statements
        UNION ALL
        SELECT line, ts, ms, role, NULL AS next_role, NULL::DOUBLE AS next_ms, sql, db, "user",
            connection, rows_sent, rows_examined, {", ".join(PLAN_TAGS)}
        FROM plan_only
    ) AS r
    LEFT JOIN facts AS f ON f.stmt_line = r.line
)
SELECT
    CASE WHEN role <> 'DS' THEN ts
         WHEN ms BETWEEN 0 AND {MAX_DURATION_MS} THEN ts - to_microseconds(round(ms * 1000)::BIGINT)
    END AS ts,
    CASE role WHEN 'DS' THEN ms WHEN 'S' THEN CASE WHEN next_role = 'D' THEN next_ms END
    END AS duration_ms,
    sql,
    NULL::VARCHAR AS fingerprint,
    NULL::VARCHAR AS fingerprint_id,
    -- What the server logged beside the statement, as the MySQL reader keeps its own.
    CASE WHEN temp_files > 0 OR plan_scan IS NOT NULL THEN map_from_entries(list_filter([
        {{'k': 'temp_files', 'v': CASE WHEN temp_files > 0 THEN CAST(temp_files AS VARCHAR) END}},
        {{'k': 'temp_bytes',
          'v': CASE WHEN temp_files > 0 THEN CAST(CAST(temp_bytes AS BIGINT) AS VARCHAR) END}},
        {", ".join(f"{{'k': '{t}', 'v': CAST({t} AS VARCHAR)}}" for t in PLAN_TAGS)}],
        lambda e: e.v IS NOT NULL)) END AS tags,
    db,
    "user",
    connection,
    CAST(rows_sent AS BIGINT) AS rows_sent,
    CAST(rows_examined AS BIGINT) AS rows_examined,
    lock_ms,
    NULL::VARCHAR AS request_id,
    NULL::VARCHAR AS trace_id,
    'postgresql' AS db_system,
    line,
    CASE WHEN sql IS NULL THEN 'auto_explain plan whose Query Text could not be read'
         WHEN NOT (coalesce(ms, next_ms, 0) BETWEEN 0 AND {MAX_DURATION_MS})
         THEN 'duration out of range' END AS _reject
FROM rows
"""


def rejects_sql() -> str:
    """SELECT of rejected lines (``queries`` columns all NULL) from tmp_pg_rejects."""
    return """
SELECT NULL::TIMESTAMP AS ts, NULL::DOUBLE AS duration_ms, NULL::VARCHAR AS sql,
    NULL::VARCHAR AS fingerprint, NULL::VARCHAR AS fingerprint_id,
    NULL::MAP(VARCHAR, VARCHAR) AS tags, NULL::VARCHAR AS db, NULL::VARCHAR AS "user",
    NULL::VARCHAR AS connection, NULL::BIGINT AS rows_sent, NULL::BIGINT AS rows_examined,
    NULL::DOUBLE AS lock_ms, NULL::VARCHAR AS request_id, NULL::VARCHAR AS trace_id,
    NULL::VARCHAR AS db_system, line, reason AS _reject
FROM tmp_pg_rejects
"""


def select_sql() -> str:
    """The reader's ``select_sql``: statements, then rejected lines."""
    return queries_sql() + "\nUNION ALL\n" + rejects_sql()


# Anchored at the start; messages can span lines (autovacuum reports), hence no `$`.
_KIND = """
CASE
    WHEN starts_with(message, 'deadlock detected') THEN 'deadlock'
    WHEN starts_with(message, 'canceling statement due to lock timeout') THEN 'lock_timeout'
    WHEN starts_with(message, 'canceling statement due to statement timeout')
        THEN 'statement_timeout'
    WHEN level IN ('ERROR', 'FATAL', 'PANIC') THEN 'error'
    WHEN regexp_matches(message, '^connection (received|authorized|authenticated):')
        THEN 'connection'
    WHEN starts_with(message, 'disconnection:') THEN 'disconnection'
    WHEN regexp_matches(message, '^(checkpoint|restartpoint) (starting|complete):')
        THEN 'checkpoint'
    WHEN regexp_matches(message, '^automatic (aggressive )?(vacuum|analyze) ') THEN 'autovacuum'
    WHEN regexp_matches(message,
        '^process \\d+ (still waiting for|acquired|avoided deadlock|detected deadlock while)')
        THEN 'lock_wait'
    WHEN starts_with(message, 'temporary file: path ') THEN 'temp_file'
    ELSE 'other'
END
"""


def events_sql() -> str:
    """SELECT of ``db_events`` rows: every message that is not a statement or its timing."""
    # Connection messages name the user and database before the prefix can (%u, %d print
    # [unknown] until authentication), and a prefix may lack them altogether.
    return f"""
SELECT
    ts,
    level,
    {_KIND} AS kind,
    message,
    detail,
    statement,
    NULLIF(sqlstate, '00000') AS sqlstate,
    coalesce(db, NULLIF(regexp_extract(message, ' database=(\\S+)', 1), '')) AS db,
    coalesce("user", NULLIF(regexp_extract(message, ' user=(\\S+)', 1), '')) AS "user",
    connection,
    'postgresql' AS db_system,
    line
FROM tmp_pg_msg
WHERE role IS NULL OR role = 'E'
"""


# A LOG message shaped like "duration: 1.234 ms  statement: …" in a language the catalog table
# lacks (pt_BR "duração: 1.234 ms  comando: …"): left as it is, the log would read as no queries.
_FOREIGN_TIMING = "^[^\\s:]+ ?: [0-9]+[.,][0-9]+ [^\\s:]+(?:  |, |$)"


def foreign_rejects_sql() -> str:
    """SELECT line, reason of timed statements written in a language no catalog covers."""
    known = ", ".join(("English", *languages()))
    return f"""
SELECT line, 'statement timing in a language logtriage has no PostgreSQL catalog for (it reads '
    || '{known}): set lc_messages = ''C'' for the next logs' AS reason
FROM tmp_pg_msg
WHERE level = 'LOG' AND role IS NULL AND lang IS NULL
    AND regexp_matches(message, '{_FOREIGN_TIMING}')
"""


# Statement in each reader's cleanup: rows foreign_rejects_sql() rejected are not events either.
FOREIGN_CLEANUP = f"""
DELETE FROM tmp_pg_msg WHERE level = 'LOG' AND role IS NULL AND lang IS NULL
    AND regexp_matches(message, '{_FOREIGN_TIMING}')
"""


def message_plan(
    *,
    variant: str,
    missing: tuple[str, ...],
    prepare: Sequence[str],
    messages: str,
    langs: tuple[str, ...] | None,
    rejects_sql: str,
    cleanup: str,
    per_line_tables: Sequence[str],
) -> ParsePlan:
    """The plan every PostgreSQL reader ends with, once its own SQL has built ``messages``.

    ``prepare`` fills the reader's per-line tables; then messages are classified (translated
    from the server's language), rejections recorded, bad rows dropped, and the per-line tables
    — as large as the input — freed before the selects run.
    """
    return ParsePlan(
        table="queries",
        variant=variant,
        missing=missing,
        setup=(
            *prepare,
            *classify_sql(messages, langs),
            rejects_sql,
            cleanup,
            FOREIGN_CLEANUP,
            *(f"DROP TABLE {table}" for table in per_line_tables),
        ),
        select_sql=select_sql(),
        also=(("db_events", events_sql()),),
    )
