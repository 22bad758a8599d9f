"""PostgreSQL ``csvlog``: one CSV record per message, 23 to 26 columns (PostgreSQL 9.0–17).

Columns (https://www.postgresql.org/docs/current/runtime-config-logging.html#RUNTIME-CONFIG-
LOGGING-CSVLOG): log_time, user_name, database_name, process_id, connection_from, session_id,
session_line_num, command_tag, session_start_time, virtual_transaction_id, transaction_id,
error_severity, sql_state_code, message, detail, hint, internal_query, internal_query_pos,
context, query, query_pos, location, application_name (23, up to 12); backend_type (24, 13);
leader_pid and query_id (26, 14+).

Quoted fields hold newlines (multi-line statements, deadlock details), so a record spans
several lines. The engine regroups them from the line table rather than re-reading the file:
a record starts at a line that begins with a time and the fixed-shape columns that follow it
(user and database quoted or empty, a pid, the connection, a ``hex.hex`` session id, a line
number). A continuation line would need that exact shape with empty user and database (inside
a quoted field every ``"`` is doubled, so quoted ones cannot match), which multi-line
statements and details do not have. ``sum(is_start) OVER (ORDER BY line)`` numbers the
records, ``string_agg`` joins their lines, and one regex splits the fields (a quoted field, or
text up to the next comma).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan, Pieces
from logtriage.sources.postgresql_lang import chosen_languages
from logtriage.sources.postgresql_messages import (
    FIELD_HINTS,
    durations_missing,
    foreign_rejects_sql,
    message_plan,
    pg_time_sql,
    sql_str,
)

_QUOTED_OR_EMPTY = r'(?:"(?:[^"]|"")*")?'
RECORD_START = (
    r'^"?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [A-Za-z0-9+\-]+"?,'
    + _QUOTED_OR_EMPTY
    + ","
    + _QUOTED_OR_EMPTY
    + r",\d*,"
    + _QUOTED_OR_EMPTY
    + r",[0-9a-f]*\.[0-9a-f]*,\d*,"
)
_FIELD = r'(?:^|,)("(?:[^"]|"")*"|[^,]*)'
# 23 (PostgreSQL 9.0–12), 24 (13), 26 (14+); 25 is accepted from tools that drop a column
# at the end: the columns read here are all among the first 23.
COLUMN_COUNTS = (23, 24, 25, 26)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def csv_records(lines: Sequence[str]) -> list[list[str]]:
    """The complete CSV records in sample lines (the last one may be cut: dropped)."""
    text = "\n".join(ln for ln in lines if ln.strip())
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return []
    return records[:-1] if len(records) > 1 else records


class PostgresqlCsvFormat:
    """PostgreSQL csvlog (log_destination = 'csvlog')."""

    name = "postgresql_csv"
    table = "queries"
    description = "PostgreSQL csvlog (9.0–17): statements with durations, errors, events"
    recognises = (
        "CSV records of 23, 24 or 26 columns that start with a log time, user, database, pid, "
        "connection and a hex.hex session id"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS
    # A large file is read in pieces, with context around each as the stderr reader's
    # (postgresql.py): a statement logged as it starts finds its duration record below.
    pieces = Pieces(starts_entry=lambda previous, line: True, context=0.05)

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample records with a csvlog column count and a time in the first column."""
        records = csv_records(lines)
        if not records:
            return Detection(0.0)
        good = [r for r in records if len(r) in COLUMN_COUNTS and _TIME.match(r[0])]
        counts = sorted({len(r) for r in good})
        variant = "/".join(str(c) for c in counts) + " columns" if counts else ""
        return Detection(confidence=len(good) / len(records), variant=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Regroup records, split fields, then the selects shared with the stderr reader."""
        fallback_zone = options.get("pg_timezone")
        records_sql = f"""
CREATE TEMP TABLE tmp_pg_records AS
WITH s AS (
    SELECT line, text, regexp_matches(text, '{sql_str(RECORD_START)}') AS is_start
    FROM {{lines}}
), n AS (
    SELECT *, sum(is_start::INTEGER) OVER (ORDER BY line ROWS UNBOUNDED PRECEDING) AS rec
    FROM s
), r AS (
    SELECT rec, min(line) AS line, string_agg(text, chr(10) ORDER BY line) AS record
    FROM n WHERE rec > 0 GROUP BY rec
)
SELECT rec, line,
    list_transform(regexp_extract_all(record, '{sql_str(_FIELD)}', 1),
        lambda f: CASE WHEN f[1] = '"' THEN replace(f[2:-2], '""', '"') ELSE NULLIF(f, '') END
    ) AS v
FROM r
"""
        is_good = f"len(v) IN {COLUMN_COUNTS}"
        messages = f"""
SELECT line,
    {pg_time_sql("v[1]", fallback_zone)} AS ts,
    v[12] AS level,
    coalesce(v[14], '') AS message,
    NULLIF(v[15], '') AS detail,
    NULLIF(v[20], '') AS statement,
    NULLIF(v[13], '') AS sqlstate,
    NULLIF(v[3], '') AS db,
    NULLIF(v[2], '') AS "user",
    coalesce(NULLIF(v[6], ''), NULLIF(v[4], '')) AS connection
FROM tmp_pg_records
WHERE {is_good}
"""
        rejects_sql = f"""
CREATE TEMP TABLE tmp_pg_rejects AS
WITH n AS (
    SELECT line, sum(regexp_matches(text, '{sql_str(RECORD_START)}')::INTEGER)
        OVER (ORDER BY line ROWS UNBOUNDED PRECEDING) AS rec
    FROM {{lines}}
)
SELECT line, 'line before the first csvlog record' AS reason FROM n WHERE rec = 0
UNION ALL
SELECT n.line, 'csvlog record with ' || len(r.v) || ' columns (expected 23, 24 or 26)'
FROM n JOIN tmp_pg_records AS r USING (rec) WHERE len(r.v) NOT IN {COLUMN_COUNTS}
UNION ALL
SELECT r.line, 'unreadable time ''' || r.v[1] || ''' (unknown time zone? set [formats] pg_timezone)'
FROM tmp_pg_records AS r JOIN tmp_pg_msg AS m USING (line) WHERE m.ts IS NULL
UNION ALL
{foreign_rejects_sql()}
"""
        cleanup = "DELETE FROM tmp_pg_msg WHERE ts IS NULL"
        return message_plan(
            variant=variant,
            missing=durations_missing(sample),
            prepare=(records_sql,),
            messages=messages,
            langs=chosen_languages(options.get("pg_lang")),
            rejects_sql=rejects_sql,
            cleanup=cleanup,
            per_line_tables=("tmp_pg_records",),
        )


FORMAT = PostgresqlCsvFormat()
