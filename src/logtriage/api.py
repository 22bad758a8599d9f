"""The library facade: what the CLI, the tests and other programs call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from logtriage.analyzers import BUILTIN_ANALYZERS, analyzer_by_code
from logtriage.analyzers.base import Analyzer, doc_sections
from logtriage.config import Settings
from logtriage.engine.pipeline import Progress, read_records, run_analysis
from logtriage.errors import LogtriageError
from logtriage.model.report import InputSummary, Report
from logtriage.sources import BUILTIN_FORMATS
from logtriage.sources.base import LogFormat


def analyze(
    paths: Sequence[str],
    settings: Settings | None = None,
    *,
    stdin: BinaryIO | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Report:
    """Read the logs at ``paths`` and return the ranked findings and tables."""
    kwargs = {"progress": progress} if progress else {}
    return run_analysis(paths, settings or Settings(), stdin=stdin, now=now, **kwargs)


def records(
    path: str, settings: Settings | None = None
) -> tuple[InputSummary, list[dict[str, object]], list[dict[str, object]]]:
    """What the readers make of one file: its summary, canonical rows and rejected lines."""
    return read_records(path, settings or Settings())


def formats() -> tuple[LogFormat, ...]:
    """The registered input formats."""
    return BUILTIN_FORMATS


def analyzers() -> tuple[Analyzer, ...]:
    """The registered analyzers, one per finding code."""
    return BUILTIN_ANALYZERS


def explain(code: str) -> tuple[Analyzer, dict[str, str]]:
    """The analyzer for ``code`` (or its name) and its documentation sections."""
    analyzer = analyzer_by_code(code)
    if analyzer is None:
        known = ", ".join(a.code for a in BUILTIN_ANALYZERS)
        raise LogtriageError(f"unknown finding code {code!r}; known codes: {known}")
    return analyzer, doc_sections(analyzer)


def format_named(name: str) -> LogFormat:
    """The registered format called ``name``; a one-line error for an unknown name."""
    from logtriage.sources import format_by_name

    return format_by_name(name)
