"""M005 partial-database-log: a database log that only shows statements slower than a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _

_SETTING = {
    "postgresql": N_(
        "Set log_min_duration_statement = 0 in postgresql.conf (or, on a busy server, keep a "
        "threshold and add log_min_duration_sample = 0 with log_statement_sample_rate = 0.01, "
        "so every statement shape is seen in proportion)."
    ),
    "mysql": N_(
        "Set long_query_time = 0 (and log_slow_rate_limit on Percona/MariaDB for sampling)."
    ),
    "mariadb": N_(
        "Set long_query_time = 0 (and log_slow_rate_limit with log_slow_rate_type = query to "
        "sample a busy server)."
    ),
}


@dataclass(frozen=True)
class PartialDatabaseLogOptions:
    """Thresholds for M005."""

    min_queries: int = 50
    # The fastest logged statement must be at least this slow to suspect a threshold …
    min_floor_ms: float = 5.0
    # … with this share of statements within 20 % above it (a cliff, not a tail).
    min_share_near_floor: float = 0.05


class PartialDatabaseLog:
    """A database log that only records statements slower than a threshold.

    What it finds:
        Query sources (at least ``min_queries`` timed statements) whose fastest statement is
        at least ``min_floor_ms`` and where many statements (``min_share_near_floor``) sit just
        above that floor: the signature of ``log_min_duration_statement`` or
        ``long_query_time`` set above zero.

    Why it matters:
        Such a log is not a profile: fast statements — the single-row lookups an N+1 is made
        of, the duplicates, most of the load — are missing, so counts, queries per request and
        the N+1 findings see only part of the truth.

    Example:
        ``postgresql.log``: no statement faster than 100 ms is logged (12,400 statements).

    How to fix:
        Log every statement for the triage window (``log_min_duration_statement = 0``,
        ``long_query_time = 0``), or sample them (``log_min_duration_sample`` with
        ``log_statement_sample_rate``; Percona/MariaDB ``log_slow_rate_limit``).

    Options:
        ``min_queries`` (50), ``min_floor_ms`` (5.0), ``min_share_near_floor`` (0.05).
    """

    code: ClassVar[str] = "M005"
    name: ClassVar[str] = "partial-database-log"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[PartialDatabaseLogOptions]] = PartialDatabaseLogOptions

    def run(self, ctx: AnalysisContext, options: PartialDatabaseLogOptions) -> list[Finding]:
        """One finding per database log that looks cut at a threshold."""
        rows = ctx.db.rows(
            """
            SELECT source, any_value(db_system) AS db_system, count(duration_ms) AS n,
                   min(duration_ms) AS floor_ms,
                   count(*) FILTER (WHERE duration_ms <= 1.2 * floor_ms) AS near
            FROM (SELECT *, min(duration_ms) OVER (PARTITION BY source) AS floor_ms FROM queries)
            GROUP BY source HAVING count(duration_ms) >= ? AND min(duration_ms) >= ?
            ORDER BY source
            """,
            [options.min_queries, options.min_floor_ms],
        )
        return [
            self._finding(row)
            for row in rows
            if row["near"] / row["n"] >= options.min_share_near_floor
        ]

    def _finding(self, row: dict[str, Any]) -> Finding:
        system = str(row["db_system"] or "postgresql")
        setting = _SETTING.get(system, _SETTING["postgresql"])
        return Finding(
            code=self.code,
            name=self.name,
            severity=Severity.MEDIUM,
            score=0.1,
            title=_(
                "{source} only logs statements slower than about {floor:.0f} ms: fast "
                "statements (N+1 lookups, most of the load) are missing"
            ).format(source=row["source"], floor=row["floor_ms"]),
            evidence={
                "source": row["source"],
                "statements": row["n"],
                "fastest_ms": round(float(row["floor_ms"]), 3),
                "share_just_above_fastest": round(row["near"] / row["n"], 4),
            },
            impact={"statements_seen": row["n"]},
            fix=_(setting),
        )
