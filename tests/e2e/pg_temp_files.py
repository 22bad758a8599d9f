"""A real PostgreSQL logs the temporary files of a sort larger than work_mem (log_temp_files).

``work_mem = 64kB`` and ``log_temp_files = 0``: each run of ``SPILLING_SQL`` sorts 20,000 rows
on disk and the server logs ``temporary file: path "…", size N`` with the statement; a query
that fits in memory logs none.

Run ``python -m tests.e2e.pg_temp_files OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .postgres_server import postgres_cluster, stop_and_copy_logs

SETTINGS = {"log_line_prefix": "%m [%p] %q%u@%d ", "log_temp_files": "0", "work_mem": "64kB"}
SETUP_SQL = (
    "CREATE TABLE events (id int PRIMARY KEY, payload text NOT NULL);"
    "INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 20000) AS g;"
)
SPILLING_SQL = "SELECT id, payload FROM events ORDER BY payload;"
FITTING_SQL = "SELECT id FROM events WHERE id = 7;"
SPILLS = 3


def capture(keep: Path) -> dict[str, Path]:
    """Run the statements on a fresh cluster; copy its three logs to ``keep``."""
    with postgres_cluster(SETTINGS) as server:
        script = SETUP_SQL + "\n" + "\n".join([SPILLING_SQL] * SPILLS + [FITTING_SQL])
        out = server.psql(script, app="spills")
        if "ERROR" in out.stderr:
            raise RuntimeError(f"the temp-file workload failed: {out.stderr}")
        logs = stop_and_copy_logs(server, keep)
    return logs


if __name__ == "__main__":
    print("\n".join(str(p) for p in capture(Path(sys.argv[1])).values()))
