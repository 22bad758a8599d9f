"""``logtriage watch`` on the command line: it follows a file, alerts, stops by itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from logtriage.cli import main


def _write_failures(log: Path, after_s: float) -> None:
    time.sleep(after_s)
    stamp = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    with open(log, "a") as out:
        for i in range(30):
            status = 500 if i % 3 == 0 else 200
            out.write(
                f'127.0.0.1 - - [{stamp}] "GET /pay/{i}?password=hunter2 HTTP/1.1" {status} '
                f'10 "-" "curl/8" 0.010 0.010\n'
            )


def test_watch_alerts_into_a_jsonl_file_and_stops_after_duration(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("")
    alerts = tmp_path / "alerts.jsonl"
    writer = threading.Thread(target=_write_failures, args=(log, 0.6))
    writer.start()
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        [
            "watch",
            str(log),
            "--interval",
            "300ms",
            "--window",
            "1m",
            "--duration",
            "3s",
            "--threshold",
            "route-5xx=10%",
            "--alert-jsonl",
            str(alerts),
            "--quiet",
        ],
    )
    writer.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 15
    records = [json.loads(line) for line in alerts.read_text().splitlines()]
    fired = [r for r in records if r["rule"] == "route-5xx"]
    assert [r["state"] for r in fired] == ["firing"]
    assert fired[0]["route"] == "GET /pay/{id}"
    assert fired[0]["evidence"]["errors_5xx"] == 10
    assert "hunter2" not in alerts.read_text()


def test_watch_input_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["watch", str(tmp_path / "nope.log"), "--duration", "1s"])
    assert missing.exit_code == 2
    assert "no such file or directory" in missing.output
    stdin = runner.invoke(main, ["watch", "-", "--duration", "1s"])
    assert stdin.exit_code == 2
    assert "standard input cannot be followed" in stdin.output
    log = tmp_path / "a.log"
    log.write_text("")
    bad = runner.invoke(main, ["watch", str(log), "--interval", "soon"])
    assert bad.exit_code == 2
    assert bad.output.count("\n") == 1 and "cannot read --interval 'soon'" in bad.output
    hook = runner.invoke(main, ["watch", str(log), "--webhook", "ftp://x"])
    assert hook.exit_code == 2 and "http:// or https://" in hook.output


def _holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir())
    except OSError:
        return False


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("")
    watch = subprocess.Popen(
        [sys.executable, "-m", "logtriage", "watch", str(log), "--interval", "200ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Ctrl-C once the follower holds the log open (imports done, loop running), however long
    # start-up takes on a loaded machine: a fixed sleep sent it during the imports.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _holds_open(watch.pid, log):
        time.sleep(0.1)
    time.sleep(0.5)
    watch.send_signal(signal.SIGINT)
    _, err = watch.communicate(timeout=30)
    assert watch.returncode == 0, err
    assert "Traceback" not in err


def test_the_config_file_sets_thresholds_sinks_and_timing_and_flags_win(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("")
    alerts = tmp_path / "alerts.jsonl"
    config = tmp_path / "logtriage.toml"
    config.write_text(
        f"""
[watch]
interval = "300ms"
window = "1m"
alert_jsonl = "{alerts}"

[watch.thresholds]
route-5xx = "90%"
min-requests = 3
"""
    )
    writer = threading.Thread(target=_write_failures, args=(log, 0.6))
    writer.start()
    # The config alone would not fire (90%); the flag's 10% wins over it.
    args = ["watch", str(log), "--config", str(config), "--duration", "3s", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--threshold", "route-5xx=10%"])
    writer.join()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert any(r["rule"] == "route-5xx" and r["state"] == "firing" for r in records), records
    quiet = tmp_path / "quiet.log"
    quiet.write_text("")
    writer = threading.Thread(target=_write_failures, args=(quiet, 0.6))
    writer.start()
    alerts.unlink()
    result = CliRunner().invoke(
        main, ["watch", str(quiet), "--config", str(config), "--duration", "3s", "--quiet"]
    )
    writer.join()
    assert result.exit_code == 0, result.output
    assert not alerts.exists() or not any(
        json.loads(line)["rule"] == "route-5xx" for line in alerts.read_text().splitlines()
    )


def test_an_unknown_watch_setting_in_the_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "logtriage.toml"
    config.write_text('[watch]\nintervall = "5s"\n')
    log = tmp_path / "a.log"
    log.write_text("")
    result = CliRunner().invoke(main, ["watch", str(log), "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown setting 'watch.intervall'" in result.output
    config.write_text('[watch.thresholds]\nroute-p99 = "1s"\n')
    result = CliRunner().invoke(main, ["watch", str(log), "--config", str(config)])
    assert result.exit_code == 2 and "cannot read threshold 'route-p99=1s'" in result.output
