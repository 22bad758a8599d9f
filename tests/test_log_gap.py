"""M004: a busy log that goes silent for a long stretch is reported; steady logs stay quiet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from logtriage import api

Writer = Callable[..., Path]


def test_a_silence_in_a_busy_log_is_reported(tmp_path: Path) -> None:
    lines = []
    for i in range(400):
        minute = i // 200 * 40 + (i % 200) // 60  # 200 lines, then 40 minutes of silence
        second = i % 60
        lines.append(
            f'10.0.0.1 - - [24/Nov/2026:10:{minute:02d}:{second:02d} +0000] "GET /a HTTP/1.1" '
            f'200 1 "-" "ua" 0.001 0.001'
        )
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    found = [f for f in api.analyze([str(path)]).findings if f.code == "M004"]
    assert len(found) == 1
    silence = found[0].evidence["silences"][0]
    assert silence["seconds"] >= 30 * 60
    assert silence["start"].startswith("2026-11-24T10:03")


def test_a_steady_log_is_quiet(write_nginx_log: Writer) -> None:
    path = write_nginx_log([("GET", "/a", 200, 0.01)] * 300)
    assert not [f for f in api.analyze([str(path)]).findings if f.code == "M004"]


def _busy_log(path: Path, silence_s: int) -> Path:
    """300 lines a second apart, then ``silence_s`` without lines, then 300 more."""
    lines = []
    for i in range(600):
        second = i + (silence_s - 1 if i >= 300 else 0)
        hour, rest = divmod(second, 3600)
        minute, sec = divmod(rest, 60)
        lines.append(
            f"10.0.0.1 - - [24/Nov/2026:{10 + hour:02d}:{minute:02d}:{sec:02d} +0000] "
            f'"GET /a HTTP/1.1" 200 1 "-" "ua" 0 0'
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_only_the_file_with_the_silence_is_reported(tmp_path: Path) -> None:
    # The silence is exactly min_gap_s (300 s): the bucket pre-pass must not miss it.
    quiet = _busy_log(tmp_path / "quiet.log", 300)
    steady = _busy_log(tmp_path / "steady.log", 1)
    found = [f for f in api.analyze([str(quiet), str(steady)]).findings if f.code == "M004"]
    assert [f.evidence["source"] for f in found] == [str(quiet)]
    assert found[0].evidence["silences"] == [
        {"start": "2026-11-24T10:04:59Z", "end": "2026-11-24T10:09:59Z", "seconds": 300.0}
    ]
