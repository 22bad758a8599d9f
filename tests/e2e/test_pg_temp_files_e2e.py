"""A real PostgreSQL spills a sort to disk (log_temp_files): the statement carries its files.

``pg_temp_files`` sorts 20,000 rows three times with ``work_mem = 64kB``: each run writes one
temporary file the server logs with its size. The reader must give each run its file and size
(as tags, beside the statement), keep the messages as ``temp_file`` events, and P005 must say
the shape wrote them.
"""

from __future__ import annotations

import re

import pytest

from logtriage import api
from logtriage.config import settings_from_mapping
from tests.loaded_tables import load_tables

from .pg_temp_files import FITTING_SQL, SPILLING_SQL, SPILLS, capture
from .postgres_server import require_postgres

pytestmark = pytest.mark.e2e


def test_temporary_files_belong_to_the_statement_that_wrote_them(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    require_postgres()
    logs = capture(tmp_path_factory.mktemp("pg-temp-files"))
    text = logs["stderr"].read_text()
    sizes = [
        int(size)
        for size, statement in re.findall(
            r'temporary file: path "[^"]+", size (\d+)\n.*STATEMENT:  (.*)\n', text
        )
        if statement == SPILLING_SQL
    ]
    assert len(sizes) == SPILLS
    for destination in ("stderr", "csvlog", "jsonlog"):
        loaded = load_tables(str(logs[destination]))
        spilled = [q for q in loaded.queries if q["sql"] == SPILLING_SQL]
        assert [q["tags"] for q in spilled] == [
            {"temp_files": "1", "temp_bytes": str(size)} for size in sizes
        ], destination
        [fitting] = [q for q in loaded.queries if q["sql"] == FITTING_SQL]
        assert fitting["tags"] is None
        assert sum(e["kind"] == "temp_file" for e in loaded.db_events) >= SPILLS

    # A threshold low enough for a 50 ms workload: the shape is reported with its files.
    settings = settings_from_mapping({"analyzers": {"P005": {"min_total_ms": 1.0}}})
    report = api.analyze([str(logs["stderr"])], settings)
    [sort] = [
        f
        for f in report.findings
        if f.fingerprint == "select id, payload from events order by payload"
    ]
    assert sort.evidence["temp_files"] == SPILLS
    assert sort.evidence["temp_bytes"] == sum(sizes)
    assert "temporary files" in (sort.fix or "")
