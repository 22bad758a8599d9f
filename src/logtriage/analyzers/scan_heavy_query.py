"""P006 scan-heavy-query: rows examined far above rows returned (a missing index)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from logtriage.analyzers.base import location_from_tags, share
from logtriage.analyzers.heavy_query import explain_command
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import count
from logtriage.model.i18n import _, ngettext

if TYPE_CHECKING:
    from sqlglot import exp

_AGGREGATE = re.compile(r"\b(?:count|sum|avg|min|max)\s*\(|\bgroup by\b")


@dataclass(frozen=True)
class ScanHeavyQueryOptions:
    """Thresholds for P006."""

    # Rows examined per row returned (at least one row counted per call: writes send none).
    min_ratio: float = 100.0
    # Rows examined per call: scanning 300 rows of a small table is not worth an index.
    min_examined_per_call: float = 1000.0
    min_calls: int = 1
    max_findings: int = 10


@dataclass(frozen=True)
class IndexGuess:
    """The index a fingerprint's WHERE clause asks for."""

    table: str | None
    columns: tuple[str, ...]
    ddl: str | None


def _dialect(db_system: str | None) -> str | None:
    system = (db_system or "").lower()
    if system in ("mysql", "mariadb", "percona"):
        return "mysql"
    if system.startswith("postgres"):
        return "postgres"
    return None


def guess_index(fingerprint: str, db_system: str | None) -> IndexGuess | None:
    """Equality columns of the WHERE first, then one range column, on the table they share.

    Parses the fingerprint with sqlglot (``?`` placeholders; ``(?+)`` lists read as one).
    Returns None when it does not parse or its WHERE compares no column with a value.
    """
    # Imported here: sqlglot takes a fifth of the CLI's start-up, and logs without
    # queries (access logs) never parse one.
    import sqlglot
    from sqlglot import exp

    equality = (exp.EQ, exp.In, exp.Is, exp.NullSafeEQ)
    ranges = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like)
    dialect = _dialect(db_system)
    text = fingerprint.replace("(?+)", "(?)").replace("[?+]", "[?]")
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except (sqlglot.errors.SqlglotError, RecursionError, ValueError):
        return None
    where = tree.args.get("where")
    if not isinstance(where, exp.Where):
        return None
    tables = [t for t in tree.find_all(exp.Table) if t.name]
    by_alias = {t.alias_or_name: t.name for t in tables}
    terms: dict[str | None, list[tuple[str, bool]]] = {}
    for predicate in where.find_all(*equality, *ranges):
        side = _column_side(predicate)
        if side is None:
            continue
        column = next(side.find_all(exp.Column))
        if column.table:
            table = by_alias.get(column.table)
        else:
            table = tables[0].name if len({t.name for t in tables}) == 1 else None
        unqualified = side.transform(
            lambda node: exp.column(node.name) if isinstance(node, exp.Column) else node
        )
        term = unqualified.sql(dialect=dialect)
        if not isinstance(side, exp.Column):
            term = f"({term})"  # an expression index: lower(email), date(created_at)
        terms.setdefault(table, []).append((term, isinstance(predicate, ranges)))
    if not terms:
        return None
    order = [t.name for t in tables]
    table = max(terms, key=lambda t: (len(terms[t]), -order.index(t) if t in order else -99))
    equal = list(dict.fromkeys(term for term, is_range in terms[table] if not is_range))
    ranged = [term for term, is_range in terms[table] if is_range and term not in equal]
    columns = tuple(equal + ranged[:1])
    if table is None:
        return IndexGuess(None, columns, None)
    name = re.sub(r"[^a-z0-9]+", "_", f"idx_{table}_{'_'.join(columns)}".lower()).strip("_")
    ddl = f"CREATE INDEX {name[:63]} ON {table} ({', '.join(columns)})"
    return IndexGuess(table, columns, ddl)


def _column_side(predicate: exp.Expr) -> exp.Expr | None:
    """The side of a comparison that holds exactly one column, when the other holds none."""
    from sqlglot import exp

    left = predicate.this
    rights = predicate.expressions if isinstance(predicate, exp.In) else [predicate.expression]
    if isinstance(predicate, exp.Between):
        rights = [predicate.args.get("low"), predicate.args.get("high")]
    if not isinstance(left, exp.Expr) or isinstance(left, exp.Subquery):
        return None
    if len(list(left.find_all(exp.Column))) != 1:
        return None
    for right in rights:
        if isinstance(right, exp.Expr) and any(True for _ in right.find_all(exp.Column)):
            return None
    return left


class ScanHeavyQuery:
    """Query shapes that read far more rows than they return: the index they need is missing.

    What it finds:
        Fingerprints from logs that count rows (MySQL, MariaDB and Percona slow logs:
        ``Rows_examined`` / ``Rows_sent``; PostgreSQL logs with auto_explain plans run with
        ``log_analyze``: the rows the top node returned, and the rows the table scans read,
        filtered out ones included) whose rows examined per row returned reach
        ``min_ratio`` (a call counts as returning at least one row, so writes qualify) and
        whose rows examined per call reach ``min_examined_per_call``, over at least
        ``min_calls`` calls. At most ``max_findings``, the most rows examined first.

    Why it matters:
        Reading 200,000 rows to return 20 is a full or wide scan: its cost grows with the
        table, it evicts useful pages from the buffer pool, and it holds locks longer on
        writes. It is usually one missing index away from a lookup of a few rows.

    Example:
        ``select * from orders where status = ? and created_at > ?`` examines 184,211 rows
        per call to return 12 (ratio 15,351) over 3,120 calls.

    How to fix:
        The finding names the likely index from the WHERE columns of the fingerprint
        (equality columns first, then one range column, on the table they belong to; an
        expression index for ``lower(col) = ?``) as a ``CREATE INDEX`` statement, and the
        plan command to confirm it (``EXPLAIN ANALYZE``). For an aggregate over a whole
        table, it suggests a summary table or cache instead.

    Options:
        ``min_ratio`` (100.0), ``min_examined_per_call`` (1000.0), ``min_calls`` (1),
        ``max_findings`` (10).
    """

    code: ClassVar[str] = "P006"
    name: ClassVar[str] = "scan-heavy-query"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[ScanHeavyQueryOptions]] = ScanHeavyQueryOptions

    def run(self, ctx: AnalysisContext, options: ScanHeavyQueryOptions) -> list[Finding]:
        """Flag fingerprints whose rows examined dwarf their rows returned."""
        if not ctx.db.count("queries"):
            return []
        rows = ctx.db.rows(
            """
            WITH shapes AS (
                SELECT fingerprint_id, min(fingerprint) AS fingerprint, count(*) AS n,
                       sum(rows_examined) AS examined, coalesce(sum(rows_sent), 0) AS sent,
                       sum(duration_ms) AS total_ms, min(db_system) AS db_system
                FROM queries
                WHERE rows_examined IS NOT NULL AND fingerprint_id IS NOT NULL
                GROUP BY fingerprint_id
            )
            SELECT s.*, (SELECT sum(duration_ms) FROM queries) AS all_ms,
                   examined / n AS examined_per_call, sent / n AS sent_per_call,
                   examined / greatest(sent, n) AS ratio
            FROM shapes s
            WHERE n >= ? AND examined / n >= ? AND examined / greatest(sent, n) >= ?
            ORDER BY examined DESC, fingerprint_id
            LIMIT ?
            """,
            [
                options.min_calls,
                options.min_examined_per_call,
                options.min_ratio,
                options.max_findings,
            ],
        )
        return [self._finding(ctx, row) for row in rows]

    def _finding(self, ctx: AnalysisContext, row: dict[str, Any]) -> Finding:
        fingerprint = row["fingerprint"]
        worst = ctx.db.rows(
            "SELECT source, line, duration_ms, rows_examined, rows_sent, sql, tags FROM queries "
            "WHERE fingerprint_id = ? AND rows_examined IS NOT NULL "
            "ORDER BY rows_examined DESC, source, line LIMIT 1",
            [row["fingerprint_id"]],
        )[0]
        time_share = share(row["total_ms"] or 0.0, row["all_ms"] or 0.0)
        per_call = row["examined_per_call"]
        severity = (
            Severity.HIGH
            if per_call >= 1_000_000 or time_share >= 0.2
            else Severity.MEDIUM
            if per_call >= 100_000 or time_share >= 0.05
            else Severity.LOW
        )
        guess = guess_index(fingerprint, row["db_system"])
        evidence: dict[str, Any] = {
            "calls": row["n"],
            "rows_examined": row["examined"],
            "rows_sent": row["sent"],
            "rows_examined_per_call": round(per_call, 1),
            "rows_sent_per_call": round(row["sent_per_call"], 1),
            "examined_per_returned": round(row["ratio"], 1),
            "fingerprint_id": row["fingerprint_id"],
        }
        if row["total_ms"] is not None:
            evidence["total_ms"] = round(row["total_ms"], 3)
            evidence["share_of_db_time"] = round(time_share, 4)
        if guess and guess.columns:
            evidence["where_columns"] = list(guess.columns)
        plan = _logged_plan(worst["tags"])
        if plan:
            evidence["plan"] = plan
        location = location_from_tags(worst["tags"])
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            # Weighed by its database time, with a floor: a scan grows with the table.
            score=min(1.0, 0.85 * time_share + 0.02),
            title=_("{query} examines {examined} rows per call to return {sent} ({calls})").format(
                query=_short(fingerprint),
                examined=count(per_call),
                sent=count(row["sent_per_call"]),
                calls=_calls(row["n"]),
            ),
            fingerprint=fingerprint,
            evidence=evidence,
            impact={
                "rows_examined": row["examined"],
                "time_ms": round(row["total_ms"] or 0.0, 3),
                "share_of_total": round(time_share, 4),
            },
            location=(location,) if location else (),
            fix=_fix(fingerprint, row, guess, worst["sql"] or fingerprint, plan),
            examples=(
                {
                    "source": worst["source"],
                    "line": worst["line"],
                    "rows_examined": worst["rows_examined"],
                    "rows_sent": worst["rows_sent"],
                    "duration_ms": worst["duration_ms"],
                    "text": worst["sql"],
                },
            ),
        )


def _calls(n: int) -> str:
    return ngettext("{count} call", "{count} calls", n).format(count=count(n))


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _logged_plan(tags: dict[str, str] | None) -> str | None:
    """The scan of the plan PostgreSQL logged for the statement (auto_explain), if any."""
    if not tags or not tags.get("plan_scan"):
        return None
    parts = [tags["plan_scan"]]
    if tags.get("plan_filter"):
        parts.append(_("Filter: {filter}").format(filter=tags["plan_filter"]))
    if tags.get("plan_rows_removed"):
        removed = int(tags["plan_rows_removed"])
        parts.append(_("{rows} rows removed by it").format(rows=count(removed)))
    return ", ".join(parts)


def _fix(
    fingerprint: str,
    row: dict[str, Any],
    guess: IndexGuess | None,
    sql: str,
    logged_plan: str | None = None,
) -> str:
    plan = _("Confirm with its plan: {command}.").format(
        command=explain_command(row["db_system"], sql)
    )
    if logged_plan:
        # The server already ran the plan command for the slowest call (auto_explain).
        plan = _("Its logged plan shows it: {plan}.").format(plan=logged_plan)
    if guess is None and _AGGREGATE.search(fingerprint) and " where " not in fingerprint:
        return _(
            "It aggregates the whole table on every call ({rows} rows): keep the result in a "
            "summary table or counter updated on write, or cache it. {plan}"
        ).format(rows=count(row["examined_per_call"]), plan=plan)
    if guess and guess.ddl:
        check = (
            f"SHOW INDEX FROM {guess.table}"
            if _dialect(row["db_system"]) == "mysql"
            else f"\\d {guess.table}"
        )
        return _(
            "Its WHERE has no usable index. Likely missing: {ddl}; (check what exists with "
            "{check}: an index whose first column is not {column} cannot serve it). {plan}"
        ).format(ddl=guess.ddl, check=check, column=guess.columns[0], plan=plan)
    columns = f" ({', '.join(guess.columns)})" if guess and guess.columns else ""
    return _(
        "Index the columns of its WHERE and JOIN{columns}, equality columns first; a "
        "function on a column (lower(col), date(col)) or a LIKE starting with % needs an "
        "expression or full-text index instead. {plan}"
    ).format(columns=columns, plan=plan)
