"""A real PostgreSQL logs lock waits (log_lock_waits); A003 reports them with how long they took.

One session holds a row lock for about two seconds; another updates the same row and waits.
With ``deadlock_timeout = 200ms`` the server logs ``still waiting for ShareLock`` after 200 ms
and ``acquired ShareLock … after N ms`` once the holder commits: the finding must say one wait,
as long as the acquired message says, on the waiting statement.
"""

from __future__ import annotations

import re
import time

import pytest

from logtriage import api
from logtriage.config import Settings

from .postgres_server import postgres_cluster, require_postgres

pytestmark = pytest.mark.e2e

HOLD_S = 2.0
WAITING_SQL = "UPDATE accounts SET balance = balance + 1 WHERE id = 1;"


def test_a_lock_wait_is_reported_with_its_length(tmp_path_factory: pytest.TempPathFactory) -> None:
    require_postgres()
    settings = {"log_line_prefix": "%m [%p] %q%u@%d ", "deadlock_timeout": "200ms"}
    with postgres_cluster(settings) as server:
        out = server.psql(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);"
            "INSERT INTO accounts VALUES (1, 100);",
            app="setup",
        )
        assert "ERROR" not in out.stderr, out.stderr
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
        server.stop()
        log = tmp_path_factory.mktemp("pg-lock-waits") / "postgresql.log"
        log.write_bytes(server.logs["stderr"].read_bytes())

    text = log.read_text()
    acquired = re.search(r"acquired ShareLock on transaction \d+ after ([0-9.]+) ms", text)
    assert acquired, "the server logged no acquired lock"
    report = api.analyze([str(log)], Settings())
    waits = [f for f in report.findings if f.evidence.get("kind") == "lock_wait"]
    assert len(waits) == 1, [f.title for f in report.findings]
    [wait] = waits
    assert wait.evidence["events"] == 1
    assert wait.evidence["max_wait_ms"] == pytest.approx(float(acquired.group(1)))
    assert wait.evidence["max_wait_ms"] >= HOLD_S * 1000
    assert wait.evidence["statement"] == WAITING_SQL
    assert wait.evidence["detail"].startswith("Process holding the lock: ")
