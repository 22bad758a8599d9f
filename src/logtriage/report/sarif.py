"""SARIF 2.1.0: findings as results on code (or log) lines, finding codes as documented rules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from logtriage import __version__
from logtriage.model.finding import Finding, Severity
from logtriage.model.report import Report
from logtriage.model.rules import RuleDoc

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning orders alerts by this "security-severity"-like rank (0-100).
_RANK = {Severity.HIGH: 90.0, Severity.MEDIUM: 60.0, Severity.LOW: 30.0, Severity.INFO: 10.0}


def _markdown_doc(rule: RuleDoc) -> str:
    parts = [rule.summary]
    for title in ("What it finds", "Why it matters", "Example", "How to fix", "Options"):
        body = rule.section(title)
        if body:
            parts.append(f"## {title}\n\n{body.replace('``', '`')}")
    return "\n\n".join(parts)


def _plain_doc(rule: RuleDoc) -> str:
    parts = [rule.summary]
    for title in ("Why it matters", "How to fix"):
        body = rule.section(title)
        if body:
            parts.append(f"{title}: {' '.join(body.replace('``', '').split())}")
    return "\n\n".join(parts)


def _rule(rule: RuleDoc, levels: dict[str, str]) -> dict[str, Any]:
    finds = " ".join(rule.section("What it finds").replace("``", "").split()) or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary.splitlines()[0]},
        "fullDescription": {"text": finds},
        "help": {"text": _plain_doc(rule), "markdown": _markdown_doc(rule)},
        "defaultConfiguration": {"level": levels.get(rule.code, "warning")},
        "properties": {"tags": [rule.viewpoint.value, "logtriage"]},
    }


def _uri(path: str) -> str:
    """A URI reference for a file path: relative paths stay relative, as code scanning expects."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = PurePosixPath(path)
    if posix.is_absolute():
        return posix.as_uri()
    return quote(posix.as_posix(), safe="/")


def _physical(path: str, line: object) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if isinstance(line, int) and not isinstance(line, bool) and line >= 1:
        location["region"] = {"startLine": line}
    return {"physicalLocation": location}


def _locations(finding: Finding) -> list[dict[str, Any]]:
    if finding.location:
        return [_physical(loc.path, loc.line) for loc in finding.location]
    # No code location yet: point at the log line of the first example, so code-scanning
    # tools still list the finding (on the log file) instead of dropping it.
    for example in finding.examples:
        source = example.get("source")
        if isinstance(source, str) and source:
            return [_physical(source, example.get("line"))]
    return []


def _fingerprint(finding: Finding) -> str:
    subject = f"{finding.code}\0{finding.route or ''}\0{finding.fingerprint or ''}"
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVEL[finding.severity],
        "message": {"text": f"{finding.title}. Fix: {finding.fix}"},
        "locations": _locations(finding),
        # Same code + subject across runs = the same alert (GitHub matches on this).
        "partialFingerprints": {"logtriage/v1": _fingerprint(finding)},
        "rank": _RANK[finding.severity],
        "properties": {
            "name": finding.name,
            "viewpoint": finding.viewpoint.value,
            "severity": finding.severity.value,
            "score": round(finding.score, 4),
            "evidence": finding.evidence,
            "impact": finding.impact,
        },
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.route is not None:
        result["properties"]["route"] = finding.route
    if finding.fingerprint is not None:
        result["properties"]["fingerprint"] = finding.fingerprint
    return result


def sarif_log(report: Report, rules: Sequence[RuleDoc]) -> dict[str, Any]:
    """The SARIF log object: one run, the registered analyzers as rules, findings as results."""
    known = list(rules)
    codes = {rule.code for rule in known}
    # A finding whose analyzer is not registered (a plugin's, an old report's) still gets a rule.
    for finding in report.findings:
        if finding.code not in codes:
            known.append(RuleDoc(code=finding.code, name=finding.name, summary=finding.name))
            codes.add(finding.code)
    levels: dict[str, str] = {}
    for finding in report.findings:
        levels.setdefault(finding.code, _LEVEL[finding.severity])
    index = {rule.code: i for i, rule in enumerate(known)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "logtriage",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(rule, levels) for rule in known],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index) for f in report.findings],
                "properties": {
                    "generated_at": report.generated_at,
                    "inputs": [i.path for i in report.inputs],
                },
            }
        ],
    }


def render_sarif(report: Report, rules: Sequence[RuleDoc]) -> str:
    """Render ``report`` as SARIF 2.1.0 JSON; same report, same bytes."""
    return json.dumps(sarif_log(report, rules), indent=2, ensure_ascii=False, default=str) + "\n"
