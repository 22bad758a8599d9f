"""A live PostgreSQL writes under each log_line_prefix of pg_prefixes.PREFIXES: each is guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..test_postgresql_prefix_guess import (
    DATABASE,
    USER,
    read_as_given_and_guessed,
    statement_pids,
)
from .pg_prefixes import PREFIXES, capture
from .postgres_server import require_postgres

pytestmark = pytest.mark.e2e


@pytest.fixture(name="slices", scope="module")
def _slices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_postgres()
    return capture(tmp_path_factory.mktemp("pg-prefixes"))


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_live_servers_prefix_is_guessed_as_if_given(prefix: str, slices: dict[str, Path]) -> None:
    log = slices[prefix]
    _, rows = read_as_given_and_guessed(log, prefix)
    assert len(rows) >= 4, "the workload's statements were not all read"
    assert {(r["user"], r["db"]) for r in rows} == {(USER, DATABASE)}
    assert {r["connection"] for r in rows} == statement_pids(log)
