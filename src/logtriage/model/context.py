"""What an analyzer is given: read access to the canonical tables and facts about the inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from logtriage.model.report import InputSummary


class TableReader(Protocol):
    """Runs read-only SQL (DuckDB dialect) over the canonical tables."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Return the result rows as dicts."""
        ...

    def count(self, table: str) -> int:
        """Number of rows in ``table`` (0 when it does not exist)."""
        ...


@dataclass(frozen=True)
class AnalysisContext:
    """Tables plus facts about the inputs; analyzers read it and return findings."""

    db: TableReader
    inputs: tuple[InputSummary, ...]
    # format name -> canonical column -> the setting that makes the log carry that column
    field_hints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # what the user told the run about routes (a list or OpenAPI) — analyzers may trust them more
    has_declared_routes: bool = False
    # Run-level facts computed by the engine (e.g. ``correlation``: how queries were matched).
    facts: Mapping[str, Any] = field(default_factory=dict)
