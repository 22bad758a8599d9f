"""A real MariaDB builds a temporary table and sorts on disk; its slow log says so.

With ``log_slow_verbosity = query_plan`` MariaDB writes ``# Tmp_tables: … Tmp_disk_tables: N``,
``# Full_scan: … Tmp_table_on_disk: Yes`` and ``# Filesort: … Merge_passes: N`` per statement.
A GROUP BY on a TEXT column needs an on-disk temporary table; an ORDER BY over 10,000 rows with
a 32 KiB ``sort_buffer_size`` merges on disk; a primary-key lookup does neither.

Run ``python -m tests.e2e.mariadb_disk_work OUTFILE`` to capture a fresh case file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .mariadb_server import SETUP_SQL, mariadb_server

TABLE_SQL = """
CREATE TABLE shop.notes (id INT PRIMARY KEY, body TEXT, tag VARCHAR(200));
INSERT INTO shop.notes
    WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 99)
    SELECT a.n * 100 + b.n + 1, repeat(md5(a.n * 100 + b.n), 8), md5(a.n * 100 + b.n)
    FROM s AS a, s AS b;
"""
SESSION_SQL = (
    "SET SESSION tmp_table_size = 1024, max_heap_table_size = 16384, sort_buffer_size = 32768;"
)
DISK_TABLE_SQL = "SELECT body, count(*) FROM notes GROUP BY body ORDER BY NULL LIMIT 3"
DISK_SORT_SQL = "SELECT id, tag, body FROM notes ORDER BY tag LIMIT 4000, 2"
IN_MEMORY_SQL = "SELECT id FROM notes WHERE id = 9"


def capture(out: Path) -> Path:
    """Run the statements on a fresh server; copy its slow log to ``out``."""
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-mariadb-disk-"))
    try:
        server = mariadb_server(root)
        server.install()
        server.start()
        try:
            for sql, user in ((SETUP_SQL, "root"), (TABLE_SQL, "root")):
                result = server.query(sql, user=user)
                if result.returncode != 0 or "ERROR" in result.stderr:
                    raise RuntimeError(f"setup failed: {result.stderr}")
            script = "\n".join(
                [SESSION_SQL, *(f"{s};" for s in (DISK_TABLE_SQL, DISK_SORT_SQL, IN_MEMORY_SQL))]
            )
            result = server.query(script, database="shop")
            if "ERROR" in result.stderr:
                raise RuntimeError(f"the workload failed: {result.stderr}")
        finally:
            server.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(server.logs["slow"], out)
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(capture(Path(sys.argv[1])))
