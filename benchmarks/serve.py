"""Page times of ``logtriage serve`` over a saved analysis: CPU (DuckDB threads included) and wall.

    .venv/bin/python benchmarks/serve.py STATE_DIR
    .venv/bin/python benchmarks/serve.py STATE_DIR --build access.log postgresql.log

``--build`` first runs ``analyze --state STATE_DIR`` over the logs. Each page is requested
through Starlette's TestClient (no network): once cold, then ``--repeat`` times; the table
shows the first time and the best of the rest, as Markdown.
"""

from __future__ import annotations

import argparse
import re
import resource
import time

from starlette.testclient import TestClient

from logtriage import api
from logtriage.config import Settings
from logtriage.serve.app import create_app


def _timed(client: TestClient, url: str, repeat: int) -> tuple[str, list[tuple[float, float]]]:
    times = []
    text = ""
    for _ in range(1 + repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        response = client.get(url)
        times.append((time.process_time() - cpu, time.perf_counter() - wall))
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        text = response.text
    return text, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state")
    parser.add_argument("--build", nargs="+", metavar="LOG", help="analyze --state these first")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.build:
        started = time.perf_counter()
        api.analyze(args.build, Settings(state=args.state))
        print(f"analyze --state: {time.perf_counter() - started:.1f} s wall\n")
    cpu, wall = time.process_time(), time.perf_counter()
    saved = api.saved_analysis(args.state)
    client = TestClient(create_app(saved, api.rule_docs(), allowed_hosts=["testserver"]))
    print(f"open: {time.process_time() - cpu:.2f} s CPU, {time.perf_counter() - wall:.2f} s wall\n")
    print("| page | first CPU s | first wall s | warm CPU s | warm wall s |")
    print("|---|---:|---:|---:|---:|")
    todo = ["/", "/findings/1", "/routes", "/routes?status=5xx", "/queries"]
    done: set[str] = set()
    while todo:
        url = todo.pop(0)
        if url in done:
            continue
        done.add(url)
        text, times = _timed(client, url, args.repeat)
        best = min(times[1:]) if len(times) > 1 else times[0]
        print(
            f"| `{url[:48]}` | {times[0][0]:.3f} | {times[0][1]:.3f} | {best[0]:.3f} "
            f"| {best[1]:.3f} |"
        )
        # One of each drill-down: the first route, its slowest request, the first query shape.
        for pattern in (r'href="(/routes/[0-9a-f]{12})"', r'href="(/requests/[0-9a-f]{8}-\d+)"',
                        r'href="(/queries/[0-9A-Za-z]+)"'):  # fmt: skip
            found = re.search(pattern, text)
            if found and not any(u.startswith(found.group(1)[:9]) for u in done | set(todo)):
                todo.append(found.group(1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\npeak RSS {peak} MB")


if __name__ == "__main__":
    main()
