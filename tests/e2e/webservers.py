"""Start and stop a real nginx or Apache httpd on 127.0.0.1 with their own config and logs.

Each server runs in the foreground as a child process, from a private directory that holds
its config, pid file, error log, access logs and static files, and proxies everything but
``/static/`` and ``/favicon.ico`` to the planted app. Both write two access logs: one with
latency (nginx ``$request_time $upstream_response_time $request_id``, Apache ``%D``) and one
in plain ``combined``, which has none.
"""

from __future__ import annotations

import grp
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from logtriage.sources.nginx import INGRESS_NGINX

from .hosts import find_binary, free_port

NGINX_TIMED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time $upstream_response_time $request_id'
)
APACHE_TIMED = r"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D"
APACHE_COMBINED = r"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""

STATIC_FILES = {
    "static/app.css": b"body{font-family:sans-serif}\n" * 40,
    "static/app.js": b"console.log('shop');\n" * 120,
    "static/logo.png": bytes(range(256)) * 12,
    "favicon.ico": bytes(range(64)) * 5,
}
# Where distributions put the binaries and Apache's modules.
_APACHE_MODULE_DIRS = (
    "/usr/lib/apache2/modules",
    "/usr/lib64/httpd/modules",
    "/usr/lib/httpd/modules",
    "/usr/libexec/apache2",
)
_APACHE_MODULES = (
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("mime_module", "mod_mime.so"),
    ("remoteip_module", "mod_remoteip.so"),
    ("headers_module", "mod_headers.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
)


class ServerUnavailable(RuntimeError):
    """The server binary (or a module it needs) is not installed."""


def _worker_identity() -> tuple[str, str] | None:
    """As root, the unprivileged user the workers switch to (as packaged configs do)."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody", "daemon"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, grp.getgrgid(user.pw_gid).gr_name
    return None


@dataclass
class WebServer:
    """One running server: its directory, port and access logs (``timed``, ``combined``)."""

    kind: str
    root: Path
    port: int
    command: list[str]
    stop_signal: signal.Signals
    process: subprocess.Popen[bytes] | None = None
    access_logs: dict[str, Path] = field(default_factory=dict)

    @property
    def error_log(self) -> Path:
        """The server's own error log (shown when it fails to start)."""
        return self.root / "error.log"

    def _tail_errors(self) -> str:
        logs = (self.error_log, self.root / "stderr.log")
        text = "".join(p.read_text(errors="replace") for p in logs if p.exists())
        return text.strip()[-2000:]

    def start(self, timeout_s: float = 15.0) -> None:
        """Start in the foreground and wait until the port accepts connections."""
        with open(self.root / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                self.command, cwd=self.root, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.process.returncode} at start: "
                    f"{self._tail_errors()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not listen on {self.port}: {self._tail_errors()}")

    def stop(self, timeout_s: float = 15.0) -> None:
        """Graceful stop: in-flight requests finish and are logged before the server exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _prepare(root: Path) -> None:
    """Static files, readable by the unprivileged workers (the whole tree is 0755/0644)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for name, data in STATIC_FILES.items():
        path = root / "www" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for directory in (root / "www", root / "www" / "static"):
        directory.chmod(0o755)


def nginx_server(root: Path, upstream_port: int, timed_format: str = NGINX_TIMED) -> WebServer:
    """Configure (not start) nginx in ``root``, proxying to the app on ``upstream_port``."""
    binary = find_binary("nginx")
    if binary is None:
        raise ServerUnavailable("nginx is not installed")
    _prepare(root)
    port = free_port()
    identity = _worker_identity()
    user = f"user {identity[0]} {identity[1]};" if identity else ""
    temp = "\n".join(
        f"    {kind}_temp_path {root}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = f"""
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
{temp}
    types {{ text/css css; application/javascript js; image/png png; image/x-icon ico; }}
    default_type application/octet-stream;
    log_format timed '{timed_format}';
    # Kubernetes ingress-nginx's default format, with the variables its template defines.
    map $http_x_request_id $req_id {{ default $http_x_request_id; "" $request_id; }}
    log_format upstreaminfo '{INGRESS_NGINX}';
    # The nginx.conf that nginx ships (and the official Docker image uses) defines "main".
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for"';
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {root}/access.log timed;
        access_log {root}/access_combined.log combined;
        access_log {root}/access_ingress.log upstreaminfo;
        access_log {root}/access_main.log main;
        set $proxy_upstream_name "default-app-80";
        set $proxy_alternative_upstream_name "";
        # The test client plays the load balancer: the client address is in X-Forwarded-For.
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        location /static/ {{ root {root}/www; }}
        location = /favicon.ico {{ root {root}/www; }}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header Host $host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""
    (root / "tmp").mkdir(exist_ok=True)
    (root / "nginx.conf").write_text(config)
    command = [
        binary,
        "-p",
        str(root),
        "-c",
        str(root / "nginx.conf"),
        "-e",
        str(root / "error.log"),
    ]
    return WebServer(
        kind="nginx",
        root=root,
        port=port,
        command=[*command, "-g", "daemon off;"],
        stop_signal=signal.SIGQUIT,
        access_logs={
            "timed": root / "access.log",
            "combined": root / "access_combined.log",
            "ingress": root / "access_ingress.log",
            "main": root / "access_main.log",
        },
    )


def apache_server(root: Path, upstream_port: int) -> WebServer:
    """Configure (not start) Apache httpd in ``root``, proxying to the app on ``upstream_port``."""
    binary = find_binary("apache2", "httpd")
    if binary is None:
        raise ServerUnavailable("Apache httpd (apache2) is not installed")
    modules_dir = next((d for d in _APACHE_MODULE_DIRS if os.path.isdir(d)), None)
    if modules_dir is None:
        raise ServerUnavailable("Apache httpd modules directory not found")
    missing = [so for _, so in _APACHE_MODULES if not os.path.exists(f"{modules_dir}/{so}")]
    if missing:
        raise ServerUnavailable(f"Apache httpd modules missing: {', '.join(missing)}")
    _prepare(root)
    (root / "run").mkdir(exist_ok=True)
    port = free_port()
    identity = _worker_identity()
    user = f"User {identity[0]}\nGroup {identity[1]}" if identity else ""
    loads = "\n".join(f"LoadModule {name} {modules_dir}/{so}" for name, so in _APACHE_MODULES)
    upstream = f"http://127.0.0.1:{upstream_port}"
    config = f"""
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/apache.pid"
DefaultRuntimeDir "{root}/run"
ErrorLog "{root}/error.log"
LogLevel warn
{loads}
{user}
StartServers 1
ServerLimit 1
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 4
MaxSpareThreads 32
TypesConfig /dev/null
AddType text/css .css
AddType application/javascript .js
AddType image/png .png
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Require all granted
</Directory>
LogFormat "{APACHE_TIMED}" timed
LogFormat "{APACHE_COMBINED}" combined
CustomLog "{root}/access.log" timed
CustomLog "{root}/access_combined.log" combined
# The test client plays the load balancer: the client address is in X-Forwarded-For.
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
ProxyPass /static/ !
ProxyPass /favicon.ico !
ProxyPass / {upstream}/
ProxyPassReverse / {upstream}/
"""
    (root / "apache2.conf").write_text(config)
    return WebServer(
        kind="apache",
        root=root,
        port=port,
        command=[binary, "-d", str(root), "-f", str(root / "apache2.conf"), "-DFOREGROUND"],
        # graceful-stop: finish (and log) the requests in flight, then exit.
        stop_signal=signal.SIGWINCH,
        access_logs={"timed": root / "access.log", "combined": root / "access_combined.log"},
    )
