"""A real MariaDB's slow log says which statements went to disk; the reader keeps it as tags.

``mariadb_disk_work`` runs a GROUP BY that needs an on-disk temporary table, an ORDER BY that
merges on disk and a lookup that does neither (``log_slow_verbosity = query_plan``).
"""

from __future__ import annotations

import re

import pytest

from logtriage import api
from logtriage.config import Settings

from .mariadb_disk_work import DISK_SORT_SQL, DISK_TABLE_SQL, IN_MEMORY_SQL, capture
from .mariadb_server import MariadbUnavailable

pytestmark = pytest.mark.e2e


def test_statements_that_went_to_disk_carry_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        log = capture(tmp_path_factory.mktemp("mariadb-disk") / "slow.log")
    except MariadbUnavailable as exc:
        pytest.fail(f"{exc}: run `make system`", pytrace=False)
    passes = re.search(
        rf"Merge_passes: (\d+)[^\n]*\n(?:#[^\n]*\n)*(?:SET [^\n]*\n)?{re.escape(DISK_SORT_SQL)}",
        log.read_text(),
    )
    assert passes and int(passes.group(1)) > 0, "the sort did not merge on disk"
    _, rows, rejects = api.records(str(log), Settings())
    assert rejects == []
    by_sql = {row["sql"]: row for row in rows}
    assert by_sql[DISK_TABLE_SQL]["tags"] == {"tmp_disk_tables": "1"}
    assert by_sql[DISK_SORT_SQL]["tags"] == {"sort_merge_passes": passes.group(1)}
    assert by_sql[IN_MEMORY_SQL]["tags"] is None
