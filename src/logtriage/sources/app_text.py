"""Plain-text application logs (Python logging, loguru, logback/log4j, Spring Boot, Go, Node, .NET).

An entry is a line that starts the way one of the known layouts does (a timestamp, or
``LEVEL:name:`` for ``logging.basicConfig()``); every other line continues the entry above it,
so a traceback stays with the message that logged it. The engine groups them in bulk:
``sum(is_start) OVER (ORDER BY line)`` numbers the entries, ``string_agg`` joins their lines
(as the PostgreSQL reader does). Layouts, tried in this order on each line, so one file may mix
them (gunicorn's own lines and the app's on one stderr):

- ``gunicorn``: ``[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker``
- ``flask``: ``[2026-11-24 10:00:00,123] ERROR in views: …`` (Flask's documented format)
- ``python``: ``2026-11-24 10:00:00,123 - app.views - ERROR - …`` (the logging cookbook's)
- ``logback``: ``2026-11-24 10:00:00.123 [main] ERROR c.e.Foo - …`` (logback's documented
  pattern) and ``logback_level_first``: ``2026-11-24 10:00:00.123 ERROR [main] c.e.Foo - …``
  (also log4j's ``%d %-5p [%t] %c - %m``)
- ``spring_boot``: ``2026-11-24T10:00:00.123Z  INFO 4242 --- [app] [main] c.e.Foo : …``
- ``ruby``: ``E, [2026-11-24T10:00:00.123456 #4242] ERROR -- : [request-id] …`` (Ruby's
  Logger::Formatter, what Rails' production.rb configures; the first tag is the request id
  ``config.log_tags = [:request_id]`` puts there)
- ``django``: ``ERROR 2026-11-24 10:00:00,123 views 4242 1399 …`` (Django docs' ``verbose``)
- ``monolog``: ``[2026-11-24 10:00:00] production.ERROR: … {"exception":"[object] (…"}``
  (PHP Monolog's LineFormatter, Laravel's default; the stack follows on ``#0 …`` lines)
- ``log4j_bracketed``: ``[2026-11-24T10:00:00,123][INFO ][o.e.n.Node] …`` (Elasticsearch,
  Logstash) and ``log4j_pipes``: ``2026-11-24 10:00:00,123 | ERROR | … | logger | thread``
  (ActiveMQ)
- ``loguru``: ``2026-11-24 10:00:00.123 | ERROR    | app.views:handler:42 - …`` (loguru's
  default; ``module:function:line`` kept as ``logger``)
- ``serilog``: ``2026-11-24 10:00:00.123 +00:00 [ERR] …`` (Serilog's file sink; its
  ``{Properties}`` or exception lines continue the entry)
- ``structlog``: ``2026-11-24T10:00:00.123456Z [error    ] event   [app.db] key=value``
  (structlog's ConsoleRenderer; the bracket after the event, add_logger_name's, is ``logger``;
  the message keeps the event and its key=value pairs)
- ``zap_console``: ``2026-11-24T10:00:00.123+0100<TAB>ERROR<TAB>pkg/file.go:12<TAB>…`` (zap's
  development encoder; the caller is ``logger``; its stacktrace, function lines and
  tab-indented ``file.go:line`` lines, follows as ``stack`` and names no error type)
- ``nestjs``: ``[Nest] 4242  - 11/24/2026, 10:00:00 AM   ERROR [Context] …`` (NestJS's
  ConsoleLogger: ``pid``, the context as ``logger``, LOG read as INFO, the ``+3ms`` dropped)
- ``klog``: ``E1124 10:00:00.123456    4242 reflector.go:138] …`` (Kubernetes components,
  glog): the letter is the level, ``file:line`` the ``logger``. It has no year: ``[formats]
  app_year`` gives it, else the year the log is read in, or the one before for a date more
  than a day ahead (as Logstash's date filter guesses it)
- ``spring_boot_banner``: the first line of Spring Boot's start-up banner, so the banner
  (ASCII art and `` :: Spring Boot ::  (v3.2.0)``) is one entry without time or level, not
  lines before the first entry or the end of the entry above a restart
- ``go``: ``2026/11/24 10:00:00 …`` (Go's standard ``log``; a level word may lead the message)
- ``timestamped``: any other ``<time> [LEVEL] …`` / ``[<time>] LEVEL: …`` line
- ``php``: ``[13-Jan-2017 22:46:23 UTC] PHP Fatal error:  Uncaught …`` (PHP's error_log, its
  ``Stack trace:`` and ``#0 …`` lines after it) and ``php_fpm``: ``[13-Jan-2017 22:46:23]
  WARNING: [pool www] child 11830 … execution timed out`` (php-fpm's own log)
- ``celery``: ``[2026-11-24 10:00:00,123: ERROR/ForkPoolWorker-1] Task … raised …`` (the
  worker's process name kept as ``thread``)
- ``uvicorn``: ``ERROR:    Exception in ASGI application`` (uvicorn's console, FastAPI and
  Starlette; no time, the level padded to ten columns)
- ``python_default``: ``ERROR:app.views:…`` (``logging.BASIC_FORMAT``, no time)
- ``dotnet``: ``fail: Shop.OrdersController[0]`` with the message on the indented lines below
  (ASP.NET Core's default console logger; no time, the event id kept as ``thread``)

Continuation text that looks like a stack trace becomes ``stack`` and names ``error_type``
(``app_fields``); other continuation lines are part of the message. Lines before the first
entry are rejected. Times without a zone are UTC unless ``[formats] app_timezone`` is given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from logtriage.sources.app_fields import (
    FIELD_HINTS,
    error_type_sql,
    is_traceback_sql,
    level_sql,
    sql_str,
    time_sql,
)
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

_TS = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
    r"(?: ?(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?"
)
_LEVEL = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|SEVERE"
_PY_LEVEL = "DEBUG|INFO|WARNING|ERROR|CRITICAL"
_MONOLOG_LEVEL = "DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY"
_ZAP_LEVEL = "DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL"
_GO_TS = r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
_PHP_TS = r"\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
_PHP_LEVEL = (
    "Fatal error|Parse error|Warning|Notice|Deprecated|Recoverable fatal error|"
    "Catchable fatal error|Strict Standards"
)
FIELDS = ("ts", "level", "logger", "thread", "pid", "msg")


@dataclass(frozen=True)
class Layout:
    """One way an entry's first line is written: a full-line regex and what its groups are."""

    name: str
    regex: str
    groups: tuple[str, ...]

    def matches(self, line: str) -> bool:
        """Whether ``line`` starts an entry in this layout."""
        return re.match(self.regex, line) is not None


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "gunicorn", rf"^\[({_TS})\] \[(\d+)\] \[({_LEVEL})\] (.*)$", ("ts", "pid", "level", "msg")
    ),
    Layout(
        "flask", rf"^\[({_TS})\] ({_LEVEL}) in ([\w.<>-]+): (.*)$", ("ts", "level", "logger", "msg")
    ),
    Layout("python", rf"^({_TS}) - (\S+) - ({_LEVEL}) - (.*)$", ("ts", "logger", "level", "msg")),
    Layout(
        "logback",
        rf"^({_TS}) \[([^\]]*)\] ({_LEVEL}) +(\S+) - (.*)$",
        ("ts", "thread", "level", "logger", "msg"),
    ),
    Layout(
        "logback_level_first",
        rf"^({_TS}) +({_LEVEL}) +\[([^\]]*)\] (\S+) - (.*)$",
        ("ts", "level", "thread", "logger", "msg"),
    ),
    Layout(
        "spring_boot",
        rf"^({_TS}) +({_LEVEL}) (\d+) --- (?:\[[^\]]*\] )?\[ *([^\]]*)\] (\S+) +: (.*)$",
        ("ts", "level", "pid", "thread", "logger", "msg"),
    ),
    Layout(
        "ruby",
        rf"^[A-Z], \[({_TS}) #(\d+)\] +({_LEVEL}|ANY) -- ([^:]*): (.*)$",
        ("ts", "pid", "level", "logger", "msg"),
    ),
    Layout(
        "django",
        rf"^({_PY_LEVEL}) ({_TS}) (\S+) (\d+) (\d+) (.*)$",
        ("level", "ts", "logger", "pid", "thread", "msg"),
    ),
    Layout(
        "monolog",
        rf"^\[({_TS})\] ([\w.-]+)\.({_MONOLOG_LEVEL}): (.*)$",
        ("ts", "logger", "level", "msg"),
    ),
    Layout(
        "log4j_bracketed",
        rf"^\[({_TS})\]\[({_LEVEL}) *\]\[([^\]]*?) *\] ?(.*)$",
        ("ts", "level", "logger", "msg"),
    ),
    # loguru's default: the level padded to 8, then name:function:line.
    Layout(
        "loguru",
        rf"^({_TS}) \| ([A-Z]+) *\| (\S+:\S+:\d+) - (.*)$",
        ("ts", "level", "logger", "msg"),
    ),
    Layout(
        "log4j_pipes",
        rf"^({_TS}) \| ({_LEVEL}) *\| (.*?) \| ([\w.$]+) \| (.*)$",
        ("ts", "level", "msg", "logger", "thread"),
    ),
    # Serilog's file sink: {Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {Message:lj}.
    Layout(
        "serilog", rf"^({_TS}) \[(VRB|DBG|INF|WRN|ERR|FTL)\] (.*)$", ("ts", "level", "msg")
    ),
    # structlog's ConsoleRenderer: "[error    ] event   [logger] key=value"; the logger (with
    # add_logger_name) is the first bracket after the event, and the message keeps it all.
    Layout(
        "structlog",
        rf"^({_TS}) \[(debug|info|warning|warn|error|critical|exception|fatal|notset) *\] "
        r"((?:\S[^\[]*? \[([\w.:<>-]+)\](?: .*)?$)?.*)$",
        ("ts", "level", "msg", "logger"),
    ),
    # zap's console encoder, tab-separated (upper-case levels in development, lower-case in
    # production): the caller (file.go:line), after the logger's name if it has one, is the
    # logger; the fields' JSON stays in the message.
    Layout(
        "zap_console",
        rf"^({_TS})\t({_ZAP_LEVEL}|{_ZAP_LEVEL.lower()})\t"
        r"(?:((?:[^\t]+\t)?[^\t]+\.go:\d+)\t)?(.*)$",
        ("ts", "level", "logger", "msg"),
    ),
    # NestJS's ConsoleLogger: the level right-aligned in 7 columns, the context in brackets and
    # the time since the previous line ("+3ms") at the end, which is not the message's.
    Layout(
        "nestjs",
        r"^\[Nest\] (\d+) +- (\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2}(?: [AP]M)?) +"
        r"(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) (?:\[([^\]]*)\] )?(.*?)(?: \+\d+ms)?$",
        ("pid", "ts", "level", "logger", "msg"),
    ),
    # klog/glog (Kubernetes): Lmmdd hh:mm:ss.uuuuuu pid file:line] msg; no year (see _klog_ts).
    Layout(
        "klog",
        r"^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([^ \]]+:\d+)\] (.*)$",
        ("level", "ts", "pid", "logger", "msg"),
    ),
    # Spring Boot's start-up banner: its first line starts an entry (the banner, kept as one
    # level-less record) instead of lines before the first entry or glued to the one above.
    Layout("spring_boot_banner", r"^( *\. +____ +_ +__ _ _ *)$", ("msg",)),
    # A level in brackets may be padded inside them ("[INFO ]", logback's [%-5level]).
    Layout("go", rf"^({_GO_TS}) (?:\[?({_LEVEL}) *\]?:? )?(.*)$", ("ts", "level", "msg")),
    Layout(
        "timestamped",
        rf"^\[?({_TS})\]? +\[?({_LEVEL}) *\]?:? +(.*)$",
        ("ts", "level", "msg"),
    ),
    Layout(
        "php",
        rf"^\[({_PHP_TS}(?: UTC)?)(?: [\w/+-]+)?\] PHP ({_PHP_LEVEL}): +(.*)$",
        ("ts", "level", "msg"),
    ),
    Layout(
        "php_fpm",
        rf"^\[({_PHP_TS})\] (ALERT|ERROR|WARNING|NOTICE|DEBUG): (.*)$",
        ("ts", "level", "msg"),
    ),
    Layout(
        "celery",
        rf"^\[({_TS}): ({_LEVEL})/([^\]]+)\] (.*)$",
        ("ts", "level", "thread", "msg"),
    ),
    # uvicorn's console (FastAPI, Starlette): the level padded so messages start in column 11.
    Layout(
        "uvicorn", r"^(TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL): {1,5}(\S.*)$", ("level", "msg")
    ),
    Layout("python_default", rf"^({_PY_LEVEL}):([^:]*):(.*)$", ("level", "logger", "msg")),
    Layout(
        "dotnet",
        r"^(trce|dbug|info|warn|fail|crit): ([\w.`+<>-]+)\[(\d+)\](.*)$",
        ("level", "logger", "thread", "msg"),
    ),
)  # fmt: skip

# Lines that only continue an entry (tracebacks, Java frames, Ruby frames, Rails tags).
CONTINUATION = (
    r"^(\s|Traceback \(most|During handling of|The above exception|Caused by: |"
    r"[\w.$:]+(Exception|Error|Exit|Interrupt|NotFound)\b|\[[^\]]+\] |\.\.\. \d+ |.*:in `|"
    # PHP (Monolog/Laravel) frames and marker, Go's panic header.
    r"#\d+ (?:/|\{main\}|\[internal)|\[stacktrace\]$|goroutine \d+ \[|"
    # loguru's frame where the exception was caught.
    r"> File \")"
)
_CONTINUATION = re.compile(CONTINUATION)
_REQUEST_ID = r"\b(?:request_id|requestId|request-id|req_id|reqId|x_request_id)[=:] ?\"?([\w.:-]+)"
_TRACE_ID = r"\b(?:trace_id|traceId|trace\.id|dd\.trace_id|trace)[=:] ?\"?([0-9a-fA-F]{16,32})\b"
# Laravel names the exception in the head's JSON context: "[object] (Foo\\BarException(code: 0): …".
_PHP_CLASS = r"\[object\] \(([A-Za-z_\\][\w\\]*)\(code: "
# Rails' first tag is the request id when it looks like one (not an IP, not a word).
_TAG_ID = r"^\[([0-9A-Za-z][\w.:-]{5,})\] "


def start_sql(text: str = "text") -> str:
    """SQL: the number (1-based) of the first layout that matches ``text``, else NULL."""
    cases = " ".join(
        f"WHEN regexp_matches({text}, '{sql_str(layout.regex)}') THEN {n}"
        for n, layout in enumerate(LAYOUTS, start=1)
    )
    return f"CASE {cases} END"


def _head_sql() -> str:
    """SQL: the head line's fields in the order of ``FIELDS``, joined by a unit separator.

    One regexp_replace per line rewrites the layout's groups into the canonical order, so
    every layout yields the same shape whatever the order of its groups.
    """
    cases = []
    for n, layout in enumerate(LAYOUTS, start=1):
        slots = [f"\\{layout.groups.index(f) + 1}" if f in layout.groups else "" for f in FIELDS]
        replacement = "\x1f".join(slots)
        cases.append(
            f"WHEN {n} THEN regexp_replace(head, '{sql_str(layout.regex)}', '{replacement}')"
        )
    return f"string_split(CASE layout {' '.join(cases)} END, chr(31))"


def _field(name: str) -> str:
    """SQL: one head field from the split head (the message keeps any separator it had)."""
    n = FIELDS.index(name) + 1
    if name == "msg":
        return f"array_to_string(h[{n}:], chr(31))"
    return f"NULLIF(trim(h[{n}]), '')"


class AppTextFormat:
    """Plain-text application logs with multi-line stack traces."""

    name = "app_text"
    table = "app_events"
    description = (
        "plain-text application logs (Python logging, loguru, structlog, gunicorn, Flask, "
        "Django, Celery, uvicorn, logback/log4j, Spring Boot, Ruby/Rails, PHP, Go log, zap, "
        "klog, NestJS, Serilog, ASP.NET Core console) with multi-line stack traces kept together"
    )
    recognises = (
        "lines that start with a timestamp and a level in a known layout (or LEVEL:name: of "
        "logging.basicConfig), followed by traceback lines"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that start an entry or plausibly continue one."""
        layouts: Counter[str] = Counter()
        plausible = 0
        seen = 0
        for line in lines:
            if not line.strip():
                continue
            seen += 1
            layout = next((lay for lay in LAYOUTS if lay.matches(line)), None)
            if layout is not None:
                layouts[layout.name] += 1
            elif _CONTINUATION.match(line):
                plausible += 1
        if not layouts:
            return Detection(0.0)
        share = (sum(layouts.values()) + plausible) / seen
        # Generic layouts are weaker evidence than a framework's exact one; every text reader
        # of one exact shape (PostgreSQL, MySQL) wins a tie.
        generic = set(layouts) <= {"timestamped", "python_default", "go"}
        confidence = share * (0.7 if generic else 0.9)
        variant = "+".join(name for name, _ in layouts.most_common())
        return Detection(confidence, variant=variant)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Number the entries, join their lines, then read each entry's first line."""
        marked = f"""
CREATE TEMP TABLE tmp_app_text AS
SELECT line, text, layout,
       sum(CASE WHEN layout IS NULL THEN 0 ELSE 1 END) OVER (ORDER BY line) AS entry
FROM (SELECT line, text, {start_sql()} AS layout FROM {{lines}})
"""
        grouped = """
CREATE TEMP TABLE tmp_app_entries AS
SELECT * FROM (
    SELECT entry, min(line) AS line,
        arg_min(text, line) AS head,
        arg_min(layout, line) AS layout,
        string_agg(text, chr(10) ORDER BY line) FILTER (WHERE layout IS NULL) AS cont
    FROM tmp_app_text WHERE entry > 0
    GROUP BY entry
)
"""
        select_sql = (
            entries_select_sql("tmp_app_entries", options)
            + """
UNION ALL
SELECT line, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       'continuation line before the first log entry'
FROM tmp_app_text WHERE entry = 0
"""
        )
        return ParsePlan(
            table="app_events",
            variant=variant or "text",
            missing=_missing(sample),
            setup=(marked, grouped),
            select_sql=select_sql,
        )


def entries_select_sql(entries: str, options: FormatOptions) -> str:
    """SQL: app_events rows (and ``_reject``) from ``entries(line, head, layout, cont)``.

    ``head`` is an entry's first line, ``layout`` the number of the layout it matched
    (``start_sql``), ``cont`` its other lines joined by newlines (NULL for none).
    """
    zone = options.get("app_timezone")
    is_trace = f"(cont IS NOT NULL AND {is_traceback_sql('cont')})"
    tag_id = f"regexp_extract(h_msg, '{_TAG_ID}', 1)"
    ruby_id = f"CASE WHEN layout = {_layout_number('ruby')} THEN NULLIF({tag_id}, '') END"
    stack = f"CASE WHEN {is_trace} THEN cont END"
    # The message without the request-id tag Rails puts first.
    message = (
        f"trim(CASE WHEN {ruby_id} IS NOT NULL THEN regexp_replace(h_msg, '{_TAG_ID}', '') "
        "ELSE coalesce(h_msg, '') END)"
    )
    first_cont = (
        "NULLIF(trim(regexp_replace(split_part(cont, chr(10), 1), '^(\\[[^\\]]*\\] ?)+', '')), '')"
    )
    return f"""
SELECT line,
{time_sql("h_ts", zone)} AS ts,
{level_sql("h_level")} AS level,
CASE WHEN cont IS NULL THEN {message}
     -- Rails logs "FATAL -- : [id]" and the exception on the next line: that is the message.
     WHEN {is_trace} THEN coalesce(NULLIF({message}, ''), {first_cont})
     -- A layout whose message starts on the next line (ASP.NET Core's console) has none here.
     ELSE coalesce(NULLIF({message}, '') || chr(10) || cont, trim(cont)) END AS message,
coalesce({ruby_id}, NULLIF(regexp_extract(head, '{sql_str(_REQUEST_ID)}', 1), '')) AS request_id,
NULLIF(regexp_extract(head, '{sql_str(_TRACE_ID)}', 1), '') AS trace_id,
coalesce({error_type_sql(stack)}, {_php_class_sql()}) AS error_type,
{stack} AS stack,
map_from_entries(list_filter(
    [{{'key': 'logger', 'value': h_logger}}, {{'key': 'thread', 'value': h_thread}},
     {{'key': 'pid', 'value': h_pid}}],
    lambda e: e.value IS NOT NULL
)) AS attributes,
CASE WHEN h_ts IS NOT NULL AND {time_sql("h_ts", zone)} IS NULL
     THEN 'unreadable time ' || h_ts END AS _reject
FROM (
    SELECT line, head, layout, cont,
        {_klog_ts(_field("ts"), options)} AS h_ts,
        {_field("level")} AS h_level, {_field("msg")} AS h_msg,
        {_field("logger")} AS h_logger, {_field("thread")} AS h_thread, {_field("pid")} AS h_pid
    FROM (SELECT line, head, layout, cont, {_head_sql()} AS h FROM {entries})
)
"""


def looks_like_continuation(line: str) -> bool:
    """Whether ``line`` can only be part of a multi-line entry (a stack trace line)."""
    return _CONTINUATION.match(line) is not None


def _php_class_sql() -> str:
    """SQL: the exception class a Monolog head names (JSON-escaped backslashes undone)."""
    number = _layout_number("monolog")
    found = f"regexp_extract(head, '{sql_str(_PHP_CLASS)}', 1)"
    return f"CASE WHEN layout = {number} THEN NULLIF(replace({found}, '\\\\', '\\'), '') END"


def _layout_number(name: str) -> int:
    """The number ``start_sql`` gives the layout called ``name``."""
    return next(n for n, lay in enumerate(LAYOUTS, start=1) if lay.name == name)


def _klog_ts(ts: str, options: FormatOptions) -> str:
    """SQL: ``ts``, a klog time (``1124 10:00:00.123456``, no year) made ISO with a year.

    The year is ``[formats] app_year`` if given; else today's (UTC, when the plan is made), or
    the year before for a date more than a day ahead (a December log read in January), as
    Logstash's date filter guesses a missing year.
    """
    number = _layout_number("klog")
    given = options.get("app_year")
    if given is not None and given.strip().isdigit():
        year = f"'{int(given):04d}'"
    else:
        today = datetime.now(UTC).date()
        limit = today + timedelta(days=1)
        # On the year's last day every date of it is at most a day ahead.
        cutoff = "1231" if limit.year != today.year else limit.strftime("%m%d")
        year = (
            f"CASE WHEN left({ts}, 4) > '{cutoff}' THEN '{today.year - 1}' ELSE '{today.year}' END"
        )
    iso = f"{year} || '-' || substr({ts}, 1, 2) || '-' || substr({ts}, 3, 2) || substr({ts}, 5)"
    return f"CASE WHEN layout = {number} THEN {iso} ELSE {ts} END"


def _missing(sample: Sequence[str]) -> tuple[str, ...]:
    """Canonical columns the sample's entries do not carry (M002)."""
    heads = []
    for line in sample:
        layout = next((lay for lay in LAYOUTS if lay.matches(line)), None)
        if layout is not None:
            heads.append((layout, line))
    missing = []
    if heads and not any("ts" in layout.groups for layout, _ in heads):
        missing.append("ts")
    has_id = any(
        re.search(_REQUEST_ID, line)
        or (layout.name == "ruby" and re.search(r"-- [^:]*: \[[0-9A-Za-z][\w.:-]{5,}\] ", line))
        for layout, line in heads
    )
    if heads and not has_id:
        missing.append("request_id")
    return tuple(missing)


FORMAT = AppTextFormat()
