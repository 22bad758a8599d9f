"""What every input format provides: a name, how to recognise itself, and a bulk parse in SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# The longest duration a log line may state, in milliseconds (about 31 years). A longer one is
# not a measurement (a corrupt or crafted line); turned into a time it would overflow.
MAX_DURATION_MS = 1e12


@dataclass(frozen=True)
class Pieces:
    """How a reader of multi-line entries reads a large file piece by piece (engine/pieces.py).

    Each piece is a range of whole lines, read with its own ``lines`` table, so the engine's
    memory holds one piece at a time. ``starts_entry(previous, line)`` (raw bytes, no line end)
    says where a piece may begin. ``context``: the share of a piece read again before and after
    it, whose rows the neighbouring pieces give (PostgreSQL: a STATEMENT line finds its
    message, a statement its duration line further on). ``carry``: (table, SELECT of its one
    row of NULLs) that the reader's SQL reads and rewrites, handing state (MySQL's `use db`)
    from one piece to the next; the engine makes it before a file's first piece.
    """

    starts_entry: Callable[[bytes, bytes], bool]
    context: float = 0.0
    carry: tuple[str, str] | None = None


@dataclass(frozen=True)
class Detection:
    """How well a format recognises sample lines, and which variant of it they are."""

    confidence: float
    variant: str = ""
    detail: str = ""


@dataclass(frozen=True)
class FormatOptions:
    """User-given hints for readers (config file and flags), e.g. an nginx ``log_format``."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """Return the option ``key`` or None."""
        return self.values.get(key)


@dataclass(frozen=True)
class ParsePlan:
    """The SQL that turns an input's lines into rows of one canonical table.

    ``select_sql`` reads the table named by the engine (``{lines}``: columns ``line`` BIGINT,
    ``text`` VARCHAR) and yields the canonical columns of ``table`` except ``source`` plus
    ``_reject`` (NULL for a good row, else the reason the line was not understood).
    ``line`` is the 1-based line of the row's first line.
    """

    table: str
    select_sql: str
    variant: str
    missing: tuple[str, ...] = ()
    # Statements run before ``select_sql`` (they may read ``{lines}``); temp tables they
    # create must be named ``tmp_*`` and are dropped by the engine afterwards.
    setup: tuple[str, ...] = ()
    # (table, select) pairs for secondary tables (e.g. database events beside queries): every
    # row they yield is good; rejections are decided by ``select_sql`` alone, so it must not
    # reject the lines these consume.
    also: tuple[tuple[str, str], ...] = ()
    # Whether one row may stand for several lines (an entry and the lines that continue it):
    # then records + rejected + skipped may be fewer than the lines read.
    joins_lines: bool = False


class LogFormat(Protocol):
    """A reader for one family of logs. Registered in ``logtriage.sources.BUILTIN_FORMATS``."""

    name: str
    table: str
    description: str
    recognises: str
    # Per missing canonical column: the exact setting that makes this log carry it (M002).
    field_hints: Mapping[str, str]

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Return how confidently ``lines`` (the first lines of a file) are this format."""
        ...

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Return the bulk parse for an input whose sniffed variant is ``variant``."""
        ...
