"""One runner for every analyzer case file: tests/cases/analyzers/<CODE>.toml.

Each ``[[case]]`` has a ``name``, ``expect = "fire"`` or ``"quiet"``, optional ``options``
(the analyzer's options, as in the config file), and rows per canonical table
(``[[case.queries]]``, ``[[case.requests]]``, ``[[case.db_events]]``…). A row may carry
``repeat = N`` (N copies; ``{i}`` in its strings becomes the copy's index) and ``ts_step_ms``
(each copy's ``ts`` that much later). The rows go straight into the engine's tables, then the
engine's own steps run (fingerprints, routes, correlation, units) before the analyzer.

For a case that fires: ``expect_count`` (exact number of findings) and ``[case.expect_first]``
(a subset of the first finding's JSON: scalars equal, tables compared key by key, and
``title_contains`` / ``fix_contains`` lists of substrings).
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logtriage.analyzers import analyzer_by_code
from logtriage.analyzers.base import build_options
from logtriage.config import Settings
from logtriage.engine.correlate import correlate
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.routes import assign_routes
from logtriage.engine.units import build_unit_queries
from logtriage.model.context import AnalysisContext
from logtriage.model.tables import CANONICAL_TABLES
from tests.canonical import database, insert_rows

CASES_DIR = Path(__file__).parent / "cases" / "analyzers"
CASE_FILES = sorted(CASES_DIR.glob("*.toml"))
CASES = [
    (path.stem, case)
    for path in CASE_FILES
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]
]
_META = {"name", "expect", "options", "expect_count", "expect_first"}


def _expand(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A row with ``repeat`` / ``ts_step_ms`` as the rows it stands for."""
    row = dict(row)
    repeat = int(row.pop("repeat", 1))
    step = float(row.pop("ts_step_ms", 0.0))
    start = datetime.fromisoformat(row["ts"]) if isinstance(row.get("ts"), str) else None
    out = []
    for i in range(repeat):
        copy = {k: v.replace("{i}", str(i)) if isinstance(v, str) else v for k, v in row.items()}
        if start is not None:
            copy["ts"] = start + timedelta(milliseconds=step * i)
        out.append(copy)
    return out


def _run(code: str, case: dict[str, Any]) -> list[dict[str, Any]]:
    analyzer = analyzer_by_code(code)
    assert analyzer is not None, f"no analyzer registered as {code}"
    with database() as db:
        for table in CANONICAL_TABLES:
            rows = [r for row in case.get(table, []) for r in _expand(row)]
            if rows:
                insert_rows(db, table, rows)
        settings = Settings()
        normalize_queries(db)
        assign_routes(db, settings)
        correlation = correlate(db)
        build_unit_queries(db)
        ctx = AnalysisContext(
            db=db, inputs=(), facts={"correlation": dataclasses.asdict(correlation)}
        )
        findings = analyzer.run(ctx, build_options(analyzer, case.get("options", {})))
        return [f.to_json() for f in findings]


def _matches(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not a table"
        for key, value in expected.items():
            _matches(actual.get(key), value, f"{where}.{key}")
    elif isinstance(expected, float) and isinstance(actual, int | float):
        assert actual == pytest.approx(expected, rel=1e-3), f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize(
    ("code", "case"), CASES, ids=[f"{code}:{case['name']}" for code, case in CASES]
)
def test_analyzer_case(code: str, case: dict[str, Any]) -> None:
    unknown = set(case) - _META - set(CANONICAL_TABLES)
    assert not unknown, f"unknown keys {sorted(unknown)}"
    findings = _run(code, case)
    if case["expect"] == "quiet":
        assert findings == [], [f["title"] for f in findings]
        return
    assert case["expect"] == "fire"
    assert findings, "expected a finding, got none"
    assert all(f["code"] == code for f in findings)
    if "expect_count" in case:
        assert len(findings) == case["expect_count"], [f["title"] for f in findings]
    first = findings[0]
    expected = dict(case.get("expect_first", {}))
    for key in ("title", "fix"):
        for part in expected.pop(f"{key}_contains", []):
            assert part in first[key], f"{part!r} not in {key}: {first[key]!r}"
    _matches(first, expected, "finding")


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case_file_has_both_kinds(path: Path) -> None:
    cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
    assert {c["expect"] for c in cases} == {"fire", "quiet"}
    assert len({c["name"] for c in cases}) == len(cases)
