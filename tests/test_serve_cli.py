"""``logtriage serve`` on the command line: what it refuses in one line, and a real start/stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from logtriage.cli import main
from logtriage.serve.server import is_loopback
from tests.serve_history import build_state, write_logs


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-cli")
    return build_state(root / "state", write_logs(root, hostile=False))


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logtriage: error: ")
    return lines[0]


def test_a_non_loopback_host_is_refused_without_the_flag(state: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "::", "example.org"):
        line = one_line_error([str(state), "--host", host])
        assert "--allow-remote" in line


def test_targets_that_are_not_a_saved_analysis(tmp_path: Path, state: Path) -> None:
    assert "no such state directory" in one_line_error([str(tmp_path / "nowhere")])
    assert "holds no report.json" in one_line_error([str(tmp_path)])
    log = tmp_path / "access.log"
    log.write_text("not json\n")
    assert "cannot read report" in one_line_error([str(log)])
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something/1"}')
    assert "not a logtriage report" in one_line_error([str(other)])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "report.json").write_bytes((state / "report.json").read_bytes())
    (broken / "history.duckdb").write_text("not a database")
    assert "cannot open the history" in one_line_error([str(broken)])


def test_a_port_in_use_is_one_line(state: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert "cannot listen on 127.0.0.1" in one_line_error([str(state), "--port", str(port)])


def test_loopback_names() -> None:
    assert all(map(is_loopback, ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "10.0.0.1", "example.org", "")))


def test_serve_prints_its_url_answers_and_stops_on_ctrl_c(state: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "logtriage", "serve", str(state), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        with urllib.request.urlopen(url.group(0) + "routes", timeout=10) as response:
            assert response.status == 200
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        request = urllib.request.Request(url.group(0), method="POST", data=b"x")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 405
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err and "dashboard stopped" in err
