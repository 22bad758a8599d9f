"""P001, P002, P007 and M003 on planted per-request query patterns: must fire, must stay quiet."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from logtriage.analyzers import analyzer_by_code
from logtriage.analyzers.base import build_options
from logtriage.config import Settings
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database
from logtriage.engine.units import build_unit_queries
from logtriage.model.context import AnalysisContext

T0 = datetime(2026, 11, 24, 10, 0, 0)
ARTICLES = "select * from articles order by id desc limit ?"
AUTHOR = "select * from authors where authors.id = ?"


@dataclass
class World:
    """Requests and queries planted in a real engine database."""

    db: Database
    line: int = 0
    queries: list[tuple[Any, ...]] = field(default_factory=list)

    def request(self, route: str, start_ms: float, dur_ms: float, rid: str | None) -> None:
        self.line += 1
        self.db.execute(
            "INSERT INTO requests (ts, duration_ms, method, path, route, status, request_id, "
            "source, line) VALUES (?, ?, 'GET', '/', ?, 200, ?, 'access.log', ?)",
            [T0 + timedelta(milliseconds=start_ms), dur_ms, route, rid, self.line],
        )

    def query(
        self, at_ms: float, fingerprint: str, sql: str, rid: str | None, conn: str = "c1"
    ) -> None:
        self.line += 1
        self.db.execute(
            "INSERT INTO queries (ts, duration_ms, sql, fingerprint, connection, request_id, "
            "source, line) VALUES (?, 0.2, ?, ?, ?, ?, 'db.log', ?)",
            [T0 + timedelta(milliseconds=at_ms), sql, fingerprint, conn, rid, self.line],
        )

    def run(self, code: str) -> list[dict[str, Any]]:
        stats = correlate(self.db)
        build_unit_queries(self.db)
        analyzer = analyzer_by_code(code)
        assert analyzer is not None
        ctx = AnalysisContext(db=self.db, inputs=(), facts={"correlation": stats.__dict__})
        return [f.to_json() for f in analyzer.run(ctx, build_options(analyzer, {}))]


@pytest.fixture
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory() as work:
        db = Database(Settings(), work)
        yield World(db)
        db.close()


def plant_n_plus_one(w: World, requests: int = 20, interleave: bool = False) -> None:
    for r in range(requests):
        start = r * 1000.0
        rid = f"req-{r}"
        w.request("GET /articles", start, 400, rid)
        w.query(start + 1, ARTICLES, ARTICLES.replace("?", "30"), rid)
        for i in range(10 + r):  # count grows with the data
            w.query(start + 2 + i * 3, AUTHOR, AUTHOR.replace("?", str(100 * r + i)), rid)
            if interleave:
                w.query(start + 3 + i * 3, "select 1 from flags", "select 1 from flags", rid)


def test_p001_fires_with_source_query_and_growth(world: World) -> None:
    plant_n_plus_one(world)
    found = world.run("P001")
    assert len(found) == 1
    f = found[0]
    assert f["route"] == "GET /articles"
    assert f["fingerprint"] == AUTHOR
    assert f["evidence"]["requests_affected"] == 20
    assert f["evidence"]["queries_per_request_max"] == 29
    assert f["evidence"]["count"] == "grows with the data"
    assert f["evidence"]["source_query"] == ARTICLES
    assert "authors" in f["title"]
    assert f["examples"][0]["request_id"].startswith("req-")


def test_p001_holds_with_interleaved_queries(world: World) -> None:
    plant_n_plus_one(world, interleave=True)
    assert [f["fingerprint"] for f in world.run("P001")] == [AUTHOR]


def test_p001_quiet_on_one_query_per_request_and_in_lists_and_health_checks(
    world: World,
) -> None:
    for r in range(30):
        rid = f"r{r}"
        world.request("GET /users/{id}", r * 100.0, 20, rid)
        world.query(r * 100.0 + 1, AUTHOR, AUTHOR.replace("?", str(r)), rid)
        world.query(r * 100.0 + 2, "select 1", "select 1", rid)
    world.request("POST /batch", 5000, 300, "batch")
    world.query(
        5001,
        "select * from authors where id in (?+)",
        "select * from authors where id in (1,2,3)",
        "batch",
    )
    assert world.run("P001") == []


def test_p001_from_a_database_log_alone_uses_connection_bursts(world: World) -> None:
    for burst in range(3):
        base = burst * 10_000.0
        for i in range(8):
            world.query(base + i * 2, AUTHOR, AUTHOR.replace("?", str(i)), None, conn="pid-7")
    found = world.run("P001")
    assert len(found) == 1
    assert "route" not in found[0]
    assert found[0]["evidence"]["requests_affected"] == 3


def test_p007_identical_repeats_not_p001(world: World) -> None:
    me = "select * from users where id = ?"
    for r in range(5):
        rid = f"r{r}"
        world.request("GET /cart", r * 1000.0, 100, rid)
        for i in range(6):
            world.query(r * 1000.0 + 1 + i, me, "select * from users where id = 42", rid)
    assert world.run("P001") == []
    found = world.run("P007")
    assert len(found) == 1
    assert found[0]["evidence"]["repeats_per_request_p50"] == 6
    assert found[0]["route"] == "GET /cart"


def test_p002_repeated_sequence(world: World) -> None:
    items = "select * from order_items where order_id = ?"
    address = "select * from addresses where id = ?"
    for r in range(4):
        rid = f"r{r}"
        world.request("GET /orders", r * 1000.0, 300, rid)
        world.query(
            r * 1000.0 + 1, "select * from orders limit ?", "select * from orders limit 10", rid
        )
        for i in range(10):
            world.query(r * 1000.0 + 2 + 2 * i, items, items.replace("?", str(i)), rid)
            world.query(r * 1000.0 + 3 + 2 * i, address, address.replace("?", str(i)), rid)
    found = world.run("P002")
    assert len(found) == 1
    assert found[0]["route"] == "GET /orders"
    assert sorted(found[0]["evidence"]["sequence"]) == sorted([items, address])
    assert found[0]["evidence"]["repeats_per_request_p50"] == 10


def test_p002_two_sequences_in_one_request_and_on_bare_connections(world: World) -> None:
    """Blocks of 2 and 3 shapes, each found once (not as its rotations), also without requests."""
    a, b, c, d, e = (f"select * from t{k} where id = ?" for k in "abcde")
    for r in range(3):
        rid = f"r{r}"
        world.request("GET /mix", r * 1000.0, 200, rid)
        at = r * 1000.0 + 1
        for shapes, times in (((a, b), 5 + r), ((c, d, e), 4)):
            for i in range(times):
                for shape in shapes:
                    world.query(at, shape, shape.replace("?", str(i)), rid)
                    at += 1
    for burst in range(2):  # the same [c, d, e] loop on a connection no request owns
        at = 50_000.0 + burst * 10_000.0
        for i in range(3):
            for shape in (c, d, e):
                world.query(at, shape, shape.replace("?", str(i)), None, conn="pid-9")
                at += 1
    found = world.run("P002")
    by_len = {(f.get("route"), len(f["evidence"]["sequence"])): f for f in found}
    assert sorted(by_len, key=str) == sorted([("GET /mix", 2), ("GET /mix", 3), (None, 3)], key=str)
    pair, triple, bare = by_len["GET /mix", 2], by_len["GET /mix", 3], by_len[None, 3]
    assert sorted(pair["evidence"]["sequence"]) == [a, b]
    assert pair["evidence"]["repeats_per_request_max"] == 7
    assert pair["evidence"]["repeats_per_request_p50"] == 6
    assert sorted(triple["evidence"]["sequence"]) == [c, d, e]
    assert triple["evidence"]["requests_affected"] == 3
    assert triple["evidence"]["repeats_per_request_p50"] == 4
    assert bare["evidence"]["requests_affected"] == 2
    assert bare["evidence"]["repeats_per_request_max"] == 3


def test_p002_quiet_without_repeats(world: World) -> None:
    for r in range(4):
        rid = f"r{r}"
        world.request("GET /page", r * 1000.0, 50, rid)
        for i, table in enumerate(("a", "b", "c", "d", "e", "f")):
            world.query(r * 1000.0 + 1 + i, f"select * from {table}", f"select * from {table}", rid)
    assert world.run("P002") == []


def test_m003_reports_ambiguous_queries_and_how_to_tag(world: World) -> None:
    for r in range(10):
        world.request("GET /x", r * 10.0, 500, None)  # heavily overlapping, no ids
    for i in range(20):
        world.query(100.0 + i, "select 1", "select 1", None, conn=None)  # type: ignore[arg-type]
    found = world.run("M003")
    assert len(found) == 1
    assert found[0]["evidence"]["ambiguous"] == 20
    assert "sqlcommenter" in found[0]["fix"]


def test_m003_quiet_when_everything_is_tied(world: World) -> None:
    plant_n_plus_one(world, requests=3)
    assert world.run("M003") == []


def test_bound_statements_without_parameters_count_as_a_loop_not_duplicates(world: World) -> None:
    bound = "select * from authors where authors.id = $1"
    for r in range(3):
        rid = f"r{r}"
        world.request("GET /articles", r * 1000.0, 300, rid)
        for i in range(8):
            world.query(r * 1000.0 + 1 + i, AUTHOR, bound, rid)
    assert [f["fingerprint"] for f in world.run("P001")] == [AUTHOR]
    assert world.run("P007") == []


def test_m006_clock_skew_from_queries_tied_by_id(world: World) -> None:
    for r in range(30):
        rid = f"r{r}"
        world.request("GET /x", r * 1000.0, 100, rid)
        # The database's clock runs 1.5 s behind the web server's.
        world.query(r * 1000.0 + 20 - 1500, "select 1", "select 1", rid)
    found = world.run("M006")
    assert len(found) == 1
    assert -1600 < found[0]["evidence"]["median_outside_ms"] < -1400
    assert "behind" in found[0]["title"]


def test_m006_quiet_when_clocks_agree(world: World) -> None:
    plant_n_plus_one(world, requests=25)
    assert world.run("M006") == []


def test_units_and_shapes_are_numbered_one_to_one_with_their_text(world: World) -> None:
    # Requests tied by id, and queries on two connections no request claims (bursts), with
    # shapes whose numbers must follow their text (the analyzers compare blocks of numbers).
    plant_n_plus_one(world, requests=4, interleave=True)
    for b in range(3):
        for conn in ("c7", "c8"):
            for i in range(4):
                world.query(
                    90_000 + b * 5000 + i, "select * from zz", "select * from zz", None, conn
                )
                world.query(
                    90_001 + b * 5000 + i, "select * from aa", "select * from aa", None, conn
                )
    world.run("P001")
    db = world.db
    pairs = db.rows("SELECT DISTINCT unit, uid FROM unit_queries")
    assert len({r["unit"] for r in pairs}) == len({r["uid"] for r in pairs}) == len(pairs)
    assert any(r["uid"] < 0 for r in pairs) and any(r["uid"] > 0 for r in pairs)
    shapes = db.rows("SELECT DISTINCT fingerprint, fid FROM unit_queries ORDER BY fid")
    assert len({r["fid"] for r in shapes}) == len(shapes)
    assert [r["fingerprint"] for r in shapes] == sorted(r["fingerprint"] for r in shapes)
