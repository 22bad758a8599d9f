"""Where ``watch`` alerts go: the terminal, a JSON-lines file, a command, a Slack-style webhook."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from logtriage.errors import ConfigError
from logtriage.model.alert import Alert, AlertState
from logtriage.model.i18n import _
from logtriage.report.values import severity_name

# Terminal control characters in log content (an escape sequence can rewrite the screen).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


class SinkError(Exception):
    """A sink could not deliver an alert (reported, never fatal)."""


class AlertSink(Protocol):
    """Receives each alert once, already redacted."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise SinkError when it cannot be delivered."""


def alert_json(alert: Alert) -> str:
    """One alert as one JSON line (no line end)."""
    return json.dumps(alert.to_json(), ensure_ascii=False, default=str, separators=(",", ":"))


def _printable(text: str) -> str:
    r"""One line without control characters: each shown as ``\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", " ".join(text.split()))


class TerminalSink:
    """One line per alert on a rich console; log content is shown as text, never as markup."""

    name = "terminal"

    def __init__(self, console: Console) -> None:
        self.console = console

    def send(self, alert: Alert) -> None:
        """Print the alert's line."""
        c = alert.condition
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{alert.at} ", style="dim")
        # The state word in the reader's language, padded so titles line up (JSON: "firing").
        firing, resolved = _("FIRING"), _("RESOLVED")
        width = max(cell_len(firing), cell_len(resolved)) + 1
        if alert.state is AlertState.FIRING:
            line.append(firing + " " * (width - cell_len(firing)), style="bold red")
        else:
            line.append(resolved + " " * (width - cell_len(resolved)), style="bold green")
        line.append(f"{c.code} ", style="bold")
        line.append(
            f"{severity_name(c.severity)} ", style=_SEVERITY_STYLE.get(c.severity.value, "")
        )
        line.append(_printable(c.title))
        self.console.print(line, soft_wrap=True)


class JsonLinesSink:
    """Appends each alert to a JSON-lines file, flushed at once (``tail -f`` friendly)."""

    name = "jsonl"

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._handle: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(
                _("cannot write alerts to {path}: {problem}").format(
                    path=path, problem=exc.strerror or exc
                )
            ) from exc

    def send(self, alert: Alert) -> None:
        """Append one line."""
        try:
            self._handle.write(alert_json(alert) + "\n")
            self._handle.flush()
        except OSError as exc:
            raise SinkError(
                _("cannot write {path}: {problem}").format(
                    path=self.path, problem=exc.strerror or exc
                )
            ) from exc

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


class CommandSink:
    """Runs a command per alert with the alert JSON on its standard input.

    The command is an argument list run without a shell: nothing from a log line can become
    part of a command line.
    """

    name = "command"

    def __init__(self, argv: list[str], timeout_s: float = 10.0) -> None:
        if not argv:
            raise ConfigError(_("--alert-command is empty"))
        self.argv = argv
        self.timeout_s = timeout_s

    def send(self, alert: Alert) -> None:
        """Run the command; a failure or a non-zero exit is a SinkError."""
        try:
            done = subprocess.run(
                self.argv,
                input=(alert_json(alert) + "\n").encode(),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise SinkError(
                _("alert command not found: {command}").format(command=self.argv[0])
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise SinkError(
                _("alert command took over {seconds:g} s: {command}").format(
                    seconds=self.timeout_s, command=self.argv[0]
                )
            ) from exc
        except OSError as exc:
            raise SinkError(
                _("cannot run {command}: {problem}").format(
                    command=self.argv[0], problem=exc.strerror or exc
                )
            ) from exc
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip().splitlines()
            tail = f": {said[-1][:200]}" if said else ""
            raise SinkError(
                _("alert command exited with {code}").format(code=done.returncode) + tail
            )


def slack_escape(text: str) -> str:
    """Escape Slack's control characters so log content cannot make links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict[str, Any]:
    """A Slack-compatible message (``text`` for notifications, ``blocks`` for the layout)."""
    c = alert.condition
    state = _("Firing") if alert.state is AlertState.FIRING else _("Resolved")
    icon = ":rotating_light:" if alert.state is AlertState.FIRING else ":white_check_mark:"
    title = slack_escape(c.title)
    text = f"{icon} {state} {c.code} {c.name} ({severity_name(c.severity)}): {title}"
    evidence = "\n".join(
        f"• {slack_escape(str(k))}: {slack_escape(json.dumps(v, default=str))}"
        for k, v in c.evidence.items()
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _("since {since} · at {at} · rule {rule}").format(
                        since=alert.since, at=alert.at, rule=slack_escape(c.rule)
                    ),
                }
            ],
        },
    ]
    if evidence:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": evidence[:2900]}})
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{_('Fix:')}* {slack_escape(c.fix)}"},
        }
    )
    return {"text": text, "blocks": blocks}


class WebhookSink:
    """POSTs a Slack-compatible JSON payload to the URL the user gave.

    The tool's only network call, made only with ``--webhook``.
    """

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                _("--webhook needs an http:// or https:// URL, not {url}").format(url=repr(url))
            )
        self.url = url
        self.timeout_s = timeout_s
        # Shown in messages without a token that may sit in the path (Slack's hooks do).
        self.shown = f"{parts.scheme}://{parts.netloc}"

    def send(self, alert: Alert) -> None:
        """POST the payload; a network error or a non-2xx answer is a SinkError."""
        body = json.dumps(slack_payload(alert), ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "logtriage-watch"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                answer.read(1024)
        except urllib.error.HTTPError as exc:
            raise SinkError(
                _("webhook {url} answered {code}").format(url=self.shown, code=exc.code)
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SinkError(
                _("webhook {url} failed: {problem}").format(url=self.shown, problem=reason)
            ) from exc
