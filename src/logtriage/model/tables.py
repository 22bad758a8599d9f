"""Canonical table schemas: the contract between parsing and analysis (DESIGN.md)."""

from __future__ import annotations

from typing import Final

# Column name -> SQL type, in DuckDB's dialect. Times are UTC timestamps with microseconds,
# durations float milliseconds; every row keeps `source` (input file) and `line` (1-based).
REQUESTS: Final[dict[str, str]] = {
    "ts": "TIMESTAMP",
    "duration_ms": "DOUBLE",
    "method": "VARCHAR",
    "path": "VARCHAR",
    "route": "VARCHAR",
    "query": "VARCHAR",
    "status": "INTEGER",
    "bytes_sent": "BIGINT",
    "client": "VARCHAR",
    "user_agent": "VARCHAR",
    "referrer": "VARCHAR",
    "request_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "upstream_ms": "DOUBLE",
    "host": "VARCHAR",
    "source": "VARCHAR",
    "line": "BIGINT",
}

QUERIES: Final[dict[str, str]] = {
    "ts": "TIMESTAMP",
    "duration_ms": "DOUBLE",
    "sql": "VARCHAR",
    "fingerprint": "VARCHAR",
    "fingerprint_id": "VARCHAR",
    "tags": "MAP(VARCHAR, VARCHAR)",
    "db": "VARCHAR",
    "user": "VARCHAR",
    "connection": "VARCHAR",
    "rows_sent": "BIGINT",
    "rows_examined": "BIGINT",
    "lock_ms": "DOUBLE",
    "request_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "db_system": "VARCHAR",
    "source": "VARCHAR",
    "line": "BIGINT",
}

APP_EVENTS: Final[dict[str, str]] = {
    "ts": "TIMESTAMP",
    "level": "VARCHAR",
    "message": "VARCHAR",
    "request_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "error_type": "VARCHAR",
    "stack": "VARCHAR",
    "attributes": "MAP(VARCHAR, VARCHAR)",
    "source": "VARCHAR",
    "line": "BIGINT",
}

SPANS: Final[dict[str, str]] = {
    "trace_id": "VARCHAR",
    "span_id": "VARCHAR",
    "parent_id": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "ts": "TIMESTAMP",
    "duration_ms": "DOUBLE",
    "attributes": "MAP(VARCHAR, VARCHAR)",
    "source": "VARCHAR",
    "line": "BIGINT",
}

# Database server events that are not timed statements: errors (with the failed statement),
# deadlocks, lock timeouts, connections, checkpoints, autovacuum. An addition to DESIGN.md's
# tables: A003 and the operations viewpoint read them.
DB_EVENTS: Final[dict[str, str]] = {
    "ts": "TIMESTAMP",
    "level": "VARCHAR",
    # error | deadlock | lock_timeout | statement_timeout | connection | disconnection |
    # checkpoint | autovacuum | other
    "kind": "VARCHAR",
    "message": "VARCHAR",
    "detail": "VARCHAR",
    "statement": "VARCHAR",
    "sqlstate": "VARCHAR",
    "db": "VARCHAR",
    "user": "VARCHAR",
    "connection": "VARCHAR",
    "db_system": "VARCHAR",
    "source": "VARCHAR",
    "line": "BIGINT",
}

# Lines a reader could not turn into rows: counted per input and kept as examples (M001).
REJECTS: Final[dict[str, str]] = {
    "source": "VARCHAR",
    "line": "BIGINT",
    "text": "VARCHAR",
    "reason": "VARCHAR",
}

CANONICAL_TABLES: Final[dict[str, dict[str, str]]] = {
    "requests": REQUESTS,
    "queries": QUERIES,
    "app_events": APP_EVENTS,
    "spans": SPANS,
    "db_events": DB_EVENTS,
}


def create_table_sql(name: str, columns: dict[str, str]) -> str:
    """Return the ``CREATE TABLE`` statement for one canonical table."""
    body = ", ".join(f'"{col}" {sql_type}' for col, sql_type in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"
