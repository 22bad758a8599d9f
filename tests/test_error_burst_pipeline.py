"""A002 through the whole pipeline: an nginx log and a gunicorn/Flask text log, read by the readers.

Two hours of ordinary traffic; at 10:30 gunicorn boots a new worker and for two minutes
POST /checkout fails with 502 while the app logs tracebacks. The finding must name the window,
the route, the exception class the readers took from the tracebacks, and the boot line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from logtriage import api
from tests.conftest import nginx_line

T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
BURST = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/srv/shop/views.py", line 88, in checkout',
    "    charge = gateway.charge(cart)",
    '  File "/srv/shop/gateway.py", line 41, in charge',
    "    raise GatewayTimeout(f'gateway did not answer in {timeout} s')",
    "shop.gateway.GatewayTimeout: gateway did not answer in 30 s",
]


def _access_log(path: Path) -> None:
    lines = [
        nginx_line(T0 + timedelta(seconds=10 * i), "GET", f"/orders/{i}", 200, 0.02)
        for i in range(720)
    ]
    lines += [
        nginx_line(BURST + timedelta(seconds=2 * i), "POST", "/checkout", 502, 0.0)
        for i in range(60)
    ]
    lines.sort(key=lambda line: line.split("[", 1)[1][:20])
    path.write_text("\n".join(lines) + "\n")


def _app_log(path: Path) -> None:
    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%d %H:%M:%S,") + f"{when.microsecond // 1000:03d}"

    lines = []
    for i in range(0, 7200, 300):
        lines.append(f"[{stamp(T0 + timedelta(seconds=i))}] INFO in views: order loaded")
    boot = BURST - timedelta(seconds=20)
    lines.append(f"[{boot:%Y-%m-%d %H:%M:%S} +0000] [4242] [INFO] Booting worker with pid: 4242")
    for i in range(40):
        when = BURST + timedelta(seconds=3 * i)
        lines.append(f"[{stamp(when)}] ERROR in views: Exception on /checkout [POST]")
        lines.extend(TRACEBACK)
    path.write_text("\n".join(sorted_entries(lines)) + "\n")


def sorted_entries(lines: list[str]) -> list[str]:
    """Keep each traceback under its entry while ordering entries by time."""
    entries: list[list[str]] = []
    for line in lines:
        if line.startswith("["):
            entries.append([line])
        else:
            entries[-1].append(line)
    entries.sort(key=lambda e: e[0][1:20])
    return [line for entry in entries for line in entry]


def test_burst_named_with_route_exception_and_boot_line(tmp_path: Path) -> None:
    access, app = tmp_path / "access.log", tmp_path / "app.log"
    _access_log(access)
    _app_log(app)
    report = api.analyze([str(access), str(app)])
    assert {i.format for i in report.inputs} == {"nginx", "app_text"}
    app_input = next(i for i in report.inputs if i.format == "app_text")
    assert app_input.rejected == 0
    bursts = [f for f in report.findings if f.code == "A002"]
    assert len(bursts) == 1, [f.title for f in bursts]
    burst = bursts[0]
    assert burst.evidence["start"] == "2026-11-24T10:30:00"
    assert burst.evidence["end"] == "2026-11-24T10:32:00"
    assert burst.evidence["errors"] == {"http": 60, "app": 40}
    assert burst.evidence["routes"][0]["route"] == "POST /checkout"
    assert burst.evidence["routes"][0]["statuses"] == {"502": 60}
    top = burst.evidence["top_messages"][0]
    assert top["message"] == "shop.gateway.GatewayTimeout: Exception on /checkout [POST]"
    assert top["count"] == 40
    assert any("Booting worker" in m["message"] for m in burst.evidence["markers"])
    assert "Booting worker with pid" in burst.fix
    assert burst.severity.value == "high"
