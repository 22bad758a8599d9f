"""Follow a growing log file (``tail -F``): its new complete lines, across rotations."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import BinaryIO

from logtriage.errors import InputError
from logtriage.sources.cursor import (
    Cursor,
    FileIdentity,
    copy_complete_lines,
    copy_new_lines,
    identify,
    new_bytes,
    utf16_codec,
)


@dataclass(frozen=True)
class Chunk:
    """New lines of a followed file, spooled to ``read_path`` (complete lines only).

    ``first_line`` is the 1-based number of its first line in the file it came from, and
    ``event`` says what happened to the file just before: "", "rotated" (renamed away and a
    new file took its name), "truncated" (copytruncate) or "appeared".
    """

    path: str
    read_path: str
    first_line: int
    lines: int
    event: str = ""


class FileFollower:
    """Reads what is appended to ``path``, using the identity and offsets of sources/cursor.py.

    A copytruncate rotation is noticed by the cursor (the file no longer starts with the bytes
    read): reading restarts at 0. A rename rotation (``mv x.log x.log.1``, a new ``x.log``)
    is noticed by the inode changing: the rest of the old file, read through the handle kept
    open on it, comes first. A partial last line stays unread until its line end arrives.
    """

    def __init__(self, path: str, spool_dir: str, *, from_start: bool = False) -> None:
        self.path = path
        self._spool = os.path.join(spool_dir, f"follow-{id(self)}.log")
        self._handle: BinaryIO | None = None
        self._cursor: Cursor | None = None
        self._codec: str | None = None  # the open file's UTF-16 byte order, if it is UTF-16
        identity = self._identify()
        if identity is not None:
            self._open(identity)
            if not from_start:
                self._cursor = _cursor_at_end(identity)

    def close(self) -> None:
        """Release the handle on the followed file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _identify(self) -> FileIdentity | None:
        try:
            return identify(self.path)
        except InputError:
            if os.path.exists(self.path):
                raise
            return None  # rotated away and not created again yet: wait for it

    def _open(self, identity: FileIdentity) -> None:
        self.close()
        try:
            self._handle = open(self.path, "rb")  # noqa: SIM115 - held across polls
        except FileNotFoundError:
            return
        stat = os.fstat(self._handle.fileno())
        self._inode = (stat.st_dev, stat.st_ino)
        self._codec = utf16_codec(identity.head)
        if self._inode != (identity.device, identity.inode):
            self.close()  # replaced between the stat and the open: next poll sees the new one

    def poll(self) -> list[Chunk]:
        """What was appended since the last poll, spooled (one chunk per file read)."""
        chunks: list[Chunk] = []
        identity = self._identify()
        if self._handle is not None and (
            identity is None or (identity.device, identity.inode) != self._inode
        ):
            # Renamed away: finish the old file (its last line too: nobody writes it now).
            chunks += self._drain(final=identity is not None)
            if identity is None:
                return chunks
            self._cursor = None
            self._open(identity)
            chunks += self._read(identity, event="rotated")
            return chunks
        if identity is None:
            return chunks
        if self._handle is None:
            self._open(identity)
            return self._read(identity, event="appeared")
        return self._read(identity)

    def _read(self, identity: FileIdentity, event: str = "") -> list[Chunk]:
        resume = new_bytes(identity, self._cursor)
        if resume.reason == "unchanged":
            return []
        was_read = self._cursor is not None and self._cursor.offset > 0
        if resume.reason in ("truncated", "replaced") and was_read and not event:
            event = "truncated"
        with open(self._spool, "wb") as target:
            self._cursor = copy_new_lines(identity, resume, target)
        lines = self._cursor.lines - (resume.line - 1)
        if not lines and not event:
            return []
        return [Chunk(self.path, self._spool, resume.line, lines, event)]

    def _drain(self, *, final: bool) -> list[Chunk]:
        """The rest of the old file through the handle still open on it, after a rename."""
        assert self._handle is not None
        offset = self._cursor.offset if self._cursor else 0
        done = self._cursor.lines if self._cursor else 0
        spool = self._spool + ".old"
        self._handle.seek(offset)
        with open(spool, "wb") as target:
            lines, consumed = copy_complete_lines(
                self._handle, target, None, final=final, codec=self._codec
            )
        # Only the offset matters from here: the handle, not the name, reaches this content.
        self._cursor = Cursor("", 0, offset + consumed, done + lines)
        if final:
            self.close()
        return [Chunk(self.path, spool, done + 1, lines)] if lines else []


def _cursor_at_end(identity: FileIdentity) -> Cursor:
    """A cursor after the file's last complete line: only lines written from now are read."""
    with open(identity.path, "rb") as handle, open(os.devnull, "wb") as nowhere:
        lines, end = copy_complete_lines(
            handle, nowhere, identity.size, final=False, codec=utf16_codec(identity.head)
        )
    head = identity.head[: min(len(identity.head), end)]
    return Cursor(
        head_hash=hashlib.sha256(head).hexdigest(),
        head_len=len(head),
        offset=end,
        lines=lines,
        device=identity.device,
        inode=identity.inode,
        size=identity.size,
        mtime=identity.mtime,
    )
