"""The whole run: inputs → canonical tables → routes → analyzers → ranked report."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import BinaryIO

from logtriage.analyzers import BUILTIN_ANALYZERS
from logtriage.analyzers.base import build_options
from logtriage.config import Settings, memory_limit_bytes
from logtriage.engine.charts import chart_data
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.loading import load_input
from logtriage.engine.openapi import openapi_routes
from logtriage.engine.pieces import load_file
from logtriage.engine.routes import assign_routes
from logtriage.engine.stats import query_table, route_table, summary
from logtriage.engine.tables import field_hints, read_tables, write_tables
from logtriage.engine.units import build_unit_queries
from logtriage.errors import ConfigError
from logtriage.locate import LocateOptions, locate_findings
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding
from logtriage.model.i18n import _
from logtriage.model.redaction import redact_value
from logtriage.model.report import InputSummary, Report
from logtriage.sources.reading import InputFile, expand_inputs

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress sink that shows nothing."""


def run_analysis(
    paths: Sequence[str],
    settings: Settings,
    *,
    stdin: BinaryIO | None = None,
    progress: Progress = _quiet,
    now: datetime | None = None,
) -> Report:
    """Analyze the logs at ``paths`` and return the ranked, redacted report."""
    check_settings(settings)
    if settings.state:
        # Imported here: the history module builds on this one (analyze_tables).
        from logtriage.engine.history import run_incremental

        return run_incremental(paths, settings, progress=progress, now=now)
    # --tables DIR without PATHs: analyze the tables a run with PATHs wrote, parse nothing.
    from_tables = bool(settings.tables) and not paths
    with new_work_dir(settings) as work_dir:
        files = [] if from_tables else expand_inputs(paths, work_dir, stdin=stdin)
        db = open_database(
            settings, work_dir, scratch_file=from_tables or larger_than_memory(files, settings)
        )
        try:
            hints: dict[str, Mapping[str, str]] = {}
            inputs: list[InputSummary] = []
            if from_tables and settings.tables:
                progress(_("reading tables in {path}").format(path=settings.tables))
                inputs = read_tables(db, settings.tables)
                hints = field_hints(inputs)
            for scan, item in enumerate(files):
                progress(_("reading {path}").format(path=item.path))
                # Statements may be fingerprinted as they are loaded, unless the readers'
                # tables are written out (--tables keeps their raw statements).
                normalize = not settings.tables
                inputs.append(load_file(db, item, scan, settings, hints, normalize=normalize))
            if settings.tables and not from_tables:
                progress(_("writing tables to {path}").format(path=settings.tables))
                write_tables(db, settings.tables, inputs)
            report = analyze_tables(db, inputs, hints, settings, progress=progress, now=now)
        finally:
            db.close()
    return report


def analyze_tables(
    db: Database,
    inputs: Sequence[InputSummary],
    hints: Mapping[str, Mapping[str, str]],
    settings: Settings,
    *,
    progress: Progress = _quiet,
    now: datetime | None = None,
) -> Report:
    """Derive routes, fingerprints and correlations from the loaded tables, then analyze them."""
    options = _analyzer_options(settings)
    progress(_("fingerprinting queries"))
    normalize_queries(db)
    progress(_("templating routes"))
    declared = openapi_routes(settings.openapi) if settings.openapi else ()
    assign_routes(db, settings, declared)
    progress(_("tying queries to requests"))
    correlation = correlate(db)
    build_unit_queries(db)
    ctx = AnalysisContext(
        db=db,
        inputs=tuple(inputs),
        field_hints=hints,
        has_declared_routes=bool(settings.routes or settings.openapi),
        facts={"correlation": dataclasses.asdict(correlation)},
    )
    findings: list[Finding] = []
    for analyzer in BUILTIN_ANALYZERS:
        if analyzer.code in settings.disabled:
            continue
        if any(not db.count(table) for table in analyzer.needs):
            continue
        progress(_("analyzing {code} {name}").format(code=analyzer.code, name=analyzer.name))
        findings.extend(analyzer.run(ctx, options[analyzer.code]))
    progress(_("locating findings in the code"))
    located = locate_findings(findings, db, LocateOptions(source=settings.source))
    findings = located.findings
    active, suppressed = split_accepted(sorted(findings, key=Finding.sort_key), settings)
    routes = tuple(route_table(db, settings.top_routes))
    progress(_("computing charts"))
    timeseries, histograms = chart_data(db, [r["route"] for r in routes])
    report = Report(
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        inputs=tuple(inputs),
        summary={
            **summary(db, tuple(inputs)),
            "correlated_queries": correlation.correlated,
            "correlation": {
                "by_how": correlation.by_how,
                "ambiguous": correlation.ambiguous,
                "outside_any_request": correlation.outside_any_request,
            },
        },
        findings=tuple(active),
        routes=routes,
        queries=tuple(query_table(db, settings.top_queries)),
        extra={"suppressed": suppressed, **located.stats},
        timeseries=timeseries,
        histograms=histograms,
    )
    return redact_report(report)


def check_settings(settings: Settings) -> None:
    """Fail on a bad config or --source before reading anything (one clear line)."""
    _analyzer_options(settings)
    if settings.source and not os.path.isdir(settings.source):
        raise ConfigError(_("source directory not found: {path}").format(path=settings.source))


# A compressed log is counted this many times its size (gzip and zstd shrink logs ~5-15x).
COMPRESSED_RATIO = 8


def larger_than_memory(files: Sequence[InputFile], settings: Settings) -> bool:
    """Whether the inputs together (compressed ones as they will be read) exceed the limit."""
    total = 0
    for item in files:
        try:
            size = os.path.getsize(item.read_path)
        except OSError:
            continue  # the reader says what is wrong with the file, in its own words
        total += size * (1 if item.compression == "none" else COMPRESSED_RATIO)
    return total > memory_limit_bytes(settings)


def open_database(settings: Settings, work_dir: str, *, scratch_file: bool = False) -> Database:
    """The engine ``settings.engine`` names: embedded DuckDB, or Spark (same SQL, translated).

    ``scratch_file``: the embedded engine keeps its tables in a file (inputs larger than its
    memory limit), not in memory.
    """
    if settings.engine == "spark":
        from logtriage.engine.spark.database import SparkDatabase

        # Same interface as Database (execute, rows, scalar, count, con): duck-typed.
        return SparkDatabase(settings, work_dir)  # type: ignore[return-value]
    if settings.engine != "duckdb":
        raise ConfigError(
            _("unknown engine: {engine} (duckdb or spark)").format(engine=settings.engine)
        )
    return Database(settings, work_dir, scratch_file=scratch_file)


def _analyzer_options(settings: Settings) -> dict[str, object]:
    known = {a.code for a in BUILTIN_ANALYZERS}
    for code in (*settings.analyzer_options, *settings.disabled):
        if code not in known:
            raise ConfigError(_("unknown finding code in config: {code}").format(code=code))
    out: dict[str, object] = {}
    for analyzer in BUILTIN_ANALYZERS:
        try:
            out[analyzer.code] = build_options(
                analyzer, settings.analyzer_options.get(analyzer.code, {})
            )
        except ValueError as exc:
            raise ConfigError(_("config: {reason}").format(reason=exc)) from exc
    return out


def split_accepted(
    findings: Sequence[Finding], settings: Settings
) -> tuple[list[Finding], list[dict[str, object]]]:
    """Findings the config accepts move to a visible ``suppressed`` list, with the reason."""
    active: list[Finding] = []
    suppressed: list[dict[str, object]] = []
    for finding in findings:
        rule = next(
            (
                a
                for a in settings.accepted
                if a.code == finding.code
                and (a.route is None or a.route == finding.route)
                and (a.fingerprint is None or a.fingerprint == finding.fingerprint)
            ),
            None,
        )
        if rule is None:
            active.append(finding)
            continue
        entry: dict[str, object] = {"code": finding.code, "title": finding.title}
        if finding.route is not None:
            entry["route"] = finding.route
        if finding.fingerprint is not None:
            entry["fingerprint"] = finding.fingerprint
        entry["reason"] = rule.reason
        suppressed.append(entry)
    return active, suppressed


def redact_report(report: Report) -> Report:
    """Every string a renderer can show passes through the secret redactor once, here."""
    findings = tuple(
        dataclasses.replace(
            f,
            title=redact_value(f.title),
            fix=redact_value(f.fix),
            route=redact_value(f.route),
            evidence=redact_value(f.evidence),
            examples=tuple(redact_value(list(f.examples))),
        )
        for f in report.findings
    )
    return dataclasses.replace(
        report,
        findings=findings,
        routes=tuple(redact_value(list(report.routes))),
        # A fingerprint holds no literal (they are all ``?``): it stays as the findings name it.
        queries=tuple(
            {**redact_value(row), "fingerprint": row["fingerprint"]} for row in report.queries
        ),
        extra=redact_value(report.extra),
        histograms=tuple(redact_value(list(report.histograms))),
    )


def read_records(
    path: str, settings: Settings, *, with_routes: bool = True
) -> tuple[InputSummary, list[dict[str, object]], list[dict[str, object]]]:
    """Load one file and return its summary, its canonical rows and its rejected lines.

    For tests and debugging: what a reader made of a file, row by row.
    """
    with new_work_dir(settings) as work_dir:
        files = expand_inputs([path], work_dir)
        db = Database(settings, work_dir)
        try:
            summary_ = load_input(db, files[0], 0, settings, {})
            normalize_queries(db)
            if with_routes:
                declared = openapi_routes(settings.openapi) if settings.openapi else ()
                assign_routes(db, settings, declared)
            table = summary_.table or "requests"
            rows = db.rows(f"SELECT * FROM {table} ORDER BY source, line")
            rejects = db.rows("SELECT line, reason, text FROM rejects ORDER BY line")
        finally:
            db.close()
    return summary_, rows, rejects
