"""Start and stop a real HAProxy on 127.0.0.1 in front of a real nginx, logging what it serves.

HAProxy (``option httplog``) proxies to three backends: ``web`` (the nginx of
``webservers.nginx_server``, itself in front of the planted app), ``gone`` (a port nothing
listens on: 503 ``SC--``) and ``hurried`` (the same nginx with a 150 ms server timeout: 504
``sH--`` on the slow route). It logs every request twice: ``log stdout format raw`` (the
container way, no syslog head) and RFC 3164 syslog datagrams to a UDP port read here (the
``<134>Nov 25 19:20:00 haproxy[pid]: …`` head). A unique id (``%[uuid()]``) is sent to the
servers as ``X-Request-ID`` and captured into the log's ``{…}`` block.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .hosts import find_binary, free_port
from .webservers import ServerUnavailable, WebServer, nginx_server

HURRIED_TIMEOUT_MS = 150


class SyslogReceiver:
    """A UDP syslog listener on 127.0.0.1 that appends each datagram as one line to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(type=socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._run, name="syslog-udp", daemon=True)
        self.running = True

    def _run(self) -> None:
        with open(self.path, "ab") as out:
            while self.running:
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                out.write(data.rstrip(b"\n") + b"\n")
                out.flush()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        # HAProxy sends its last datagrams as it stops: drain them before closing.
        time.sleep(0.3)
        self.running = False
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self.sock.close()


@dataclass
class HaproxyStack:
    """HAProxy in front of nginx, the syslog receiver, and the two logs HAProxy writes."""

    root: Path
    port: int
    command: list[str]
    nginx: WebServer
    syslog: SyslogReceiver
    process: subprocess.Popen[bytes] | None = None

    @property
    def logs(self) -> dict[str, Path]:
        """``raw``: ``log stdout format raw``; ``syslog``: the RFC 3164 datagrams."""
        return {"raw": self.root / "stdout.log", "syslog": self.syslog.path}

    def _errors(self) -> str:
        path = self.root / "stderr.log"
        return path.read_text(errors="replace").strip()[-2000:] if path.exists() else ""

    def start(self, timeout_s: float = 15.0) -> None:
        """Start nginx, the receiver and HAProxy; wait until HAProxy accepts connections."""
        self.nginx.start()
        self.syslog.start()
        with (
            open(self.root / "stdout.log", "wb") as out,
            open(self.root / "stderr.log", "wb") as err,
        ):
            self.process = subprocess.Popen(self.command, cwd=self.root, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"haproxy exited at start: {self._errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"haproxy did not listen on {self.port}: {self._errors()}")

    def stop(self) -> None:
        """Soft stop (SIGUSR1: finish what is in flight), then nginx and the receiver."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGUSR1)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        finally:
            self.nginx.stop()
            self.syslog.stop()


def haproxy_stack(root: Path, upstream_port: int) -> HaproxyStack:
    """Configure (not start) HAProxy and nginx in ``root``; nginx proxies to the planted app."""
    binary = find_binary("haproxy")
    if binary is None:
        raise ServerUnavailable("haproxy is not installed")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    nginx = nginx_server(root / "nginx", upstream_port)
    syslog = SyslogReceiver(root / "syslog.log")
    port = free_port()
    closed = free_port()
    config = f"""
global
    log stdout format raw local0
    log 127.0.0.1:{syslog.port} len 4096 local0
    pidfile {root}/haproxy.pid

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend http-in
    bind 127.0.0.1:{port}
    unique-id-format %[uuid()]
    unique-id-header X-Request-ID
    http-request capture unique-id len 40
    use_backend gone if {{ path_beg /gone }}
    use_backend hurried if {{ path_beg /hurried }}
    default_backend web

backend web
    server nginx1 127.0.0.1:{nginx.port}

backend gone
    server dead1 127.0.0.1:{closed}

backend hurried
    timeout server {HURRIED_TIMEOUT_MS}ms
    http-request set-path %[path,regsub(^/hurried,)]
    server nginx1 127.0.0.1:{nginx.port}
"""
    (root / "haproxy.cfg").write_text(config)
    command = [binary, "-db", "-f", str(root / "haproxy.cfg")]
    return HaproxyStack(root=root, port=port, command=command, nginx=nginx, syslog=syslog)
