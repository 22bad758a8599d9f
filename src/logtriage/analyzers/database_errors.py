"""A003 database-errors: deadlocks, timeouts and failed statements in the database log."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import count, ms
from logtriage.model.i18n import N_, _

FAILURE_KINDS = ("error", "deadlock", "lock_timeout", "statement_timeout")

# The message with its variable parts replaced, in SQL: first line only; single-quoted values,
# a trailing ": "value"" (PostgreSQL's invalid input), numbers (pids, xids, sizes, positions)
# become ?. Double-quoted names (relations, constraints, users) stay: they say what failed.
# "error 1213", "errno 1205", "MY-010119" keep their code: it names the failure.
NORMALIZED_MESSAGE = r"""
trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(left(split_part(message, chr(10), 1), 400),
        '(?i)\b(error |errno |MY-)(\d+)', '\1E\2', 'g'),
    ': "[^"]*"$', ': ?'),
    '''(?:[^'']|'''')*''', '?', 'g'),
    '\b(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?)\b', '?', 'g'),
    '(?i)\b(error |errno |MY-)E(\d+)', '\1\2', 'g'),
    '\s+', ' ', 'g'))
"""

# (pattern over "sqlstate message" in lower case, fix). First match wins.
_FIXES: tuple[tuple[str, str], ...] = (
    (
        r"53300|too many (clients|connections)|remaining connection slots|\b1040\b",
        N_(
            "The server ran out of connections. Put a pooler in front (PgBouncer in transaction "
            "mode, ProxySQL, or the driver's pool with a hard cap), size each application's pool "
            "so their sum stays under max_connections, and close idle connections; raising "
            "max_connections alone costs memory per connection."
        ),
    ),
    (
        r"23505|duplicate key|duplicate entry|\b1062\b",
        N_(
            "A unique key rejects the insert: usually check-then-insert racing with itself or a "
            "retried request. Write it as one statement — INSERT … ON CONFLICT DO NOTHING / DO "
            "UPDATE (PostgreSQL), INSERT … ON DUPLICATE KEY UPDATE (MySQL) — or make the request "
            "idempotent, instead of catching the error."
        ),
    ),
    (
        r"40001|could not serialize access",
        N_(
            "A serialization failure: the transaction must be retried as a whole (SQLSTATE "
            "40001); keep such transactions short, or use a lower isolation level where it is safe."
        ),
    ),
    (
        r"25p02|current transaction is aborted",
        N_(
            "The application keeps using a transaction after a statement in it failed: roll back "
            "(or use a savepoint) when a statement fails; the first error of that transaction is "
            "the real cause."
        ),
    ),
    (
        r"23503|foreign key constraint|\b1452\b",
        N_(
            "A foreign key rejects the write: the referenced row is missing or being deleted "
            "concurrently; write parent rows first in the same transaction, or validate the ids."
        ),
    ),
    (
        r"23502|violates not-null|cannot be null|\b1048\b",
        N_("A NOT NULL column gets no value: validate the input or give the column a default."),
    ),
    (
        r"42p01|42703|does not exist|doesn't exist|unknown column|\b1146\b|\b1054\b",
        N_(
            "The statement names a table or column the database lacks: code and schema are out of "
            "step — run the migrations before (or with) the deploy that needs them."
        ),
    ),
    (
        r"42601|syntax error|\b1064\b",
        N_(
            "A statement with a syntax error: it is most likely built by string concatenation — "
            "use bind parameters (which also closes an injection hole)."
        ),
    ),
    (
        r"28p01|28000|authentication failed|access denied|\b1045\b",
        N_(
            "Logins fail: a wrong or rotated password, or a client that is not allowed "
            "(pg_hba.conf / GRANT); find the client by user and host."
        ),
    ),
    (
        r"22001|value too long|data too long|\b1406\b",
        N_(
            "A value is longer than its column: validate the length where the input arrives, "
            "or widen the column."
        ),
    ),
    (
        r"22p02|invalid input syntax|incorrect .* value",
        N_(
            "A value of the wrong type reaches the database: validate and convert it in the "
            "application, and bind it as a typed parameter."
        ),
    ),
    (
        r"idle.in.transaction",
        N_(
            "Connections sit idle inside an open transaction until the server ends them: commit "
            "or roll back before slow work (network calls, rendering), and return connections "
            "to the pool."
        ),
    ),
    (
        r"57014.*user request|canceling statement due to user request",
        N_(
            "The client cancelled the statement (its own timeout fired): the statement is slower "
            "than the client waits — see P005 for it, or raise the client timeout knowingly."
        ),
    ),
)

_KIND_FIXES = {
    "deadlock": N_(
        "Two transactions lock the same rows in opposite orders. Lock rows in one consistent "
        "order (sort the ids, or SELECT … ORDER BY id FOR UPDATE first), keep transactions "
        "short with no network calls inside, and retry the transaction on a deadlock "
        "(SQLSTATE 40P01 / MySQL 1213). The DETAIL lines (PostgreSQL) or SHOW ENGINE INNODB "
        "STATUS with innodb_print_all_deadlocks = ON (MySQL) name both statements."
    ),
    "lock_timeout": N_(
        "Statements wait longer than lock_timeout / innodb_lock_wait_timeout for a row held "
        "by another transaction. Find the holder (pg_stat_activity 'idle in transaction' and "
        "pg_locks; MySQL sys.innodb_lock_waits), keep transactions short, and set "
        "log_lock_waits = on to see who blocks whom."
    ),
    "statement_timeout": N_(
        "Statements run past statement_timeout / max_execution_time and are cancelled: read "
        "the plan of the statement below (see P005), add the index it lacks or paginate; "
        "raise the timeout only for known batch jobs."
    ),
    "error": N_("Read the statement and the detail below and fix it where it is called."),
    "lock_wait": N_(
        "Statements queue behind a lock another transaction holds (the DETAIL names the "
        "holder's process: find what it ran just before in this log, or live in "
        "pg_stat_activity with pg_blocking_pids()). Keep transactions that write hot rows "
        "short with no network calls inside, take queue rows with FOR UPDATE SKIP LOCKED, "
        "run DDL with a short lock_timeout so it fails instead of blocking everyone, and set "
        "lock_timeout for the application so waits fail fast instead of holding connections."
    ),
}

# How much one kind of failure weighs in the ranking (before the count).
_WEIGHT = {
    "deadlock": 0.12,
    "lock_timeout": 0.1,
    "statement_timeout": 0.1,
    "lock_wait": 0.08,
    "error": 0.04,
}
_CONNECTIONS = re.compile(_FIXES[0][0])


@dataclass(frozen=True)
class DatabaseErrorsOptions:
    """Thresholds for A003."""

    # Events of one normalized message before it is reported (one deadlock is worth a look).
    min_events: int = 1
    max_findings: int = 10
    examples: int = 3
    # Lock waits (log_lock_waits) of one normalized message before they are reported: each is
    # already a wait longer than deadlock_timeout (1 s by default).
    min_lock_waits: int = 1


class DatabaseErrors:
    """Deadlocks, lock and statement timeouts, and failed statements, grouped by message.

    What it finds:
        Database events of kind ``error``, ``deadlock``, ``lock_timeout`` and
        ``statement_timeout`` (PostgreSQL ERROR/FATAL/PANIC lines, MySQL slow-log ``Errno``),
        grouped by kind and normalized message — quoted values, numbers and process ids
        become ``?``, names of relations and constraints stay — with their count, first and
        last time, SQLSTATE, an example statement and detail. Groups with at least
        ``min_events`` events; at most ``max_findings``. With ``log_lock_waits = on``,
        PostgreSQL's ``still waiting for … Lock`` messages too, grouped by lock mode and
        object, with how long the statements waited (until the ``acquired … after N ms``
        message, else at least the wait logged), in groups of ``min_lock_waits``.

    Why it matters:
        Every failed statement is a request that failed or retried. Deadlocks and lock
        timeouts come from transactions that fight over rows and get worse with load; "too
        many connections" takes the whole service down; errors after a deploy point at code
        and schema out of step. None of it shows in an access log that says only "500".

    Example:
        ``deadlock detected`` 14 times between 10:02 and 10:47 (SQLSTATE 40P01) on
        ``UPDATE accounts SET balance = balance - $1 WHERE id = $2``.

    How to fix:
        A fix per kind and message: consistent lock order and short transactions for
        deadlocks; find the blocking transaction for lock timeouts and lock waits; the plan
        of the statement for statement timeouts; a pooler for too many connections;
        ``ON CONFLICT`` / ``ON DUPLICATE KEY UPDATE`` for unique violations; migrations for
        missing relations; bind parameters for syntax errors.

    Options:
        ``min_events`` (1), ``max_findings`` (10), ``examples`` (3): events shown per group,
        ``min_lock_waits`` (1).
    """

    code: ClassVar[str] = "A003"
    name: ClassVar[str] = "database-errors"
    needs: ClassVar[tuple[str, ...]] = ("db_events",)
    Options: ClassVar[type[DatabaseErrorsOptions]] = DatabaseErrorsOptions

    def run(self, ctx: AnalysisContext, options: DatabaseErrorsOptions) -> list[Finding]:
        """One finding per (kind, normalized message) of failures."""
        if not ctx.db.count("db_events"):
            return []
        kinds = ", ".join(f"'{k}'" for k in FAILURE_KINDS)
        rows = ctx.db.rows(
            f"""
            WITH failures AS (
                SELECT *, {NORMALIZED_MESSAGE} AS normalized FROM db_events
                WHERE kind IN ({kinds}) AND message IS NOT NULL
            ), groups AS (
                -- mode(x ORDER BY x): the smallest of tied values, the same every run.
                SELECT kind, normalized, db_system, count(*) AS n,
                       min(ts) AS first_ts, max(ts) AS last_ts,
                       mode(level ORDER BY level) AS level,
                       mode(sqlstate ORDER BY sqlstate) AS sqlstate,
                       count(DISTINCT connection) AS connections,
                       count(DISTINCT source) AS sources, mode(db ORDER BY db) AS db,
                       mode("user" ORDER BY "user") AS "user",
                       count(statement) AS with_statement
                FROM failures GROUP BY kind, normalized, db_system HAVING count(*) >= ?
            ), ranked AS (
                SELECT f.kind, f.normalized, f.db_system, f.source, f.line, f.ts, f.message,
                       f.detail, f.statement, f.connection,
                       row_number() OVER (PARTITION BY f.kind, f.normalized, f.db_system
                           ORDER BY f.statement IS NULL, f.ts, f.source, f.line) AS k
                FROM failures f
            )
            SELECT g.*, list(struct_pack(source := r.source, line := r.line, ts := r.ts,
                                         message := r.message, detail := r.detail,
                                         statement := r.statement, connection := r.connection)
                             ORDER BY r.k) AS examples
            FROM groups g JOIN ranked r
              ON r.kind = g.kind AND r.normalized = g.normalized
             AND r.db_system IS NOT DISTINCT FROM g.db_system AND r.k <= ?
            GROUP BY ALL
            ORDER BY g.n DESC, g.kind, g.normalized
            """,
            [options.min_events, options.examples],
        )
        total_queries = ctx.db.count("queries")
        findings = [self._finding(row, total_queries) for row in rows]
        findings += [self._wait_finding(row) for row in _lock_waits(ctx, options)]
        findings.sort(key=Finding.sort_key)
        return findings[: options.max_findings]

    def _finding(self, row: dict[str, Any], total_queries: int) -> Finding:
        kind, n, message = row["kind"], row["n"], row["normalized"]
        probe = f"{(row['sqlstate'] or '').lower()} {message.lower()}"
        fix = _KIND_FIXES[kind]
        if kind == "error":
            fix = next((text for pattern, text in _FIXES if re.search(pattern, probe)), fix)
        fix = _(fix)
        is_connections = bool(_CONNECTIONS.search(probe))
        level = (row["level"] or "").upper()
        severity = _severity(kind, n, level, is_connections)
        weight = 0.25 if is_connections else _WEIGHT.get(kind, 0.04)
        score = min(1.0, weight * (1.0 + math.log10(n)))
        label = {
            "deadlock": _("deadlock"),
            "lock_timeout": _("lock timeout"),
            "statement_timeout": _("statement timeout"),
        }.get(kind, level.lower() if level in ("FATAL", "PANIC") else _("failed statement"))
        first, last = row["first_ts"], row["last_ts"]
        when = ""
        if first is not None:
            when = f", {first:%Y-%m-%d %H:%M}" + (f" → {last:%H:%M}" if last != first else "")
        title = f"{count(n)} × {label}: {_short(message)}{when}"
        evidence: dict[str, Any] = {
            "events": n,
            "kind": kind,
            "message": message,
            "first": first.isoformat() if first is not None else None,
            "last": last.isoformat() if last is not None else None,
        }
        for key in ("sqlstate", "level", "db", "user", "db_system"):
            if row[key]:
                evidence[key] = row[key]
        if row["connections"]:
            evidence["connections"] = row["connections"]
        if total_queries:
            evidence["per_1000_statements"] = round(1000 * n / (total_queries + n), 3)
        examples = _examples(row["examples"], evidence)
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=score,
            title=title,
            evidence=evidence,
            impact={"failed_statements": n},
            fix=fix,
            examples=examples,
        )

    def _wait_finding(self, row: dict[str, Any]) -> Finding:
        n, message = row["n"], row["normalized"]
        total, longest = row["total_wait_ms"] or 0.0, row["max_wait_ms"] or 0.0
        first, last = row["first_ts"], row["last_ts"]
        when = ""
        if first is not None:
            when = f", {first:%Y-%m-%d %H:%M}" + (f" → {last:%H:%M}" if last != first else "")
        evidence: dict[str, Any] = {
            "events": n,
            "kind": "lock_wait",
            "message": message,
            "total_wait_ms": round(total, 3),
            "max_wait_ms": round(longest, 3),
            "first": first.isoformat() if first is not None else None,
            "last": last.isoformat() if last is not None else None,
        }
        for key in ("db", "db_system"):
            if row[key]:
                evidence[key] = row[key]
        if row["connections"]:
            evidence["connections"] = row["connections"]
        examples = _examples(row["examples"], evidence)
        return Finding(
            code=self.code,
            name=self.name,
            severity=_wait_severity(n, longest),
            score=min(1.0, _WEIGHT["lock_wait"] * (1.0 + math.log10(n))),
            title=_("{n} × lock wait ({total} in all, longest {longest}): {message}").format(
                n=count(n), total=ms(total), longest=ms(longest), message=_short(message)
            )
            + when,
            evidence=evidence,
            impact={"waiting_statements": n, "time_ms": round(total, 3)},
            fix=_(_KIND_FIXES["lock_wait"]),
            examples=examples,
        )


# "after 1000.072 ms" in "process 7 still waiting for …" and "process 7 acquired … after …".
_AFTER_MS = r"' after ([0-9]+(?:\.[0-9]+)?) ms'"


def _lock_waits(ctx: AnalysisContext, options: DatabaseErrorsOptions) -> list[dict[str, Any]]:
    """Groups of PostgreSQL lock waits by normalized message, with how long they waited.

    A wait's end is the next lock message of the same process (named in the message, so a
    prefix without %p still pairs them) when it says ``acquired``; otherwise the wait logged.
    """
    return ctx.db.rows(
        f"""
        WITH waits AS (
            SELECT source, line, ts, message, detail, statement, connection, db, db_system,
                lead(message) OVER (
                    PARTITION BY source, regexp_extract(message, '^process ([0-9]+) ', 1)
                    ORDER BY line) AS next_message
            FROM db_events WHERE kind = 'lock_wait' AND message IS NOT NULL
        ), still AS (
            SELECT *, {NORMALIZED_MESSAGE} AS normalized,
                coalesce(
                    CASE WHEN regexp_matches(next_message, '^process [0-9]+ acquired ')
                        THEN try_cast(regexp_extract(next_message, {_AFTER_MS}, 1) AS DOUBLE)
                    END,
                    try_cast(regexp_extract(message, {_AFTER_MS}, 1) AS DOUBLE)) AS waited_ms
            FROM waits WHERE regexp_matches(message, '^process [0-9]+ still waiting for ')
        ), groups AS (
            SELECT normalized, db_system, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts,
                sum(waited_ms) AS total_wait_ms, max(waited_ms) AS max_wait_ms,
                count(DISTINCT connection) AS connections, mode(db ORDER BY db) AS db
            FROM still GROUP BY normalized, db_system HAVING count(*) >= ?
        ), ranked AS (
            SELECT s.*, row_number() OVER (PARTITION BY s.normalized, s.db_system
                ORDER BY s.statement IS NULL, s.waited_ms DESC, s.source, s.line) AS k
            FROM still s
        )
        SELECT g.*, list(struct_pack(source := r.source, line := r.line, ts := r.ts,
                                     message := r.message, detail := r.detail,
                                     statement := r.statement, connection := r.connection,
                                     waited_ms := r.waited_ms)
                         ORDER BY r.k) AS examples
        FROM groups g JOIN ranked r
          ON r.normalized = g.normalized AND r.db_system IS NOT DISTINCT FROM g.db_system
         AND r.k <= ?
        GROUP BY ALL
        ORDER BY g.total_wait_ms DESC, g.normalized
        """,
        [options.min_lock_waits, options.examples],
    )


def _examples(rows: list[dict[str, Any]], evidence: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """A group's example events as the report shows them; the first statement and detail too."""
    statement = next((e["statement"] for e in rows if e["statement"]), None)
    if statement:
        evidence["statement"] = _short(statement, 500)
    detail = next((e["detail"] for e in rows if e["detail"]), None)
    if detail:
        evidence["detail"] = _short(detail, 500)
    return tuple(
        {
            key: (value.isoformat() if key == "ts" else value)
            for key, value in e.items()
            if value is not None
        }
        for e in rows
    )


def _wait_severity(n: int, max_wait_ms: float) -> Severity:
    if n >= 100 or max_wait_ms >= 30_000:
        return Severity.HIGH
    if n >= 10 or max_wait_ms >= 5_000:
        return Severity.MEDIUM
    return Severity.LOW


def _severity(kind: str, n: int, level: str, is_connections: bool) -> Severity:
    if is_connections or level == "PANIC":
        return Severity.HIGH
    if kind == "deadlock":
        return Severity.HIGH if n >= 10 else Severity.MEDIUM
    if kind in ("lock_timeout", "statement_timeout"):
        return Severity.HIGH if n >= 100 else Severity.MEDIUM
    if level == "FATAL" or n >= 100:
        return Severity.MEDIUM
    return Severity.LOW


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
