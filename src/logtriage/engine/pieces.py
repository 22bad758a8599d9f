"""A large database log read in pieces that fit the engine's memory, cut where entries start."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from logtriage.config import Settings, memory_limit_bytes
from logtriage.engine.database import Database
from logtriage.engine.line_lengths import from_near
from logtriage.engine.loading import (
    MIN_CONFIDENCE,
    SNIFF_LINES,
    PieceRange,
    choose_format,
    consolidate_rejects,
    load_input,
    stream_head,
)
from logtriage.engine.unwrapping import wrapper_of
from logtriage.model.report import InputSummary, LongestLines
from logtriage.sources.base import FormatOptions, Pieces
from logtriage.sources.cursor import open_content
from logtriage.sources.reading import InputFile

# A piece is this share of the engine's memory limit (128 MB of the default 768 MB): its
# `lines` table and the reader's tables fit beside the rows already loaded. A 1.2 GB MySQL slow
# log read whole spilled 29 GB and took 6.3x the CPU of a quarter of it; in pieces 4.5x
# (docs/database-speed.md, "Reading in pieces").
PIECE_SHARE = 6
_BLOCK = 8 << 20
# A line longer than this (no reader keeps one: the engine's limit is 8 MB) is copied as it
# comes instead of being held whole.
_LONG_LINE = 4 * _BLOCK
# The least context read around a piece, when its reader needs one (a few hundred lines).
_MIN_CONTEXT = 64 << 10
# Past the planned end of a piece, how far to look for a line a piece may start at before the
# rest of the file is read as one piece (a log with no such line is read whole, as before).
_SEARCH_PIECES = 4


@dataclass(frozen=True)
class _Core:
    """One piece's own lines, spooled to a plain file: lines first_line..first_line+lines-1."""

    path: str
    first_line: int
    lines: int
    bytes: int


def piece_bytes(settings: Settings) -> int:
    """How many bytes of a file one piece holds."""
    if settings.piece_bytes:
        return max(1, int(settings.piece_bytes))
    return max(1 << 20, memory_limit_bytes(settings) // PIECE_SHARE)


def load_file(
    db: Database,
    item: InputFile,
    scan: int,
    settings: Settings,
    hints: dict[str, Mapping[str, str]],
    sample: Sequence[str] | None = None,
    *,
    normalize: bool = False,
) -> InputSummary:
    """``load_input`` for one file; a large log whose reader can is read piece by piece.

    ``sample``: as ``load_input``'s (the new lines of a --state run are read as the file's
    first lines were); ``item.line_offset`` lines of the file come before ``item``'s.
    """
    size = piece_bytes(settings)
    found = _pieces_of(item, settings, size, sample)
    if found is None:
        return load_input(db, item, scan, settings, hints, sample, normalize=normalize)
    pieces, sample = found
    before = item.line_offset
    context = max(int(size * pieces.context), _MIN_CONTEXT) if pieces.context else 0
    with open_content(item.read_path, item.compression) as content:
        cores = _cores(content, size, pieces, os.path.join(db.work_dir, f"core-{scan}"))
        current = next(cores, None)
        ahead = _look_ahead(cores, [], max(context, 1))
        if current is None:
            return load_input(db, item, scan, settings, hints, sample, normalize=normalize)
        if not ahead:
            # One piece is the whole file: read as a file, from the copy already decompressed.
            whole = InputFile(item.path, current.path, "none", line_offset=item.line_offset)
            try:
                return load_input(db, whole, scan, settings, hints, sample, normalize=normalize)
            finally:
                os.remove(current.path)
        total: InputSummary | None = None
        behind: list[_Core] = []
        first = True
        while current is not None:
            spool, lead = _with_context(current, behind, ahead, context, db.work_dir, scan)
            first_line = before + current.first_line
            part = InputFile(item.path, spool, "none", line_offset=first_line - 1 - lead)
            keep = PieceRange(first_line, first_line + current.lines, first, not ahead)
            for table in (f"scan_rejects_{scan}", f"scan_info_{scan}"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            got = load_input(
                db, part, scan, settings, hints, sample, normalize=normalize, piece=keep
            )
            total = got if total is None else _merged(total, got)
            if spool != current.path:
                os.remove(spool)
            behind.append(current)
            first = False
            while behind and sum(c.bytes for c in behind[1:]) >= context:
                os.remove(behind.pop(0).path)  # no later piece reads it as context
            current = ahead.pop(0) if ahead else None
            ahead = _look_ahead(cores, ahead, max(context, 1))
        for core in behind:
            os.remove(core.path)
    consolidate_rejects(db)
    assert total is not None
    return total


def _pieces_of(
    item: InputFile, settings: Settings, size: int, sample: Sequence[str] | None
) -> tuple[Pieces, list[str]] | None:
    """How ``item``'s reader reads pieces, when it is a file worth cutting into pieces.

    With the sample of the file's first lines its format was chosen from (``sample``, else
    the file's own): every piece is read with the format and variant the whole file would be.
    """
    # Spark reads a file in partitions of its own; a UTF-16 file cannot be cut at b"\n".
    if settings.engine == "spark" or item.encoding != "utf-8":
        return None
    if item.compression == "none" and os.path.getsize(item.read_path) <= size * 3 // 2:
        return None
    if sample is None:
        with open_content(item.read_path, item.compression) as content:
            sample = stream_head(content, SNIFF_LINES)
    sample = list(sample)
    options = FormatOptions(settings.format_options)
    if wrapper_of(sample, lambda lines: choose_format(lines, options, None).detection.confidence):
        return None  # records inside container or export wrappers: read whole, as before
    choice = choose_format(sample, options, settings.format)
    if choice.format is None or choice.detection.confidence < MIN_CONFIDENCE:
        return None
    pieces = getattr(choice.format, "pieces", None)
    return (pieces, sample) if isinstance(pieces, Pieces) else None


def _cores(content: BinaryIO, size: int, pieces: Pieces, stem: str) -> Iterator[_Core]:
    """Spool the content into files of whole lines, each about ``size`` bytes.

    A file ends before a line its reader may start a piece at (``starts_entry``); only the
    lines near each planned end are looked at in Python, the rest is copied in blocks.
    """
    number, first_line = 0, 1
    out = open(f"{stem}-{number}.log", "wb")  # noqa: SIM115 - closed as each core ends
    written = lines = 0
    previous = b""  # the last line written to the current core
    pending = b""  # bytes read and not written yet; they start at a line start (not mid_line)
    searching, mid_line = True, False
    while block := content.read(_BLOCK):
        pending += block
        while searching and not mid_line and written + len(pending) >= size:
            if written > size * _SEARCH_PIECES:
                searching = False  # no place to cut: the rest is one piece
                break
            cut = _cut_in(pending, max(0, size - written), previous, pieces)
            if cut is None:
                break
            chunk, pending = pending[:cut], pending[cut:]
            out.write(chunk)
            out.close()
            yield _Core(
                f"{stem}-{number}.log", first_line, lines + chunk.count(b"\n"), written + len(chunk)
            )
            number, first_line = number + 1, first_line + lines + chunk.count(b"\n")
            out = open(f"{stem}-{number}.log", "wb")  # noqa: SIM115
            written = lines = 0
            previous = b""
        long_line = mid_line
        if mid_line:
            # The rest of a line too long to hold: up to its end, the other lines next time.
            end = pending.find(b"\n") + 1
            mid_line = not end
            end = end or len(pending)
        else:
            end = pending.rfind(b"\n") + 1
            if not end and len(pending) > _LONG_LINE:
                end, mid_line = len(pending), True
        if end:
            chunk, pending = pending[:end], pending[end:]
            out.write(chunk)
            written += len(chunk)
            lines += chunk.count(b"\n")
            # The line before the next one (none after a long line: no cut right after it).
            last = chunk[chunk.rfind(b"\n", 0, len(chunk) - 1) + 1 : -1]
            previous = b"" if long_line or mid_line else last
    # What is left: lines after a long one, and maybe a last line without its newline.
    out.write(pending)
    written += len(pending)
    lines += pending.count(b"\n")
    if mid_line or (pending and not pending.endswith(b"\n")):
        lines += 1
    out.close()
    if written:
        yield _Core(f"{stem}-{number}.log", first_line, lines, written)
    else:
        os.remove(f"{stem}-{number}.log")


def _cut_in(data: bytes, skip: int, previous: bytes, pieces: Pieces) -> int | None:
    """The offset of the first line in ``data``, ``skip`` bytes in or later, a piece may begin at.

    ``data`` starts at a line start; ``previous`` is the line before it. None when no
    complete line of ``data`` qualifies (the search goes on after more is read).
    """
    at = 0
    if skip > 0:
        # The line the planned end falls in is the last line of this piece.
        newline = data.find(b"\n", skip - 1)
        if newline < 0:
            return None
        line_start = data.rfind(b"\n", 0, newline) + 1
        previous, at = data[line_start:newline], newline + 1
    while (newline := data.find(b"\n", at)) >= 0:
        line = data[at:newline]
        if pieces.starts_entry(previous.rstrip(b"\r"), line.rstrip(b"\r")):
            return at
        previous, at = line, newline + 1
    return None


def _look_ahead(cores: Iterator[_Core], ahead: list[_Core], context: int) -> list[_Core]:
    """``ahead`` with as many further pieces as the context after a piece reaches into."""
    while sum(c.bytes for c in ahead) < context and (core := next(cores, None)) is not None:
        ahead.append(core)
    return ahead


def _with_context(
    core: _Core,
    behind: list[_Core],
    ahead: list[_Core],
    context: int,
    work_dir: str,
    scan: int,
) -> tuple[str, int]:
    """The file a piece is read from (its lines and the context around them); lines before."""
    if context <= 0:
        return core.path, 0
    lead = _tail_lines(behind, context)
    trail = _head_lines(ahead, context)
    target = os.path.join(work_dir, f"piece-{scan}.log")
    with open(target, "wb") as out:
        out.write(lead)
        with open(core.path, "rb") as own:
            while block := own.read(_BLOCK):
                out.write(block)
        out.write(trail)
    return target, lead.count(b"\n")


def _tail_lines(cores: list[_Core], limit: int) -> bytes:
    """The last whole lines of these pieces together within ``limit`` bytes."""
    parts: list[bytes] = []
    left = limit
    for core in reversed(cores):
        if left <= 0:
            break
        with open(core.path, "rb") as handle:
            handle.seek(max(0, core.bytes - left))
            parts.append(handle.read())
        left -= core.bytes
    data = b"".join(reversed(parts))
    if left < 0:
        data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
    return data


def _head_lines(cores: list[_Core], limit: int) -> bytes:
    """The first whole lines of these pieces together within ``limit`` bytes."""
    parts: list[bytes] = []
    left = limit
    for core in cores:
        if left <= 0:
            break
        with open(core.path, "rb") as handle:
            parts.append(handle.read(left))
        left -= core.bytes
    data = b"".join(parts)
    if left < 0:
        data = data[: data.rfind(b"\n") + 1]
    elif data and not data.endswith(b"\n"):
        data += b"\n"  # the file's last line, without its newline
    return data


def _merged(total: InputSummary, got: InputSummary) -> InputSummary:
    """One file's summary from its pieces'."""
    firsts = [t for t in (total.first_ts, got.first_ts) if t]
    lasts = [t for t in (total.last_ts, got.last_ts) if t]
    return dataclasses.replace(
        total,
        lines=total.lines + got.lines,
        records=total.records + got.records,
        rejected=total.rejected + got.rejected,
        skipped=total.skipped + got.skipped,
        first_ts=min(firsts) if firsts else None,
        last_ts=max(lasts) if lasts else None,
        longest=_longest(total.longest, got.longest),
    )


def _longest(a: LongestLines | None, b: LongestLines | None) -> LongestLines | None:
    """The longest lines of two pieces together, from their per-length counts near the top."""
    if a is None or b is None:
        return a or b
    return from_near(a.near + b.near)
