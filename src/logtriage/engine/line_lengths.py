"""Measure an input's longest lines in bulk: the evidence of lines cut at a length limit."""

from __future__ import annotations

from logtriage.engine.database import Database
from logtriage.model.report import LongestLines

# Lines this much shorter than the longest are its natural neighbours.
NEIGHBOURHOOD = 64


def longest_lines(db: Database, where: str = "TRUE") -> LongestLines | None:
    """The longest lines of the ``lines`` table: their length, how many, how they end.

    ``where``: the lines to measure (a piece of a file measures its own, engine/pieces.py).
    """
    if db.engine == "spark":
        return None
    # Two plain scans (the maximum, then the few lines near it) cost ~30 ms of CPU per million
    # lines; one query with a window or a join over all lines costs ten times that.
    top = db.scalar(f"SELECT max(strlen(text)) FROM lines WHERE {where}")
    if not top:
        return None
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
