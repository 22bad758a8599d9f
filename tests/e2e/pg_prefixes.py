"""A real PostgreSQL writing one workload under many log_line_prefix values, one slice each.

Prefixes people set that no built-in list names (``%u@%d/%a``, ``[%u@%d]``, ``%b %Q``,
``time=%t, pid=%p``, ``{%p}``…) must still be guessed from the lines. One cluster: for each
prefix ``ALTER SYSTEM`` + reload, then a session runs a few statements and a ``CHECKPOINT``
(the checkpointer's lines carry no session values: they stop at ``%q``). The stderr log is
cut where each prefix began.

Run ``python -m tests.e2e.pg_prefixes OUTDIR`` to write the slices as files.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .postgres_server import PostgresServer, postgres_cluster, stop_and_copy_logs

# compute_query_id so %Q prints real (and sometimes negative) query ids; stderr only.
SETTINGS = {"log_destination": "stderr", "compute_query_id": "on"}
PREFIXES = (
    "%m [%p] %q%u@%d ",
    "%m [%p] %q%u@%d/%a ",
    "%m [%p] %q%u@%d %a ",
    "%m [%p] %q[%u@%d] ",
    "%m [%p] %b %Q %q%u@%d ",
    "%m [%p] [%Q] %q%u@%d ",
    "%m {%p} %q%u@%d ",
    "time=%t, pid=%p %q db=%d, usr=%u, client=%h , app=%a, line=%l ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
)
APP = "shop-web"
WORKLOAD = """
SELECT count(*) FROM pg_class WHERE relname = 'pg_proc';
SELECT 1 + 1;
CHECKPOINT;
SELECT pg_sleep(0.01);
"""


def _set_prefix(server: PostgresServer, prefix: str) -> None:
    """Make ``prefix`` the one every process writes with, and wait until it is in force."""
    quoted = prefix.replace("'", "''")
    server.psql(f"ALTER SYSTEM SET log_line_prefix = '{quoted}'; SELECT pg_reload_conf();")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = subprocess.run(
            [str(server.bindir / "psql"), "-X", "-A", "-t", "-c", "SHOW log_line_prefix"],
            env=server.env("logtriage-probe"),
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.rstrip("\n")
        if shown == prefix:
            # The checkpointer and the logger read the file on their own SIGHUP: a moment.
            time.sleep(0.5)
            return
        time.sleep(0.1)
    raise RuntimeError(f"log_line_prefix did not become {prefix!r}")


def capture(keep: Path) -> dict[str, Path]:
    """One slice of the stderr log per prefix (``keep/prefix-N.log``), by prefix."""
    offsets: list[tuple[str, int, int]] = []
    with postgres_cluster(SETTINGS) as server:
        log = server.logs["stderr"]
        for prefix in PREFIXES:
            _set_prefix(server, prefix)
            start = log.stat().st_size
            out = server.psql(WORKLOAD, app=APP)
            if out.returncode != 0 or "ERROR" in out.stderr:
                raise RuntimeError(f"the workload failed: {out.stderr}")
            time.sleep(0.3)
            offsets.append((prefix, start, log.stat().st_size))
        logs = stop_and_copy_logs(server, keep)
    data = logs["stderr"].read_bytes()
    slices = {}
    for n, (prefix, start, end) in enumerate(offsets):
        path = keep / f"prefix-{n}.log"
        path.write_bytes(data[start:end])
        slices[prefix] = path
    return slices


if __name__ == "__main__":
    for prefix, path in capture(Path(sys.argv[1])).items():
        print(f"{path}\t{prefix!r}")
