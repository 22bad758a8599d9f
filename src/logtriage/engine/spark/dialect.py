"""Translate the analysis SQL (DuckDB's dialect) to Spark SQL: sqlglot plus our own rules.

sqlglot does most of the work (``sqlglot.transpile(sql, read="duckdb", write="spark")``).
``RULES`` lists what it does not cover, each one a function over the parsed statement, each
with a test in ``tests/test_spark_dialect.py``. A construct no rule can translate is written
in the shared SQL in a form both engines accept, never forked per engine.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

# Percentiles on Spark are exact while every canonical table has at most this many rows; above
# it, approximate (percentile_approx): the exact forms hold all of a group's values in memory.
EXACT_PERCENTILE_ROWS = 1_000_000
# percentile_approx's accuracy: the rank of the value returned is off by at most n / accuracy.
PERCENTILE_ACCURACY = 10_000
PERCENTILE_TOLERANCE = "±0.01% of rank"


@dataclass(frozen=True)
class Rule:
    """One rewrite sqlglot does not make: DuckDB construct → Spark construct."""

    name: str
    duckdb: str
    spark: str
    apply: Callable[[exp.Expr], exp.Expr]


def literal_sql(value: Any) -> str:
    """A Python parameter as a DuckDB SQL literal (parameters are inlined before translation)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | decimal.Decimal):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime):
        naive = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        return f"CAST('{naive.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal_sql(v) for v in value) + "]"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def prepare(sql: str, params: Sequence[Any] = ()) -> str:
    """Token-level rules, before parsing: inline ``?`` parameters; ``len(list)`` → array_length.

    In our SQL ``len()`` is for lists and ``length()`` for strings (both engines read them so);
    sqlglot parses both as one function, so the distinction is kept here by name.
    """
    tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    out: list[str] = []
    pos = 0
    values = list(params)
    for i, token in enumerate(tokens):
        replacement: str | None = None
        if token.token_type in (TokenType.PLACEHOLDER, TokenType.QDCOLON) and token.text in (
            "?",
            "?::",
        ):
            if not values:
                raise ValueError("more ? placeholders than parameters")
            # ``?::T`` is one token: the cast stays after the literal.
            replacement = literal_sql(values.pop(0)) + token.text[1:]
        elif (
            token.text.lower() == "len"
            and i + 1 < len(tokens)
            and tokens[i + 1].token_type == TokenType.L_PAREN
        ):
            replacement = "array_length"
        if replacement is not None:
            out.append(sql[pos : token.start])
            out.append(replacement)
            pos = token.end + 1
    out.append(sql[pos:])
    if values:
        raise ValueError("fewer ? placeholders than parameters")
    return "".join(out)


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _regex_with_flags(pattern: exp.Expr, flags: exp.Expr | None) -> exp.Expr:
    """DuckDB passes regex options as a third argument; Java regexes take them inline."""
    if flags is None or not isinstance(flags, exp.Literal):
        return pattern
    inline = "".join(f for f in flags.this if f in "is")
    if not inline:
        return pattern
    if isinstance(pattern, exp.Literal):
        return exp.Literal.string(f"(?{inline})" + pattern.this)
    return exp.func("concat", exp.Literal.string(f"(?{inline})"), pattern)


def _regexp_flags(node: exp.Expr) -> exp.Expr:
    """``regexp_matches(s, p, 'i')`` → ``s RLIKE '(?i)p'`` (sqlglot drops the options)."""
    if isinstance(node, exp.RegexpLike) and node.args.get("flag") is not None:
        pattern = _regex_with_flags(node.expression, node.args["flag"])
        return exp.RegexpLike(this=node.this, expression=pattern)
    return node


def _regexp_full_match(node: exp.Expr) -> exp.Expr:
    """``regexp_full_match(s, p)`` → ``s RLIKE '^(?:p)$'``."""
    if not isinstance(node, exp.RegexpFullMatch):
        return node
    pattern = _regex_with_flags(node.expression, node.args.get("options"))
    if isinstance(pattern, exp.Literal):
        anchored: exp.Expr = exp.Literal.string(f"^(?:{pattern.this})$")
    else:
        anchored = exp.func("concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")$"))
    return exp.RegexpLike(this=node.this, expression=anchored)


def _regexp_extract_groups(node: exp.Expr) -> exp.Expr:
    """``regexp_extract(s, p, ['a', 'b'])`` (a struct) → ``named_struct('a', …(s, p, 1), …)``.

    DuckDB returns '' for a group that did not take part, as Spark's regexp_extract does.
    """
    if not isinstance(node, exp.RegexpExtract):
        return node
    group = node.args.get("group")
    pattern = _regex_with_flags(node.expression, node.args.get("parameters"))
    if isinstance(group, exp.Array):
        fields: list[exp.Expr] = []
        for i, name in enumerate(group.expressions, start=1):
            fields.append(name.copy())
            fields.append(
                _fn("regexp_extract", node.this.copy(), pattern.copy(), exp.Literal.number(i))
            )
        return _fn("named_struct", *fields)
    # Spark's default group is 1, DuckDB's 0: always say which.
    return _fn("regexp_extract", node.this, pattern, group or exp.Literal.number(0))


def _java_replacement(rewrite: str, shift: int) -> str:
    r"""RE2's replacement text (``\1`` a group, ``\\`` a backslash) as Java's (``$1``, ``\$``).

    ``shift`` is added to each group number (groups put in front of the pattern).
    """
    out: list[str] = []
    i = 0
    while i < len(rewrite):
        char = rewrite[i]
        following = rewrite[i + 1] if i + 1 < len(rewrite) else ""
        if char == "\\" and following.isdigit():
            out.append(f"${int(following) + shift}")
            i += 2
        elif char == "\\" and following == "\\":
            out.append("\\\\")
            i += 2
        else:
            out.append("\\$" if char == "$" else char)
            i += 1
    return "".join(out)


def _regexp_replace(node: exp.Expr) -> exp.Expr:
    r"""``regexp_replace(s, p, r[, 'gi'])`` with DuckDB's meaning on Spark.

    sqlglot drops the options. Without ``g`` DuckDB replaces the first match only and Spark
    every match: the pattern becomes ``^(.*?)(p)`` (the shortest prefix, then the first
    match) and the replacement keeps the prefix. Groups are ``\1`` in RE2's replacement and
    ``$1`` in Java's (a group followed by a digit is read as one number there: avoid it).
    """
    if not isinstance(node, exp.RegexpReplace):
        return node
    modifiers = node.args.get("modifiers")
    replacement = node.args.get("replacement")
    if modifiers is not None and not isinstance(modifiers, exp.Literal):
        raise ValueError("regexp_replace with computed options has no Spark translation")
    pattern = _regex_with_flags(node.expression, modifiers)
    shift, prefix = 0, ""
    if modifiers is None or "g" not in modifiers.this:
        # The prefix is group 1 and the match group 2: RE2's \0 is $2, \1 is $3, …
        shift, prefix = 2, "$1"
        if isinstance(pattern, exp.Literal):
            pattern = exp.Literal.string(f"(?s:^(.*?))({pattern.this})")
        else:
            pattern = exp.func(
                "concat", exp.Literal.string("(?s:^(.*?))("), pattern, exp.Literal.string(")")
            )
    if isinstance(replacement, exp.Literal):
        text: exp.Expr = exp.Literal.string(prefix + _java_replacement(replacement.this, shift))
    else:
        # A replacement read from a table: the same rewrite, in SQL (no escaped backslash).
        text = exp.func("replace", replacement, exp.Literal.string("$"), exp.Literal.string("\\$"))
        for digit in range(10):
            text = exp.func(
                "replace",
                text,
                exp.Literal.string(f"\\{digit}"),
                exp.Literal.string(f"${digit + shift}"),
            )
        if prefix:
            text = exp.func("concat", exp.Literal.string(prefix), text)
    # sqlglot's transform does not descend into a replaced node: a chain of them here.
    subject = node.this.transform(_regexp_replace, copy=False)
    return _fn("regexp_replace", subject, pattern, text)


def _regexp_extract_all_group(node: exp.Expr) -> exp.Expr:
    """``regexp_extract_all(s, p)`` means group 0 on DuckDB, group 1 on Spark: say it."""
    if isinstance(node, exp.RegexpExtractAll):
        group = node.args.get("group") or exp.Literal.number(0)
        pattern = _regex_with_flags(node.expression, node.args.get("parameters"))
        return _fn("regexp_extract_all", node.this, pattern, group)
    return node


def _one_based(value: exp.Expr, size: exp.Expr) -> exp.Expr:
    """A DuckDB slice bound (negative counts from the end) as a 1-based position."""
    if isinstance(value, exp.Neg):
        return exp.Add(
            this=size.copy(), expression=exp.Sub(this=exp.Literal.number(1), expression=value.this)
        )
    if isinstance(value, exp.Literal):
        return value
    return exp.If(
        this=exp.LT(this=exp.Paren(this=value.copy()), expression=exp.Literal.number(0)),
        true=exp.Add(
            this=exp.Add(this=size.copy(), expression=exp.Paren(this=value.copy())),
            expression=exp.Literal.number(1),
        ),
        false=exp.Paren(this=value.copy()),
    )


_TEXT = (
    exp.SplitPart,
    exp.Substring,
    exp.Trim,
    exp.Lower,
    exp.Upper,
    exp.Replace,
    exp.RegexpReplace,
    exp.DPipe,
    exp.Concat,
)


def _is_lambda_value(node: exp.Expr) -> bool:
    """A lambda's parameter (or a field of it): our SQL indexes those only when they are text.

    Lists are indexed by their column name (``toks[i]``), never through a lambda parameter.
    """
    while isinstance(node, exp.Dot | exp.Column) and not isinstance(node, exp.Identifier):
        node = node.this if isinstance(node, exp.Dot) else (node.args.get("table") or node.this)
    if not isinstance(node, exp.Identifier):
        return False
    lambda_ = node.find_ancestor(exp.Lambda)
    while lambda_ is not None:
        if any(p.name == node.name for p in lambda_.expressions):
            return True
        lambda_ = lambda_.find_ancestor(exp.Lambda)
    return False


def _text_index(node: exp.Expr) -> exp.Expr:
    """``s[i]`` / ``s[a:b]`` of a string (DuckDB indexes text as a list) → ``substr``.

    Without types, a string is recognised by the function that made it (split_part, trim…)
    or by being a lambda's parameter (see ``_is_lambda_value``).
    """
    if not isinstance(node, exp.Bracket) or len(node.expressions) != 1:
        return node
    base = node.this
    while isinstance(base, exp.Paren):
        base = base.this
    if not isinstance(base, _TEXT) and not _is_lambda_value(base):
        return node
    part = node.expressions[0]
    size = exp.Length(this=base.copy())
    if not isinstance(part, exp.Slice):
        # sqlglot keeps a single index 0-based (DuckDB's 1-based index minus one), unless it
        # typed the base as text itself (trim, ltrim…): then the index is DuckDB's.
        if base.is_type(exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            return exp.Substring(this=base, start=part, length=exp.Literal.number(1))
        index = exp.Add(this=exp.Paren(this=part), expression=exp.Literal.number(1))
        return exp.Substring(this=base, start=index, length=exp.Literal.number(1))
    start = _one_based(part.this, size) if part.this is not None else exp.Literal.number(1)
    if part.expression is None:
        return exp.Substring(this=base, start=start)
    end = _one_based(part.expression, size)
    length = exp.func(
        "greatest",
        exp.Add(
            this=exp.Sub(this=exp.Paren(this=end), expression=exp.Paren(this=start.copy())),
            expression=exp.Literal.number(1),
        ),
        exp.Literal.number(0),
    )
    return exp.Substring(this=base, start=start, length=length)


def _lambda_index(node: exp.Expr) -> exp.Expr:
    """``list_transform(l, (x, i) -> …)``: DuckDB's index ``i`` counts from 1, Spark's from 0.

    Every use of ``i`` in the body becomes ``(i + 1)``; with ``list-index`` below, ``l[i]``
    then reads the same element on both engines.
    """
    if not isinstance(node, exp.Lambda) or len(node.expressions) != 2:
        return node
    index = node.expressions[1].name
    body = node.this
    for ref in list(body.find_all(exp.Identifier, exp.Column)):
        if ref.name != index or ref.parent is None:
            continue
        if isinstance(ref, exp.Identifier) and isinstance(ref.parent, exp.Column | exp.Lambda):
            continue  # part of a Column (handled as the Column) or another lambda's parameter
        if isinstance(ref, exp.Column) and ref.table:
            continue
        shifted = exp.Paren(this=exp.Add(this=ref.copy(), expression=exp.Literal.number(1)))
        if ref is body:
            node.set("this", shifted)
        else:
            ref.replace(shifted)
    return node


def _list_index(node: exp.Expr) -> exp.Expr:
    """``l[e]`` with a computed ``e`` (1-based on DuckDB) → ``element_at(l, nullif(e, 0))``.

    ``l[-n]`` (the n-th from the end) → ``element_at(l, -n)``.

    sqlglot shifts literal indexes itself; a computed one it passes through unchanged, which
    Spark's 0-based ``l[e]`` would read one element further.
    """
    if not isinstance(node, exp.Bracket) or len(node.expressions) != 1:
        return node
    index = node.expressions[0]
    if isinstance(index, exp.Neg) and isinstance(index.this, exp.Literal):
        # sqlglot shifts DuckDB's l[-1] to l[-2], which Spark reads as NULL: element_at
        # counts from the end.
        from_end = exp.Literal.number(int(index.this.this) - 1)
        return _fn("element_at", node.this, exp.Neg(this=from_end))
    if isinstance(index, exp.Slice | exp.Literal):
        return node
    # DuckDB's l[0] is NULL; Spark's element_at(l, 0) is an error, and its index is an INT
    # (array_position gives a BIGINT).
    position = exp.Nullif(this=index, expression=exp.Literal.number(0))
    return _fn("element_at", node.this, exp.Cast(this=position, to=exp.DataType.build("INT")))


def _list_slice(node: exp.Expr) -> exp.Expr:
    """``l[a:b]`` (1-based, inclusive, negative from the end) → ``slice(l, start, length)``."""
    if not isinstance(node, exp.Bracket) or len(node.expressions) != 1:
        return node
    part = node.expressions[0]
    if not isinstance(part, exp.Slice):
        return node
    size = exp.ArraySize(this=node.this.copy())
    start = _one_based(part.this, size) if part.this is not None else exp.Literal.number(1)
    end = _one_based(part.expression, size) if part.expression is not None else size
    first = exp.func("greatest", exp.Paren(this=start), exp.Literal.number(1))
    length = exp.func(
        "greatest",
        exp.Add(
            this=exp.Sub(this=exp.Paren(this=end), expression=first.copy()),
            expression=exp.Literal.number(1),
        ),
        exp.Literal.number(0),
    )
    return _fn("slice", node.this, first, length)


def _percentiles(node: exp.Expr) -> exp.Expr:
    """``quantile_cont(x, q)`` → ``percentile(x, q)``: both interpolate linearly between ranks.

    ``median(x)`` is ``quantile_cont(x, 0.5)`` on DuckDB.
    """
    if isinstance(node, exp.Median):
        return _fn("percentile", node.this, exp.Literal.number(0.5))
    if not isinstance(node, exp.PercentileCont) or isinstance(node.parent, exp.WithinGroup):
        return node
    return _fn("percentile", node.this, node.expression)


def _percentile_disc(node: exp.Expr) -> exp.Expr:
    """``quantile_disc(x, q)`` → the value at 1-based rank max(1, ceil(n·q)) of the sorted values.

    DuckDB's rank, for any ordered type: Spark's ``percentile_disc`` takes numbers only, and
    our SQL also asks for times.
    """
    if not isinstance(node, exp.PercentileDisc) or isinstance(node.parent, exp.WithinGroup):
        return node
    value, q = node.this, node.expression
    if isinstance(q, exp.Array):
        # DuckDB's several cuts of one state, ``quantile_disc(x, [a, b])``: an array of each.
        return exp.Array(
            expressions=[
                _percentile_disc(exp.PercentileDisc(this=value.copy(), expression=cut.copy()))
                for cut in q.expressions
            ]
        )
    rank = exp.func(
        "greatest",
        exp.Literal.number(1),
        exp.Cast(
            this=exp.Ceil(this=exp.Mul(this=exp.Count(this=value.copy()), expression=q)),
            to=exp.DataType.build("INT"),
        ),
    )
    return _fn("element_at", _fn("array_sort", _fn("collect_list", value)), rank)


def _approximate_percentiles(node: exp.Expr) -> exp.Expr:
    """Every percentile → ``percentile_approx(x, q, PERCENTILE_ACCURACY)`` (large inputs).

    Its rank error is at most n / PERCENTILE_ACCURACY (Greenwald-Khanna) in memory bounded
    by the accuracy, where the exact forms hold every value of a group.
    """
    if isinstance(node, exp.Median):
        node = exp.PercentileCont(this=node.this, expression=exp.Literal.number(0.5))
    if not isinstance(node, exp.PercentileCont | exp.PercentileDisc) or isinstance(
        node.parent, exp.WithinGroup
    ):
        return node
    q = node.expression
    approx = _fn("percentile_approx", node.this, q, exp.Literal.number(PERCENTILE_ACCURACY))
    if isinstance(node, exp.PercentileDisc):
        return approx  # a value of the column, as quantile_disc gives
    # quantile_cont is a double; percentile_approx returns the column's own type.
    kind = "ARRAY<DOUBLE>" if isinstance(q, exp.Array) else "DOUBLE"
    return exp.Cast(this=approx, to=exp.DataType.build(kind))


def has_percentiles(tree: exp.Expr) -> bool:
    """Whether ``tree`` computes a percentile (exact or approximate on Spark)."""
    return tree.find(exp.PercentileCont, exp.PercentileDisc, exp.Median) is not None


def _zip_unnests(node: exp.Expr) -> exp.Expr:
    """``SELECT unnest(a) AS x, unnest(b) AS y`` zips the lists on DuckDB: ``inline(arrays_zip)``.

    Spark would take the cross product of two generators in one select list.
    """
    if not isinstance(node, exp.Select):
        return node
    unnests = [
        p
        for p in node.expressions
        if isinstance(p, exp.Alias) and isinstance(p.this, exp.Explode | exp.Unnest)
    ]
    if len(unnests) < 2:
        return node
    lists = [
        p.this.this if isinstance(p.this, exp.Explode) else p.this.expressions[0] for p in unnests
    ]
    zipped = exp.Aliases(
        this=_fn("inline", _fn("arrays_zip", *lists)),
        expressions=[exp.to_identifier(p.alias) for p in unnests],
    )
    first = node.expressions.index(unnests[0])
    rest = [p for p in node.expressions if p not in unnests]
    node.set("expressions", [*rest[:first], zipped, *rest[first:]])
    return node


def _asof_join(node: exp.Expr) -> exp.Expr:
    """``a ASOF JOIN b ON a.k = b.k AND a.x >= b.y`` → a join on the interval [y, next y).

    Spark has no ASOF join. The right side gets each row's next ``y`` within its keys
    (``lead``), and the inequality becomes ``y <= x < next``: one match per left row, as on
    DuckDB, when ``y`` is unique within the keys (our SQL joins on line numbers).
    """
    if not isinstance(node, exp.Join) or (node.args.get("method") or "").upper() != "ASOF":
        return node
    on = node.args.get("on")
    if on is None:
        raise ValueError("ASOF join without ON has no Spark translation")
    right = node.this
    alias = right.alias_or_name
    keys: list[exp.Expr] = []
    bound: exp.Expr | None = None
    for cond in on.flatten() if isinstance(on, exp.And) else [on]:
        if isinstance(cond, exp.EQ):
            side = cond.expression if cond.expression.table == alias else cond.this
            keys.append(exp.column(side.name))
        elif isinstance(cond, exp.GTE | exp.GT | exp.LTE | exp.LT):
            bound = cond
    if bound is None:
        raise ValueError("ASOF join without an inequality has no Spark translation")
    # Normalise to ``left_expr OP right_col`` with OP in (>=, >): the right row at or before.
    left_x, right_y = bound.this, bound.expression
    if isinstance(bound, exp.LTE | exp.LT) or (
        isinstance(left_x, exp.Column) and left_x.table == alias
    ):
        left_x, right_y = right_y, left_x
    if not isinstance(bound, exp.GTE | exp.LTE) or left_x.table == alias:
        raise ValueError("only ASOF joins on left >= right translate to Spark")
    source = right.this if isinstance(right, exp.Subquery) else exp.table_(right.name)
    window = exp.Window(
        this=_fn("lead", exp.column(right_y.name)),
        partition_by=keys,
        order=exp.Order(expressions=[exp.Ordered(this=exp.column(right_y.name))]),
    )
    spans = exp.select("*", exp.alias_(window, "__asof_next")).from_(
        exp.Subquery(this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("__asof")))
        if isinstance(source, exp.Select | exp.SetOperation)
        else source.copy()
    )
    nxt = exp.column("__asof_next", table=alias)
    below = exp.or_(
        exp.Is(this=nxt, expression=exp.Null()), exp.LT(this=left_x.copy(), expression=nxt.copy())
    )
    node.set("this", exp.Subquery(this=spans, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    node.set("on", exp.and_(on.copy(), exp.Paren(this=below)))
    node.set("method", None)
    return node


def _qualify_aliases(node: exp.Expr) -> exp.Expr:
    """Name every computed column of a ``SELECT … QUALIFY`` (``_c1``, …) before sqlglot moves it.

    sqlglot turns QUALIFY into an outer query that selects the inner columns by name, and an
    unnamed literal (an inlined ``?``) would be re-read as SQL from its own text.
    """
    if not isinstance(node, exp.Select) or node.args.get("qualify") is None:
        return node
    seen: set[str] = set()
    for i, column in enumerate(node.expressions, start=1):
        if isinstance(column, exp.Star) or (
            isinstance(column, exp.Column) and isinstance(column.this, exp.Star)
        ):
            continue
        name = column.alias_or_name.lower() if isinstance(column, exp.Column | exp.Alias) else ""
        if not name or name in seen:
            # Unnamed, or a second ``source`` (x.source, r.source): ambiguous in the outer query.
            column.replace(exp.alias_(column.copy(), f"_c{i}"))
        else:
            seen.add(name)
    return node


# Window functions that read a neighbouring row: their result depends on the rows' order.
_NEIGHBOUR_FUNCTIONS = (exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue)


def _insertion_order(node: exp.Expr) -> exp.Expr:
    """A window that reads rows in insertion order (no ORDER BY) → ``ORDER BY line``.

    DuckDB runs ``lag(x) OVER ()`` and ``sum(x) OVER (ROWS UNBOUNDED PRECEDING)`` as streaming
    windows over the rows in the order they were inserted, which our SQL keeps as line order
    (the readers' passes over ``lines`` skip a sort of every line so). Spark has no insertion
    order and refuses such windows: they are ordered by ``line``, the order DuckDB keeps.
    """
    if not isinstance(node, exp.Window) or node.args.get("order") is not None:
        return node
    definition = isinstance(node.this, exp.Identifier)  # WINDOW w AS (…)
    if not definition and node.args.get("alias") is not None:
        return node  # OVER w: ordered (or not) where w is defined
    spec = node.args.get("spec")
    rows = spec is not None and (spec.args.get("kind") or "").upper() == "ROWS"
    if rows or (not definition and isinstance(node.this, _NEIGHBOUR_FUNCTIONS)):
        node.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column("line"))]))
    return node


def _map_literal(node: exp.Expr) -> exp.Expr:
    """``MAP {'k': v, …}`` → ``map('k', v, …)`` (sqlglot writes a struct after MAP).

    ``MAP {…}[key]`` (parsed as MAP around the lookup) → ``element_at(map(…), key)``.
    """
    if not isinstance(node, exp.ToMap):
        return node
    struct, key = node.this, None
    if isinstance(struct, exp.Bracket) and len(struct.expressions) == 1:
        struct, key = struct.this, struct.expressions[0]
    if not isinstance(struct, exp.Struct):
        return node
    pairs: list[exp.Expr] = []
    for field in struct.expressions:
        if not isinstance(field, exp.PropertyEQ):
            return node
        pairs += [field.this.copy(), field.expression.copy()]
    literal = _fn("map", *pairs)
    return literal if key is None else _fn("element_at", literal, key)


def _collapse_spaces(value: exp.Expr) -> exp.Expr:
    """DuckDB reads a run of spaces where a time has one (``2026-11-25  9:39:12``); Java not."""
    return _fn("regexp_replace", value, exp.Literal.string("  +"), exp.Literal.string(" "))


def _timestamptz(node: exp.Expr) -> exp.Expr:
    """``try_cast(s AS TIMESTAMPTZ)`` → ``TRY_CAST(s AS TIMESTAMP_LTZ)``, runs of spaces as one.

    sqlglot writes ``TIMESTAMP``, which this session reads as TIMESTAMP_NTZ
    (``spark.sql.timestampType``): the cast would drop the offset.
    """
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPTZ:
        return exp.DataType.build("TIMESTAMPLTZ")
    if (
        isinstance(node, exp.TryCast)
        and node.to.this == exp.DataType.Type.TIMESTAMPTZ
        and not isinstance(node.this, exp.Cast | exp.Literal)
    ):
        node.set("this", _collapse_spaces(node.this))
    return node


def _struct_unnest(node: exp.Expr) -> exp.Expr:
    """``SELECT unnest(g)`` of a struct column (its fields as columns) → ``SELECT g.*``.

    Our SQL names every unnest of a list (``unnest(l) AS x``): an unnamed one is a struct's.
    """
    if not isinstance(node, exp.Select):
        return node
    for column in node.expressions:
        if isinstance(column, exp.Explode | exp.Unnest) and not isinstance(column, exp.Alias):
            inner = column.this if isinstance(column, exp.Explode) else column.expressions[0]
            if isinstance(inner, exp.Column) and not inner.table:
                column.replace(exp.Column(this=exp.Star(), table=inner.this.copy()))
    return node


_DUCKDB = sqlglot.Dialect.get_or_raise("duckdb")


def _variant_path(path: exp.Expr) -> str | None:
    """A DuckDB JSON path as a variant path (every key quoted); None for a wildcard."""
    parsed = path if isinstance(path, exp.JSONPath) else _DUCKDB.to_json_path(path)
    if parsed is None:
        raise ValueError("a JSON function with a computed path has no Spark translation")
    text = ""
    for part in parsed.expressions:
        if isinstance(part, exp.JSONPathRoot):
            text += "$"
        elif isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
            text += "['" + part.this.replace("'", "\\'") + "']"  # any key, quoted
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int):
            text += f"[{part.this}]"
        else:  # a wildcard: a list of values, no single text
            return None
    return text


def _json_string(value: exp.Expr, path: exp.Expr) -> exp.Expr:
    """``json_extract_string(value, path)``: ``variant_get`` of the parsed value, as text.

    ``get_json_object`` writes numbers as Java does (``1.709835557872107E9`` for an epoch
    time); a variant keeps the number as written, as DuckDB does. But a variant sorts an
    object's keys: an object or a list is ``get_json_object``'s text, in the order written.
    """
    text = _variant_path(path)
    if text is None:
        parsed = path if isinstance(path, exp.JSONPath) else _DUCKDB.to_json_path(path)
        return exp.JSONExtractScalar(this=value, expression=parsed)
    subject, where = value.sql("spark"), exp.Literal.string(text).sql("spark")
    scalar = f"variant_get(try_parse_json({subject}), {where}, 'string')"
    # By the first character: a string value that starts so is the same text either way.
    return sqlglot.parse_one(
        f"CASE WHEN substr({scalar}, 1, 1) IN ('{{', '[') "
        f"THEN get_json_object({subject}, {where}) ELSE {scalar} END",
        read="spark",
    )


# DuckDB's json_type names from a variant's schema: integers are UBIGINT, or BIGINT when
# negative; other numbers DOUBLE; a JSON null 'NULL'; a missing path SQL NULL.
_JSON_TYPE = """element_at(transform(array({value}), v -> CASE
    WHEN v IS NULL THEN NULL
    WHEN schema_of_variant(v) LIKE 'OBJECT%' THEN 'OBJECT'
    WHEN schema_of_variant(v) LIKE 'ARRAY%' THEN 'ARRAY'
    WHEN schema_of_variant(v) = 'STRING' THEN 'VARCHAR'
    WHEN schema_of_variant(v) = 'VOID' THEN 'NULL'
    WHEN schema_of_variant(v) = 'BOOLEAN' THEN 'BOOLEAN'
    WHEN schema_of_variant(v) IN ('TINYINT', 'SMALLINT', 'INT', 'BIGINT')
         OR schema_of_variant(v) LIKE 'DECIMAL(%,0)'
        THEN CASE WHEN startswith(to_json(v), '-') THEN 'BIGINT' ELSE 'UBIGINT' END
    ELSE 'DOUBLE' END), 1)"""


def _json_type_of(value: exp.Expr, path: exp.Expr | None) -> exp.Expr:
    parsed = _fn("try_parse_json", value.copy())
    if path is not None:
        text = _variant_path(path)
        if text is None:
            raise ValueError("json_type with a wildcard path has no Spark translation")
        parsed = _fn("variant_get", parsed, exp.Literal.string(text))
    return sqlglot.parse_one(_JSON_TYPE.format(value=parsed.sql("spark")), read="spark")


def _json_type(node: exp.Expr) -> exp.Expr:
    """``json_type(s[, path | [paths]])`` → DuckDB's type name from ``schema_of_variant``."""
    if not isinstance(node, exp.JSONType):
        return node
    paths = node.expression
    if isinstance(paths, exp.Array):
        return exp.Array(expressions=[_json_type_of(node.this, p) for p in paths.expressions])
    return _json_type_of(node.this, paths)


def _json_list(node: exp.Expr) -> exp.Expr:
    """``json_extract(s, '$.a[*]')`` → each element's JSON text, ``[]`` when no list is there.

    As in ``json-map``: strings quoted, a JSON null ``'null'``, objects and lists as
    ``from_json`` reads them as text (key order and numbers as written).
    """
    if not isinstance(node, exp.JSONExtract) or not isinstance(node.expression, exp.JSONPath):
        return node
    parts = node.expression.expressions
    wildcard = [
        isinstance(p, exp.JSONPathSubscript) and isinstance(p.this, exp.JSONPathWildcard)
        for p in parts
    ]
    if not any(wildcard):
        return node
    if wildcard.index(True) != len(parts) - 1:
        raise ValueError("json_extract with a wildcard before the end has no Spark translation")
    where = _variant_path(exp.JSONPath(expressions=[p.copy() for p in parts[:-1]]))
    subject = node.this.sql("spark")
    path = exp.Literal.string(where or "$").sql("spark")
    return sqlglot.parse_one(
        f"coalesce(zip_with(from_json(get_json_object({subject}, {path}), 'array<string>'), "
        f"try_variant_get(try_parse_json({subject}), {path}, 'array<variant>'), "
        "(t, v) -> CASE WHEN is_variant_null(v) THEN 'null' "
        "WHEN schema_of_variant(v) = 'STRING' THEN to_json(v) ELSE t END), array())",
        read="spark",
    )


def _unnest_subscripts(node: exp.Expr) -> exp.Expr:
    """``unnest(l) AS x, generate_subscripts(l, 1) AS i`` → ``inline(…) AS (x, i)``.

    Each element with its 1-based position, in one generator (Spark has no
    generate_subscripts); both columns take the place of the unnest.
    """
    if not isinstance(node, exp.Select):
        return node
    for sub in list(node.expressions):
        call = sub.this if isinstance(sub, exp.Alias) else None
        if not (isinstance(call, exp.Anonymous) and call.name.lower() == "generate_subscripts"):
            continue
        listed = call.expressions[0]
        for unnest in node.expressions:
            inner = unnest.this if isinstance(unnest, exp.Alias) else None
            if isinstance(inner, exp.Explode | exp.Unnest):
                values = inner.this if isinstance(inner, exp.Explode) else inner.expressions[0]
                if values == listed:
                    break
        else:
            raise ValueError("generate_subscripts without the unnest of its list")
        pairs = sqlglot.parse_one(
            "inline(transform(__list, (e, n) -> struct(e, n + 1)))", read="spark"
        )
        # The list stays a tree: the later rules (JSON paths…) still translate it.
        for placeholder in pairs.find_all(exp.Column):
            if placeholder.name == "__list":
                placeholder.replace(listed.copy())
        both = exp.Aliases(
            this=pairs, expressions=[exp.to_identifier(unnest.alias), exp.to_identifier(sub.alias)]
        )
        node.set(
            "expressions", [both if p is unnest else p for p in node.expressions if p is not sub]
        )
    return node


def _hugeint(node: exp.Expr) -> exp.Expr:
    """``HUGEINT`` (128-bit) → ``DECIMAL(38, 0)``: Spark's widest integer."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("DECIMAL(38, 0)")
    return node


def _try_from_base64(node: exp.Expr) -> exp.Expr:
    """``try(from_base64(s))`` → ``try_to_binary(s, 'base64')`` (Spark has no general try)."""
    if isinstance(node, exp.Try) and isinstance(node.this, exp.FromBase64):
        return _fn("try_to_binary", node.this.this, exp.Literal.string("base64"))
    return node


def _json_map(node: exp.Expr) -> exp.Expr:
    """``try_cast(s AS MAP(VARCHAR, JSON))`` → a map of each top-level key to its JSON text.

    A JSON null is SQL NULL. A string value is its JSON (quoted) text; other values are
    written as ``from_json`` reads them as text, which, as DuckDB, keeps a nested ``2.0``
    (a variant's ``to_json`` writes ``2``).
    """
    if not isinstance(node, exp.Cast):
        return node
    to = node.to
    if to.this != exp.DataType.Type.MAP or [t.this for t in to.expressions] != [
        exp.DataType.Type.TEXT,
        exp.DataType.Type.JSON,
    ]:
        return node
    value = node.this.sql("spark")
    return sqlglot.parse_one(
        f"map_zip_with(from_json({value}, 'map<string,string>'), "
        f"try_variant_get(try_parse_json({value}), '$', 'map<string,variant>'), "
        "(k, t, v) -> CASE WHEN v IS NULL OR is_variant_null(v) THEN NULL "
        "WHEN schema_of_variant(v) = 'STRING' THEN to_json(v) ELSE t END)",
        read="spark",
    )


def _json(node: exp.Expr) -> exp.Expr:
    """``json_extract_string(s, path | [paths])`` → ``variant_get`` per path; ``json_valid``.

    ``try(…)`` around an extraction goes: a text that is no JSON gives NULL. ``json_valid(s)``
    is ``try_parse_json(s) IS NOT NULL``.
    """
    if isinstance(node, exp.Try) and isinstance(node.this, exp.JSONExtract | exp.JSONExtractScalar):
        node = node.this
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_valid":
        parsed = _fn("try_parse_json", *node.expressions)
        return exp.Not(this=exp.Is(this=parsed, expression=exp.Null()))
    if isinstance(node, exp.JSONExtractScalar):
        paths = node.expression
        if isinstance(paths, exp.Array):
            return exp.Array(expressions=[_json_string(node.this, p) for p in paths.expressions])
        return _json_string(node.this, paths)
    if isinstance(node, exp.JSONExtract) and isinstance(node.expression, exp.Array):
        return exp.Array(
            expressions=[
                exp.JSONExtract(this=node.this.copy(), expression=_DUCKDB.to_json_path(p))
                for p in node.expression.expressions
            ]
        )
    return node


def _json_cast(node: exp.Expr) -> exp.Expr:
    """``s::JSON`` → ``s``: on Spark a JSON value stays text, as DuckDB's JSON type is.

    sqlglot writes ``to_json(s)``, which serializes a struct, map or variant (a string is an
    error); every JSON function above parses the text it reads, as DuckDB's do.
    """
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.JSON:
        value: exp.Expr = node.this
        return value
    return node


def _left_negative(node: exp.Expr) -> exp.Expr:
    """``left(s, -n)`` is all but the last n characters on DuckDB, '' on Spark: ``substr``."""
    if isinstance(node, exp.Left) and isinstance(node.expression, exp.Neg):
        keep = exp.Sub(this=exp.Length(this=node.this.copy()), expression=node.expression.this)
        length = exp.func("greatest", keep, exp.Literal.number(0))
        return exp.Substring(this=node.this, start=exp.Literal.number(1), length=length)
    return node


_INTEGERS = (
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT,
)


def _round_to_integer(node: exp.Expr) -> exp.Expr:
    """``CAST(x * 1e6 AS BIGINT)`` rounds (half to even) on DuckDB, truncates on Spark: ``bround``.

    Only arithmetic (or a CASE of it) is rounded: a cast of text keeps its digits (an id of
    19 digits would lose them through a double).
    """
    if not isinstance(node, exp.Cast) or not node.to.is_type(*_INTEGERS):
        return node
    value = node.this
    while isinstance(value, exp.Paren):
        value = value.this
    branches = [value]
    if isinstance(value, exp.Case):
        branches = [i.args["true"] for i in value.args.get("ifs") or []] + [
            d for d in [value.args.get("default")] if d is not None
        ]
    if any(isinstance(b, exp.Mul | exp.Div) for b in branches):
        node.set("this", _fn("bround", node.this))
    return node


def _cte_materialized(node: exp.Expr) -> exp.Expr:
    """``WITH t AS MATERIALIZED (…)`` is a DuckDB hint; Spark plans CTEs itself."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


def _time_range(node: exp.Expr) -> exp.Expr:
    """``range(t0, t1, INTERVAL …)`` → ``sequence(t0, t1 - step, step)`` (empty when t0 > end).

    sqlglot's translation compares the interval step with 0, which Spark refuses.
    """
    if not isinstance(node, exp.GenerateSeries) or not _is_interval(node.args.get("step")):
        return node
    start, end, step = node.args["start"], node.args["end"], node.args["step"]
    if node.args.get("is_end_exclusive"):
        end = exp.Sub(this=exp.Paren(this=end), expression=step.copy())
    empty = exp.GT(this=start.copy(), expression=end.copy())
    series = _fn("sequence", start, end, step)
    return exp.If(this=empty, true=exp.Array(expressions=[]), false=series)


_UNIT_MICROS = {
    "MICROSECOND": 1,
    "MILLISECOND": 1000,
    "SECOND": 1_000_000,
    "MINUTE": 60_000_000,
    "HOUR": 3_600_000_000,
    "DAY": 86_400_000_000,
}
# DuckDB's time_bucket origin for sub-month widths: Monday 2000-01-03 00:00 UTC.
_BUCKET_ORIGIN_MICROS = 946_857_600_000_000


def _step_micros(step: exp.Expr) -> exp.Expr | None:
    if isinstance(step, exp.Interval) and step.unit is not None:
        unit = step.unit.name.upper().rstrip("S")
        if unit in _UNIT_MICROS:
            return exp.Mul(
                this=exp.Cast(this=step.this.copy(), to=exp.DataType.build("BIGINT")),
                expression=exp.Literal.number(_UNIT_MICROS[unit]),
            )
    if isinstance(step, exp.Anonymous) and step.name.lower() in ("to_seconds", "to_microseconds"):
        scale = 1_000_000 if step.name.lower() == "to_seconds" else 1
        # A BIGINT factor: an INT number of seconds times 1e6 overflows INT on Spark.
        factor = exp.Cast(this=exp.Literal.number(scale), to=exp.DataType.build("BIGINT"))
        return exp.Cast(
            this=exp.Mul(this=exp.Paren(this=step.expressions[0].copy()), expression=factor),
            to=exp.DataType.build("BIGINT"),
        )
    return None


def _time_bucket(node: exp.Expr) -> exp.Expr:
    """``time_bucket(width, ts)`` → ``ts`` floored to the width, from DuckDB's origin."""
    if not isinstance(node, exp.DateBin):
        return node
    width = _step_micros(node.this)
    if width is None:
        raise ValueError("time_bucket needs a width of days or less for Spark")
    micros = _micros(node.expression.copy())
    offset = exp.Sub(this=micros, expression=exp.Literal.number(_BUCKET_ORIGIN_MICROS))
    floored = exp.Sub(this=micros.copy(), expression=_fn("pmod", offset, exp.Paren(this=width)))
    return exp.Cast(this=_fn("timestamp_micros", floored), to=exp.DataType.build("TIMESTAMPNTZ"))


def _epoch(node: exp.Expr) -> exp.Expr:
    """``epoch(ts)`` is fractional seconds; sqlglot's UNIX_TIMESTAMP would cut to whole ones."""
    if not isinstance(node, exp.TimeToUnix):
        return node
    value = node.this
    while isinstance(value, exp.Paren):
        value = value.this
    if isinstance(value, exp.Sub) and not _is_interval(value.expression):
        # epoch(a - b) of two times is an interval's seconds: Spark has no epoch of an interval.
        micros: exp.Expr = exp.Sub(this=_micros(value.this), expression=_micros(value.expression))
    else:
        micros = _micros(value)
    return exp.Div(this=exp.Paren(this=micros), expression=exp.Literal.number("1000000.0"))


def _micros(value: exp.Expr) -> exp.Expr:
    # unix_micros wants an instant; our times are UTC wall-clock (TIMESTAMP_NTZ), session UTC.
    ltz = exp.Cast(this=value, to=exp.DataType.build("TIMESTAMPLTZ"))
    return _fn("unix_micros", ltz)


def _is_interval(node: exp.Expr | None) -> bool:
    names = ("to_microseconds", "to_milliseconds", "to_seconds", "to_minutes", "to_hours")
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Coalesce):
        # coalesce(to_microseconds(n), INTERVAL 0 SECOND): an interval when its values are.
        return all(_is_interval(v) for v in [node.this, *node.expressions])
    return isinstance(node, exp.Interval) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in names
    )


# DuckDB's to_<unit>(n) as seconds: to_microseconds(n) is n / 1e6 seconds.
_INTERVAL_SECONDS = {
    "to_microseconds": "/ 1000000",
    "to_milliseconds": "/ 1000",
    "to_seconds": "",
    "to_minutes": "* 60",
    "to_hours": "* 3600",
}


def _interval_functions(node: exp.Expr) -> exp.Expr:
    """``to_microseconds(n)`` … ``to_hours(n)`` → ``make_dt_interval(0, 0, 0, seconds)``."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in _INTERVAL_SECONDS:
        # sqlglot's transform does not descend into a replaced node: nested ones here.
        value = node.expressions[0].transform(_interval_functions, copy=False)
        seconds: exp.Expr = exp.Cast(this=value, to=exp.DataType.build("DECIMAL(18,6)"))
        scale = _INTERVAL_SECONDS[node.name.lower()]
        if scale:
            op = exp.Div if scale[0] == "/" else exp.Mul
            seconds = op(this=seconds, expression=exp.Literal.number(scale[2:]))
        return _fn("make_dt_interval", *(exp.Literal.number(0) for _ in range(3)), seconds)
    return node


# strftime (DuckDB) → java.time pattern (Spark); %z gets two patterns, see _try_strptime.
_STRFTIME = {
    "%Y": "yyyy",
    "%m": "MM",
    "%d": "dd",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%b": "MMM",
    "%B": "MMMM",
    "%a": "EEE",
    "%A": "EEEE",
    "%y": "yy",
    "%j": "DDD",
    "%f": "SSSSSS",
    "%g": "SSS",
    "%n": "SSSSSSSSS",
    "%p": "a",
    "%I": "hh",
    "%Z": "zzz",
    "%z": "Z",
    "%-d": "d",
    "%-m": "M",
    "%-H": "H",
    "%e": "d",
    "%%": "%",
}


# DuckDB's strptime reads one or two digits for these (`9:39:12`); java.time's `HH` needs
# two, `H` takes either. Only where text follows: `%y%m%d` needs its fixed widths.
_ONE_OR_TWO_DIGITS = {"%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s", "%I": "h"}


# A leading weekday as DuckDB's ``%a`` reads it (any case), replaced by nothing: a text without
# one no longer matches the rest of the pattern (it begins with what followed ``%a``).
_WEEKDAY = exp.Literal.string("^(?i:Mon|Tue|Wed|Thu|Fri|Sat|Sun)")


def java_time_format(strftime: str, zone: str = "Z") -> str:
    """A strftime pattern as a java.time pattern for parsing, literal text quoted.

    ``%z`` becomes ``zone``.
    """
    out: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(strftime):
        key = strftime[i : i + 3] if strftime[i : i + 2] == "%-" else strftime[i : i + 2]
        if key in _STRFTIME:
            if literal:
                out.append("'" + "".join(literal).replace("'", "''") + "'")
                literal = []
            following = strftime[i + len(key) : i + len(key) + 1]
            if key in _ONE_OR_TWO_DIGITS and following not in ("%", ""):
                out.append(_ONE_OR_TWO_DIGITS[key])
            else:
                out.append(zone if key == "%z" else _STRFTIME[key])
            i += len(key)
        else:
            literal.append(strftime[i])
            i += 1
    if literal:
        out.append("'" + "".join(literal).replace("'", "''") + "'")
    return "".join(out)


def _try_strptime(node: exp.Expr) -> exp.Expr:
    """``try_strptime(s, fmt | [fmts])`` → ``coalesce(to_timestamp(s, java_fmt), …)``.

    DuckDB's ``%z`` takes ``+0000`` and ``+00:00``; java.time needs ``Z`` or ``XXX``: both.
    DuckDB's numbers take one digit or two (``java_time_format``), its spaces a run of them.
    A leading weekday (``%a``) is checked and dropped: Spark parses no day-of-week (``EEE``).
    """
    if not (isinstance(node, exp.Anonymous) and node.name.lower() in ("try_strptime", "strptime")):
        return node
    value, formats = node.expressions[0], node.expressions[1]
    items = formats.expressions if isinstance(formats, exp.Array) else [formats]
    if any(isinstance(item, exp.Literal) and " " in item.this for item in items):
        value = _collapse_spaces(value)  # a space of the format matches a run of them
    parsed: list[exp.Expr] = []
    for item in items:
        if not isinstance(item, exp.Literal):
            raise ValueError("strptime with a computed format has no Spark translation")
        text, subject = item.this, value
        if text.startswith("%a"):
            text, subject = (
                text[2:],
                _fn("regexp_replace", value.copy(), _WEEKDAY, exp.Literal.string("")),
            )
        zones = ("Z", "XXX") if "%z" in text else ("Z",)
        parsed += [
            # to_timestamp_ltz honours the offset (an instant); the session zone is UTC.
            _fn("to_timestamp_ltz", subject.copy(), exp.Literal.string(java_time_format(text, z)))
            for z in zones
        ]
    return exp.Coalesce(this=parsed[0], expressions=parsed[1:]) if len(parsed) > 1 else parsed[0]


def _try_url_decode(node: exp.Expr) -> exp.Expr:
    """``try(url_decode(s))`` → ``try_url_decode(s)`` (Spark has no general ``try``)."""
    if (
        isinstance(node, exp.Try)
        and isinstance(node.this, exp.Anonymous)
        and node.this.name.lower() == "url_decode"
    ):
        return _fn("try_url_decode", *node.this.expressions)
    return node


def _distinct_string_agg(node: exp.Expr) -> exp.Expr:
    """``string_agg(DISTINCT x, sep ORDER BY x)`` → ``array_join(array_sort(collect_set(x)), sep)``.

    Spark 4.0's ``listagg(DISTINCT …) WITHIN GROUP`` fails inside the optimizer
    (ClassCastException); sorting the distinct values is the same result.
    """
    if not isinstance(node, exp.GroupConcat):
        return node
    inner = node.this
    order = inner if isinstance(inner, exp.Order) else None
    distinct = order.this if order is not None else inner
    if not isinstance(distinct, exp.Distinct) or len(distinct.expressions) != 1:
        return node
    value = distinct.expressions[0]
    if order is not None and [o.this for o in order.expressions] != [value]:
        return node  # ordered by something else: left to sqlglot
    separator = node.args.get("separator") or exp.Literal.string(",")
    joined = _fn("array_join", _fn("array_sort", _fn("collect_set", value.copy())), separator)
    # No value at all is NULL on DuckDB, an empty string from array_join.
    some = exp.GT(this=exp.Count(this=value), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=some, true=joined)])


def _map_concat(node: exp.Expr) -> exp.Expr:
    """``map_concat(a, b)`` skips a NULL map on DuckDB; Spark's is NULL: ``coalesce`` it.

    Duplicate keys: the last wins on both (the session sets ``mapKeyDedupPolicy``).
    """
    if isinstance(node, exp.Anonymous) and node.name.lower() == "map_concat":
        maps = node.expressions
        if len(maps) == 2 and not node.args.get("__coalesced"):
            joined = _fn("map_concat", *(m.copy() for m in maps))
            joined.set("__coalesced", True)
            return exp.Coalesce(this=joined, expressions=[m.copy() for m in maps])
    return node


def _strlen(node: exp.Expr) -> exp.Expr:
    """``strlen(s)`` (bytes) → ``octet_length(s)``."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "strlen":
        return _fn("octet_length", *node.expressions)
    return node


def _md5_number(node: exp.Expr) -> exp.Expr:
    """``md5_number(s)`` (a 128-bit integer) is only ever a join key: ``md5(s)`` serves."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "md5_number":
        return exp.MD5(this=node.expressions[0])
    return node


def _count_distinct_tuple(node: exp.Expr) -> exp.Expr:
    """``count(DISTINCT (a, b))`` counts NULL fields too: ``count(DISTINCT struct(a, b))``."""
    if isinstance(node, exp.Tuple) and isinstance(node.parent, exp.Distinct):
        return exp.Struct(expressions=list(node.expressions))
    return node


def _list_sum(node: exp.Expr) -> exp.Expr:
    """``list_sum(l)`` → ``aggregate(l, 0D, (a, x) -> a + x)`` (NULL elements skipped)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_sum":
        return sqlglot.parse_one(
            f"aggregate({node.expressions[0].sql('spark')}, CAST(0 AS DOUBLE), "
            "(acc, x) -> acc + coalesce(x, 0))",
            read="spark",
        )
    return node


_LIST_AGGREGATES = {
    "list_bool_or": "exists({l}, x -> x)",
    "list_bool_and": "forall({l}, x -> x)",
    "list_max": "array_max({l})",
    "list_min": "array_min({l})",
    "list_has_any": "arrays_overlap({l}, {r})",
    "list_count": "size(filter({l}, x -> x IS NOT NULL))",
}


def _list_aggregates(node: exp.Expr) -> exp.Expr:
    """``list_bool_or(l)`` → ``exists(l, x -> x)`` and the other list aggregates sqlglot leaves."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in _LIST_AGGREGATES:
        args = [to_spark(a) for a in node.expressions]
        template = _LIST_AGGREGATES[node.name.lower()]
        return sqlglot.parse_one(
            template.format(l=args[0], r=args[1] if len(args) > 1 else ""), read="spark"
        )
    return node


def _list_position(node: exp.Expr) -> exp.Expr:
    """``list_position`` is NULL when absent; Spark's ``array_position`` is 0."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("list_position", "list_indexof"):
        return exp.Nullif(
            this=_fn("array_position", *node.expressions), expression=exp.Literal.number(0)
        )
    return node


def _histogram(node: exp.Expr) -> exp.Expr:
    """``histogram(x)`` (value → count map) has no Spark aggregate: built from a value list.

    Counting each distinct value in the list is quadratic in distinct values: histogram is
    used on small domains (status codes) only.
    """
    where = ""
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.Anonymous):
        # histogram(x) FILTER (WHERE c): the filter belongs to the inner collect_list.
        where = f" FILTER({node.expression.sql('spark')})"
        node = node.this
    if isinstance(node, exp.Anonymous) and node.name.lower() == "histogram":
        values = f"collect_list({to_spark(node.expressions[0])}){where}"
        return sqlglot.parse_one(
            f"map_from_entries(transform(array_distinct({values}), "
            f"v -> struct(v, CAST(size(filter({values}, e -> e = v)) AS BIGINT))))",
            read="spark",
        )
    return node


def _deterministic_mode(node: exp.Expr) -> exp.Expr:
    """``mode(x ORDER BY x)`` (the smallest of tied values) → Spark's ``mode(x, true)``.

    A plain ``mode`` picks among ties by thread order: evidence would change run to run.
    """
    if not isinstance(node, exp.Mode) or not isinstance(node.this, exp.Order):
        return node
    order = node.this
    keys = order.expressions
    if len(keys) != 1 or keys[0].args.get("desc") or keys[0].this != order.this:
        return node
    return _fn("mode", order.this.copy(), exp.true())


RULES: tuple[Rule, ...] = (
    # Before interval-functions: they read to_seconds(n) widths.
    Rule(
        "time-bucket",
        "time_bucket(INTERVAL 1 MINUTE, ts)",
        "timestamp_micros(us - pmod(us - origin, width))",
        _time_bucket,
    ),
    Rule(
        "time-range",
        "range(t0, t1, INTERVAL 1 SECOND)",
        "sequence(t0, t1 - INTERVAL 1 SECOND, INTERVAL 1 SECOND)",
        _time_range,
    ),
    Rule("regexp-flags", "regexp_matches(s, p, 'i')", "s RLIKE '(?i)p'", _regexp_flags),
    Rule("regexp-full-match", "regexp_full_match(s, p)", "s RLIKE '^(?:p)$'", _regexp_full_match),
    Rule(
        "regexp-replace",
        "regexp_replace(s, '(a)', '\\1', 'g'), regexp_replace(s, 'a', 'b')",
        "regexp_replace(s, '(a)', '$1'), regexp_replace(s, '(?s:^(.*?))(a)', '$1b')",
        _regexp_replace,
    ),
    Rule(
        "regexp-extract-groups",
        "regexp_extract(s, p, ['a', 'b'])",
        "named_struct('a', regexp_extract(s, p, 1), 'b', regexp_extract(s, p, 2))",
        _regexp_extract_groups,
    ),
    Rule(
        "regexp-extract-all-group",
        "regexp_extract_all(s, p)",
        "regexp_extract_all(s, p, 0)",
        _regexp_extract_all_group,
    ),
    # Before the index rules: a lookup in a map literal is no list index.
    Rule("map-literal", "MAP {'k': v}", "map('k', v)", _map_literal),
    Rule("text-index", "split_part(s, ' ', 3)[2:3]", "substr(split_part(…), 2, 2)", _text_index),
    Rule("lambda-index", "(x, i) -> l[i]", "(x, i) -> l[(i + 1)]", _lambda_index),
    Rule("list-slice", "l[2:-1]", "slice(l, 2, size(l) - 2)", _list_slice),
    Rule("percentile", "quantile_cont(x, q)", "percentile(x, q)", _percentiles),
    Rule(
        "percentile-disc",
        "quantile_disc(x, q) (or a list of q: an array of each)",
        "element_at(array_sort(collect_list(x)), greatest(1, ceil(count(x) * q)))",
        _percentile_disc,
    ),
    Rule("epoch", "epoch(ts)", "unix_micros(ts) / 1e6", _epoch),
    Rule(
        "interval-functions",
        "to_microseconds(n)",
        "make_dt_interval(0, 0, 0, n / 1e6)",
        _interval_functions,
    ),
    Rule("try-strptime", "try_strptime(s, '%z')", "to_timestamp(s, 'Z') or 'XXX'", _try_strptime),
    Rule("try-url-decode", "try(url_decode(s))", "try_url_decode(s)", _try_url_decode),
    Rule(
        "try-from-base64",
        "try(from_base64(s))",
        "try_to_binary(s, 'base64')",
        _try_from_base64,
    ),
    Rule("hugeint", "CAST(s AS HUGEINT)", "CAST(s AS DECIMAL(38, 0))", _hugeint),
    Rule(
        "distinct-string-agg",
        "string_agg(DISTINCT x, ', ' ORDER BY x)",
        "array_join(array_sort(collect_set(x)), ', ')",
        _distinct_string_agg,
    ),
    Rule("map-concat", "map_concat(a, b)", "coalesce(map_concat(a, b), a, b)", _map_concat),
    Rule("strlen", "strlen(s)", "octet_length(s)", _strlen),
    Rule("md5-number", "md5_number(s)", "md5(s)", _md5_number),
    Rule(
        "count-distinct-tuple",
        "count(DISTINCT (a, b))",
        "count(DISTINCT struct(a, b))",
        _count_distinct_tuple,
    ),
    Rule("list-sum", "list_sum(l)", "aggregate(l, 0D, (a, x) -> a + x)", _list_sum),
    Rule("list-aggregates", "list_bool_or(l)", "exists(l, x -> x)", _list_aggregates),
    Rule(
        "qualify-aliases",
        "SELECT ?, a FROM t QUALIFY row_number() OVER () <= 2",
        "SELECT _c1, a FROM (SELECT 'x' AS _c1, a, row_number() … ) WHERE …",
        _qualify_aliases,
    ),
    Rule("list-index", "l[n]", "element_at(l, n)", _list_index),
    Rule(
        "unnest-subscripts",
        "SELECT unnest(l) AS x, generate_subscripts(l, 1) AS i",
        "SELECT inline(transform(l, (e, n) -> struct(e, n + 1))) AS (x, i)",
        _unnest_subscripts,
    ),
    Rule(
        "zip-unnests",
        "SELECT unnest(a) AS x, unnest(b) AS y",
        "SELECT inline(arrays_zip(a, b)) AS (x, y)",
        _zip_unnests,
    ),
    Rule(
        "asof-join",
        "a ASOF LEFT JOIN b ON a.k = b.k AND a.x >= b.y",
        "a LEFT JOIN (SELECT *, lead(y) OVER (PARTITION BY k ORDER BY y) AS n FROM b) b "
        "ON a.k = b.k AND a.x >= b.y AND (b.n IS NULL OR a.x < b.n)",
        _asof_join,
    ),
    Rule(
        "insertion-order",
        "lag(x) OVER (), sum(x) OVER (ROWS UNBOUNDED PRECEDING)",
        "lag(x) OVER (ORDER BY line), sum(x) OVER (ORDER BY line ROWS …)",
        _insertion_order,
    ),
    Rule("timestamptz", "try_cast(s AS TIMESTAMPTZ)", "TRY_CAST(s AS TIMESTAMP_LTZ)", _timestamptz),
    Rule("struct-unnest", "SELECT unnest(g) FROM x", "SELECT g.* FROM x", _struct_unnest),
    # Before the other JSON rules: they write their argument as Spark SQL text.
    Rule("json-cast", "s::JSON", "s", _json_cast),
    Rule(
        "json-type",
        "json_type(s, '$.a')",
        "CASE schema_of_variant(variant_get(try_parse_json(s), '$.a')) … END",
        _json_type,
    ),
    Rule(
        "json-map",
        "try_cast(s AS MAP(VARCHAR, JSON))",
        "map_zip_with(from_json(s, 'map<string,string>'), try_variant_get(…), …)",
        _json_map,
    ),
    Rule(
        "json",
        "try(json_extract_string(s, ['$.a', '$.\"b\"'])), json_valid(s)",
        "array(variant_get(try_parse_json(s), '$[''a'']', 'string'), …), "
        "try_parse_json(s) IS NOT NULL",
        _json,
    ),
    # After json: the get_json_object it writes is final.
    Rule(
        "json-list",
        "json_extract(s, '$.a[*]')",
        "coalesce(zip_with(from_json(get_json_object(s, '$.a'), 'array<string>'), …), array())",
        _json_list,
    ),
    Rule(
        "left-negative", "left(s, -2)", "substr(s, 1, greatest(length(s) - 2, 0))", _left_negative
    ),
    Rule(
        "round-to-integer",
        "(x * 1000000)::BIGINT",
        "CAST(bround(x * 1000000) AS BIGINT)",
        _round_to_integer,
    ),
    Rule("cte-materialized", "WITH t AS MATERIALIZED (q)", "WITH t AS (q)", _cte_materialized),
    Rule("list-position", "list_position(l, x)", "nullif(array_position(l, x), 0)", _list_position),
    Rule("histogram", "histogram(x)", "aggregate(collect_list(x), map(), …)", _histogram),
    Rule("deterministic-mode", "mode(x ORDER BY x)", "mode(x, true)", _deterministic_mode),
)


Columns = Callable[[str], list[str] | None]


def expand_star_replace(tree: exp.Expr, columns: Columns) -> exp.Expr:
    """``SELECT t.* REPLACE (e AS c)`` → every column of ``t`` by name, ``e AS c`` in c's place.

    Spark has ``* EXCEPT`` but no ``* REPLACE`` and no ``UNION BY NAME``, and both need the
    schema: tables from ``columns(name)`` (None when unknown), CTEs and subqueries from their
    own select lists. ``UNION [ALL] BY NAME`` becomes a positional union of the same columns.
    """
    replaces = any(s.args.get("replace") for s in tree.find_all(exp.Star))
    if not replaces and not any(u.args.get("by_name") for u in tree.find_all(exp.SetOperation)):
        return tree
    for query in tree.find_all(exp.Select, exp.SetOperation, bfs=False):
        if query.parent is None or isinstance(query.parent, exp.Insert | exp.Create):
            _expand_query(query, {}, columns)
    return tree


def _expand_query(query: exp.Expr, ctes: dict[str, list[str]], columns: Columns) -> list[str]:
    """Expand REPLACE stars in ``query`` (CTEs and subqueries first); its output column names."""
    with_ = query.args.get("with_")
    if with_ is not None:
        ctes = dict(ctes)
        for cte in with_.expressions:
            ctes[cte.alias_or_name.lower()] = _expand_query(cte.this, ctes, columns)
    if isinstance(query, exp.SetOperation):
        left = _expand_query(query.this, ctes, columns)
        right = _expand_query(query.expression, ctes, columns)
        if query.args.get("by_name"):
            return _union_by_position(query, left, right)
        return left or right
    if isinstance(query, exp.Subquery):
        return _expand_query(query.this, ctes, columns)
    if not isinstance(query, exp.Select):
        return []
    sources: dict[str, list[str]] = {}
    joins = query.args.get("joins") or []
    from_ = query.args.get("from_")
    for source in ([from_.this] if from_ is not None else []) + [j.this for j in joins]:
        if isinstance(source, exp.Table):
            names = ctes.get(source.name.lower())
            if names is None:
                names = columns(source.name) or []
        elif isinstance(source, exp.Subquery):
            names = _expand_query(source.this, ctes, columns)
        else:
            names = []
        sources[source.alias_or_name.lower()] = names
    out: list[exp.Expr] = []
    for projection in query.expressions:
        star = projection.this if isinstance(projection, exp.Column) else projection
        if not isinstance(star, exp.Star) or not star.args.get("replace"):
            out.append(projection)
            continue
        table = projection.table if isinstance(projection, exp.Column) else ""
        names = sources.get(table.lower(), []) if table else _all(sources)
        if not names:
            raise ValueError(f"cannot expand {projection.sql('duckdb')[:60]}: unknown columns")
        replaced = {a.alias.lower(): a for a in star.args["replace"]}
        excluded = {c.name.lower() for c in star.args.get("except_") or []}
        for name in names:
            if name.lower() in excluded:
                continue
            given = replaced.get(name.lower())
            out.append(given.copy() if given else exp.column(name, table=table or None))
    query.set("expressions", out)
    names = []
    for e in out:
        star = e.this if isinstance(e, exp.Column) else e
        if isinstance(star, exp.Star):
            # A plain star passes its sources' columns on (EXCEPT is rare after a REPLACE).
            table = e.table if isinstance(e, exp.Column) else ""
            names += sources.get(table.lower(), []) if table else _all(sources)
        else:
            names.append(e.alias_or_name)
    return names


def _union_by_position(union: exp.SetOperation, left: list[str], right: list[str]) -> list[str]:
    """Both sides of a BY NAME union select every column of either, in one order."""
    if not left or not right:
        raise ValueError("cannot translate UNION BY NAME: unknown columns")
    names = left + [n for n in right if n.lower() not in {m.lower() for m in left}]
    for key, have in (("this", left), ("expression", right)):
        if [n.lower() for n in have] == [n.lower() for n in names]:
            continue
        present = {n.lower() for n in have}
        side = exp.select(
            *(exp.column(n) if n.lower() in present else exp.alias_(exp.null(), n) for n in names)
        ).from_(
            exp.Subquery(
                this=union.args[key], alias=exp.TableAlias(this=exp.to_identifier("__by_name"))
            )
        )
        union.set(key, side)
    union.set("by_name", None)
    return names


def _all(sources: dict[str, list[str]]) -> list[str]:
    return [n for names in sources.values() for n in names]


def parse(sql: str, params: Sequence[Any] = ()) -> exp.Expr:
    """One DuckDB statement, parameters inlined, as a sqlglot tree."""
    tree = sqlglot.parse_one(prepare(sql, params), read="duckdb")
    if tree is None:
        raise ValueError("empty statement")
    return tree


APPROXIMATE = Rule(
    "approximate-percentiles",
    "quantile_cont(x, q)",
    "CAST(percentile_approx(x, q, 10000) AS DOUBLE)",
    _approximate_percentiles,
)


def rewrite(tree: exp.Expr, approximate: bool = False) -> exp.Expr:
    """Apply every rule to every node of ``tree``; ``approximate`` percentiles first if asked."""
    for rule in (APPROXIMATE, *RULES) if approximate else RULES:
        tree = tree.transform(rule.apply, copy=False)
    return tree


def to_spark(tree: exp.Expr, approximate: bool = False) -> str:
    """Spark SQL for a rewritten tree."""
    return rewrite(tree.copy(), approximate).sql(dialect="spark")


def translate(sql: str, params: Sequence[Any] = (), approximate: bool = False) -> str:
    """Spark SQL for one DuckDB statement and its parameters."""
    return to_spark(parse(sql, params), approximate)
