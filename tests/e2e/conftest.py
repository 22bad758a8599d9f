"""Fixtures: the planted app, and one capture per real server (start, send the plan, stop).

A missing server binary fails the run with what to install: the end-to-end tests are the
proof that logtriage reads real logs, so they must not vanish silently. Set
``LOGTRIAGE_SKIP_E2E=1`` to skip them on a machine that cannot have the servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .planted_app import serve_app
from .traffic import PlannedRequest, e2e_plan, send_plan
from .webservers import ServerUnavailable, WebServer, apache_server, nginx_server

SKIP_ENV = "LOGTRIAGE_SKIP_E2E"
SERVERS: dict[str, Callable[[Path, int], WebServer]] = {
    "nginx": nginx_server,
    "apache": apache_server,
}


@dataclass(frozen=True)
class Capture:
    """What one real server logged for the plan: its access logs and what the client saw."""

    server: str
    logs: dict[str, Path]
    plan: list[PlannedRequest]
    statuses: list[int]


@pytest.fixture(scope="session")
def app_port() -> Iterator[int]:
    """The planted app on 127.0.0.1, shared by every server of the session."""
    with serve_app() as port:
        yield port


def _capture(kind: str, app_port: int, keep: Path) -> Capture:
    # A private 0755 directory under /tmp: unprivileged workers must reach the static files,
    # and pytest's own temp directories are 0700.
    root = Path(tempfile.mkdtemp(prefix=f"logtriage-e2e-{kind}-"))
    try:
        missing = ""
        try:
            server = SERVERS[kind](root, app_port)
        except ServerUnavailable as exc:
            missing = str(exc)
        if missing and os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{missing} and {SKIP_ENV}=1")
        if missing:
            pytest.fail(
                f"{missing}: run `make system` (scripts/setup-system.sh installs it), "
                f"or set {SKIP_ENV}=1 to skip the end-to-end tests",
                pytrace=False,
            )
        plan = e2e_plan()
        server.start()
        try:
            statuses = send_plan(server.port, plan)
        finally:
            server.stop()
        logs = {}
        for name, path in server.access_logs.items():
            logs[name] = keep / path.name
            shutil.copyfile(path, logs[name])
        return Capture(server=kind, logs=logs, plan=plan, statuses=statuses)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=sorted(SERVERS))
def capture(
    request: pytest.FixtureRequest, app_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Capture:
    """Each real server in turn, after it served the whole e2e plan and stopped."""
    kind = str(request.param)
    return _capture(kind, app_port, tmp_path_factory.mktemp(f"{kind}-logs"))
