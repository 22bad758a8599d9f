"""CPU cost of one ``logtriage analyze`` run with either engine, JVM included.

``/usr/bin/time`` misses the Spark JVM's CPU (py4j starts it as a child the driver never waits
for), so this runs the command and polls ``/proc`` for every process in its tree, keeping each
one's last user + system time (children it waited for included). Prints one JSON line: wall
seconds, CPU seconds, and the peak resident memory of the largest process.

Usage: ``.venv/bin/python benchmarks/spark_cost.py -- logtriage analyze FILE --engine spark …``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from one read of /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _cpu_and_rss(pid: int) -> tuple[float, int] | None:
    """User + system seconds (reaped children included) and resident bytes of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields after the name: state=0, …, utime=11, stime=12, cutime=13, cstime=14, rss=21.
    cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS
    return cpu, int(fields[21]) * PAGE


def measure(command: list[str]) -> dict[str, float]:
    """Run ``command`` to its end, sampling its process tree twice a second."""
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    last: dict[int, float] = {}
    peak_rss = 0
    while proc.poll() is None:
        tree = _children()
        pending, seen = [proc.pid], []
        while pending:
            pid = pending.pop()
            seen.append(pid)
            pending += tree.get(pid, [])
        for pid in seen:
            sample = _cpu_and_rss(pid)
            if sample is not None:
                last[pid] = max(last.get(pid, 0.0), sample[0])
                peak_rss = max(peak_rss, sample[1])
        time.sleep(0.5)
    wall = time.monotonic() - start
    # CPU spent after the last sample (at most half a second per process) is not counted.
    return {
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(sum(last.values()), 1),
        "peak_rss_mb": round(peak_rss / 2**20),
    }


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    print(json.dumps({"command": " ".join(args), **measure(args)}))


if __name__ == "__main__":
    main()
