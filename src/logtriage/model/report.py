"""The in-memory result of one analysis, which every renderer draws from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logtriage.model.finding import Finding

SCHEMA = "logtriage.report/1"


@dataclass(frozen=True)
class LongestLines:
    """How an input's longest lines look: a cliff of lines at one length means a cut (M007)."""

    bytes: int  # the longest line's length in bytes
    count: int  # lines of exactly that length
    just_below: int  # lines up to 64 bytes shorter (what a natural tail has instead)
    open_ended: int  # lines of that length that end mid-token (no closing quote or bracket)
    # Per length within the neighbourhood of the top: (bytes, lines, open-ended lines); pieces
    # of one file (engine/pieces.py) are combined from these.
    near: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class InputSummary:
    """What one input file gave: its format, line counts and time range."""

    path: str
    format: str
    lines: int
    records: int
    rejected: int
    first_ts: str | None
    last_ts: str | None
    table: str = ""
    variant: str = ""
    skipped: int = 0
    missing: tuple[str, ...] = ()
    # With --state: how this run read the file ("new", "appended: lines 101-250", "unchanged",
    # "truncated: read again from line 1", "rotated from access.log: …").
    read: str = ""
    # Not in the report JSON: what M007 needs to see lines cut at a length limit.
    longest: LongestLines | None = None

    def to_json(self) -> dict[str, Any]:
        """Render as the report contract's input object."""
        out: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "records": self.records,
            "rejected": self.rejected,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "table": self.table,
            "variant": self.variant,
            "skipped": self.skipped,
            "missing_fields": list(self.missing),
        }
        if self.read:
            out["read"] = self.read
        return out


@dataclass(frozen=True)
class Report:
    """Everything one ``analyze`` run found, ready to render."""

    generated_at: str
    inputs: tuple[InputSummary, ...]
    summary: dict[str, Any]
    findings: tuple[Finding, ...]
    routes: tuple[dict[str, Any], ...] = ()
    queries: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # Chart data computed in bulk by the engine: requests, latency and errors per time bucket,
    # and distributions (latency, queries per request) of the routes that matter most.
    timeseries: dict[str, Any] = field(default_factory=dict)
    histograms: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Render as the report JSON contract (schema ``logtriage.report/1``)."""
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "generated_at": self.generated_at,
            "inputs": [i.to_json() for i in self.inputs],
            "summary": self.summary,
            "findings": [f.to_json() for f in self.findings],
            "routes": list(self.routes),
            "queries": list(self.queries),
            "timeseries": self.timeseries,
            "histograms": list(self.histograms),
        }
        out.update(self.extra)
        return out
