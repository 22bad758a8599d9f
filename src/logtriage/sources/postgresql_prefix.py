"""Compile a PostgreSQL ``log_line_prefix`` into one regex, and guess it from sample lines.

Escapes: https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LINE-PREFIX
(``%a %u %d %r %h %L %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%``, with optional padding
such as ``%-10u``). Behaviour as in ``log_status_format`` (``src/backend/utils/error/elog.c``):
unknown escapes print nothing, ``%q`` ends the prefix for processes without a session
(checkpointer, autovacuum launcher, postmaster), and session values that are not known yet
(before authentication) print as ``[unknown]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from logtriage.sources.postgresql_lang import level_regex

# Escape -> (slot or None, regex of its value). Slots are what the parse needs; other escapes
# are matched but not captured. Free-text values (application name, user, database, backend
# type) are lazy so the literal that follows them decides where they end.
_TZ = r"[A-Za-z0-9+\-]+"
_STAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
ESCAPES: dict[str, tuple[str | None, str]] = {
    "a": ("app", r".*?"),
    "u": ("user", r".*?"),
    "d": ("db", r".*?"),
    # host(port), [local], or (log shippers that drop the port) a host without colons.
    "r": ("remote", r"\[local\]|[^\s()]*\(\d+\)|[^\s():]*"),
    "h": ("host", r"\S*?"),
    "L": (None, r"\S*?"),
    "b": (None, r".*?"),
    "p": ("pid", r"\d+"),
    "P": (None, r"\d*"),
    "t": ("time_s", _STAMP + " " + _TZ),
    "m": ("time_ms", _STAMP + r"\.\d{3} " + _TZ),
    "n": ("time_epoch", r"\d+\.\d{3}"),
    "i": (None, r".*?"),
    "e": ("sqlstate", r"[0-9A-Z]{5}"),
    "c": ("session", r"[0-9a-f]+\.[0-9a-f]+"),
    "l": (None, r"\d+"),
    "s": (None, _STAMP + " " + _TZ),
    "v": (None, r"(?:\d+/-?\d+)?"),
    "x": (None, r"\d+"),
    "Q": (None, r"-?\d+"),
}
TIME_SLOTS = ("time_ms", "time_s", "time_epoch")
# Severities PostgreSQL writes after the prefix: English, then every translated word of the
# generated catalog table (lc_messages = 'ja_JP.UTF-8'…). French puts a space before the colon,
# hence ``({LEVELS}) ?:`` wherever a severity is matched.
LEVELS = (
    "DEBUG1|DEBUG2|DEBUG3|DEBUG4|DEBUG5|DEBUG|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|"
    "DETAIL|HINT|QUERY|CONTEXT|LOCATION|STATEMENT|" + level_regex()
)
_ESCAPE = re.compile(r"%(-?\d+)?(.)", re.DOTALL)

# Prefixes seen in the wild, most specific first: PostgreSQL's default, Debian's, pgBadger's
# recommendations, the managed services' fixed ones and the list pganalyze's collector accepts
# (logs/legacy_parse.go). Detection tries each; --pg-prefix takes any other.
KNOWN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("default", "%m [%p] "),
    ("debian", "%m [%p] %q%u@%d "),
    ("debian-t", "%t [%p] %q%u@%d "),
    ("debian-host", "%t [%p] %q%u@%d %h "),
    ("pgbadger", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "),
    ("pgbadger-m", "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "),
    ("pgbadger-short", "%t [%p]: [%l-1] "),
    ("pgbadger-nol", "%t [%p]: user=%u,db=%d,app=%a,client=%h "),
    ("pgbadger-sqlstate", "%t [%p]: [%l-1] user=%u,db=%d - PG-%e "),
    ("pgbadger-xid", "%t [%p]: [%l-1] [trx_id=%x] user=%u,db=%d "),
    ("cloudsql", "%m [%p]: [%l-1] db=%d,user=%u "),
    ("rds", "%t:%r:%u@%d:[%p]:"),
    ("azure", "%t-%c-"),
    ("pid-line", "%t [%p-%l] %q%u@%d "),
    ("bracketed", "%m [%p] %q[user=%u,db=%d,app=%a] "),
    ("bracketed-host", "%m [%p] %q[user=%u,db=%d,app=%a,host=%h] "),
    ("vxid", "%m [%p][%v] : [%l-1] %q[app=%a] "),
    ("backend-type", "%m [%p][%b][%v][%x] %q[user=%u,db=%d,app=%a] "),
    ("session-first", "%m %r %u %a [%c] [%p] "),
    ("session-dashes", "%p-%s-%c-%l-%h-%u-%d-%m "),
    ("heroku", ' sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" '
     'session_id="%c" vtid="%v" tid="%x" log_line="%l" %qdatabase="%d" '
     'connection_source="%r" user="%u" application_name="%a" '),
    ("heroku-short", " sql_error_code = %e "),
    ("pid-user-db", "pid=%p,user=%u,db=%d,app=%a,client=%h "),
    ("syslog-pgbadger", "user=%u,db=%d,app=%a,client=%h "),
    ("syslog-cloudsql", "[%p]: [%l-1] db=%d,user=%u "),
    # PostgreSQL 9.6 and older log nothing before the severity by default.
    ("empty", ""),
)  # fmt: skip


@dataclass(frozen=True)
class CompiledPrefix:
    """A ``log_line_prefix`` as a regex: ``regex`` has one group per entry of ``slots``."""

    prefix: str
    regex: str
    slots: tuple[str, ...]

    def has(self, *slots: str) -> bool:
        """True when the prefix carries any of ``slots``."""
        return any(s in self.slots for s in slots)


_SETTING = re.compile(r"^\s*(?:log_line_prefix\s*=?\s*)?'((?:[^']|'')*)'\s*(?:#.*)?$")


def normalise_prefix(text: str) -> str:
    """Accept the bare prefix, ``'%m [%p] '`` or a ``log_line_prefix = '…'`` line."""
    match = _SETTING.match(text)
    return match.group(1).replace("''", "'") if match else text


def compile_prefix(prefix: str) -> CompiledPrefix:
    """Compile ``prefix``; the regex matches the prefix only (no anchor, no severity)."""
    out: list[str] = []
    slots: list[str] = []
    optional_from: int | None = None
    pos = 0
    for match in _ESCAPE.finditer(prefix):
        out.append(_literal(prefix[pos : match.start()]))
        pos = match.end()
        padding, escape = match.group(1), match.group(2)
        if escape == "%":
            out.append("%")
            continue
        if escape == "q":
            # Everything after %q is absent in lines of processes without a session.
            optional_from = optional_from if optional_from is not None else len(out)
            continue
        if escape not in ESCAPES:
            continue  # PostgreSQL prints nothing for unknown escapes
        slot, value = ESCAPES[escape]
        if padding:
            value = f" *(?:{value}) *"
        if slot is not None and slot not in slots:
            slots.append(slot)
            out.append(f"({value})")
        else:
            out.append(f"(?:{value})")
    out.append(_literal(prefix[pos:], trailing=True))
    if optional_from is not None:
        out.insert(optional_from, "(?:")
        out.append(")?")
    return CompiledPrefix(prefix=prefix, regex="".join(out), slots=tuple(slots))


def _literal(text: str, *, trailing: bool = False) -> str:
    """Literal prefix text; a trailing space may be missing when a user quotes the prefix."""
    if trailing and text.endswith(" "):
        return re.escape(text.rstrip(" ")) + " *"
    return re.escape(text)


def line_regex(compiled: CompiledPrefix) -> str:
    """Anchored regex for one entry-start line: prefix groups, then severity and message."""
    return f"^{compiled.regex}({LEVELS}) ?:(?: +|$)(.*?)\\r?$"


# Shapes of prefix values, for guessing a prefix no list knows. Keys people write before a
# value (user=%u, db=%d…) name its escape; bare values are recognised by their shape.
_KEYED = {
    "user": "u", "usr": "u", "username": "u", "user_name": "u", "u": "u",
    "db": "d", "database": "d", "dbname": "d", "database_name": "d", "d": "d",
    "app": "a", "application": "a", "application_name": "a", "appname": "a", "a": "a",
    "client": "h", "host": "h", "remote": "h", "remote_host": "h", "client_addr": "h",
    "h": "h", "pid": "p", "session": "c", "session_id": "c", "sid": "c",
    "sqlstate": "e", "sql_state": "e", "state": "e", "sql_error_code": "e", "errcode": "e",
    "e": "e", "line": "l", "tx": "x", "txid": "x", "xid": "x", "trx_id": "x",
    "vxid": "v", "vtid": "v", "query_id": "Q", "queryid": "Q", "cmd": "i", "tag": "i",
    "command_tag": "i", "backend": "b", "backend_type": "b",
}  # fmt: skip
# What %b prints (``GetBackendTypeDesc`` in src/backend/utils/init/miscinit.c, PostgreSQL 13-18).
_BACKEND_TYPES = (
    "client backend|autovacuum launcher|autovacuum worker|background writer|background worker|"
    "checkpointer|walwriter|walsender|walreceiver|walsummarizer|startup|postmaster|archiver|"
    "logger|stats collector|logical replication launcher|logical replication worker|"
    "logical replication apply worker|logical replication tablesync worker|"
    "logical replication parallel worker|parallel worker|standalone backend|slotsync worker|"
    "io worker|dead-end client backend|not initialized"
)
_UNKNOWN_OR_WORD = r"(?:\[unknown\]|[^\s@:\[\]/]*)"
_SHAPES = re.compile(
    rf"(?P<m>{_STAMP}\.\d{{3}} {_TZ})"
    rf"|(?P<t>{_STAMP} {_TZ})"
    r"|(?P<n>\b\d{10}\.\d{3}\b)"
    # A key before a time (time=%t) is a literal: the time is read by its own shape.
    rf"|(?P<keyed>\b(?P<key>[A-Za-z_]+)=(?P<quote>\"?)(?!{_STAMP})"
    r"(?P<value>\[unknown\]|[^,;\s\]\)|\"]*)(?P=quote))"
    r"|(?P<l>\[\d+-1\])"
    r"|(?P<p>[\[{]-?\d+[\]}])"
    r"|(?P<ppad>\[ *\d+ *\])"
    r"|(?P<c>\b[0-9a-f]{4,8}\.[0-9a-f]{1,8}\b)"
    # user@db, also bracketed ([%u@%d]) and followed by /application (%u@%d/%a).
    rf"|(?P<ud>(?<![^\s:\[\]]){_UNKNOWN_OR_WORD}@{_UNKNOWN_OR_WORD}"
    r"(?P<slash_app>/\S*)?(?=[\s:\]]))"
    r"|(?P<r>\b\d{1,3}(?:\.\d{1,3}){3}\(\d+\))"
    r"|(?P<h>\b\d{1,3}(?:\.\d{1,3}){3}\b|\[local\])"
    r"|(?P<e>\b(?=[0-9A-Z]*\d)[0-9A-Z]{5}\b)"
    rf"|(?P<b>(?<![^\s\[]){_BACKEND_TYPES}(?![^\s\]]))"
    r"|(?P<v>(?<!\S)\d+/-?\d+(?!\S))"
    r"|(?P<bare>(?<!\S)-?\d+(?!\S))"
)
# Parts of key names people invent (appli=, dbname_=, client_ip=): every value in a prefix is
# an escape's, so an unknown key's value is one too, never a literal only one line has.
_KEY_PARTS = (
    ("app", "a"), ("user", "u"), ("usr", "u"), ("db", "d"), ("database", "d"), ("client", "h"),
    ("host", "h"), ("remote", "h"), ("pid", "p"), ("session", "c"), ("line", "l"), ("xid", "x"),
    ("state", "e"), ("query", "Q"), ("backend", "b"),
)  # fmt: skip


def _keyed_escape(key: str) -> str:
    """The escape a ``key=`` in a prefix stands before; %i (any text, not kept) if unknown."""
    lowered = key.lower()
    if lowered in _KEYED:
        return _KEYED[lowered]
    return next((escape for part, escape in _KEY_PARTS if part in lowered), "i")


# Escapes that print nothing for processes without a session (the docs' "Session only").
_SESSION_ONLY = set("udahriLQ")
_SEVERITY = re.compile(rf"\b({LEVELS}) ?:(?: +|$)")


def guess_prefix(line: str) -> str | None:
    """A log_line_prefix that could have written ``line`` (None without a severity)."""
    severity = _SEVERITY.search(line)
    if severity is None:
        return None
    text = line[: severity.start()]
    out: list[str] = []
    pos = 0
    seen_time = False
    has_pid = False
    for match in _SHAPES.finditer(text):
        out.append(text[pos : match.start()].replace("%", "%%"))
        pos = match.end()
        kind = match.lastgroup
        if match.group("keyed"):
            escape = _keyed_escape(match.group("key"))
            value = match.group("value")
            if escape == "h" and re.search(r"\(\d+\)$", value):
                escape = "r"
            quote = match.group("quote")
            body = f"%{escape}"
            out.append(f"{match.group('key')}={quote}{body}{quote}")
        elif match.group("m") or match.group("t"):
            out.append("%s" if seen_time else f"%{'m' if match.group('m') else 't'}")
            seen_time = True
        elif match.group("l"):
            out.append("[%l-1]")
        elif match.group("p"):
            # The first bracketed number is the pid; a later one a query id (%Q, may be
            # negative) or a transaction id, read alike (-?\d+) and not captured.
            number = match.group("p")
            out.append(number[0] + ("%Q" if has_pid else "%p") + number[-1])
            has_pid = True
        elif match.group("ppad"):
            inner = match.group("ppad")[1:-1]
            width = len(inner) if inner.startswith(" ") else -len(inner)
            out.append(f"[%{width}p]")
            has_pid = True
        elif match.group("ud"):
            out.append("%u@%d/%a" if match.group("slash_app") else "%u@%d")
        elif match.group("bare"):
            # A lone number: the pid the first time (a value no other line shares), then a
            # query id or transaction id (%Q reads both: -?\d+); either way not a literal
            # that only this line has.
            out.append("%Q" if has_pid else "%p")
            has_pid = True
        elif kind is not None:
            out.append(f"%{kind}")
    rest = text[pos:]
    if out and out[-1].endswith("%u@%d") and re.fullmatch(r" +\S.*? +", rest):
        # Words between user@db and the severity: the application name ('%u@%d %a ').
        out.append(" %a ")
    else:
        out.append(rest.replace("%", "%%"))
    return "".join(out)


def guess_prefixes(lines: Sequence[str], limit: int = 8) -> list[str]:
    """Distinct guesses from sample lines, each also with %q before its session-only part."""
    guesses: list[str] = []
    for line in lines:
        guess = guess_prefix(line)
        if guess is None or guess in guesses:
            continue
        if re.search(r"\d{2,}", _ESCAPE.sub("", guess)):
            # A number left as text is a value this line has (a time in a shape no escape
            # writes, php-fpm's "[13-Jan-2017 22:46:23]"): no prefix of other lines.
            continue
        guesses.append(guess)
        # Processes without a session stop at %q: try it before the first session-only value,
        # and before the first user/database/client value (%Q prints 0 without a session).
        for escapes in (_SESSION_ONLY, _SESSION_ONLY - {"Q"}):
            first = next(
                (m.start() for m in _ESCAPE.finditer(guess) if m.group(2) in escapes), None
            )
            if first is None:
                continue
            # After the first space of the run before it: the cut line keeps that one space.
            start = guess.rfind(" ", 0, first) + 1
            while start > 1 and guess[start - 2] == " ":
                start -= 1
            with_q = guess[:start] + "%q" + guess[start:]
            if with_q not in guesses:
                guesses.append(with_q)
        if len(guesses) >= limit:
            break
    return guesses


# A user or database name with these is a sign that the prefix read its neighbours into it.
_UNLIKELY_NAME = re.compile(r"[\s\[\](){}/@,]")


def _capture_score(slot: str, value: str) -> int:
    """1 for a captured value; -1 for a user or database that swallowed other fields."""
    if slot in ("user", "db") and value != "[unknown]" and _UNLIKELY_NAME.search(value):
        return -1
    return 1


@dataclass(frozen=True)
class PrefixChoice:
    """The prefix that fits sample lines best, and the share of entry lines it matches."""

    name: str
    compiled: CompiledPrefix
    ratio: float


def _entry_lines(lines: Sequence[str], unwrap: Callable[[str], str | None] | None) -> list[str]:
    """Sample lines that should start an entry (not continuations), wrapper removed."""
    out = []
    for raw in lines:
        if not raw.strip():
            continue
        body = unwrap(raw) if unwrap is not None else (None if raw[:1] in "\t " else raw)
        if body is not None:
            out.append(body)
    return out


def choose_prefix(
    lines: Sequence[str],
    given: str | None,
    unwrap: Callable[[str], str | None] | None = None,
) -> PrefixChoice:
    """The given prefix, else the known prefix matching most sample entry lines.

    ``unwrap`` (optional) strips a wrapper (syslog, CloudWatch) from a line, and returns None
    for a continuation line.
    """
    entries = _entry_lines(lines, unwrap)
    if given is not None:
        candidates = [("custom", normalise_prefix(given))]
    else:
        guessed = [(f"guessed {g!r}", g) for g in guess_prefixes(entries)]
        candidates = [*KNOWN_PREFIXES, *guessed]
    best: tuple[tuple[float, int], PrefixChoice] | None = None
    for name, prefix in candidates:
        compiled = compile_prefix(prefix)
        pattern = re.compile(line_regex(compiled))
        matched = [m for m in (pattern.match(e) for e in entries) if m]
        ratio = len(matched) / len(entries) if entries else 0.0
        # On a tie the prefix whose groups captured more wins (Debian's over the default on
        # lines that carry user@db), a user or database with spaces or brackets counting
        # against it ('[app' from '[%u@%d]' read as Debian's); then the earlier, common one.
        filled = sum(
            _capture_score(slot, g)
            for m in matched
            for slot, g in zip(compiled.slots, m.groups(), strict=False)
            if g
        )
        if best is None or (ratio, filled) > best[0]:
            best = ((ratio, filled), PrefixChoice(name, compiled, ratio))
    assert best is not None
    return best[1]
