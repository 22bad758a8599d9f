"""Inputs: plain, gzip and zstd files, directories, globs, rotated sets, line numbers."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import duckdb
import pytest

from logtriage import api
from logtriage.errors import InputError
from logtriage.sources.reading import expand_inputs, rotation_key
from tests.conftest import NGINX_CASE


def test_gzip_and_zstd_read_like_plain(tmp_path: Path) -> None:
    plain = NGINX_CASE.read_bytes()
    gz = tmp_path / "access.log.gz"
    gz.write_bytes(gzip.compress(plain))
    zst = tmp_path / "access.log.zst"
    con = duckdb.connect()
    # DuckDB writes zstd itself; no extra dependency needed to make the fixture.
    con.execute(
        f"COPY (SELECT * FROM read_csv('{NGINX_CASE}', delim='\x01', quote='', escape='', "
        "header=false, auto_detect=false, columns={'text': 'VARCHAR'})) "
        f"TO '{zst}' (FORMAT csv, HEADER false, QUOTE '', DELIMITER '\x01', COMPRESSION zstd)"
    )
    expected = api.records(str(NGINX_CASE))[1]
    for path in (gz, zst):
        _, rows, rejects = api.records(str(path))
        assert [r["line"] for r in rejects] == [3]
        assert [(r["line"], r["route"]) for r in rows] == [
            (r["line"], r["route"]) for r in expected
        ]


def test_compression_is_detected_by_content_not_name(tmp_path: Path) -> None:
    hidden = tmp_path / "access.log"
    hidden.write_bytes(gzip.compress(NGINX_CASE.read_bytes()))
    assert expand_inputs([str(hidden)], str(tmp_path))[0].compression == "gzip"
    assert api.records(str(hidden))[0].records == 4


def test_rotated_set_is_read_oldest_first(tmp_path: Path) -> None:
    for name in ("access.log", "access.log.1", "access.log.2.gz", "access.log.10.gz"):
        (tmp_path / name).write_text("x\n")
    files = [Path(f.path).name for f in expand_inputs([str(tmp_path / "access.log*")], "/tmp")]
    assert files == ["access.log.10.gz", "access.log.2.gz", "access.log.1", "access.log"]
    assert rotation_key("/x/access.log.3.gz") < rotation_key("/x/access.log.1")


def test_directory_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    (tmp_path / ".hidden.log").write_text("x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.log").write_text("x\n")
    names = sorted(Path(f.path).name for f in expand_inputs([str(tmp_path)], "/tmp"))
    assert names == ["a.log", "b.log"]


def test_directory_skips_bytecode_and_build_output_beside_an_app(tmp_path: Path) -> None:
    # An app's logs next to its source (examples/shop): compiled Python is not a log.
    (tmp_path / "access.log").write_text("x\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    for folder in ("__pycache__", "node_modules"):
        (tmp_path / folder).mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\xa7\r\r\n" + b"\x00" * 12)
    (tmp_path / "node_modules" / "debug.log").write_text("npm\n")
    names = sorted(Path(f.path).name for f in expand_inputs([str(tmp_path)], "/tmp"))
    assert names == ["access.log"]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    files = expand_inputs([str(NGINX_CASE), str(NGINX_CASE)], str(tmp_path))
    assert len(files) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file: permission cannot be denied")
def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.log"
    path.write_text("x\n")
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        expand_inputs([str(path)], str(tmp_path))


def test_invalid_utf8_line_is_read_from_its_bytes_and_numbering_stays_true(tmp_path: Path) -> None:
    lines = NGINX_CASE.read_bytes().split(b"\n")
    lines.insert(1, b"\xff\xfe not utf-8 \xc3\x28")
    path = tmp_path / "mixed.log"
    path.write_bytes(b"\n".join(lines))
    summary, rows, rejects = api.records(str(path))
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (2, "does not match the log format"),
        (4, "does not match the log format"),
    ]
    # Bytes that are not UTF-8 read as cp1252; the valid UTF-8 after them is kept whole.
    assert rejects[0]["text"] == "\u00ff\u00fe not utf-8 \u00c3("
    assert [r["line"] for r in rows] == [1, 3, 5, 7]
    assert summary.rejected == 2


def test_a_request_with_bytes_that_are_not_utf8_is_kept(tmp_path: Path) -> None:
    # Scanners send raw bytes; nginx's escape=json (and app logs) write them as they came.
    lines = NGINX_CASE.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'"curl/8.5.0"', b'"curl/8.5.0 \xff\xfe"')
    path = tmp_path / "bytes.log"
    path.write_bytes(b"\n".join(lines))
    summary, rows, _ = api.records(str(path))
    assert (rows[0]["line"], rows[0]["user_agent"]) == (1, "curl/8.5.0 \u00ff\u00fe")
    assert summary.records == len(api.records(str(NGINX_CASE))[1])


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes(NGINX_CASE.read_bytes().replace(b"\n", b"\r\n"))
    summary, rows, _ = api.records(str(path))
    assert summary.records == 4
    assert rows[0]["user_agent"] == "curl/8.5.0"


def test_directory_skips_archives_images_and_programs(tmp_path: Path) -> None:
    # What sits beside logs in /var/log or a support bundle: no reader can open these.
    (tmp_path / "access.log").write_bytes(NGINX_CASE.read_bytes())
    (tmp_path / "eipp.log.xz").write_bytes(b"\xfd7zXZ\x00\x00\x04" + bytes(range(256)))
    (tmp_path / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    tar = bytearray(1024)
    tar[:8] = b"app.log\x00"
    tar[257:263] = b"ustar\x00"
    (tmp_path / "bundle.tar").write_bytes(bytes(tar))
    (tmp_path / "copytruncated.log").write_bytes(b"\x00" * 600 + NGINX_CASE.read_bytes())
    files = expand_inputs([str(tmp_path)], str(tmp_path))
    assert sorted(Path(f.path).name for f in files) == ["access.log", "copytruncated.log"]


def test_a_pipe_is_read_whole(tmp_path: Path) -> None:
    # `logtriage analyze <(zcat access.log.gz)`: the shell hands over a pipe, readable once.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = gzip.compress(NGINX_CASE.read_bytes())

    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    summary, rows, _ = api.records(str(fifo))
    writer.join(timeout=10)
    assert summary.path == str(fifo)
    assert len(rows) == len(api.records(str(NGINX_CASE))[1]) > 0


def test_utf16_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    # PowerShell's `Get-Content access.log > copy.log` writes UTF-16 LE, a BOM and CRLF.
    path = tmp_path / "copy.log"
    text = NGINX_CASE.read_text().replace("\n", "\r\n")
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    summary, rows, rejects = api.records(str(path))
    expected = api.records(str(NGINX_CASE))
    assert (summary.format, len(rows), len(rejects)) == (
        "nginx",
        len(expected[1]),
        len(expected[2]),
    )
    assert rows[0]["user_agent"] == expected[1][0]["user_agent"]
