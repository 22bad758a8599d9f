"""How correlation and per-request detection grow with the number of requests.

Generates an nginx access log (with $request_id) and a PostgreSQL log ('%m [%p] ', sqlcommenter
tags on half the requests, the rest tied by connection and time) for N and 10×N requests with a
planted N+1, runs the pipeline stage by stage and prints the time of each stage. Usage:
``python benchmarks/correlation.py [N]`` (default 20,000).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logtriage.analyzers import analyzer_by_code
from logtriage.config import Settings
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.loading import load_input
from logtriage.engine.pipeline import _analyzer_options
from logtriage.engine.routes import assign_routes
from logtriage.engine.units import build_unit_queries
from logtriage.model.context import AnalysisContext
from logtriage.sources.reading import expand_inputs

START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def generate(n: int, out: Path) -> tuple[Path, Path]:
    rng = random.Random(n)
    access, pg = out / f"access-{n}.log", out / f"postgresql-{n}.log"
    with access.open("w") as web, pg.open("w") as db:
        t = START
        for i in range(n):
            t += timedelta(milliseconds=rng.uniform(5, 15))
            pid = 1000 + i % 8
            rid = f"{rng.getrandbits(64):016x}{i:016x}"
            tagged = i % 2 == 0
            loop = rng.random() < 0.2
            route = "/articles" if loop else f"/articles/{rng.randint(1, 999)}"
            statements = ["SELECT * FROM articles ORDER BY id LIMIT 10"]
            if loop:
                statements += [
                    f"SELECT * FROM authors WHERE id = {rng.randint(1, 500)}"
                    for _ in range(rng.randint(5, 30))
                ]
            q = t + timedelta(milliseconds=1)
            for sql in ["BEGIN", *statements, "ROLLBACK"]:
                tag = (
                    f" /*request_id='{rid}'*/"
                    if tagged and sql not in ("BEGIN", "ROLLBACK")
                    else ""
                )
                q += timedelta(microseconds=300)
                stamp = q.strftime("%Y-%m-%d %H:%M:%S.") + f"{q.microsecond // 1000:03d} UTC"
                db.write(f"{stamp} [{pid}] LOG:  duration: 0.200 ms  statement: {sql}{tag}\n")
            end = q + timedelta(milliseconds=1)
            duration = (end - t).total_seconds()
            web.write(
                f"10.0.0.{i % 200} - - [{end.strftime('%d/%b/%Y:%H:%M:%S')} +0000] "
                f'"GET {route} HTTP/1.1" 200 512 "-" "bench" {duration:.3f} {duration:.3f} '
                f"{rid} {end.timestamp():.3f}\n"
            )
    return access, pg


def stages(access: Path, pg: Path) -> dict[str, float]:
    settings = Settings()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        db = Database(settings, work)
        t = time.perf_counter()
        inputs = tuple(
            load_input(db, f, i, settings, {})
            for i, f in enumerate(expand_inputs([str(access), str(pg)], work))
        )
        normalize_queries(db)
        assign_routes(db, settings)
        out["load+normalize"] = time.perf_counter() - t
        t = time.perf_counter()
        stats = correlate(db)
        build_unit_queries(db)
        out["correlate"] = time.perf_counter() - t
        options = _analyzer_options(settings)
        ctx = AnalysisContext(db=db, inputs=inputs, facts={"correlation": stats.__dict__})
        for code in ("P001", "P002", "P007", "M003"):
            analyzer = analyzer_by_code(code)
            assert analyzer is not None
            t = time.perf_counter()
            analyzer.run(ctx, options[code])
            out[code] = time.perf_counter() - t
        out["tied share"] = stats.correlated / max(stats.queries, 1)
        db.close()
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        rows = {}
        for size in (n, 10 * n):
            access, pg = generate(size, Path(tmp))
            rows[size] = stages(access, pg)
    keys = list(rows[n])
    print(f"| stage | {n:,} requests | {10 * n:,} requests | growth |")
    print("|---|---:|---:|---:|")
    for key in keys:
        a, b = rows[n][key], rows[10 * n][key]
        if key == "tied share":
            print(f"| {key} | {a:.1%} | {b:.1%} | |")
        else:
            print(f"| {key} (s) | {a:.2f} | {b:.2f} | ×{b / a:.1f} |")


if __name__ == "__main__":
    main()
