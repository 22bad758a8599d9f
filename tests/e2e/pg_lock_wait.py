"""A real PostgreSQL logs a lock wait (log_lock_waits): one session holds a row, another waits.

One session holds a row lock for about two seconds; another updates the same row and waits.
With ``deadlock_timeout = 200ms`` the server logs ``still waiting for ShareLock`` after 200 ms
and ``acquired ShareLock … after N ms`` once the holder commits, then the waiting statement
with its duration (``log_min_duration_statement = 0``).

Run ``python -m tests.e2e.pg_lock_wait OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .postgres_server import postgres_cluster, stop_and_copy_logs

SETTINGS = {"log_line_prefix": "%m [%p] %q%u@%d ", "deadlock_timeout": "200ms"}
HOLD_S = 2.0
WAITING_SQL = "UPDATE accounts SET balance = balance + 1 WHERE id = 1;"


def capture(keep: Path) -> dict[str, Path]:
    """Run the two sessions on a fresh cluster; copy its three logs to ``keep``."""
    with postgres_cluster(SETTINGS) as server:
        out = server.psql(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);"
            "INSERT INTO accounts VALUES (1, 100);",
            app="setup",
        )
        if "ERROR" in out.stderr:
            raise RuntimeError(f"setup failed: {out.stderr}")
        holder, waiter = server.session("holder"), server.session("waiter")
        try:
            holder.send("BEGIN;")
            holder.send("UPDATE accounts SET balance = 0 WHERE id = 1;")
            time.sleep(0.3)
            waiter.send(WAITING_SQL)
            server.wait_for_lock_waiters(1)
            time.sleep(HOLD_S)
            holder.send("COMMIT;")
        finally:
            holder.close()
            waiter.close()
        logs = stop_and_copy_logs(server, keep)
    return logs


if __name__ == "__main__":
    print("\n".join(str(p) for p in capture(Path(sys.argv[1])).values()))
