"""Running the dashboard: bind the socket ourselves (clear errors, real port), then uvicorn."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

import uvicorn

from logtriage.engine.explore import SavedAnalysis
from logtriage.model.rules import RuleDoc
from logtriage.serve.app import LOOPBACK_HOSTS, create_app
from logtriage.serve.pages import time_charts


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free one); OSError when taken."""
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bare, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The address a browser opens for ``sock``."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    saved: SavedAnalysis,
    rules: Sequence[RuleDoc],
    sock: socket.socket,
    *,
    on_ready: Callable[[str], None] = lambda _: None,
) -> None:
    """Serve the dashboard on ``sock`` until Ctrl-C (or SIGTERM); returns after a clean stop."""
    host = sock.getsockname()[0]
    # A loopback dashboard answers only to loopback names (no DNS rebinding); a deliberately
    # remote one answers whatever name its users reach it by.
    allowed: Sequence[str] = LOOPBACK_HOSTS if is_loopback(host) else ("*",)
    app = create_app(saved, rules, allowed_hosts=allowed)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    # The chart engine takes about half a second to start: pay it now, not on the first page
    # (the overview's charts are then already drawn and cached).
    time_charts(saved.report.timeseries)
    on_ready(url_of(sock))
    server.run(sockets=[sock])
