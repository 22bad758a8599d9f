"""Code locations named by SQL comment tags: sqlcommenter, Rails QueryLogs, marginalia, OTel code.*.

The tags were extracted in bulk by the engine (``queries.tags``). Here the tags of a finding's
queries are grouped by their location keys in SQL, most frequent first, and read into
``file:line`` pairs (``how="comment-tag"``) or into a controller/action pair that the source scan
can turn into the handler's line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from logtriage.model.context import TableReader
from logtriage.model.finding import Finding

# Keys that say where the query came from (compared lower-case). ``line`` is marginalia's
# ``app/x.rb:12:in 'm'`` or sqlcommenter's line number beside ``file``.
_FILE_KEYS = ("source_location", "code.file.path", "code.filepath", "file", "filepath", "line")
_LINE_KEYS = ("code.line.number", "code.lineno", "lineno", "line")
_NAME_KEYS = ("controller", "namespaced_controller", "action", "route", "framework")
_ALL_KEYS = tuple(dict.fromkeys((*_FILE_KEYS, *_LINE_KEYS, *_NAME_KEYS)))
_PATH_AND_LINE = re.compile(r"^\s*(?P<path>[^\s:'\"][^:'\"]*?\.[A-Za-z0-9]{1,6}):(?P<line>\d+)")
_PATH = re.compile(r"^\s*[^\s:'\"][^:'\"]*?\.[A-Za-z0-9]{1,6}\s*$")
# Groups of tag values read per finding: the most frequent locations are all we show.
_MAX_GROUPS = 50


@dataclass(frozen=True)
class TagSite:
    """One place the tags name, with how many of the finding's queries carry it."""

    count: int
    path: str | None = None
    line: int | None = None
    controller: str | None = None
    action: str | None = None
    framework: str | None = None


def _where(finding: Finding, has_units: bool) -> tuple[str, list[object]] | None:
    """The FROM/WHERE that selects the finding's queries, or None if it is about neither."""
    if finding.route is not None and has_units:
        joined = (
            "FROM unit_queries u JOIN queries q ON q.source = u.source AND q.line = u.line "
            "WHERE u.route = ?"
        )
        if finding.fingerprint is not None:
            return joined + " AND u.fingerprint = ?", [finding.route, finding.fingerprint]
        return joined, [finding.route]
    if finding.fingerprint is not None:
        return "FROM queries q WHERE q.fingerprint = ?", [finding.fingerprint]
    return None


def tag_sites(db: TableReader, finding: Finding) -> list[TagSite]:
    """The code sites named by the tags of the finding's queries, most frequent first."""
    if not db.count("queries"):
        return []
    where = _where(finding, db.count("unit_queries") > 0)
    if where is None:
        return []
    clause, params = where
    keys = ", ".join(f"'{k}'" for k in _ALL_KEYS)
    rows = db.rows(
        f"""
        SELECT list_sort(list_filter(map_entries(q.tags), lambda e: lower(e.key) IN ({keys})))
                   AS entries,
               count(*) AS n
        {clause} AND q.tags IS NOT NULL
        GROUP BY 1 HAVING len(entries) > 0
        ORDER BY n DESC, entries LIMIT {_MAX_GROUPS}
        """,
        params,
    )
    counts: dict[TagSite, int] = {}
    for row in rows:
        tags = {str(e["key"]).lower(): str(e["value"]) for e in row["entries"]}
        site = read_site(tags)
        if site is not None:
            counts[site] = counts.get(site, 0) + int(row["n"])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].path or "", kv[0].line or 0))
    return [TagSite(n, s.path, s.line, s.controller, s.action, s.framework) for s, n in ranked]


def read_site(tags: Mapping[str, str]) -> TagSite | None:
    """Read one query's location tags (keys lower-case) into a site, if they name one."""
    framework = tags.get("framework") or None
    for key in _FILE_KEYS:
        value = tags.get(key, "")
        match = _PATH_AND_LINE.match(value)
        if match:
            return TagSite(0, match["path"].strip(), int(match["line"]), framework=framework)
        if key != "line" and _PATH.match(value):
            number = next((tags[k] for k in _LINE_KEYS if tags.get(k, "").isdigit()), None)
            return TagSite(0, value.strip(), int(number) if number else None, framework=framework)
    controller = tags.get("namespaced_controller") or tags.get("controller")
    if controller:
        return TagSite(0, controller=controller, action=tags.get("action"), framework=framework)
    return None
