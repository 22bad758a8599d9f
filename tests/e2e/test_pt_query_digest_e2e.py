"""Differential test: per-fingerprint calls and total time agree with pt-query-digest.

Both tools read the same MySQL slow log (a generated one, and the real ones captured under
tests/cases/sources/mysql_slow/). Shapes are matched both ways through samples: each
pt-query-digest class's example gets our fingerprint, each of our shapes' example gets
pt-fingerprint's. A pair that maps onto each other and onto nothing else is a shape both
tools group the same way; its calls and total time must agree. Shapes the tools group
differently on purpose (a trailing comment, which pt splits; digits inside table names, which
pt merges) are asserted to be exactly that.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.engine.fingerprint import normalize_queries
from tests.canonical import database, insert_rows

pytestmark = pytest.mark.e2e

# The three lines mysqld / mariadbd write to the slow log when they (re)start, also mid-file.
# Unix and Windows (`C:\…\mysqld.exe`, `TCP Port: 3306, Named Pipe: MySQL`) restart banners.
_BANNER = re.compile(
    r"^(?:(?:/|[A-Za-z]:\\)\S.*, Version: .*started with:|Tcp port: .*"
    r"|Time\s+Id\s+Command\s+Argument)\s*$",
    re.IGNORECASE,
)
# A CloudWatch export's event time (and `aws logs tail`'s stream name) before an entry's first
# line: pt-query-digest reads the plain slow log, so its copy goes without them.
_CLOUDWATCH_TIME = re.compile(r"^(?:\d{4}-\d{2}-\d{2}T\S+|\d{13})(?:\s+[\w./-]+)?\s+(?=# )")
PT_QUERY_DIGEST = shutil.which("pt-query-digest")
PT_FINGERPRINT = shutil.which("pt-fingerprint")
REAL_LOGS = sorted((Path(__file__).parents[1] / "cases" / "sources" / "mysql_slow").glob("*.log"))


def _slow_log_reader() -> str | None:
    names = [f.name for f in api.formats() if "mysql" in f.name and "slow" in f.name]
    return names[0] if names else None


@dataclass(frozen=True)
class Shape:
    """One group of statements: how many, how long in all, and one example statement."""

    count: int
    total_ms: float
    example: str


def _needs_tools() -> str:
    if PT_QUERY_DIGEST is None or PT_FINGERPRINT is None:
        pytest.skip("percona-toolkit is not installed (scripts/setup-system.sh installs it)")
    reader = _slow_log_reader()
    if reader is None:
        pytest.skip("no MySQL slow-log reader is registered yet")
    return reader


def _pt_classes(path: Path, work: Path) -> list[Shape]:
    """pt-query-digest's classes of ``path``, read from a copy without banners or export times.

    pt-query-digest reads a banner in the middle of a log as the text of the statement
    before it, and loses the entry that follows; logtriage's reader skips banners. The copy
    makes both tools see the same entries.
    """
    assert PT_QUERY_DIGEST is not None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    path = work / f"pt-{path.name}"
    kept = (_CLOUDWATCH_TIME.sub("", line) for line in lines if not _BANNER.match(line))
    path.write_text("".join(line + "\n" for line in kept))
    out = subprocess.run(
        [PT_QUERY_DIGEST, "--no-version-check", "--output", "json", "--limit", "100%:100000",
         str(path)],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    if not out.strip():
        return []
    return [
        Shape(
            count=int(c["query_count"]),
            total_ms=float(c["metrics"]["Query_time"]["sum"]) * 1000.0,
            example=c["example"]["query"],
        )
        for c in json.loads(out)["classes"]
    ]


def _ours(path: Path, reader: str) -> dict[str, Shape]:
    report = api.analyze([str(path)], Settings(format=reader, top_queries=100_000))
    return {
        q["fingerprint_id"]: Shape(q["count"], q["total_ms"] or 0.0, q["example"]["sql"])
        for q in report.queries
    }


def _our_ids(statements: list[str]) -> list[str]:
    with database() as db:
        insert_rows(db, "queries", [{"sql": s, "db_system": "mysql"} for s in statements])
        normalize_queries(db)
        rows = db.rows("SELECT line, fingerprint_id FROM queries ORDER BY line")
    return [r["fingerprint_id"] for r in rows]


def _pt_fingerprints(statements: list[str]) -> list[str]:
    """pt-fingerprint of each statement (one call each: its file mode splits at ';')."""
    assert PT_FINGERPRINT is not None
    prints = []
    for statement in statements:
        # pt-fingerprint 3.2 exits 1 even when it prints the fingerprint: read the output.
        done = subprocess.run(
            [PT_FINGERPRINT, "--query", statement], capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip(), done.stderr
        prints.append(done.stdout.rstrip("\n"))
    return prints


@dataclass(frozen=True)
class Comparison:
    """Shapes matched one-to-one, and those each tool groups differently."""

    matched: list[tuple[Shape, Shape]]  # (pt, ours)
    pt_splits: list[list[Shape]]  # several pt classes, one of our shapes
    pt_merges: list[list[Shape]]  # several of our shapes, one pt class


def _compare(pt: list[Shape], ours: dict[str, Shape]) -> Comparison:
    pt_to_ours = _our_ids([c.example for c in pt])
    ours_ids = list(ours)
    ours_to_pt = _pt_fingerprints([ours[i].example for i in ours_ids])
    pt_prints = _pt_fingerprints([c.example for c in pt])
    pt_by_print = {p: i for i, p in enumerate(pt_prints)}
    classes_of_ours: dict[str, list[int]] = defaultdict(list)
    for index, our_id in enumerate(pt_to_ours):
        classes_of_ours[our_id].append(index)
    ours_of_class: dict[int, list[str]] = defaultdict(list)
    for our_id, pt_print in zip(ours_ids, ours_to_pt, strict=True):
        if pt_print in pt_by_print:
            ours_of_class[pt_by_print[pt_print]].append(our_id)
    matched, splits, merges = [], [], []
    for index, cls in enumerate(pt):
        our_id = pt_to_ours[index]
        if len(ours_of_class[index]) > 1:
            merges.append([ours[i] for i in ours_of_class[index]])
        elif len(classes_of_ours[our_id]) > 1:
            if classes_of_ours[our_id][0] == index:
                splits.append([pt[i] for i in classes_of_ours[our_id]])
        elif ours_of_class[index] == [our_id]:
            matched.append((cls, ours[our_id]))
    return Comparison(matched, splits, merges)


def _assert_agree(comparison: Comparison) -> None:
    for pt_shape, our_shape in comparison.matched:
        assert our_shape.count == pt_shape.count, (pt_shape.example, our_shape.example)
        assert our_shape.total_ms == pytest.approx(pt_shape.total_ms, rel=1e-6, abs=0.01), (
            pt_shape.example
        )


# --- a generated slow log with known shapes ----------------------------------------------

_STATUSES = ("paid", "open", "it\\'s", "void")


def _statement(rng: random.Random) -> str:
    n = rng.randint(1, 10**6)
    pick = rng.randrange(11)
    if pick == 0:
        return f"SELECT * FROM users WHERE id = {n};"
    if pick == 1:
        status = rng.choice(_STATUSES)
        return (
            f"SELECT id, total FROM orders WHERE customer_id = {n} AND status = '{status}' "
            "ORDER BY created_at DESC LIMIT 20;"
        )
    if pick == 2:
        ids = ", ".join(str(rng.randint(1, 9999)) for _ in range(rng.randint(1, 12)))
        return f"SELECT * FROM products WHERE id IN ({ids});"
    if pick == 3:
        rows = ", ".join(f"({rng.randint(1, 999)}, 'click')" for _ in range(rng.randint(1, 5)))
        return f"INSERT INTO events (user_id, kind) VALUES {rows};"
    if pick == 4:
        return f"UPDATE carts SET qty = {rng.randint(1, 9)}, price = {n / 100:.2f} WHERE id = {n};"
    if pick == 5:
        # The same shape with and without its sqlcommenter tags: pt splits it, we do not.
        tags = " /*controller='orders',action='show'*/" if rng.random() < 0.5 else ""
        return f"SELECT * FROM orders WHERE id = {n}{tags};"
    if pick == 6:
        # Two sharded tables: pt merges them (users_?), we keep them apart.
        return f"SELECT name FROM users_{rng.choice((2009, 2010))} WHERE id = {n};"
    if pick == 7:
        return "SELECT COUNT(*) FROM sessions WHERE expires_at > NOW();"
    if pick == 8:
        return f"SELECT a,\n       b\nFROM reports\nWHERE year = {rng.randint(2000, 2030)};"
    if pick == 9:
        return f"DELETE FROM tokens WHERE created_at < '2024-0{rng.randint(1, 9)}-01 00:00:00';"
    return f'SELECT * FROM audit WHERE actor = "user{n}" AND ok = TRUE AND note IS NULL;'


def _write_slow_log(path: Path, entries: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    lines = ["/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
             "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
             "Time                 Id Command    Argument"]  # fmt: skip
    for i in range(entries):
        ts = start + timedelta(milliseconds=137 * i)
        query_time = round(rng.lognormvariate(-5.0, 1.5), 6)
        lines += [
            f"# Time: {ts.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
            f"# User@Host: app[app] @ localhost [127.0.0.1]  Id: {rng.randint(5, 40):5d}",
            f"# Query_time: {query_time:.6f}  Lock_time: 0.000012 Rows_sent: "
            f"{rng.randint(0, 50)}  Rows_examined: {rng.randint(0, 5000)}",
        ]
        if i % 500 == 0:
            lines.append("use shop;")
        lines.append(f"SET timestamp={int(ts.timestamp())};")
        lines.append(_statement(rng))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_generated_slow_log_agrees_with_pt_query_digest(tmp_path: Path) -> None:
    reader = _needs_tools()
    log = tmp_path / "slow.log"
    _write_slow_log(log, entries=3000, seed=11)
    pt, ours = _pt_classes(log, tmp_path), _ours(log, reader)
    assert sum(c.count for c in pt) == 3000
    assert sum(s.count for s in ours.values()) == 3000
    comparison = _compare(pt, ours)
    _assert_agree(comparison)
    # Nine of the eleven shapes are grouped alike by both tools…
    assert len(comparison.matched) == 9, [p.example for p, _ in comparison.matched]
    # …a trailing comment is one of our shapes but two of pt's…
    assert [len(s) for s in comparison.pt_splits] == [2]
    assert "/*controller=" in " ".join(c.example for c in comparison.pt_splits[0])
    # …and digits inside table names are two of ours, one of pt's.
    assert [len(m) for m in comparison.pt_merges] == [2]
    assert {"users_2009", "users_2010"} <= set(
        " ".join(s.example for s in comparison.pt_merges[0]).split()
    )


@pytest.mark.parametrize("log", REAL_LOGS, ids=[p.name for p in REAL_LOGS])
def test_real_slow_logs_agree_with_pt_query_digest(log: Path, tmp_path: Path) -> None:
    reader = _needs_tools()
    pt, ours = _pt_classes(log, tmp_path), _ours(log, reader)
    if not pt:
        pytest.skip(f"pt-query-digest finds no classes in {log.name}")
    comparison = _compare(pt, ours)
    _assert_agree(comparison)
    assert comparison.matched, "no shape grouped alike by both tools"
