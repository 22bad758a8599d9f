"""Carriage returns inside a log do not shift line numbers or split lines."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logtriage import api
from logtriage.sources import line_breaks
from logtriage.sources.byte_decoding import decode_line, lines_at
from logtriage.sources.line_breaks import (
    copy_with_newline_endings,
    has_stray_carriage_returns,
    unify_line_breaks,
)
from tests.conftest import NGINX_CASE

PG_CASE = Path(__file__).parent / "cases/sources/postgresql/debian_min_duration.log"


def _query_lines(path: Path) -> list[tuple[object, object]]:
    _, rows, _ = api.records(str(path))
    return [(r["line"], r["duration_ms"]) for r in rows if "duration_ms" in r]


def test_a_statement_sent_with_crlf_keeps_every_later_line_number(tmp_path: Path) -> None:
    # A Windows client's statement carries \r\n; PostgreSQL writes it into a \n-terminated log.
    lines = PG_CASE.read_bytes().split(b"\n")
    inner = next(i for i, line in enumerate(lines) if line.endswith(b"SELECT owner,"))
    for i in range(inner, inner + 4):
        lines[i] += b"\r"
    mixed = tmp_path / "postgresql.log"
    mixed.write_bytes(b"\n".join(lines))
    assert has_stray_carriage_returns(str(mixed))
    expected = _query_lines(PG_CASE)
    assert len(expected) > 5
    assert _query_lines(mixed) == expected
    _, rows, _ = api.records(str(mixed))
    assert not any("\r" in str(r.get("sql", "")) for r in rows)


def test_a_compressed_log_with_crlf_inside_a_statement_keeps_its_line_numbers(
    tmp_path: Path,
) -> None:
    lines = PG_CASE.read_bytes().split(b"\n")
    inner = next(i for i, line in enumerate(lines) if line.endswith(b"SELECT owner,"))
    lines[inner] += b"\r"
    packed = tmp_path / "postgresql.log.gz"
    packed.write_bytes(gzip.compress(b"\n".join(lines)))
    assert _query_lines(packed) == _query_lines(PG_CASE)


def test_a_lone_carriage_return_does_not_split_a_request(tmp_path: Path) -> None:
    lines = NGINX_CASE.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'"curl/8.5.0"', b'"curl/8.5.0\rInjected"')
    path = tmp_path / "access.log"
    path.write_bytes(b"\n".join(lines))
    summary, rows, rejects = api.records(str(path))
    plain = api.records(str(NGINX_CASE))
    assert [r["line"] for r in rows] == [r["line"] for r in plain[1]]
    assert [r["line"] for r in rejects] == [r["line"] for r in plain[2]]
    assert rows[0]["user_agent"] == "curl/8.5.0 Injected"
    assert summary.lines == plain[0].lines


@pytest.mark.parametrize("compress", [False, True])
def test_a_log_whose_lines_end_in_a_bare_carriage_return_reads_as_lines(
    tmp_path: Path, compress: bool
) -> None:
    # Classic Mac OS endings: read as one 700 kB line, it made a regex too large to compile.
    content = NGINX_CASE.read_bytes().replace(b"\n", b"\r")
    path = tmp_path / ("cr.log.gz" if compress else "cr.log")
    path.write_bytes(gzip.compress(content) if compress else content)
    summary, rows, _ = api.records(str(path))
    plain_summary, plain, _ = api.records(str(NGINX_CASE))
    assert (summary.lines, summary.records) == (plain_summary.lines, plain_summary.records)
    assert [(r["line"], r["path"]) for r in rows] == [(r["line"], r["path"]) for r in plain]


def test_uniform_endings_are_read_in_place() -> None:
    assert not has_stray_carriage_returns(str(NGINX_CASE))


def test_crlf_only_needs_no_copy(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes(NGINX_CASE.read_bytes().replace(b"\n", b"\r\n"))
    assert not has_stray_carriage_returns(str(path))


@pytest.mark.parametrize("where", [0, 4095, 4096, 3 * 4096 + 17, 4 * 4096 - 1])
def test_a_lone_carriage_return_is_found_in_any_window_of_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: int
) -> None:
    # The scan maps the file a window at a time (a whole-file map counts the whole file as
    # resident memory): a \r anywhere, also on a window's first or last byte, is found.
    monkeypatch.setattr(line_breaks, "_WINDOW", 4096)
    data = bytearray(b"x" * 4095 + b"\n") * 4
    data[where] = ord("\r")
    path = tmp_path / "one-cr.log"
    path.write_bytes(bytes(data))
    assert has_stray_carriage_returns(str(path))
    path.write_bytes(bytes(data).replace(b"\r", b"y"))
    assert not has_stray_carriage_returns(str(path))


def test_an_empty_file_has_no_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    assert not has_stray_carriage_returns(str(path))


@given(
    st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b"xyz"]), max_size=60),
    st.integers(min_value=1, max_value=7),
)
def test_a_chunked_copy_equals_one_rewrite_and_keeps_the_newlines(
    parts: list[bytes], chunk: int
) -> None:
    data = b"".join(parts)
    out = io.BytesIO()
    copy_with_newline_endings(io.BytesIO(data), out, chunk=chunk)
    assert out.getvalue() == unify_line_breaks(data, final=True)
    assert b"\r" not in out.getvalue()
    assert out.getvalue().count(b"\n") == data.count(b"\n")


def test_a_latin1_line_keeps_every_byte_in_plain_and_gzip_files(tmp_path: Path) -> None:
    # A legacy service writing Latin-1: the engine's reader took é for a 3-byte lead and ate
    # the bytes after it ("caf??au lait"); the line is read again from its bytes.
    lines = NGINX_CASE.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'"curl/8.5.0"', b'"caf\xe9 au lait \xe2\x82\xac na\xefve"')
    data = b"\n".join(lines)
    plain = tmp_path / "access.log"
    plain.write_bytes(data)
    packed = tmp_path / "access.log.gz"
    packed.write_bytes(gzip.compress(data))
    expected = [r["line"] for r in api.records(str(NGINX_CASE))[1]]
    for path in (plain, packed):
        _, rows, _ = api.records(str(path))
        assert rows[0]["user_agent"] == "café au lait € naïve"
        assert [r["line"] for r in rows] == expected


@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    st.sets(st.integers(min_value=1, max_value=32)),
    st.integers(min_value=1, max_value=9),
    st.booleans(),
)
def test_lines_at_finds_each_wanted_line_in_any_chunking(
    lines: list[bytes], wanted: set[int], chunk: int, newline_at_end: bool
) -> None:
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    got = list(lines_at(io.BytesIO(data), sorted(wanted), chunk=chunk))
    physical = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        physical = physical[:-1]
    assert got == [
        (n, decode_line(physical[n - 1].removesuffix(b"\r")))
        for n in sorted(wanted)
        if n <= len(physical)
    ]


def test_undecodable_bytes_become_cp1252_and_utf8_stays() -> None:
    assert decode_line(b"\xe2\x82\xac \x80 \x81 caf\xe9") == "€ € \x81 café"


def test_a_byte_order_mark_on_content_that_is_not_utf16_is_read_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "odd.log"
    path.write_bytes(b"\xfe\xff\n")
    summary, rows, rejects = api.records(str(path))
    assert (summary.lines, len(rows), len(rejects)) == (1, 0, 1)
