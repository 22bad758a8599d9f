"""M005: a PostgreSQL log cut at log_min_duration_statement is reported; a full one is not."""

from __future__ import annotations

import random
from pathlib import Path

from logtriage import api


def write_pg(path: Path, floor_ms: float, n: int = 200) -> Path:
    rng = random.Random(3)
    lines = []
    for i in range(n):
        duration = floor_ms + rng.expovariate(1 / 40) if floor_ms else rng.expovariate(1 / 2)
        lines.append(
            f"2026-11-24 10:00:{i % 60:02d}.{i % 1000:03d} UTC [{100 + i % 4}] LOG:  "
            f"duration: {duration:.3f} ms  statement: SELECT * FROM t WHERE id = {i}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_threshold_log_is_reported(tmp_path: Path) -> None:
    report = api.analyze([str(write_pg(tmp_path / "pg.log", floor_ms=100.0))])
    found = [f for f in report.findings if f.code == "M005"]
    assert len(found) == 1
    assert found[0].evidence["fastest_ms"] >= 100
    assert "log_min_duration_statement = 0" in found[0].fix


def test_full_log_is_quiet(tmp_path: Path) -> None:
    report = api.analyze([str(write_pg(tmp_path / "pg.log", floor_ms=0.0))])
    assert not [f for f in report.findings if f.code == "M005"]
