"""Property tests over every registered format: no input makes a reader raise or lose lines.

Each example is a file of lines, each line one of: arbitrary text, arbitrary bytes, or a real
line from the format's case files with a random splice (huge numbers, quotes, backslashes,
braces…), so that the parse reaches its conversions and not only its "does not match" path.
The format is forced, so every reader parses every example.

Readers that give one row per line must account for every line: records + rejected + skipped
= lines. Multi-line readers (setup statements or secondary tables) may consume lines into no
record (a server's start-up banner, a PostgreSQL parse/bind step) and a ParsePlan has no way
to count those as skipped yet, so for them only rejected + skipped <= lines is checked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage import api
from logtriage.config import Settings
from logtriage.errors import InputError
from logtriage.sources import BUILTIN_FORMATS
from logtriage.sources.base import FormatOptions

CASES = Path(__file__).parent / "cases" / "sources"
FORMAT_NAMES = [fmt.name for fmt in BUILTIN_FORMATS]

# Characters that matter to log parsers, and numbers too large for any engine type.
_NASTY = st.sampled_from(
    ['"', "\\", "\\x", "{", "}", "[", "]", "-", ".", ",", ":", " ", "\t", "\x00", "é", "9" * 30]
)
_SPLICE = st.lists(st.one_of(_NASTY, st.text(max_size=6)), max_size=4).map("".join)


def _case_lines(name: str) -> list[str]:
    """Non-blank lines of the format's case files (UTF-8 lines only)."""
    lines: list[str] = []
    for path in sorted((CASES / name).glob("*")):
        if path.suffix in (".log", ".json", ".csv") and path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            lines.extend(ln for ln in text.splitlines() if ln.strip())
    return lines


@st.composite
def _spliced(draw: st.DrawFn, lines: list[str]) -> bytes:
    line = draw(st.sampled_from(lines))
    start = draw(st.integers(0, len(line)))
    end = draw(st.integers(start, min(len(line), start + 12)))
    return (line[:start] + draw(_SPLICE) + line[end:]).encode()


def _line(name: str) -> st.SearchStrategy[bytes]:
    text = st.text(max_size=80).map(lambda s: s.encode("utf-8", errors="surrogatepass"))
    choices = [text, st.binary(max_size=60)]
    real = _case_lines(name)
    if real:
        choices.append(_spliced(real))
    # Lines never contain the separator we join them with.
    return st.one_of(choices).map(lambda b: b.replace(b"\n", b" "))


def _file(name: str) -> st.SearchStrategy[bytes]:
    return st.lists(_line(name), max_size=8).map(b"\n".join)


def _is_one_row_per_line(name: str) -> bool:
    """Readers without setup statements, secondary tables or joined lines: a row per line."""
    fmt = api.format_named(name)
    plan = fmt.plan([], FormatOptions({}), "")
    return not plan.setup and not plan.also and not plan.joins_lines


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_any_input_is_read_without_error_and_every_line_is_accounted(name: str) -> None:
    one_row_per_line = _is_one_row_per_line(name)
    has_beside = bool(api.format_named(name).plan([], FormatOptions({}), "").also)

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=_file(name))
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "input.log"
            path.write_bytes(data)
            try:
                summary, rows, rejects = api.records(str(path), Settings(format=name))
            except InputError:
                # Only a corrupt compressed file may stop the read (with one clear line).
                assert data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd"))
                return
        assert summary.format == name
        # A reader that fills a second table beside requests counts those records too.
        assert len(rows) == summary.records or summary.table != "requests" or has_beside
        assert len(rows) <= summary.records or summary.table != "requests"
        handled = summary.rejected + summary.skipped
        assert 0 <= handled <= summary.lines
        if one_row_per_line:
            assert summary.records + handled == summary.lines
        assert all(r["reason"] for r in rejects)

    check()
