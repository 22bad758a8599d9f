"""M001 unparsed-input: lines that did not parse, with the likely cause and a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from logtriage.analyzers.base import share
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _
from logtriage.model.report import InputSummary

# Reasons are the readers' own words (kept in English in the evidence); fixes are shown.
_REASON_FIXES = {
    "does not match the log format": N_(
        "The lines do not have the fields of the detected format: give the exact format "
        "(--nginx-log-format / --apache-log-format, or --format NAME) or split the file per "
        "writer."
    ),
    "unreadable timestamp": N_("The time field does not parse: check the time format and locale."),
    "not valid UTF-8": N_(
        "The file is not UTF-8: convert it (iconv -f latin1 -t utf-8) or fix the writer's encoding."
    ),
    "line has a \\x01 control character": N_("The writer emits raw control bytes: escape them."),
    "no reader recognises this file": N_(
        "No reader recognises the file: name it with --format (see `logtriage formats`), or "
        "give the log_format / LogFormat string."
    ),
}


@dataclass(frozen=True)
class UnparsedInputOptions:
    """Thresholds for M001."""

    examples: int = 3


class UnparsedInput:
    """Input lines that no reader could turn into rows, counted per file and reason.

    What it finds:
        For each input file with rejected lines: how many, why (does not match the detected
        format, unreadable timestamp, not UTF-8, file not recognised), what the rejected lines
        look like instead (another format or variant), and examples with line numbers.

    Why it matters:
        Every rejected line is a request or a query the analysis does not see, so the other
        findings are computed on part of the traffic. A log whose format changed mid-file or
        that two servers write to is the usual cause, and it is silent in other tools
        ("queries: 0").

    Example:
        ``access.log``: 1,204 of 98,311 lines (1.2 %) rejected: they look like nginx
        ``combined`` without the timing fields; the ``log_format`` changed at line 40,122.

    How to fix:
        Give the exact format (``--nginx-log-format``, ``--apache-log-format``, ``--format``),
        keep one format per file, or fix the writer's encoding; the finding names which.

    Options:
        ``examples`` (3): rejected lines shown per file.
    """

    code: ClassVar[str] = "M001"
    name: ClassVar[str] = "unparsed-input"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[UnparsedInputOptions]] = UnparsedInputOptions

    def run(self, ctx: AnalysisContext, options: UnparsedInputOptions) -> list[Finding]:
        """One finding per input file with rejected lines."""
        total_lines = sum(i.lines - i.skipped for i in ctx.inputs) or 1
        return [
            self._finding(ctx, options, item, total_lines)
            for item in ctx.inputs
            if item.rejected > 0
        ]

    def _finding(
        self, ctx: AnalysisContext, options: UnparsedInputOptions, item: InputSummary, total: int
    ) -> Finding:
        reasons = ctx.db.rows(
            "SELECT reason, count AS n, first_line FROM reject_counts WHERE source = ? "
            "ORDER BY count DESC, reason",
            [item.path],
        )
        looks = ctx.db.rows(
            "SELECT format, variant, matched, sampled FROM reject_resemblance WHERE source = ? "
            "ORDER BY matched DESC, format, variant LIMIT 1",
            [item.path],
        )
        examples = ctx.db.rows(
            "SELECT source, line, reason, left(text, 300) AS text FROM rejects "
            "WHERE source = ? ORDER BY line LIMIT ?",
            [item.path, options.examples],
        )
        ratio = share(item.rejected, item.lines - item.skipped)
        severity = (
            Severity.HIGH if ratio >= 0.5 else Severity.MEDIUM if ratio >= 0.01 else Severity.LOW
        )
        top = reasons[0]["reason"] if reasons else "does not match the log format"
        what = f"{item.format} {item.variant}".strip() if item.format != "unknown" else ""
        title = (
            _("{path}: {rejected} of {lines} lines ({share:.1%}) could not be read as {format}")
            if what
            else _("{path}: {rejected} of {lines} lines ({share:.1%}) could not be read")
        ).format(
            path=item.path,
            rejected=f"{item.rejected:,}",
            lines=f"{item.lines - item.skipped:,}",
            share=ratio,
            format=what,
        )
        evidence: dict[str, object] = {
            "rejected": item.rejected,
            "lines": item.lines,
            "reasons": {r["reason"]: r["n"] for r in reasons},
            "first_rejected_line": min((r["first_line"] for r in reasons), default=None),
        }
        fix_text = _REASON_FIXES.get(top) or _REASON_FIXES["does not match the log format"]
        fix = _(fix_text)
        if looks and looks[0]["matched"] > 0:
            other = looks[0]
            resemble = f"{other['format']} {other['variant']}".strip()
            evidence["rejected_lines_look_like"] = resemble
            evidence["resemblance"] = f"{other['matched']} of {other['sampled']} sampled"
            fix = _(
                "The rejected lines look like {format}: the format changed within the file or "
                "several writers share it. Keep one format per file, or read these lines with "
                "--format {name}."
            ).format(format=resemble, name=other["format"])
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            # The analysis is blind to this share of the input; monitoring weighs half.
            score=0.5 * share(item.rejected, total),
            title=title,
            evidence=evidence,
            impact={"lines_lost": item.rejected, "share_of_total": round(ratio, 4)},
            fix=fix,
            examples=tuple(examples),
        )
