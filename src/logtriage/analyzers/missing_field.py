"""M002 missing-field: a log lacks a field the analysis needs (latency, request id…)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _

# Per table, the fields the analysis needs: why each matters and how bad its absence is.
# (field label, what its absence costs, severity, weight); the texts go through the catalog.
_FIELDS: dict[str, dict[str, tuple[str, str, Severity, float]]] = {
    "requests": {
        "duration_ms": (
            N_("latency"),
            N_("slow routes and the slow tail cannot be measured"),
            Severity.MEDIUM,
            0.3,
        ),
        "request_id": (
            N_("request id"),
            N_("database queries and app events cannot be tied to requests exactly"),
            Severity.LOW,
            0.05,
        ),
    },
    "queries": {
        "duration_ms": (
            N_("duration"),
            N_("heavy queries and database time per request cannot be measured"),
            Severity.MEDIUM,
            0.3,
        ),
        "connection": (
            N_("session or connection id"),
            N_("statements cannot be tied to connections or requests"),
            Severity.MEDIUM,
            0.1,
        ),
        "ts": (
            N_("usable timestamp"),
            N_("statements cannot be placed in time"),
            Severity.MEDIUM,
            0.1,
        ),
        "user": (
            N_("user"),
            N_("the profile cannot say which application runs a query"),
            Severity.INFO,
            0.01,
        ),
        "db": (
            N_("database name"),
            N_("the profile cannot tell databases apart"),
            Severity.INFO,
            0.01,
        ),
    },
}


@dataclass(frozen=True)
class MissingFieldOptions:
    """Options for M002."""

    # Report a missing request id only when there is something to correlate with.
    request_id_needs_other_sources: bool = True
    # Report a field when at least this share of a file's records lack it.
    min_share_missing: float = 0.01


class MissingField:
    """A log that lacks a field the analysis needs, with the exact setting to add it.

    What it finds:
        Input files whose records lack a field the analysis needs — all of them, or part of
        them when the format changed within the file — and the setting that adds it for that
        server: access logs without latency (nginx ``combined``, Apache ``common``) or request
        id; database logs without durations (``log_statement`` only), session ids (no ``%p``/
        ``%c`` in ``log_line_prefix``), usable timestamps, user or database.

    Why it matters:
        Without latency a slow route looks like any other; without a request id the database
        log cannot be tied to the requests that caused its queries. Other tools stay silent
        and show zeros.

    Example:
        ``access.log`` (nginx combined) has no latency: add ``$request_time`` to its
        ``log_format``.

    How to fix:
        Add the field where the log is written; the finding quotes the directive for the
        detected server (nginx ``log_format``, Apache ``LogFormat``…).

    Options:
        ``request_id_needs_other_sources`` (true): only report a missing request id when
        database or app logs were given too. ``min_share_missing`` (0.01): report a field
        when at least this share of a file's records lack it.
    """

    code: ClassVar[str] = "M002"
    name: ClassVar[str] = "missing-field"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[MissingFieldOptions]] = MissingFieldOptions

    def run(self, ctx: AnalysisContext, options: MissingFieldOptions) -> list[Finding]:
        """One finding per input file and field that its records lack."""
        others = ctx.db.count("queries") + ctx.db.count("app_events")
        findings = []
        for item in ctx.inputs:
            fields = _FIELDS.get(item.table, {})
            if item.records == 0 or not fields:
                continue
            for column, (label, consequence, severity, weight) in fields.items():
                if column == "request_id" and options.request_id_needs_other_sources and not others:
                    continue
                lacking = int(
                    ctx.db.rows(
                        f'SELECT count(*) FILTER (WHERE "{column}" IS NULL) AS n '
                        f"FROM {item.table} WHERE source = ?",
                        [item.path],
                    )[0]["n"]
                )
                ratio = lacking / item.records
                if ratio < options.min_share_missing:
                    continue
                hint = ctx.field_hints.get(item.format, {}).get(column)
                fix = (
                    _(hint)
                    if hint
                    else _("configure the writer of {path} to log {field}").format(
                        path=item.path, field=column
                    )
                )
                title = (
                    _("All records of {path} have no {field}: {consequence}")
                    if lacking == item.records
                    else _("{count} of {total} records of {path} have no {field}: {consequence}")
                ).format(
                    count=f"{lacking:,}",
                    total=f"{item.records:,}",
                    path=item.path,
                    field=_(label),
                    consequence=_(consequence),
                )
                findings.append(
                    Finding(
                        code=self.code,
                        name=self.name,
                        severity=severity if ratio >= 0.5 else Severity.LOW,
                        score=weight * ratio,
                        title=title,
                        evidence={
                            "source": item.path,
                            "format": item.format,
                            "field": column,
                            "records_without_field": lacking,
                            "share_without_field": round(ratio, 4),
                        },
                        impact={"records_without_field": lacking},
                        fix=fix[0].upper() + fix[1:],
                    )
                )
        return findings
