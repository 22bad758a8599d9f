"""Make a real nginx or Apache write its error log: failing upstreams and a missing file."""

from __future__ import annotations

import http.client
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .hosts import free_port
from .webservers import WebServer, apache_server, nginx_server

# The paths asked for: an upstream that times out, one that refuses, a missing file.
REQUESTS = (
    ("/orders/slow?id=7", "timeout"),
    ("/refused/health", "refused"),
    ("/static/missing.css", "missing"),
)


@contextmanager
def hanging_upstream() -> Iterator[int]:
    """A TCP server that accepts connections and never answers (the upstream that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def _configure(kind: str, root: Path, hang_port: int, closed_port: int) -> WebServer:
    """The e2e server config plus a 1 s upstream timeout and a location proxied to nowhere."""
    if kind == "nginx":
        server = nginx_server(root, hang_port)
        conf = root / "nginx.conf"
        text = conf.read_text()
        text = text.replace(
            "        location / {\n",
            f"        location /refused/ {{ proxy_pass http://127.0.0.1:{closed_port}; }}\n"
            "        location / {\n            proxy_read_timeout 1s;\n",
        )
        conf.write_text(text)
        return server
    server = apache_server(root, hang_port)
    conf = root / "apache2.conf"
    text = conf.read_text()
    # Apache logs a missing file at info level (AH00128), proxy failures at error level.
    text = text.replace("LogLevel warn", "LogLevel warn core:info")
    text = text.replace(
        "ProxyPass / ",
        f"ProxyTimeout 1\nProxyPass /refused/ http://127.0.0.1:{closed_port}/\nProxyPass / ",
        1,
    )
    conf.write_text(text)
    return server


def capture_error_log(kind: str, keep: Path) -> tuple[Path, list[int]]:
    """Run ``kind`` against failing upstreams; return its error log and the statuses seen."""
    root = Path(tempfile.mkdtemp(prefix=f"logtriage-e2e-{kind}-errors-"))
    try:
        with hanging_upstream() as hang_port:
            server = _configure(kind, root, hang_port, free_port())
            server.start()
            statuses = []
            try:
                for path, _ in REQUESTS:
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                    conn.request("GET", path, headers={"Host": "shop.test"})
                    statuses.append(conn.getresponse().status)
                    conn.close()
            finally:
                server.stop()
        target = keep / f"{kind}_error.log"
        shutil.copyfile(root / "error.log", target)
        return target, statuses
    finally:
        shutil.rmtree(root, ignore_errors=True)
