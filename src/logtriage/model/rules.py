"""The documentation of a finding code, as renderers (SARIF rules, HTML, docs) show it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from logtriage.model.finding import VIEWPOINT_BY_LETTER, Viewpoint


@dataclass(frozen=True)
class RuleDoc:
    """One analyzer's code, name and docstring sections ("What it finds", "How to fix", …)."""

    code: str
    name: str
    summary: str
    sections: Mapping[str, str] = field(default_factory=dict)

    @property
    def viewpoint(self) -> Viewpoint:
        """The viewpoint is the code's letter, as for findings."""
        return VIEWPOINT_BY_LETTER[self.code[0]]

    def section(self, title: str) -> str:
        """The text of one section, or an empty string when the docstring lacks it."""
        return self.sections.get(title, "")
