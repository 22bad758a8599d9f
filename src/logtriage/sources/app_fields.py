"""Application-log fields in SQL, shared by the JSON and text readers: time, level, error type.

- **Levels** are normalised so analyzers can compare logs of any framework: ``TRACE``,
  ``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``, ``CRITICAL``. ``WARN``→``WARNING``; ``ERR``→
  ``ERROR``; ``FATAL``, ``SEVERE``, ``PANIC``, ``DPANIC`` (zap), ``ALERT``, ``EMERG(ENCY)``,
  ``CRIT``→``CRITICAL``; ``NOTICE``, ``INFORMATION`` (Serilog), ``SUCCESS`` (loguru), ``LOG``
  (NestJS) → ``INFO``; ``VERBOSE``, ``FINE*`` → ``DEBUG``/``TRACE``; Serilog's three letters
  (``VRB``, ``DBG``, ``INF``, ``WRN``, ``ERR``, ``FTL``) and klog's one (``I``, ``W``, ``E``, ``F``)
  as their words; pino/bunyan numbers 10…60 (trace, debug, info, warn, error, fatal); slog's
  offsets dropped (``ERROR+2``→``ERROR``). Other words stay, upper-cased.
- **Times**: ISO 8601 with ``T`` or a space, ``,`` or ``.`` before the fraction, ``Z``,
  ``±hh:mm``, ``±hhmm`` or none (then UTC, or the ``app_timezone`` option); epoch numbers in
  seconds, milliseconds (pino), microseconds or nanoseconds, told apart by magnitude; NestJS's
  ``toLocaleString()`` (``11/24/2026, 10:00:00 AM`` month first with AM/PM as en-US writes it,
  ``24/11/2026, 10:00:00`` day first without, as en-GB, fr and pt-BR do).
- **Error type** from a stack trace: Python's is the class on the last unindented line of the
  traceback (the exception finally raised, after any chained ones); Java, .NET and Node print
  the thrown class first (``java.lang.IllegalStateException: …``, ``TypeError: …``); Ruby ends
  the first line with ``(ZeroDivisionError)`` and Rails logs ``ZeroDivisionError (divided by 0):``.
"""

from __future__ import annotations

from collections.abc import Mapping

_LEVELS: Mapping[str, str] = {
    "TRACE": "TRACE", "FINEST": "TRACE", "FINER": "TRACE", "TRCE": "TRACE",
    "DEBUG": "DEBUG", "DBG": "DEBUG", "DBUG": "DEBUG", "VERBOSE": "DEBUG", "VRB": "DEBUG",
    "FINE": "DEBUG", "CONFIG": "DEBUG",
    "INFO": "INFO", "INFORMATION": "INFO", "NOTICE": "INFO", "DEFAULT": "INFO", "INF": "INFO",
    "SUCCESS": "INFO", "LOG": "INFO",
    "WARN": "WARNING", "WARNING": "WARNING", "WRN": "WARNING",
    "ERROR": "ERROR", "ERR": "ERROR", "EROR": "ERROR", "FAIL": "ERROR",
    "CRITICAL": "CRITICAL", "CRIT": "CRITICAL", "FATAL": "CRITICAL", "FTL": "CRITICAL",
    "SEVERE": "CRITICAL", "PANIC": "CRITICAL", "DPANIC": "CRITICAL", "ALERT": "CRITICAL",
    "EMERG": "CRITICAL", "EMERGENCY": "CRITICAL",
    # klog/glog's severity letter (I1124 10:00:00.123456 …).
    "I": "INFO", "W": "WARNING", "E": "ERROR", "F": "CRITICAL",
    # PHP's error_log words ("PHP Fatal error:  …").
    "FATAL ERROR": "CRITICAL", "PARSE ERROR": "CRITICAL", "RECOVERABLE FATAL ERROR": "ERROR",
    "CATCHABLE FATAL ERROR": "ERROR", "DEPRECATED": "WARNING", "STRICT STANDARDS": "INFO",
}  # fmt: skip
# pino and bunyan write levels as numbers.
_NUMERIC_LEVELS: Mapping[str, str] = {
    "10": "TRACE", "20": "DEBUG", "30": "INFO", "40": "WARNING", "50": "ERROR", "60": "CRITICAL",
}  # fmt: skip

# A Python exception line: ``KeyError: 'x'``, ``werkzeug.exceptions.NotFound: 404``, ``SystemExit``.
_PY_EXCEPTION_LINE = r"^[A-Za-z_][\w.]*(?::\s.*|:)?$"
# The exception line of a Python traceback: the first unindented line after the last frame
# ("  File …" and its indented source and caret lines). Lines after it may be the message's
# own (psycopg's "DETAIL:  Key …", a pydantic field name): the class is never read from them.
_PY_AFTER_FRAMES = r"(?s)^.*\n  File [^\n]*(?:\n[ \t][^\n]*)*\n([A-Za-z_][\w.]*)(?::|\n|$)"
# The thrown class on the first line of a Java/.NET/Node trace.
_FIRST_LINE_CLASS = (
    r"^\s*(?:Caused by: |Exception in thread \"[^\"]*\" )?"
    r"([A-Za-z_$][\w$]*(?:\.[\w$]+)*)(?::\s|:?$)"
)
# A thrown class on a later line, after a message line (ASP.NET Core's console logger).
_LATER_CLASS = r"(?m)^\s*([A-Za-z_][\w.$]*(?:Exception|Error))(?::\s|$)"
# Ruby: ``app.rb:3:in 'div': divided by 0 (ZeroDivisionError)``; Rails: ``[tag] Foo::Bar (msg):``.
_RUBY_CLASS = r"\(([A-Z]\w*(?:::[A-Z]\w*)*)\)$"
_RAILS_CLASS = r"^(?:\[[^\]]*\] ?)*([A-Z]\w*(?:::[A-Z]\w*)*) \(.*\):\s*$"
# Lines only stack traces have: Python, Java (``at``, ``Caused by``, ``... 3 more``), Ruby, Rails.
_TRACE_MARKERS = (
    r"(?m)(Traceback \(most recent call last[^)]*\):|^\s+at \S|^Caused by: |^\s+File \"|"
    r"^\s*\.\.\. \d+ (common frames omitted|more)$|^[\w.$]+(Exception|Error)(: |$)|"
    r"[A-Z]\w*(Error|Exception) \(.*\):\s*$|:in `|"
    # PHP frames (#0 /app/x.php(12): …, Laravel's [stacktrace] marker), a Go panic's goroutine,
    # a Go frame's file line (zap's stacktrace: a tab, then /app/main.go:43).
    r"^\[stacktrace\]$|^#\d+ (/|\{main\})|^goroutine \d+ \[|^\t\S+\.go:\d+)"
)


def sql_str(text: str) -> str:
    """``text`` inside a SQL string literal."""
    return text.replace("'", "''")


def level_sql(value: str) -> str:
    """SQL: the normalised level of the VARCHAR expression ``value`` (NULL stays NULL)."""
    word = f"upper(trim({value}))"
    pairs = ", ".join(f"'{k}': '{v}'" for k, v in {**_LEVELS, **_NUMERIC_LEVELS}.items())
    known = f"MAP {{{pairs}}}"
    # slog names a level between two as the nearest below and an offset: ERROR+2, DEBUG-4.
    # coalesce runs the regex only on the rare words the map does not know.
    base = rf"regexp_extract({word}, '^([A-Z]+)[+-]\d+$', 1)"
    return (
        f"(CASE WHEN NULLIF(trim({value}), '') IS NULL THEN NULL "
        f"ELSE coalesce({known}[{word}], {known}[{base}], {word}) END)"
    )


def time_sql(value: str, zone: str | None) -> str:
    """SQL: the UTC TIMESTAMP of a VARCHAR time (ISO 8601 or epoch number); NULL if unreadable."""
    text = f"trim({value})"
    number = f"try_cast({text} AS DOUBLE)"
    epoch = (
        f"CASE WHEN {number} >= 1e17 THEN make_timestamp(({number} / 1000)::BIGINT) "
        f"WHEN {number} >= 1e14 THEN make_timestamp({number}::BIGINT) "
        f"WHEN {number} >= 1e11 THEN make_timestamp(({number} * 1000)::BIGINT) "
        f"WHEN {number} >= 1e8 THEN make_timestamp(({number} * 1000000)::BIGINT) END"
    )
    # 2026-11-24 10:00:00,123 +0100 -> 2026-11-24 10:00:00.123+01:00
    # 2026/11/24 10:00:00 (Go's log) -> 2026-11-24 10:00:00
    dashed = rf"regexp_replace({text}, '^(\d{{4}})/(\d{{2}})/(\d{{2}}) ', '\1-\2-\3 ')"
    iso = (
        f"regexp_replace(regexp_replace(regexp_replace({dashed}, "
        r"'^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}),(\d+)', '\1.\2'), "
        r"' ?([+-]\d{2}):?(\d{2})$', '\1:\2'), ' ?(UTC|GMT)$', 'Z')"
    )
    has_zone = rf"regexp_matches({iso}, '(Z|[+-]\d{{2}}:\d{{2}})$')"
    naive = f"try_cast({iso} AS TIMESTAMP)"
    local = f"try_cast(timezone('{sql_str(zone)}', {naive}) AS TIMESTAMP)" if zone else naive
    # 13-Jan-2017 22:46:23 (PHP's error_log and php-fpm; a zone after it is not read).
    php = rf"try_strptime(left({text}, 20), '%d-%b-%Y %H:%M:%S')"
    # NestJS's toLocaleString(): en-US (month first, AM/PM) or a day-first 24-hour locale.
    nest = (
        f"CASE WHEN ends_with({text}, 'M') THEN try_strptime({text}, '%m/%d/%Y, %I:%M:%S %p') "
        f"ELSE try_strptime({text}, '%d/%m/%Y, %H:%M:%S') END"
    )
    if zone:
        nest = f"try_cast(timezone('{sql_str(zone)}', {nest}) AS TIMESTAMP)"
    return (
        f"(CASE WHEN regexp_full_match({text}, '\\d+(\\.\\d+)?') THEN try({epoch}) "
        rf"WHEN regexp_matches({text}, '^\d{{2}}-[A-Z][a-z]{{2}}-\d{{4}} ') THEN {php} "
        rf"WHEN regexp_matches({text}, '^\d{{1,2}}/\d{{1,2}}/\d{{4}}, ') THEN {nest} "
        f"WHEN {has_zone} THEN try_cast(try_cast({iso} AS TIMESTAMPTZ) AS TIMESTAMP) "
        f"ELSE {local} END)"
    )


def cloud_trace_sql(name: str) -> str:
    """SQL: the trace id in Cloud Logging's resource name ``projects/<p>/traces/<id>``.

    The hex id (32 digits from Cloud Trace; shorter ones appear in examples), lower-case as W3C
    trace ids are written, so a request's access and application records carry the same id;
    NULL when the name holds none.
    """
    return f"NULLIF(lower(regexp_extract({name}, '/traces/([0-9a-fA-F]+)$', 1)), '')"


def class_like_sql(name: str) -> str:
    """SQL: ``name`` if it reads as a class (``ZeroDivisionError``, ``java.io.IOException``).

    Go's error strings (zerolog's ``error``, slog's ``err``) start with a package or an
    operation (``pq: duplicate key…``, ``EOF``): no class, so no error type.
    """
    pattern = r"^((?:[\w$]+(?:\.|::))*[A-Z][\w$]*[a-z][\w$]*)$"
    return f"NULLIF(regexp_extract({name}, '{pattern}', 1), '')"


def error_type_sql(stack: str) -> str:
    """SQL: the exception class a stack trace text (VARCHAR) names, else NULL."""
    lines = f"string_split({stack}, chr(10))"
    first = f"list_filter({lines}, lambda l: trim(l) <> '')[1]"
    python = (
        f"regexp_extract(list_filter({lines}, "
        f"lambda l: regexp_matches(l, '{_PY_EXCEPTION_LINE}'))[-1], '^([A-Za-z_][\\w.]*)', 1)"
    )
    rails = (
        f"regexp_extract(list_filter({lines}, lambda l: regexp_matches(l, '{_RAILS_CLASS}'))[1], "
        f"'{_RAILS_CLASS}', 1)"
    )
    after_frames = f"regexp_extract({stack}, '{_PY_AFTER_FRAMES}', 1)"
    return f"""(CASE
        WHEN {stack} IS NULL THEN NULL
        -- A Go stack (the stacktrace of zap: a function, then a tab and file.go:68) names
        -- functions, not an error class: grouping by its top function would mix errors.
        WHEN regexp_matches({stack}, '^[^\\n]*\\n\\t[^\\n]*\\.go:\\d+') THEN NULL
        -- loguru writes "Traceback (most recent call last, catch point marked):".
        WHEN contains({stack}, 'Traceback (most recent call last')
            THEN coalesce(NULLIF({after_frames}, ''), NULLIF({python}, ''))
        WHEN regexp_matches({first}, '{_RUBY_CLASS}')
            THEN regexp_extract({first}, '{_RUBY_CLASS}', 1)
        WHEN regexp_matches({stack}, '(?m){_RAILS_CLASS}') THEN NULLIF({rails}, '')
        ELSE coalesce(NULLIF(regexp_extract({first}, '{sql_str(_FIRST_LINE_CLASS)}', 1), ''),
            NULLIF(regexp_extract({stack}, '{_LATER_CLASS}', 1), ''))
    END)"""


def is_traceback_sql(text: str) -> str:
    """SQL: whether continuation text looks like a stack trace (not a multi-line message)."""
    return f"regexp_matches({text}, '{_TRACE_MARKERS}')"


# Per missing canonical column: the setting that makes an application log carry it (M002).
FIELD_HINTS: Mapping[str, str] = {
    "request_id": (
        "add the request id to every log record: structlog "
        "`structlog.contextvars.bind_contextvars(request_id=…)` in a middleware; stdlib "
        "logging a Filter that sets `record.request_id` and `%(request_id)s` in the format; "
        'logback `MDC.put("requestId", …)`; pino-http `genReqId`; Rails `config.log_tags = '
        "[:request_id]` (lograge: `custom_payload { |c| { request_id: c.request.request_id } }`)"
    ),
    "ts": "add a timestamp to each record (structlog TimeStamper(fmt='iso', utc=True); "
    "python-json-logger '%(asctime)s'; lograge custom_options with time)",
    "trace_id": "with OpenTelemetry, enable log correlation (OTEL_PYTHON_LOG_CORRELATION=true, "
    "the logback MDC instrumentation, pino's OTel instrumentation) so trace_id is on each line",
}
