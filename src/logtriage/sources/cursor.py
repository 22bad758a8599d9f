"""File identity and read offsets: which bytes of a growing, rotated or compressed log are new.

A file's identity is a hash of its first (decompressed) bytes, so it follows the content across
a rename (``access.log`` → ``access.log.1``) and a compression (→ ``access.log.1.gz``). A cursor
says how far that content was read: bytes and lines up to the end of the last complete line.
``incremental runs`` (engine/history.py) and ``watch`` build on this small API:

- ``identify(path) -> FileIdentity``: device, inode, size, mtime, compression, head hash;
- ``is_same_content(identity, cursor)``: does this file start with the bytes the cursor read;
- ``new_bytes(path, previous) -> Resume``: where to start reading and why;
- ``copy_new_lines(path, resume, target) -> Cursor``: copy the complete new lines to
  ``target`` (bounded memory) and return the cursor after them.
"""

from __future__ import annotations

import array
import gzip
import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

import zstandard

from logtriage.errors import InputError

# The identity covers at most this many leading (decompressed) bytes of a file.
HEAD_BYTES = 4096
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class FileIdentity:
    """What a file is now: where it lives on disk, and a hash of its first bytes."""

    path: str
    device: int
    inode: int
    size: int  # bytes on disk (compressed size for .gz/.zst)
    mtime: float
    compression: str  # "none", "gzip" or "zstd"
    head: bytes  # the first HEAD_BYTES decompressed bytes (fewer for a small file)

    def head_hash(self, length: int | None = None) -> str:
        """SHA-256 of the first ``length`` bytes of the head (all of it by default)."""
        return _hash(self.head if length is None else self.head[:length])


@dataclass(frozen=True)
class Cursor:
    """How far one file's content was read (decompressed offsets; lines counted from 1)."""

    head_hash: str
    head_len: int  # how many leading bytes ``head_hash`` covers
    offset: int  # bytes consumed: the end of the last complete line read
    lines: int  # lines consumed
    compression: str = "none"
    device: int = 0
    inode: int = 0
    size: int = 0
    mtime: float = 0.0
    # A compressed file is final: once read to its end there is nothing more to read.
    is_complete: bool = False


@dataclass(frozen=True)
class Resume:
    """Where to read ``path`` from: byte ``offset`` of its content, whose line is ``line``."""

    offset: int
    line: int  # number of the first line to read (lines consumed + 1)
    reason: str  # "new", "appended", "unchanged", "truncated", "replaced"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compression_of(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` from a file's first bytes."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def open_content(path: str, compression: str) -> BinaryIO:
    """The file's decompressed content as a binary stream."""
    if compression == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if compression == "zstd":
        raw = open(path, "rb")  # noqa: SIM115 - the reader closes it (closefd)
        return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
    return open(path, "rb")


def identify(path: str) -> FileIdentity:
    """Stat ``path`` and hash its first decompressed bytes."""
    try:
        stat = os.stat(path)
        with open(path, "rb") as raw:
            magic = raw.read(4)
        compression = compression_of(magic)
        with open_content(path, compression) as content:
            head = _read_upto(content, HEAD_BYTES)
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read {path}: {reason}") from exc
    return FileIdentity(
        path=path,
        device=stat.st_dev,
        inode=stat.st_ino,
        size=stat.st_size,
        mtime=stat.st_mtime,
        compression=compression,
        head=head,
    )


def _read_upto(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    wanted = limit
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        parts.append(chunk)
        wanted -= len(chunk)
    return b"".join(parts)


def is_same_content(identity: FileIdentity, previous: Cursor) -> bool:
    """True when the file starts with the bytes the cursor hashed (and is not shorter)."""
    if previous.head_len == 0 or len(identity.head) < previous.head_len:
        return False
    if identity.compression == "none" and identity.size < previous.offset:
        return False
    return identity.head_hash(previous.head_len) == previous.head_hash


def new_bytes(path: str | FileIdentity, previous: Cursor | None) -> Resume:
    """Where to resume reading ``path`` given the cursor of its last read (None: never read)."""
    identity = path if isinstance(path, FileIdentity) else identify(path)
    if previous is None:
        return Resume(0, 1, "new")
    if not is_same_content(identity, previous):
        if identity.compression == "none" and identity.size < previous.offset:
            return Resume(0, 1, "truncated")
        return Resume(0, 1, "replaced")
    if is_unchanged(identity, previous):
        return Resume(previous.offset, previous.lines + 1, "unchanged")
    return Resume(previous.offset, previous.lines + 1, "appended")


def is_unchanged(identity: FileIdentity, previous: Cursor) -> bool:
    """Nothing new to read: a plain file no longer than the cursor, or a fully read archive."""
    if identity.compression == "none":
        return identity.size <= previous.offset
    return previous.is_complete and (
        identity.compression == previous.compression
        and (identity.device, identity.inode, identity.size, identity.mtime)
        == (previous.device, previous.inode, previous.size, previous.mtime)
    )


def copy_new_lines(identity: FileIdentity, resume: Resume, target: BinaryIO) -> Cursor:
    """Copy the complete lines after ``resume.offset`` to ``target``; return the new cursor.

    A plain file's unterminated last line is left for the next read (its writer may still be
    writing it); a compressed file is final, so its last line counts even without a newline.
    Only the bytes that were there when ``identity`` was taken are read: a writer appending
    meanwhile is picked up next time.
    """
    is_final = identity.compression != "none"
    offset, lines = resume.offset, resume.line - 1
    codec = utf16_codec(identity.head)
    try:
        with open_content(identity.path, identity.compression) as content:
            _skip(content, resume.offset)
            limit = None if is_final else max(0, identity.size - resume.offset)
            copied, consumed = copy_complete_lines(
                content, target, limit, final=is_final, codec=codec
            )
            lines += copied
            offset += consumed
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read {identity.path}: {reason}") from exc
    head = identity.head[: min(len(identity.head), offset)] if not is_final else identity.head
    return Cursor(
        head_hash=_hash(head),
        head_len=len(head),
        offset=offset,
        lines=lines,
        compression=identity.compression,
        device=identity.device,
        inode=identity.inode,
        size=identity.size,
        mtime=identity.mtime,
        is_complete=is_final,
    )


def advanced(previous: Cursor, identity: FileIdentity) -> Cursor:
    """The cursor of an unchanged file, with its current place on disk."""
    return replace(
        previous,
        compression=identity.compression,
        device=identity.device,
        inode=identity.inode,
        size=identity.size,
        mtime=identity.mtime,
    )


def _skip(stream: BinaryIO, count: int) -> None:
    """Read past ``count`` bytes (a compressed stream cannot seek: it decompresses them)."""
    remaining = count
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)


def copy_complete_lines(
    source: BinaryIO,
    target: BinaryIO,
    limit: int | None,
    *,
    final: bool,
    codec: str | None = None,
) -> tuple[int, int]:
    """Copy whole lines (at most ``limit`` bytes) from ``source``; return (lines, bytes consumed).

    An unterminated last line is left unread unless ``final`` (then it gets its newline).
    With ``codec`` (``utf-16-le``/``-be``, see :func:`utf16_codec`) lines end at a newline code
    unit and are written as UTF-8; counts and offsets stay those of ``source``.
    """
    lines = consumed = 0
    pending = b""
    for chunk in _chunks(source, limit):
        data = pending + chunk
        count, cut = _line_breaks(data, codec)
        if cut:
            target.write(_as_utf8(data[:cut], codec, first=not consumed))
            lines += count
            consumed += cut
        pending = data[cut:]
    if pending and final:
        target.write(_as_utf8(pending, codec, first=not consumed) + b"\n")
        lines += 1
        consumed += len(pending)
    return lines, consumed


def utf16_codec(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` for content starting with that byte-order mark, else None."""
    return {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}.get(head[:2])


def _line_breaks(data: bytes, codec: str | None) -> tuple[int, int]:
    """How many lines ``data`` completes, and the offset just after its last line break."""
    if codec is None:
        cut = data.rfind(b"\n") + 1
        return data.count(b"\n", 0, cut), cut
    # Newlines are the code unit 0x000A at an even offset: a 0x0A byte alone may be half of
    # another character. Counted in bulk over the code units, not per byte in Python.
    units = array.array("H", data[: len(data) // 2 * 2])
    if (codec == "utf-16-be") != (sys.byteorder == "big"):
        units.byteswap()
    count = units.count(0x0A)
    if not count:
        return 0, 0
    return count, 2 * (len(units) - units[::-1].index(0x0A))


def _as_utf8(data: bytes, codec: str | None, *, first: bool) -> bytes:
    if codec is None:
        return data
    text = data.decode(codec, errors="replace")
    # The byte-order mark opens the file's first read only; it is not part of the first line.
    return (text[1:] if first and text.startswith("\ufeff") else text).encode()


def _chunks(stream: BinaryIO, limit: int | None) -> Iterator[bytes]:
    remaining = limit
    while remaining is None or remaining > 0:
        size = _CHUNK if remaining is None else min(_CHUNK, remaining)
        chunk = stream.read(size)
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
