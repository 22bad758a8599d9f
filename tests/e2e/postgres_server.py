"""Start and stop a private PostgreSQL cluster on 127.0.0.1 and run a known workload on it.

The cluster lives in its own directory under /tmp (initdb as the ``postgres`` user when the
tests run as root), listens on a free port of 127.0.0.1 and on a Unix socket inside that
directory, and writes its logs through the logging collector to ``log/postgresql.log``
(stderr format), ``.csv`` (csvlog) and ``.json`` (jsonlog, PostgreSQL 15+) at once, so the
three readers can be checked against the same events. ``WORKLOAD`` is what the readers must
find: plain, multi-line and commented statements, PREPARE/EXECUTE, the extended protocol
(pgbench ``-M extended`` and ``-M prepared``), a failing statement, a statement timeout, a lock
timeout and a deadlock between two sessions. Later tests (correlation, N+1) reuse the fixture.

Run ``python -m tests.e2e.postgres_server OUTDIR`` to capture fresh case files.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .hosts import free_port

SKIP_ENV = "LOGTRIAGE_SKIP_E2E"
_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")

# Settings every capture uses: all statements with their duration, every event the readers
# turn into db_events, English messages, and quick lock timers so the workload stays short.
BASE_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "logging_collector": "on",
    "log_destination": "stderr,csvlog,jsonlog",
    "log_filename": "postgresql.log",
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "log_min_duration_statement": "0",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_checkpoints": "on",
    "log_lock_waits": "on",
    "log_autovacuum_min_duration": "0",
    "deadlock_timeout": "1s",
    "lc_messages": "C",
    "log_timezone": "UTC",
    "autovacuum_naptime": "1s",
    "shared_buffers": "16MB",
    "max_connections": "20",
}


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def find_bindir() -> Path | None:
    """The newest PostgreSQL bin directory (Debian keeps them off PATH), else PATH's."""
    candidates: list[Path] = []
    for pattern in _BIN_GLOBS:
        root, _, rest = pattern.partition("*")
        parent = Path(root).parent
        if parent.is_dir():
            candidates += [p for p in parent.glob(Path(root).name + "*" + rest) if p.is_dir()]
    with_initdb = [p for p in candidates if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if with_initdb:
        return max(with_initdb, key=lambda p: _version_key(p.parent.name))
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _version_key(name: str) -> tuple[int, ...]:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return tuple(int(d) for d in digits) or (0,)


@dataclass
class PostgresServer:
    """One private cluster: its directory, port, settings and the logs it writes."""

    root: Path
    bindir: Path
    port: int
    settings: dict[str, str]
    is_running: bool = False
    _user: str | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.root / "data"

    @property
    def logs(self) -> dict[str, Path]:
        """The log files by format: ``stderr``, ``csvlog``, ``jsonlog``."""
        base = self.data / "log"
        return {
            "stderr": base / "postgresql.log",
            "csvlog": base / "postgresql.csv",
            "jsonlog": base / "postgresql.json",
        }

    @property
    def version(self) -> int:
        """The major version of the server binaries."""
        out = subprocess.run(
            [str(self.bindir / "postgres"), "--version"], capture_output=True, text=True
        )
        return int(out.stdout.split()[-1].split(".")[0])

    def _run(self, args: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(args), user=self._user, capture_output=True, text=True, **kwargs
        )

    def init(self) -> None:
        """initdb with trust authentication for local TCP connections only."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the `postgres` user.
            self._user = "postgres"
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o755)
        out = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {out.stderr.strip()[-2000:]}")

    def start(self, timeout_s: float = 30.0) -> None:
        """pg_ctl start with ``settings`` on the command line; wait until it accepts queries."""
        options = [f"-p {self.port}", f"-c unix_socket_directories={self.root}"]
        options += [f"-c {k}={_quote(v)}" for k, v in self.settings.items()]
        out = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "startup.log"),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                str(int(timeout_s)),
                "start",
            ]
        )
        if out.returncode != 0:
            startup = self.root / "startup.log"
            tail = startup.read_text(errors="replace")[-2000:] if startup.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {out.stderr.strip()} {tail}")
        self.is_running = True

    def stop(self) -> None:
        """Fast shutdown: sessions end, the collector flushes its files, the server exits."""
        if not self.is_running:
            return
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        self.is_running = False

    def env(self, app: str) -> dict[str, str]:
        """Environment for client programs: host, port, user and application name."""
        return {
            **os.environ,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGDATABASE": "postgres",
            "PGAPPNAME": app,
            "PGCONNECT_TIMEOUT": "10",
        }

    def psql(self, sql: str, app: str = "psql") -> subprocess.CompletedProcess[str]:
        """Run ``sql`` as one psql script (one session); failures do not stop the script."""
        return subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", "-"],
            input=sql,
            env=self.env(app),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def session(self, app: str) -> PsqlSession:
        """An interactive psql session to drive statement by statement (locks, deadlocks).

        Errors print their SQLSTATE (VERBOSITY verbose), so the workload checks them in any
        lc_messages.
        """
        process = subprocess.Popen(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env(app),
            text=True,
        )
        session = PsqlSession(process)
        session.send("\\set VERBOSITY verbose")
        return session

    def pgbench(self, script: str, mode: str, transactions: int, app: str) -> None:
        """Run ``script`` ``transactions`` times with pgbench's query ``mode`` (extended…)."""
        path = self.root / f"{app}.sql"
        path.write_text(script)
        out = subprocess.run(
            [
                str(self.bindir / "pgbench"),
                "-n",
                "-M",
                mode,
                "-t",
                str(transactions),
                "--random-seed=7",
                "-f",
                str(path),
            ],
            env=self.env(app),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode != 0:
            raise RuntimeError(f"pgbench failed: {out.stderr.strip()[-2000:]}")

    def wait_for_lock_waiters(self, count: int, timeout_s: float = 10.0) -> None:
        """Block until ``count`` sessions wait for a lock (so the next step really conflicts)."""
        deadline = time.monotonic() + timeout_s
        sql = "SELECT count(*) FROM pg_locks WHERE NOT granted"
        while time.monotonic() < deadline:
            out = subprocess.run(
                [str(self.bindir / "psql"), "-X", "-A", "-t", "-c", sql],
                env=self.env("logtriage-probe"),
                capture_output=True,
                text=True,
                timeout=10,
            )
            if out.stdout.strip().isdigit() and int(out.stdout.strip()) >= count:
                return
            time.sleep(0.05)
        raise RuntimeError(f"no {count} lock waiter(s) after {timeout_s}s")


def _quote(value: str) -> str:
    """A value for ``-c name=value`` inside pg_ctl's -o string (spaces, quotes, %)."""
    if all(c.isalnum() or c in "._-:/" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class PsqlSession:
    """A psql child process fed one statement at a time."""

    process: subprocess.Popen[str]

    def send(self, sql: str) -> None:
        """Queue ``sql``; psql runs it as soon as it reads the terminating semicolon."""
        assert self.process.stdin is not None
        self.process.stdin.write(sql.rstrip() + "\n")
        self.process.stdin.flush()

    def close(self, timeout_s: float = 30.0) -> str:
        """End the session (psql exits at end of input) and return what it wrote to stderr."""
        _, err = self.process.communicate(timeout=timeout_s)
        return err


# --- The workload -------------------------------------------------------------------------

SIMPLE_APP = "wl-simple"
MULTILINE_SQL = "SELECT owner,\n       balance\n  FROM accounts\n WHERE id = 7\n ORDER BY owner;"
COMMENTED_SQL = (
    "SELECT balance FROM accounts WHERE id = 3 "
    "/*route='%2Faccounts%2F%7Bid%7D',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-"
    "00f067aa0ba902b7-01'*/;"
)
FAILING_SQL = "SELECT * FROM missing_table WHERE id = 1;"
SIMPLE_SCRIPT = f"""
SELECT 1 AS one;
CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL);
INSERT INTO accounts SELECT g, 'owner ' || g, 100 FROM generate_series(1, 20) AS g;
{MULTILINE_SQL}
{COMMENTED_SQL}
PREPARE by_owner(text) AS SELECT id, balance FROM accounts WHERE owner = $1;
EXECUTE by_owner('owner 3');
EXECUTE by_owner('owner 4');
{FAILING_SQL}
SET statement_timeout = '200ms';
SELECT pg_sleep(2);
RESET statement_timeout;
CHECKPOINT;
SELECT pg_switch_wal() IS NOT NULL AS switched;
"""
PGBENCH_SCRIPT = (
    "\\set id random(1, 20)\n"
    "SELECT balance FROM accounts WHERE id = :id;\n"
    "UPDATE accounts SET balance = balance + 1 WHERE id = :id;\n"
)
PGBENCH_TRANSACTIONS = 5
DEADLOCK_APPS = ("wl-deadlock-a", "wl-deadlock-b")
DEADLOCK_FIRST = "UPDATE accounts SET balance = balance - 1 WHERE id = 1;"
DEADLOCK_SECOND = "UPDATE accounts SET balance = balance - 1 WHERE id = 2;"
LOCK_APPS = ("wl-lock-holder", "wl-lock-waiter")
LOCKED_SQL = "SELECT count(*) FROM accounts;"


@dataclass(frozen=True)
class Workload:
    """What was sent, for the tests to compare with what the readers found."""

    # Client sessions opened on purpose: the script, one per pgbench run, two deadlocked and two
    # lock sessions (pgbench and the lock-wait probe open a few more of their own).
    min_sessions: int = 7
    pgbench_transactions: int = PGBENCH_TRANSACTIONS


def run_workload(server: PostgresServer) -> Workload:
    """Send the whole workload, checking that each planned failure really happened."""
    out = server.psql(SIMPLE_SCRIPT, app=SIMPLE_APP)
    if "missing_table" not in out.stderr:
        raise RuntimeError(f"the failing statement did not fail: {out.stderr}")
    server.pgbench(PGBENCH_SCRIPT, "extended", PGBENCH_TRANSACTIONS, app="wl-extended")
    server.pgbench(PGBENCH_SCRIPT, "prepared", PGBENCH_TRANSACTIONS, app="wl-prepared")
    _deadlock(server)
    _lock_timeout(server)
    return Workload()


def _deadlock(server: PostgresServer) -> None:
    a, b = (server.session(app) for app in DEADLOCK_APPS)
    try:
        a.send("BEGIN;")
        a.send(DEADLOCK_FIRST)
        b.send("BEGIN;")
        b.send(DEADLOCK_SECOND)
        time.sleep(0.3)
        a.send(DEADLOCK_SECOND)  # waits for b
        server.wait_for_lock_waiters(1)
        b.send(DEADLOCK_FIRST)  # waits for a: one of them is chosen as the victim
        a.send("COMMIT;")
        b.send("COMMIT;")
    finally:
        errors = a.close() + b.close()
    if "40P01" not in errors:  # deadlock_detected
        raise RuntimeError(f"the deadlock did not happen: {errors}")


def _lock_timeout(server: PostgresServer) -> None:
    holder, waiter = (server.session(app) for app in LOCK_APPS)
    try:
        holder.send("BEGIN;")
        holder.send("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        time.sleep(0.3)
        waiter.send("SET lock_timeout = '200ms';")
        waiter.send(LOCKED_SQL)
        err = waiter.close()
        holder.send("COMMIT;")
    finally:
        holder.close()
    if "55P03" not in err:  # lock_not_available
        raise RuntimeError(f"the lock timeout did not happen: {err}")


@contextmanager
def postgres_cluster(settings: Mapping[str, str] | None = None) -> Iterator[PostgresServer]:
    """A started cluster with ``BASE_SETTINGS`` updated by ``settings``; stopped and removed."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="logtriage-pg-"))
    server = PostgresServer(
        root=root, bindir=bindir, port=free_port(), settings={**BASE_SETTINGS, **(settings or {})}
    )
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def stop_and_copy_logs(server: PostgresServer, keep: Path) -> dict[str, Path]:
    """Stop ``server`` (the collector flushes its files) and copy the logs it wrote to ``keep``."""
    server.stop()
    keep.mkdir(parents=True, exist_ok=True)
    logs = {}
    for kind, path in server.logs.items():
        if path.exists():
            logs[kind] = keep / path.name
            shutil.copyfile(path, logs[kind])
    return logs


def capture(settings: Mapping[str, str], keep: Path) -> tuple[dict[str, Path], Workload]:
    """Run the workload on a fresh cluster; copy its logs to ``keep``; return them."""
    with postgres_cluster(settings) as server:
        workload = run_workload(server)
        logs = stop_and_copy_logs(server, keep)
    return logs, workload


@dataclass(frozen=True)
class PgCapture:
    """The logs one cluster wrote for the workload, by format (stderr, csvlog, jsonlog)."""

    settings: Mapping[str, str]
    logs: Mapping[str, Path]
    workload: Workload


# log_line_prefix and statement logging of each capture the e2e fixture makes.
CAPTURES: dict[str, dict[str, str]] = {
    "debian-min-duration": {"log_line_prefix": "%m [%p] %q%u@%d "},
    "pgbadger-statement-duration": {
        "log_line_prefix": "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
        "log_min_duration_statement": "-1",
        "log_statement": "all",
        "log_duration": "on",
    },
}


@pytest.fixture(name="pg_capture", scope="session", params=sorted(CAPTURES))
def _pg_capture_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> PgCapture:
    """A real cluster per entry of CAPTURES, after the workload ran and the server stopped."""
    require_postgres()
    name = str(request.param)
    logs, workload = capture(CAPTURES[name], tmp_path_factory.mktemp(f"pg-{name}"))
    return PgCapture(settings=CAPTURES[name], logs=logs, workload=workload)


def require_postgres() -> None:
    """Fail (or skip with LOGTRIAGE_SKIP_E2E=1) when the server binaries are missing."""
    if find_bindir() is not None:
        return
    message = "PostgreSQL is not installed"
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{message} and {SKIP_ENV}=1")
    pytest.fail(
        f"{message}: run `make system` (scripts/setup-system.sh installs postgresql), "
        f"or set {SKIP_ENV}=1 to skip the end-to-end tests",
        pytrace=False,
    )


if __name__ == "__main__":
    # Capture case files: python -m tests.e2e.postgres_server OUTDIR name=value…
    extra = dict(arg.split("=", 1) for arg in sys.argv[2:])
    files, _ = capture(extra, Path(sys.argv[1]))
    print("\n".join(str(p) for p in files.values()))
