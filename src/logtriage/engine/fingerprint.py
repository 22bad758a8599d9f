"""Normalize every loaded SQL statement in bulk: comment tags, clean text, fingerprint and its id.

Readers put the raw statement (comments included) in ``queries.sql``. ``normalize_queries``
then works on the distinct (statement, db_system) pairs inside DuckDB, never per row in Python:

1. **Tokenize** each statement with one RE2 regex per dialect (``regexp_extract_all``) into
   string literals, quoted identifiers, comments, ``$n`` placeholders and plain runs. Working on
   tokens is what keeps a ``/* … */`` or ``--`` inside a string from being read as a comment and
   a ``'…'`` inside a comment from being read as a string; RE2 has no lookaround, so a run always
   ends on a non-word character and a prefixed literal (``E'…'``, ``N'…'``, ``x'…'``,
   ``_utf8mb4'…'``, ``U&'…'``) starts a token of its own.
2. **Tags** come from the comments before they are dropped: sqlcommenter
   (``key='url%2Dencoded'``, also ``%%``-doubled by the Python helper), Rails QueryLogs and
   marginalia (``key:value``), plain ``request_id=…``, pt-query-digest's ``-- file: x, line: 9``.
   ``request_id`` and ``trace_id`` (W3C ``traceparent``) are filled from them when still NULL.
3. **sql** is the statement with comments removed and whitespace outside literals collapsed.
   MySQL ``/*! … */`` version comments and ``/*+ … */`` optimizer hints stay: the server executes
   them, so an ``EXPLAIN`` of ``sql`` must see them. They are never read as tags.
4. **fingerprint** follows pt-query-digest's ordered rules (``QueryRewriter::fingerprint``) with
   our differences: quoted identifiers and digits inside identifiers are kept; ``$1`` and ``?``
   are literals; ``/*+ hints */`` are dropped (pt does too) and ``/*! */`` kept; ``is [not]
   null`` stays (it is a predicate, not a literal); a removed comment leaves a space only where
   two words would otherwise join, and trailing ``;`` go, so a trailing comment never splits a
   shape; ``IN``/``VALUES``/``ARRAY[]`` lists of literals become ``in (?+)``, ``values (?+)``,
   ``array[?+]``, and multi-row ``VALUES`` keep their first row. A top-level chain of identical
   ``UNION [ALL]`` selects becomes ``… /*repeat union*/`` as in pt; nested chains are not
   collapsed (RE2 has no backreferences).
5. **fingerprint_id** = the first 16 hex digits of ``md5(fingerprint)``, upper-case: a prefix of
   pt-query-digest's query ID (``uc md5_hex``) whenever both tools produce the same fingerprint.

Known limits (cheap regexes, as pt's comment says, favour speed): PostgreSQL nested ``/* /* */ */``
comments and nested dollar quotes with *different* tags are tokenized approximately.
"""

from __future__ import annotations

from logtriage.engine.database import Database

# Dialect families: how strings, identifiers and comments are written.
MYSQL_SYSTEMS = ("mysql", "mariadb", "percona", "tidb")
POSTGRES_SYSTEMS = ("postgresql", "postgres", "cockroachdb", "redshift")

# A run of plain text: anything but the characters that may start another token. A ``-`` or
# ``/`` joins the run when the next character cannot start a comment (so ``6e-30`` and ``a/2``
# stay whole); in PostgreSQL an ``e`` joins it only when no quote follows, so ``E'…'`` (the one
# prefix that changes how a string is read: backslash escapes) starts a token of its own. Other
# prefixes (``N``, ``x``, ``b``, ``U&``, ``_utf8mb4``) end the run and are folded into the ``?``.
_RUN_MYSQL = r"""(?:[^'"`/#-]|-[^'"`/#-]|/[^'"`/#*-])+"""
_RUN_POSTGRES = r"""(?:[^'"$/eE-]|[eE][^'"$/-]|[eE]-[^'"$/-]|-[^'"$/-]|/[^'"$/*-])+"""
_RUN_OTHER = r"""(?:[^'"`$/-]|-[^'"`$/-]|/[^'"`$/*-])+"""
_BLOCK_COMMENT = r"/\*(?s:.*?)\*/"
# $tag$…$tag$: RE2 cannot match the closing tag to the opening one, so the body may not hold
# another $word$; nested $$…$$ and $1 are read as units and do not end it.
_DOLLAR_TAGGED = r"\$[A-Za-z_][A-Za-z0-9_]*\$(?:[^$]|\$\$|\$[^$])*?\$[A-Za-z_][A-Za-z0-9_]*\$"

_TOKENS_MYSQL = "|".join(
    (
        # Strings: backslash escapes and doubled quotes; "…" is a string unless ANSI_QUOTES.
        r"'(?:[^'\\]|\\(?s:.)|'')*'",
        r'"(?:[^"\\]|\\(?s:.)|"")*"',
        r"`(?:[^`]|``)*`",
        _BLOCK_COMMENT,
        # "-- " needs a space or control character after it; "5--3" is arithmetic.
        r"--(?:[ \t\r\f][^\n]*|\n|$)",
        r"#[^\n]*",
        _RUN_MYSQL,
        r"(?s:.)",
    )
)
_TOKENS_POSTGRES = "|".join(
    (
        r"[eE]'(?:[^'\\]|\\(?s:.)|'')*'",
        # standard_conforming_strings (default since 9.1): a backslash is an ordinary character.
        r"'(?:[^']|'')*'",
        r'"(?:[^"]|"")*"',
        r"\$\$(?s:.*?)\$\$",
        _DOLLAR_TAGGED,
        r"\$[0-9]+",
        _BLOCK_COMMENT,
        r"--[^\n]*",
        _RUN_POSTGRES,
        r"(?s:.)",
    )
)
# Unknown systems: ANSI identifiers, backslash escapes accepted (most drivers write them).
_TOKENS_OTHER = "|".join(
    (
        r"'(?:[^'\\]|\\(?s:.)|'')*'",
        r'"(?:[^"]|"")*"',
        r"`(?:[^`]|``)*`",
        r"\$\$(?s:.*?)\$\$",
        _DOLLAR_TAGGED,
        r"\$[0-9]+",
        _BLOCK_COMMENT,
        r"--[^\n]*",
        _RUN_OTHER,
        r"(?s:.)",
    )
)

# Literals inside a plain run (already lower-cased): numbers with sign-less mantissa, decimals
# (``5001.``, ``.5``), exponents, hex and bit numbers, booleans and NULL. ``\b`` keeps the digits
# of ``users_2009`` and ``t1``; a leading digit run followed by letters (``123abc``) is an
# identifier in MySQL and stays too.
_LITERAL = (
    r"\b(?:\d+\.\d*(?:e[+-]?\d+)?|(?:true|false|null|0x[0-9a-f]+|0b[01]+|\d+(?:e[+-]?\d+)?)\b)"
    r"|\B\.\d+(?:e[+-]?\d+)?\b"
)
# ``IS [NOT] NULL`` is a predicate: shield it from the literal rule with a control character.
_IS_NULL = r"\b(is\s+(?:not\s+)?)null\b"
# A sign belongs to the number after an operator, a comma, an opening bracket or a keyword.
_SIGN = (
    r"([=<>(\[,*/%+|&^~-]\s*|\b(?:select|where|and|or|not|when|then|else|return|values?|in|"
    r"between|like|is|limit|offset|by|case|set|on|having|interval)\s+)[+-]\s*\?"
)
# One bracketed tuple, two levels of nesting deep: ``(?, now(), coalesce(?, lower(?)))``.
_TUPLE = r"\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)"
_ELEM = r"(?:\?|cast\(\?\s+as\s+[a-z_][\w ]*\))(?:::[a-z_]\w*(?:\[\])?)?"
# (substring the rule needs, pattern, replacement), in pt-query-digest's order. The substring
# is a cheap test that skips the regex for the many statements it cannot change.
_RULES: tuple[tuple[str, str, str], ...] = (
    # A literal's prefix ended the run before it: N'…', x'…', b'…', U&'…', _utf8mb4'…'.
    ("?", r"\b(?:[nbxe]|_[a-z0-9]+|u&)\?", "?"),
    ("?", _SIGN, r"\1?"),
    ("value", rf"\b(values?)\s*({_TUPLE})(?:\s*,\s*{_TUPLE})+", r"\1 \2"),
    ("value", r"\b(values?)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", r"\1 (?+)"),
    ("in", rf"\bin\s*\(\s*{_ELEM}(?:\s*,\s*{_ELEM})*\s*\)", "in (?+)"),
    ("array", rf"\barray\s*\[\s*{_ELEM}(?:\s*,\s*{_ELEM})*\s*\]", "array[?+]"),
    ("limit", r"\blimit \?(?:\s*,\s*\?| offset \?)?|\boffset \? limit \?", "limit ?"),
    ("asc", r"(\S)\s+asc\b", r"\1"),
)

# Tag pairs in a comment body: ``k='v'`` (sqlcommenter), ``k:v`` (marginalia, legacy QueryLogs),
# ``k=v``. The first pair must start the body, so prose comments yield no tags.
_PAIR = r"(?:^|,)\s*([A-Za-z_][\w.%-]*)\s*[=:]\s*('(?:[^'\\]|\\.)*'|[^,]*)"
# Normalized tag keys (lower-case, no ``-_.``) that carry a request id or a trace id.
_REQUEST_ID_KEYS = ("requestid", "xrequestid", "reqid", "correlationid", "xcorrelationid")
_TRACE_ID_KEYS = ("traceid", "xtraceid", "otteltraceid")
_TRACEPARENT = r"^\s*[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}"


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _chain(expr: str, rules: tuple[tuple[str, str], ...]) -> str:
    for pattern, replacement in rules:
        expr = f"regexp_replace({expr}, {_lit(pattern)}, {_lit(replacement)}, 'g')"
    return expr


# Whitespace to collapse: runs of two or more, or any single tab/newline (fewer matches than \s+).
_WHITESPACE = (r"[ \t\n\r\f\v]{2,}|[\t\n\r\f\v]", " ")
# Marks a protected token (a literal kept verbatim, a quoted identifier) in a skeleton string.
_HOLE = "chr(2)"


def _fill_holes(skeleton: str, kept: str) -> str:
    """Put the protected tokens ``kept`` back, in order, where ``skeleton`` has holes."""
    return f"""CASE WHEN len({kept}) = 0 THEN {skeleton} ELSE array_to_string(flatten(
        list_transform(string_split({skeleton}, {_HOLE}),
                       lambda part, n: [part, coalesce({kept}[n], '')])), '') END"""


def _normalize_sql() -> str:
    """The SELECT that maps each distinct (raw statement, db_system) to its normal forms.

    Two skeletons are built from the tokens, with the tokens that must not be touched replaced
    by a hole: ``clean`` keeps literals, quoted identifiers and hints verbatim and collapses
    whitespace in the rest; the fingerprint skeleton has ``?`` for literals and holes for quoted
    identifiers and version comments, gets lower-cased and its literals replaced, then the
    holes are filled and pt-query-digest's structure rules run on the whole text.
    """
    is_mysql = f"lower(coalesce(db_system, '')) IN {_in(MYSQL_SYSTEMS)}"
    is_pg = f"lower(coalesce(db_system, '')) IN {_in(POSTGRES_SYSTEMS)}"
    # Token kinds, read from the first character (a literal starts with its quote, except
    # PostgreSQL's E'…'): c comment, v /*! version comment */, h /*+ hint */, s literal or
    # placeholder, q quoted identifier, r plain run.
    kind = """CASE x[1]
        WHEN '''' THEN 's'
        WHEN '"' THEN CASE WHEN is_mysql THEN 's' ELSE 'q' END
        WHEN '`' THEN 'q'
        WHEN '/' THEN CASE WHEN x[2] IS DISTINCT FROM '*' THEN 'r' WHEN x[3] = '!' THEN 'v'
                           WHEN x[3] = '+' THEN 'h' ELSE 'c' END
        WHEN '-' THEN CASE WHEN x[2] = '-' THEN 'c' ELSE 'r' END
        WHEN '#' THEN CASE WHEN is_mysql THEN 'c' ELSE 'r' END
        WHEN '$' THEN CASE WHEN NOT is_mysql AND length(x) > 1 THEN 's' ELSE 'r' END
        WHEN 'e' THEN CASE WHEN right(x, 1) = '''' THEN 's' ELSE 'r' END
        WHEN 'E' THEN CASE WHEN right(x, 1) = '''' THEN 's' ELSE 'r' END
        ELSE 'r' END"""
    # A dropped comment leaves a space only where the tokens around it would join into one word.
    joiner = r"""CASE WHEN regexp_matches(coalesce(right(toks[i - 1], 1), '')
                       || coalesce(left(toks[i + 1], 1), ''), '^[\w$''"`?]{2}$')
                  THEN ' ' ELSE '' END"""
    clean_skeleton = f"""array_to_string(list_transform(toks, lambda x, i: CASE kinds[i]
        WHEN 'r' THEN x WHEN 'c' THEN {joiner} ELSE {_HOLE} END), '')"""
    clean_kept = "list_filter(toks, lambda x, i: kinds[i] NOT IN ('r', 'c'))"
    fp_skeleton = f"""array_to_string(list_transform(toks, lambda x, i: CASE kinds[i]
        WHEN 'r' THEN x WHEN 's' THEN '?' WHEN 'q' THEN {_HOLE} WHEN 'v' THEN {_HOLE}
        ELSE {joiner} END), '')"""
    fp_kept = """list_transform(list_filter(toks, lambda x, i: kinds[i] IN ('q', 'v')),
        lambda x: CASE WHEN x[1] = '/' THEN lower(x) ELSE x END)"""
    # IS [NOT] NULL is shielded only where "null" occurs: most statements skip two passes.
    with_null = _chain(
        "fp_low", ((_IS_NULL, "\\1\x01"), (_LITERAL, "?"), ("\x01", "null"), _WHITESPACE)
    )
    without_null = _chain("fp_low", ((_LITERAL, "?"), _WHITESPACE))
    literals = f"CASE WHEN contains(fp_low, 'null') THEN {with_null} ELSE {without_null} END"
    literals = f"regexp_replace(trim({literals}), '\\s*;[\\s;]*$', '')"
    # Without comments and whitespace runs, the clean text is the raw text.
    needs_clean = f"list_contains(kinds, 'c') OR regexp_matches(raw, {_lit(_WHITESPACE[0])})"
    collapsed = _chain("clean_skeleton", (_WHITESPACE,))
    clean = f"""CASE WHEN clean_skeleton IS NULL THEN trim(raw)
        ELSE {_fill_holes(f"trim({collapsed})", "clean_kept")} END"""
    body = """CASE WHEN starts_with(x, '/*') THEN x[3:-3] WHEN starts_with(x, '--') THEN x[3:]
        ELSE x[2:] END"""
    pair = f"regexp_extract(m, {_lit(_PAIR)}, ['k', 'v'])"
    value = r"""CASE WHEN length(p.v) >= 2 AND starts_with(p.v, '''') AND ends_with(p.v, '''')
        THEN coalesce(try(url_decode(replace(replace(p.v[2:-2], '\''', ''''), '%%', '%'))),
                      p.v[2:-2])
        ELSE trim(p.v) END"""
    key = "CASE WHEN contains(p.k, '%') THEN coalesce(try(url_decode(p.k)), p.k) ELSE p.k END"
    norm_key = "lower(regexp_replace(p.k, '[-_.]', '', 'g'))"
    union_parts = "string_split_regex(shaped, ' union (?:all )?')"
    union_seps = "regexp_extract_all(shaped, ' union (?:all )?')"
    rules = "".join(
        f"""), rule_{n} AS (
        SELECT * REPLACE (CASE WHEN contains(shaped, {_lit(needs)}) THEN
            regexp_replace(shaped, {_lit(pattern)}, {_lit(replacement)}, 'g')
            ELSE shaped END AS shaped)
        FROM rule_{n - 1}"""
        for n, (needs, pattern, replacement) in enumerate(_RULES, start=1)
    )
    return rf"""
    WITH distinct_sql AS (
        SELECT DISTINCT sql AS raw, db_system FROM queries
        WHERE fingerprint IS NULL AND sql IS NOT NULL
    ), tokenized AS (
        SELECT raw, db_system, {is_mysql} AS is_mysql,
            CASE WHEN {is_mysql} THEN regexp_extract_all(raw, {_lit(_TOKENS_MYSQL)})
                 WHEN {is_pg} THEN regexp_extract_all(raw, {_lit(_TOKENS_POSTGRES)})
                 ELSE regexp_extract_all(raw, {_lit(_TOKENS_OTHER)}) END AS toks
        FROM distinct_sql
    ), kinded AS (
        SELECT raw, db_system, toks, list_transform(toks, lambda x: {kind}) AS kinds
        FROM tokenized
    ), skeletons AS (
        SELECT raw, db_system,
            CASE WHEN {needs_clean} THEN {clean_skeleton} END AS clean_skeleton,
            CASE WHEN {needs_clean} THEN {clean_kept} END AS clean_kept,
            lower({fp_skeleton}) AS fp_low, {fp_kept} AS fp_kept,
            flatten(list_transform(
                list_filter(toks, lambda x, i: kinds[i] = 'c'),
                lambda x: list_transform(regexp_extract_all({body}, {_lit(_PAIR)}),
                                         lambda m: {pair}))) AS raw_pairs
        FROM kinded
    ), rule_0 AS (
        SELECT raw, db_system, {clean} AS clean, {_fill_holes(literals, "fp_kept")} AS shaped,
            list_transform(raw_pairs, lambda p: {{'k': {key}, 'v': {value}}}) AS pairs
        FROM skeletons
    {rules}
    ), unique_pairs AS (
        SELECT raw, db_system, clean, shaped,
            list_filter(pairs, lambda p, i:
                list_position(list_transform(pairs, lambda q: q.k), p.k) = i) AS pairs
        FROM rule_{len(_RULES)}
    )
    SELECT md5_number(raw) AS raw_md5, db_system, clean,
        CASE
            -- pt-query-digest's special cases, so that both tools group these alike.
            WHEN regexp_matches(raw, '^\s*SELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `')
                THEN 'mysqldump'
            WHEN regexp_matches(raw, '/\*\w+\.\w+:[0-9]/[0-9]\*/') THEN 'percona-toolkit'
            WHEN starts_with(raw, 'administrator command: ') THEN raw
            WHEN regexp_matches(shaped, '^call\s+[^\s(]+\s*\(')
                THEN regexp_extract(shaped, '^(call\s+[^\s(]+)', 1)
            WHEN regexp_matches(shaped, '^use \S+$') THEN 'use ?'
            WHEN len(list_distinct({union_seps})) = 1 AND len(list_distinct({union_parts})) = 1
                THEN {union_parts}[1] || ' /*repeat ' || trim({union_seps}[1]) || '*/'
            ELSE shaped
        END AS fingerprint,
        CASE WHEN len(pairs) > 0 THEN map_from_entries(pairs) END AS tags,
        nullif(list_filter(pairs, lambda p: {norm_key} IN {_in(_REQUEST_ID_KEYS)})[1].v, '')
            AS tag_request_id,
        coalesce(
            nullif(lower(regexp_extract(
                list_filter(pairs, lambda p: lower(p.k) = 'traceparent')[1].v,
                {_lit(_TRACEPARENT)}, 1)), ''),
            nullif(list_filter(pairs, lambda p: {norm_key} IN {_in(_TRACE_ID_KEYS)})[1].v, '')
        ) AS tag_trace_id
    FROM unique_pairs
    """


def normalize_queries(db: Database) -> int:
    """Fill sql, fingerprint, fingerprint_id, tags, request_id, trace_id of unnormalized queries.

    Rows already holding a fingerprint are left alone, so calling it again is harmless.
    Returns the number of distinct statements normalized.
    """
    if not db.count("queries"):
        return 0
    # The map is keyed by a 128-bit digest of the raw text, not the text: it stays small.
    db.execute(
        "CREATE OR REPLACE TEMP TABLE tmp_fingerprints AS SELECT *, "
        f"upper(left(md5(fingerprint), 16)) AS fingerprint_id FROM ({_normalize_sql()})"
    )
    distinct = int(db.scalar("SELECT count(*) FROM tmp_fingerprints"))
    db.execute(
        """
        UPDATE queries SET
            sql = m.clean,
            fingerprint = m.fingerprint,
            fingerprint_id = m.fingerprint_id,
            -- The comment's tags and the reader's own merge; the reader's keys win.
            tags = map_concat(m.tags, queries.tags),
            request_id = coalesce(queries.request_id, m.tag_request_id),
            trace_id = coalesce(queries.trace_id, m.tag_trace_id)
        FROM tmp_fingerprints m
        WHERE queries.fingerprint IS NULL AND md5_number(queries.sql) = m.raw_md5
          AND queries.db_system IS NOT DISTINCT FROM m.db_system
        """
    )
    db.execute("DROP TABLE tmp_fingerprints")
    return distinct
