"""Access logs read by string splits give exactly what the capturing regex gives.

Each comparison reads one file into the engine's ``lines`` table, then runs the reader's
plan twice over it: as loading runs it (split layout, regex for the lines it cannot read)
and with the regex alone. Rows, values, rejection reasons and line numbers must be equal.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.config import Settings
from logtriage.engine import loading
from logtriage.engine.database import Database
from logtriage.sources.access_template import AccessTemplate
from logtriage.sources.apache import FORMAT as APACHE
from logtriage.sources.base import FormatOptions
from logtriage.sources.nginx import FORMAT as NGINX
from logtriage.sources.reading import InputFile

CASES = Path(__file__).parent / "cases" / "sources"
FORMATS = {"nginx": NGINX, "apache": APACHE}

GOOD = (
    '203.0.113.{n} - alice [24/Nov/2026:00:{m:02d}:{s:02d} +0000] "GET /api/v1/items/{n}?page=2 '
    'HTTP/1.1" 200 {n}12 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)" '
    "0.{n:03d} 0.0{s:02d}"
)
# Lines the split layout must not misread: each is read by the regex or rejected by it.
PLANTED = [
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a"b HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a\\x22b HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "u\\"a" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua\\\\" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009 x',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 7 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "u\ta" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1"\t200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "\x07\x0b" 0.1 0.1',
    '1.2.3.4 - -  [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009 ',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009\t',
    ' 1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 502 5 "-" "ua" 0.3 0.1, 0.2 : 0.05',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 502 5 "-" "ua" 0.3 -',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 502 5 "-" "ua" 0.3 0.1,',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "" 400 0 "-" "-" 0.000 -',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "-" 400 0 "" "" 0.000 -',
    '1.2.3.4 - - [99/Foo/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [31/Feb/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000 "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - 24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" - 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 2000 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 - "-" "ua" - -',
    '1.2.3.4 x - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - a"b [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET http://h:8/p?q=1 HTTP/1.1" 200 5 "-" "ü" 1 2',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "\\x16\\x03\\x01" 400 150 "-" "-" 0.001 -',
    '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /'
    + "a" * 100_000
    + ' HTTP/1.1" 200 5 "-" "-" 1 1',
    "\u00a0" + '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 1 1',
    '"1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.010 0.009',
    "garbage",
    "",
    "   ",
    '""""""""',
]


def _good(n: int) -> str:
    return GOOD.format(n=n % 250 + 1, m=n // 60 % 60, s=n % 60)


@pytest.fixture
def db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as work:
        database = Database(Settings(threads=2), work)
        try:
            yield database
        finally:
            database.close()


def _compare(db: Database, path: Path, name: str, options: FormatOptions) -> dict[str, Any]:
    """Run both reads of ``path``; assert they agree; say how many lines the split read."""
    db.execute("DROP TABLE IF EXISTS lines")
    for table in ("scan_rejects_0", "scan_info_0"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    loading._read_lines(db, InputFile(str(path), str(path), _compression(path)), 0)
    sample = loading._sample(db, loading.SNIFF_LINES)
    variant, template = FORMATS[name].template(sample, options)
    nonblank = f"(SELECT * FROM lines WHERE {loading._NONBLANK})"
    results = []
    for use_split in (True, False):
        sql = template.plan(variant, use_split=use_split).select_sql.replace("{lines}", nonblank)
        results.append(db.con.execute(f"SELECT * FROM ({sql}) ORDER BY line").fetchall())
    split, regex = results
    assert len(split) == len(regex)
    for a, b in zip(split, regex, strict=True):
        assert a == b
    return {"rows": len(regex), "split": _split_lines(db, template, variant, nonblank)}


def _split_lines(db: Database, template: AccessTemplate, variant: str, nonblank: str) -> int:
    """Lines the split layout read (0 when the template has none)."""
    if template.split is None:
        return 0
    sql = template.plan(variant).select_sql.replace("{lines}", nonblank)
    head, found, _ = sql.partition(", m AS (")
    assert found
    return int(db.scalar(head + " SELECT count(*) FILTER (WHERE is_split) FROM v"))


def _compression(path: Path) -> str:
    return {".gz": "gzip", ".zst": "zstd"}.get(path.suffix, "none")


def _case_files() -> list[Path]:
    return sorted(
        p
        for name in FORMATS
        for p in (CASES / name).iterdir()
        if p.name.endswith((".log", ".log.gz", ".log.zst"))
    )


def _options(path: Path) -> tuple[str, FormatOptions]:
    """The reader a case file is meant for and its reader options (from ``<case>.toml``)."""
    stem = path.name.split(".log")[0]
    toml = path.with_name(stem + ".toml")
    config = tomllib.loads(toml.read_text()) if toml.exists() else {}
    name = str(config.get("format") or config.get("expect_format") or path.parent.name)
    return name, FormatOptions({k: str(v) for k, v in config.get("formats", {}).items()})


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_files_read_the_same_by_split_and_by_regex(db: Database, path: Path) -> None:
    name, options = _options(path)
    if name not in FORMATS:
        pytest.skip(f"{path.name} is read by {name}")
    _compare(db, path, name, options)


def test_common_templates_have_a_split_layout() -> None:
    sample = [_good(n) for n in range(10)]
    variant, template = NGINX.template(sample, FormatOptions({}))
    assert variant == "combined+timing"
    assert template.split is not None
    apache_line = '1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 1234'
    _, apache = APACHE.template([apache_line] * 5, FormatOptions({}))
    assert apache.split is not None
    # An unquoted $request holds spaces in no fixed number: that template is regex only.
    _, unquoted = NGINX.template(
        [], FormatOptions({"nginx_log_format": "$remote_addr $request $status"})
    )
    assert unquoted.split is None


def test_planted_malformed_lines_read_the_same(db: Database, tmp_path: Path) -> None:
    lines = [_good(n) for n in range(100)]
    for i, planted in enumerate(PLANTED):
        lines += [planted, _good(i)]
    path = tmp_path / "access.log"
    # CRLF endings on some lines, and bytes that are not UTF-8 (the reader refuses them).
    body = "\n".join(lines).encode() + b"\n"
    body += b"\r\n".join(_good(n).encode() for n in range(5)) + b"\r\n"
    body += b'1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET /\xff\xfe HTTP/1.1" 200 5 "-" "-" 1 1\n'
    body += _good(7).encode() + b"\n"
    path.write_bytes(body)
    seen = _compare(db, path, "nginx", FormatOptions({}))
    good = 100 + len(PLANTED) + 5 + 1
    assert seen["split"] >= good
    assert seen["split"] < seen["rows"]


def test_lists_and_ids_after_them_read_the_same(db: Database, tmp_path: Path) -> None:
    fmt = '$remote_addr [$time_local] "$request" $status $upstream_response_time $request_id'
    head = '10.0.0.1 [24/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200'
    tails = ["0.1 abc", "0.1, 0.2 abc", "0.1 : abc", "0.1 : 0.2 abc", "0.1, abc", "- -", "0.1 :"]
    path = tmp_path / "custom.log"
    path.write_text("".join(f"{head} {t}\n" for t in tails * 3))
    seen = _compare(db, path, "nginx", FormatOptions({"nginx_log_format": fmt}))
    assert 0 < seen["split"] < seen["rows"]


def test_apache_escapes_read_the_same(db: Database, tmp_path: Path) -> None:
    head = '192.0.2.1 - - [24/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 512 "-"'
    uas = ['"curl/8.0"', '"a \\"quoted\\" agent"', '"back\\\\slash"', '"-"', '""']
    path = tmp_path / "apache.log"
    path.write_text("".join(f"{head} {ua} {n * 1000}\n" for n in range(4) for ua in uas))
    seen = _compare(db, path, "apache", FormatOptions({}))
    assert 0 < seen["split"] < seen["rows"]


_PIECES = st.sampled_from(['"', " ", "  ", "\\", ",", ":", "-", "[", "]", "\t", "0", "a", "ü", ""])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), _PIECES), max_size=60))
def test_mutated_lines_read_the_same(edits: list[tuple[int, int, str]]) -> None:
    lines = [_good(n) for n in range(70)]
    for k, (pos, cut, piece) in enumerate(edits):
        line = _good(k)
        at = pos % (len(line) + 1)
        lines.append(line[:at] + piece + line[at + cut :])
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(Settings(threads=2), tmp)
        try:
            path = Path(tmp) / "mutated.log"
            path.write_text("\n".join(lines) + "\n")
            _compare(database, path, "nginx", FormatOptions({}))
        finally:
            database.close()
