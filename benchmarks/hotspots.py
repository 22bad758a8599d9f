"""Where logtriage's time goes on one input: every engine statement timed and profiled.

Runs ``api.analyze`` + the JSON renderer in this process with DuckDB's profiler on, records
each statement (the logtriage function that ran it, wall time, CPU time summed over threads,
peak buffer memory, its costliest operators), and profiles the Python around the statements
with cProfile. Prints one JSON document; ``benchmarks/run.py`` turns it into the
"where the time goes" section of docs/benchmarks.md.

Usage: ``.venv/bin/python benchmarks/hotspots.py FILE [--threads N]``
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from logtriage import api
from logtriage.config import Settings
from logtriage.engine import database
from logtriage.report.json_report import render_json

ENGINE_FILE = str(Path(database.__file__).resolve())


def _caller() -> str:
    """The first frame outside database.py: the logtriage function that ran the statement."""
    frame = sys._getframe(2)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()) == ENGINE_FILE:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "?"
    module = Path(frame.f_code.co_filename).stem
    return f"{module}.{frame.f_code.co_name}"


def _operators(node: dict[str, Any], out: list[dict[str, Any]]) -> None:
    extra = node.get("extra_info") or {}
    detail = extra.get("Function") or extra.get("Aggregates") or extra.get("Table") or ""
    out.append(
        {
            "operator": node.get("name") or node.get("type"),
            "cpu_s": float(node.get("timing") or 0.0),
            "rows": int(node.get("intermediate_rows") or 0),
            "detail": str(detail)[:80],
        }
    )
    for child in node.get("children") or ():
        _operators(child, out)


class StatementLog:
    """Wraps the engine's statement methods; keeps one record per statement."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        log = self

        @functools.wraps(method)
        def timed(self: database.Database, sql: str, params: Sequence[Any] = ()) -> Any:
            caller = _caller()
            start, cpu = time.perf_counter(), time.process_time()
            result = method(self, sql, params)
            wall = time.perf_counter() - start
            # This process's CPU (all engine threads): steadier than wall time on a busy machine.
            used = time.process_time() - cpu
            record = log.describe(self, sql, caller, wall)
            record["process_cpu_s"] = used
            log.records.append(record)
            return result

        return timed

    def describe(self, db: database.Database, sql: str, caller: str, wall: float) -> dict[str, Any]:
        record: dict[str, Any] = {"caller": caller, "wall_s": wall, "sql": " ".join(sql.split())}
        try:
            info = json.loads(db.con.get_profiling_information(format="json"))
        except Exception as exc:  # profiling is best effort: the timing above stands alone
            record["profile_error"] = str(exc)[:120]
            return record
        query = info.get("query") or {}
        system = info.get("system") or {}
        record["cpu_s"] = float(query.get("cpu_time") or 0.0)
        record["peak_buffer_mb"] = float(system.get("peak_buffer_memory") or 0) / 2**20
        record["spilled_mb"] = float(system.get("total_bytes_spilled") or 0) / 2**20
        operators: list[dict[str, Any]] = []
        for root in info.get("operator") or ():
            _operators(root, operators)
        operators.sort(key=lambda o: -o["cpu_s"])
        record["operators"] = operators[:3]
        return record


def profile(path: str, threads: int | None) -> dict[str, Any]:
    """Analyze ``path`` as ``logtriage analyze --output-format json`` does, measuring it."""
    log = StatementLog()
    original_init = database.Database.__init__

    def init_with_profiling(self: database.Database, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.con.execute("SET enable_profiling = 'no_output'")

    database.Database.__init__ = init_with_profiling  # type: ignore[method-assign]
    for name in ("execute", "rows", "scalar"):
        setattr(database.Database, name, log.wrap(getattr(database.Database, name)))
    settings = Settings(threads=threads) if threads else Settings()
    profiler = cProfile.Profile()
    start, cpu = time.perf_counter(), time.process_time()
    profiler.enable()
    report = api.analyze([path], settings)
    rendered = render_json(report)
    profiler.disable()
    total = time.perf_counter() - start
    return {
        "path": path,
        "total_s": total,
        "total_cpu_s": time.process_time() - cpu,
        "sql_s": sum(r["wall_s"] for r in log.records),
        "statements": log.records,
        "python": _python_hotspots(profiler),
        "report_bytes": len(rendered),
    }


def _python_hotspots(profiler: cProfile.Profile, top: int = 8) -> list[dict[str, Any]]:
    """Functions by own time, leaving out the engine calls (timed per statement already)."""
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        # Engine calls are timed per statement already; this harness is not logtriage's time.
        if "duckdb" in name or filename.endswith(("engine/database.py", "hotspots.py")):
            continue
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({name})",
                "calls": calls,
                "own_s": own,
                "cumulative_s": cumulative,
            }
        )
    rows.sort(key=lambda r: -r["own_s"])
    return rows[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    print(json.dumps(profile(args.path, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
