"""Capture the bundled example logs from real nginx and Apache httpd serving the planted app.

Re-runnable: the request plan is seeded (same requests, same clients, same order each run);
timestamps and latencies are whatever the real servers measure. Needs nginx and apache2
(``make system``) and writes ``examples/nginx/access.log`` and ``examples/apache/access.log``.

    .venv/bin/python scripts/capture_examples.py [--rate 20] [--out examples]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.planted_app import serve_app  # noqa: E402 - after the path is set
from tests.e2e.traffic import PlannedRequest, example_plan, send_one  # noqa: E402
from tests.e2e.webservers import WebServer, apache_server, nginx_server  # noqa: E402

SERVERS = {"nginx": nginx_server, "apache": apache_server}


def send_paced(port: int, plan: list[PlannedRequest], rate: float) -> list[int]:
    """Send the plan at about ``rate`` requests per second, several in flight as real traffic."""
    start = time.monotonic()
    lock = threading.Lock()
    done = [0]

    def one(item: tuple[int, PlannedRequest]) -> int:
        index, req = item
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status = send_one(port, req)
        with lock:
            done[0] += 1
            if done[0] % 500 == 0:
                print(f"  {done[0]}/{len(plan)} requests", flush=True)
        return status

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, enumerate(plan)))


def capture(kind: str, app_port: int, plan: list[PlannedRequest], rate: float, out: Path) -> None:
    """Run one server over the whole plan and copy its latency access log to ``out/kind``."""
    root = Path(tempfile.mkdtemp(prefix=f"logtriage-capture-{kind}-"))
    try:
        server: WebServer = SERVERS[kind](root, app_port)
        server.start()
        print(f"{kind}: serving on 127.0.0.1:{server.port}, {len(plan)} requests", flush=True)
        try:
            statuses = send_paced(server.port, plan, rate)
        finally:
            server.stop()
        wrong = [
            (r.method, r.target, r.status, s)
            for r, s in zip(plan, statuses, strict=True)
            if r.status != s
        ]
        if wrong:
            raise SystemExit(f"{kind}: {len(wrong)} answers differ from the plan, e.g. {wrong[:3]}")
        target = out / kind / "access.log"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(server.access_logs["timed"], target)
        lines = len(target.read_text().splitlines())
        print(f"{kind}: {lines} lines -> {target.relative_to(ROOT)}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Capture every requested server's log."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("servers", nargs="*", help="nginx and/or apache (default: both)")
    args = parser.parse_args()
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown:
        parser.error(f"unknown server {unknown[0]!r}; choose from {', '.join(sorted(SERVERS))}")
    plan = example_plan(seed=args.seed)
    print("plan:", dict(Counter(r.status for r in plan)), flush=True)
    with serve_app() as app_port:
        for kind in args.servers or sorted(SERVERS):
            capture(kind, app_port, plan, args.rate, args.out.resolve())


if __name__ == "__main__":
    main()
