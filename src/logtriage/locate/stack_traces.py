"""Code locations from stack traces in app logs: the first frame in the application's own code.

Frames are read from ``app_events.stack`` in the formats of Python, Java (and other JVM
languages), Ruby, Node.js, PHP and Go, innermost first, then reduced to the first frame that is
the application's own code: under ``--source`` when it is given, else not a library, framework
or runtime path (site-packages, gems, node_modules, vendor, the JDK, Spring, Hibernate …).
Events are the ones tied to the finding's requests (table ``correlations``), else the ones that
happened while the finding's requests or queries ran.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from logtriage.model.context import TableReader
from logtriage.model.finding import Finding

# Events read per finding: enough to rank a handful of sites, bounded whatever the log size.
MAX_EVENTS = 500


@dataclass(frozen=True)
class Frame:
    """One stack frame: a file, a line, the function, and the language whose format it had."""

    path: str
    line: int | None
    function: str | None
    language: str


# Python: `  File "/app/views.py", line 57, in list_articles` (outermost first).
_PYTHON = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
# JVM: `\tat com.x.Shop.order(Shop.java:42)`, with an optional module/loader prefix (`app//`,
# `java.base/`). Innermost first; `Caused by:` blocks hold deeper frames.
_JAVA = re.compile(
    r"^\s*at (?:[\w.$-]+(?:@[\w.-]+)?/{1,2})?(?P<func>[\w$.<>]+)\((?P<file>[^:()]+?)"
    r"(?::(?P<line>\d+))?\)\s*(?:~?\[.*\])?$"
)
# Ruby: `app/controllers/x.rb:12:in 'show'` / `from /gems/…/y.rb:3:in `call'` (innermost first).
_RUBY = re.compile(
    r"^\s*(?:from\s+)?(?P<path>[^\s:]+\.(?:rb|erb|haml|slim|rake|builder|jbuilder)):"
    r"(?P<line>\d+)(?::in [`'](?P<func>[^'`]*)')?"
)
# Node.js: `    at Object.handler (/app/routes/x.js:12:11)` or `    at /app/x.js:20:5`.
_NODE = re.compile(
    r"^\s*at (?:async )?(?:(?P<func>[^()]+?) \()?(?:file://)?(?P<path>[^()\s]+?):(?P<line>\d+)"
    r":\d+\)?\s*$"
)
# PHP: `#0 /var/www/app/Http/Controllers/X.php(42): App\Models\Order->find()`, and the origin
# `… in /var/www/x.php:12` / `thrown in /var/www/x.php on line 12`.
_PHP = re.compile(r"^#\d+ (?P<path>[^(]+?\.php)\((?P<line>\d+)\): (?P<func>.*)$")
_PHP_ORIGIN = re.compile(r"\b(?:in|at) (?P<path>/?[^\s:()]+\.php)(?::| on line )(?P<line>\d+)")
# Go: a function line, then `\t/app/handlers.go:42 +0x1d` (innermost first).
_GO_FUNC = re.compile(r"^(?P<func>[\w./*()\-]+)\(.*\)$")
_GO_FILE = re.compile(r"^\s+(?P<path>[^\s:]+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")

_TAGS = re.compile(r"^(?:\[[^\]\n]*\]\s?)+")
# Paths of libraries, frameworks and runtimes: never the application's own code.
_LIBRARY_PATH = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|bower_components|vendor|gems|"
    r"bundle|rubygems|\.rbenv|\.rvm|\.pyenv|\.venv|venv|pkg/mod|lib/python\d[\d.]*|"
    r"lib/ruby|go/src|usr/lib|usr/local/lib|usr/share)/"
    r"|^(?:node:|internal/|<|\[)|^/?(?:usr/local/go|opt/hostedtoolcache)/"
)
_LIBRARY_JAVA = re.compile(
    r"^(?:java|javax|jakarta|jdk|sun|com\.sun|org\.springframework|org\.hibernate|org\.apache|"
    r"org\.eclipse|org\.glassfish|io\.netty|io\.undertow|ch\.qos|org\.slf4j|com\.fasterxml|"
    r"reactor|kotlin|kotlinx|scala|groovy|org\.junit|com\.zaxxer|net\.bytebuddy|io\.micrometer|"
    r"org\.postgresql|com\.mysql|org\.mariadb|com\.google|io\.grpc|okhttp3|feign)\."
)


def parse_frames(stack: str) -> list[Frame]:
    """Every frame of one stack text, innermost first, whatever the language."""
    structured = _json_frames(stack)
    if structured is not None:
        return structured
    # Rails' TaggedLogging prefixes every line with its tags: ``[req-1] app/x.rb:3:in 'y'``.
    lines = [_TAGS.sub("", line) for line in stack.splitlines()]
    if any(_PYTHON.match(t) for t in lines):
        # Python prints outermost first and the last traceback is the one raised last.
        python = [_frame(m, "python") for t in lines if (m := _PYTHON.match(t))]
        return python[::-1]
    java: list[list[Frame]] = [[]]
    out: list[Frame] = []
    pending_go: str | None = None
    for text in lines:
        if text.lstrip().startswith("Caused by:"):
            java.append([])
        if m := _JAVA.match(text):
            java[-1].append(_java_frame(m))
        elif m := _PHP.match(text):
            out.append(_frame(m, "php"))
        elif m := _GO_FILE.match(text):
            out.append(Frame(m["path"], int(m["line"]), pending_go, "go"))
        elif m := _NODE.match(text):
            out.append(_frame(m, "javascript"))
        elif m := _RUBY.match(text):
            out.append(_frame(m, "ruby"))
        elif not out and (m := _PHP_ORIGIN.search(text)):
            out.append(Frame(m["path"], int(m["line"]), None, "php"))
        pending_go = m["func"] if (m := _GO_FUNC.match(text)) else None
    # The root cause (the last ``Caused by``) ran deepest: its frames come first.
    return [f for block in reversed(java) for f in block] + out


def _json_frames(stack: str) -> list[Frame] | None:
    """Stacks logged as JSON: structlog's dict tracebacks, or a list of frame lines (lograge)."""
    text = stack.strip()
    if not text.startswith(("[", "{")):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    items = data if isinstance(data, list) else [data]
    if all(isinstance(i, str) for i in items):
        return parse_frames("\n".join(items))
    frames: list[Frame] = []
    # structlog: one dict per exception, the raised one first; frames outermost first.
    for exc in items:
        raw = exc.get("frames") if isinstance(exc, dict) else None
        if not isinstance(raw, list):
            continue
        for f in reversed(raw):
            if isinstance(f, dict) and isinstance(f.get("filename"), str):
                line = f.get("lineno")
                name = f.get("name")
                frames.append(
                    Frame(
                        f["filename"],
                        line if isinstance(line, int) else None,
                        name if isinstance(name, str) else None,
                        "python",
                    )
                )
    return frames


def _frame(match: re.Match[str], language: str) -> Frame:
    func = match.groupdict().get("func")
    return Frame(
        match["path"].strip(), int(match["line"]), func.strip() if func else None, language
    )


def _java_frame(match: re.Match[str]) -> Frame:
    func = match["func"]
    # A JVM frame names the file without its folder: the class's package gives the folder.
    package = func.rsplit(".", 2)[0] if func.count(".") >= 2 else ""
    folder = package.replace(".", "/") + "/" if package else ""
    line = int(match["line"]) if match["line"] else None
    return Frame(folder + match["file"], line, func, "java")


def is_library_frame(frame: Frame) -> bool:
    """True for a frame in a library, framework, ORM or runtime (without a source tree)."""
    if frame.language == "java":
        return frame.function is None or bool(_LIBRARY_JAVA.match(frame.function))
    return bool(_LIBRARY_PATH.search(frame.path.replace("\\", "/")))


def own_frame(frames: Iterable[Frame], resolve: Callable[[str], str | None] | None) -> Frame | None:
    """The innermost frame in the application's own code (under the source tree when given)."""
    for frame in frames:
        if frame.line is None or is_library_frame(frame):
            continue
        if resolve is None:
            return frame
        rel = resolve(frame.path)
        if rel is not None and not _LIBRARY_PATH.search("/" + rel):
            return Frame(rel, frame.line, frame.function, frame.language)
    return None


def _event_stacks(db: TableReader, finding: Finding) -> list[str]:
    """Stacks of the events tied to the finding's requests, else of events during them."""
    if not db.count("app_events"):
        return []
    tied = db.count("correlations") > 0
    has_units = db.count("unit_queries") > 0
    if finding.route is not None and finding.fingerprint is not None and has_units:
        requests = (
            "SELECT DISTINCT request_source AS source, request_line AS line FROM unit_queries "
            "WHERE route = ? AND fingerprint = ?"
        )
        params: list[object] = [finding.route, finding.fingerprint]
    elif finding.route is not None and db.count("requests"):
        requests = "SELECT source, line FROM requests WHERE route = ?"
        params = [finding.route]
    elif finding.fingerprint is not None and has_units:
        requests = (
            "SELECT DISTINCT request_source AS source, request_line AS line FROM unit_queries "
            "WHERE fingerprint = ? AND request_source IS NOT NULL"
        )
        params = [finding.fingerprint]
    else:
        requests = ""
        params = []
    if requests and tied:
        rows = db.rows(
            f"""
            SELECT e.stack FROM ({requests}) r
            JOIN correlations c ON c.kind = 'app_event' AND c.request_source = r.source
                 AND c.request_line = r.line
            JOIN app_events e ON e.source = c.source AND e.line = c.line
            WHERE e.stack IS NOT NULL ORDER BY e.ts, e.source, e.line LIMIT {MAX_EVENTS}
            """,
            params,
        )
        if rows:
            return [r["stack"] for r in rows]
    # No id ties the events to requests: the events that happened while the finding's queries
    # (or the route's requests) ran, a second of clock skew either way.
    if finding.fingerprint is not None and db.count("queries"):
        spans = (
            "SELECT ts, ts + to_microseconds((coalesce(duration_ms, 0) * 1000)::BIGINT) AS te "
            "FROM queries WHERE fingerprint = ? AND ts IS NOT NULL"
        )
        params = [finding.fingerprint]
    elif finding.route is not None and db.count("requests"):
        spans = (
            "SELECT ts, ts + to_microseconds((coalesce(duration_ms, 0) * 1000)::BIGINT) AS te "
            "FROM requests WHERE route = ? AND ts IS NOT NULL"
        )
        params = [finding.route]
    else:
        return []
    rows = db.rows(
        f"""
        SELECT DISTINCT e.stack, e.ts, e.source, e.line FROM app_events e
        WHERE e.stack IS NOT NULL AND e.ts IS NOT NULL AND EXISTS (
            SELECT 1 FROM ({spans}) s
            WHERE e.ts BETWEEN s.ts - INTERVAL 1 SECOND AND s.te + INTERVAL 1 SECOND)
        ORDER BY e.ts, e.source, e.line LIMIT {MAX_EVENTS}
        """,
        params,
    )
    return [r["stack"] for r in rows]


@dataclass(frozen=True)
class StackSite:
    """A frame of the app's own code and how many of the finding's stacks stop there."""

    frame: Frame
    count: int
    total: int


def stack_sites(
    db: TableReader, finding: Finding, resolve: Callable[[str], str | None] | None
) -> list[StackSite]:
    """The app's own innermost frames of the finding's stack traces, most frequent first."""
    stacks = _event_stacks(db, finding)
    counts: Counter[tuple[str, int | None, str | None, str]] = Counter()
    for stack in stacks:
        frame = own_frame(parse_frames(stack), resolve)
        if frame is not None:
            counts[(frame.path, frame.line, frame.function, frame.language)] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or 0))
    return [StackSite(Frame(*key), n, len(stacks)) for key, n in ranked]
