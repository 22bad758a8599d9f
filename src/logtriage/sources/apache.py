r"""Apache httpd access logs: common, combined, vhost_combined, timing variants, any LogFormat.

Directives: https://httpd.apache.org/docs/2.4/mod/mod_log_config.html#formats. Apache's
``%t`` is the time the request was *received*, so it is the request's start as logged (nginx
logs the end). Apache escapes ``"`` and ``\`` in logged strings with a backslash and other
non-printable bytes as lowercase ``\xhh``; values are kept as logged, as nginx's are.

Who reads plain ``combined`` lines: nginx and Apache both write that format. A file is read
as Apache when its lines carry something only Apache writes: an integer duration after the
user agent (``%D``, ``%T``, ``%{ms}T``), ``-`` for an empty body (``%b``), a
backslash-escaped quote, lowercase ``\xhh`` escapes, or a shape nginx has no default for
(``common``, ``vhost_combined``); Apache then answers 1.0 and, registered before nginx, wins
ties. Lines with none of these are nginx's (Apache answers 0.94 to nginx's 0.95); without a
duration only the reported format name and the M002 hint differ.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from logtriage.errors import FormatError
from logtriage.model.i18n import _
from logtriage.sources.access_template import (
    MAX_TAIL_FIELDS,
    QUOTED_ANY,
    TIME_CLF,
    TIME_FORMAT,
    TOKEN,
    AccessTemplate,
    Literal,
    Part,
    Var,
    compile_parts,
)
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

COMMON = '%h %l %u %t "%r" %>s %b'
COMBINED = COMMON + ' "%{Referer}i" "%{User-Agent}i"'
VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
PROXY = '%{X-Forwarded-For}i %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"'
# Traefik's default access log ("common"): combined, then the number of requests since start,
# the router and the server URL, and the duration in milliseconds with "ms"
# (https://doc.traefik.io/traefik/observability/access-logs/). Its time is the request's start.
TRAEFIK = COMBINED + ' %{Traefik-Requests}e "%{Traefik-Router}e" "%{Traefik-Server}e" %{ms}Tms'
# uWSGI's default request log line (Python apps behind it): the request's start, the response
# size and the time in ms; pid, worker and counters are read and left aside.
UWSGI = (
    "[pid: %{Uwsgi-Pid}e|app: %{Uwsgi-App}e|req: %{Uwsgi-Req}e] %h (%{Uwsgi-User}e) "
    "{%{Uwsgi-Vars}e vars in %{Uwsgi-Var-Bytes}e bytes} [%{%a %b %e %H:%M:%S %Y}t] %m %U%q "
    "=> generated %B bytes in %{ms}T msecs (%H %>s) %{Uwsgi-Headers}e headers in "
    "%{Uwsgi-Header-Bytes}e bytes (%{Uwsgi-Switches}e switches on core %{Uwsgi-Core}e)"
)
# Envoy's default access log and Istio's (its sidecars' and gateways'), as LogFormats: the start
# time in UTC with milliseconds, the response flags, bytes in and out, the duration in ms, the
# upstream's time, then X-Forwarded-For, User-Agent, X-Request-ID, :authority and the upstream
# host (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage,
# https://istio.io/latest/docs/tasks/observability/logs/access-log/).
_ENVOY_START = '[%{%Y-%m-%dT%H:%M:%S}t.%{msec_frac}tZ] "%r" %>s %{Envoy-Response-Flags}e '
_ENVOY_END = (
    '%I %O %{ms}T %{X-Envoy-Upstream-Service-Time}o "%{X-Forwarded-For}i" "%{User-Agent}i" '
    '"%{X-Request-ID}i" "%{Host}i" "%{Envoy-Upstream-Host}e"'
)
ENVOY = _ENVOY_START + _ENVOY_END
ISTIO = (
    _ENVOY_START
    + '%{Envoy-Code-Details}e %{Envoy-Termination}e "%{Envoy-Transport-Failure}e" '
    + _ENVOY_END
    + " %{Envoy-Upstream-Cluster}e %{Envoy-Upstream-Local}e %{Envoy-Downstream-Local}e"
    " %{Envoy-Downstream-Remote}e %{Envoy-SNI}e %{Envoy-Route}e"
)
# The nicknames of the stock httpd.conf / Debian apache2.conf, accepted as --apache-log-format.
NICKNAMES = {
    "common": COMMON,
    "combined": COMBINED,
    "vhost_combined": VHOST_COMBINED,
    "combinedio": COMBINED + " %I %O",
    "proxy": PROXY,
}
# Shapes a sample is tried against, in the order ties are broken.
_BASES = (
    ("combined", COMBINED),
    ("vhost_combined", VHOST_COMBINED),
    ("common", COMMON),
    ("proxy", PROXY),
    ("traefik", TRAEFIK),
    ("envoy", ENVOY),
    ("istio", ISTIO),
    ("uwsgi", UWSGI),
)

_INT = r"\d+|-"
_XFF = r"\S+(?:, \S+)*"
# Letter -> (slot, regex when unquoted, rank: the lowest rank of a meaning wins when a
# format logs it twice, e.g. %>s over %s, %D over %T).
_LETTERS: dict[str, tuple[str | None, str, int]] = {
    "a": ("client", TOKEN, 0),
    "h": ("client", TOKEN, 1),
    "A": (None, TOKEN, 0),
    "b": ("bytes", _INT, 0),
    "B": ("bytes", _INT, 0),
    "O": ("bytes", _INT, 1),
    "I": (None, _INT, 0),
    "S": (None, _INT, 0),
    "D": ("duration_us", _INT, 0),
    "T": ("duration_s", _INT, 2),
    "f": (None, TOKEN, 0),
    "H": (None, TOKEN, 0),
    "k": (None, _INT, 0),
    "l": (None, TOKEN, 0),
    "L": (None, TOKEN, 0),
    "m": ("method", TOKEN, 0),
    "p": (None, _INT, 0),
    "P": (None, TOKEN, 0),
    "q": ("query", r"(?:\?\S*)?", 0),
    "r": ("request_line", r"\S+ \S+(?: \S+)?|-", 0),
    "R": (None, TOKEN, 0),
    "s": ("status", r"\d{3}|-", 1),
    "t": ("time_clf_bracketed", r"\[" + TIME_CLF + r"\]", 0),
    "u": ("remote_user", TOKEN, 0),
    # %U is percent-encoded again when logged, so a '?' always starts the query (%q).
    "U": ("path", r"[^\s?]+", 0),
    "v": ("host", TOKEN, 2),
    "V": ("host", TOKEN, 0),
    "X": (None, r"[-+X]", 0),
}
# %{Name}i request headers (lower case) -> (slot, rank).
_HEADERS: dict[str, tuple[str, int]] = {
    "referer": ("referrer", 0),
    "referrer": ("referrer", 0),
    "user-agent": ("user_agent", 0),
    "x-forwarded-for": ("xff", 0),
    "x-real-ip": ("client", 1),
    "x-request-id": ("request_id", 0),
    "x-correlation-id": ("request_id", 1),
    "request-id": ("request_id", 1),
    "traceparent": ("traceparent", 0),
    "x-b3-traceid": ("trace_id", 0),
    "host": ("host", 1),
}
# The canonical meaning a slot stands for: one item per meaning is used.
_MEANING = {
    "duration_s": "duration",
    "duration_ms": "duration",
    "duration_us": "duration",
    "time_clf_bracketed": "time",
    "time_epoch_s": "time",
    "time_epoch_ms": "time",
    "time_epoch_us": "time",
}
_ITEM = re.compile(r"%((?:[!<>,0-9]|\{[^}]*\})*)(\^t[io]|[A-Za-z%])")

# strftime directive -> (regex, DuckDB strptime directive); composite ones are expanded first.
_STRFTIME: dict[str, tuple[str, str]] = {
    "a": (r"[A-Za-z]{3}", "%a"),
    "A": (r"[A-Za-z]+", "%A"),
    "b": (r"[A-Za-z]{3}", "%b"),
    "B": (r"[A-Za-z]+", "%B"),
    "d": (r"\d{2}", "%d"),
    "e": (r"[ \d]?\d", "%d"),
    "H": (r"\d{2}", "%H"),
    "k": (r"[ \d]?\d", "%H"),
    "I": (r"\d{2}", "%I"),
    "l": (r"[ \d]?\d", "%I"),
    "j": (r"\d{3}", "%j"),
    "m": (r"\d{2}", "%m"),
    "M": (r"\d{2}", "%M"),
    "p": (r"[AaPp][Mm]", "%p"),
    "S": (r"\d{2}", "%S"),
    "y": (r"\d{2}", "%y"),
    "Y": (r"\d{4}", "%Y"),
    "z": (r"[+-]\d{2}:?\d{2}", "%z"),
    "Z": (r"[A-Za-z][A-Za-z0-9+-]*", "%Z"),
    "%": ("%", "%%"),
}
_STRFTIME_COMPOSITE = {
    "T": "%H:%M:%S",
    "D": "%m/%d/%y",
    "F": "%Y-%m-%d",
    "R": "%H:%M",
    "r": "%I:%M:%S %p",
    "c": "%a %b %e %H:%M:%S %Y",
    "x": "%m/%d/%y",
    "X": "%H:%M:%S",
    "h": "%b",
}
_FRACTIONS = {"msec_frac": (r"\d{3}", "%g"), "usec_frac": (r"\d{6}", "%f")}
_EPOCHS = {
    "sec": "time_epoch_s",
    "%s": "time_epoch_s",
    "msec": "time_epoch_ms",
    "usec": "time_epoch_us",
}


@dataclass(frozen=True)
class _Item:
    """One ``%…x`` directive: its letter, its ``{argument}`` and its modifiers."""

    letter: str
    arg: str | None
    modifiers: str


@dataclass(frozen=True)
class _Field:
    """A directive resolved: its slot (None = parsed, unused), regex, rank and time kind."""

    slot: str | None
    regex: str
    rank: int
    is_end_time: bool = False


def directive_to_format(text: str) -> str:
    """Accept a ``LogFormat "…" name`` / ``CustomLog path "…"`` line, a nickname, or the string."""
    raw = text.strip()
    if raw in NICKNAMES:
        return NICKNAMES[raw]
    words = raw.split(None, 1)
    if words and words[0].lower() in ("logformat", "customlog"):
        quoted = re.search(r'"((?:[^"\\]|\\.)*)"', raw)
        if quoted:
            return _unquote_config(quoted.group(1))
        rest = words[1].split() if len(words) > 1 else []
        # CustomLog path nickname
        if words[0].lower() == "customlog" and len(rest) >= 2 and rest[1] in NICKNAMES:
            return NICKNAMES[rest[1]]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return _unquote_config(raw[1:-1])
    # A string copied out of a config file still has its \" escapes.
    return _unquote_config(raw) if '\\"' in raw else raw


def _unquote_config(text: str) -> str:
    r"""Undo httpd's config quoting (\" → ") and LogFormat's \n and \t escapes."""
    return re.sub(r"\\([\"nt])", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), '"'), text)


def _tokens(fmt: str) -> list[str | _Item]:
    """Split a LogFormat string into literal text and directives."""
    out: list[str | _Item] = []
    pos = 0
    for match in _ITEM.finditer(fmt):
        if match.start() > pos:
            out.append(fmt[pos : match.start()])
        pre, letter = match.group(1), match.group(2)
        if letter == "%":
            out.append("%")
        else:
            arg = re.search(r"\{([^}]*)\}", pre)
            modifiers = re.sub(r"\{[^}]*\}", "", pre)
            out.append(_Item(letter, arg.group(1) if arg else None, modifiers))
        pos = match.end()
    if pos < len(fmt):
        out.append(fmt[pos:])
    # Adjacent literals (from %%) become one.
    merged: list[str | _Item] = []
    for tok in out:
        if isinstance(tok, str) and merged and isinstance(merged[-1], str):
            merged[-1] += tok
        else:
            merged.append(tok)
    return merged


def _time_spec(arg: str) -> tuple[str, bool]:
    """The strftime part of a %{…}t argument and whether it is the request's end."""
    if arg.startswith("end:"):
        return arg[4:], True
    return arg.removeprefix("begin:"), False


def _strftime(spec: str) -> tuple[str, str] | None:
    """Regex and DuckDB strptime format for a strftime format; None if it cannot be read."""
    regex: list[str] = []
    strptime: list[str] = []
    pos = 0
    for match in re.finditer(r"%(.)", spec, flags=re.DOTALL):
        literal = spec[pos : match.start()]
        regex.append(re.escape(literal))
        strptime.append(literal)
        pos = match.end()
        directive = match.group(1)
        if directive in _STRFTIME_COMPOSITE:
            inner = _strftime(_STRFTIME_COMPOSITE[directive])
            known = inner
        else:
            known = _STRFTIME.get(directive)
        if known is None:
            return None
        regex.append(known[0])
        strptime.append(known[1])
    regex.append(re.escape(spec[pos:]))
    strptime.append(spec[pos:])
    return "".join(regex), "".join(strptime)


def _time_field(items: Sequence[str | _Item]) -> _Field:
    """Resolve a run of %{…}t directives (with the literals between them) into one time."""
    first = items[0]
    assert isinstance(first, _Item)
    spec0, is_end = _time_spec(first.arg or "")
    if spec0 in _EPOCHS:
        # Alone, or %{sec}t.%{msec_frac}t: epoch seconds with a fraction (see _merge_times).
        # A start time is preferred to an end time (the rank).
        if len(items) == 3:
            return _Field("time_epoch_s", r"\d+\.\d+", int(is_end), is_end)
        return _Field(_EPOCHS[spec0], r"\d+", int(is_end), is_end)
    regex: list[str] = []
    strptime: list[str] = []
    readable = True
    for tok in items:
        if isinstance(tok, str):
            regex.append(re.escape(tok))
            strptime.append(tok.replace("%", "%%"))
            continue
        spec, _end = _time_spec(tok.arg or "")
        if spec in _FRACTIONS:
            regex.append(_FRACTIONS[spec][0])
            strptime.append(_FRACTIONS[spec][1])
            continue
        converted = _strftime(spec)
        if converted is None:
            readable = False
            regex.append(r"\S+")
        else:
            regex.append(converted[0])
            strptime.append(converted[1])
    only_fractions = all(
        isinstance(t, str) or _time_spec(t.arg or "")[0] in _FRACTIONS for t in items
    )
    if not readable or only_fractions:
        return _Field(None, "".join(regex) or r"\S+", 0)
    return _Field(TIME_FORMAT + "".join(strptime), "".join(regex), 1 + int(is_end), is_end)


def _is_time_item(tok: str | _Item, is_end: bool | None = None) -> bool:
    """A %{…}t directive (of the request's end or start, when ``is_end`` is given)."""
    if not (isinstance(tok, _Item) and tok.letter == "t" and tok.arg is not None):
        return False
    return is_end is None or _time_spec(tok.arg)[1] == is_end


def _merge_times(tokens: list[str | _Item]) -> list[str | _Item | _Field]:
    """Join runs like ``%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t`` into one time field."""
    out: list[str | _Item | _Field] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not _is_time_item(tok):
            out.append(tok)
            i += 1
            continue
        assert isinstance(tok, _Item)
        spec, is_end = _time_spec(tok.arg or "")
        run: list[str | _Item] = [tok]
        j = i + 1
        if spec in _EPOCHS:
            # Only %{sec}t.%{msec_frac}t continues an epoch; nothing else joins it.
            frac = tokens[i + 2] if i + 2 < len(tokens) else None
            if tokens[i + 1 : i + 2] == ["."] and frac and _is_time_item(frac, is_end):
                assert isinstance(frac, _Item)
                if spec == "sec" and _time_spec(frac.arg or "")[0] in _FRACTIONS:
                    run.extend(tokens[i + 1 : i + 3])
            out.append(_time_field(run))
            i += len(run)
            continue
        while j < len(tokens):
            nxt = tokens[j]
            if _is_time_item(nxt, is_end):
                run.append(nxt)
                j += 1
            elif (
                isinstance(nxt, str)
                and len(nxt) <= 3
                and '"' not in nxt
                and j + 1 < len(tokens)
                and _is_time_item(tokens[j + 1], is_end)
            ):
                # Short glue between two parts of the same moment, as "." before msec_frac.
                run.extend(tokens[j : j + 2])
                j += 2
            else:
                break
        out.append(_time_field(run))
        i = j
    return out


def _field(item: _Item) -> _Field:
    """What one directive means and how it looks when unquoted."""
    letter, arg = item.letter, (item.arg or "")
    name = arg.lower()
    if letter == "i":
        slot, rank = _HEADERS.get(name, (None, 0))
        return _Field(slot, _XFF if slot == "xff" else (TOKEN if slot else r"\S*"), rank)
    if letter == "o" and name == "x-request-id":
        return _Field("request_id_alt", TOKEN, 1)
    if letter == "e" and name == "unique_id":
        return _Field("request_id_alt", TOKEN, 0)
    if letter == "T" and arg:
        unit = {"s": "duration_s", "ms": "duration_ms", "us": "duration_us"}.get(name)
        return _Field(unit, _INT, {"us": 0, "ms": 1}.get(name, 2))
    if letter in ("a", "h") and name == "c":
        return _Field("client", TOKEN, 2)
    if letter == "s":
        return _Field("status", r"\d{3}|-", {">": 0}.get(item.modifiers[-1:], 1))
    if letter in _LETTERS:
        slot, regex, rank = _LETTERS[letter]
        return _Field(slot, regex, rank)
    return _Field(None, r"\S*", 0)


def _meaning(slot: str) -> str:
    """The canonical meaning of a slot: one directive per meaning is used."""
    return "time" if slot.startswith(TIME_FORMAT) else _MEANING.get(slot, slot)


def parse_format(fmt: str) -> tuple[list[Part], bool]:
    """Turn a LogFormat string into template parts and whether its time is the request's end."""
    tokens = _merge_times(_tokens(fmt))
    fields: dict[int, _Field] = {}
    for i, tok in enumerate(tokens):
        if isinstance(tok, _Item):
            fields[i] = _field(tok)
        elif isinstance(tok, _Field):
            fields[i] = tok
    # One directive per meaning: the best-ranked (then the first) is used, the rest parsed only.
    best: dict[str, int] = {}
    for i, fld in fields.items():
        if fld.slot is None:
            continue
        meaning = _meaning(fld.slot)
        if meaning not in best or fld.rank < fields[best[meaning]].rank:
            best[meaning] = i
    used = set(best.values())
    parts: list[Part] = []
    is_end = False
    for i, tok in enumerate(tokens):
        if isinstance(tok, str):
            parts.append(Literal(tok))
            continue
        fld = fields[i]
        before = tokens[i - 1] if i > 0 else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        is_quoted = (
            isinstance(before, str)
            and before.endswith('"')
            and isinstance(after, str)
            and after.startswith('"')
        )
        slot = fld.slot if i in used else None
        if slot is not None and _meaning(slot) == "time":
            is_end = fld.is_end_time
        parts.append(Var(slot, QUOTED_ANY if is_quoted else fld.regex))
    return parts, is_end


def compile_apache(fmt: str) -> AccessTemplate:
    """Compile an Apache ``LogFormat`` string (or directive) into an access template."""
    text = directive_to_format(fmt)
    if not _ITEM.search(text):
        raise FormatError(
            _("not an Apache LogFormat (no %directives): {format}").format(format=repr(fmt[:80]))
        )
    parts, is_end = parse_format(text)
    return compile_parts(parts, time_is_end=is_end)


# Shapes of values appended after a known format, recognised column by column.
_FIELD = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_HEX_ID = re.compile(r"^[0-9a-fA-F]{16,64}$|^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
# mod_unique_id: 24 (httpd 2.2) or 27 (2.4) characters of a URL-safe alphabet (2.2 used '@').
_UNIQUE_ID = re.compile(r"^[A-Za-z0-9@_-]{19,32}$")
_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]+)"
_IP_LIST = re.compile(rf"^{_IP}(?:, ?{_IP})*$")
_ID_TOKEN = re.compile(r"^[\w.:@/+=-]{1,128}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+(?::\d+)?$")
_FLOAT = re.compile(r"^\d+\.\d+$")
# Escapes nginx never writes: \" (nginx writes \x22) and lowercase hex (nginx: uppercase).
_APACHE_ESCAPE = re.compile(r'\\"|\\x(?:[a-f][0-9a-f]|[0-9][a-f])')
_DURATION_ITEMS = ("%D", "%T", "%{ms}T", "%{us}T")
_APACHE_ONLY_ITEMS = (*_DURATION_ITEMS, "%T/%D", "%I", "%O", "%{UNIQUE_ID}e")
UNKNOWN = "%{Unknown}i"
FLOAT = "%{Unknown-Seconds}i"


def _column(values: Sequence[str]) -> str:
    """The directive a column of unquoted values most likely is ('int' = decided later)."""
    present = [v for v in values if v != "-"]
    checks: tuple[tuple[str, re.Pattern[str]], ...] = (
        ("%T/%D", re.compile(r"^\d+/\d+$")),
        ("int", re.compile(r"^\d+$")),
        (FLOAT, re.compile(r"^\d+\.\d+$")),
        ("%{traceparent}i", _TRACEPARENT),
        ("%{X-Request-ID}i", _HEX_ID),
        ("%{UNIQUE_ID}e", _UNIQUE_ID),
        ("%{X-Forwarded-For}i", _IP_LIST),
        ("%v", _HOSTNAME),
    )
    if not present:
        return UNKNOWN
    for candidate, pattern in checks:
        if all(pattern.match(v) for v in present):
            return candidate
    # Ids passed on from clients and proxies vary in shape; one real id is enough.
    is_id = any(_HEX_ID.match(v) or _UNIQUE_ID.match(v) for v in present)
    if is_id and all(_ID_TOKEN.match(v) for v in present):
        return "%{X-Request-ID}i"
    return UNKNOWN


def _resolve_ints(columns: list[list[str]], items: list[str], body_bytes: list[int | None]) -> None:
    """Decide what integer columns are: %T %D, %I %O, or one duration in some unit."""
    i = 0
    while i < len(items):
        if items[i] != "int":
            i += 1
            continue
        values = [int(v) if v.isdigit() else None for v in columns[i]]
        if i + 1 < len(items) and items[i + 1] == "int":
            nxt = [int(v) if v.isdigit() else None for v in columns[i + 1]]
            pairs = [(a, b) for a, b in zip(values, nxt, strict=True) if a is not None and b]
            if pairs and all(a == b // 1_000_000 for a, b in pairs):
                items[i], items[i + 1] = "%T", "%D"
                i += 2
                continue
            sized = [(b, o) for b, o in zip(body_bytes, nxt, strict=True) if b and o is not None]
            if sized and all(o > b for b, o in sized):
                items[i], items[i + 1] = "%I", "%O"
                i += 2
                continue
        known = [v for v in values if v is not None]
        zeros = sum(1 for v in known if v == 0) / len(known) if known else 0.0
        if not zeros:
            items[i] = "%D"  # microseconds: a served request never takes 0 µs
        elif zeros >= 0.9 and max(known) < 60:
            items[i] = "%T"
        else:
            items[i] = "%{ms}T"
        i += 1


def infer_tail(tails: Sequence[str], body_bytes: Sequence[int | None]) -> list[str]:
    """Guess the directives of values appended after a known format, from sample lines.

    Unrecognised columns come back as ``UNKNOWN``, seconds with a fraction (nginx's
    ``$request_time``, which Apache never writes) as ``FLOAT``.
    """
    fields = [_FIELD.findall(t) for t in tails]
    counts = Counter(len(f) for f in fields if f)
    if not counts:
        return []
    usual = max(counts, key=lambda n: (counts[n], n))
    if usual > MAX_TAIL_FIELDS:
        return []
    rows = [(f, b) for f, b in zip(fields, body_bytes, strict=True) if len(f) == usual]
    columns = [[r[0][c] for r in rows] for c in range(usual)]
    quoted = [all(v.startswith('"') for v in col) for col in columns]
    values = [[v[1:-1] if q else v for v in col] for col, q in zip(columns, quoted, strict=True)]
    items = [_column(col) for col in values]
    _resolve_ints(values, items, [b for _, b in rows])
    return [f'"{it}"' if q else it for it, q in zip(items, quoted, strict=True)]


@dataclass(frozen=True)
class _Guess:
    variant: str
    fmt: str
    ratio: float
    has_floats: bool
    apache_only: bool


class ApacheFormat:
    """Apache httpd access log (``common``, ``combined``, ``vhost_combined``, any LogFormat)."""

    name = "apache"
    table = "requests"
    description = (
        "Apache httpd access log: common, combined, vhost_combined, %D/%T, any LogFormat; "
        "Traefik's common log; Envoy's and Istio's default access logs; uWSGI's request log"
    )
    recognises = (
        "lines that match common/combined/vhost_combined, plus trailing %D, %T, %{ms}T, "
        "%T/%D, %I %O, request ids or UNIQUE_ID; Apache-only escapes (\\\") or '-' bytes; "
        "Traefik's combined + request count, router, server URL and '12ms'; Envoy/Istio's "
        "'[2026-11-24T10:00:00.123Z] \"GET / HTTP/1.1\" 200 - …' lines; uWSGI's "
        "'[pid: …] addr () {…} [time] GET /x => generated N bytes in N msecs (HTTP/1.1 200)'; "
        "or the LogFormat "
        "given with --apache-log-format"
    )
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            "add %D (microseconds) to the LogFormat, e.g. "
            'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D '
            '\\"%{X-Request-ID}i\\"" timed and CustomLog ${APACHE_LOG_DIR}/access.log timed'
        ),
        "request_id": (
            "enable mod_unique_id (a2enmod unique_id headers), give every request an id with "
            "RequestHeader setifempty X-Request-ID %{UNIQUE_ID}e (it reaches the application), "
            'and log it with \\"%{X-Request-ID}i\\" in the LogFormat'
        ),
        "trace_id": ('log the W3C trace context with \\"%{traceparent}i\\" in the LogFormat'),
    }

    def _guess(self, lines: Sequence[str], options: FormatOptions) -> _Guess:
        """The variant and LogFormat that best fit ``lines``."""
        given = options.get("apache_log_format")
        if given:
            fmt = directive_to_format(given)
            return _Guess("custom", fmt, compile_apache(fmt).match_ratio(lines), False, True)
        best = _Guess("combined", COMBINED, 0.0, False, False)
        best_score = -1.0
        escapes = any(_APACHE_ESCAPE.search(ln) for ln in lines)
        for variant, base in _BASES:
            prefix = compile_apache(base)
            prefix_re = re.compile(prefix.regex.removesuffix(r"\s*$"))
            group = prefix.slots.index("bytes") + 1
            matched = [m for ln in lines if (m := prefix_re.match(ln))]
            if not matched:
                continue
            body = [int(b) if (b := m.group(group)).isdigit() else None for m in matched]
            tails = [m.string[m.end() :] for m in matched]
            items = infer_tail(tails, body)
            fmt = " ".join([base, *items])
            unknown = sum(1 for it in items if it.strip('"') in (UNKNOWN, FLOAT))
            ratio = compile_apache(fmt).match_ratio(lines)
            score = ratio - unknown / 100 + len(items) / 1000
            if score > best_score:
                only = (
                    variant != "combined"
                    or escapes
                    or any(m.group(group) == "-" for m in matched)
                    or any(it.strip('"') in _APACHE_ONLY_ITEMS for it in items)
                )
                timing = any(d in it for it in items for d in _DURATION_ITEMS)
                name = variant + ("+timing" if timing else "+fields" if items else "")
                floats = any(it.strip('"') == FLOAT for it in items)
                best, best_score = _Guess(name, fmt, ratio, floats, only), score
        return best

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Recognise Apache lines; confidence is the share of sample lines matched."""
        guess = self._guess(lines, options)
        if guess.variant == "custom":
            return Detection(confidence=guess.ratio, variant="custom", detail=guess.fmt)
        # Plain combined lines stay nginx's (0.95 there); seconds with a fraction (nginx's
        # $request_time) lower the confidence; Apache-only traits raise it.
        if guess.has_floats:
            confidence = guess.ratio * 0.9
        elif guess.apache_only:
            confidence = guess.ratio
        else:
            confidence = guess.ratio * 0.94
        return Detection(confidence=min(1.0, confidence), variant=guess.variant, detail=guess.fmt)

    def template(self, sample: Sequence[str], options: FormatOptions) -> tuple[str, AccessTemplate]:
        """The variant name and compiled template of the detected (or given) LogFormat."""
        guess = self._guess(sample, options)
        return guess.variant, compile_apache(guess.fmt)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Compile the detected (or given) LogFormat into the bulk parse."""
        chosen, template = self.template(sample, options)
        return template.plan(chosen)


FORMAT = ApacheFormat()
