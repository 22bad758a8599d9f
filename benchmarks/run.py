"""`make bench`: logtriage side by side with GoAccess, pt-query-digest and pgBadger.

Generates the inputs (benchmarks/generate.py, cached in benchmarks/data/), runs every tool as a
fresh child process on the same file, measures wall time, user+sys CPU (``wait4``), peak RSS of
the largest process (``ru_maxrss``) and of the whole process tree (sampled from /proc at 20 Hz,
for tools that fork workers), checks that each tool's report says it read the input, profiles
logtriage on the access log, and writes docs/benchmarks.md.

A comparison whose logtriage reader does not exist yet (``logtriage formats`` lists no ``mysql``
or ``postgres`` format) still measures the anchor and prints why logtriage was skipped, so the
document shows the time logtriage has to beat.

Options: ``--lines`` (access log lines), ``--size-mb`` (database logs), ``--only
access|mysql|postgres``, ``--quick`` (small inputs, writes benchmarks/data/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = DATA / "results.pickle"  # the last run's measurements, for --render-only
BIN = Path(sys.executable).parent
MB = 1024 * 1024
GIB = 1024
# Debian's default log_line_prefix; the generator writes it, pgBadger is told it.
PG_PREFIX = "%m [%p] %q%u@%d "
# GoAccess 1.7: combined plus $request_time (%T, seconds) and the upstream time skipped (%^).
GOACCESS_FORMAT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T %^'
DEFAULT_LINES = 1_000_000
DEFAULT_SIZE_MB = 300.0


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Input:
    """A generated log file and what the generator wrote into it."""

    path: Path
    kind: str
    lines: int
    entries: int
    bytes: int

    @property
    def mb(self) -> float:
        return self.bytes / MB

    @property
    def label(self) -> str:
        return f"{_rel(self.path)} ({self.lines:,} lines, {self.mb:,.0f} MB)"


def prepare(kind: str, path: Path, *, lines: int = 0, size_mb: float = 0.0) -> Input:
    """Generate ``path`` unless a file from the same generator and parameters is there."""
    meta = path.with_name(path.name + ".json")
    params = {
        "kind": kind,
        "lines": lines,
        "size_mb": size_mb,
        "version": generate.GENERATOR_VERSION,
    }
    if path.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        if saved.get("params") == params and path.stat().st_size == saved["written"]["bytes"]:
            return _input(path, saved["written"])
    print(f"generating {_rel(path)} …", flush=True)
    started = time.perf_counter()
    if kind == "access":
        written = generate.write_access(path, lines)
    elif kind == "mysql":
        written = generate.write_mysql(path, size_mb)
    else:
        written = generate.write_postgres(path, size_mb)
    meta.write_text(json.dumps({"params": params, "written": asdict(written)}))
    print(
        f"  {written.lines:,} lines, {written.bytes / MB:,.0f} MB "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return _input(path, asdict(written))


def _input(path: Path, written: dict[str, Any]) -> Input:
    return Input(path, written["kind"], written["lines"], written["entries"], written["bytes"])


def _warm(path: Path) -> None:
    """Read the file once so every tool starts with it in the page cache."""
    with path.open("rb") as f:
        while f.read(8 * MB):
            pass


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    """One child process: its time, CPU and memory."""

    wall_s: float
    user_s: float
    sys_s: float
    rss_mb: float  # largest single process (ru_maxrss of the child and its waited-for children)
    tree_rss_mb: float  # sum over the process tree, sampled
    exit_code: int
    load_before: float
    stderr_tail: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self.done = threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            for pid in self._tree():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self.page
            self.peak_bytes = max(self.peak_bytes, total)
            self.done.wait(self.interval)

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
        return pids

    def stop(self) -> None:
        self.done.set()
        self.join()


def measure(argv: list[str], stdout: Path, stderr: Path) -> Measured:
    """Run ``argv`` as a fresh child (its own session), output to the two files; measure it."""
    stdout.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, start_new_session=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGTERM)  # our child's own session: only what we started
            proc.wait()
            raise
        wall = time.perf_counter() - started
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = stderr.read_text(errors="replace").strip().splitlines()[-3:]
    return Measured(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,
        # Sampling can miss a short peak: the tree is never below its largest process.
        tree_rss_mb=max(sampler.peak_bytes / MB, usage.ru_maxrss / 1024),
        exit_code=proc.returncode,
        load_before=load,
        stderr_tail=" | ".join(tail)[:300],
    )


# --------------------------------------------------------------------------- tools


def _logtriage() -> list[str]:
    script = BIN / "logtriage"
    return [str(script)] if script.exists() else [sys.executable, "-m", "logtriage"]


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr).strip()


def logtriage_formats() -> list[str]:
    """The format names ``logtriage formats`` lists."""
    text = _output([*_logtriage(), "formats"])
    return re.findall(r"^(\S+) → ", text, flags=re.M)


def reader_for(formats: list[str], word: str) -> str | None:
    """The first listed format whose name contains ``word`` (``mysql``, ``postgres``)."""
    return next((name for name in formats if word in name), None)


@dataclass
class Tool:
    """How to run one tool on an input and read back what its report says."""

    name: str
    argv: Callable[[Input, Path], list[str]]  # (input, output file) -> command
    check: Callable[[Path], tuple[bool, str]]  # output file -> (looks right, summary)
    executable: str
    stdout_is_report: bool = True


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def check_logtriage(path: Path) -> tuple[bool, str]:
    report = _json(path)
    inputs = report["inputs"][0]
    shown = []
    for f in report["findings"][:4]:
        subject = f.get("route") or (f.get("fingerprint") or "")[:40]
        shown.append(f"{f['code']} {subject}".strip())
    summary = (
        f"format {inputs['format']}, {inputs['records']:,} records, "
        f"{inputs['rejected']:,} rejected; "
        f"findings: {', '.join(shown) or 'none'}"
    )
    return inputs["records"] > 0, summary


def check_goaccess(path: Path) -> tuple[bool, str]:
    general = _json(path)["general"]
    return general["valid_requests"] > 0, (
        f"{general['valid_requests']:,} valid requests, {general['failed_requests']:,} failed"
    )


def check_pt_query_digest(path: Path) -> tuple[bool, str]:
    report = _json(path)
    count = int(report["global"]["query_count"])
    # "classes" holds only the reported ones (--limit 95%:20); the global count has them all.
    unique = int(report["global"].get("unique_query_count") or len(report["classes"]))
    return count > 0, f"{count:,} queries in {unique:,} fingerprint classes"


def check_pgbadger(path: Path) -> tuple[bool, str]:
    overall = _json(path)["overall_stat"]
    count = int(overall.get("queries_number") or 0)
    return count > 0, f"{count:,} queries, {int(overall.get('errors_number') or 0):,} errors"


def check_floor(path: Path) -> tuple[bool, str]:
    result = _json(path)
    return result["records"] > 0, (
        f"{result['records']:,} records in {result['groups']:,} groups, nothing else "
        "(benchmarks/floor.py)"
    )


# The least DuckDB work that prints the anchor's headline table (benchmarks/floor.py): what a
# ratio target can reach at best here.
FLOOR = Tool(
    "engine floor",
    lambda i, out: [
        sys.executable,
        str(ROOT / "benchmarks" / "floor.py"),
        i.kind,
        str(i.path),
    ],
    check_floor,
    sys.executable,
)


def logtriage_tool(extra: list[str] | None = None) -> Tool:
    return Tool(
        "logtriage",
        lambda i, out: [
            *_logtriage(),
            "analyze",
            str(i.path),
            "--output-format",
            "json",
            *(extra or []),
        ],
        check_logtriage,
        _logtriage()[0],
    )


GOACCESS = Tool(
    "GoAccess",
    lambda i, out: [
        "goaccess",
        str(i.path),
        "--no-global-config",
        "--no-progress",
        f"--log-format={GOACCESS_FORMAT}",
        "--date-format=%d/%b/%Y",
        "--time-format=%T",
        "-o",
        str(out),
    ],
    check_goaccess,
    "goaccess",
    stdout_is_report=False,
)
PT_QUERY_DIGEST = Tool(
    "pt-query-digest",
    lambda i, out: ["pt-query-digest", "--output", "json", str(i.path)],
    check_pt_query_digest,
    "pt-query-digest",
)


def pgbadger(jobs: int) -> Tool:
    def argv(i: Input, out: Path) -> list[str]:
        jobs_args = ["-j", str(jobs)] if jobs > 1 else []
        return [
            "pgbadger",
            "-f",
            "stderr",
            "--prefix",
            PG_PREFIX,
            *jobs_args,
            "-q",
            "-o",
            str(out),
            str(i.path),
        ]

    return Tool(
        "pgBadger" + (f" -j {jobs}" if jobs > 1 else ""), argv, check_pgbadger, "pgbadger", False
    )


# --------------------------------------------------------------------------- runs


@dataclass
class Run:
    """One tool on one input: measured, extrapolated from a slice, or skipped with a reason."""

    tool: str
    input: Input
    command: str
    measured: Measured | None = None
    check: str = ""
    ok: bool = False
    skipped: str = ""
    estimate_s: float | None = None
    estimate_from: Run | None = None

    @property
    def wall_s(self) -> float | None:
        if self.measured and self.ok:
            return self.measured.wall_s
        return self.estimate_s


def _rel(path: Path | str) -> str:
    text = str(path)
    return text.replace(str(ROOT) + "/", "")


def _display(argv: list[str]) -> str:
    shown = [Path(argv[0]).name, *argv[1:]]
    if shown[0].startswith("python"):
        shown = ["python", *shown[1:]]
    return shlex.join(_rel(a) for a in shown)


def _out_path(tool: Tool, tag: str) -> Path:
    return DATA / "out" / f"{tag}-{re.sub(r'[^a-z0-9]+', '-', tool.name.lower()).strip('-')}.json"


def _command(tool: Tool, item: Input, out: Path) -> str:
    argv = tool.argv(item, out)
    return _display(argv) + (f" > {_rel(out)}" if tool.stdout_is_report else "")


CALM = {"load": float(os.cpu_count() or 1), "wait_s": 60.0}


def wait_for_calm() -> None:
    """Wait (bounded) until the machine is not oversubscribed: others share it."""
    deadline = time.monotonic() + CALM["wait_s"]
    announced = False
    while os.getloadavg()[0] > CALM["load"] and time.monotonic() < deadline:
        if not announced:
            print(f"  (load {os.getloadavg()[0]:.2f} > {CALM['load']:.1f}: waiting)", flush=True)
            announced = True
        time.sleep(5)


def run_tool(tool: Tool, item: Input, tag: str, skip: str = "") -> Run:
    """Measure ``tool`` on ``item`` (fresh process) unless there is a reason to skip it."""
    out = _out_path(tool, tag)
    argv = tool.argv(item, out)
    run = Run(tool.name, item, _command(tool, item, out))
    if not skip and shutil.which(tool.executable) is None:
        skip = f"`{tool.executable}` is not installed (run `make system`)"
    if skip:
        run.skipped = skip
        print(f"  {tool.name:<16} skipped: {skip}", flush=True)
        return run
    _warm(item.path)
    wait_for_calm()
    capture = out if tool.stdout_is_report else out.with_suffix(".stdout")
    if out.exists():
        out.unlink()
    run.measured = measure(argv, capture, out.with_suffix(".stderr"))
    m = run.measured
    if m.exit_code != 0:
        run.check = f"exit {m.exit_code}: {m.stderr_tail}"
    else:
        try:
            run.ok, run.check = tool.check(out)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            run.check = f"report not readable ({type(exc).__name__}: {exc})"[:200]
    status = "" if run.ok else f"  FAILED: {run.check}"
    print(
        f"  {tool.name:<16} {m.wall_s:8.2f} s wall {m.cpu_s:8.2f} s cpu {m.rss_mb:8.0f} MB rss "
        f"(load {m.load_before:.2f}){status}",
        flush=True,
    )
    return run


def run_with_slice(
    tool: Tool, full: Input, part: Input, tag: str, budget_s: float, skip: str = ""
) -> list[Run]:
    """Measure on the slice; on the full input only if the slice predicts it fits the budget."""
    small = run_tool(tool, part, f"{tag}-slice", skip)
    if small.skipped or not small.ok or small.measured is None:
        return [small, run_tool(tool, full, tag, small.skipped or "failed on the slice")]
    estimate = small.measured.wall_s * full.bytes / part.bytes
    if estimate <= budget_s:
        return [small, run_tool(tool, full, tag)]
    big = Run(tool.name, full, _command(tool, full, _out_path(tool, tag)))
    big.estimate_s = estimate
    big.estimate_from = small
    print(
        f"  {tool.name:<16} ≈ {estimate:.0f} s "
        f"(extrapolated from the slice; budget {budget_s:.0f} s)"
    )
    return [small, big]


# --------------------------------------------------------------------------- the document


@dataclass
class Section:
    """One comparison: a title, its input, its runs (logtriage first)."""

    title: str
    input: Input
    runs: list[Run]
    notes: list[str] = field(default_factory=list)
    slice_runs: list[Run] = field(default_factory=list)


def _fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _row(run: Run, base: Run | None) -> str:
    if run.skipped:
        return f"| {run.tool} | skipped: {run.skipped} | | | | | | | | | |"
    if run.measured is None and run.estimate_s is not None:
        src = run.estimate_from
        assert src is not None and src.measured is not None
        ratio = _ratio(run, base)
        return (
            f"| {run.tool} | **≈ {run.estimate_s:,.0f} (extrapolated** "
            f"from {src.measured.wall_s:,.1f} s "
            f"on the {src.input.mb:,.0f} MB slice) | — | — | — | "
            f"≈ {run.input.lines / run.estimate_s:,.0f} | ≈ {run.input.mb / run.estimate_s:,.1f} | "
            f"{ratio} | — | — | not run |"
        )
    m = run.measured
    assert m is not None
    if not run.ok:
        return f"| {run.tool} | failed | | | | | | | | {m.load_before:.1f} | {run.check} |"
    return (
        f"| {run.tool} | {m.wall_s:,.2f} | {m.cpu_s:,.2f} | {m.rss_mb:,.0f} | "
        f"{m.tree_rss_mb:,.0f} | {run.input.lines / m.wall_s:,.0f} | "
        f"{run.input.mb / m.wall_s:,.1f} | {_ratio(run, base)} | {_cpu_ratio(run, base)} | "
        f"{m.load_before:.1f} | {run.check} |"
    )


def _ratio(run: Run, base: Run | None) -> str:
    if base is None or run is base:
        return "1.00" if run is base else "—"
    if base.wall_s is None or run.wall_s is None or not (base.measured and base.ok):
        return "—"
    value = run.wall_s / base.wall_s
    prefix = "≈ " if run.estimate_s is not None and run.measured is None else ""
    return f"{prefix}**{value:,.1f}×**"


def _cpu_ratio(run: Run, base: Run | None) -> str:
    if base is None or run is base:
        return "1.00" if run is base else "—"
    if not (run.measured and run.ok and base.measured and base.ok) or base.measured.cpu_s <= 0:
        return "—"
    return f"{run.measured.cpu_s / base.measured.cpu_s:,.1f}×"


INTRO = """\
Written by `make bench` (`benchmarks/run.py`); do not edit by hand. Every tool ran as a fresh
child process, one after the other, on the same generated file (read once before each run so all
start from the page cache). Wall time is one run; user+sys CPU and the largest process's peak RSS
come from `wait4`; the process-tree RSS is the sum over the tool and its workers, sampled every
50 ms. The ratio is the tool's wall time divided by logtriage's on the same input (above 1:
logtriage is faster); the CPU ratio divides user+sys times, which a busy shared machine disturbs
less than wall time (but it does not credit logtriage's use of both cores). Before each run the
harness waits (up to a minute) for the 1-minute load average to drop to the number of cores; the
"load" column is the value when the run started. Inputs come from `benchmarks/generate.py`
(seeded: the same sizes give the same bytes). The "engine floor" row is not a tool:
`benchmarks/floor.py` does in DuckDB only what printing the anchor's headline table takes
(lines read, entries glued, a three-regex fingerprint, counts and p95 per group; no checks,
tags, routes, correlation or findings), so the anchor's time over the floor's is the best
ratio a DuckDB tool could reach here; the Targets table gives it beside each ratio target."""
HOTSPOTS_INTRO = """\
`api.analyze` + the JSON renderer in one process
with DuckDB's profiler on (`enable_profiling = 'no_output'`, read after each statement with
`get_profiling_information`) and cProfile around the Python. Profiling adds a little time."""

ACCESS_NOTES = """\
## Notes: access-log speed work (issue 3)

Written by hand (kept in `benchmarks/run.py`, so `make bench` keeps it). Measured on
2026-11-26 on the shared 2-core machine while other sessions ran tests (1-minute load 8-12):
wall times were inflated 3-4x, so CPU time (user + sys) is compared, in alternating pairs of
fresh `logtriage analyze benchmarks/data/access-1000000.log --output-format json` runs of the
code before (a6b50ed) and after. Reports are identical (JSON minus `generated_at`), on
this file and on examples/. The gain is small (1-6% CPU) and the pairs scatter by as much.

| change | CPU s before → after (median of 3 pairs) |
|---|---|
| one request-line split, groups as columns, sniffing stops when sure | 8.36 → 7.86; 7.79 → 7.51 |
| the above + path cut with strpos (load 11-13) | 8.19 → 8.07 |
| S002 without its 1M-row copy, M004 by time buckets (2 pairs) | 7.91 → 7.52; 7.85 → 7.29 |

Peak RSS after: 781 MB on 1M lines, 953 MB on 4M lines (under 1 GiB; x1.22).

Where the CPU goes after the change (`benchmarks/hotspots.py`, process CPU per function, load
~10): parse statement 2.28 (was 2.70; in it, by operator: writing the 1M-row table ~25%,
splitting on `"` and spaces plus the skeleton check ~35%, request-line regex and split ~15%,
value conversions ~25%), route assignment 1.44 (templating 284k distinct paths ~0.5, rewriting
`requests` with the route ~0.6, the path→route map ~0.25), reading lines 0.40-0.52, S002
0.66-0.72, slow-request patterns 0.50, M004 log gap 0.45-0.49 (a sort of 1M timestamps and a
median), S001 0.27, everything else under 0.2 each. Python around the statements 0.23 (was
0.35: PostgreSQL's prefix guesses compiled dozens of regexes while sniffing every access log);
importing logtriage ~0.3 on top of duckdb, click and rich.

What 5x GoAccess (<= 4.5 s wall) still needs: the load writes the 1M-row table twice (parse,
then the route rewrite), and both are near their floor as written; the remaining levers are
structural (routes assigned inside the parse from a first pass over distinct request lines,
fewer analyzers scanning all of `requests`, and the single-threaded steps: line numbering,
the M004 sort, Python and imports), which were not done in this session.

Later session (same day, load ~10, analyzer alone over the loaded 1M-row table, CPU s, 3
runs each): M004 0.44-0.49 → 0.03 (a long gap never lies inside one bucket half `min_gap_s`
wide, so a parallel GROUP BY finds the files with one, and only those get the sorted pass;
ties between equal silences now list the earlier one first); S002 0.68-0.76 → 0.61-0.63 (its
cost now is `DISTINCT path, query` over 1M rows and the combined regexes on ~300k distinct
URLs). Route assignment (1.44) is unchanged: writing `requests` once needs the route map before
the parse writes the table, a restructuring of loading and routes not started here."""

TABLE_HEAD = (
    "| tool | wall s | user+sys s | peak RSS MB (largest process) | peak RSS MB (process tree) "
    "| lines/s | MB/s | ratio (wall) | ratio (CPU) | load | what its report says |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def render_section(section: Section) -> list[str]:
    base = next((r for r in section.runs if r.tool == "logtriage" and r.ok), None)
    out = [f"### {section.title}", "", f"Input: `{section.input.label}`.", "", TABLE_HEAD]
    out += [_row(r, base) for r in section.runs]
    if section.slice_runs:
        sliced = section.slice_runs[0].input
        base_slice = next((r for r in section.slice_runs if r.tool == "logtriage" and r.ok), None)
        out += [
            "",
            f"The same tools on the first {sliced.mb:,.0f} MB slice (`{sliced.label}`):",
            "",
            TABLE_HEAD,
        ]
        out += [_row(r, base_slice) for r in section.slice_runs]
    out += ["", "Commands (from the repository root):", "", "```"]
    out += [r.command for r in section.runs]
    out += ["```"]
    out += [""] + [f"- {n}" for n in section.notes] if section.notes else []
    out.append("")
    return out


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "cores (nproc)": str(usable),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    import duckdb

    commit = _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    first = {
        "logtriage": _output([*_logtriage(), "--version"]).splitlines()[0]
        + f" (commit {commit}{', with uncommitted changes' if dirty else ''})",
        "DuckDB": duckdb.__version__,
        "GoAccess": _output(["goaccess", "--version"]).splitlines()[0],
        "pt-query-digest": _output(["pt-query-digest", "--version"]).splitlines()[0],
        "pgBadger": _output(["pgbadger", "--version"]).splitlines()[0],
        "perl": _output(["perl", "-e", "print $^V"]).splitlines()[0],
    }
    return first


def busy_warning(sections: list[Section]) -> list[str]:
    """A warning paragraph when runs started on an oversubscribed machine."""
    cores = CALM["load"]
    runs = [r.measured for s in sections for r in s.runs + s.slice_runs if r.measured]
    busy = [m.load_before for m in runs if m.load_before > cores]
    if not busy:
        return []
    return [
        f"> **The machine was busy:** {len(busy)} of {len(runs)} runs started with the 1-minute "
        f"load average above {cores:g} (up to {max(busy):.1f}); other jobs shared the cores, so "
        "wall times are inflated and noisy. The CPU ratios are the steadier comparison.",
        "",
    ]


def write_doc(
    path: Path,
    sections: list[Section],
    hot: dict[str, Any] | None,
    facts: dict[str, Any],
) -> None:
    lines = [
        "# Benchmarks",
        "",
        INTRO,
        "",
        f"Run at {facts['started']} UTC, took {facts['took_min']:.1f} min. "
        f"Options: `{facts['options']}`.",
        "",
        *busy_warning(sections),
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in facts["machine"].items()]
    lines += [
        f"| load average (1 min) | {facts['load_start']:.2f} at the start, "
        f"{facts['load_end']:.2f} at the end (the machine is shared; the load before each run "
        "is printed by the harness) |",
        "",
        "## Versions",
        "",
        "| tool | version |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in facts["versions"].items()]
    lines += ["", "## Targets", "", "| target (issues 3, 4, 9) | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {ok} |" for t, m, ok in targets(sections)]
    lines += ["", "## Results", ""]
    for section in sections:
        lines += render_section(section)
    if hot:
        lines += render_hotspots(hot)
    lines += ["", ACCESS_NOTES, ""]
    lines += kept_notes(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def kept_notes(path: Path) -> list[str]:
    """The hand-written ``## Notes:`` sections of the document at ``path`` (not ACCESS_NOTES).

    People add their measurements there; a new run rewrites the tables, not their notes.
    """
    if not path.exists():
        return []
    ours = ACCESS_NOTES.splitlines()[0]
    kept: list[str] = []
    keeping = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            keeping = line.startswith("## Notes:") and line != ours
        if keeping:
            kept.append(line)
    return kept


def _find(sections: list[Section], key: str, tool: str) -> Run | None:
    for section in sections:
        if section.title.startswith(key):
            return next((r for r in section.runs if r.tool == tool), None)
    return None


def targets(sections: list[Section]) -> Iterator[tuple[str, str, str]]:
    """(target, what was measured, met?) for each target the issues set."""
    pairs = [
        ("nginx access log", "GoAccess", 5.0, "nginx 1M lines: ≥ 5× GoAccess"),
        ("MySQL slow log", "pt-query-digest", 10.0, "MySQL slow log: ≥ 10× pt-query-digest"),
        ("PostgreSQL log", "pgBadger", 20.0, "PostgreSQL log: ≥ 20× pgBadger"),
        ("PostgreSQL log", "pgBadger -j 2", 10.0, "PostgreSQL log: ≥ 10× pgBadger -j 2"),
    ]
    for key, anchor, goal, text in pairs:
        mine, theirs = _find(sections, key, "logtriage"), _find(sections, key, anchor)
        if theirs is None or mine is None:
            continue
        if mine.wall_s is None or not mine.ok:
            need = (
                f"; logtriage must finish in ≤ {theirs.wall_s / goal:,.1f} s"
                if theirs.wall_s
                else ""
            )
            reason = mine.skipped or mine.check
            yield text, f"not measured ({reason}){need}", "—"
            continue
        if theirs.wall_s is None:
            yield text, f"{anchor} not measured ({theirs.skipped or theirs.check})", "—"
            continue
        ratio = theirs.wall_s / mine.wall_s
        approx = "≈ " if theirs.measured is None else ""
        floor = _find(sections, key, FLOOR.name)
        at_best = (
            f"; the engine floor {floor.wall_s:,.2f} s: {theirs.wall_s / floor.wall_s:,.1f}×"
            if floor is not None and floor.ok and floor.wall_s
            else ""
        )
        yield (
            text,
            f"{approx}{ratio:,.1f}× ({theirs.wall_s:,.1f} s vs {mine.wall_s:,.2f} s){at_best}",
            ("yes" if ratio >= goal else "**no**"),
        )
    measured = [
        r for s in sections for r in s.runs + s.slice_runs if r.tool == "logtriage" and r.measured
    ]
    if measured:
        worst = max(measured, key=lambda r: r.measured.rss_mb if r.measured else 0)
        assert worst.measured is not None
        yield (
            "logtriage peak RSS ≤ 1 GiB at any input size",
            f"max {worst.measured.rss_mb:,.0f} MB (on {_rel(worst.input.path)})",
            "yes" if worst.measured.rss_mb <= GIB else "**no**",
        )
    for name, key, four_key in (
        ("nginx", "nginx access log", "Same nginx"),
        ("MySQL", "MySQL slow log", "Same MySQL"),
        ("PostgreSQL", "PostgreSQL log", "Same PostgreSQL"),
    ):
        yield from _growth(
            name, _find(sections, key, "logtriage"), _find(sections, four_key, "logtriage")
        )


def _growth(name: str, one: Run | None, four: Run | None) -> Iterator[tuple[str, str, str]]:
    """Targets at 4× the input: memory flat (≤ 1.25× RSS), time linear (≤ 4.4× CPU)."""
    if not (one and four and one.measured and four.measured and one.ok and four.ok):
        return
    growth = four.measured.rss_mb / one.measured.rss_mb
    yield (
        f"{name}: memory flat when the input grows 4× (≤ 1.25× RSS)",
        f"{one.measured.rss_mb:,.0f} MB → {four.measured.rss_mb:,.0f} MB (×{growth:.2f})",
        "yes" if growth <= 1.25 else "**no**",
    )
    # CPU seconds, not wall: a longer run meets more of the other processes' load.
    cpu = four.measured.cpu_s / one.measured.cpu_s
    yield (
        f"{name}: time linear when the input grows 4× (≤ 4.4× CPU)",
        f"{one.measured.cpu_s:,.1f} → {four.measured.cpu_s:,.1f} CPU s (×{cpu:.2f}); "
        f"wall ×{four.measured.wall_s / one.measured.wall_s:.2f}",
        "yes" if cpu <= 4.4 else "**no**",
    )


def render_hotspots(hot: dict[str, Any]) -> list[str]:
    total = hot["total_s"]
    statements = hot["statements"]
    out = [
        "## Where the time goes (logtriage, access log)",
        "",
        f"`benchmarks/hotspots.py {_rel(hot['path'])}`: " + HOTSPOTS_INTRO,
        f"Total {total:,.2f} s: {hot['sql_s']:,.2f} s ({hot['sql_s'] / total:.0%}) inside "
        f"{len(statements)} engine statements, {total - hot['sql_s']:,.2f} s in Python "
        "around them.",
        "",
        "By the logtriage function that ran the statements:",
        "",
        "| function | statements | wall s | share | engine CPU s (all threads) |",
        "|---|---:|---:|---:|---:|",
    ]
    by_caller: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in statements:
        by_caller[record["caller"]].append(record)
    ranked = sorted(by_caller.items(), key=lambda kv: -sum(r["wall_s"] for r in kv[1]))
    for caller, records in ranked[:10]:
        wall = sum(r["wall_s"] for r in records)
        cpu = sum(r.get("cpu_s", 0.0) for r in records)
        out.append(
            f"| `{caller}` | {len(records)} | {wall:,.2f} | {wall / total:.0%} | {cpu:,.2f} |"
        )
    out += [
        "",
        "The costliest statements (operator CPU time is summed over threads):",
        "",
        "| wall s | share | function | statement | costliest operators | peak buffer MB |",
        "|---:|---:|---|---|---|---:|",
    ]
    for record in sorted(statements, key=lambda r: -r["wall_s"])[:8]:
        ops = "; ".join(
            f"{o['operator']} {o['cpu_s']:.2f} s" + (f" ({o['detail']})" if o["detail"] else "")
            for o in record.get("operators", [])[:2]
        )
        sql = record["sql"][:110].replace("|", "\\|")
        out.append(
            f"| {record['wall_s']:,.2f} | {record['wall_s'] / total:.0%} | `{record['caller']}` | "
            f"`{sql}…` | {ops} | {record.get('peak_buffer_mb', 0):,.0f} |"
        )
    if hot.get("python"):
        out += [
            "",
            "Python outside the engine, by own time (cProfile):",
            "",
            "| function | calls | own s |",
        ]
        out += ["|---|---:|---:|"]
        out += [
            f"| `{p['function']}` | {p['calls']:,} | {p['own_s']:,.3f} |" for p in hot["python"][:6]
        ]
    out.append("")
    return out


# --------------------------------------------------------------------------- main


def pg_extra_args() -> list[str]:
    """Tell logtriage the prefix too, when it has the option (pgBadger is told with --prefix)."""
    help_text = _output([*_logtriage(), "analyze", "--help"])
    return ["--pg-prefix", PG_PREFIX] if "--pg-prefix" in help_text else []


def bench_access(lines: int, sections: list[Section]) -> Input:
    one = prepare("access", DATA / f"access-{lines}.log", lines=lines)
    four = prepare("access", DATA / f"access-{lines * 4}.log", lines=lines * 4)
    for title, item, tag in (
        (f"nginx access log, {lines:,} lines", one, "access"),
        (f"Same nginx access log shape, 4× larger ({lines * 4:,} lines)", four, "access-4x"),
    ):
        print(f"{title}:", flush=True)
        runs = [run_tool(logtriage_tool(), item, tag), run_tool(GOACCESS, item, tag)]
        if item is one:
            runs.append(run_tool(FLOOR, item, tag))
        sections.append(Section(title, item, runs))
    return one


def bench_database(
    kind: str,
    size_mb: float,
    slice_mb: float,
    formats: list[str],
    budget_s: float,
    sections: list[Section],
) -> None:
    full = prepare(kind, DATA / f"{kind}-{size_mb:g}mb.log", size_mb=size_mb)
    part = prepare(kind, DATA / f"{kind}-{slice_mb:g}mb.log", size_mb=slice_mb)
    word = "mysql" if kind == "mysql" else "postgres"
    reader = reader_for(formats, word)
    skip = (
        ""
        if reader
        else f"`logtriage formats` lists no {word} reader yet ({', '.join(formats) or 'none'})"
    )
    extra = pg_extra_args() if kind == "postgres" and reader else []
    if kind == "mysql":
        title = f"MySQL slow log, {full.mb:,.0f} MB"
        anchors = [PT_QUERY_DIGEST]
    else:
        title = f"PostgreSQL log (stderr, `{PG_PREFIX}`), {full.mb:,.0f} MB"
        anchors = [pgbadger(1), pgbadger(2)]
    print(f"{title}:", flush=True)
    mine_slice = run_tool(logtriage_tool(extra), part, f"{kind}-slice", skip)
    mine = run_tool(logtriage_tool(extra), full, kind, skip)
    runs, slices = [mine], [mine_slice]
    for anchor in anchors:
        small, big = run_with_slice(anchor, full, part, kind, budget_s)
        runs.append(big)
        slices.append(small)
    runs.append(run_tool(FLOOR, full, kind))
    notes = []
    if skip:
        notes.append(
            f"logtriage skipped: {skip}. The anchors were measured so the target time is known."
        )
    if mine.ok and mine_slice.ok and mine.measured and mine_slice.measured:
        notes.append(
            f"logtriage memory vs input size: {mine_slice.measured.rss_mb:,.0f} MB on "
            f"{part.mb:,.0f} MB, "
            f"{mine.measured.rss_mb:,.0f} MB on {full.mb:,.0f} MB."
        )
    if kind == "postgres":
        notes.append(
            "pgBadger `-j N` splits one file into N chunks; its workers are separate processes, "
            "so the process-tree RSS column is the one to compare."
        )
    sections.append(Section(title, full, runs, notes, slices))
    # Issues 4 and 9: memory flat and time linear when the input grows 4× (logtriage only:
    # the anchors would take most of an hour on it).
    four = prepare(kind, DATA / f"{kind}-{size_mb * 4:g}mb.log", size_mb=size_mb * 4)
    name = "MySQL slow log" if kind == "mysql" else "PostgreSQL log"
    four_title = f"Same {name} shape, 4× larger ({four.mb:,.0f} MB)"
    print(f"{four_title}:", flush=True)
    sections.append(
        Section(four_title, four, [run_tool(logtriage_tool(extra), four, f"{kind}-4x", skip)])
    )


def hotspots(item: Input) -> dict[str, Any] | None:
    print(f"profiling logtriage on {_rel(item.path)} …", flush=True)
    argv = [sys.executable, str(ROOT / "benchmarks" / "hotspots.py"), str(item.path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  profiling failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    print(f"  {result['total_s']:.2f} s, {result['sql_s']:.2f} s in SQL", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, help=f"access log lines (default {DEFAULT_LINES:,})")
    parser.add_argument(
        "--size-mb", type=float, help=f"database log size (default {DEFAULT_SIZE_MB:g})"
    )
    parser.add_argument("--only", choices=("access", "mysql", "postgres"), action="append")
    parser.add_argument("--quick", action="store_true", help="small inputs (100k lines, 20 MB)")
    parser.add_argument("--slice-mb", type=float, help="database slice (default: a tenth)")
    parser.add_argument(
        "--anchor-budget",
        type=float,
        default=1800.0,
        help="seconds an anchor may take on the full input (else extrapolated from the slice)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the hotspot profile")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help=f"rewrite the document from the last run's {RESULTS.name} (default: into data/)",
    )
    parser.add_argument(
        "--calm-load",
        type=float,
        default=CALM["load"],
        help="before each run, wait for the 1-min load average to drop to this (default: cores)",
    )
    parser.add_argument(
        "--calm-wait", type=float, default=CALM["wait_s"], help="longest wait per run, seconds"
    )
    parser.add_argument("--doc", type=Path, help="where to write (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    CALM.update(load=args.calm_load, wait_s=args.calm_wait)
    if args.render_only:
        with RESULTS.open("rb") as f:
            saved = pickle.load(f)
        CALM.update(saved["calm"])
        return finish(
            args.doc or DATA / "benchmarks.md", *(saved[k] for k in ("sections", "hot", "facts"))
        )
    lines = args.lines or (100_000 if args.quick else DEFAULT_LINES)
    size_mb = args.size_mb or (20.0 if args.quick else DEFAULT_SIZE_MB)
    slice_mb = args.slice_mb or max(size_mb / 10, 1.0)
    only = args.only or ["access", "mysql", "postgres"]
    # A partial or quick run must not overwrite the committed document.
    doc = args.doc or (DOC if not args.quick and not args.only else DATA / "benchmarks.md")
    started = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    formats = logtriage_formats()
    print(f"logtriage formats: {', '.join(formats) or 'none'}", flush=True)
    sections: list[Section] = []
    hot = None
    if "access" in only:
        one = bench_access(lines, sections)
        hot = None if args.no_profile else hotspots(one)
    for kind in ("mysql", "postgres"):
        if kind in only:
            bench_database(kind, size_mb, slice_mb, formats, args.anchor_budget, sections)
    facts = {
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "took_min": (datetime.now(UTC) - started).total_seconds() / 60,
        "options": " ".join(
            ["benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]
        ).strip(),
        "machine": machine(),
        "versions": versions(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }
    with RESULTS.open("wb") as f:
        pickle.dump({"sections": sections, "hot": hot, "facts": facts, "calm": CALM}, f)
    return finish(doc, sections, hot, facts)


def finish(
    doc: Path, sections: list[Section], hot: dict[str, Any] | None, facts: dict[str, Any]
) -> int:
    write_doc(doc, sections, hot, facts)
    print(f"wrote {_rel(doc)}")
    for target, measured, met in targets(sections):
        print(f"  {target}: {measured} [{met}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
