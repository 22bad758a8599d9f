"""One contract over every registered analyzer: code, name, docs, options, empty input."""

from __future__ import annotations

import dataclasses
import re
import tempfile

import pytest

from logtriage import api
from logtriage.analyzers.base import DOC_SECTIONS, build_options, doc_sections
from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.model.context import AnalysisContext
from logtriage.model.tables import CANONICAL_TABLES

ANALYZERS = api.analyzers()
IDS = [a.code for a in ANALYZERS]


def test_codes_and_names_are_unique() -> None:
    assert len({a.code for a in ANALYZERS}) == len(ANALYZERS)
    assert len({a.name for a in ANALYZERS}) == len(ANALYZERS)


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=IDS)
def test_code_name_and_needs(analyzer: object) -> None:
    code = analyzer.code  # type: ignore[attr-defined]
    assert re.fullmatch(r"[PAMSO]\d{3}", code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", analyzer.name)  # type: ignore[attr-defined]
    assert set(analyzer.needs) <= set(CANONICAL_TABLES)  # type: ignore[attr-defined]


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=IDS)
def test_docs_have_every_section(analyzer: object) -> None:
    sections = doc_sections(analyzer)  # type: ignore[arg-type]
    assert sections["summary"]
    for title in DOC_SECTIONS:
        assert sections.get(title), f"{title!r} missing"
    for field in dataclasses.fields(analyzer.Options):  # type: ignore[attr-defined]
        assert field.name in sections["Options"], f"option {field.name} undocumented"


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=IDS)
def test_default_options_and_bad_options(analyzer: object) -> None:
    defaults = build_options(analyzer, {})  # type: ignore[arg-type]
    assert dataclasses.is_dataclass(defaults)
    with pytest.raises(ValueError, match="has no option"):
        build_options(analyzer, {"no_such_option": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=IDS)
def test_runs_on_empty_tables(analyzer: object) -> None:
    with tempfile.TemporaryDirectory() as work:
        db = Database(Settings(), work)
        ctx = AnalysisContext(db=db, inputs=())
        options = build_options(analyzer, {})  # type: ignore[arg-type]
        assert analyzer.run(ctx, options) == []  # type: ignore[attr-defined]
        db.close()
