"""A large database log read in pieces gives the rows the whole file gives (engine/pieces.py)."""

from __future__ import annotations

import dataclasses
import gzip
import io
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logtriage import api
from logtriage.config import Settings
from logtriage.engine import pieces as pieces_module
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.loading import load_input
from logtriage.engine.pieces import _cores, load_file, piece_bytes
from logtriage.sources.base import Pieces
from logtriage.sources.reading import expand_inputs

CASES = Path(__file__).parent / "cases" / "sources"
PIECEWISE = [
    *sorted((CASES / "mysql_slow").glob("*.log")),
    *sorted((CASES / "postgresql").glob("*.log")),
    *sorted((CASES / "postgresql_csv").glob("*.csv")),
    *sorted((CASES / "postgresql_json").glob("*.json")),
]
# (percona_replica_legacy_pt.log read in pieces of a few hundred bytes differs: its first
# entry has no `SET timestamp`, so a piece of only that entry cannot learn the server's UTC
# offset that later entries reveal, where the whole file takes their median. A piece is
# 128 MB: the offset is learned from the entries of the first.)


def _tables(path: Path, piece: int | None) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """What reading ``path`` whole (``piece`` None) or in pieces of ``piece`` bytes gives."""
    options = Settings(piece_bytes=piece)
    with new_work_dir(options) as work_dir:
        item = expand_inputs([str(path)], work_dir)[0]
        db = Database(options, work_dir)
        try:
            read = load_file if piece else load_input
            summary = read(db, item, 0, options, {}, normalize=True)
            normalize_queries(db)
            tables = {
                t: db.rows(f"SELECT * FROM {t} ORDER BY ALL")
                for t in ("queries", "db_events", "rejects", "reject_counts")
            }
        finally:
            db.close()
    return dataclasses.asdict(summary), tables


@pytest.mark.parametrize("path", PIECEWISE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pieces_give_the_rows_of_the_whole_file(path: Path) -> None:
    whole = _tables(path, None)
    size = path.stat().st_size
    for piece in sorted({size // 6, size // 2}):
        in_pieces = _tables(path, max(1, piece))
        assert in_pieces[0] == whole[0], f"summary, pieces of {piece} bytes"
        for table, rows in whole[1].items():
            assert in_pieces[1][table] == rows, f"{table}, pieces of {piece} bytes"


def test_the_offset_of_a_piece_without_set_timestamp_is_the_one_before(tmp_path: Path) -> None:
    # MariaDB/old MySQL times are server local time; SET timestamp (UTC) reveals the offset.
    entry = (
        "# Time: 261124 {t}\n# User@Host: app[app] @ localhost []\n"
        "# Query_time: 0.5  Lock_time: 0.0  Rows_sent: 1  Rows_examined: 1\n{set}"
        "SELECT {n};\n"
    )
    # 11:00 local is 09:00 UTC (UTC+2) in the first half; the second half has no SET line.
    text = "".join(
        entry.format(
            t=f"11:{n:02d}:00",
            set=f"SET timestamp={1795338000 + n * 60};\n" if n < 10 else "",
            n=n,
        )
        for n in range(20)
    )
    log = tmp_path / "slow.log"
    log.write_text(text)
    whole = _tables(log, None)
    in_pieces = _tables(log, len(text) // 4)
    assert [q["ts"] for q in in_pieces[1]["queries"]] == [q["ts"] for q in whole[1]["queries"]]
    assert in_pieces[1]["queries"][-1]["ts"].hour == 9


def _slow_entry(n: int, use: str = "") -> str:
    return (
        f"# Time: 2026-11-24T10:{n // 60:02d}:{n % 60:02d}.000000Z\n"
        f"# User@Host: app[app] @ [10.0.0.1]  Id: {n % 3 + 1}\n"
        "# Query_time: 0.001000  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 1\n"
        f"{use}SET timestamp={1795514400 + n};\nSELECT {n} FROM t;\n"
    )


def test_use_db_is_carried_into_later_pieces_until_a_restart(tmp_path: Path) -> None:
    # MySQL writes `use db;` only when the database changes: a one-database service logs it
    # once, at the top of the file (and again after each restart).
    banner = (
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
        "Tcp port: 3306  Unix socket: /tmp/mysql.sock\n"
        "Time                 Id Command    Argument\n"
    )
    text = (
        _slow_entry(0, "use shop;\n")
        + "".join(_slow_entry(n) for n in range(1, 40))
        + banner
        + "".join(_slow_entry(n) for n in range(40, 60))
    )
    log = tmp_path / "slow.log"
    log.write_text(text)
    whole = _tables(log, None)
    in_pieces = _tables(log, 600)
    assert in_pieces[1]["queries"] == whole[1]["queries"]
    dbs = [q["db"] for q in in_pieces[1]["queries"]]
    assert dbs == ["shop"] * 40 + [None] * 20


def test_a_compressed_log_is_read_in_pieces_too(tmp_path: Path) -> None:
    plain = CASES / "postgresql" / "pgbadger_statement_duration.log"
    packed = tmp_path / "postgresql.log.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    whole = _tables(plain, None)
    strip = [{**r, "source": ""} for r in whole[1]["queries"]]
    # Several pieces; one piece (the decompressed copy is read, not the file again).
    for piece in (4000, 10**7):
        in_pieces = _tables(packed, piece)
        assert in_pieces[0] | {"path": ""} == whole[0] | {"path": ""}
        assert [{**r, "source": ""} for r in in_pieces[1]["queries"]] == strip


def _every_line(previous: bytes, line: bytes) -> bool:
    return line.startswith(b"#")


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from([b"# head", b"body", b"", b"x" * 50, b"# t\r", b"tail \xff"]),
        max_size=60,
    ),
    size=st.integers(min_value=1, max_value=400),
    ends_with_newline=st.booleans(),
    block=st.sampled_from([7, 64, 8 << 20]),
)
def test_pieces_are_whole_lines_cut_where_an_entry_starts(
    lines: list[bytes], size: int, ends_with_newline: bool, block: int, tmp_path_factory: Any
) -> None:
    content = b"\n".join(lines) + (b"\n" if ends_with_newline and lines else b"")
    stem = str(tmp_path_factory.mktemp("cores") / "core")
    # Small blocks: lines cross block ends, and lines longer than 4 blocks are copied in parts.
    with (
        mock.patch.object(pieces_module, "_BLOCK", block),
        mock.patch.object(pieces_module, "_LONG_LINE", 4 * block),
    ):
        cores = list(_cores(io.BytesIO(content), size, Pieces(_every_line), stem))
    spooled = [Path(c.path).read_bytes() for c in cores]
    assert b"".join(spooled) == content
    line = 1
    for core, data in zip(cores, spooled, strict=True):
        assert core.first_line == line and core.bytes == len(data)
        assert core.lines == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        line += core.lines
    for data in spooled[1:]:
        assert data.startswith(b"#")  # every later piece starts where an entry may


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("768MB", 128_000_000), ("3GB", 500_000_000), ("1GiB", 2**30 // 6), ("lots", 128_000_000)],
)
def test_a_piece_is_a_sixth_of_the_memory_limit(limit: str, expected: int) -> None:
    assert piece_bytes(Settings(memory_limit=limit)) == expected


def test_line_ends_with_carriage_returns_are_numbered_as_the_whole_file(tmp_path: Path) -> None:
    # Some lines end in \r\n, one has a stray \r inside: the whole file is read from a copy
    # that breaks at \n only, and each piece must number its lines the same way.
    lines = (CASES / "mysql_slow" / "mysql57_pt.log").read_bytes().split(b"\n")
    mixed = [line + b"\r" if n % 3 == 0 else line for n, line in enumerate(lines)]
    mixed[5] = mixed[5][:4] + b"\r" + mixed[5][4:]
    log = tmp_path / "slow.log"
    log.write_bytes(b"\n".join(mixed))
    whole = _tables(log, None)
    for piece in (log.stat().st_size // 9, log.stat().st_size // 3):
        in_pieces = _tables(log, piece)
        assert in_pieces[0] == whole[0]
        assert in_pieces[1] == whole[1]


def _history_queries(state: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(state / "history.duckdb"), read_only=True) as con:
        return con.execute(
            'SELECT line, ts, duration_ms, sql, db, "user", connection FROM queries ORDER BY line'
        ).fetchall()


def test_state_runs_read_a_large_first_read_in_pieces_as_whole(tmp_path: Path) -> None:
    text = _slow_entry(0, "use shop;\n") + "".join(_slow_entry(n) for n in range(1, 60))
    half = text.index("# Time", len(text) // 2)
    log = tmp_path / "slow.log"
    runs = {}
    for name, piece in (("whole", None), ("pieces", 700)):
        state = tmp_path / name
        log.write_text(text[:half])
        api.analyze([str(log)], Settings(state=str(state), piece_bytes=piece))
        log.write_text(text)  # new lines: the second run reads them (in pieces too)
        api.analyze([str(log)], Settings(state=str(state), piece_bytes=piece))
        runs[name] = _history_queries(state)
    assert len(runs["whole"]) == 60
    assert runs["pieces"] == runs["whole"]
