"""The tables and columns a fingerprint touches, read with sqlglot (else a regex)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TABLE = re.compile(r"\b(?:from|into|update|join)\s+[`\"\[]?([\w$]+(?:\.[\w$]+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class QueryShape:
    """Tables (the main one first) and the columns of a fingerprint's conditions."""

    tables: tuple[str, ...]
    columns: frozenset[str]

    @property
    def table(self) -> str | None:
        """The table the statement reads or writes first."""
        return self.tables[0] if self.tables else None


@lru_cache(maxsize=1024)
def query_shape(fingerprint: str) -> QueryShape:
    """Parse a fingerprint (``?`` placeholders, ``in (?+)`` lists) into its tables and columns."""
    # Imported here: sqlglot takes a fifth of the CLI's start-up, and logs without
    # queries (access logs) never parse one.
    import sqlglot
    from sqlglot import exp

    text = fingerprint.replace("(?+)", "(?)").replace("[?+]", "[?]")
    try:
        dialect = "mysql" if "`" in text else None  # backquoted identifiers
        tree = sqlglot.parse_one(text, read=dialect, error_level=sqlglot.ErrorLevel.IGNORE)
    except (sqlglot.errors.SqlglotError, ValueError, RecursionError):
        tree = None
    if tree is None:
        tables = tuple(dict.fromkeys(_bare(m) for m in _TABLE.findall(fingerprint)))
        return QueryShape(tables, frozenset())
    tables = tuple(dict.fromkeys(_bare(t.name) for t in tree.find_all(exp.Table) if t.name))
    if not tables:
        tables = tuple(dict.fromkeys(_bare(m) for m in _TABLE.findall(fingerprint)))
    main = _TABLE.search(fingerprint)
    if main and _bare(main.group(1)) in tables:
        first = _bare(main.group(1))
        tables = (first, *(t for t in tables if t != first))
    columns = frozenset(c.name.lower() for c in tree.find_all(exp.Column) if c.name)
    return QueryShape(tables, columns)


def _bare(name: str) -> str:
    """``public.authors`` → ``authors``, lower-case, unquoted."""
    return name.strip('`"[]').split(".")[-1].lower()
