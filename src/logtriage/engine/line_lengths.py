"""Measure an input's longest lines in bulk: the evidence of lines cut at a length limit."""

from __future__ import annotations

from dataclasses import dataclass

from logtriage.engine.database import Database
from logtriage.model.report import LongestLines

# Lines this much shorter than the longest are its natural neighbours.
NEIGHBOURHOOD = 64


@dataclass(frozen=True)
class LineCensus:
    """How many lines an input has, how many of them are blank, and its longest lines."""

    lines: int
    blank: int
    longest: LongestLines | None


def line_census(db: Database, nonblank: str, where: str = "TRUE") -> LineCensus:
    """Count the ``lines`` table's lines and blank ones (not ``nonblank``); measure the longest.

    One scan counts and finds the longest length, a second looks at the lines near it: a log
    larger than the engine's memory is read back from its spill files on every scan (three
    scans of a 4-million-line access log cost 3 CPU-s, these two 1.2-2).
    """
    # Spark's reports have no longest-line figures (longest_lines): it only counts.
    measured = db.engine != "spark"
    top = ", max(strlen(text)) AS top" if measured else ""
    counted = db.rows(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE NOT {nonblank}) AS blank{top} "
        f"FROM lines WHERE {where}"
    )[0]
    longest = _near(db, int(counted["top"]), where) if measured and counted["top"] else None
    return LineCensus(int(counted["n"]), int(counted["blank"]), longest)


def longest_lines(db: Database, where: str = "TRUE") -> LongestLines | None:
    """The longest lines of the ``lines`` table: their length, how many, how they end.

    ``where``: the lines to measure (a piece of a file measures its own, engine/pieces.py).
    """
    if db.engine == "spark":
        return None
    # Two plain scans (the maximum, then the few lines near it) cost ~30 ms of CPU per million
    # lines; one query with a window or a join over all lines costs ten times that.
    top = db.scalar(f"SELECT max(strlen(text)) FROM lines WHERE {where}")
    return _near(db, int(top), where) if top else None


def _near(db: Database, top: int, where: str) -> LongestLines | None:
    """The per-length counts of the lines at most NEIGHBOURHOOD bytes shorter than ``top``."""
    near = db.rows(
        f"""
        SELECT n, count(*) AS lines,
            count(*) FILTER (WHERE NOT regexp_matches(right(text, 1), '["\\]}}).;>'' ]')) AS open
        FROM (SELECT strlen(text) AS n, text FROM lines
              WHERE strlen(text) >= {int(top) - NEIGHBOURHOOD} AND {where})
        GROUP BY n
        """
    )
    return from_near(tuple((int(r["n"]), int(r["lines"]), int(r["open"])) for r in near))


def from_near(near: tuple[tuple[int, int, int], ...]) -> LongestLines | None:
    """The longest lines from per-length counts (several pieces' counts may be concatenated)."""
    if not near:
        return None
    top = max(n for n, _, _ in near)
    kept = tuple(
        (n, sum(c for m, c, _ in near if m == n), sum(o for m, _, o in near if m == n))
        for n in sorted({n for n, _, _ in near if n >= top - NEIGHBOURHOOD})
    )
    return LongestLines(
        bytes=top,
        count=sum(c for n, c, _ in kept if n == top),
        just_below=sum(c for n, c, _ in kept if n < top),
        open_ended=sum(o for n, _, o in kept if n == top),
        near=kept,
    )
