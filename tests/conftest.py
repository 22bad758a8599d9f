"""Shared fixtures: case paths and a writer of small nginx logs with planted traffic."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
CASES = TESTS / "cases"
NGINX_CASE = CASES / "sources" / "nginx" / "combined_timing.log"


def pytest_configure(config: pytest.Config) -> None:
    """Run in English whatever the developer's locale: reports follow LANG (--lang default)."""
    # Tests that check the locale default set these variables themselves (monkeypatch).
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        if os.environ.get(name, "").lower().startswith("ja"):
            os.environ[name] = "C.UTF-8"
    os.environ.pop("LOGTRIAGE_LANG", None)


# (method, path, status, seconds) per request
Request = tuple[str, str, int, float]


def nginx_line(when: datetime, method: str, path: str, status: int, seconds: float) -> str:
    """One access-log line in nginx combined + $request_time $upstream_response_time."""
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'10.0.0.1 - - [{stamp}] "{method} {path} HTTP/1.1" {status} 512 "-" '
        f'"pytest-client/1.0" {seconds:.3f} {seconds:.3f}'
    )


@pytest.fixture
def write_nginx_log(tmp_path: Path) -> Callable[[Iterable[Request], str], Path]:
    """Write requests as nginx lines, one per 100 ms from 2026-11-24T10:00:00Z."""

    def write(requests: Iterable[Request], name: str = "access.log") -> Path:
        start = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
        lines = [
            nginx_line(start + timedelta(milliseconds=100 * i), *req)
            for i, req in enumerate(requests)
        ]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
