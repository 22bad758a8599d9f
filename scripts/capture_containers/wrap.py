r"""Wrap real log lines the way Docker's json-file driver and Kubernetes' CRI logger write them.

No container runtime runs here, so the container_wrappers cases are real server lines put in
the records the runtimes write, per their sources: moby ``daemon/logger/jsonfilelog``
(``{"log": line + "\n", "stream": …, "time": RFC 3339 nano}``, a line over 16 KiB split into
pieces without the newline) and the CRI logging spec (``<time> <stream> <P|F> <piece>``).
Usage: ``python wrap.py docker|cri OUT stdout:FILE [stderr:FILE …] [--split N]``: lines are
interleaved by file order, one microsecond apart from 2026-11-25T16:06:11Z, and a line longer
than N characters is split into pieces of N (Docker uses 16384; small N shows the joins).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta


def main(argv: list[str]) -> None:
    """Write the wrapped file."""
    kind, out = argv[0], argv[1]
    split = 16384
    inputs = []
    rest = argv[2:]
    if "--split" in rest:
        i = rest.index("--split")
        split = int(rest[i + 1])
        rest = rest[:i] + rest[i + 2 :]
    for spec in rest:
        stream, path = spec.split(":", 1)
        with open(path, encoding="utf-8") as handle:
            inputs.append((stream, handle.read().splitlines()))
    start = datetime(2026, 11, 25, 16, 6, 11, tzinfo=UTC)
    records = []
    tick = 0
    longest = max(len(lines) for _, lines in inputs)
    for n in range(longest):
        for stream, lines in inputs:
            if n >= len(lines):
                continue
            line = lines[n]
            pieces = [line[i : i + split] for i in range(0, len(line), split)] or [""]
            for p, piece in enumerate(pieces):
                last = p == len(pieces) - 1
                tick += 1
                when = start + timedelta(microseconds=tick)
                stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
                if kind == "docker":
                    log = piece + ("\n" if last else "")
                    records.append(json.dumps({"log": log, "stream": stream, "time": stamp}))
                else:
                    records.append(f"{stamp} {stream} {'F' if last else 'P'} {piece}")
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(records) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
