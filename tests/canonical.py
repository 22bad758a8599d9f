"""Test helper: an engine ``Database`` with rows inserted straight into the canonical tables."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.model.tables import CANONICAL_TABLES


@contextmanager
def database() -> Iterator[Database]:
    """A fresh engine database in a private work directory."""
    with tempfile.TemporaryDirectory() as work:
        db = Database(Settings(), work)
        try:
            yield db
        finally:
            db.close()


def _value(column_type: str, value: Any) -> Any:
    if column_type == "TIMESTAMP" and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", ""))
    return value


def insert_rows(db: Database, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (column -> value; unknown columns are an error) into ``table``.

    Missing columns stay NULL, except ``source`` ("<table>.log") and ``line`` (1, 2, …).
    MAP columns take a dict; TIMESTAMP columns take ISO strings.
    """
    columns = CANONICAL_TABLES[table]
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(columns)
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)[0]!r}")
        values = {"source": f"{table}.log", "line": number, **row}
        names = list(values)
        placeholders = []
        params: list[Any] = []
        for name in names:
            if columns[name].startswith("MAP") and values[name] is not None:
                mapping = values[name]
                placeholders.append("MAP(?::VARCHAR[], ?::VARCHAR[])")
                params.extend([list(mapping), [str(v) for v in mapping.values()]])
            else:
                placeholders.append("?")
                params.append(_value(columns[name], values[name]))
        quoted = ", ".join(f'"{n}"' for n in names)
        db.execute(f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(placeholders)})", params)
