"""The watch follower: only complete new lines, across appends, rename rotation and copytruncate."""

from __future__ import annotations

import os
from pathlib import Path

from logtriage.sources.follow import Chunk, FileFollower


def _read(chunks: list[Chunk]) -> list[tuple[bytes, int, str]]:
    return [(Path(c.read_path).read_bytes(), c.first_line, c.event) for c in chunks]


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


def test_appended_lines_arrive_once_and_a_partial_line_waits(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"one\ntwo\n")
    follower = FileFollower(str(log), str(tmp_path), from_start=True)
    assert _read(follower.poll()) == [(b"one\ntwo\n", 1, "")]
    assert follower.poll() == []
    _append(log, b"three\nfou")
    assert _read(follower.poll()) == [(b"three\n", 3, "")]
    assert follower.poll() == []
    _append(log, b"r\n")
    assert _read(follower.poll()) == [(b"four\n", 4, "")]
    follower.close()


def test_starting_at_the_end_reads_only_what_is_written_later(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"old 1\nold 2\nhalf")
    follower = FileFollower(str(log), str(tmp_path))
    assert follower.poll() == []
    _append(log, b" line\nnew\n")
    # The half-written line was not read at start: it is line 3 once complete.
    assert _read(follower.poll()) == [(b"half line\nnew\n", 3, "")]
    follower.close()


def test_rename_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"a\n")
    follower = FileFollower(str(log), str(tmp_path), from_start=True)
    assert _read(follower.poll()) == [(b"a\n", 1, "")]
    _append(log, b"b\nlast without end")
    os.rename(log, tmp_path / "access.log.1")
    log.write_bytes(b"c\n")
    assert _read(follower.poll()) == [
        (b"b\nlast without end\n", 2, ""),
        (b"c\n", 1, "rotated"),
    ]
    _append(log, b"d\n")
    assert _read(follower.poll()) == [(b"d\n", 2, "")]
    follower.close()


def test_a_renamed_file_not_yet_replaced_keeps_being_read(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"a\n")
    follower = FileFollower(str(log), str(tmp_path), from_start=True)
    follower.poll()
    rotated = tmp_path / "access.log.1"
    os.rename(log, rotated)
    _append(rotated, b"b\n")  # the server writes on until it reopens its log
    assert _read(follower.poll()) == [(b"b\n", 2, "")]
    log.write_bytes(b"c\n")
    assert _read(follower.poll()) == [(b"c\n", 1, "rotated")]
    follower.close()


def test_copytruncate_restarts_at_the_first_line(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"first line of the old content\nsecond\n")
    follower = FileFollower(str(log), str(tmp_path), from_start=True)
    follower.poll()
    with open(log, "r+b") as handle:
        handle.truncate(0)
    _append(log, b"x\n")
    assert _read(follower.poll()) == [(b"x\n", 1, "truncated")]
    # Truncated and grown past the old offset before the next poll: the head tells.
    with open(log, "r+b") as handle:
        handle.truncate(0)
    _append(log, b"a different first line, longer than before\nand more\n")
    assert _read(follower.poll()) == [
        (b"a different first line, longer than before\nand more\n", 1, "truncated")
    ]
    follower.close()


def test_a_file_that_appears_later_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "late.log"
    follower = FileFollower(str(log), str(tmp_path))
    assert follower.poll() == []
    log.write_bytes(b"hello\n")
    assert _read(follower.poll()) == [(b"hello\n", 1, "appeared")]
    follower.close()


def test_a_utf16_file_is_followed_from_its_end_and_copied_as_utf8(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"\xff\xfe" + "old \u0a0a\r\nha".encode("utf-16-le"))
    follower = FileFollower(str(log), str(tmp_path))
    assert follower.poll() == []
    _append(log, "lf\r\nnew\r\n".encode("utf-16-le"))
    assert _read(follower.poll()) == [(b"half\r\nnew\r\n", 2, "")]
    follower.close()
