"""M002 on database logs: a log without session ids or durations says which setting to add."""

from __future__ import annotations

from logtriage import api
from tests.conftest import CASES

NO_PID = CASES / "sources" / "postgresql" / "no_pid_statement_only.log"


def test_postgresql_without_pid_and_durations_gets_its_settings() -> None:
    report = api.analyze([str(NO_PID)])
    m002 = {f.evidence["field"]: f for f in report.findings if f.code == "M002"}
    assert "%p" in m002["connection"].fix
    assert "log_min_duration_statement" in m002["duration_ms"].fix
    assert m002["connection"].evidence["records_without_field"] > 0


def test_nothing_missing_nothing_reported() -> None:
    full = CASES / "sources" / "postgresql" / "debian_min_duration.log"
    report = api.analyze([str(full)])
    fields = {f.evidence["field"] for f in report.findings if f.code == "M002"}
    assert "connection" not in fields
