"""The embedded DuckDB database that holds the canonical tables of one run."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

from logtriage.config import Settings, memory_limit_bytes
from logtriage.engine.memory_budget import MemoryBudget
from logtriage.errors import ResourceError
from logtriage.model.i18n import _
from logtriage.model.tables import CANONICAL_TABLES, REJECTS, create_table_sql

# The scratch database of a run without --state, removed with its work directory.
SCRATCH_FILE = "tables.duckdb"


class Database:
    """One DuckDB connection with bounded memory, spilling to a private temp directory."""

    # Which engine runs the SQL: the Spark engine's class says "spark" where steps differ.
    engine = "duckdb"

    def __init__(
        self,
        settings: Settings,
        work_dir: str,
        path: str | None = None,
        *,
        scratch_file: bool = False,
    ) -> None:
        self.work_dir = work_dir
        spill = settings.temp_directory or os.path.join(work_dir, "spill")
        self.spill_dir = spill
        os.makedirs(spill, exist_ok=True)
        # ``path``: a database file that keeps the tables across runs (--state). Else, for
        # inputs larger than the memory limit (``scratch_file``), a file in the work directory:
        # a table past the limit is written once, compressed, and its blocks are dropped and
        # read back for free, where an in-memory table's blocks go to the spill directory again
        # each time they are evicted. On 10 GB of mixed logs: 16.9 GB spilled -> 4.7 GB,
        # 1,463 -> 1,312 CPU-s, and the engine's bookkeeping outside its limit (a record per
        # block) 222 -> 119 MB. Smaller inputs stay in memory: compressing every table as it
        # is written cost a 1M-line access log 13 % more CPU (docs/scaling.md).
        scratch = not path and scratch_file
        # A --state file keeps its tables from run to run; memory and the scratch file do not.
        self.keeps_tables = bool(path)
        self.con = duckdb.connect(
            path or (os.path.join(work_dir, SCRATCH_FILE) if scratch else ":memory:"),
            config={
                "memory_limit": settings.memory_limit,
                "temp_directory": spill,
                # Nothing in a log may make the engine reach the network or load extensions.
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                # A scratch file is thrown away with the work directory: no need to wait for
                # the disk on every statement (STANDARD cost small runs a third of their time).
                **({"fsync_mode": "NONE"} if scratch else {}),
            },
        )
        if scratch:
            # Nor to write the tables out once more when the run ends.
            self.con.execute("PRAGMA disable_checkpoint_on_shutdown")
        self.budget = MemoryBudget(self._set_memory_limit, memory_limit_bytes(settings))
        if settings.threads:
            self.con.execute(f"SET threads = {int(settings.threads)}")
        self.con.execute("SET TimeZone = 'UTC'")
        for name, columns in CANONICAL_TABLES.items():
            self.con.execute(create_table_sql(name, columns))
        self.con.execute(create_table_sql("rejects", REJECTS))
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS reject_counts (source VARCHAR, reason VARCHAR, "
            "count BIGINT, first_line BIGINT)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS reject_resemblance (source VARCHAR, format VARCHAR, "
            "variant VARCHAR, matched INTEGER, sampled INTEGER)"
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement that returns nothing of interest."""
        with self._limits():
            self.con.execute(sql, list(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        with self._limits():
            cursor = self.con.execute(sql, list(params))
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query and return the first column of its first row (None when empty)."""
        with self._limits():
            row = self.con.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    @contextlib.contextmanager
    def _limits(self) -> Iterator[None]:
        """Running out of memory or spill space is the user's to fix: say so in one line."""
        self.budget.fit()
        try:
            yield
        except duckdb.OutOfMemoryException as exc:
            limit = self.scalar("SELECT current_setting('memory_limit')")
            raise ResourceError(
                _(
                    "the engine ran out of memory within its limit ({limit}): raise it with "
                    "--memory-limit, or analyse fewer files at once"
                ).format(limit=limit)
            ) from exc
        except duckdb.IOException as exc:
            if "No space left" not in str(exc):
                raise
            raise ResourceError(
                _(
                    "no space left on the disk the engine spills to ({directory}): free space "
                    "there or set temp_directory in the config file"
                ).format(directory=self.spill_dir)
            ) from exc

    def _set_memory_limit(self, limit: int) -> bool:
        """Move the engine's limit (MemoryBudget); False if the engine could not shrink to it."""
        try:
            self.con.execute(f"SET memory_limit = '{int(limit)}B'")
        except duckdb.Error:
            return False
        return True

    def count(self, table: str) -> int:
        """Rows in ``table`` (0 when it does not exist)."""
        exists = self.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table])
        return int(self.scalar(f'SELECT count(*) FROM "{table}"')) if exists else 0

    def close(self) -> None:
        """Release the connection."""
        self.con.close()


def new_work_dir(settings: Settings) -> tempfile.TemporaryDirectory[str]:
    """A private directory for spilled data and spooled stdin, removed after the run."""
    return tempfile.TemporaryDirectory(prefix="logtriage-", dir=settings.temp_directory)
