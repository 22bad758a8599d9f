"""Compile an access-log template (nginx ``log_format``, Apache ``LogFormat``) into bulk SQL.

A template is a sequence of literals and variables. Each variable that carries meaning is
bound to a *slot* (``client``, ``time_clf``, ``request_line``, ``duration_s`` …); the
compiler builds one anchored regex with one capturing group per slot, and one SELECT that
turns the captured strings into the canonical ``requests`` columns inside the engine.

Extracting a dozen capture groups per line is the costliest step of a load, so a template
that splits cleanly on ``"`` and single spaces also gets a *split layout*: lines are cut with
plain string splits, and a line uses those pieces only when it also fully matches a strict
form of the regex (no capture groups: the engine's fast DFA path). Every other line is read
by the capturing regex exactly as before, so rejections and values do not depend on the path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from logtriage.sources.base import MAX_DURATION_MS, ParsePlan


@dataclass(frozen=True)
class Literal:
    """Text that appears as-is in every line."""

    text: str


@dataclass(frozen=True)
class Var:
    """A variable: ``slot`` names its meaning (None = parsed but unused), ``regex`` its shape."""

    slot: str | None
    regex: str
    nonempty: bool = True


Part = Literal | Var

# How a quoted value looks: nginx escapes '"' and '\' as \xHH; Apache escapes them with '\'.
QUOTED_ANY = r'(?:[^"\\]|\\.)*'
TOKEN = r"\S+"
TIME_CLF = r"\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"
NUMBER_OR_DASH = r"-|\d+(?:\.\d+)?"
# Fields appended after a known format that are still inferred one by one. Real formats add
# a dozen at most; a "line" with hundreds is not one request (a file whose lines end in a
# bare CR, read as one line), and its template would be a regex too large to compile.
MAX_TAIL_FIELDS = 64

# Slot -> SQL expression over the captured string `{g}` (a VARCHAR; '-' means "absent").
_VALUE_SQL: dict[str, str] = {
    "client": "NULLIF({g}, '-')",
    "xff": "NULLIF(trim(split_part({g}, ',', 1)), '-')",
    "remote_user": "NULLIF({g}, '-')",
    "time_clf": "try_strptime({g}, '%d/%b/%Y:%H:%M:%S %z')::TIMESTAMP",
    "time_clf_bracketed": "try_strptime({g}, '[%d/%b/%Y:%H:%M:%S %z]')::TIMESTAMP",
    "time_iso": "try_cast({g} AS TIMESTAMPTZ)::TIMESTAMP",
    # Epochs beyond the year 5000 are not times (and would overflow the engine's timestamps).
    "time_epoch_s": "make_timestamp(try_cast(CASE WHEN try_cast({g} AS DOUBLE) < 1e11 "
    "THEN try_cast({g} AS DOUBLE) * 1000000 END AS BIGINT))",
    "time_epoch_ms": "make_timestamp(try_cast(CASE WHEN try_cast({g} AS DOUBLE) < 1e14 "
    "THEN try_cast({g} AS DOUBLE) * 1000 END AS BIGINT))",
    "time_epoch_us": "make_timestamp(CASE WHEN try_cast({g} AS DOUBLE) < 1e17 "
    "THEN try_cast({g} AS BIGINT) END)",
    "status": "try_cast({g} AS INTEGER)",
    "bytes": "coalesce(try_cast({g} AS BIGINT), CASE WHEN {g} = '-' THEN 0 END)",
    "referrer": "NULLIF(NULLIF({g}, '-'), '')",
    "user_agent": "NULLIF(NULLIF({g}, '-'), '')",
    "duration_s": "try_cast({g} AS DOUBLE) * 1000.0",
    "duration_ms": "try_cast({g} AS DOUBLE)",
    "duration_us": "try_cast({g} AS DOUBLE) / 1000.0",
    "duration_ns": "try_cast({g} AS DOUBLE) / 1000000.0",
    # nginx lists one time per upstream tried: "0.010, 0.020 : 0.005"; their sum is upstream time.
    # One number (the usual case) is read without building a list.
    "upstream_s_list": (
        "CASE WHEN regexp_full_match({g}, '\\d+(?:\\.\\d+)?') THEN {g}::DOUBLE * 1000.0 "
        "WHEN regexp_matches({g}, '\\d') THEN list_sum(list_transform("
        "regexp_extract_all({g}, '\\d+(?:\\.\\d+)?'), lambda x: x::DOUBLE)) * 1000.0 END"
    ),
    # nginx's $upstream_status lists one status per upstream tried ("502, 200 : 404"): the
    # last one is the answer the client got.
    "upstream_status_list": "try_cast(regexp_extract({g}, '(\\d{{3}})$', 1) AS INTEGER)",
    "request_id": "NULLIF(NULLIF({g}, '-'), '')",
    # A second id, used when the first is absent (Apache: X-Request-ID header, else UNIQUE_ID).
    "request_id_alt": "NULLIF(NULLIF({g}, '-'), '')",
    # W3C traceparent: version-traceid-parentid-flags.
    "traceparent": "NULLIF(split_part({g}, '-', 2), '')",
    "trace_id": "NULLIF(NULLIF({g}, '-'), '')",
    "host": "NULLIF(NULLIF({g}, '-'), '')",
    "method": "NULLIF({g}, '-')",
    "uri": "NULLIF({g}, '-')",
    "path": "NULLIF({g}, '-')",
    "query": "NULLIF(ltrim({g}, '?'), '')",
    "request_line": "{g}",
}

# A slot named ``time_format:<strptime format>`` reads a time written in that format (Apache's
# ``%{format}t``); see ``slot_sql``.
TIME_FORMAT = "time_format:"

# Most precise first: a log with both $msec and $time_local is read to the millisecond, which
# is what ties requests to database queries by time.
_TIME_SLOTS = (
    "time_epoch_us",
    "time_epoch_ms",
    "time_epoch_s",
    "time_iso",
    "time_clf",
    "time_clf_bracketed",
)
_DURATION_SLOTS = ("duration_s", "duration_ms", "duration_us", "duration_ns")
_REQUEST_LINE = r"^([A-Za-z][A-Za-z0-9_-]{0,31}) (\S+)(?: HTTP/\d(?:\.\d)?)?$"


@dataclass(frozen=True)
class AccessTemplate:
    """A compiled template: the line regex, the slot of each group, and the time semantics."""

    regex: str
    slots: tuple[str, ...]
    # nginx writes the time a request *ended*; Apache's %t is when it was received.
    time_is_end: bool
    # The template part (a ``Var``) each capture group comes from.
    group_parts: tuple[int, ...] = ()
    # How to read a well-formed line with string splits instead of the regex (None: no way).
    split: SplitLayout | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        """The same regex for Python (sniffing a handful of sample lines)."""
        return re.compile(self.regex)

    def match_ratio(self, lines: Sequence[str]) -> float:
        """Share of non-blank sample lines this template matches."""
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return 0.0
        pat = self.pattern
        return sum(1 for ln in sample if pat.match(ln)) / len(sample)

    def missing_columns(self) -> tuple[str, ...]:
        """Canonical columns this template cannot fill (reported as M002)."""
        have = set(self.slots)
        wanted = {
            "duration_ms": set(_DURATION_SLOTS),
            "request_id": {"request_id", "request_id_alt"},
            "trace_id": {"traceparent", "trace_id"},
            "ts": set(self._time_slots()),
            "status": {"status", "upstream_status_list"},
        }
        return tuple(col for col, slots in wanted.items() if not have & slots)

    def _time_slots(self) -> tuple[str, ...]:
        return (*_TIME_SLOTS, *(s for s in self.slots if s.startswith(TIME_FORMAT)))

    def plan(self, variant: str, *, use_split: bool = True) -> ParsePlan:
        """Build the bulk SELECT for ``requests`` (see ``ParsePlan``).

        ``use_split=False`` reads every line with the capturing regex (the reference the
        split layout is tested against).
        """
        names = [f"g{i}" for i in range(len(self.slots))]
        by_slot: dict[str, str] = {}
        for slot, name in zip(self.slots, names, strict=True):
            by_slot.setdefault(slot, f"m.{name}")

        def value(slot: str) -> str | None:
            if slot not in by_slot:
                return None
            return "(" + slot_sql(slot).format(g=by_slot[slot]) + ")"

        def first(slots: Sequence[str]) -> str:
            exprs = [e for e in (value(s) for s in slots) if e is not None]
            if not exprs:
                return "NULL"
            return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"

        duration = first(_DURATION_SLOTS)
        logged_ts = first(self._time_slots())
        # Each derived value is a column of its own step (p), read by name afterwards: written
        # inline, the duration would be parsed four times per line and the target five.
        if self.time_is_end and duration != "NULL":
            ts = (
                "CASE WHEN m._duration IS NULL THEN m._logged_ts "
                # A duration of more than ~30 years is garbage, not a start time (no overflow).
                f"WHEN m._duration < {MAX_DURATION_MS} THEN m._logged_ts - "
                "to_microseconds((m._duration * 1000)::BIGINT) END"
            )
        else:
            ts = "m._logged_ts"
        request_line = value("request_line")
        if request_line is not None:
            # The regex decides; its two groups are the first two space-separated words, read
            # with split_part (capture groups cost several times a plain match).
            rl_ok = f"regexp_full_match({request_line}, '{_sql_str(_REQUEST_LINE)}')"
            # A line the regex accepts has one non-empty word before its single first space and
            # one after it: one split serves both (split_part would split once per call).
            rl_words = f"CASE WHEN m._rl_ok THEN string_split({request_line}, ' ') END"
            method = f"coalesce(upper(m._rl_words[1]), {first(('method',))})"
            target = f"coalesce(m._rl_words[2], {first(('uri',))})"
        else:
            rl_ok = "NULL"
            rl_words = "NULL::VARCHAR[]"
            method = f"upper({first(('method',))})"
            target = first(("uri",))
        # The part before '?', cut with strpos (split_part builds a list of every part).
        # Absolute-form targets (forward proxies) carry scheme and host; keep the path only.
        before_query = (
            "CASE WHEN strpos(m._target, '?') > 0 "
            "THEN substr(m._target, 1, strpos(m._target, '?') - 1) ELSE m._target END"
        )
        absolute = "regexp_replace(m._target, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', '')"
        target_path = (
            f"CASE WHEN starts_with(m._target, '/') THEN {before_query} "
            f"ELSE split_part({absolute}, '?', 1) END"
        )
        path = f"coalesce({first(('path',))}, NULLIF({target_path}, ''))"
        query = (
            f"coalesce({first(('query',))}, CASE WHEN strpos(m._target, '?') > 0 THEN "
            "NULLIF(substr(m._target, strpos(m._target, '?') + 1), '') END)"
        )
        client = first(("xff", "client"))
        # Without $status, the last upstream's status is what the client got (nginx's own rule).
        status = first(("status",) if "status" in self.slots else ("upstream_status_list",))
        trace = first(("trace_id", "traceparent"))
        marker = next(
            (
                f"m.{n}"
                for n, s in zip(names, self.slots, strict=True)
                if s in _NONEMPTY or s.startswith(TIME_FORMAT)
            ),
            None,
        )
        matched = f"{marker} <> ''" if marker else "m.is_full"
        # Carry the raw text only when no captured field can prove the match: copying every
        # line through the query doubles the cost of the parse.
        full = "" if marker else f"regexp_full_match(text, '{_sql_str(self.regex)}')"
        return ParsePlan(
            table="requests",
            variant=variant,
            missing=self.missing_columns(),
            select_sql=f"""
WITH {self._groups_sql(names, full, use_split)}, o AS (
    SELECT m.*, {rl_ok} AS _rl_ok FROM m
), w AS (
    SELECT m.*, {rl_words} AS _rl_words FROM o AS m
), p AS (
    SELECT m.*, {duration} AS _duration, {logged_ts} AS _logged_ts, {method} AS _method,
        {target} AS _target
    FROM w AS m
), r AS (
    SELECT
        {ts} AS ts,
        m._duration AS duration_ms,
        m._method AS method,
        {path} AS path,
        NULL::VARCHAR AS route,
        {query} AS query,
        {status} AS status,
        {first(("bytes",))} AS bytes_sent,
        {client} AS client,
        {first(("user_agent",))} AS user_agent,
        {first(("referrer",))} AS referrer,
        {first(("request_id", "request_id_alt"))} AS request_id,
        {trace} AS trace_id,
        {first(("upstream_s_list",))} AS upstream_ms,
        {first(("host",))} AS host,
        line,
        {matched} AS is_match
    FROM p AS m
)
SELECT * EXCLUDE (is_match),
    CASE
        WHEN NOT is_match THEN 'does not match the log format'
        WHEN ts IS NULL AND {"TRUE" if logged_ts != "NULL" else "FALSE"} THEN 'unreadable timestamp'
    END AS _reject
FROM r
""",
        )

    def _groups_sql(self, names: Sequence[str], full: str, use_split: bool) -> str:
        """CTE ``m(line, g0, g1, …[, is_full])``: the captured strings of every line.

        One column per group, not a struct: packing a million structs to unpack them in the
        next step costs a tenth of the parse.
        """
        extract = f"regexp_extract(text, '{_sql_str(self.regex)}', {list(names)!r})"
        if self.split is None or not use_split:
            is_full = [f"{full} AS is_full"] if full else []
            columns = ", ".join(["line", *(f"_rx.{name} AS {name}" for name in names), *is_full])
            return f"""x AS (
    SELECT line, text, {extract} AS _rx FROM {{lines}}
), m AS (
    SELECT {columns} FROM x
)"""
        layout = self.split
        pieces = ", ".join(f"string_split(q[{i + 1}], ' ') AS u{i}" for i, _ in layout.token_counts)
        # CASE runs each branch only on its own rows: the regex sees just the odd lines.
        values = [
            f"CASE WHEN is_split THEN {layout.value(part)} ELSE _rx.{name} END AS {name}"
            for name, part in zip(names, self.group_parts, strict=True)
        ]
        is_full = [f"CASE WHEN is_split THEN TRUE ELSE {full} END AS is_full"] if full else []
        return f"""s AS (
    SELECT line, text, string_split(text, '"') AS q FROM {{lines}}
), u AS (
    SELECT line, text, q, {pieces} FROM s
), v AS (
    SELECT *, coalesce({layout.condition()}, FALSE) AS is_split FROM u
), x AS (
    SELECT *, CASE WHEN NOT is_split THEN {extract} END AS _rx FROM v
), m AS (
    SELECT {", ".join(["line", *values, *is_full])} FROM x
)"""


# Slots whose regex never matches the empty string: a non-empty capture proves the line matched.
_NONEMPTY = {"time_clf", "time_clf_bracketed", "status", "time_iso", "time_epoch_s"}


def slot_sql(slot: str) -> str:
    """The SQL expression of ``slot`` over a captured string ``{g}`` (a str.format template)."""
    if slot.startswith(TIME_FORMAT):
        fmt = _sql_str(slot.removeprefix(TIME_FORMAT)).replace("{", "{{").replace("}", "}}")
        return f"try_strptime({{g}}, '{fmt}')::TIMESTAMP"
    return _VALUE_SQL[slot]


def _sql_str(text: str) -> str:
    """Quote ``text`` for a SQL string literal (the engine's strings use '' for ')."""
    return text.replace("'", "''")


# Variables whose value holds exactly one space: the CLF time is two space-separated tokens.
_ONE_SPACE = frozenset({TIME_CLF, r"\[" + TIME_CLF + r"\]"})
# Lists nginx joins with ", " or " : " usually hold one value; see ``_spaces``.
_LIST_SEPARATORS = (", ", " : ")


@dataclass(frozen=True)
class SplitLayout:
    """Where each variable of a template sits once a line is split on ``"``, then on spaces.

    ``q`` is the line split on ``"``; ``u<i>`` is ``q[i + 1]`` split on single spaces (for
    the unquoted stretches that hold values). A line uses the split when it has the right
    number of pieces and tokens, no backslash, and its *skeleton* (the line with its quoted
    values cut out) fully matches ``skeleton_regex``: the template with exactly its own
    spaces and empty quoted values. Such a line matches the capturing regex too, with every
    group equal to the split value: every space of the regex needs at least one space of the
    line and the counts leave none over, so no value (not even a list such as "0.1, 0.2") can
    hold a space there either. Quoted values are the long ones (request, user agent), so the
    skeleton is a fraction of the line for the regex to scan.
    """

    skeleton_regex: str
    pieces: int
    # Indices of the pieces of q that are quoted values (left out of the skeleton).
    quoted: tuple[int, ...]
    # (index of a piece of q, number of tokens it splits into), for pieces holding values.
    token_counts: tuple[tuple[int, int], ...]
    # (template part index of a Var, SQL for its text over q and u<i>).
    values: tuple[tuple[int, str], ...]

    def value(self, part: int) -> str:
        """SQL for the text of the variable at template part ``part``."""
        return dict(self.values)[part]

    def condition(self) -> str:
        """SQL that is true for the lines this layout reads exactly."""
        checks = [f"len(q) = {self.pieces}"]
        checks += [f"len(u{i}) = {n}" for i, n in self.token_counts]
        checks.append("NOT contains(text, '\\')")
        # One concat() builds the skeleton in one allocation; a chain of || builds every
        # intermediate string (a quarter of the split check's cost).
        args: list[str] = []
        literal = ""
        for i in range(self.pieces):
            literal += '"' if i else ""
            if i not in self.quoted:
                args += [f"'{literal}'"] if literal else []
                args.append(f"q[{i + 1}]")
                literal = ""
        args += [f"'{literal}'"] if literal else []
        skeleton = ", ".join(args)
        checks.append(f"regexp_full_match(concat({skeleton}), '{_sql_str(self.skeleton_regex)}')")
        return " AND ".join(checks)


def _spaces(regex: str) -> int | None:
    """Spaces a value of ``regex`` holds, None when that is not fixed.

    A list (``$upstream_response_time``: "0.010, 0.020 : 0.005") is taken as one token; a
    line whose list has several values has too many tokens and is read by the regex.
    """
    if regex in _ONE_SPACE:
        return 1
    rest = regex
    for separator in _LIST_SEPARATORS:
        rest = rest.replace(separator, "")
    return None if " " in rest else 0


def _strip(token: str, prefix: str, suffix: str) -> str:
    """SQL for ``token`` without the template's literal text around the value."""
    if not prefix and not suffix:
        return token
    return f"substr({token}, {len(prefix) + 1}, length({token}) - {len(prefix) + len(suffix)})"


Atom = tuple[str, str | int]  # ("lit", text) | ("var" | "head" | "tail", part index)


def _tokens(atoms: Sequence[str | int], parts: Sequence[Part]) -> list[list[Atom]] | None:
    """Cut an unquoted stretch of the template at its spaces (a one-space value spans two)."""
    tokens: list[list[Atom]] = [[]]
    for atom in atoms:
        if isinstance(atom, str):
            for k, chunk in enumerate(atom.split(" ")):
                if k:
                    tokens.append([])
                if chunk:
                    tokens[-1].append(("lit", chunk))
            continue
        part = parts[atom]
        assert isinstance(part, Var)
        spaces = _spaces(part.regex)
        if spaces is None:
            return None
        if spaces == 1:
            tokens[-1].append(("head", atom))
            tokens.append([("tail", atom)])
        else:
            tokens[-1].append(("var", atom))
    return tokens


def split_layout(parts: Sequence[Part]) -> SplitLayout | None:
    """The split layout of a template, or None when its lines do not split cleanly."""
    pieces: list[list[str | int]] = [[]]
    for index, part in enumerate(parts):
        if isinstance(part, Var):
            pieces[-1].append(index)
            continue
        for k, chunk in enumerate(part.text.split('"')):
            if k:
                pieces.append([])
            if chunk:
                pieces[-1].append(chunk)
    values: dict[int, str] = {}
    quoted: list[int] = []
    heads: dict[int, str] = {}
    counts: list[tuple[int, int]] = []
    for p, atoms in enumerate(pieces):
        held = [a for a in atoms if isinstance(a, int)]
        if not held:
            continue
        if p % 2:  # inside quotes: exactly one variable, read whole
            part = parts[held[0]]
            if atoms != held[:1] or not isinstance(part, Var) or part.regex != QUOTED_ANY:
                return None
            values[held[0]] = f"q[{p + 1}]"
            quoted.append(p)
            continue
        tokens = _tokens(atoms, parts)
        if tokens is None:
            return None
        counts.append((p, len(tokens)))
        for t, token in enumerate(tokens):
            found = [(n, (kind, ref)) for n, (kind, ref) in enumerate(token) if kind != "lit"]
            if not found:
                continue
            if len(found) > 1:
                return None
            n, (kind, ref) = found[0]
            assert isinstance(ref, int)
            prefix = "".join(str(text) for _, text in token[:n])
            suffix = "".join(str(text) for _, text in token[n + 1 :])
            cell = f"u{p}[{t + 1}]"
            if kind == "head":
                heads[ref] = _strip(cell, prefix, "")
            elif kind == "tail":
                values[ref] = f"concat({heads[ref]}, ' ', {_strip(cell, '', suffix)})"
            else:
                values[ref] = _strip(cell, prefix, suffix)
    if not values:
        return None
    return SplitLayout(
        skeleton_regex=_skeleton_regex(parts),
        pieces=len(pieces),
        quoted=tuple(quoted),
        token_counts=tuple(counts),
        values=tuple(values.items()),
    )


def _skeleton_regex(parts: Sequence[Part]) -> str:
    """The template as a regex with its exact spaces, no groups, and empty quoted values."""
    regex = ["^"]
    for part in parts:
        if isinstance(part, Literal):
            chunks = part.text.split(" ")
            regex.append(" ".join(re.escape(c) for c in chunks))
        elif part.regex != QUOTED_ANY:
            regex.append(f"(?:{part.regex})")
    regex.append("$")
    return "".join(regex)


def compile_parts(parts: Sequence[Part], *, time_is_end: bool) -> AccessTemplate:
    """Compile literals and variables into an anchored regex with one group per used slot."""
    regex: list[str] = ["^"]
    slots: list[str] = []
    group_parts: list[int] = []
    for index, part in enumerate(parts):
        if isinstance(part, Literal):
            # Runs of spaces in a template match one or more spaces in a line (lenient).
            chunks = re.split(r"( +)", part.text)
            regex.extend(" +" if c.startswith(" ") and c else re.escape(c) for c in chunks if c)
        elif part.slot is not None and part.slot not in slots:
            slots.append(part.slot)
            group_parts.append(index)
            regex.append(f"({part.regex})")
        else:
            regex.append(f"(?:{part.regex})")
    # Trailing whitespace (and a stray CR) is tolerated.
    regex.append(r"\s*$")
    return AccessTemplate(
        regex="".join(regex),
        slots=tuple(slots),
        time_is_end=time_is_end,
        group_parts=tuple(group_parts),
        split=split_layout(parts),
    )
