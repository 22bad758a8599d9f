"""Lines that are not valid UTF-8, read again: valid UTF-8 kept, the other bytes as cp1252.

The engine's line reader refuses such a line and keeps a copy with ``?`` for the bad bytes —
and for up to two bytes after each (it takes a Latin-1 ``é`` for the lead of a three-byte
sequence), so ``café au lait`` came back as ``caf??au lait``. Legacy Java and Windows services
write Latin-1/cp1252, and scanners send raw bytes that nginx's ``escape=json`` passes through:
those lines are read here from their bytes instead, decoding every byte that is not part of a
valid UTF-8 sequence as Windows-1252 (what browsers and most log viewers do). Only the refused
lines are decoded in Python; the file is skipped through in large blocks between them.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from typing import BinaryIO

_CHUNK = 1 << 24
_ERRORS = "logtriage.cp1252"


# The five bytes cp1252 leaves undefined are read as Latin-1 (C1 controls, escaped on output).
_CP1252 = "".join(
    chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252")
    for b in range(256)
)


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(_CP1252[b] for b in error.object[error.start : error.end]), error.end


codecs.register_error(_ERRORS, _as_cp1252)


def decode_line(raw: bytes) -> str:
    """One line's bytes as text: UTF-8 where it is valid, cp1252 for the other bytes."""
    return raw.decode("utf-8", errors=_ERRORS)


def lines_at(
    stream: BinaryIO, wanted: Iterable[int], chunk: int = _CHUNK
) -> Iterator[tuple[int, str]]:
    r"""The decoded text of each wanted line (1-based, ascending), reading ``stream`` once.

    Lines end at ``\n``; a ``\r`` before it is not part of the line (the engine reads CRLF so).
    """
    targets = iter(wanted)
    target = next(targets, None)
    line = 1  # the number of the line that starts at data[0]
    pending = b""
    while target is not None:
        block = stream.read(chunk)
        data = pending + block
        # Complete lines only, until the end of the stream ends the last one too.
        end = data.rfind(b"\n") + 1 if block else len(data)
        count = data.count(b"\n", 0, end) + (not block and not data.endswith(b"\n") and end > 0)
        if target >= line + count:
            # No wanted line here: skipped with one count, not line by line.
            line += count
        else:
            pos = 0
            while target is not None and pos < end:
                stop = data.find(b"\n", pos, end)
                stop = end if stop < 0 else stop
                if line == target:
                    raw = data[pos:stop]
                    yield line, decode_line(raw[:-1] if raw.endswith(b"\r") else raw)
                    target = next(targets, None)
                pos, line = stop + 1, line + 1
            line += data.count(b"\n", pos, end)
        pending = data[end:]
        if not block:
            return
