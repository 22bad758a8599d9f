"""Capture real logs of odd settings and odd traffic, to run logtriage on (robustness sweep).

PostgreSQL under unusual settings (French/German messages, auto_explain, verbose errors with a
'%m %r %x %v %e %c ' prefix, a syslog-like prefix), and nginx (escape=json format) and Apache
access logs of raw-socket traffic: bytes that are not UTF-8, quotes and control characters in
the user agent, a 3,000-byte URL, a TLS handshake on the plain port, no HTTP version.

    python scripts/capture_odd_logs.py OUTDIR        # then: logtriage analyze OUTDIR
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.planted_app import serve_app
from tests.e2e.postgres_server import capture
from tests.e2e.webservers import apache_server, nginx_server

PG_SETTINGS = {
    "fr_autoexplain": {
        "log_line_prefix": "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
        "lc_messages": "fr_FR.UTF-8",
        "shared_preload_libraries": "auto_explain",
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_analyze": "on",
    },
    "de_verbose_statement": {
        "log_line_prefix": "%m %r %x %v %e %c ",
        "lc_messages": "de_DE.UTF-8",
        "log_min_duration_statement": "-1",
        "log_statement": "all",
        "log_duration": "on",
        "log_error_verbosity": "verbose",
    },
    "syslogish_terse": {"log_line_prefix": "%t:%r:%u@%d:[%p]:", "log_error_verbosity": "terse"},
}
# nginx's own JSON escaping: control characters, quotes and backslashes; bytes >= 0x80 raw.
NGINX_JSON = (
    'escape=json\' \'{"time":"$time_iso8601","remote_addr":"$remote_addr",'
    '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,'
    '"request_time":$request_time,"upstream_response_time":"$upstream_response_time",'
    '"request_id":"$request_id","http_user_agent":"$http_user_agent",'
    '"http_referer":"$http_referer"}'
)
REQUEST_LINES = (
    b"GET / HTTP/1.1",
    b"GET /products/12 HTTP/1.1",
    b"GET /products/13?q=caf\xc3\xa9&x=\xff\xfe HTTP/1.1",
    b'GET /search?q=%22quoted%22&term=a"b HTTP/1.1',
    b"GET /" + b"a" * 3000 + b" HTTP/1.1",
    b"GET /\xe6\x97\xa5\xe6\x9c\xac HTTP/1.1",
    b"GET /boom HTTP/1.1",
    b"GET /../../etc/passwd HTTP/1.1",
    b"POST /login HTTP/1.1",
    b"GARBAGE",
    b"GET /nohttp",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    b"GET / HTTP/1.0",
)
USER_AGENTS = (
    b"curl/8.0",
    b'Mozilla/5.0 "quoted" \\ back',
    b"bin\x01\x7f\xff ua",
    b"caf\xc3\xa9 \xe2\x98\x83",
    b"",
)


def send(port: int, request_line: bytes, user_agent: bytes) -> None:
    """One request over a raw socket (urllib refuses these bytes); the answer is dropped."""
    message = request_line + b"\r\nHost: localhost\r\n"
    if user_agent:
        message += b"User-Agent: " + user_agent + b"\r\n"
    message += b"X-Request-Id: rid-" + str(time.monotonic_ns()).encode() + b"\r\n"
    message += b"Content-Length: 3\r\n\r\nabc" if request_line.startswith(b"POST") else b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(message)
        with contextlib.suppress(OSError):
            sock.recv(65536)


def capture_web(out: Path) -> None:
    """The nginx (JSON) and Apache (%D) logs of every request line with every user agent."""
    with serve_app() as app:
        for kind in ("nginx", "apache"):
            root = Path(tempfile.mkdtemp(prefix=f"logtriage-odd-{kind}-"))
            server = nginx_server(root, app, NGINX_JSON) if kind == "nginx" else None
            server = server or apache_server(root, app)
            server.start()
            try:
                for line in REQUEST_LINES:
                    for agent in USER_AGENTS:
                        send(server.port, line, agent)
            finally:
                server.stop()
            for path in (*server.access_logs.values(), server.error_log):
                if path.exists():
                    shutil.copyfile(path, out / f"{kind}_{path.name}")
            shutil.rmtree(root, ignore_errors=True)


def main(outdir: str) -> None:
    """Capture everything into ``outdir``."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    capture_web(out)
    for name, settings in PG_SETTINGS.items():
        logs, _ = capture(settings, out / f"pg_{name}")
        print(name, *(str(p) for p in logs.values()))


if __name__ == "__main__":
    main(sys.argv[1])
