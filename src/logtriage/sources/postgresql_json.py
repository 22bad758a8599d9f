"""PostgreSQL ``jsonlog`` (PostgreSQL 15+), and CloudNativePG's JSON records of the same messages.

jsonlog writes one JSON object per line and leaves out empty keys (``src/backend/utils/error/
jsonlog.c``): ``timestamp``, ``user``, ``dbname``, ``pid``, ``session_id``, ``error_severity``,
``state_code``, ``message``, ``detail``, ``statement``, ``query_id``… Newlines inside values are
escaped, so a line is a whole message. CloudNativePG prints the csvlog columns under
``record`` (``log_time``, ``user_name``, ``database_name``, ``process_id``, ``error_severity``,
``message``, ``query``…) next to its own operator lines (``logger`` other than ``postgres``),
which are rejected with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan, Pieces
from logtriage.sources.postgresql_lang import chosen_languages
from logtriage.sources.postgresql_messages import (
    FIELD_HINTS,
    durations_missing,
    foreign_rejects_sql,
    message_plan,
    pg_time_sql,
)

# Canonical field -> (jsonlog key, CloudNativePG record key).
_KEYS: dict[str, tuple[str, str]] = {
    "ts": ("timestamp", "log_time"),
    "level": ("error_severity", "error_severity"),
    "message": ("message", "message"),
    "detail": ("detail", "detail"),
    "statement": ("statement", "query"),
    "sqlstate": ("state_code", "sql_state_code"),
    "db": ("dbname", "database_name"),
    "user": ("user", "user_name"),
    "session": ("session_id", "session_id"),
    "pid": ("pid", "process_id"),
}


def _kind(obj: object) -> str | None:
    """``jsonlog``, ``cnpg`` (a CloudNativePG record line) or None (something else)."""
    if not isinstance(obj, dict):
        return None
    if "error_severity" in obj and "message" in obj:
        return "jsonlog"
    if isinstance(obj.get("record"), dict) and "logger" in obj:
        return "cnpg"
    return None


class PostgresqlJsonFormat:
    """PostgreSQL jsonlog (log_destination = 'jsonlog', PostgreSQL 15+)."""

    name = "postgresql_json"
    table = "queries"
    description = "PostgreSQL jsonlog (15+) or CloudNativePG JSON: statements, errors, events"
    recognises = (
        "one JSON object per line with error_severity and message (jsonlog), or "
        "CloudNativePG's {logger, record: {…}} lines"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS
    # A large file is read in pieces, with context around each as the stderr reader's
    # (postgresql.py): a statement logged as it starts finds its duration record below.
    pieces = Pieces(starts_entry=lambda previous, line: True, context=0.05)

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are jsonlog (or CloudNativePG) objects."""
        kinds: list[str | None] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                kinds.append(_kind(json.loads(line)))
            except ValueError:
                kinds.append(None)
        if not kinds:
            return Detection(0.0)
        variant = "cnpg" if kinds.count("cnpg") > kinds.count("jsonlog") else "jsonlog"
        known = sum(1 for k in kinds if k is not None)
        return Detection(confidence=known / len(kinds), variant=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Extract the keys of each line in bulk, then the selects shared by the readers."""

        def key(field: str) -> str:
            plain, cnpg = _KEYS[field]
            return (
                f"NULLIF(coalesce(json_extract_string(j, '$.\"{plain}\"'), "
                f"json_extract_string(j, '$.record.\"{cnpg}\"')), '')"
            )

        is_record = (
            "json_extract_string(j, '$.error_severity') IS NOT NULL OR "
            "json_extract_string(j, '$.record.error_severity') IS NOT NULL"
        )
        parsed_sql = """
CREATE TEMP TABLE tmp_pg_json AS
SELECT line, CASE WHEN json_valid(text) THEN text::JSON END AS j FROM {lines}
"""
        messages = f"""
SELECT line,
    {pg_time_sql(key("ts"), options.get("pg_timezone"))} AS ts,
    {key("level")} AS level,
    coalesce({key("message")}, '') AS message,
    {key("detail")} AS detail,
    {key("statement")} AS statement,
    {key("sqlstate")} AS sqlstate,
    {key("db")} AS db,
    {key("user")} AS "user",
    coalesce({key("session")}, {key("pid")}) AS connection
FROM tmp_pg_json
WHERE j IS NOT NULL AND ({is_record})
"""
        rejects_sql = f"""
CREATE TEMP TABLE tmp_pg_rejects AS
SELECT line,
    CASE
        WHEN j IS NULL THEN 'not a JSON object'
        WHEN json_extract_string(j, '$.logger') IS NOT NULL THEN
            'CloudNativePG line that is not a PostgreSQL record (logger '
            || json_extract_string(j, '$.logger') || ')'
        ELSE 'JSON without error_severity and message (not a jsonlog record)'
    END AS reason
FROM tmp_pg_json WHERE j IS NULL OR NOT ({is_record})
UNION ALL
SELECT line, 'unreadable time (unknown time zone? set [formats] pg_timezone)'
FROM tmp_pg_msg WHERE ts IS NULL
UNION ALL
{foreign_rejects_sql()}
"""
        cleanup = "DELETE FROM tmp_pg_msg WHERE ts IS NULL"
        return message_plan(
            variant=variant,
            missing=durations_missing(sample),
            prepare=(parsed_sql,),
            messages=messages,
            langs=chosen_languages(options.get("pg_lang")),
            rejects_sql=rejects_sql,
            cleanup=cleanup,
            per_line_tables=("tmp_pg_json",),
        )


FORMAT = PostgresqlJsonFormat()
