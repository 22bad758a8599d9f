"""The benchmark generators: same seed → same bytes, and logtriage reads every line they write."""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from logtriage import api

GENERATE = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


generate = _load()


def _reader(word: str) -> str | None:
    return next((f.name for f in api.formats() if word in f.name), None)


WRITERS = {
    "access": lambda path, seed: generate.write_access(path, 3000, seed),
    "mysql": lambda path, seed: generate.write_mysql(path, 0.3, seed),
    "postgres": lambda path, seed: generate.write_postgres(path, 0.3, seed),
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_same_seed_same_bytes_other_seed_other_bytes(kind: str, tmp_path: Path) -> None:
    write = WRITERS[kind]
    first = write(tmp_path / "a.log", 7)
    second = write(tmp_path / "b.log", 7)
    other = write(tmp_path / "c.log", 8)
    assert (tmp_path / "a.log").read_bytes() == (tmp_path / "b.log").read_bytes()
    assert (tmp_path / "a.log").read_bytes() != (tmp_path / "c.log").read_bytes()
    assert first == second
    assert other.seed == 8
    # The counts the harness reports are the file's own.
    data = (tmp_path / "a.log").read_bytes()
    assert first.bytes == len(data)
    assert first.lines == data.count(b"\n")


def test_database_logs_stop_near_the_target_size(tmp_path: Path) -> None:
    small = generate.write_mysql(tmp_path / "small.log", 0.2)
    large = generate.write_mysql(tmp_path / "large.log", 1.0)
    assert 0.2 * generate.MB <= small.bytes < 0.2 * generate.MB + 512 * 1024
    assert 1.0 * generate.MB <= large.bytes < 1.0 * generate.MB + 512 * 1024
    # A smaller target is a prefix of a larger one: slices and full runs read the same stream.
    assert (tmp_path / "large.log").read_bytes().startswith((tmp_path / "small.log").read_bytes())


def test_access_log_parses_without_rejections_and_has_the_planted_routes(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    written = generate.write_access(path, 3000)
    summary, rows, rejects = api.records(str(path))
    assert summary.format == "nginx"
    assert rejects == []
    assert summary.rejected == 0
    assert len(rows) == written.lines == 3000
    by_route: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_route.setdefault(str(row["route"]), []).append(row)
    slow = [float(str(r["duration_ms"])) for r in by_route["GET /api/v1/reports/{id}/export"]]
    every = [float(str(r["duration_ms"])) for r in rows if r["duration_ms"] is not None]
    assert statistics.median(slow) > 10 * statistics.median(every)
    failing = by_route["POST /api/v1/payments/{uuid}/capture"]
    failing_rate = sum(int(str(r["status"])) >= 500 for r in failing) / len(failing)
    overall_rate = sum(int(str(r["status"])) >= 500 for r in rows) / len(rows)
    assert failing_rate > 5 * overall_rate


@pytest.mark.parametrize(("kind", "word"), [("mysql", "mysql"), ("postgres", "postgres")])
def test_database_log_parses_without_rejections(kind: str, word: str, tmp_path: Path) -> None:
    reader = _reader(word)
    if reader is None:
        pytest.skip(f"no {word} reader registered yet (logtriage formats lists none)")
    path = tmp_path / f"{kind}.log"
    written = WRITERS[kind](path, 11)
    summary, rows, rejects = api.records(str(path))
    assert summary.format == reader
    assert rejects == []
    assert summary.rejected == 0
    assert rows, "no queries read"
    statements = path.read_text().count(
        "# Query_time:" if kind == "mysql" else "  statement: "
    ) + path.read_text().count("  execute <unnamed>: ")
    assert len(rows) >= statements * 0.99, f"{len(rows)} queries from {statements} statements"
    assert written.lines == summary.lines


FLOOR = GENERATE.parent / "floor.py"


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_engine_floor_reads_the_records_logtriage_reads(kind: str, tmp_path: Path) -> None:
    """The floor answers the same headline question on the same file, or its time means nothing."""
    path = tmp_path / f"{kind}.log"
    WRITERS[kind](path, 5)
    done = subprocess.run(
        [sys.executable, str(FLOOR), kind, str(path)], capture_output=True, text=True, check=True
    )
    floor = json.loads(done.stdout)
    _, rows, _ = api.records(str(path))
    timed = [r for r in rows if r.get("duration_ms") is not None]
    # Within 1%: the floor skips what logtriage also reads (admin commands, bind/parse timings).
    assert abs(floor["records"] - len(timed)) <= max(2, len(timed) // 100), (floor, len(timed))
    assert 1 <= floor["groups"] <= floor["records"]
    assert set(floor["steps"]) >= {"lines", "shapes"}
