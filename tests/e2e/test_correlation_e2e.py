"""Issue 5 end to end: a real Flask + SQLAlchemy app under gunicorn, behind a real nginx, on a
real PostgreSQL and a real MariaDB, with a planted N+1 and a planted slow pattern — run with
and without SQL comment tags. Both must be found from the logs alone, and nothing else reported
as an N+1.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.report.json_report import render_json
from tests.correlation_truth import time_ties_against_ids

from .conftest import SKIP_ENV
from .mariadb_server import MariadbUnavailable, mariadb_server
from .postgres_server import PostgresUnavailable, postgres_cluster
from .webservers import NGINX_TIMED, ServerUnavailable, free_port, nginx_server

pytestmark = pytest.mark.e2e

SHOP = Path(__file__).parent / "shop"
APP = "tests.e2e.shop.app:app"
# $msec gives the request's end to the millisecond: without ids, time is all there is.
NGINX_FORMAT = NGINX_TIMED + " $msec"
PG_SETTINGS = {
    "log_line_prefix": "%m [%p] ",
    "log_destination": "stderr",
    "log_connections": "off",
    "log_disconnections": "off",
}


@dataclass(frozen=True)
class Capture:
    """The access log and database log of one run, and how many requests of each kind."""

    access_log: Path
    db_log: Path
    sent: dict[str, int]
    # When the traffic began: the seeding and start-up before it are not the service's work.
    started: datetime


def _unavailable(message: str) -> None:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{message} and {SKIP_ENV}=1")
    pytest.fail(f"{message}: run `make system`, or set {SKIP_ENV}=1", pytrace=False)


@contextmanager
def _database(kind: str, root: Path) -> Iterator[tuple[str, Path, Callable[[], None]]]:
    """A fresh server; yields the app's SQLAlchemy URL, the statement log, and a stop."""
    if kind == "postgresql":
        try:
            with postgres_cluster(PG_SETTINGS) as server:
                yield (
                    f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres",
                    server.logs["stderr"],
                    server.stop,
                )
        except PostgresUnavailable as exc:
            _unavailable(str(exc))
        return
    try:
        server = mariadb_server(root / "mariadb")
    except MariadbUnavailable as exc:
        _unavailable(str(exc))
        return
    server.install()
    server.start()
    try:
        setup = server.query(
            "CREATE DATABASE shop; CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'; "
            "GRANT ALL ON shop.* TO 'app'@'%';",
            user="root",
        )
        assert setup.returncode == 0, setup.stderr
        url = f"mysql+pymysql://app:app-pw@127.0.0.1:{server.port}/shop"
        yield url, server.logs["slow"], server.stop
    finally:
        server.stop()


@contextmanager
def _gunicorn(url: str, tags: bool, root: Path) -> Iterator[int]:
    env = {**os.environ, "SHOP_DB_URL": url, "SHOP_SQL_TAGS": "1" if tags else "0"}
    seed = subprocess.run(
        [sys.executable, "-m", "tests.e2e.shop.app"],
        env=env,
        cwd=SHOP.parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seed.returncode == 0, seed.stderr[-2000:]
    port = free_port()
    log = open(root / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", APP],
        env=env,
        cwd=SHOP.parents[2],
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for(port, process, root / "gunicorn.log")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn did not answer /health: {log.read_text(errors='replace')[-3000:]}"
    )


def _plan(seed: int) -> list[tuple[str, str]]:
    """(kind, path) requests: the N+1 route, its quiet neighbours, the slow pattern."""
    rng = random.Random(seed)
    plan = [("articles", f"/articles?limit={rng.randint(5, 20)}") for _ in range(30)]
    plan += [("article", f"/articles/{rng.randint(1, 60)}") for _ in range(30)]
    plan += [("feed_comments", "/feed?include=comments&page=1") for _ in range(8)]
    plan += [("feed", f"/feed?page={rng.randint(1, 5)}") for _ in range(52)]
    plan += [("health", "/health") for _ in range(20)]
    rng.shuffle(plan)
    return plan


def _send(port: int, plan: list[tuple[str, str]], pause_s: float = 0.0) -> None:
    def one(path: str) -> int:
        # A pause before each request spreads the plan over time (the demo's capture).
        time.sleep(pause_s)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status

    # Two clients at once: requests overlap in time on different database connections.
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(one, [path for _, path in plan]))
    assert statuses == [200] * len(plan)


def _capture(kind: str, tags: bool, keep: Path, pause_s: float = 0.0) -> Capture:
    root = Path(tempfile.mkdtemp(prefix=f"logtriage-e2e-shop-{kind}-"))
    root.chmod(0o755)
    plan = _plan(seed=7)
    try:
        with _database(kind, root) as (url, db_log, stop_database):
            with _gunicorn(url, tags, root) as app_port:
                try:
                    web = nginx_server(root / "nginx", app_port, timed_format=NGINX_FORMAT)
                except ServerUnavailable as exc:
                    _unavailable(str(exc))
                web.start()
                started = datetime.now(UTC).replace(tzinfo=None)
                try:
                    _send(web.port, plan, pause_s)
                finally:
                    web.stop()
                access = keep / "access.log"
                shutil.copyfile(web.access_logs["timed"], access)
            # The database flushes its log when it stops: copy it then.
            stop_database()
            database = keep / db_log.name
            shutil.copyfile(db_log, database)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sent: dict[str, int] = {}
    for name, _ in plan:
        sent[name] = sent.get(name, 0) + 1
    return Capture(access_log=access, db_log=database, sent=sent, started=started)


CASES = [(db, tags) for db in ("postgresql", "mariadb") for tags in (True, False)]


@pytest.fixture(
    scope="module", params=CASES, ids=[f"{d}-{'tags' if t else 'no-tags'}" for d, t in CASES]
)
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    kind, tags = request.param
    capture = _capture(kind, tags, tmp_path_factory.mktemp(f"{kind}-{tags}"))
    # The whole logs, seeding and start-up included: they must not make findings of their own.
    result = api.analyze([str(capture.access_log), str(capture.db_log)])
    import json

    data: dict[str, Any] = json.loads(render_json(result))
    data["_sent"] = capture.sent
    data["_tags"] = tags
    # MariaDB's slow log has whole-second timestamps: without ids, no query can be tied to
    # one of several requests of the same second, and logtriage must say so (M003).
    data["_timed"] = tags or kind == "postgresql"
    data["_kind"] = kind
    data["_logs"] = (str(capture.access_log), str(capture.db_log))
    return data


def test_both_logs_are_read_completely(report: dict[str, Any]) -> None:
    formats = {i["format"] for i in report["inputs"]}
    assert "nginx" in formats
    assert all(i["rejected"] == 0 for i in report["inputs"]), report["inputs"]
    # Every request of the plan, plus the /health probes made while waiting for gunicorn.
    assert report["summary"]["requests"] == sum(report["_sent"].values())
    assert report["summary"]["queries"] > 0


def test_the_planted_n_plus_one_is_found_on_its_route(report: dict[str, Any]) -> None:
    n1 = [f for f in report["findings"] if f["code"] == "P001"]
    expected = "GET /articles" if report["_timed"] else None
    planted = [f for f in n1 if f.get("route") == expected]
    assert len(planted) == 1, [f["title"] for f in n1]
    finding = planted[0]
    others = [f for f in n1 if f is not finding]
    if report["_tags"]:
        assert others == [], [f["title"] for f in others]
    else:
        # Tied by time alone, a busy machine can hand a burst to the wrong request now and
        # then: such strays must stay tiny next to the planted loop.
        affected = finding["evidence"]["requests_affected"]
        assert all(f["evidence"]["requests_affected"] <= 0.1 * affected for f in others), [
            f["title"] for f in others
        ]
    assert "authors" in finding["fingerprint"]
    # limit=5..20 per request: the loop count follows the page size.
    assert 5 <= finding["evidence"]["queries_per_request_p50"] <= 20
    assert finding["evidence"]["count"] == "grows with the data"
    # By time alone, a request that overlaps another on a second worker stays ambiguous rather
    # than guessed; how many do depends on the machine's timing (22 of 30 on a CI run).
    share = 0.8 if report["_tags"] else 0.5
    assert finding["evidence"]["requests_affected"] >= share * report["_sent"]["articles"]
    if not report["_timed"]:
        m003 = [f for f in report["findings"] if f["code"] == "M003"]
        assert m003 and "one_second_timestamps" in m003[0]["evidence"]
        assert "sqlcommenter" in m003[0]["fix"]


def test_the_planted_slow_pattern_is_found(report: dict[str, Any]) -> None:
    # From the access log alone: it holds whatever the database log is.
    p003 = [f for f in report["findings"] if f["code"] == "P003"]
    assert any(
        f["route"] == "GET /feed" and f["evidence"]["attribute"] == "with include=comments"
        for f in p003
    ), [f["title"] for f in p003]


def test_queries_are_tied_to_requests(report: dict[str, Any]) -> None:
    if not report["_timed"]:
        pytest.skip("whole-second database timestamps without ids: nothing to tie (see M003)")
    summary = report["summary"]
    if report["_tags"]:
        # Every tagged statement by its id; the driver's BEGIN/ROLLBACK by their neighbours.
        assert summary["correlation"]["by_how"].get("request_id", 0) >= 0.5 * summary["queries"]
        if report["_kind"] == "postgresql":
            # The ids are the answer key for tying by time alone: hidden, how many queries
            # time ties depends on the machine's timing (see below), and so, less, does how
            # many ties are right: 0.92-0.98 here with the cores busy, once under 0.9 on a
            # loaded run. The fixed capture in tests/test_correlate.py holds 0.9 (and fails a
            # rule that guesses close calls); here 0.8 catches a collapse. (MariaDB: M003.)
            truth = time_ties_against_ids(*report["_logs"])
            assert truth.tied >= 0.5 * truth.by_id, truth
            assert truth.precision >= 0.8, truth
        # What stays untied ran outside every request (seeding, gunicorn's start-up probes).
        assert summary["correlation"]["ambiguous"] <= 0.03 * summary["queries"], summary
        assert summary["correlated_queries"] >= 0.9 * summary["queries"], summary
    else:
        # Time and connection alone: back-to-back millisecond requests on one worker stay
        # ambiguous, and are counted as such rather than guessed. The two client threads send
        # 1-8 ms requests back to back, so adjacent windows (widened by the 2 ms clock
        # tolerance) overlap: how many bursts one window alone holds is the machine's timing
        # (0.47 on a CI run, 0.53-0.54 here; the code before the sweep gave the same on the
        # same logs). The floor catches time matching that collapses, not timing noise.
        assert summary["correlated_queries"] >= 0.35 * summary["queries"], summary
    # Every query is accounted for: tied, ambiguous, or outside every request.
    correlation = summary["correlation"]
    assert summary["correlated_queries"] == sum(correlation["by_how"].values())
    assert (
        summary["correlated_queries"]
        + correlation["ambiguous"]
        + correlation["outside_any_request"]
        == summary["queries"]
    ), summary
    routes = {r["route"]: r for r in report["routes"]}
    assert routes["GET /articles"]["queries_per_request"] >= 5
    # SELECT 1 between the driver's BEGIN and ROLLBACK.
    assert routes["GET /health"]["queries_per_request"] <= 4
