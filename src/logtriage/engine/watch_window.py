"""The rolling window of ``watch``: recent rows in an in-memory DuckDB, per-minute baselines."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from logtriage.analyzers import BUILTIN_ANALYZERS
from logtriage.config import Settings
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.loading import load_input
from logtriage.engine.openapi import openapi_routes
from logtriage.engine.pipeline import _analyzer_options, split_accepted
from logtriage.engine.routes import assign_routes
from logtriage.engine.units import build_unit_queries
from logtriage.engine.watch_rules import RouteWindow
from logtriage.locate import LocateOptions, locate_findings
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding
from logtriage.model.report import InputSummary
from logtriage.model.tables import CANONICAL_TABLES
from logtriage.sources.follow import Chunk
from logtriage.sources.reading import InputFile

# Tables moved from the parse step into the window (with the column holding a line number),
# and emptied before each analysis.
_LINE_COLUMN: dict[str, str | None] = {
    **dict.fromkeys(CANONICAL_TABLES, "line"),
    "rejects": "line",
    "reject_counts": "first_line",
    "reject_resemblance": None,
}
_WINDOW_TABLES = tuple(_LINE_COLUMN)
# When a request ended (its ``ts`` is its start).
_REQUEST_END = "ts + to_microseconds(CAST(coalesce(duration_ms, 0) * 1000 AS BIGINT))"
# Rows that wait until the request they belong to is logged.
_HELD = ("queries", "app_events")
_LONGEST_HOLD = timedelta(seconds=10)
# A minute is summed into the baseline once this long has passed after its end: lines of
# slow requests are written when they end, a little after the minute they started in.
_MINUTE_GRACE = timedelta(seconds=15)
EXAMPLES_PER_ROUTE = 3


@dataclass(frozen=True)
class WindowResult:
    """What one tick saw: the window's findings and per-route numbers."""

    findings: tuple[Finding, ...]
    routes: tuple[RouteWindow, ...]
    rows: Mapping[str, int]


class RollingWindow:
    """Canonical rows of the last ``window`` plus per-minute route numbers of ``baseline``.

    Parsing and analysis share one DuckDB connection: new lines are parsed into the usual
    (``main``) tables with the formats' bulk parse plans, then moved to the ``win`` schema;
    each analysis copies the window back into ``main`` and runs the registered analyzers.
    """

    def __init__(
        self,
        settings: Settings,
        work_dir: str,
        *,
        window: timedelta,
        baseline: timedelta,
    ) -> None:
        self.settings = settings
        self.work_dir = work_dir
        self.window = window
        self.baseline = baseline
        self.db = Database(settings, work_dir)
        self._options = _analyzer_options(settings)
        self._declared = openapi_routes(settings.openapi) if settings.openapi else ()
        self._hints: dict[str, Mapping[str, str]] = {}
        self._formats: dict[str, str] = {}
        self._inputs: dict[str, InputSummary] = {}
        self._last_minute: datetime | None = None
        self.db.execute("CREATE SCHEMA win")
        for table in _WINDOW_TABLES:
            self.db.execute(
                f"CREATE TABLE win.{table} AS SELECT *, NULL::TIMESTAMP AS _seen "
                f"FROM main.{table} LIMIT 0"
            )
        self.db.execute(
            "CREATE TABLE win.route_minutes (minute TIMESTAMP, route VARCHAR, requests BIGINT, "
            "errors_5xx BIGINT, p95_ms DOUBLE, queries BIGINT, db_requests BIGINT)"
        )

    def close(self) -> None:
        """Release the engine."""
        self.db.close()

    def add(self, chunk: Chunk, now: datetime) -> InputSummary | None:
        """Parse ``chunk``'s lines in bulk and keep their rows in the window."""
        if not chunk.lines:
            return None
        self._empty_main()
        # Once a file's format is known it is kept: a few new lines are a thin sample to sniff.
        forced = self.settings.format or self._formats.get(chunk.path)
        settings = dataclasses.replace(self.settings, format=forced, since=None, until=None)
        item = InputFile(path=chunk.path, read_path=chunk.read_path, compression="none")
        summary = load_input(self.db, item, 0, settings, self._hints)
        for table in ("scan_rejects_0", "scan_info_0"):
            self.db.execute(f"DROP TABLE IF EXISTS {table}")
        if summary.format != "unknown":
            self._formats.setdefault(chunk.path, summary.format)
        normalize_queries(self.db)
        shift = chunk.first_line - 1
        for table in _WINDOW_TABLES:
            line = _LINE_COLUMN[table]
            shifted = f"* REPLACE ({line} + {int(shift)} AS {line})" if line else "*"
            self.db.execute(
                f"INSERT INTO win.{table} SELECT {shifted}, ? AS _seen FROM main.{table}", [now]
            )
        self._empty_main()
        self._inputs[chunk.path] = _accumulate(self._inputs.get(chunk.path), summary)
        return summary

    def _empty_main(self) -> None:
        """Empty the parse/analysis tables by recreating them: a DELETE would keep the blocks."""
        for table in _WINDOW_TABLES:
            self.db.execute(f"CREATE OR REPLACE TABLE main.{table} AS FROM main.{table} LIMIT 0")

    def prune(self, now: datetime) -> None:
        """Drop rows older than the window and minutes older than the baseline.

        Each table is rewritten rather than deleted from, so the engine frees the old blocks
        (a DELETE only marks rows): memory stays flat over hours.
        """
        horizon = now - self.window
        for table in _WINDOW_TABLES:
            keep = "coalesce(ts, _seen) >= ?" if table in CANONICAL_TABLES else "_seen >= ?"
            if table == "requests":
                # A request stays while it ends inside the window, so the queries it ran
                # there are never left without it (an orphan gets tied to a wrong request).
                keep = f"coalesce({_REQUEST_END}, _seen) >= ?"
            self.db.execute(
                f"CREATE OR REPLACE TABLE win.{table} AS SELECT * FROM win.{table} WHERE {keep}",
                [horizon],
            )
        self.db.execute(
            "CREATE OR REPLACE TABLE win.route_minutes AS SELECT * FROM win.route_minutes "
            "WHERE minute >= ?",
            [now - self.baseline],
        )

    def analyze(self, now: datetime) -> WindowResult:
        """Run the registered analyzers over the window; return findings and route numbers."""
        db = self.db
        self._empty_main()
        # Requests are logged when they end: a query after the last logged end may belong to
        # one still running. It waits for the next tick rather than be tied to a wrong one.
        last_end = db.scalar(f"SELECT max({_REQUEST_END}) FROM win.requests")
        # Not for long: without web traffic, background queries are analyzed all the same.
        cutoff = max(last_end, now - _LONGEST_HOLD) if last_end is not None else None
        for table in _WINDOW_TABLES:
            held = "WHERE NOT coalesce(ts > ?, FALSE)" if table in _HELD and cutoff else ""
            db.execute(
                f"INSERT INTO main.{table} SELECT * EXCLUDE (_seen) FROM win.{table} {held}",
                [cutoff] if held else [],
            )
        assign_routes(db, self.settings, self._declared)
        correlation = correlate(db)
        build_unit_queries(db)
        ctx = AnalysisContext(
            db=db,
            inputs=tuple(self._inputs.values()),
            field_hints=self._hints,
            has_declared_routes=bool(self.settings.routes or self.settings.openapi),
            facts={"correlation": dataclasses.asdict(correlation)},
        )
        findings: list[Finding] = []
        for analyzer in BUILTIN_ANALYZERS:
            if analyzer.code in self.settings.disabled:
                continue
            if any(not db.count(table) for table in analyzer.needs):
                continue
            findings.extend(analyzer.run(ctx, self._options[analyzer.code]))
        # Code locations from SQL comment tags and stack traces; no source scan per tick.
        located = locate_findings(findings, db, LocateOptions(source=None)).findings
        active, _ = split_accepted(sorted(located, key=Finding.sort_key), self.settings)
        routes = self._route_numbers(now)
        self._record_minutes(now)
        rows = {t: db.count(t) for t in CANONICAL_TABLES}
        db.execute("DROP TABLE IF EXISTS correlations")
        db.execute("DROP TABLE IF EXISTS request_db_work")
        self._empty_main()
        return WindowResult(tuple(active), tuple(routes), rows)

    def _route_numbers(self, now: datetime) -> list[RouteWindow]:
        if not self.db.count("requests"):
            return []
        has_work = self.db.count("request_db_work") > 0
        rows = self.db.rows(
            """
            WITH r AS (
                SELECT r.*, w.queries FROM requests r
                LEFT JOIN request_db_work w USING (source, line)
            ), base AS (
                SELECT route, count(*) AS minutes, median(p95_ms) AS p95_ms,
                       sum(errors_5xx) / sum(requests) AS error_rate,
                       sum(queries) / nullif(sum(db_requests), 0) AS qpr
                FROM win.route_minutes WHERE minute < ? GROUP BY route
            )
            SELECT r.route, count(*) AS requests,
                   count(*) FILTER (WHERE status >= 500) AS errors_5xx,
                   quantile_cont(duration_ms, 0.95) AS p95_ms,
                   avg(queries) AS qpr,
                   any_value(b.minutes) AS b_minutes, any_value(b.p95_ms) AS b_p95,
                   any_value(b.error_rate) AS b_rate, any_value(b.qpr) AS b_qpr
            FROM r LEFT JOIN base b USING (route)
            WHERE r.route IS NOT NULL
            GROUP BY r.route ORDER BY r.route
            """,
            [now - self.window],
        )
        examples = self._examples()
        return [
            RouteWindow(
                route=row["route"],
                requests=int(row["requests"]),
                errors_5xx=int(row["errors_5xx"]),
                p95_ms=row["p95_ms"],
                queries_per_request=row["qpr"] if has_work else None,
                baseline_minutes=int(row["b_minutes"] or 0),
                baseline_p95_ms=row["b_p95"],
                baseline_5xx_rate=row["b_rate"],
                baseline_queries_per_request=row["b_qpr"],
                examples=tuple(examples.get(row["route"], ())),
            )
            for row in rows
        ]

    def _examples(self) -> dict[str, list[dict[str, Any]]]:
        """Per route, its worst requests of the window: server errors first, then slowest."""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.db.rows(
            """
            SELECT route, source, line, status, duration_ms, request_id FROM requests
            WHERE route IS NOT NULL
            QUALIFY row_number() OVER (
                PARTITION BY route
                ORDER BY (status >= 500) DESC NULLS LAST, duration_ms DESC NULLS LAST, line
            ) <= ?
            """,
            [EXAMPLES_PER_ROUTE],
        ):
            route = row.pop("route")
            out.setdefault(route, []).append({k: v for k, v in row.items() if v is not None})
        return out

    def _record_minutes(self, now: datetime) -> None:
        """Sum each route's finished minutes once, for the baselines of later ticks."""
        if not self.db.count("requests"):
            return
        upto = (now - _MINUTE_GRACE).replace(second=0, microsecond=0)
        after = self._last_minute or (now - self.window).replace(second=0, microsecond=0)
        if upto <= after:
            return
        self.db.execute(
            """
            INSERT INTO win.route_minutes
            SELECT date_trunc('minute', ts) AS minute, route, count(*),
                   count(*) FILTER (WHERE status >= 500),
                   quantile_cont(duration_ms, 0.95), sum(w.queries), count(w.queries)
            FROM requests r LEFT JOIN request_db_work w USING (source, line)
            WHERE ts >= ? AND ts < ? AND route IS NOT NULL
            GROUP BY ALL
            """,
            [after, upto],
        )
        self._last_minute = upto


def _accumulate(before: InputSummary | None, new: InputSummary) -> InputSummary:
    """A file's summary over the whole watch: counts add up, the first time range start stays."""
    if before is None:
        return new
    return dataclasses.replace(
        new,
        format=new.format if new.format != "unknown" else before.format,
        lines=before.lines + new.lines,
        records=before.records + new.records,
        rejected=before.rejected + new.rejected,
        skipped=before.skipped + new.skipped,
        first_ts=before.first_ts or new.first_ts,
        last_ts=new.last_ts or before.last_ts,
    )
