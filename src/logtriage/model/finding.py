"""A finding: one ranked answer with evidence, impact, code location and a fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Viewpoint(StrEnum):
    """The five viewpoints an SRE reviews a service from, in report order."""

    PERFORMANCE = "performance"
    AVAILABILITY = "availability"
    MONITORING = "monitoring"
    SECURITY = "security"
    OPERATIONS = "operations"


VIEWPOINT_BY_LETTER: dict[str, Viewpoint] = {
    "P": Viewpoint.PERFORMANCE,
    "A": Viewpoint.AVAILABILITY,
    "M": Viewpoint.MONITORING,
    "S": Viewpoint.SECURITY,
    "O": Viewpoint.OPERATIONS,
}


class Severity(StrEnum):
    """How urgent a finding is; ``rank`` orders them, most urgent first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for high up to 3 for info."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Location:
    """A place in the code where a finding can be fixed."""

    path: str
    line: int | None
    how: str
    confidence: float
    # A few lines of code around ``line`` (read from --source only), and the first one's number.
    snippet: str | None = None
    snippet_start: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Render as the report contract's location object."""
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "how": self.how,
            "confidence": self.confidence,
        }
        if self.snippet is not None:
            out["snippet"] = {"start_line": self.snippet_start, "text": self.snippet}
        return out


@dataclass(frozen=True)
class Finding:
    """One result of an analyzer, in the shape of the report contract."""

    code: str
    name: str
    severity: Severity
    score: float
    title: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)
    impact: dict[str, Any] = field(default_factory=dict)
    route: str | None = None
    fingerprint: str | None = None
    location: tuple[Location, ...] = ()
    examples: tuple[dict[str, Any], ...] = ()

    @property
    def viewpoint(self) -> Viewpoint:
        """The viewpoint is the code's letter: P, A, M, S or O."""
        return VIEWPOINT_BY_LETTER[self.code[0]]

    def sort_key(self) -> tuple[float, int, str, str]:
        """Highest score first; ties by severity, then code and subject, for stable output."""
        return (-self.score, self.severity.rank, self.code, self.route or self.fingerprint or "")

    def to_json(self) -> dict[str, Any]:
        """Render as the report contract's finding object."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "viewpoint": self.viewpoint.value,
            "severity": self.severity.value,
            "score": round(self.score, 4),
            "title": self.title,
        }
        if self.route is not None:
            out["route"] = self.route
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        out["evidence"] = self.evidence
        out["impact"] = self.impact
        out["location"] = [loc.to_json() for loc in self.location]
        out["fix"] = self.fix
        out["examples"] = list(self.examples)
        return out
