"""A live alert: a finding-shaped condition that started firing or was resolved."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from logtriage.model.finding import VIEWPOINT_BY_LETTER, Severity
from logtriage.model.redaction import redact_value


class AlertState(StrEnum):
    """An alert is sent once when its condition starts and once when it ends."""

    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Condition:
    """What a rule sees on one tick: the same evidence a finding carries.

    ``key`` names the condition across ticks (rule and subject), so it is alerted once while
    it holds.
    """

    key: str
    rule: str
    code: str
    name: str
    severity: Severity
    title: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)
    route: str | None = None
    fingerprint: str | None = None
    examples: tuple[dict[str, Any], ...] = ()
    location: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Alert:
    """One message to the sinks: ``condition`` started (firing) or ended (resolved) at ``at``."""

    state: AlertState
    condition: Condition
    at: str
    since: str

    def redacted(self) -> Alert:
        """The alert with every string a sink can show passed through the secret redactor."""
        c = self.condition
        return replace(
            self,
            condition=replace(
                c,
                title=redact_value(c.title),
                fix=redact_value(c.fix),
                route=redact_value(c.route),
                evidence=redact_value(c.evidence),
                examples=tuple(redact_value(list(c.examples))),
                location=tuple(redact_value(list(c.location))),
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines record: the finding fields plus state, rule and times."""
        c = self.condition
        out: dict[str, Any] = {
            "schema": "logtriage.alert/1",
            "state": self.state.value,
            "at": self.at,
            "since": self.since,
            "rule": c.rule,
            "key": c.key,
            "code": c.code,
            "name": c.name,
            "viewpoint": VIEWPOINT_BY_LETTER[c.code[0]].value,
            "severity": c.severity.value,
            "title": c.title,
        }
        if c.route is not None:
            out["route"] = c.route
        if c.fingerprint is not None:
            out["fingerprint"] = c.fingerprint
        out["evidence"] = c.evidence
        out["location"] = list(c.location)
        out["fix"] = c.fix
        out["examples"] = list(c.examples)
        return out
