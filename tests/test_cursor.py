"""File identity and offsets: only complete new lines are read, across growth, rotation, gzip."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import zstandard

from logtriage.sources.cursor import (
    HEAD_BYTES,
    copy_new_lines,
    identify,
    is_same_content,
    new_bytes,
)


def _read(path: Path, previous=None):  # type: ignore[no-untyped-def]
    identity = identify(str(path))
    resume = new_bytes(identity, previous)
    out = io.BytesIO()
    cursor = copy_new_lines(identity, resume, out)
    return resume, cursor, out.getvalue()


def test_new_file_reads_complete_lines_and_leaves_the_unterminated_one(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\nthr")
    resume, cursor, data = _read(log)
    assert (resume.reason, resume.offset, resume.line) == ("new", 0, 1)
    assert data == b"one\ntwo\n"
    assert (cursor.offset, cursor.lines) == (8, 2)


def test_appended_lines_resume_at_the_stored_offset(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\nthr")
    _, first, _ = _read(log)
    with log.open("ab") as handle:
        handle.write(b"ee\nfour\n")
    resume, second, data = _read(log, first)
    assert (resume.reason, resume.offset, resume.line) == ("appended", 8, 3)
    assert data == b"three\nfour\n"
    assert (second.offset, second.lines) == (19, 4)
    again, third, nothing = _read(log, second)
    assert again.reason == "unchanged" and nothing == b"" and third.lines == 4


def test_truncated_and_replaced_files_restart_from_zero(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"alpha\nbeta\n")
    _, first, _ = _read(log)
    log.write_bytes(b"al\n")
    assert new_bytes(str(log), first).reason == "truncated"
    log.write_bytes(b"something else entirely\n")
    assert new_bytes(str(log), first).reason == "replaced"


def test_identity_follows_content_into_a_rotated_gzip_file(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\n")
    _, first, _ = _read(log)
    rotated = tmp_path / "a.log.1.gz"
    rotated.write_bytes(gzip.compress(b"one\ntwo\nthree\nlast-without-newline"))
    os.remove(log)
    identity = identify(str(rotated))
    assert identity.compression == "gzip" and is_same_content(identity, first)
    resume, cursor, data = _read(rotated, first)
    assert resume.reason == "appended" and resume.line == 3
    # A compressed file is final: its last line counts without a newline.
    assert data == b"three\nlast-without-newline\n"
    assert cursor.lines == 4 and cursor.is_complete
    assert new_bytes(str(rotated), cursor).reason == "unchanged"


def test_zstd_content_is_hashed_decompressed(tmp_path: Path) -> None:
    plain = b"x" * (HEAD_BYTES + 10) + b"\n"
    (tmp_path / "a.log").write_bytes(plain)
    (tmp_path / "a.log.zst").write_bytes(zstandard.ZstdCompressor().compress(plain))
    a, b = identify(str(tmp_path / "a.log")), identify(str(tmp_path / "a.log.zst"))
    assert b.compression == "zstd"
    assert a.head_hash() == b.head_hash() and len(a.head) == HEAD_BYTES


def test_a_small_file_that_grows_keeps_its_identity(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"short\n")
    _, first, _ = _read(log)
    with log.open("ab") as handle:
        handle.write(b"y" * HEAD_BYTES + b"\n")
    resume, second, _ = _read(log, first)
    assert resume.reason == "appended"
    assert second.head_len == HEAD_BYTES


def test_utf16_lines_end_at_a_newline_code_unit_and_are_copied_as_utf8(tmp_path: Path) -> None:
    # U+0A0A has two 0x0A bytes: a byte search would cut the line inside that character.
    log = tmp_path / "a.log"
    log.write_bytes(b"\xff\xfe" + "one \u0a0a\r\ntwo\r\nthr".encode("utf-16-le"))
    resume, cursor, data = _read(log)
    assert data == "one \u0a0a\r\ntwo\r\n".encode()
    assert (cursor.offset, cursor.lines) == (2 + 2 * len("one \u0a0a\r\ntwo\r\n"), 2)
    with open(log, "ab") as out:
        out.write("ee\r\n".encode("utf-16-le"))
    resume, cursor, data = _read(log, cursor)
    assert (resume.reason, resume.line, data) == ("appended", 3, b"three\r\n")
    assert cursor.lines == 3


def test_big_endian_utf16_is_read_too(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"\xfe\xff" + "\u0a0a one\ntwo\n".encode("utf-16-be"))
    _, cursor, data = _read(log)
    assert (data, cursor.lines) == ("\u0a0a one\ntwo\n".encode(), 2)
