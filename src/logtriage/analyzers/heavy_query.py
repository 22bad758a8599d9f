"""P005 heavy-query: a query shape with a large share of database time, or slow on its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.base import location_from_tags, share, table_of
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import byte_size, count, ms
from logtriage.model.i18n import _, ngettext
from logtriage.model.percentiles import percentiles_sql

# Tags that say which code runs a query (sqlcommenter, Rails QueryLogs, marginalia).
CALLER_TAGS = ("application", "controller", "action", "route", "job", "framework")
# The example statement is quoted whole in the fix up to this length.
MAX_QUOTED_SQL = 1200
_WRITES = ("insert", "update", "delete", "replace", "merge", "upsert")


@dataclass(frozen=True)
class HeavyQueryOptions:
    """Thresholds for P005."""

    # A shape that holds this share of all timed database time…
    min_time_share: float = 0.2
    # …and at least this much of it (a tiny log's "60 %" of 40 ms is nothing to fix).
    min_total_ms: float = 1000.0
    # Slow on its own, as pt-query-digest's --outliers Query_time:1:10: p95 at or above this…
    slow_p95_ms: float = 1000.0
    # …over at least this many timed calls.
    min_calls: int = 10
    max_findings: int = 10


def explain_command(db_system: str | None, sql: str) -> str:
    """The statement that shows the plan of ``sql`` on ``db_system``, with what to mind."""
    system = (db_system or "").lower()
    verb = sql.lstrip("( \n\t").split(None, 1)[0].lower() if sql.strip() else ""
    writes = verb in _WRITES
    quoted = sql if len(sql) <= MAX_QUOTED_SQL else None
    text = quoted or _("<the example statement>")
    if system.startswith("postgres"):
        command = f"EXPLAIN (ANALYZE, BUFFERS) {text}"
        notes = []
        if writes:
            command = f"BEGIN; {command}; ROLLBACK;"
            notes.append(_("ANALYZE runs the statement, hence the rollback"))
        if "$1" in sql:
            notes.append(
                _(
                    "put the values from the log's `parameters:` DETAIL in place of $1…, or use "
                    "EXPLAIN (GENERIC_PLAN) on PostgreSQL 16+"
                )
            )
        return command + (f" ({'; '.join(notes)})" if notes else "")
    if system == "mariadb":
        if writes:
            return f"EXPLAIN {text} " + _("(ANALYZE would run the write)")
        return f"ANALYZE FORMAT=JSON {text}"
    if system in ("mysql", "percona"):
        if writes:
            return f"EXPLAIN FORMAT=TREE {text} " + _("(EXPLAIN ANALYZE would run the write)")
        return f"EXPLAIN ANALYZE {text} " + _("(MySQL 8.0.18+; EXPLAIN FORMAT=JSON before)")
    return f"EXPLAIN {text}"


class HeavyQuery:
    """Query shapes (fingerprints) that hold a large share of database time or are slow each time.

    What it finds:
        Fingerprints whose calls add up to at least ``min_time_share`` of all timed database
        time and at least ``min_total_ms``; or whose 95th percentile is at or above
        ``slow_p95_ms`` over at least ``min_calls`` timed calls (pt-query-digest's outlier
        rule). At most ``max_findings``, the heaviest first.

    Why it matters:
        Database time is shared: a shape that holds a third of it slows every request that
        waits for a connection, a lock or the disk behind it. Fixing the top shape of the
        query profile is usually the cheapest large win, and a shape slow on every call is a
        missing index or a plan gone wrong.

    Example:
        ``select * from orders where customer_id = ? order by created_at desc limit ?`` takes
        41 % of database time: 12,408 calls, p95 380 ms.

    How to fix:
        The finding gives the exact plan command for the database (``EXPLAIN (ANALYZE,
        BUFFERS)`` on PostgreSQL, ``EXPLAIN ANALYZE`` on MySQL 8, ``ANALYZE FORMAT=JSON`` on
        MariaDB) on the slowest example, then the fix its numbers point to: an index for a
        slow call, a cache or a batched query for a cheap call made very often, batched
        writes for many single-row inserts, shorter transactions when lock wait dominates
        (MySQL's ``Lock_time``; PostgreSQL's ``log_lock_waits``), an index or a per-query
        ``work_mem`` when its sorts spill to temporary files (``log_temp_files``), an index
        or larger in-memory limits when MySQL builds temporary tables or sorts on disk.
        The caller comes from SQL comment tags (sqlcommenter, Rails QueryLogs, marginalia).

    Options:
        ``min_time_share`` (0.2), ``min_total_ms`` (1000.0), ``slow_p95_ms`` (1000.0),
        ``min_calls`` (10), ``max_findings`` (10).
    """

    code: ClassVar[str] = "P005"
    name: ClassVar[str] = "heavy-query"
    needs: ClassVar[tuple[str, ...]] = ("queries",)
    Options: ClassVar[type[HeavyQueryOptions]] = HeavyQueryOptions

    def run(self, ctx: AnalysisContext, options: HeavyQueryOptions) -> list[Finding]:
        """Flag the fingerprints that dominate database time or are slow on their own."""
        if not ctx.db.count("queries"):
            return []
        # The p95 from a histogram that spills (model/percentiles.py): a quantile state holds
        # every duration of the fingerprint.
        spread = percentiles_sql(
            "queries",
            "duration_ms",
            [0.95],
            by=["fingerprint_id"],
            where="fingerprint_id IS NOT NULL",
        )
        rows = ctx.db.rows(
            f"""
            WITH shapes AS (
                SELECT fingerprint_id, min(fingerprint) AS fingerprint, count(*) AS n,
                       sum(duration_ms) AS total_ms, avg(duration_ms) AS mean_ms,
                       max(duration_ms) AS max_ms,
                       sum(lock_ms) AS lock_ms, sum(rows_examined) AS rows_examined,
                       sum(rows_sent) AS rows_sent, min(db_system) AS db_system,
                       -- What went to disk, kept by the readers as tags: PostgreSQL's
                       -- log_temp_files; MySQL's, Percona's and MariaDB's temporary tables
                       -- and sort merge passes.
                       sum(try_cast(tags['temp_files'] AS BIGINT)) AS temp_files,
                       sum(try_cast(tags['temp_bytes'] AS DOUBLE)) AS temp_bytes,
                       count(tags['tmp_disk_tables']) AS calls_with_disk_tables,
                       sum(try_cast(tags['tmp_disk_tables'] AS BIGINT)) AS tmp_disk_tables,
                       count(tags['sort_merge_passes']) AS calls_with_disk_sorts,
                       min(ts) AS first_ts, max(ts) AS last_ts
                FROM queries WHERE duration_ms IS NOT NULL AND fingerprint_id IS NOT NULL
                GROUP BY fingerprint_id
            ), spread AS ({spread}
            ), timed AS (
                SELECT s.*, p.q[1] AS p95_ms FROM shapes s JOIN spread p USING (fingerprint_id)
            )
            SELECT *, sum(total_ms) OVER () AS all_ms FROM timed
            QUALIFY (total_ms >= ? * all_ms AND total_ms >= ?) OR (n >= ? AND p95_ms >= ?)
            ORDER BY total_ms DESC, fingerprint_id
            LIMIT ?
            """,
            [
                options.min_time_share,
                options.min_total_ms,
                options.min_calls,
                options.slow_p95_ms,
                options.max_findings,
            ],
        )
        return [self._finding(ctx, options, row) for row in rows]

    def _finding(
        self, ctx: AnalysisContext, options: HeavyQueryOptions, row: dict[str, Any]
    ) -> Finding:
        fingerprint = row["fingerprint"]
        time_share = share(row["total_ms"], row["all_ms"])
        is_slow = row["n"] >= options.min_calls and row["p95_ms"] >= options.slow_p95_ms
        is_heavy = time_share >= options.min_time_share and row["total_ms"] >= options.min_total_ms
        worst = ctx.db.rows(
            "SELECT source, line, ts, duration_ms, sql, tags FROM queries "
            "WHERE fingerprint_id = ? AND duration_ms IS NOT NULL "
            "ORDER BY duration_ms DESC, source, line LIMIT 1",
            [row["fingerprint_id"]],
        )[0]
        callers = ctx.db.rows(
            """
            SELECT e.key AS key, e.value AS value, count(*) AS n
            FROM (SELECT unnest(map_entries(tags)) AS e FROM queries
                  WHERE fingerprint_id = ? AND tags IS NOT NULL)
            GROUP BY ALL ORDER BY n DESC, key, value
            """,
            [row["fingerprint_id"]],
        )
        called_from: dict[str, str] = {}
        for caller in callers:
            if caller["key"] in CALLER_TAGS and caller["key"] not in called_from:
                called_from[caller["key"]] = caller["value"]
        severity = (
            Severity.HIGH
            if time_share >= 2 * options.min_time_share or row["p95_ms"] >= 10 * options.slow_p95_ms
            else Severity.MEDIUM
            if is_heavy or is_slow
            else Severity.LOW
        )
        table = table_of(fingerprint)
        subject = _short(fingerprint)
        if table and subject.endswith("…") and table not in subject:
            subject += _(" (on {table})").format(table=table)
        p95 = f"p95 {ms(row['p95_ms'])}"
        if is_heavy:
            why = _("takes {share:.0%} of database time").format(share=time_share) + (
                f", {p95}" if is_slow else ""
            )
        else:
            why = _("is slow: {p95}").format(p95=p95)
        title = _("{subject} {why} ({calls}, {total} in all)").format(
            subject=subject, why=why, calls=_calls(row["n"]), total=ms(row["total_ms"])
        )
        evidence: dict[str, Any] = {
            "calls": row["n"],
            "total_ms": round(row["total_ms"], 3),
            "share_of_db_time": round(time_share, 4),
            "mean_ms": round(row["mean_ms"], 3),
            "p95_ms": round(row["p95_ms"], 3),
            "max_ms": round(row["max_ms"], 3),
            "fingerprint_id": row["fingerprint_id"],
        }
        for key in ("lock_ms", "rows_examined", "rows_sent"):
            if row[key] is not None:
                evidence[key] = round(row[key], 3) if key == "lock_ms" else row[key]
        if row["temp_files"]:
            evidence["temp_files"] = row["temp_files"]
            evidence["temp_bytes"] = int(row["temp_bytes"] or 0)
        if row["calls_with_disk_tables"]:
            evidence["tmp_disk_tables"] = row["tmp_disk_tables"]
            evidence["calls_with_disk_tables"] = row["calls_with_disk_tables"]
        if row["calls_with_disk_sorts"]:
            evidence["calls_with_disk_sorts"] = row["calls_with_disk_sorts"]
        if called_from:
            evidence["called_from"] = called_from
        example: dict[str, Any] = {
            "source": worst["source"],
            "line": worst["line"],
            "duration_ms": worst["duration_ms"],
            "text": worst["sql"],
        }
        if worst["ts"] is not None:
            example["ts"] = worst["ts"].isoformat()
        location = location_from_tags(worst["tags"])
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            # Database time, not request time: rank it a little under the routes it slows.
            score=min(1.0, 0.9 * time_share + (0.05 if is_slow else 0.0)),
            title=title,
            fingerprint=fingerprint,
            evidence=evidence,
            impact={"time_ms": round(row["total_ms"], 3), "share_of_total": round(time_share, 4)},
            location=(location,) if location else (),
            fix=_fix(row, worst["sql"] or fingerprint, time_share),
            examples=(example,),
        )


def _calls(n: int) -> str:
    return ngettext("{count} call", "{count} calls", n).format(count=count(n))


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fix(row: dict[str, Any], sql: str, time_share: float) -> str:
    """The plan command first, then what the numbers of this shape point to."""
    verb = row["fingerprint"].split(None, 1)[0] if row["fingerprint"] else ""
    steps = [_("Read its plan: {command}.").format(command=explain_command(row["db_system"], sql))]
    if row["n"] >= 100 and row["mean_ms"] < 10:
        steps.append(
            _(
                "Each call is cheap ({mean}) but it runs {count} times: cache the result if it "
                "changes rarely, or batch the calls into one query (an IN list or a join) — a "
                "call inside a loop over rows is the usual cause (see P001)."
            ).format(mean=ms(row["mean_ms"]), count=count(row["n"]))
        )
    elif verb in ("insert", "replace") and row["n"] >= 100:
        steps.append(
            _(
                "Batch the single-row writes: one multi-row INSERT (or COPY / LOAD DATA) per few "
                "hundred rows, and commit per batch instead of per row."
            )
        )
    else:
        steps.append(
            _(
                "Each call takes {mean} on average: look in the plan for sequential or full "
                "scans, filesort and temporary tables; index the columns of its WHERE and JOIN "
                "(equality columns first), select only the columns used, paginate, or "
                "precompute the result if it aggregates much data."
            ).format(mean=ms(row["mean_ms"]))
        )
    if row["temp_files"]:
        steps.append(
            _(
                "It wrote {files} temporary files ({size}): its sorts or hashes do not fit in "
                "work_mem. An index that returns the rows in the order asked, or fewer columns "
                "selected, avoids them; else raise work_mem for this query only (SET LOCAL "
                "work_mem in its transaction), not for every connection."
            ).format(files=count(row["temp_files"]), size=byte_size(row["temp_bytes"]))
        )
    if row["calls_with_disk_tables"]:
        steps.append(
            _(
                "{calls} of its calls built temporary tables on disk: its GROUP BY, DISTINCT "
                "or ORDER BY needs one larger than tmp_table_size / max_heap_table_size, or "
                "with TEXT/BLOB columns. An index on the grouped or ordered columns avoids it; "
                "else select fewer columns (no TEXT), or raise both sizes together."
            ).format(calls=count(row["calls_with_disk_tables"]))
        )
    if row["calls_with_disk_sorts"]:
        steps.append(
            _(
                "{calls} of its calls sorted on disk (merge passes): an index that returns "
                "the rows in the ORDER BY order avoids the sort; else raise sort_buffer_size "
                "for this session only."
            ).format(calls=count(row["calls_with_disk_sorts"]))
        )
    if row["lock_ms"] and row["lock_ms"] >= 0.2 * row["total_ms"]:
        steps.append(
            _(
                "{share:.0%} of its time is lock wait: it contends with other transactions on "
                "the same rows — keep those short."
            ).format(share=share(row["lock_ms"], row["total_ms"]))
        )
    if time_share >= 0.5:
        steps.append(_("It is most of the database's work: fixing it frees capacity for all."))
    return " ".join(steps)
