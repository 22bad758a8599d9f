"""A real PostgreSQL writes WAL faster than max_wal_size allows: checkpoints by WAL volume.

``max_wal_size = 32MB`` (the smallest allowed) and a bulk insert of about 150 MB of WAL: the
server starts checkpoints because of WAL volume (``checkpoint starting: wal``), logs
``checkpoints are occurring too frequently (N seconds apart)`` with the hint to raise
``max_wal_size``, and one more checkpoint when it shuts down.

Run ``python -m tests.e2e.pg_checkpoints OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .postgres_server import postgres_cluster, stop_and_copy_logs

SETTINGS = {
    "log_line_prefix": "%m [%p] %q%u@%d ",
    "max_wal_size": "32MB",
    "min_wal_size": "32MB",
    "checkpoint_warning": "30s",
    "log_min_duration_statement": "-1",
}
ROWS = 1_500_000
BULK_SQL = (
    "CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);"
    f"INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) AS g;"
)


def capture(keep: Path) -> dict[str, Path]:
    """Run the bulk insert on a fresh cluster; copy its three logs to ``keep``."""
    with postgres_cluster(SETTINGS) as server:
        out = server.psql(BULK_SQL, app="bulk")
        if "ERROR" in out.stderr:
            raise RuntimeError(f"the bulk insert failed: {out.stderr}")
        logs = stop_and_copy_logs(server, keep)
    return logs


if __name__ == "__main__":
    print("\n".join(str(p) for p in capture(Path(sys.argv[1])).values()))
