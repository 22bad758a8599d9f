"""The engine's storage and memory limit (engine/database.py, engine/memory_budget.py)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from logtriage.config import Settings, memory_limit_bytes
from logtriage.engine import memory_budget
from logtriage.engine.database import SCRATCH_FILE, Database, new_work_dir
from logtriage.engine.memory_budget import STEP, MemoryBudget
from logtriage.engine.pipeline import larger_than_memory
from logtriage.sources.reading import InputFile

MB = 10**6


def _limit_bytes(db: Database) -> float:
    """The engine's current limit, read back from DuckDB ("667.5 MiB")."""
    text = str(db.scalar("SELECT current_setting('memory_limit')"))
    number, unit = text.split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def _temporary_bytes(db: Database) -> int:
    return int(db.scalar("SELECT sum(temporary_storage_bytes) FROM duckdb_memory()") or 0)


def test_a_table_larger_than_the_limit_is_scanned_without_spilling_it_again() -> None:
    # The reason the tables live in a scratch file: an in-memory table past the limit is
    # written to the spill directory on every eviction; a file's blocks are dropped for free.
    settings = Settings(memory_limit="64MB", threads=1)
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir, scratch_file=True)
        try:
            assert os.path.isfile(os.path.join(work_dir, SCRATCH_FILE))
            db.execute(
                "CREATE TABLE big AS SELECT range AS id, md5(range::VARCHAR) || "
                "md5((range * 7)::VARCHAR) AS text FROM range(3000000)"
            )
            for _ in range(3):
                total = db.scalar("SELECT sum(length(text)) FROM big")
                assert total == 3_000_000 * 64
            # ~200 MB of table data against a 64 MB limit: none of it sits in spill files.
            assert _temporary_bytes(db) < 16 * MB
        finally:
            db.close()


def test_the_scratch_file_goes_with_the_work_directory() -> None:
    settings = Settings()
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir, scratch_file=True)
        db.execute("CREATE TABLE t AS SELECT 1 AS x")
        db.close()
        assert os.path.isfile(os.path.join(work_dir, SCRATCH_FILE))
    assert not os.path.exists(work_dir)


def test_inputs_within_the_limit_keep_their_tables_in_memory(tmp_path: Path) -> None:
    plain = tmp_path / "access.log"
    plain.write_bytes(b"x" * 1000)
    packed = tmp_path / "access.log.gz"
    packed.write_bytes(gzip.compress(b"y" * 100_000, mtime=0)[:200] + b"z" * 800)
    limit = Settings(memory_limit="5000B")
    files = [InputFile(str(plain), str(plain), "none")]
    assert not larger_than_memory(files, limit)
    # A compressed file counts eight times its size: 1,000 bytes read as 8,000.
    assert larger_than_memory([*files, InputFile(str(packed), str(packed), "gzip")], limit)
    assert not larger_than_memory([InputFile("gone", str(tmp_path / "gone"), "none")], limit)
    # The engine itself at a workable limit: a 5,000-byte one may not hold its first table,
    # depending on what the process allocated before (it failed so in one full CI run).
    with new_work_dir(limit) as work_dir:
        db = Database(Settings(), work_dir)
        db.close()
        assert not os.path.exists(os.path.join(work_dir, SCRATCH_FILE))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("768MB", 768 * MB), ("1GiB", 2**30), (" 1.5 gb ", 1_500_000_000), ("lots", 768 * MB)],
)
def test_the_memory_limit_is_read_in_duckdbs_units(text: str, expected: int) -> None:
    assert memory_limit_bytes(Settings(memory_limit=text)) == expected


class _Heap:
    """A C heap whose size the test sets."""

    def __init__(self, size: int | None) -> None:
        self.size = size

    def __call__(self) -> int | None:
        return self.size


@pytest.fixture
def heap(monkeypatch: pytest.MonkeyPatch) -> _Heap:
    fake = _Heap(100 * MB)
    monkeypatch.setattr(memory_budget, "heap_in_use", fake)
    monkeypatch.setattr(memory_budget, "EVERY_SECONDS", 0.0)
    return fake


def test_the_limit_gives_back_what_the_heap_grew_by_in_whole_steps(heap: _Heap) -> None:
    applied: list[int] = []
    budget = MemoryBudget(lambda n: applied.append(n) is None, 768 * MB)
    budget.fit()
    assert applied == []  # nothing grew
    heap.size = 100 * MB + 5 * MB
    budget.fit()
    assert budget.current == 768 * MB - STEP  # 5 MB of growth costs one step
    heap.size = 100 * MB + 3 * STEP
    budget.fit()
    assert budget.current == 768 * MB - 3 * STEP
    heap.size = 100 * MB + 3 * STEP - 1
    budget.fit()
    assert applied == [768 * MB - STEP, 768 * MB - 3 * STEP]  # same step: no new SET
    heap.size = 100 * MB + 2 * STEP - 1
    budget.fit()
    assert budget.current == 768 * MB - 3 * STEP  # up by one step only: stays (hysteresis)
    heap.size = 100 * MB
    budget.fit()
    assert budget.current == 768 * MB  # the heap shrank back: so does the give-back


def test_the_limit_never_drops_below_half(heap: _Heap) -> None:
    budget = MemoryBudget(lambda n: True, 768 * MB)
    heap.size = 10**12
    budget.fit()
    assert budget.current == 384 * MB


def test_a_limit_the_engine_refuses_is_not_recorded(heap: _Heap) -> None:
    budget = MemoryBudget(lambda n: False, 768 * MB)
    heap.size = 200 * MB
    budget.fit()
    assert budget.current == 768 * MB


def test_without_glibc_the_limit_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_budget, "heap_in_use", _Heap(None))
    monkeypatch.setattr(memory_budget, "EVERY_SECONDS", 0.0)
    budget = MemoryBudget(lambda n: pytest.fail("no limit to set"), 768 * MB)
    budget.fit()
    assert budget.current == 768 * MB


def test_the_engine_takes_the_budgets_limit(heap: _Heap) -> None:
    settings = Settings(memory_limit="512MB")
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir)
        try:
            assert _limit_bytes(db) == pytest.approx(512 * MB, rel=0.001)
            heap.size = 100 * MB + 40 * MB
            db.scalar("SELECT 1")  # every statement first fits the budget
            assert _limit_bytes(db) == pytest.approx(512 * MB - 3 * STEP, rel=0.001)
        finally:
            db.close()


def test_the_real_heap_is_measured_on_glibc() -> None:
    size = memory_budget.heap_in_use()
    if memory_budget._MALLINFO2 is None:
        assert size is None
    else:
        # This process has a C heap (the engine, Python's large objects): a positive size.
        assert size is not None and size > 0


@pytest.mark.parametrize(
    "case", ["nginx/main_forwarded.log", "postgresql/explain_duplicate_pgbadger.log"]
)
def test_a_scratch_file_run_reads_the_same_rows_as_an_in_memory_one(case: str) -> None:
    # Both adopt the parse as the table (no copy): the scratch file's tables are the run's own.
    from logtriage.engine.loading import load_input
    from logtriage.sources.reading import expand_inputs

    path = Path(__file__).parent / "cases" / "sources" / case
    settings = Settings()
    tables = []
    for scratch in (False, True):
        with new_work_dir(settings) as work_dir:
            db = Database(settings, work_dir, scratch_file=scratch)
            try:
                item = expand_inputs([str(path)], work_dir)[0]
                summary = load_input(db, item, 0, settings, {})
                table = summary.table or "requests"
                tables.append(db.rows(f"SELECT * FROM {table} ORDER BY line"))
            finally:
                db.close()
    assert tables[0] and tables[0] == tables[1]
