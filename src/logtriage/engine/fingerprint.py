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

# Strings: backslash escapes and doubled quotes; "…" is a string unless ANSI_QUOTES.
_STRINGS_MYSQL = r"'(?:[^'\\]|\\(?s:.)|'')*'" + "|" + r'"(?:[^"\\]|\\(?s:.)|"")*"'
# standard_conforming_strings (default since 9.1): a backslash is an ordinary character.
_STRING_POSTGRES = r"'(?:[^']|'')*'"
_PLACEHOLDER = r"\$[0-9]+"

_TOKENS_MYSQL = "|".join(
    (
        _STRINGS_MYSQL,
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
        _STRING_POSTGRES,
        r'"(?:[^"]|"")*"',
        r"\$\$(?s:.*?)\$\$",
        _DOLLAR_TAGGED,
        _PLACEHOLDER,
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
# (guard, pattern, replacement), in pt-query-digest's order. The guard is a cheap regex with no
# groups that matches wherever the pattern does (a prefix of it, or looser): it skips the
# replacement for the many statements the rule cannot change.
_RULES: tuple[tuple[str, str, str], ...] = (
    # A literal's prefix ended the run before it: N'…', x'…', b'…', U&'…', _utf8mb4'…'.
    (r"[a-z0-9&]\?", r"\b(?:[nbxe]|_[a-z0-9]+|u&)\?", "?"),
    (r"[+-]\s*\?", _SIGN, r"\1?"),
    (r"\bvalues?\s*\(", rf"\b(values?)\s*({_TUPLE})(?:\s*,\s*{_TUPLE})+", r"\1 \2"),
    (r"\bvalues?\s*\(\s*\?", r"\b(values?)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", r"\1 (?+)"),
    (r"\bin\s*\(\s*[?c]", rf"\bin\s*\(\s*{_ELEM}(?:\s*,\s*{_ELEM})*\s*\)", "in (?+)"),
    (r"\barray\s*\[", rf"\barray\s*\[\s*{_ELEM}(?:\s*,\s*{_ELEM})*\s*\]", "array[?+]"),
    (
        r"\blimit \?|\boffset \? limit",
        r"\blimit \?(?:\s*,\s*\?| offset \?)?|\boffset \? limit \?",
        "limit ?",
    ),
    (r"\sasc\b", r"(\S)\s+asc\b", r"\1"),
)

# Cheap tests that a statement may be one of the special cases of the final SELECT: most are not.
_SPECIAL_RAW = r"^\s*SELECT /\*!40001 |/\*\w+\.\w+:[0-9]/[0-9]\*/|^administrator command: "
_SPECIAL_SHAPED = r"^call\s|^use | union "

# Tag pairs in a comment body: ``k='v'`` (sqlcommenter), ``k:v`` (marginalia, legacy QueryLogs),
# ``k=v``. The first pair must start the body, so prose comments yield no tags.
_PAIR = r"(?:^|,)\s*([A-Za-z_][\w.%-]*)\s*[=:]\s*('(?:[^'\\]|\\.)*'|[^,]*)"
# The common body, ``k='v',k2:v2`` with no space, comma in a value or backslash (sqlcommenter
# URL-encodes its values): split on commas, which is cheaper than ``_PAIR`` and reads the same.
_SIMPLE_PAIR = r"[A-Za-z_][\w.%-]*[=:](?:'[^',\\]*'|[^',\\\s]*)"
_SIMPLE_PAIRS = rf"{_SIMPLE_PAIR}(?:,{_SIMPLE_PAIR})*"
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

# The quick path (see ``_normalize_sql``): a statement whose text before its first ``/*`` has
# none of these holds only plain runs and the literals ``_QUICK_*`` match, and no whitespace
# to collapse. PostgreSQL's ``E'…'`` is left out: a run may swallow its ``e``.
_NOT_QUICK_MYSQL = "[`#]|--|" + _WHITESPACE[0]
_NOT_QUICK_POSTGRES = r"[\"]|--|\$[$A-Za-z_]|[eE]'|" + _WHITESPACE[0]
_QUICK_POSTGRES = _STRING_POSTGRES + "|" + _PLACEHOLDER


def _fill_holes(skeleton: str, kept: str) -> str:
    """Put the protected tokens ``kept`` back, in order, where ``skeleton`` has holes."""
    return f"""CASE WHEN coalesce(len({kept}), 0) = 0 THEN {skeleton} ELSE array_to_string(flatten(
        list_transform(string_split({skeleton}, {_HOLE}),
                       lambda part, n: [part, coalesce({kept}[n], '')])), '') END"""


def _normalize_sql(*, shortcuts: bool = True, source: str = "queries") -> str:
    """The SELECT that maps each distinct (raw statement, db_system) of ``source`` to normal forms.

    Two skeletons are built from the tokens, with the tokens that must not be touched replaced
    by a hole: ``clean`` keeps literals, quoted identifiers and hints verbatim and collapses
    whitespace in the rest; the fingerprint skeleton has ``?`` for literals and holes for quoted
    identifiers and version comments, gets lower-cased and its literals replaced, then the
    holes are filled and pt-query-digest's structure rules run on the whole text.

    The quick path skips the tokens for most statements: a MySQL or PostgreSQL statement whose
    text before its first ``/*`` (the head) holds only plain runs and literals, followed by at
    most one plain comment, gets its fingerprint skeleton from one ``regexp_replace`` of the
    head's literals and its clean text from the trimmed head; the comment gives the tags.
    ``shortcuts=False`` turns this and the cheap guards off (the reference the tests compare to).
    """
    is_mysql = f"lower(coalesce(db_system, '')) IN {_in(MYSQL_SYSTEMS)}"
    is_pg = f"lower(coalesce(db_system, '')) IN {_in(POSTGRES_SYSTEMS)}"
    # Token kinds, read from the first character (a literal starts with its quote, except
    # PostgreSQL's E'…'): c comment, v /*! version comment */, h /*+ hint */, s literal or
    # placeholder, q quoted identifier, r plain run. PostgreSQL has no `…` identifiers: its
    # tokenizer leaves a backtick inside a plain run.
    kind = """CASE x[1]
        WHEN '''' THEN 's'
        WHEN '"' THEN CASE WHEN is_mysql THEN 's' ELSE 'q' END
        WHEN '`' THEN CASE WHEN is_pg THEN 'r' ELSE 'q' END
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
    # A quick statement has no whitespace to collapse: one pass fewer.
    quick_literals = _chain("fp_low", ((_LITERAL, "?"),))
    literals = f"""CASE WHEN contains(fp_low, 'null') THEN {with_null}
        WHEN quick IS NOT NULL THEN {quick_literals} ELSE {without_null} END"""
    # Trailing semicolons go (a CASE: most statements have none).
    unsemi = """CASE WHEN contains(fp_lit, ';') THEN regexp_replace(fp_lit, '\\s*;[\\s;]*$', '')
        ELSE fp_lit END"""
    # Without comments and whitespace runs, the clean text is the raw text.
    needs_clean = f"list_contains(kinds, 'c') OR regexp_matches(raw, {_lit(_WHITESPACE[0])})"
    collapsed = _chain("clean_skeleton", (_WHITESPACE,))
    clean = f"""CASE WHEN clean_skeleton IS NULL THEN trim(plain)
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
    # Without shortcuts (tests compare both): every statement is tokenized and every test made.
    shortcut = "true" if shortcuts else "false"
    all_guards = _lit("|".join(guard for guard, _, _ in _RULES))
    # A quick statement ends in at most one plain comment (no /*! version */ or /*+ hint */).
    one_comment = """length(note) >= 4 AND ends_with(note, '*/')
        AND strpos(substr(note, 3), '*/') = length(note) - 3
        AND substr(note, 3, 1) NOT IN ('!', '+')"""
    union_parts = "string_split_regex(shaped, ' union (?:all )?')"
    union_seps = "regexp_extract_all(shaped, ' union (?:all )?')"
    rules = "".join(
        f"""), rule_{n} AS (
        SELECT * REPLACE (CASE WHEN ruled AND regexp_matches(shaped, {_lit(guard)}) THEN
            regexp_replace(shaped, {_lit(pattern)}, {_lit(replacement)}, 'g')
            ELSE shaped END AS shaped)
        FROM {"guarded" if n == 1 else f"rule_{n - 1}"}"""
        for n, (guard, pattern, replacement) in enumerate(_RULES, start=1)
    )
    return rf"""
    WITH distinct_sql AS (
        SELECT DISTINCT sql AS raw, db_system FROM {source}
        WHERE fingerprint IS NULL AND sql IS NOT NULL
    ), split AS (
        SELECT raw, db_system, is_mysql, is_pg,
            CASE WHEN cut = 0 THEN raw ELSE left(raw, cut - 1) END AS head,
            CASE WHEN cut > 0 THEN substr(raw, cut) END AS note
        FROM (SELECT raw, db_system, {is_mysql} AS is_mysql, {is_pg} AS is_pg,
                     strpos(raw, '/*') AS cut
              FROM distinct_sql)
    ), quick AS (
        SELECT raw, db_system, is_mysql, is_pg, head, note,
            CASE WHEN NOT (contains(quick, '''') OR contains(quick, '"')) THEN quick END AS quick
        FROM (SELECT *, CASE WHEN {shortcut} AND (note IS NULL OR ({one_comment})) THEN CASE
                WHEN is_mysql AND NOT regexp_matches(head, {_lit(_NOT_QUICK_MYSQL)})
                    THEN regexp_replace(head, {_lit(_STRINGS_MYSQL)}, '?', 'g')
                WHEN is_pg AND NOT regexp_matches(head, {_lit(_NOT_QUICK_POSTGRES)})
                    THEN regexp_replace(head, {_lit(_QUICK_POSTGRES)}, '?', 'g')
                END END AS quick
              FROM split)
    ), tokenized AS (
        SELECT raw, db_system, is_mysql, is_pg, head, note, quick,
            CASE WHEN quick IS NOT NULL THEN NULL
                 WHEN is_mysql THEN regexp_extract_all(raw, {_lit(_TOKENS_MYSQL)})
                 WHEN is_pg THEN regexp_extract_all(raw, {_lit(_TOKENS_POSTGRES)})
                 ELSE regexp_extract_all(raw, {_lit(_TOKENS_OTHER)}) END AS toks
        FROM quick
    ), kinded AS (
        SELECT raw, db_system, head, quick, toks, kinds,
            CASE WHEN quick IS NULL THEN list_filter(toks, lambda x, i: kinds[i] = 'c')
                 WHEN note IS NOT NULL THEN [note] END AS comments
        FROM (SELECT *, list_transform(toks, lambda x: {kind}) AS kinds FROM tokenized)
    ), skeletons AS (
        SELECT raw, db_system,
            CASE WHEN quick IS NULL AND ({needs_clean}) THEN {clean_skeleton} END AS clean_skeleton,
            CASE WHEN quick IS NULL AND ({needs_clean}) THEN {clean_kept} END AS clean_kept,
            CASE WHEN quick IS NULL THEN raw ELSE head END AS plain,
            lower(coalesce(quick, {fp_skeleton})) AS fp_low, {fp_kept} AS fp_kept, quick,
            flatten(list_transform(comments,
                lambda x: CASE WHEN {shortcut} AND regexp_full_match({body}, {_lit(_SIMPLE_PAIRS)})
                    THEN list_transform(string_split({body}, ','),
                        lambda m: regexp_extract(m, '^([^=:]*)[=:]((?s:.*))', ['k', 'v']))
                    ELSE list_transform(regexp_extract_all({body}, {_lit(_PAIR)}),
                        lambda m: {pair}) END)) AS raw_pairs
        FROM kinded
    ), literal AS (
        SELECT raw, db_system, clean_skeleton, clean_kept, plain, fp_kept, raw_pairs,
            trim({literals}) AS fp_lit
        FROM skeletons
    ), rule_0 AS (
        SELECT raw, db_system, {clean} AS clean, {_fill_holes(unsemi, "fp_kept")} AS shaped,
            list_transform(raw_pairs, lambda p: {{'k': {key}, 'v': {value}}}) AS pairs
        FROM literal
    ), guarded AS (
        -- Where no rule's guard matches, no rule can change the text: one test for all.
        SELECT *, NOT {shortcut} OR regexp_matches(shaped, {all_guards}) AS ruled
        FROM rule_0
    {rules}
    ), unique_pairs AS (
        SELECT raw, db_system, clean, shaped,
            list_filter(pairs, lambda p, i:
                list_position(list_transform(pairs, lambda q: q.k), p.k) = i) AS pairs
        FROM rule_{len(_RULES)}
    )
    SELECT md5_number(raw) AS raw_md5, db_system,
        -- NULL when the statement is already clean: the map carries less to the UPDATE.
        nullif(clean, raw) AS clean,
        CASE
            WHEN {shortcut} AND NOT regexp_matches(raw, {_lit(_SPECIAL_RAW)})
                AND NOT regexp_matches(shaped, {_lit(_SPECIAL_SHAPED)}) THEN shaped
            -- pt-query-digest's special cases, so that both tools group these alike.
            WHEN regexp_matches(raw, '^\s*SELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `')
                THEN 'mysqldump'
            WHEN regexp_matches(raw, '/\*\w+\.\w+:[0-9]/[0-9]\*/') THEN 'percona-toolkit'
            WHEN starts_with(raw, 'administrator command: ') THEN raw
            WHEN regexp_matches(shaped, '^call\s+[^\s(]+\s*\(')
                THEN regexp_extract(shaped, '^(call\s+[^\s(]+)', 1)
            WHEN regexp_matches(shaped, '^use \S+$') THEN 'use ?'
            WHEN contains(shaped, ' union ') AND len(list_distinct({union_seps})) = 1
                AND len(list_distinct({union_parts})) = 1
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


# Above this many queries the table is rewritten instead of updated in place: DuckDB holds an
# UPDATE's new values in memory until it commits (a 3 GB PostgreSQL log, ~10M statements, ran
# out of memory there), where a rewrite spills like any query.
REBUILD_ABOVE_ROWS = 2_000_000


def fingerprint_map(db: Database, source: str = "queries") -> int:
    """Create ``tmp_fingerprints``: the normal forms of the unnormalized statements of ``source``.

    ``source`` is a table or a parenthesized SELECT with the queries table's ``sql``,
    ``db_system`` and ``fingerprint``. The map is keyed by a 128-bit digest of the raw text,
    not the text: it stays small. Returns the number of distinct statements in it.
    """
    db.execute(
        "CREATE OR REPLACE TEMP TABLE tmp_fingerprints AS SELECT *, "
        "upper(left(md5(fingerprint), 16)) AS fingerprint_id "
        f"FROM ({_normalize_sql(source=source)})"
    )
    return int(db.scalar("SELECT count(*) FROM tmp_fingerprints"))


def normalized_select(source: str) -> str:
    """SELECT of the rows of ``source`` (in the queries table's layout) with the map applied.

    What ``normalize_queries``'s UPDATE writes, as a SELECT: a reader's output goes through it
    on its way into an empty queries table, so the rows are written once, already normal.
    """
    return f"""
        SELECT q.* REPLACE (
            CASE WHEN m.raw_md5 IS NULL THEN q.sql ELSE coalesce(m.clean, q.sql) END AS sql,
            CASE WHEN m.raw_md5 IS NULL THEN q.fingerprint ELSE m.fingerprint END AS fingerprint,
            CASE WHEN m.raw_md5 IS NULL THEN q.fingerprint_id ELSE m.fingerprint_id END
                AS fingerprint_id,
            CASE WHEN m.raw_md5 IS NULL THEN q.tags WHEN q.tags IS NULL THEN m.tags
                 ELSE map_concat(m.tags, q.tags) END AS tags,
            CASE WHEN m.raw_md5 IS NULL THEN q.request_id
                 ELSE coalesce(q.request_id, m.tag_request_id) END AS request_id,
            CASE WHEN m.raw_md5 IS NULL THEN q.trace_id
                 ELSE coalesce(q.trace_id, m.tag_trace_id) END AS trace_id
        )
        FROM {source} q LEFT JOIN tmp_fingerprints m
          ON q.fingerprint IS NULL AND md5_number(q.sql) = m.raw_md5
         AND q.db_system IS NOT DISTINCT FROM m.db_system
        """


def normalize_queries(db: Database, rebuild_above: int = REBUILD_ABOVE_ROWS) -> int:
    """Fill sql, fingerprint, fingerprint_id, tags, request_id, trace_id of unnormalized queries.

    Rows already holding a fingerprint are left alone, so calling it again is harmless.
    Returns the number of distinct statements normalized.
    """
    if not db.count("queries"):
        return 0
    distinct = fingerprint_map(db)
    if not distinct:
        # Every statement was normalized on its way in (loading): nothing to update.
        db.execute("DROP TABLE tmp_fingerprints")
        return 0
    if db.engine == "duckdb" and db.count("queries") > rebuild_above:
        _rebuild_queries(db)
        db.execute("DROP TABLE tmp_fingerprints")
        return distinct
    db.execute(
        """
        UPDATE queries SET
            sql = coalesce(m.clean, queries.sql),
            fingerprint = m.fingerprint,
            fingerprint_id = m.fingerprint_id,
            -- The comment's tags and the reader's own merge; the reader's keys win. Most rows
            -- have no reader tags, and map_concat costs even on NULL maps.
            tags = CASE WHEN queries.tags IS NULL THEN m.tags
                        ELSE map_concat(m.tags, queries.tags) END,
            request_id = coalesce(queries.request_id, m.tag_request_id),
            trace_id = coalesce(queries.trace_id, m.tag_trace_id)
        FROM tmp_fingerprints m
        WHERE queries.fingerprint IS NULL AND md5_number(queries.sql) = m.raw_md5
          AND queries.db_system IS NOT DISTINCT FROM m.db_system
        """
    )
    db.execute("DROP TABLE tmp_fingerprints")
    return distinct


def _rebuild_queries(db: Database) -> None:
    """The UPDATE of ``normalize_queries`` as a rewrite of ``queries``, rows in the same order."""
    db.execute(
        f"CREATE OR REPLACE TABLE queries AS {normalized_select('queries')} ORDER BY q.rowid"
    )
