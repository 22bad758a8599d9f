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
    MAP columns take a dict; TIMESTAMP columns take ISO strings. One statement for all rows:
    each column goes in as one list.
    """
    columns = CANONICAL_TABLES[table]
    full = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(columns)
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)[0]!r}")
        full.append({"source": f"{table}.log", "line": number, **row})
    if not full:
        return
    names = [c for c in columns if any(c in row for row in full)]
    inner: list[str] = []
    outer: list[str] = []
    params: list[Any] = []
    for name in names:
        values = [_value(columns[name], row.get(name)) for row in full]
        if columns[name].startswith("MAP"):
            inner.append(f"unnest(?::VARCHAR[][]) AS k_{name}, unnest(?::VARCHAR[][]) AS v_{name}")
            params.append([list(v) if v is not None else None for v in values])
            params.append([[str(x) for x in v.values()] if v is not None else None for v in values])
            outer.append(f"CASE WHEN k_{name} IS NOT NULL THEN map(k_{name}, v_{name}) END")
        else:
            inner.append(f'unnest(?::{columns[name]}[]) AS "{name}"')
            params.append(values)
            outer.append(f'"{name}"')
    quoted = ", ".join(f'"{n}"' for n in names)
    select = f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)})"
    db.execute(f"INSERT INTO {table} ({quoted}) {select}", params)
