"""The contract every registered input format keeps (STYLE.md: registries, tests as data)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from logtriage.model.tables import CANONICAL_TABLES
from logtriage.sources import BUILTIN_FORMATS
from logtriage.sources.base import FormatOptions, LogFormat

CASES = Path(__file__).parent / "cases" / "sources"


def _id(fmt: LogFormat) -> str:
    return fmt.name


def test_names_are_unique() -> None:
    names = [fmt.name for fmt in BUILTIN_FORMATS]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_name_is_its_module_name(fmt: LogFormat) -> None:
    module = sys.modules[type(fmt).__module__]
    assert module.__name__ == f"logtriage.sources.{fmt.name}"


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_describes_itself(fmt: LogFormat) -> None:
    assert fmt.description.strip()
    assert fmt.recognises.strip()
    assert fmt.table in CANONICAL_TABLES


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_field_hints_name_canonical_columns(fmt: LogFormat) -> None:
    columns = set(CANONICAL_TABLES[fmt.table])
    assert set(fmt.field_hints) <= columns, set(fmt.field_hints) - columns
    assert all(hint.strip() for hint in fmt.field_hints.values())


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_empty_sample_is_not_recognised(fmt: LogFormat) -> None:
    assert fmt.sniff([], FormatOptions({})).confidence == 0


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_plans_its_own_table_for_any_sample(fmt: LogFormat) -> None:
    # A forced format must still plan when nothing in the sample looks like it.
    for sample in ([], ["not a log line"]):
        plan = fmt.plan(sample, FormatOptions({}), "")
        assert plan.table == fmt.table
        assert "{lines}" in plan.select_sql or any("{lines}" in s for s in plan.setup)


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS, ids=_id)
def test_has_a_case_folder(fmt: LogFormat) -> None:
    folder = CASES / fmt.name
    assert folder.is_dir(), f"no tests/cases/sources/{fmt.name}/"
    logs = [p for p in folder.iterdir() if p.name.endswith((".log", ".log.gz", ".json", ".csv"))]
    assert logs, f"no case logs in tests/cases/sources/{fmt.name}/"
    for log in logs:
        stem = log.name.split(".")[0]
        assert (folder / f"{stem}.expected.jsonl").is_file(), f"{log.name} has no expectations"
