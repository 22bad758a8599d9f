r"""Wrap real log lines the way Docker, Kubernetes' CRI logger and Cloud Logging exports write them.

No container runtime runs here, so the container_wrappers cases are real server lines put in
the records the runtimes write, per their sources: moby ``daemon/logger/jsonfilelog``
(``{"log": line + "\n", "stream": …, "time": RFC 3339 nano}``, a line over 16 KiB split into
pieces without the newline), the CRI logging spec (``<time> <stream> <P|F> <piece>``) and
Cloud Logging's ``LogEntry`` as a sink exports it (``gcp-cloudsql``, ``gcp-gke``: one JSON
entry per line with ``textPayload``, ``timestamp``, ``receiveTimestamp``, ``resource``…).
Usage: ``python wrap.py docker|cri|gcp-cloudsql|gcp-gke OUT stdout:FILE [stderr:FILE …]
[--split N]``: lines are
interleaved by file order, one microsecond apart from 2026-11-25T16:06:11Z, and a line longer
than N characters is split into pieces of N (Docker uses 16384; small N shows the joins).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta


# The monitored resource and log name of each Cloud Logging source (Cloud SQL, a GKE pod).
_RESOURCES = {
    "gcp-cloudsql": (
        {"type": "cloudsql_database", "labels": {"database_id": "demo:shop-db", "project_id":
         "demo", "region": "europe-west1"}},
        "projects/demo/logs/cloudsql.googleapis.com%2Fpostgres.log",
    ),
    "gcp-gke": (
        {"type": "k8s_container", "labels": {"project_id": "demo", "location": "europe-west1",
         "cluster_name": "prod", "namespace_name": "shop", "pod_name": "web-7d9f8-x2k4q",
         "container_name": "nginx"}},
        "projects/demo/logs/{stream}",
    ),
}


def _log_entry(kind: str, line: str, stamp: str, tick: int, stream: str) -> dict[str, object]:
    """One Cloud Logging LogEntry as a log sink writes it (fields in their export order)."""
    resource, log_name = _RESOURCES[kind]
    return {
        "insertId": f"{tick:012x}",
        "logName": log_name.format(stream=stream),
        "receiveTimestamp": stamp,
        "resource": resource,
        "severity": "ERROR" if stream == "stderr" else "INFO",
        "textPayload": line,
        "timestamp": stamp,
    }


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
                if kind.startswith("gcp-"):
                    records.append(json.dumps(_log_entry(kind, piece, stamp, tick, stream)))
                elif kind == "docker":
                    log = piece + ("\n" if last else "")
                    records.append(json.dumps({"log": log, "stream": stream, "time": stamp}))
                else:
                    records.append(f"{stamp} {stream} {'F' if last else 'P'} {piece}")
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(records) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
