"""A real PostgreSQL with auto_explain: plans with actual rows beside (or instead of) statements.

The cluster loads ``auto_explain`` in every session (``log_analyze``, every statement) and
three sessions log their statements three ways, so the readers meet each pairing:

- ``ae-min-duration``: ``log_min_duration_statement = 0``: each plan is followed by the same
  statement with its duration (the plan only brings its row counts);
- ``ae-plans-only``: ``log_min_duration_statement = -1`` and json plans: the plans are the
  only record of the statements;
- ``ae-log-statement``: ``log_statement = 'all'`` + ``log_duration``: the statement is logged
  as it starts, then its plan, then its duration;
- ``ae-formats``: a statement of two lines, yaml and xml plans, a plan without actual rows.

``orders`` holds 20,000 rows, 40 per customer, so each lookup by customer returns 40 rows; it
reads the whole table (20,000 rows) before the index exists and 40 after.

Run ``python -m tests.e2e.pg_auto_explain OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .postgres_server import PostgresServer, postgres_cluster, stop_and_copy_logs

SETTINGS = {
    "log_line_prefix": "%m [%p] %q%u@%d ",
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "autovacuum": "off",
}
TABLE_ROWS = 20_000
PER_CUSTOMER = 40
SETUP = f"""
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL);
INSERT INTO orders (customer_id, status)
    SELECT g % {TABLE_ROWS // PER_CUSTOMER}, 'new' FROM generate_series(1, {TABLE_ROWS}) AS g;
ANALYZE orders;
"""


def lookup(customer: int) -> str:
    """The statement each session runs: all orders of one customer."""
    return f"SELECT * FROM orders WHERE customer_id = {customer};"


# (session, settings it SETs first, customer looked up before the index, after it).
SESSIONS = (
    ("ae-min-duration", "SET log_min_duration_statement = 0;", 42, 45),
    (
        "ae-plans-only",
        "SET log_min_duration_statement = -1; SET auto_explain.log_format = 'json';",
        43,
        46,
    ),
    (
        "ae-log-statement",
        "SET log_min_duration_statement = -1; SET log_statement = 'all'; SET log_duration = on;",
        44,
        47,
    ),
)


# Plans in the other formats, and a statement whose text spans two lines.
MULTILINE_COUNT = "SELECT count(*) FROM orders WHERE status = 'new'\n  AND customer_id < 10;"
FORMATS_SCRIPT = f"""
SET log_min_duration_statement = 0;
{MULTILINE_COUNT}
SET auto_explain.log_format = 'yaml';
SELECT 1 AS one;
SET auto_explain.log_format = 'xml';
SELECT 'a<b' AS lt;
SET auto_explain.log_format = 'text';
SET auto_explain.log_analyze = off;
SELECT id FROM orders WHERE id = 5;
"""


@dataclass(frozen=True)
class Lookup:
    """One lookup the workload ran: its text, and the rows its plan must report."""

    session: str
    sql: str
    rows_sent: int
    rows_examined: int


def run_workload(server: PostgresServer) -> list[Lookup]:
    """Each session looks up one customer, the index is built, each looks up another."""
    _checked(server.psql(SETUP, app="ae-setup"))
    done: list[Lookup] = []
    for app, setup, before, _ in SESSIONS:
        _checked(server.psql(setup + "\n" + lookup(before), app=app))
        done.append(Lookup(app, lookup(before), PER_CUSTOMER, TABLE_ROWS))
    _checked(server.psql(FORMATS_SCRIPT, app="ae-formats"))
    _checked(server.psql("CREATE INDEX orders_customer ON orders (customer_id);", app="ae-setup"))
    for app, setup, _, after in SESSIONS:
        _checked(server.psql(setup + "\n" + lookup(after), app=app))
        done.append(Lookup(app, lookup(after), PER_CUSTOMER, PER_CUSTOMER))
    return done


def _checked(out: subprocess.CompletedProcess[str]) -> None:
    if "ERROR" in out.stderr:
        raise RuntimeError(f"the auto_explain workload failed: {out.stderr}")


def capture(keep: Path) -> tuple[dict[str, Path], list[Lookup]]:
    """Run the workload on a fresh cluster; copy its three logs to ``keep``."""
    with postgres_cluster(SETTINGS) as server:
        lookups = run_workload(server)
        logs = stop_and_copy_logs(server, keep)
    return logs, lookups


if __name__ == "__main__":
    files, _ = capture(Path(sys.argv[1]))
    print("\n".join(str(p) for p in files.values()))
