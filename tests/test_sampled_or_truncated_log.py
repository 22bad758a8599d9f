"""M007 on real files: lines cut at a length limit are found, natural long tails are not."""

from __future__ import annotations

import random
from pathlib import Path

from logtriage import api

ACCESS = (
    '203.0.113.{n} - - [25/Nov/2026:10:{m:02d}:{s:02d} +0000] "GET /search?q={q} HTTP/1.1" '
    '200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) {ua}"'
)


def _lines(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        ACCESS.format(
            n=i % 250,
            m=(i // 60) % 60,
            s=i % 60,
            q="x" * rng.randint(1, 1500),
            ua="Firefox/" + str(rng.randint(100, 140)),
        )
        for i in range(count)
    ]


def _m007(path: Path) -> list[api.Finding]:
    report = api.analyze([str(path)])
    return [f for f in report.findings if f.code == "M007"]


def test_lines_cut_at_syslog_1024_bytes_are_named(tmp_path: Path) -> None:
    # A relay that cuts at 1 KiB: every longer line ends mid-query-string at exactly 1024 bytes.
    log = tmp_path / "access.log"
    log.write_text("\n".join(line[:1024] for line in _lines(400, 1)) + "\n")
    (finding,) = _m007(log)
    cut = sum(1 for line in _lines(400, 1) if len(line) >= 1024)
    assert finding.evidence["line_bytes"] == 1024
    assert finding.evidence["lines_at_that_length"] == cut
    assert finding.evidence["known_limit"] == 1024
    assert f"{cut} lines are cut at exactly 1024 bytes" in finding.title
    assert "maxMessageSize" in finding.fix


def test_an_unknown_limit_is_still_a_cut(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join(line[:700] for line in _lines(400, 2)) + "\n")
    (finding,) = _m007(log)
    assert finding.evidence["known_limit"] is None
    assert "cuts lines at 700 bytes" in finding.fix


def test_whole_lines_of_any_length_stay_quiet(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join(_lines(400, 3)) + "\n")
    assert _m007(log) == []


def test_fixed_width_lines_that_end_whole_stay_quiet(tmp_path: Path) -> None:
    # Many lines of one length are a format when they end with their closing quote.
    log = tmp_path / "access.log"
    log.write_text("\n".join(ACCESS.format(n=1, m=0, s=0, q="x" * 300, ua="a") for _ in range(50)))
    assert _m007(log) == []
