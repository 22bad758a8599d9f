"""Source-scan cases: small apps per framework with planted N+1s; findings must point at the marker.

Each ``tests/cases/locate/<framework>/cases.toml`` lists findings as the analyzers write them;
the expected line is the one carrying the marker comment ``expect: <name>`` in the app's code,
so the cases survive edits of the fixtures.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.locate import LocateOptions, locate_findings
from logtriage.model.finding import Finding, Severity

CASES = Path(__file__).parent / "cases" / "locate"
# ``# expect: name``, ``// expect: name``, ``<%# expect: name %>``, ``{# expect: name #}``.
_MARKER = re.compile(r"(?:#|//)\s*expect(?P<neg>-not)?:\s*(?P<name>[^%#\n]+?)\s*(?:%>|#\})?\s*$")


def _markers(root: Path) -> dict[tuple[bool, str], list[tuple[str, int]]]:
    out: dict[tuple[bool, str], list[tuple[str, int]]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in (".toml", ".md"):
            continue
        for number, text in enumerate(path.read_text().splitlines(), 1):
            match = _MARKER.search(text)
            if match:
                key = (bool(match["neg"]), match["name"])
                out.setdefault(key, []).append((path.relative_to(root).as_posix(), number))
    return out


def _cases() -> list[Any]:
    out = []
    for toml in sorted(CASES.glob("*/cases.toml")):
        for case in tomllib.loads(toml.read_text())["case"]:
            out.append(pytest.param(toml.parent, case, id=f"{toml.parent.name}: {case['name']}"))
    return out


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return Database(Settings(), str(tmp_path_factory.mktemp("db")))


def _finding(case: dict[str, Any]) -> Finding:
    return Finding(
        code=case["code"],
        name="case",
        severity=Severity.HIGH,
        score=0.5,
        title="case",
        fix="the analyzer's generic fix.",
        route=case.get("route"),
        fingerprint=case.get("fingerprint"),
        evidence={"queries_per_request_p50": 30},
    )


@pytest.mark.parametrize(("root", "case"), _cases())
def test_locate_case(root: Path, case: dict[str, Any], empty_db: Database) -> None:
    markers = _markers(root)
    located = locate_findings([_finding(case)], empty_db, LocateOptions(source=str(root)))
    finding = located.findings[0]
    found = [(loc.path, loc.line) for loc in finding.location]
    assert all(loc.how == "source-scan" for loc in finding.location)
    assert all(0 < loc.confidence <= 1 for loc in finding.location)
    assert len(found) <= 3
    if "expect" in case:
        expected = markers[(False, case["expect"])]
        assert found, f"no location; expected {expected}"
        assert found[0] in expected, f"first location {found[0]}, expected {expected}"
    if "expect_any" in case:
        wanted = [m for name in case["expect_any"] for m in markers[(False, name)]]
        assert found and found[0] in wanted
    if "expect_not" in case:
        # The handler itself is found: the look-alike was looked at, and spared.
        assert found, "no location at all: the look-alike's handler was not found"
        blamed = markers[(True, case["expect_not"])]
        assert not set(found) & set(blamed), f"look-alike blamed: {found}"
    for text in case.get("fix", []):
        assert text in finding.fix, finding.fix
    assert located.stats["source_scan"]["files"] > 0
