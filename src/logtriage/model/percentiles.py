"""Exact percentiles in SQL that spill: the value at a rank, read from a per-group histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

# DuckDB's quantile_cont/quantile_disc keep every value of a group in an aggregate state the
# buffer manager cannot spill: one route of 23M requests held 8 bytes a request, several
# times over, past the memory limit. Here the values are counted per (group, value) (a hash
# aggregate, which spills) and a running count over the sorted distinct values (a window,
# which spills) finds the value at each rank. Durations at millisecond resolution have few
# distinct values, so this is also no slower. The ranks are DuckDB's own, so the results are
# identical (tests/test_percentiles.py compares them on random data).


def percentiles_sql(
    source: str,
    value: str,
    cuts: Sequence[float],
    *,
    by: Sequence[str] = (),
    where: str = "",
    discrete: bool = False,
    name: str = "q",
    count: str = "",
) -> str:
    """A SELECT of ``by`` and ``name``: the list of the ``cuts`` percentiles of ``value``.

    As ``quantile_cont(value, [cuts])`` (``discrete``: ``quantile_disc``) grouped by ``by``,
    over the rows of ``source`` (a table, or a parenthesised subquery with an alias) where
    ``where`` holds. NULL values are left out; a group with no value has no row (join it with
    a LEFT JOIN ... ON ``k IS NOT DISTINCT FROM k``, or ``ON true`` without ``by``, to read
    NULL as the aggregate gives). ``by`` are plain column names of ``source``; ``count``, if
    given, names a column with the group's count of values.
    """
    if not cuts:
        raise ValueError("percentiles_sql needs at least one cut")
    keys = "".join(f"{k}, " for k in by)
    partition = f"PARTITION BY {', '.join(by)} " if by else ""
    filters = f"{value} IS NOT NULL" + (f" AND ({where})" if where else "")
    # n: the group's count of values; pct_hi: how many values are at most this one.
    ranked = f"""
        SELECT {keys}pct_v, CAST(sum(pct_c) OVER ({partition}) AS BIGINT) AS pct_n,
               sum(pct_c) OVER ({partition}ORDER BY pct_v
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS pct_hi
        FROM (
            SELECT {keys}{value} AS pct_v, count(*) AS pct_c FROM {source}
            WHERE {filters} GROUP BY {keys}{value}
        )
    """
    picks: list[str] = []
    for i, cut in enumerate(cuts):
        if discrete:
            # DuckDB's rank for a DECIMAL cut, in exact arithmetic: max(1, n - floor(n - n*q)).
            rank = f"greatest(1, pct_n - floor(pct_n - pct_n * {_decimal(cut)}))"
            picks.append(f"min(pct_v) FILTER (WHERE pct_hi >= {rank}) AS pct_{i}")
        else:
            # RN = (n-1)*q in doubles; the values at 0-based ranks floor(RN) and ceil(RN).
            rn = f"(CAST(pct_n - 1 AS DOUBLE) * CAST({_decimal(cut)} AS DOUBLE))"
            picks.append(f"{rn} - floor({rn}) AS pct_d{i}")
            for end, fn in (("lo", "floor"), ("up", "ceil")):
                picks.append(
                    f"CAST(min(pct_v) FILTER (WHERE pct_hi >= {fn}({rn}) + 1) AS DOUBLE)"
                    f" AS pct_{end}{i}"
                )
    grouped = f"SELECT {keys}pct_n, {', '.join(picks)} FROM ({ranked}) GROUP BY {keys}pct_n"
    if not discrete:
        grouped = _interpolate(grouped, len(cuts))
    results = [f"pct_{i}" for i in range(len(cuts))]
    counted = f", pct_n AS {count}" if count else ""
    return f"SELECT {keys}[{', '.join(results)}] AS {name}{counted} FROM ({grouped})"


def disc_rank(n: int, cut: float) -> int:
    """The 1-based rank of the value ``quantile_disc(x, cut)`` gives among ``n`` sorted values.

    DuckDB's rank for a DECIMAL cut, in exact arithmetic: max(1, n - floor(n - n*q)), which
    for a whole n is max(1, ceil(n*q)).
    """
    return max(1, math.ceil(n * Fraction(_decimal(cut))))


def value_at_rank_sql(source: str, value: str, rank: int, n: int) -> str:
    """A SELECT of one row: the value at 1-based ``rank`` among the ``n`` non-NULL ``value``s.

    A top-N from the nearer end (``ORDER BY value LIMIT 1 OFFSET k``, or DESC): it keeps
    min(rank, n + 1 - rank) values, where a quantile_disc state keeps all n of them outside
    the memory limit. For a cut near 0 or 1 of many rows (A002's span of every timestamp)
    that is a small heap. ``rank`` and ``n`` are ours (counted first), never text from a log.
    """
    if not 1 <= rank <= n:
        raise ValueError(f"rank {rank} is outside 1..{n}")
    ascending = rank <= n + 1 - rank
    order, offset = ("", rank - 1) if ascending else (" DESC", n - rank)
    return (
        f"SELECT {value} FROM {source} WHERE {value} IS NOT NULL "
        f"ORDER BY {value}{order} LIMIT 1 OFFSET {int(offset)}"
    )


# DuckDB interpolates doubles as ``lo * (1 - d) + hi * d``, which its build compiles to one
# fused multiply-add: fma(lo, 1 - d, hi * d), rounded once. SQL has no fma, so it is computed
# exactly as error-free transformations (Dekker's product, Knuth's sum) and rounded once at the end;
# plain ``lo * (1 - d) + hi * d`` would differ from DuckDB in the last bit.
#
# The products of Dekker's halves must not underflow: below 2^-400 both ends are scaled up by
# 2^600 first and the result down again, exact for any result that is a normal double (lo=0,
# hi=-4.25e-308, d=0.002 differed in the last bit unscaled). A result below 2.2e-308 (subnormal)
# would be rounded twice; no duration or time in a log is that small.
_SCALE_BELOW = repr(2.0**-400)
_SCALE_BY = repr(2.0**600)
_STEPS = (
    (
        "k",
        f"CASE WHEN greatest(abs(pct_lo{{i}}), abs(pct_up{{i}})) < {_SCALE_BELOW} "
        f"THEN {_SCALE_BY} ELSE CAST(1 AS DOUBLE) END",
    ),
    ("lk", "pct_lo{i} * pct_k{i}"),
    ("uk", "pct_up{i} * pct_k{i}"),
    # w = 1 - d, c = hi * d; lo * w is split into 26-bit halves (Veltkamp) for Dekker.
    ("w", "CAST(1 AS DOUBLE) - pct_d{i}"),
    ("c", "pct_uk{i} * pct_d{i}"),
    ("p", "pct_lk{i} * (CAST(1 AS DOUBLE) - pct_d{i})"),
    ("sa", "CAST(134217729 AS DOUBLE) * pct_lk{i}"),
    ("sb", "CAST(134217729 AS DOUBLE) * pct_w{i}"),
    ("ah", "pct_sa{i} - (pct_sa{i} - pct_lk{i})"),
    ("bh", "pct_sb{i} - (pct_sb{i} - pct_w{i})"),
    ("s", "pct_p{i} + pct_c{i}"),
    ("al", "pct_lk{i} - pct_ah{i}"),
    ("bl", "pct_w{i} - pct_bh{i}"),
    ("bb", "pct_s{i} - pct_p{i}"),
    # lo * w = p + e exactly; p + c = s + t exactly.
    (
        "e",
        "((pct_ah{i} * pct_bh{i} - pct_p{i}) + pct_ah{i} * pct_bl{i} + pct_al{i} * pct_bh{i})"
        " + pct_al{i} * pct_bl{i}",
    ),
    ("t", "(pct_p{i} - (pct_s{i} - pct_bb{i})) + (pct_c{i} - pct_bb{i})"),
    # The exact result is s + t + e. Rounded as s + (t + e) it is rounded twice: t + e = u + v
    # and s + u = r + z, both exactly (Knuth's sum again).
    ("u", "pct_t{i} + pct_e{i}"),
    ("ub", "pct_u{i} - pct_t{i}"),
    ("r", "pct_s{i} + pct_u{i}"),
    ("v", "(pct_t{i} - (pct_u{i} - pct_ub{i})) + (pct_e{i} - pct_ub{i})"),
    ("rb", "pct_r{i} - pct_s{i}"),
    ("z", "(pct_s{i} - (pct_r{i} - pct_rb{i})) + (pct_u{i} - pct_rb{i})"),
    # r is right unless s + u lay exactly halfway to r's neighbour r + 2z (then r + 2z is a
    # double: 2z is the whole gap) and the dropped v lies beyond that half: one rounding of
    # the exact result goes to the neighbour (lo=-5, hi=1e-300, d=0.004: -4.9799999999999995).
    (
        "",
        "CASE WHEN pct_d{i} = 0 THEN pct_lo{i} "
        "WHEN pct_z{i} <> 0 AND pct_v{i} <> 0 AND sign(pct_z{i}) = sign(pct_v{i}) "
        "AND (pct_r{i} + 2 * pct_z{i}) - pct_r{i} = 2 * pct_z{i} "
        "THEN (pct_r{i} + 2 * pct_z{i}) / pct_k{i} "
        "ELSE pct_r{i} / pct_k{i} END",
    ),
)
# The steps in nested SELECTs: each layer reads only the layers before it.
_LAYERS = (
    ("k",),
    ("lk", "uk"),
    ("w", "c", "p", "sa"),
    ("sb", "ah", "s"),
    ("bh", "al", "bb"),
    ("bl", "t"),
    ("e",),
    ("u",),
    ("ub", "r"),
    ("v", "rb"),
    ("z",),
    ("",),
)


def _interpolate(grouped: str, cuts: int) -> str:
    """Wrap ``grouped`` (pct_d, pct_lo, pct_up per cut) in the layers that end in pct_i."""
    steps = dict(_STEPS)
    sql = grouped
    for layer in _LAYERS:
        columns = ", ".join(
            f"{steps[step].format(i=i)} AS pct_{step}{i}" for i in range(cuts) for step in layer
        )
        sql = f"SELECT *, {columns} FROM ({sql})"
    return sql


def _decimal(cut: float) -> str:
    """A cut as an SQL decimal literal (``1e-05`` would read as a DOUBLE)."""
    q = float(cut)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a percentile cut must be between 0 and 1, not {cut!r}")
    return format(Decimal(repr(q)), "f")
