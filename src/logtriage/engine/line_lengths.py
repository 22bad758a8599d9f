"""Measure an input's longest lines in bulk: the evidence of lines cut at a length limit."""

from __future__ import annotations

from dataclasses import dataclass

from logtriage.engine.database import Database
from logtriage.model.report import LongestLines

# Lines this much shorter than the longest are its natural neighbours.
NEIGHBOURHOOD = 64

# Characters a whole record may end with.
CLOSING = ('"', "]", "}", ")", ".", ";", ">", "'", " ")
# Every ``lines`` table carries each line's byte length and blankness, computed once as the
# table is written: the census below then scans narrow columns instead of the text, which
# a log larger than the engine's memory reads back from spill on every scan (a 4-million-line
# access log: 5.3 CPU-s for the census's two scans). A printable first character settles
# almost every line without trimming it.
LINE_MEASURES = (
    "CAST(strlen(text) AS INTEGER) AS _len, "
    "CASE WHEN ascii(text) BETWEEN 33 AND 126 THEN FALSE "
    "ELSE coalesce(trim(text), '') = '' END AS _blank, "
    # Whether the line ends where a record could not (not after a quote, a bracket, a full
    # stop…): the longest lines' open ends say they were cut. Kept beside the line because the
    # lines near the longest are spread over the whole file (every block of text read again).
    # ends_with compares bytes; right() counts characters and an IN list becomes a join
    # (0.13 vs 0.21-0.27 s a million lines).
    "NOT ("
    + " OR ".join("ends_with(text, '" + c.replace("'", "''") + "')" for c in CLOSING)
    + ") AS _open"
)


@dataclass(frozen=True)
class LineCensus:
    """How many lines an input has, how many of them are blank, and its longest lines."""

    lines: int
    blank: int
    longest: LongestLines | None


def line_census(db: Database, where: str = "TRUE") -> LineCensus:
    """Count the ``lines`` table's lines and blank ones; measure the longest.

    One scan of the measures counts and finds the longest length, a second reads the text of
    the few lines near it.
    """
    # Spark's reports have no longest-line figures (longest_lines): it only counts.
    measured = db.engine != "spark"
    top = ", max(_len) AS top" if measured else ""
    counted = db.rows(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE _blank) AS blank{top} "
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
    top = db.scalar(f"SELECT max(_len) FROM lines WHERE {where}")
    return _near(db, int(top), where) if top else None


def _near(db: Database, top: int, where: str) -> LongestLines | None:
    """The per-length counts of the lines at most NEIGHBOURHOOD bytes shorter than ``top``."""
    near = db.rows(
        f"""
        SELECT _len AS n, count(*) AS lines,
            count(*) FILTER (WHERE _open) AS open
        FROM lines WHERE _len >= {int(top) - NEIGHBOURHOOD} AND {where}
        GROUP BY _len
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
