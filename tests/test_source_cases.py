"""One runner for every reader case: tests/cases/sources/<format>/<case>.log.

Next to each ``<case>.log`` (or ``.log.gz``/``.log.zst``):
- ``<case>.expected.jsonl``: one JSON object per expected record, in line order; only the
  keys given are compared (timestamps as ISO strings, floats to 1e-6).
- ``<case>.toml`` (optional): ``format`` (forced), ``[formats]`` options (e.g.
  ``nginx_log_format``), ``expect_format``, ``expect_variant``, ``expect_rejected`` (a list of
  line numbers), ``expect_missing`` (canonical columns the format cannot fill).
"""

from __future__ import annotations

import json
import math
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import settings_from_mapping

CASES = Path(__file__).parent / "cases" / "sources"
CASE_FILES = sorted(
    p
    for p in CASES.rglob("*")
    if p.is_file()
    and (p.name.endswith((".log", ".log.gz", ".log.zst", ".csv", ".json")))
    and not p.name.endswith(".expected.jsonl")
)


def _case_id(path: Path) -> str:
    return str(path.relative_to(CASES))


def _stem(path: Path) -> Path:
    name = path.name
    for suffix in (".log.gz", ".log.zst", ".log", ".csv", ".json"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)])
    return path


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _same(actual: Any, expected: Any) -> bool:
    actual = _normalise(actual)
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-6)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(_same(actual.get(k), v) for k, v in expected.items())
    return bool(actual == expected)


@pytest.mark.parametrize("log_path", CASE_FILES, ids=_case_id)
def test_source_case(log_path: Path) -> None:
    stem = _stem(log_path)
    meta_path = stem.with_name(stem.name + ".toml")
    meta = tomllib.loads(meta_path.read_text()) if meta_path.exists() else {}
    expectations = {k: meta.pop(k) for k in list(meta) if k.startswith("expect_")}
    settings = settings_from_mapping(meta, origin=str(meta_path))
    summary, rows, rejects = api.records(str(log_path), settings)

    expected_path = stem.with_name(stem.name + ".expected.jsonl")
    expected = [json.loads(line) for line in expected_path.read_text().splitlines() if line]
    assert len(rows) == len(expected), f"{len(rows)} records, expected {len(expected)}"
    for row, want in zip(rows, expected, strict=True):
        diffs = {
            k: (_normalise(row.get(k)), v) for k, v in want.items() if not _same(row.get(k), v)
        }
        assert not diffs, f"line {row.get('line')}: (actual, expected) {diffs}"

    if "expect_format" in expectations:
        assert summary.format == expectations["expect_format"]
    if "expect_variant" in expectations:
        assert summary.variant == expectations["expect_variant"]
    assert [r["line"] for r in rejects] == expectations.get("expect_rejected", [])
    if "expect_missing" in expectations:
        assert sorted(summary.missing) == sorted(expectations["expect_missing"])


def test_every_registered_format_has_cases() -> None:
    for fmt in api.formats():
        assert list((CASES / fmt.name).glob("*")), f"no case files for format {fmt.name}"
