"""Real nginx and Apache error logs: what the servers wrote about failing upstreams is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtriage import api

from .error_logs import REQUESTS, capture_error_log
from .webservers import ServerUnavailable

pytestmark = pytest.mark.e2e

# The kinds each server's reader must name for the planted failures (timeout, refused).
KINDS = {
    "nginx": {"upstream timed out (Connection timed out)", "connect() failed (Connection refused)"},
    "apache": {
        "error reading status line from remote server (The timeout specified has expired)",
        "attempt to connect to failed (Connection refused)",
    },
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_error_log_the_server_wrote_is_read(kind: str, tmp_path: Path) -> None:
    try:
        log, statuses = capture_error_log(kind, tmp_path)
    except ServerUnavailable as exc:
        pytest.fail(f"{exc}: run `make system`", pytrace=False)
    # The client saw the failures: a gateway error for each upstream, a 404 for the file.
    assert [s >= 500 for s in statuses] == [True, True, False]
    summary, rows, rejects = api.records(str(log))
    assert summary.format == f"{kind}_error"
    assert rejects == []
    assert summary.records == len(log.read_text().splitlines())
    errors = [r for r in rows if r["level"] == "ERROR"]
    assert KINDS[kind] <= {r["error_type"] for r in errors}
    assert all(r["ts"] is not None for r in errors)
    # Apache's connect failure is logged by the worker without the client; the others name it.
    clients = [r["attributes"].get("client") for r in errors]
    assert "127.0.0.1" in clients and set(clients) <= {"127.0.0.1", None}
    if kind == "nginx":
        # nginx names the request and upstream of each failure.
        requests = {r["attributes"]["request"] for r in rows}
        assert requests == {f"GET {path} HTTP/1.1" for path, _ in REQUESTS}
        assert all(r["attributes"]["upstream"].startswith("http://127.0.0.1:") for r in errors)
    # The missing file is a client's 404, not a server error.
    missing = [r for r in rows if "missing.css" in r["message"]]
    assert missing and all(r["level"] == "INFO" for r in missing)


def test_error_burst_sees_the_server_errors(tmp_path: Path) -> None:
    log, _ = capture_error_log("nginx", tmp_path)
    # Many copies of the real lines, each a second apart, after a quiet hour: a burst.
    lines = log.read_text().splitlines()
    failures = [line for line in lines if "upstream" in line]
    quiet = [
        f"2026/11/25 09:{m:02d}:00 [notice] 1#1: signal 1 (SIGHUP) received" for m in range(60)
    ]
    burst = [
        f"2026/11/25 10:00:{s:02d}" + failure[len("2026/11/25 00:00:00") :]
        for s in range(40)
        for failure in failures
    ]
    planted = tmp_path / "error.log"
    planted.write_text("\n".join(quiet + burst) + "\n")
    report = api.analyze([str(planted)])
    bursts = [f for f in report.findings if f.code == "A002"]
    assert bursts, [f.code for f in report.findings]
    assert "upstream timed out" in str(bursts[0].evidence)
