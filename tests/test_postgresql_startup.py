"""The official postgres image's start-up output is left out; other unprefixed lines are not."""

from __future__ import annotations

from pathlib import Path

from logtriage import api
from logtriage.config import Settings
from logtriage.sources.postgresql_startup import is_startup, server_part

CASE = Path(__file__).parent / "cases" / "sources" / "postgresql" / "docker_entrypoint_init.log"
SERVER_LINE = "2026-11-26 02:50:46.697 UTC [6248] LOG:  duration: 0.227 ms  statement: SELECT 1"


def test_every_unprefixed_line_of_the_image_is_startup_output() -> None:
    lines = CASE.read_text().splitlines()
    unprefixed = [ln for ln in lines if not server_part(ln)[:1].isdigit()]
    assert unprefixed, "the case starts with initdb's output"
    assert all(is_startup(ln) for ln in unprefixed)
    assert not any(is_startup(ln) for ln in lines if server_part(ln)[:1].isdigit())


def test_dots_before_a_server_line_are_cut_off() -> None:
    assert server_part("waiting for server to start...." + SERVER_LINE) == SERVER_LINE
    assert server_part("." + SERVER_LINE) == SERVER_LINE
    assert is_startup("waiting for server to shut down.... done")


def test_other_unprefixed_lines_are_still_rejected(tmp_path: Path) -> None:
    stray = [
        "Segmentation fault (core dumped)",
        "creating a mess without dots",
        "server crashed",
        "CREATE TABLE",
    ]
    log = tmp_path / "docker.log"
    log.write_text(CASE.read_text() + "\n".join(stray) + "\n" + SERVER_LINE + "\n")
    total = len(CASE.read_text().splitlines())
    summary, rows, rejects = api.records(str(log), Settings())
    assert summary.format == "postgresql"
    assert [r["line"] for r in rejects] == list(range(total + 1, total + 1 + len(stray)))
    assert rows[-1]["line"] == total + len(stray) + 1
