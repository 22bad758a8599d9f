"""Alert sinks: a command (JSON on stdin, no shell), a webhook (real local HTTP), JSON lines."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

from logtriage.engine.watch_rules import AlertBook
from logtriage.errors import ConfigError
from logtriage.model.alert import Alert, Condition
from logtriage.model.finding import Severity
from logtriage.report.alert_sinks import (
    CommandSink,
    JsonLinesSink,
    SinkError,
    TerminalSink,
    WebhookSink,
    slack_payload,
)

SECRET = "sk_live_abcdefghijklmnop1234"


def _alert(title: str = "GET /pay answered 40.0% 5xx") -> Alert:
    condition = Condition(
        key="route-5xx:GET /pay",
        rule="route-5xx",
        code="A001",
        name="error-prone-route",
        severity=Severity.HIGH,
        title=title,
        fix="roll back",
        evidence={"requests": 50, "errors_5xx": 20, "note": f"api_key={SECRET}"},
        route="GET /pay",
    )
    (alert,) = AlertBook().update({condition.key: condition}, "2026-11-25T10:00:00Z")
    return alert


def test_command_gets_the_alert_json_on_stdin_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = tmp_path / "receive.py"
    script.write_text(
        "import sys, pathlib\npathlib.Path(sys.argv[1]).write_text(sys.stdin.read())\n"
    )
    # A title with shell syntax reaches the command as data, never as a command line.
    CommandSink([sys.executable, str(script), str(out)]).send(_alert("$(touch pwned); `id`"))
    record = json.loads(out.read_text())
    assert record["state"] == "firing"
    assert record["code"] == "A001"
    assert record["title"] == "$(touch pwned); `id`"
    assert SECRET not in out.read_text()
    assert not (tmp_path / "pwned").exists()


def test_a_failing_command_is_a_sink_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="exited with 3: boom"):
        CommandSink(
            [sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"]
        ).send(_alert())
    with pytest.raises(SinkError, match="not found"):
        CommandSink([str(tmp_path / "no-such-command")]).send(_alert())


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"body": json.loads(body), "type": self.headers["Content-Type"], "path": self.path}
        )
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX", handler
    server.shutdown()
    server.server_close()


def test_webhook_posts_a_slack_compatible_payload(
    hook: tuple[str, type[_Hook]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    url, handler = hook
    WebhookSink(url).send(_alert("<!channel> <http://evil.example|click> & more"))
    (got,) = handler.received
    assert got["type"] == "application/json"
    assert got["path"] == "/services/T000/B000/XXXX"
    payload = got["body"]
    assert set(payload) == {"text", "blocks"}
    # Log content cannot mention everyone or make a link in Slack.
    assert "<!channel>" not in payload["text"]
    assert "&lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; more" in payload["text"]
    assert all(block["type"] in ("section", "context") for block in payload["blocks"])
    assert SECRET not in json.dumps(payload)


def test_webhook_failures_are_reported_not_raised_as_crashes(
    hook: tuple[str, type[_Hook]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    url, handler = hook
    handler.status = 500
    with pytest.raises(SinkError, match="answered 500"):
        WebhookSink(url).send(_alert())
    # The token in the URL's path is not repeated in the message.
    with pytest.raises(SinkError, match=r"webhook http://127\.0\.0\.1:1 failed") as info:
        WebhookSink("http://127.0.0.1:1/services/T/B/SECRETTOKEN", timeout_s=2).send(_alert())
    assert "SECRETTOKEN" not in str(info.value)


def test_webhook_needs_an_http_url() -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        WebhookSink("file:///etc/passwd")


def test_jsonl_and_terminal_sinks(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(str(path))
    sink.send(_alert())
    sink.send(_alert("[bold]not markup[/bold]"))
    sink.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["title"] for r in records] == [
        "GET /pay answered 40.0% 5xx",
        "[bold]not markup[/bold]",
    ]
    assert records[0]["schema"] == "logtriage.alert/1"
    assert records[0]["evidence"]["note"] == "api_key=[REDACTED]"
    buffer = StringIO()
    TerminalSink(Console(file=buffer, width=60)).send(_alert("[bold]not markup[/bold] " + "x" * 80))
    shown = buffer.getvalue()
    assert shown.count("\n") == 1
    assert "FIRING" in shown and "[bold]not markup[/bold]" in shown


def test_slack_payload_resolved_wording() -> None:
    alert = _alert()
    from dataclasses import replace

    from logtriage.model.alert import AlertState

    payload = slack_payload(replace(alert, state=AlertState.RESOLVED))
    assert payload["text"].startswith(":white_check_mark: Resolved A001")


def test_terminal_line_shows_control_characters_escaped() -> None:
    buffer = StringIO()
    TerminalSink(Console(file=buffer, width=200)).send(_alert("GET /\x1b[2J\x1b]0;owned\x07 500"))
    shown = buffer.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "GET /\\x1b[2J\\x1b]0;owned\\x07 500" in shown
