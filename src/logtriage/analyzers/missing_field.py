"""M002 missing-field: a log lacks a field the analysis needs (latency, request id…)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity

# Why each field matters, and how bad its absence is.
_FIELDS: dict[str, tuple[str, Severity, float]] = {
    "duration_ms": (
        "no latency: slow routes and the slow tail cannot be measured",
        Severity.MEDIUM,
        0.3,
    ),
    "request_id": (
        "no request id: database queries and app events cannot be tied to requests exactly",
        Severity.LOW,
        0.05,
    ),
}


@dataclass(frozen=True)
class MissingFieldOptions:
    """Options for M002."""

    # Report a missing request id only when there is something to correlate with.
    request_id_needs_other_sources: bool = True


class MissingField:
    """A log that lacks a field the analysis needs, with the exact setting to add it.

    What it finds:
        Input files whose format carries no latency (e.g. nginx ``combined``, Apache
        ``common``) or no request id, and the directive that adds it for that server.

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
        database or app logs were given too.
    """

    code: ClassVar[str] = "M002"
    name: ClassVar[str] = "missing-field"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[MissingFieldOptions]] = MissingFieldOptions

    def run(self, ctx: AnalysisContext, options: MissingFieldOptions) -> list[Finding]:
        """One finding per input file and missing field."""
        others = ctx.db.count("queries") + ctx.db.count("app_events")
        findings = []
        for item in ctx.inputs:
            if item.records == 0:
                continue
            for column in item.missing:
                if column not in _FIELDS:
                    continue
                if column == "request_id" and options.request_id_needs_other_sources and not others:
                    continue
                why, severity, weight = _FIELDS[column]
                hint = ctx.field_hints.get(item.format, {}).get(column)
                fix = hint or f"configure the writer of {item.path} to log {column}"
                findings.append(
                    Finding(
                        code=self.code,
                        name=self.name,
                        severity=severity,
                        score=weight,
                        title=f"{item.path} ({item.format} {item.variant}) has {why}".replace(
                            " ()", ""
                        ),
                        evidence={"source": item.path, "format": item.format, "field": column},
                        impact={"records_without_field": item.records},
                        fix=fix[0].upper() + fix[1:],
                    )
                )
        return findings
