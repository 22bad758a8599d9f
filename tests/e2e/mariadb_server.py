"""Start and stop a private MariaDB server on 127.0.0.1 and run a known workload on it.

The server lives in its own directory under /tmp (``mariadb-install-db --no-defaults``), listens
on a free port of 127.0.0.1 and on a Unix socket inside that directory, and writes the slow log
(every statement: ``long_query_time=0``, ``log_slow_verbosity=query_plan,explain``), the
general log and the error log there. ``WORKLOAD`` is what the readers must find: multi-line and
sqlcommenter-tagged statements, a slow one, a failing one, SQL-level PREPARE/EXECUTE,
server-side prepared statements (the binary protocol, through Perl DBD::mysql, which
percona-toolkit pulls in), a deadlock between two sessions, and a server restart in the middle
(the logs get a second start-up banner and thread ids start again).

Run ``python -m tests.e2e.mariadb_server OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .hosts import find_binary, free_port

SKIP_ENV = "LOGTRIAGE_SKIP_E2E"

SETUP_SQL = """
CREATE DATABASE shop;
CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw';
GRANT ALL ON shop.* TO 'app'@'127.0.0.1';
CREATE TABLE shop.users (id INT PRIMARY KEY, name VARCHAR(50), email VARCHAR(100), KEY (name));
INSERT INTO shop.users VALUES (1, 'alice', 'a@example.com'), (2, 'bob', 'b@example.com'),
  (3, 'carol', 'c@example.com');
CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT) ENGINE=InnoDB;
INSERT INTO shop.stock VALUES (1, 10), (2, 20);
"""


@dataclass(frozen=True)
class Statement:
    """One workload statement as the server must log it (the client sends it with ``;``)."""

    sql: str
    # What the readers must report for it.
    fails: bool = False
    min_duration_ms: float = 0.0
    rows_sent: int | None = None
    # What the client sends, when the log shows something else (EXECUTE logs what it ran).
    sent: str | None = None


# Sent by the `mariadb` CLI as user `app` over TCP, database `shop`, with comments kept.
APP_SESSION: tuple[Statement, ...] = (
    Statement(
        "SELECT id, name FROM users WHERE id = 1 /*controller='users',action='show',"
        "traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/",
        rows_sent=1,
    ),
    Statement(
        "SELECT u.id,\n       u.name\n  FROM users u\n WHERE u.email LIKE '%@example.com'\n"
        " ORDER BY u.name",
        rows_sent=3,
    ),
    Statement("/* request_id=req-42 */ SELECT count(*) FROM users", rows_sent=1),
    Statement("SELECT SLEEP(0.2)", min_duration_ms=200.0, rows_sent=1),
    Statement("SELECT * FROM no_such_table", fails=True),
    Statement("UPDATE users SET name = 'it''s; tricky' WHERE id = 2"),
    Statement("PREPARE s1 FROM 'SELECT name FROM users WHERE id = ?'"),
    Statement("SET @a = 3"),
    # The slow log shows what EXECUTE ran; the general log shows the EXECUTE and then that.
    Statement("SELECT name FROM users WHERE id = 3", rows_sent=1, sent="EXECUTE s1 USING @a"),
    Statement("DEALLOCATE PREPARE s1"),
)
# Server-side prepared statements (COM_STMT_PREPARE/EXECUTE) as the logs show them executed.
PREPARED_SESSION: tuple[Statement, ...] = (
    Statement("SELECT name FROM users WHERE id = '1'", rows_sent=1),
    Statement("SELECT name FROM users WHERE id = '2'", rows_sent=1),
    Statement("INSERT INTO users (id, name, email) VALUES ('4', 'dave', 'd@example.com')"),
)
_PREPARED_PERL = r"""
use strict; use DBI;
my ($sock) = @ARGV;
my $dbh = DBI->connect("DBI:mysql:database=shop;mysql_socket=$sock;mysql_server_prepare=1",
                       "root", "", {RaiseError => 1, PrintError => 0});
my $sth = $dbh->prepare("SELECT name FROM users WHERE id = ?");
$sth->execute($_) for (1, 2);
$sth->finish;
$dbh->do("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", undef, 4, "dave",
         "d\@example.com");
$dbh->disconnect;
"""
# Two sessions lock rows 1 and 2 in opposite order: InnoDB kills one with error 1213.
DEADLOCK_SESSIONS = (
    "BEGIN; UPDATE stock SET qty = qty - 1 WHERE id = 1; SELECT SLEEP(0.5);"
    " UPDATE stock SET qty = qty - 1 WHERE id = 2; COMMIT;",
    "BEGIN; UPDATE stock SET qty = qty + 1 WHERE id = 2; SELECT SLEEP(0.5);"
    " UPDATE stock SET qty = qty + 1 WHERE id = 1; COMMIT;",
)
# After the restart: one more statement from a new connection.
AFTER_RESTART: tuple[Statement, ...] = (
    Statement("SELECT name FROM users WHERE id = 4", rows_sent=1),
)


class MariadbUnavailable(RuntimeError):
    """The MariaDB server, its client, or Perl DBD::mysql is not installed."""


@dataclass
class MariadbServer:
    """One private server: binaries, directory, port; started and stopped by the caller."""

    root: Path
    server: str
    install_db: str
    client: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        """The server's Unix socket (root connects there, the app over TCP)."""
        return self.root / "mysqld.sock"

    @property
    def logs(self) -> dict[str, Path]:
        """The logs the server writes: ``slow``, ``general`` and ``error``."""
        return {name: self.root / f"{name}.log" for name in ("slow", "general", "error")}

    def install(self) -> None:
        """Create the system tables in a fresh data directory."""
        result = subprocess.run(
            [
                self.install_db,
                "--no-defaults",
                f"--datadir={self.root / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *(["--user=root"] if os.geteuid() == 0 else []),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {result.stderr[-2000:]}")

    def start(self, timeout_s: float = 60.0) -> None:
        """Start in the foreground and wait until the socket accepts a query."""
        logs = self.logs
        command = [
            self.server,
            "--no-defaults",
            f"--datadir={self.root / 'data'}",
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.root / 'mysqld.pid'}",
            f"--log-error={logs['error']}",
            "--slow-query-log",
            f"--slow-query-log-file={logs['slow']}",
            "--long-query-time=0",
            "--log-slow-verbosity=query_plan,explain",
            "--general-log",
            f"--general-log-file={logs['general']}",
            "--innodb-print-all-deadlocks=ON",
            "--innodb-buffer-pool-size=16M",
            "--skip-log-bin",
            *(["--user=root"] if os.geteuid() == 0 else []),
        ]
        with open(self.root / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited at start: {self._tail_errors()}")
            if self.socket.exists() and self.query("SELECT 1", user="root").returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"mariadbd did not start: {self._tail_errors()}")

    def stop(self, timeout_s: float = 60.0) -> None:
        """Shut down cleanly (SIGTERM), so every log line is flushed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def _tail_errors(self) -> str:
        paths = (self.logs["error"], self.root / "stderr.log")
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())[-2000:]

    def query(
        self, sql: str, *, user: str = "app", database: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sql`` with the ``mariadb`` CLI: root over the socket, ``app`` over TCP."""
        if user == "root":
            target = [f"--socket={self.socket}", "--user=root"]
        else:
            target = ["--protocol=TCP", "--host=127.0.0.1", f"--port={self.port}"]
            target += ["--user=app", "--password=app-pw"]
        command = [self.client, "--no-defaults", *target, "--comments", "--force", "--batch"]
        if database:
            command.append(f"--database={database}")
        return subprocess.run(
            command, input=sql, capture_output=True, text=True, check=False, timeout=60
        )


def mariadb_server(root: Path) -> MariadbServer:
    """Configure (not start) a server in ``root``; raise MariadbUnavailable when not installed."""
    server = find_binary("mariadbd", "mysqld")
    install_db = find_binary("mariadb-install-db", "mysql_install_db")
    client = find_binary("mariadb", "mysql")
    missing = [
        name
        for name, path in (("mariadbd", server), ("mariadb-install-db", install_db))
        if path is None
    ] + (["mariadb (client)"] if client is None else [])
    if missing or server is None or install_db is None or client is None:
        raise MariadbUnavailable(f"{', '.join(missing)} not installed (Debian: mariadb-server)")
    perl = subprocess.run(
        ["perl", "-MDBD::mysql", "-e", "1"], capture_output=True, check=False
    ).returncode
    if perl != 0:
        raise MariadbUnavailable("Perl DBD::mysql not installed (Debian: libdbd-mysql-perl)")
    root.mkdir(parents=True, exist_ok=True)
    return MariadbServer(
        root=root, server=server, install_db=install_db, client=client, port=free_port()
    )


@dataclass(frozen=True)
class Workload:
    """What was sent, and what the client saw fail."""

    statements: tuple[Statement, ...]
    errors: str
    deadlock_errors: int


def _script(statements: tuple[Statement, ...]) -> str:
    return "".join(f"{s.sent or s.sql};\n" for s in statements)


def run_workload(server: MariadbServer) -> Workload:
    """Send the whole workload, restarting the server once in the middle."""
    setup = server.query(SETUP_SQL, user="root")
    if setup.returncode != 0:
        raise RuntimeError(f"setup failed: {setup.stderr}")
    app = server.query(_script(APP_SESSION), database="shop")
    prepared = subprocess.run(
        ["perl", "-e", _PREPARED_PERL, str(server.socket)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if prepared.returncode != 0:
        raise RuntimeError(f"prepared statements failed: {prepared.stderr}")
    deadlock_errors = _deadlock(server)
    server.stop()
    server.start()
    after = server.query(_script(AFTER_RESTART), database="shop")
    return Workload(
        statements=APP_SESSION + PREPARED_SESSION + AFTER_RESTART,
        errors=app.stderr + after.stderr,
        deadlock_errors=deadlock_errors,
    )


def _deadlock(server: MariadbServer) -> int:
    """Run the two crossing sessions at once; return how many got ERROR 1213."""
    base = [server.client, "--no-defaults", f"--socket={server.socket}", "--user=root"]
    sessions = [
        subprocess.Popen(
            [*base, "--database=shop", "--force", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in DEADLOCK_SESSIONS
    ]
    for process, sql in zip(sessions, DEADLOCK_SESSIONS, strict=True):
        assert process.stdin is not None
        process.stdin.write(sql + "\n")
        process.stdin.flush()
    errors = 0
    for process in sessions:
        _, stderr = process.communicate(timeout=60)
        errors += stderr.count("ERROR 1213")
    return errors


@contextmanager
def captured_mariadb() -> Iterator[tuple[MariadbServer, Workload]]:
    """A server that ran the workload and stopped; its directory is removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-mariadb-"))
    try:
        server = mariadb_server(root)
        server.install()
        server.start()
        try:
            workload = run_workload(server)
        finally:
            server.stop()
        yield server, workload
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(outdir: str) -> None:
    """Capture fresh case files into ``outdir`` (review them before committing)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with captured_mariadb() as (server, workload):
        for name, path in server.logs.items():
            shutil.copyfile(path, out / f"mariadb_{name}.log")
    print(f"captured into {out}; client errors: {workload.errors.strip()!r}")


if __name__ == "__main__":
    main(sys.argv[1])
