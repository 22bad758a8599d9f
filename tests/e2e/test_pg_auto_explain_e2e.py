"""A real PostgreSQL with auto_explain: every statement counted once, with its plan's row counts.

``pg_auto_explain`` runs lookups logged three ways (plan then timed statement, plans alone,
``log_statement`` + plan + ``log_duration``) before and after an index; the three readers
must find each lookup once with the rows its plan returned and read, and the analysis must
name the missing index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from tests.loaded_tables import load_tables

from .pg_auto_explain import (
    MULTILINE_COUNT,
    PER_CUSTOMER,
    SESSIONS,
    TABLE_ROWS,
    Lookup,
    capture,
)
from .postgres_server import require_postgres

pytestmark = pytest.mark.e2e

DESTINATIONS = ("stderr", "csvlog", "jsonlog")


@pytest.fixture(name="explained", scope="module")
def _explained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], list[Lookup]]:
    require_postgres()
    return capture(tmp_path_factory.mktemp("pg-auto-explain"))


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_each_lookup_once_with_the_rows_of_its_plan(
    explained: tuple[dict[str, Path], list[Lookup]], destination: str
) -> None:
    logs, lookups = explained
    loaded = load_tables(str(logs[destination]))
    assert loaded.rejects == []
    for lookup in lookups:
        found = [q for q in loaded.queries if q["sql"] == lookup.sql]
        assert len(found) == 1, (lookup.session, len(found))
        [query] = found
        assert query["duration_ms"] is not None and query["duration_ms"] > 0, lookup.session
        assert (query["rows_sent"], query["rows_examined"]) == (
            lookup.rows_sent,
            lookup.rows_examined,
        ), lookup.session
        # Before the index the plan's scan reads the table and filters it; after, nothing.
        customer = lookup.sql.rsplit("= ", 1)[1].rstrip(";")
        expected_tags = (
            {
                "plan_scan": "Seq Scan on orders",
                "plan_filter": f"(customer_id = {customer})",
                "plan_rows_removed": str(TABLE_ROWS - PER_CUSTOMER),
            }
            if lookup.rows_examined == TABLE_ROWS
            else None
        )
        assert query["tags"] == expected_tags, lookup.session
    [count] = [q for q in loaded.queries if q["sql"] == MULTILINE_COUNT]
    assert (count["rows_sent"], count["rows_examined"]) == (1, TABLE_ROWS)
    # The yaml and xml plans were read (their statements' rows come only from them).
    by_text = {q["sql"]: q for q in loaded.queries}
    assert by_text["SELECT 1 AS one;"]["rows_sent"] == 1
    assert by_text["SELECT 'a<b' AS lt;"]["rows_sent"] == 1
    # A plan without ANALYZE has no actual rows: nothing is made up.
    assert by_text["SELECT id FROM orders WHERE id = 5;"]["rows_examined"] is None


def test_the_report_names_the_missing_index(
    explained: tuple[dict[str, Path], list[Lookup]],
) -> None:
    logs, _ = explained
    report = api.analyze([str(logs["stderr"])], Settings())
    scans = [f for f in report.findings if f.code == "P006"]
    lookup = [f for f in scans if f.fingerprint == "select * from orders where customer_id = ?"]
    assert lookup, [f.fingerprint for f in scans]
    [finding] = lookup
    assert finding.evidence["calls"] == 6
    assert finding.evidence["rows_examined"] == 3 * TABLE_ROWS + 3 * PER_CUSTOMER
    assert "orders (customer_id)" in (finding.fix or "")
    # The plan the server logged for the worst call is quoted, not only guessed at.
    assert finding.evidence["plan"].startswith(
        f"Seq Scan on orders, Filter: (customer_id = {SESSIONS[0][2]}), "
    )
