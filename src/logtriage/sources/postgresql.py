"""PostgreSQL stderr logs with any ``log_line_prefix``, also wrapped by syslog, Heroku, CloudWatch.

One message is a severity line (``LOG:``, ``ERROR:``…) whose text continues on the following
lines that start with a tab (``append_with_tabs`` in elog.c), followed by its ``DETAIL:``,
``HINT:``, ``CONTEXT:`` and ``STATEMENT:`` lines, each with the prefix again. The engine groups
them in bulk: a line that matches the prefix starts an entry, ``sum(is_start) OVER (ORDER BY
line)`` numbers the entries, ``string_agg`` joins their lines, and the same running sum over
primary severities attaches DETAIL/STATEMENT entries to their message (within the session
when the prefix has ``%p`` or ``%c``). What a message means is decided in
``postgresql_messages``. Wrappers: syslog (``postgres[pid]: [N-M] …``, continuation chunks
``[N-2]``…), Heroku logplex (``app[postgres.N]: [COLOR] [N-M] …``) and CloudWatch exports (an
ISO time before each message).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from logtriage.sources.base import Detection, FormatOptions, ParsePlan, Pieces
from logtriage.sources.postgresql_lang import (
    chosen_languages,
    languages,
    level_sql,
    position_regex,
    severity_words,
    unknown_sql,
)
from logtriage.sources.postgresql_messages import (
    FIELD_HINTS,
    durations_missing,
    foreign_rejects_sql,
    message_plan,
    pg_time_sql,
    sql_str,
)
from logtriage.sources.postgresql_prefix import (
    LEVELS,
    TIME_SLOTS,
    CompiledPrefix,
    PrefixChoice,
    choose_prefix,
)
from logtriage.sources.postgresql_startup import DOTS, STARTUP, is_startup, server_part

_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})"
_BSD = r"[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"
_SECONDARY = "'DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT'"
_ZONE_HINT = "unknown time zone? name it with [formats] pg_timezone"
_NONE = "NULL::VARCHAR"


@dataclass(frozen=True)
class Wrapper:
    """Text a log shipper writes before PostgreSQL's line. Groups: ts, pid, part, body."""

    name: str
    regex: str
    # True when continuation lines are wrapped too (syslog chunks numbered by `part`).
    wraps_continuations: bool

    def unwrap(self, line: str) -> str | None:
        """The PostgreSQL part of an entry line; None for a continuation line."""
        if not self.regex:
            return None if line[:1] in "\t " else line
        m = re.match(self.regex, line)
        if m is None:
            return None if line[:1] in "\t " and not self.wraps_continuations else line
        if self.wraps_continuations and m.group(3) not in ("", "1"):
            return None
        return m.group(4)


WRAPPERS: tuple[Wrapper, ...] = (
    Wrapper("plain", "", wraps_continuations=False),
    Wrapper("cloudwatch", r"^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)()() (.*)$", wraps_continuations=False),
    Wrapper(
        "syslog",
        rf"^({_ISO}|{_BSD}) \S+ [\w./-]+\[(\d+)\]: \[(?:\d+-)?(\d+)\] ?(.*?)\r?$",
        wraps_continuations=True,
    ),
    Wrapper(
        "heroku",
        rf"^({_ISO}) app\[postgres\.(\d+)\]: \[[A-Z0-9_]+\] \[\d+-(\d+)\] ?(.*?)\r?$",
        wraps_continuations=True,
    ),
)


@dataclass(frozen=True)
class Layout:
    """What sniffing decided: the wrapper and the prefix, and how well they fit."""

    wrapper: Wrapper
    choice: PrefixChoice

    @property
    def variant(self) -> str:
        """Shown as the input's variant, e.g. ``default`` or ``syslog/pgbadger``."""
        name = self.choice.name
        return name if self.wrapper.name == "plain" else f"{self.wrapper.name}/{name}"


def detect_layout(lines: Sequence[str], options: FormatOptions) -> Layout:
    """The wrapper and prefix (given with --pg-prefix, else detected) that fit ``lines`` best."""
    given = options.get("pg_prefix")
    # The container image's start-up output comes first: sniff the server's lines only.
    lines = [server_part(ln) for ln in lines if not is_startup(ln)]
    best: Layout | None = None
    for wrapper in WRAPPERS:
        if wrapper.regex and not any(re.match(wrapper.regex, ln) for ln in lines):
            continue
        unwrap: Callable[[str], str | None] = wrapper.unwrap
        choice = choose_prefix(lines, given, unwrap)
        if best is None or choice.ratio > best.choice.ratio:
            best = Layout(wrapper, choice)
    assert best is not None
    return best


def _not_continued(previous: bytes, line: bytes) -> bool:
    """A piece may begin at any line but a message's continuation (the context covers those)."""
    return not line.startswith((b"\t", b" "))


_SEVERITY_SPACING = re.compile(rf"\b(?:{LEVELS}) ?:( *)")


def _two_spaces_share(lines: Sequence[str]) -> float:
    """Of the sample lines with a severity, the share followed by PostgreSQL's two spaces."""
    spacings = [m.group(1) for m in map(_SEVERITY_SPACING.search, lines) if m is not None]
    if not spacings:
        return 1.0
    return sum(1 for gap in spacings if gap == "  ") / len(spacings)


class PostgresqlFormat:
    """PostgreSQL server log (stderr or syslog destination) with any log_line_prefix."""

    name = "postgresql"
    table = "queries"
    description = (
        "PostgreSQL stderr/syslog log, any log_line_prefix: statements with durations, "
        "errors, deadlocks, timeouts, connections, checkpoints, autovacuum"
    )
    recognises = (
        "lines that start with a log_line_prefix and then LOG:/ERROR:/…: a known one "
        "(PostgreSQL's default '%m [%p] ', Debian's '%m [%p] %q%u@%d ', pgBadger's, RDS, Azure, "
        "Cloud SQL, Heroku…), one guessed from the lines (times, [pid], user=, db=, user@db…), "
        "or the one given with --pg-prefix (config [formats] pg_prefix); also inside syslog, "
        "Heroku logplex and CloudWatch exports"
    )
    field_hints: Mapping[str, str] = FIELD_HINTS
    # A large file is read in pieces, each with a twentieth of a piece around it read again:
    # a DETAIL/STATEMENT line finds its message above, a statement logged as it starts finds
    # its duration line below (a statement running longer than that stays untimed).
    pieces = Pieces(starts_entry=_not_continued, context=0.05)

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Confidence is the share of sample entry lines the best prefix matches."""
        layout = detect_layout(lines, options)
        compiled = layout.choice.compiled
        ratio = layout.choice.ratio
        # A bare "LOG:  …" (empty prefix) is weaker evidence than a time and a pid before it,
        # and only as good as its spacing: PostgreSQL writes exactly two spaces after the
        # severity's colon, where uvicorn pads its "INFO:     " to ten columns.
        strong = compiled.has(*TIME_SLOTS) or layout.wrapper.name != "plain"
        spaced = 1.0 if strong else _two_spaces_share(lines)
        return Detection(
            confidence=ratio * (1.0 if strong else 0.8) * spaced,
            variant=layout.variant,
            detail=compiled.prefix,
        )

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """The bulk parse for the layout ``sample`` shows (or the prefix the user gave)."""
        return stderr_plan(
            detect_layout(sample, options),
            sample,
            options.get("pg_timezone"),
            chosen_languages(options.get("pg_lang")),
        )


def missing_columns(layout: Layout, sample: Sequence[str]) -> tuple[str, ...]:
    """Canonical columns this log cannot fill (M002), from its prefix and its sample."""
    compiled = layout.choice.compiled
    wrapper = layout.wrapper.name
    missing: list[str] = []
    # Traditional syslog times ("Nov 25 13:40:37") have no year: they are not made into times.
    bsd = wrapper == "syslog" and any(re.match(_BSD, line) for line in sample)
    if not compiled.has(*TIME_SLOTS) and (bsd or wrapper not in ("syslog", "heroku", "cloudwatch")):
        missing.append("ts")
    if not compiled.has("pid", "session") and wrapper not in ("syslog", "heroku"):
        missing.append("connection")
    if not compiled.has("db"):
        missing.append("db")
    if not compiled.has("user"):
        missing.append("user")
    return (*missing, *durations_missing(sample))


def _captured(compiled: CompiledPrefix, slot: str) -> str:
    """SQL: the value the prefix captured for ``slot`` (NULL when empty or not in the prefix)."""
    if slot not in compiled.slots:
        return "NULL::VARCHAR"
    return f"NULLIF(g.g{compiled.slots.index(slot)}, '')"


def _wrapper_sql(wrapper: Wrapper, garbage: str) -> dict[str, str]:
    """SQL pieces that depend on the wrapper: extraction, body, continuation test, content.

    ``garbage`` is the SQL reason for a line of PostgreSQL's that matches nothing.
    """
    if not wrapper.regex:
        return {
            "wrap": "NULL::STRUCT(ts VARCHAR, pid VARCHAR, part VARCHAR, body VARCHAR)",
            "body": "text",
            "is_cont": "regexp_matches(text, '^[\\t ]')",
            "content": "chr(10) || regexp_replace(text, '^\\t', '')",
            "part_key": "''",
            "garbage": garbage,
        }
    wrap = f"regexp_extract(text, '{sql_str(wrapper.regex)}', ['ts', 'pid', 'part', 'body'])"
    if not wrapper.wraps_continuations:
        return {
            "wrap": wrap,
            "body": "CASE WHEN w.ts <> '' THEN w.body ELSE text END",
            "is_cont": "w.ts = '' AND regexp_matches(text, '^[\\t ]')",
            "content": "chr(10) || regexp_replace(text, '^\\t', '')",
            "part_key": "''",
            "garbage": garbage,
        }
    # syslog: a chunk that starts with a tab (#011 once rsyslog escaped it) continues after a
    # newline; other chunks are one long line that syslog's length limit split. Heroku's
    # logplex drops the tabs: each chunk is a line.
    tab = "regexp_matches(w.body, '^(#011|\\t)')"
    stripped = "regexp_replace(w.body, '^(#011|\\t)', '')"
    split_line = "chr(10) || " + stripped if wrapper.name == "heroku" else "w.body"
    return {
        "wrap": wrap,
        "body": "w.body",
        "is_cont": "w.ts <> '' AND w.part NOT IN ('', '1')",
        "content": f"CASE WHEN {tab} THEN chr(10) || {stripped} ELSE {split_line} END",
        "part_key": "w.pid",
        "garbage": (
            f"CASE WHEN w.ts = '' THEN 'not a PostgreSQL {wrapper.name} line' ELSE {garbage} END"
        ),
    }


def _joined(content: str, tail: str) -> str:
    """SQL: an entry's first line and its continuation lines (copied only when it has some)."""
    return f"CASE WHEN {tail} IS NULL THEN {content} ELSE {content} || {tail} END"


def _time_columns(compiled: CompiledPrefix) -> tuple[str, str]:
    """SQL of the prefix's time text (%m/%t) and epoch text (%n), NULL when it has none."""
    text = next(
        (_captured(compiled, s) for s in ("time_ms", "time_s") if s in compiled.slots),
        "NULL::VARCHAR",
    )
    return text, _captured(compiled, "time_epoch")


def stderr_plan(
    layout: Layout,
    sample: Sequence[str],
    fallback_zone: str | None,
    langs: tuple[str, ...] | None = None,
) -> ParsePlan:
    """Setup statements that build tmp_pg_raw and tmp_pg_rejects, then the shared selects.

    Only the prefix and severity are matched by a regex (its ``head`` group); the message is
    the rest of the line. An entry is numbered by its first line; the few continuation lines
    find theirs with an ASOF join (the last entry start at or before them, in the same syslog
    process), and DETAIL/STATEMENT entries find their message the same way (the last primary
    entry of the same session), so no window has to sort every line.
    """
    compiled = layout.choice.compiled
    wrapper = layout.wrapper
    # A prefix followed by a word in a language the catalog table lacks (pt_BR "ERRO"…).
    foreign = f"^(?:{compiled.regex})[^\\s:]+(?: [^\\s:]+)? ?:  "
    known = ", ".join(languages())
    mismatch = (
        f"CASE WHEN regexp_matches(body, '{sql_str(foreign)}') THEN 'severity word in a "
        f"language logtriage has no PostgreSQL catalog for (it reads English and {known}): "
        "set lc_messages = ''C'' for the next logs' "
        f"ELSE 'does not match log_line_prefix ''{sql_str(compiled.prefix)}'' "
        "(give yours with --pg-prefix)' END"
    )
    w = _wrapper_sql(wrapper, mismatch)
    startup = "FALSE"
    if not wrapper.wraps_continuations:
        # The container image's start-up output (postgresql_startup): pg_ctl's dots are cut
        # off the server line they precede; the rest of it is left out, never rejected.
        dotted = "starts_with(body, 'waiting for server to ') OR starts_with(body, '.')"
        w["body"] = (
            f"CASE WHEN {dotted.replace('body', w['body'])} "
            f"THEN regexp_replace({w['body']}, '{sql_str(DOTS)}', '') ELSE {w['body']} END"
        )
        # A CASE, not AND: a projection's AND would run the regex on every line.
        startup = (
            f"CASE WHEN g.level = '' THEN regexp_full_match(body, '{sql_str(STARTUP)}') "
            "ELSE FALSE END"
        )
    names = ["head", *(f"g{i}" for i in range(len(compiled.slots))), "level"]
    head_re = f"^({compiled.regex}({LEVELS}) ?:(?: +|$))"
    # Capturing the prefix's groups with the long severity alternation in the same regex costs
    # RE2 its fast engines (~7x slower): the whole head is matched with it, then split with a
    # severity of any one word (or one of the few two-word ones) ending the head. Same match
    # end, so the same groups (the prefix's groups are lazy: the severity is the last word).
    two_words = "|".join(re.escape(w) for w in severity_words() if " " in w)
    split_re = (
        f"^({compiled.regex}((?:{two_words + '|' if two_words else ''}[^\\s:]+)) ?:(?: +|$))$"
    )
    time_text, epoch_text = _time_columns(compiled)
    if "pid" in compiled.slots:
        pid = _captured(compiled, "pid")
    elif wrapper.wraps_continuations:
        pid = "NULLIF(w.pid, '')"
    else:
        pid = "NULL::VARCHAR"
    wrapper_ts = "NULLIF(w.ts, '')" if wrapper.regex else "NULL::VARCHAR"
    user, db = _captured(compiled, "user"), _captured(compiled, "db")
    values = {
        "part_key": w["part_key"],
        "time_text": time_text,
        "epoch_text": epoch_text,
        "wrapper_ts": wrapper_ts,
        "session": _captured(compiled, "session"),
        "pid": pid,
        "user": user if user == _NONE else unknown_sql(user),
        "db": db if db == _NONE else unknown_sql(db),
        "sqlstate": _captured(compiled, "sqlstate"),
    }
    # Values this layout never has are not stored (a column of NULLs still costs 16 bytes a
    # line): readers of the table get them as constants.
    constant = {k: v for k, v in values.items() if v in (_NONE, "''")}
    stored = ",\n    ".join(f'{v} AS "{k}"' for k, v in values.items() if k not in constant)
    per_line = "tmp_pg_lines"
    if constant:
        added = ", ".join(f'{v} AS "{k}"' for k, v in constant.items())
        per_line = f"(SELECT *, {added} FROM tmp_pg_lines) AS pl"
    lines_sql = f"""
CREATE TEMP TABLE tmp_pg_lines AS
WITH x AS (
    SELECT line, text, {w["wrap"]} AS w FROM {{lines}}
), m AS (
    SELECT line, text, w, {w["body"]} AS body FROM x
), g AS (
    SELECT line, text, w, body, regexp_extract(regexp_extract(body, '{sql_str(head_re)}', 0),
        '{sql_str(split_re)}', {names!r}) AS g
    FROM m
), k AS (
    SELECT line, w, g, body,
        g.level <> '' AS is_start,
        {startup} AS is_startup,
        g.level = '' AND NOT is_startup AND coalesce({w["is_cont"]}, FALSE) AS is_cont,
        CASE WHEN g.level <> '' THEN substr(body, length(g.head) + 1) ELSE {w["content"]} END
            AS content
    FROM g
)
SELECT line, is_start, is_cont,
    -- rtrim with a character list decodes the whole line (~2 s per 300 MB): only when needed.
    CASE WHEN NOT (is_start OR is_cont) THEN NULL
        WHEN ends_with(content, chr(13)) THEN rtrim(content, chr(13)) ELSE content END AS content,
    CASE WHEN NOT (is_start OR is_cont OR is_startup) THEN {w["garbage"]} END AS garbage,
    -- Lines with no severity (continuations, garbage) would try all ~120 words of the CASE.
    CASE WHEN g.level <> '' THEN {level_sql("g.level")} END AS level{"," if stored else ""}
    {stored}
FROM k
"""
    conts_sql = f"""
CREATE TEMP TABLE tmp_pg_conts AS
SELECT c.line, s.line AS entry, c.content
FROM (SELECT line, part_key, content FROM {per_line} WHERE is_cont) AS c
ASOF LEFT JOIN (SELECT line, part_key FROM {per_line} WHERE is_start) AS s
    ON c.part_key = s.part_key AND c.line >= s.line
"""
    # Entries are numbered by their first line; their tails are the few continuation lines.
    tails = """(SELECT entry, string_agg(content, '' ORDER BY line) AS tail
        FROM tmp_pg_conts WHERE entry IS NOT NULL GROUP BY entry)"""
    starts = f"""(SELECT *, level IN ({_SECONDARY}) AS is_secondary,
        coalesce(session, pid, part_key) AS msg_key FROM {per_line} WHERE is_start)"""
    secondary_sql = f"""
CREATE TEMP TABLE tmp_pg_secondary AS
WITH s AS (
    SELECT e.line, e.level, e.msg_key, {_joined("e.content", "t.tail")} AS body
    FROM {starts} AS e LEFT JOIN {tails} AS t ON t.entry = e.line
    WHERE e.is_secondary
)
SELECT s.line, s.level, s.body, p.line AS msg
FROM s ASOF LEFT JOIN (SELECT line, msg_key FROM {starts} WHERE NOT is_secondary) AS p
    ON s.msg_key = p.msg_key AND s.line >= p.line
"""
    times = [pg_time_sql("time_text", fallback_zone)]
    if "time_epoch" in compiled.slots:
        times.append("make_timestamp((try_cast(epoch_text AS DOUBLE) * 1000000)::BIGINT)")
    if wrapper.regex:
        times.append("try_cast(wrapper_ts AS TIMESTAMPTZ)::TIMESTAMP")
    messages = f"""
    WITH repeated AS (
        -- Messages with two DETAIL (or STATEMENT) lines are few: only theirs are joined in
        -- line order; an ordered string_agg over every message cost 3x a plain max().
        SELECT DISTINCT msg FROM tmp_pg_secondary
        WHERE msg IS NOT NULL AND level IN ('DETAIL', 'STATEMENT')
        GROUP BY msg, level HAVING count(*) > 1
    ), secondary AS (
        SELECT msg,
            max(body) FILTER (WHERE level = 'DETAIL') AS detail,
            max(body) FILTER (WHERE level = 'STATEMENT') AS statement
        FROM tmp_pg_secondary
        WHERE msg IS NOT NULL AND msg NOT IN (SELECT msg FROM repeated) GROUP BY msg
        UNION ALL
        SELECT msg,
            string_agg(body, chr(10) ORDER BY line) FILTER (WHERE level = 'DETAIL') AS detail,
            string_agg(body, chr(10) ORDER BY line) FILTER (WHERE level = 'STATEMENT')
                AS statement
        FROM tmp_pg_secondary WHERE msg IN (SELECT msg FROM repeated) GROUP BY msg
    ), v AS (
        SELECT e.*, {_joined("e.content", "t.tail")} AS whole,
            coalesce({", ".join(times)}) AS ts,
            -- log_error_verbosity = verbose writes the SQLSTATE before the message.
            CASE WHEN substr(e.content, 6, 2) = ': '
                THEN NULLIF(regexp_extract(e.content, '^([0-9A-Z]{{5}}): ', 1), '') END
                AS verbose_state
        FROM {starts} AS e LEFT JOIN {tails} AS t ON t.entry = e.line
        WHERE NOT e.is_secondary
    ), p AS (
        SELECT *, CASE WHEN verbose_state IS NULL THEN whole ELSE substr(whole, 8) END AS body
        FROM v
    )
    SELECT p.line, p.ts, p.level,
        -- csvlog and jsonlog keep the error position apart (query_pos); stderr appends it.
        CASE WHEN p.level = 'LOG' THEN p.body
            ELSE regexp_replace(p.body, '{sql_str(position_regex())}', '') END AS message,
        s.detail, s.statement, coalesce(p.sqlstate, p.verbose_state) AS sqlstate, p.db, p."user",
        coalesce(p.session, p.pid) AS connection,
        p.ts IS NULL AND coalesce(p.time_text, p.epoch_text) IS NOT NULL AS is_bad_time,
        -- Kept only where it could not be read (the rejection quotes it): 27 bytes a message.
        CASE WHEN p.ts IS NULL THEN coalesce(p.time_text, p.epoch_text) END AS time_text
    FROM p LEFT JOIN secondary AS s ON s.msg = p.line"""
    bad_time = f"'unreadable time ''' || time_text || ''' ({_ZONE_HINT})'"
    orphan = "level || ' line without the message it belongs to (file starts mid-message?)'"
    rejects_sql = f"""
CREATE TEMP TABLE tmp_pg_rejects AS
WITH orphans AS (SELECT line, {orphan} AS reason FROM tmp_pg_secondary WHERE msg IS NULL)
SELECT line, garbage AS reason FROM tmp_pg_lines WHERE garbage IS NOT NULL
UNION ALL
SELECT line, 'continuation line before the first log entry' FROM tmp_pg_conts
WHERE entry IS NULL
UNION ALL
SELECT line, reason FROM orphans
UNION ALL
SELECT c.line, o.reason FROM tmp_pg_conts AS c JOIN orphans AS o ON c.entry = o.line
UNION ALL
SELECT line, {bad_time} FROM tmp_pg_msg WHERE is_bad_time
UNION ALL
{foreign_rejects_sql()}
"""
    cleanup = "DELETE FROM tmp_pg_msg WHERE is_bad_time"
    return message_plan(
        variant=layout.variant,
        missing=missing_columns(layout, sample),
        prepare=(lines_sql, conts_sql, secondary_sql),
        messages=messages,
        langs=langs,
        rejects_sql=rejects_sql,
        cleanup=cleanup,
        per_line_tables=("tmp_pg_lines", "tmp_pg_conts", "tmp_pg_secondary"),
    )


FORMAT = PostgresqlFormat()
