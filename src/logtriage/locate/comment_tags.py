"""Code locations named by SQL comment tags: sqlcommenter, Rails QueryLogs, marginalia, OTel code.*.

The tags were extracted in bulk by the engine (``queries.tags``). Here the tags of a finding's
queries are grouped by their location keys in SQL, most frequent first, and read into
``file:line`` pairs (``how="comment-tag"``) or into a controller/action pair that the source scan
can turn into the handler's line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


# One group's location tags: sorted (key, value) pairs.
Entries = tuple[tuple[str, str], ...]


class TagGroups:
    """Location-tag groups of every wanted finding's queries, read in two scans of ``queries``.

    One query per finding re-scanned the whole ``queries`` table (and joined ``unit_queries``)
    each time: 235 findings cost ~5 s on a million queries. The groups are small (tag values
    without trace ids), so they are read once and summed per finding here.
    """

    def __init__(self, db: TableReader, findings: Sequence[Finding]) -> None:
        self._by_route: dict[str, list[tuple[str | None, Entries, int]]] = {}
        self._by_fingerprint: dict[str, list[tuple[Entries, int]]] = {}
        self._has_units = db.count("unit_queries") > 0
        if not db.count("queries"):
            return
        routes = sorted({f.route for f in findings if f.route is not None})
        fingerprints = sorted(
            {f.fingerprint for f in findings if f.fingerprint is not None and f.route is None}
        )
        if not self._has_units:
            fingerprints = sorted({f.fingerprint for f in findings if f.fingerprint is not None})
            routes = []
        keys = ", ".join(f"'{k}'" for k in _ALL_KEYS)
        entries = f"list_sort(list_filter(map_entries(q.tags), lambda e: lower(e.key) IN ({keys})))"
        if routes:
            for row in db.rows(
                f"""
                SELECT u.route, u.fingerprint, {entries} AS entries, count(*) AS n
                FROM unit_queries u JOIN queries q ON q.source = u.source AND q.line = u.line
                WHERE u.route IN (SELECT unnest(?)) AND q.tags IS NOT NULL
                GROUP BY ALL HAVING len(entries) > 0
                """,
                [routes],
            ):
                group = (row["fingerprint"], _entries(row["entries"]), int(row["n"]))
                self._by_route.setdefault(row["route"], []).append(group)
        if fingerprints:
            for row in db.rows(
                f"""
                SELECT q.fingerprint, {entries} AS entries, count(*) AS n FROM queries q
                WHERE q.fingerprint IN (SELECT unnest(?)) AND q.tags IS NOT NULL
                GROUP BY ALL HAVING len(entries) > 0
                """,
                [fingerprints],
            ):
                group2 = (_entries(row["entries"]), int(row["n"]))
                self._by_fingerprint.setdefault(row["fingerprint"], []).append(group2)

    def groups(self, finding: Finding) -> list[tuple[Entries, int]]:
        """The finding's queries grouped by their location tags, most frequent first."""
        counts: dict[Entries, int] = {}
        if finding.route is not None and self._has_units:
            for fingerprint, entries, n in self._by_route.get(finding.route, []):
                if finding.fingerprint is None or fingerprint == finding.fingerprint:
                    counts[entries] = counts.get(entries, 0) + n
        elif finding.fingerprint is not None:
            counts = dict(self._by_fingerprint.get(finding.fingerprint, []))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:_MAX_GROUPS]


def _entries(raw: Any) -> Entries:
    return tuple((str(e["key"]), str(e["value"])) for e in raw)


def tag_sites(groups: TagGroups, finding: Finding) -> list[TagSite]:
    """The code sites named by the tags of the finding's queries, most frequent first."""
    counts: dict[TagSite, int] = {}
    for entries, n in groups.groups(finding):
        site = read_site({key.lower(): value for key, value in entries})
        if site is not None:
            counts[site] = counts.get(site, 0) + n
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
