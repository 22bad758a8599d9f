r"""Carriage returns that would shift line numbers: found in bulk, and rewritten in a spooled copy.

The engine's line reader ends a line at ``\n``, ``\r\n`` *and* a lone ``\r``, and in a file
that mixes ``\n`` and ``\r\n`` endings it reads one ``\r\n`` as two breaks. Both happen in
real logs: a PostgreSQL statement sent by a Windows client carries ``\r\n`` inside a
``\n``-terminated log; a progress bar or an attacker's header puts a lone ``\r`` in a line.
Every later line number (the evidence a finding cites) would then be wrong, so such a file is
read through a copy where a line ends at ``\n`` only: a ``\r`` before ``\n`` is dropped and a
lone ``\r`` becomes a space (whitespace in SQL and text alike). Files with ``\n`` endings only
or ``\r\n`` endings only (the common cases) are read as they are, after one ``memchr`` scan.
"""

from __future__ import annotations

import mmap
import os
from typing import BinaryIO

_CHUNK = 1 << 24
# A multiple of every platform's mmap allocation granularity (4 KiB pages, 64 KiB on Windows).
_WINDOW = 1 << 26


def has_stray_carriage_returns(path: str) -> bool:
    r"""True if ``path`` (uncompressed) has a ``\r`` that is not part of uniform CRLF endings."""
    if not _has_carriage_return(path):
        return False
    with open(path, "rb") as handle:
        return stream_has_stray_carriage_returns(handle)


def _has_carriage_return(path: str) -> bool:
    r"""One ``memchr`` pass over ``path`` for a ``\r``, mapped a window at a time.

    A whole-file map would make every page of the file part of this process's resident set
    while it is scanned: a 5 GB log read as a 5 GB peak RSS, over the 1 GiB budget.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        for offset in range(0, size, _WINDOW):
            length = min(_WINDOW, size - offset)
            with mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ, offset=offset) as view:
                if view.find(b"\r") >= 0:
                    return True
    return False


def stream_has_stray_carriage_returns(stream: BinaryIO) -> bool:
    r"""True if ``stream`` has a ``\r`` that is not part of uniform CRLF endings."""
    returns = crlf = newlines = 0
    previous = b""
    while chunk := stream.read(_CHUNK):
        returns += chunk.count(b"\r")
        newlines += chunk.count(b"\n")
        crlf += chunk.count(b"\r\n") + (previous == b"\r" and chunk[:1] == b"\n")
        previous = chunk[-1:]
    # Some \r: fine only if every line ends with \r\n and no \r stands elsewhere, or if no
    # line ends with \n at all: then a bare \r is the file's line ending (classic Mac OS, some
    # serial consoles), and the engine breaks lines at it as it should.
    return returns > 0 and newlines > 0 and not (returns == crlf == newlines)


def copy_with_newline_endings(source: BinaryIO, target: BinaryIO, chunk: int = _CHUNK) -> None:
    r"""Copy ``source`` with lines ending at ``\n`` only (bounded memory, bulk byte replaces)."""
    carry = b""
    while data := source.read(chunk):
        target.write(unify_line_breaks(carry + data, final=False))
        # A \r at a chunk's end may be the first half of \r\n: decide with the next chunk.
        carry = b"\r" if data.endswith(b"\r") else b""
    target.write(unify_line_breaks(carry, final=True))


def unify_line_breaks(data: bytes, *, final: bool) -> bytes:
    r"""``data`` with ``\r\n`` as ``\n`` and a lone ``\r`` as a space (a trailing one kept out).

    Unless ``final``, a ``\r`` at the very end is left off (the caller carries it over).
    """
    if not final and data.endswith(b"\r"):
        data = data[:-1]
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b" ")
