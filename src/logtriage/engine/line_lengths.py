"""Measure an input's longest lines in bulk: the evidence of lines cut at a length limit."""

from __future__ import annotations

from logtriage.engine.database import Database
from logtriage.model.report import LongestLines

# Lines this much shorter than the longest are its natural neighbours.
NEIGHBOURHOOD = 64


def longest_lines(db: Database) -> LongestLines | None:
    """The longest lines of the ``lines`` table: their length, how many, how they end."""
    if db.engine == "spark":
        return None
    # Two plain scans (the maximum, then the few lines near it) cost ~30 ms of CPU per million
    # lines; one query with a window or a join over all lines costs ten times that.
    top = db.scalar("SELECT max(strlen(text)) FROM lines")
    if not top:
        return None
    row = db.rows(
        f"""
        SELECT count(*) FILTER (WHERE n = {int(top)}) AS at_top,
            count(*) FILTER (WHERE n < {int(top)}) AS below,
            count(*) FILTER (WHERE n = {int(top)}
                             AND NOT regexp_matches(right(text, 1), '["\\]}}).;>'' ]')) AS open
        FROM (SELECT strlen(text) AS n, text FROM lines
              WHERE strlen(text) >= {int(top) - NEIGHBOURHOOD})
        """
    )[0]
    return LongestLines(
        bytes=int(top),
        count=int(row["at_top"]),
        just_below=int(row["below"]),
        open_ended=int(row["open"]),
    )
