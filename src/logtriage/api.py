"""The library facade: what the CLI, the tests and other programs call."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from logtriage.analyzers import BUILTIN_ANALYZERS, analyzer_by_code
from logtriage.analyzers.base import Analyzer, translated_doc_sections
from logtriage.config import Settings
from logtriage.engine.explore import SavedAnalysis, open_saved, saved_files
from logtriage.engine.history import range_report
from logtriage.engine.pipeline import Progress, read_records, run_analysis
from logtriage.engine.watch import Tick as Tick
from logtriage.engine.watch import WatchOptions as WatchOptions
from logtriage.engine.watch import watch as run_watch
from logtriage.engine.watch_rules import parse_duration_s as parse_duration_s
from logtriage.engine.watch_rules import parse_thresholds as parse_thresholds
from logtriage.errors import LogtriageError
from logtriage.model.diff import DiffThresholds, ReportDiff, compute_diff
from logtriage.model.i18n import _, language, using_language
from logtriage.model.report import InputSummary, Report
from logtriage.model.rules import RuleDoc
from logtriage.report.alert_sinks import AlertSink
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
    chosen = settings or Settings()
    try:
        # Titles and fixes are written in the report's language as the analyzers make them.
        with using_language(chosen.lang or language()):
            return run_analysis(paths, chosen, stdin=stdin, now=now, **kwargs)
    except LogtriageError:
        raise
    except Exception as exc:
        if chosen.engine != "spark":
            raise
        # The Spark engine runs part of the analysis so far (issue 9): say so, in one line.
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise LogtriageError(
            _(
                "the Spark engine does not run the whole analysis yet ({reason}); "
                "use --engine duckdb (the default)"
            ).format(reason=first)
        ) from exc


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
    """The analyzer for ``code`` (or its name) and its documentation, in the active language."""
    analyzer = analyzer_by_code(code)
    if analyzer is None:
        known = ", ".join(a.code for a in BUILTIN_ANALYZERS)
        raise LogtriageError(
            _("unknown finding code {code}; known codes: {known}").format(
                code=repr(code), known=known
            )
        )
    return analyzer, translated_doc_sections(analyzer)


def diff(before: str, after: str, thresholds: DiffThresholds | None = None) -> ReportDiff:
    """Compare two report JSON files written by ``analyze --json``."""
    return compute_diff(
        _load_report(before),
        _load_report(after),
        before_name=before,
        after_name=after,
        thresholds=thresholds,
    )


TimeRange = tuple[datetime | None, datetime | None]


def diff_history(
    state: str,
    before: TimeRange,
    after: TimeRange,
    settings: Settings | None = None,
    thresholds: DiffThresholds | None = None,
) -> ReportDiff:
    """Compare two time ranges (``start <= ts < end``, naive UTC) of one ``--state`` history."""
    chosen = settings or Settings()
    with using_language(chosen.lang or language()):
        reports = [range_report(state, chosen, start, end) for start, end in (before, after)]
    return compute_diff(
        reports[0].to_json(),
        reports[1].to_json(),
        before_name=f"{state} {_range_name(before)}",
        after_name=f"{state} {_range_name(after)}",
        thresholds=thresholds,
    )


def _range_name(span: TimeRange) -> str:
    start, end = (t.isoformat() + "Z" if t is not None else "" for t in span)
    return f"{start}..{end}"


def _load_report(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LogtriageError(_("no such report: {path}").format(path=path)) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LogtriageError(
            _("cannot read report {path}: {reason}").format(path=path, reason=exc)
        ) from exc
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(
        "logtriage.report/"
    ):
        raise LogtriageError(
            _("{path} is not a logtriage report (write one with analyze --json)").format(path=path)
        )
    problem = _shape_problem(data)
    if problem:
        raise LogtriageError(
            _("{path} is not a complete logtriage report: {problem}").format(
                path=path, problem=problem
            )
        )
    return data


# What diff reads of each list, and the key every item of it must have.
_COMPARED_LISTS = {"findings": "code", "routes": "route", "queries": "fingerprint_id"}


def _shape_problem(data: dict[str, Any]) -> str | None:
    """The first part of a report that diff cannot read (an edited or cut file), if any."""
    for name, key in _COMPARED_LISTS.items():
        items = data.get(name, [])
        if not isinstance(items, list):
            return f"'{name}' is not a list"
        for index, item in enumerate(items):
            if not isinstance(item, dict) or key not in item:
                return f"{name}[{index}] has no '{key}'"
    return None


def rule_docs() -> tuple[RuleDoc, ...]:
    """Every analyzer's documentation in the active language: SARIF rules, HTML, ``docs/``."""
    out = []
    for analyzer in BUILTIN_ANALYZERS:
        sections = translated_doc_sections(analyzer)
        summary = sections.pop("summary")
        out.append(RuleDoc(analyzer.code, analyzer.name, summary, sections))
    return tuple(out)


def watch(
    paths: Sequence[str],
    settings: Settings,
    options: WatchOptions,
    sinks: Sequence[AlertSink],
    *,
    on_tick: Callable[[Tick], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Follow the logs at ``paths`` and send alerts to ``sinks`` until stopped."""
    run_watch(paths, settings, options, sinks, on_tick=on_tick or (lambda _: None), stop=stop)


def format_named(name: str) -> LogFormat:
    """The registered format called ``name``; a one-line error for an unknown name."""
    from logtriage.sources import format_by_name

    return format_by_name(name)


def saved_analysis(target: str) -> SavedAnalysis:
    """A saved analysis for ``serve``: a state directory (``analyze --state``) or a report file."""
    report_file, history_file = saved_files(target)
    return open_saved(target, _load_report(report_file), history_file, report_file)
