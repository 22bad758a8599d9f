"""analyze --state on a real nginx log that grows and is rotated (rename, then reopen)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings

from .conftest import SKIP_ENV
from .traffic import e2e_plan, expected_routes, send_plan
from .webservers import ServerUnavailable, WebServer, nginx_server

pytestmark = pytest.mark.e2e


def _wait_for_lines(paths: list[Path], count: int, timeout_s: float = 10.0) -> None:
    """nginx writes a request's line as it finishes it: wait until all of them are there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        written = sum(p.read_bytes().count(b"\n") for p in paths if p.exists())
        if written >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"nginx wrote fewer than {count} lines to {paths}")


@pytest.fixture
def nginx(app_port: int) -> Iterator[WebServer]:
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-state-"))
    try:
        try:
            server = nginx_server(root, app_port)
        except ServerUnavailable as exc:
            if os.environ.get(SKIP_ENV) == "1":
                pytest.skip(str(exc))
            pytest.fail(f"{exc}: run `make system`", pytrace=False)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_growing_and_rotated_nginx_log_counts_every_request_once(
    nginx: WebServer, tmp_path: Path
) -> None:
    assert nginx.process is not None
    plan = e2e_plan()
    first, during, after = plan[:120], plan[120:180], plan[180:]
    log = nginx.access_logs["timed"]
    rotated = log.with_name(log.name + ".1")
    settings = Settings(state=str(tmp_path / "state"))

    send_plan(nginx.port, first)
    _wait_for_lines([log], len(first))
    one = api.analyze([str(log)], settings)
    assert one.summary["requests"] == len(first)

    send_plan(nginx.port, during)
    _wait_for_lines([log], len(first) + len(during))
    # logrotate's way: rename, then ask nginx to reopen its logs (what `nginx -s reopen` sends).
    log.rename(rotated)
    nginx.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    send_plan(nginx.port, after)
    _wait_for_lines([log], len(after))

    two = api.analyze([str(log)], settings)
    assert two.extra["state"]["new_lines"] == len(during) + len(after)
    assert two.summary["requests"] == len(plan)
    reads = {i.path: (i.records, i.rejected, i.read) for i in two.inputs}
    assert reads[str(rotated)] == (
        len(first) + len(during),
        0,
        f"rotated from {log}: lines {len(first) + 1}-{len(first) + len(during)}",
    )
    assert reads[str(log)] == (len(after), 0, f"new: lines 1-{len(after)}")
    expected = expected_routes(plan)
    counted = Counter({r["route"]: r["count"] for r in two.routes})
    assert all(counted[route] == expected[route] for route in counted)
    # Nothing new: a third run parses nothing and reports the same totals.
    three = api.analyze([str(log), str(rotated)], settings)
    assert three.extra["state"]["new_lines"] == 0
    assert three.summary["requests"] == len(plan)
