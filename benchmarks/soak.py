"""Soak run of ``logtriage watch``: memory stays flat while logs grow at a steady rate.

A generator appends nginx access lines (``$request_time $upstream_response_time
$request_id``) and PostgreSQL statement lines tagged with the request id to two files at a
steady rate, with a fault (a route answering 500s) planted now and then so alerts fire and
resolve, and one rename rotation of the access log halfway. ``logtriage watch`` follows both
files as a child process; its RSS and CPU time are sampled from /proc. The result goes to
docs/soak.md.

Options: ``--minutes`` (30 in ``make bench``), ``--rate`` (requests a second), ``--interval``,
``--window``, ``--out`` (the Markdown file written).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "soak.md"
BIN = Path(sys.executable).parent
ROUTES = (
    ("GET", "/api/orders/{n}", 2),
    ("GET", "/products/{slug}", 3),
    ("POST", "/api/orders/{n}/pay", 1),
    ("GET", "/search?q={slug}&page={p}", 1),
    ("GET", "/api/users/{n}/cart", 4),
    ("GET", "/", 0),
)
SLUGS = [f"item-{i}" for i in range(300)]
FAULT_EVERY_S = 600.0
FAULT_AT_S = 120.0  # into each period: the window has healthy traffic before it
FAULT_FOR_S = 60.0
TICK_S = 0.25


@dataclass
class Sample:
    """One look at the watcher: seconds since start, RSS and CPU seconds so far."""

    at_s: float
    rss_mb: float
    cpu_s: float


def _proc(pid: int) -> tuple[float, float] | None:
    """RSS (MB) and user+sys CPU seconds of ``pid`` and its children, from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    return rss_kb / 1024, cpu


class Writer:
    """Appends one batch of requests (and their queries) per call, stamped with now."""

    def __init__(self, access: Path, database: Path, rate: float, seed: int = 7) -> None:
        self.access = access
        self.database = database
        self.rate = rate
        self.rng = random.Random(seed)
        self.requests = 0
        self.queries = 0
        self.carry = 0.0

    def batch(self, elapsed_s: float, seconds: float) -> None:
        """Write ``rate × seconds`` requests; during a fault the pay route answers 500."""
        rng = self.rng
        self.carry += self.rate * seconds
        count, self.carry = int(self.carry), self.carry - int(self.carry)
        is_fault = FAULT_AT_S <= elapsed_s % FAULT_EVERY_S < FAULT_AT_S + FAULT_FOR_S
        now = datetime.now(UTC)
        stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
        pg_stamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} UTC"
        access_lines: list[str] = []
        pg_lines: list[str] = []
        for _ in range(count):
            method, template, queries = rng.choice(ROUTES)
            path = template.format(
                n=rng.randint(1, 50_000), slug=rng.choice(SLUGS), p=rng.randint(1, 9)
            )
            pay = "pay" in template
            status = 500 if pay and is_fault and rng.random() < 0.6 else 200
            seconds_taken = rng.lognormvariate(-3.5, 0.6) + (0.3 if pay and is_fault else 0.0)
            request_id = f"{rng.getrandbits(128):032x}"
            client = f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            access_lines.append(
                f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} '
                f'{rng.randint(200, 20_000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" '
                f"{seconds_taken:.3f} {seconds_taken * 0.9:.3f} {request_id}"
            )
            for q in range(queries):
                pg_lines.append(
                    f"{pg_stamp} [{4000 + q}] LOG:  duration: {rng.uniform(0.05, 3):.3f} ms  "
                    f"statement: SELECT id, name FROM items WHERE id = {rng.randint(1, 10**6)} "
                    f"/*request_id='{request_id}'*/"
                )
        with open(self.access, "a") as out:
            out.write("".join(line + "\n" for line in access_lines))
        with open(self.database, "a") as out:
            out.write("".join(line + "\n" for line in pg_lines))
        self.requests += len(access_lines)
        self.queries += len(pg_lines)


def soak(minutes: float, rate: float, interval: str, window: str) -> dict[str, object]:
    """Run the soak and return its measurements."""
    with tempfile.TemporaryDirectory(prefix="logtriage-soak-") as tmp:
        access = Path(tmp) / "access.log"
        database = Path(tmp) / "postgresql.log"
        alerts = Path(tmp) / "alerts.jsonl"
        access.touch()
        database.touch()
        stderr = open(Path(tmp) / "stderr.log", "w+")  # noqa: SIM115 - closed below
        writer = Writer(access, database, rate)
        total_s = minutes * 60
        watch = subprocess.Popen(
            [
                str(BIN / "logtriage"), "watch", str(access), str(database),
                "--interval", interval, "--window", window, "--duration", f"{total_s + 5:g}s",
                "--threshold", "route-5xx=10%", "--alert-jsonl", str(alerts), "--quiet",
                "--verbose",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )  # fmt: skip
        time.sleep(3.0)  # the watcher starts at the files' ends: let it open them first
        samples: list[Sample] = []
        started = time.monotonic()
        next_sample = 0.0
        rotated = False
        while (elapsed := time.monotonic() - started) < total_s:
            writer.batch(elapsed, TICK_S)
            if not rotated and elapsed >= total_s / 2:
                access.rename(access.with_suffix(".log.1"))
                access.touch()
                rotated = True
            if elapsed >= next_sample:
                seen = _proc(watch.pid)
                if seen is None:
                    break
                samples.append(Sample(elapsed, *seen))
                next_sample += 10.0
            time.sleep(max(0.0, TICK_S - (time.monotonic() - started - elapsed)))
        last = _proc(watch.pid)
        if last is not None:
            samples.append(Sample(time.monotonic() - started, *last))
        watch.wait(timeout=120)
        stderr.seek(0)
        err = stderr.read()
        stderr.close()
        records = [json.loads(line) for line in alerts.read_text().splitlines()]
        # "logtriage: tick <time>: <n> new lines, window <rows>, <k> alerts, <s> s"
        ticks = [line for line in err.splitlines() if line.startswith("logtriage: tick ")]
        tick_s = sorted(float(line.rsplit(", ", 1)[1].split()[0]) for line in ticks)
        last_window = ticks[-1].split("window ", 1)[1].rsplit(",", 2)[0] if ticks else ""
    if watch.returncode != 0:
        problems = [line for line in err.splitlines() if not line.startswith("logtriage: tick")]
        raise SystemExit(f"watch failed ({watch.returncode}): {problems[-5:]}")
    return {
        "minutes": minutes,
        "rate": rate,
        "interval": interval,
        "window": window,
        "requests": writer.requests,
        "queries": writer.queries,
        "samples": samples,
        "firing": sum(1 for r in records if r["state"] == "firing"),
        "resolved": sum(1 for r in records if r["state"] == "resolved"),
        "rule_alerts": sum(1 for r in records if r["rule"] == "route-5xx"),
        "ticks": len(tick_s),
        "tick_median_s": tick_s[len(tick_s) // 2] if tick_s else 0.0,
        "tick_p95_s": tick_s[int(len(tick_s) * 0.95)] if tick_s else 0.0,
        "last_window": last_window,
    }


def _slope_mb_per_hour(samples: list[Sample]) -> float:
    """Least-squares growth of RSS over the samples (MB per hour)."""
    if len(samples) < 3:
        return 0.0
    xs = [s.at_s / 3600 for s in samples]
    ys = [s.rss_mb for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def render(result: dict[str, object]) -> str:
    """docs/soak.md from one run."""
    samples: list[Sample] = result["samples"]  # type: ignore[assignment]
    window_s = _seconds(str(result["window"]))
    filled = [s for s in samples if s.at_s >= window_s] or samples
    start, end = samples[0], samples[-1]
    peak = max(samples, key=lambda s: s.rss_mb)
    ticks = max(1, int(result["ticks"]))  # type: ignore[call-overload]
    rows = "\n".join(
        f"| {s.at_s / 60:.1f} | {s.rss_mb:.0f} | {s.cpu_s:.0f} |"
        for s in samples[:: max(1, len(samples) // 12)]
    )
    return f"""# Soak: `logtriage watch` memory over time

`make bench` runs `benchmarks/soak.py --minutes 30` (written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}). A generator
appends nginx access lines and PostgreSQL statement lines tied to them by request id at a steady
rate, plants a 500-burst on one route for {FAULT_FOR_S:.0f} s every {FAULT_EVERY_S / 60:.0f} min
(from minute {FAULT_AT_S / 60:.0f}), and rotates the access log (rename + new file) halfway;
`logtriage watch` follows both files with
`--interval {result["interval"]} --window {result["window"]}` as a child process whose RSS and
CPU time are read from /proc every 10 s. Re-run a short one with
`.venv/bin/python benchmarks/soak.py --minutes 2`.

| | |
|---|---|
| run | {result["minutes"]} min, {result["rate"]:g} requests/s |
| lines written | {result["requests"]:,} access + {result["queries"]:,} PostgreSQL |
| RSS at start (first sample) | {start.rss_mb:.0f} MB |
| RSS once the window is full ({filled[0].at_s / 60:.1f} min) | {filled[0].rss_mb:.0f} MB |
| RSS at the end ({end.at_s / 60:.1f} min) | {end.rss_mb:.0f} MB |
| peak RSS ({peak.at_s / 60:.1f} min) | {peak.rss_mb:.0f} MB |
| RSS trend after the window filled | {_slope_mb_per_hour(filled):+.1f} MB/hour |
| window at the end | {result["last_window"]} |
| ticks | {ticks}: median {result["tick_median_s"]:.2f} s, p95 {result["tick_p95_s"]:.2f} s (wall) |
| CPU (user+sys) | {end.cpu_s:.0f} s, {end.cpu_s / ticks:.2f} s per tick |
| alerts | {result["firing"]} firing, {result["resolved"]} resolved \
({result["rule_alerts"]} from the route-5xx threshold) |

| minute | RSS MB | CPU s |
|---|---|---|
{rows}
"""


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def main() -> None:
    """Parse the options, run, write the document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--interval", default="5s")
    parser.add_argument("--window", default="5m")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()
    result = soak(args.minutes, args.rate, args.interval, args.window)
    text = render(result)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
