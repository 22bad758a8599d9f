"""Locators: turn evidence into code locations (SQL comment tags, stack traces, source scan).

The engine calls :func:`locate_findings` after the analyzers. Each finding about a route or a
query shape gets up to ``max_locations`` locations, best first, each saying how it was found
(``comment-tag``, ``stack-trace``, ``source-scan``) and how sure it is; an N+1 whose loop was
found gets a fix that names the relation and the eager-loading call of its ORM.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from logtriage.locate.comment_tags import TagGroups, TagSite, tag_sites
from logtriage.locate.fixes import loop_fix
from logtriage.locate.query_shape import query_shape
from logtriage.locate.source_scan import SourceIndex, scan_finding, scan_stats
from logtriage.locate.source_tree import SourceTree
from logtriage.locate.stack_traces import stack_sites
from logtriage.model.context import TableReader
from logtriage.model.finding import Finding, Location
from logtriage.model.redaction import redact_text


@dataclass(frozen=True)
class LocateOptions:
    """Where the code is, and how many locations a finding shows."""

    source: str | None = None
    max_locations: int = 3
    # Lines of code shown before and after a location (read from the source tree only).
    snippet_lines: int = 2


@dataclass(frozen=True)
class Located:
    """The findings with their locations, and what the source scan read (empty without one)."""

    findings: list[Finding]
    stats: dict[str, Any] = field(default_factory=dict)


def locate_findings(
    findings: Sequence[Finding], db: TableReader, options: LocateOptions
) -> Located:
    """Replace each finding's ``location`` (and an N+1's ``fix``) with what the evidence shows."""
    wanted = [f for f in findings if f.route is not None or f.fingerprint is not None]
    index = None
    if options.source and wanted:
        index = SourceIndex.build(SourceTree.open(options.source))
    groups = TagGroups(db, wanted)
    out = [
        _locate(f, db, groups, index, options) if (f.route or f.fingerprint) else f
        for f in findings
    ]
    return Located(out, {"source_scan": scan_stats(index)} if index is not None else {})


def _locate(
    finding: Finding,
    db: TableReader,
    groups: TagGroups,
    index: SourceIndex | None,
    options: LocateOptions,
) -> Finding:
    found: list[Location] = []
    resolve = index.tree.resolve if index is not None else None
    for site in tag_sites(groups, finding)[: options.max_locations * 2]:
        found += _tag_locations(site, finding, index)
    for stack in stack_sites(db, finding, resolve)[: options.max_locations]:
        base = 0.8 if finding.code.startswith("A") else 0.6
        confidence = base * (0.5 + 0.5 * stack.count / max(stack.total, 1))
        found.append(
            Location(stack.frame.path, stack.frame.line, "stack-trace", round(confidence, 2))
        )
    fix = finding.fix
    if index is not None:
        result = scan_finding(index, finding)
        found += result.locations
        if result.cause is not None and finding.code == "P001":
            table = query_shape(finding.fingerprint or "").table or "the table"
            fix = loop_fix(result.cause, table, finding.evidence.get("queries_per_request_p50"))
    locations = _merge(found)[: options.max_locations]
    if not locations:
        return finding
    if index is not None:
        locations = [_with_snippet(loc, index.tree, options.snippet_lines) for loc in locations]
    top = locations[0]
    if fix == finding.fix and finding.code == "P001" and top.line is not None:
        if top.how == "source-scan":
            fix += (
                f" Its handler is at {top.path}:{top.line}; no loop over the rows was found "
                "there: look in the templates or serializers it renders."
            )
        else:
            fix += f" The per-item query is issued at {top.path}:{top.line} ({top.how})."
    return dataclasses.replace(finding, location=tuple(locations), fix=fix)


def _tag_locations(site: TagSite, finding: Finding, index: SourceIndex | None) -> list[Location]:
    # Tags of a route's queries name where those queries are issued, not the handler itself.
    scale = 1.0 if finding.fingerprint is not None else 0.7
    if site.path is not None:
        path = site.path
        confidence = 0.95 if site.line is not None else 0.7
        if index is not None:
            resolved = index.tree.resolve(site.path)
            path, confidence = (resolved, confidence) if resolved else (path, confidence * 0.8)
        return [Location(path, site.line, "comment-tag", round(confidence * scale, 2))]
    if index is None or site.controller is None:
        return []
    return [
        Location(f.path, f.line, "comment-tag", round(0.8 * scale, 2))
        for f in _named_handlers(index, site.controller, site.action)
    ]


def _named_handlers(index: SourceIndex, controller: str, action: str | None) -> list[Any]:
    """The function a ``controller``/``action`` tag names (Rails controller#action, Django view)."""
    parts = [p for p in re.split(r"[/:.]+", controller) if p]
    last = parts[-1] if parts else controller
    camel = "".join(p[:1].upper() + p[1:] for p in re.split(r"[_-]", last))
    owners = {camel, camel + "Controller", last}
    # The handler's file may not have been parsed yet: Rails names it after the controller,
    # and a declared route names its handler.
    suffix = "/".join(p.lower() for p in parts) + "_controller.rb"
    for rel in index.tree.files:
        if rel.endswith(suffix):
            index.ensure(rel)
    name = action or last
    for decl in index.routes:
        if decl.handler == name or (action is None and decl.handler_owner == last):
            index.handler_function(decl)
    if action:
        return [f for f in index.functions if f.name == action and f.owner in owners][:1]
    return [f for f in index.functions if f.name == last][:1]


def _with_snippet(loc: Location, tree: SourceTree, context: int) -> Location:
    """The location with the code around its line, when the file is under the source tree.

    Only files under ``--source`` are read: a path named by a log (attacker-controlled) never
    makes logtriage open anything else. The code passes through the secret redactor.
    """
    if loc.line is None or tree.resolve(loc.path) != loc.path:
        return loc
    text = tree.text(loc.path)
    if text is None:
        return loc
    lines = text.splitlines()
    if not 1 <= loc.line <= len(lines):
        return loc
    start = max(1, loc.line - context)
    shown = "\n".join(line.rstrip()[:200] for line in lines[start - 1 : loc.line + context])
    return dataclasses.replace(loc, snippet=redact_text(shown), snippet_start=start)


def _merge(found: list[Location]) -> list[Location]:
    """One location per file:line, the best confidence kept (a little more when two ways agree)."""
    best: dict[tuple[str, int | None], Location] = {}
    for loc in found:
        key = (loc.path, loc.line)
        prior = best.get(key)
        if prior is None:
            best[key] = loc
        else:
            winner = loc if loc.confidence > prior.confidence else prior
            agreed = min(1.0, round(max(loc.confidence, prior.confidence) + 0.05, 2))
            best[key] = dataclasses.replace(winner, confidence=agreed)
    return sorted(best.values(), key=lambda loc: (-loc.confidence, loc.path, loc.line or 0))
