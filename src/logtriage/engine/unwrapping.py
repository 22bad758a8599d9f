"""Unwrap container log records (Docker json-file, Kubernetes CRI, saved prefixes) in ``lines``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from logtriage.engine.database import Database
from logtriage.engine.line_lengths import LINE_MEASURES
from logtriage.sources.container_wrappers import (
    detect,
    detect_prefixed,
    joined_sql,
    pieces_sql,
    unwrap_sample,
)

# How much better the lines must be read without a saved prefix before it is removed.
_PREFIX_GAIN = 0.1


@dataclass(frozen=True)
class Unwrapped:
    """Which wrapper was removed, how many physical lines became blank or joined, the sample."""

    wrapper: str
    absorbed: int
    sample: list[str]


def unwrap_lines(
    db: Database, sample: Sequence[str], confidence: Callable[[Sequence[str]], float]
) -> Unwrapped | None:
    """Replace ``lines`` by the program's lines when ``sample`` is wrapped; else do nothing.

    ``lines`` keeps its physical line numbers (a joined line has its first piece's) and gains
    ``container_ts``, the time the runtime wrote the line. A saved prefix (``kubectl logs
    --timestamps``, ``docker compose logs``) is removed only when ``confidence`` (the best
    reader's, for a sample) is clearly higher without it: a log may start that way itself.
    """
    wrapper = wrapper_of(sample, confidence)
    if wrapper is None:
        return None
    before = db.count("lines")
    pieces = pieces_sql(wrapper).replace("{lines}", "lines")
    db.execute(f"CREATE TEMP TABLE tmp_pieces AS SELECT *, {LINE_MEASURES} FROM ({pieces})")
    db.execute("DROP TABLE lines")
    # Most logs have no split lines: the pieces are the lines, nothing to group or copy.
    if db.scalar("SELECT count(*) FILTER (WHERE is_partial) FROM tmp_pieces"):
        joined = joined_sql("tmp_pieces")
        db.execute(f"CREATE TEMP TABLE lines AS SELECT *, {LINE_MEASURES} FROM ({joined})")
        db.execute("DROP TABLE tmp_pieces")
    else:
        db.execute("ALTER TABLE tmp_pieces RENAME TO lines")
    # Pieces joined into the line before them, and records of an empty line, are accounted
    # as blank: neither records nor rejections.
    emptied = db.scalar("SELECT count(*) FROM lines WHERE ok AND _blank")
    absorbed = before - db.count("lines") + int(emptied)
    return Unwrapped(wrapper, absorbed, unwrap_sample(sample, wrapper))


def wrapper_of(sample: Sequence[str], confidence: Callable[[Sequence[str]], float]) -> str | None:
    """The wrapper ``unwrap_lines`` would remove from lines like ``sample``, if any."""
    wrapper = detect(sample)
    candidates = detect_prefixed(sample) if wrapper is None else []
    if candidates:
        best = confidence(sample) + _PREFIX_GAIN
        for prefixed in candidates:
            gained = confidence(unwrap_sample(sample, prefixed))
            if gained >= best:
                wrapper, best = prefixed, gained
    return wrapper


def fill_container_ts(db: Database) -> None:
    """Records without a time of their own take the time the runtime wrote their line."""
    db.execute(
        "UPDATE parsed SET ts = l.container_ts FROM lines l "
        "WHERE parsed.line = l.line AND parsed.ts IS NULL AND parsed._reject IS NULL"
    )
