"""A real PostgreSQL logs lock waits (log_lock_waits); A003 reports them with how long they took.

``pg_lock_wait`` makes one statement wait about two seconds for a row lock: the finding must
say one wait, as long as the ``acquired … after N ms`` message says, on the waiting statement,
and that statement's lock_ms must be that wait.
"""

from __future__ import annotations

import re

import pytest

from logtriage import api
from logtriage.config import Settings

from .pg_lock_wait import HOLD_S, WAITING_SQL, capture
from .postgres_server import require_postgres

pytestmark = pytest.mark.e2e


def test_a_lock_wait_is_reported_with_its_length(tmp_path_factory: pytest.TempPathFactory) -> None:
    require_postgres()
    log = capture(tmp_path_factory.mktemp("pg-lock-waits"))["stderr"]
    acquired = re.search(
        r"acquired ShareLock on transaction \d+ after ([0-9.]+) ms", log.read_text()
    )
    assert acquired, "the server logged no acquired lock"
    waited_ms = float(acquired.group(1))

    report = api.analyze([str(log)], Settings())
    waits = [f for f in report.findings if f.evidence.get("kind") == "lock_wait"]
    assert len(waits) == 1, [f.title for f in report.findings]
    [wait] = waits
    assert wait.evidence["events"] == 1
    assert wait.evidence["max_wait_ms"] == pytest.approx(waited_ms)
    assert wait.evidence["max_wait_ms"] >= HOLD_S * 1000
    assert wait.evidence["statement"] == WAITING_SQL
    assert wait.evidence["detail"].startswith("Process holding the lock: ")
    # The same wait is the lock time of the statement that waited, as MySQL's Lock_time.
    queries = api.records(str(log), Settings())[1]
    [update] = [q for q in queries if q["sql"] == WAITING_SQL]
    assert update["lock_ms"] == pytest.approx(waited_ms)
    assert isinstance(update["duration_ms"], float) and update["duration_ms"] >= waited_ms
