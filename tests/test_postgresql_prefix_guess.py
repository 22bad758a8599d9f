"""log_line_prefix values no built-in list names are guessed from the lines, as if given.

The cases are slices of a real PostgreSQL 15 log written under each prefix of
``tests/cases/postgresql_prefixes/prefixes.toml`` (``tests/e2e/pg_prefixes.py`` captures them;
``tests/e2e/test_pg_prefixes_e2e.py`` checks a fresh capture). The oracle is the reader itself,
told the prefix with ``--pg-prefix``: the guess must give the same rows, and the rows must carry
the session's real user, database and pid.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings, settings_from_mapping

CASES = Path(__file__).parent / "cases" / "postgresql_prefixes"
PREFIXES: dict[str, str] = {
    name: table["log_line_prefix"]
    for name, table in tomllib.loads((CASES / "prefixes.toml").read_text()).items()
}
# What the capture's psql session was (tests/e2e/postgres_server.py: PGUSER, PGDATABASE).
USER = DATABASE = "postgres"


def read_as_given_and_guessed(log: Path, prefix: str) -> tuple[Any, list[dict[str, Any]]]:
    """Rows of ``log`` read with the prefix guessed; asserts they equal the rows when given."""
    given = settings_from_mapping({"formats": {"pg_prefix": prefix}})
    told_summary, told, _ = api.records(str(log), given)
    summary, rows, rejects = api.records(str(log), Settings())
    assert summary.format == told_summary.format == "postgresql"
    assert rejects == [] and summary.rejected == 0, rejects[:3]
    assert rows == told, f"guessed {summary.variant!r}, written with {prefix!r}"
    return summary, rows


def statement_pids(log: Path) -> set[str]:
    """The pids of the lines that logged a statement, read from the line's number fields."""
    pids = set()
    for line in log.read_text().splitlines():
        if "  statement: " in line:
            # The first bracketed or keyed number after the time is the pid in every prefix.
            match = re.search(r"(?:\[|\{|pid=)(\d+)[\]},\s]", line)
            assert match, line
            pids.add(match.group(1))
    return pids


@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_prefix_is_guessed_as_if_given(name: str) -> None:
    log = CASES / f"{name}.log"
    _, rows = read_as_given_and_guessed(log, PREFIXES[name])
    assert rows, "no statements read"
    assert {(r["user"], r["db"]) for r in rows} == {(USER, DATABASE)}
    assert {r["connection"] for r in rows} == statement_pids(log)
