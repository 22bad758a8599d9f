"""A real PostgreSQL with a tiny max_wal_size under a bulk load: O002 says raise it, by how much.

``pg_checkpoints`` inserts about 150 MB of WAL with ``max_wal_size = 32MB``: the server starts
checkpoints by WAL volume a second or less apart and warns that they are too frequent.
"""

from __future__ import annotations

import re

import pytest

from logtriage import api
from logtriage.config import Settings

from .pg_checkpoints import capture
from .postgres_server import require_postgres

pytestmark = pytest.mark.e2e


def test_checkpoints_forced_by_wal_are_reported_with_a_size(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    require_postgres()
    log = capture(tmp_path_factory.mktemp("pg-checkpoints"))["stderr"]
    text = log.read_text()
    by_wal = len(re.findall(r"LOG:  checkpoint starting: wal\n", text))
    warnings = text.count("checkpoints are occurring too frequently")
    assert by_wal >= 3 and warnings >= 1, "the load did not force checkpoints"

    report = api.analyze([str(log)], Settings())
    [finding] = [f for f in report.findings if f.code == "O002"]
    assert finding.evidence["checkpoints_by_wal"] == by_wal
    assert finding.evidence["too_frequent_warnings"] == warnings
    assert finding.evidence["median_s_between_wal_checkpoints"] < 30
    # 32 MB was too small for the load: the size it asks for is larger.
    assert finding.evidence["suggested_max_wal_size_mb"] > 32
    assert "max_wal_size" in (finding.fix or "")
