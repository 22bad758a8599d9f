"""O002 checkpoint-pressure: PostgreSQL checkpoints forced by WAL volume (max_wal_size small)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import byte_size, count
from logtriage.model.i18n import _

# checkpoint_completion_target's default (0.9 since PostgreSQL 14): a checkpoint starts when
# the WAL since the last one reaches max_wal_size / (1 + target).
_COMPLETION_TARGET = 0.9
# checkpoint_timeout's default, when the log shows no timed checkpoints to measure it by.
_DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class CheckpointPressureOptions:
    """Thresholds for O002."""

    # Checkpoints started by WAL volume ("checkpoint starting: wal") before it is reported …
    min_wal_checkpoints: int = 3
    # … when they are at least this share of all checkpoints (or the server warned).
    min_wal_share: float = 0.3


class CheckpointPressure:
    """Checkpoints that WAL volume forces before checkpoint_timeout: max_wal_size too small.

    What it finds:
        PostgreSQL logs (``log_checkpoints``, on by default since 15) where at least
        ``min_wal_checkpoints`` checkpoints started because of WAL volume (``checkpoint
        starting: wal``) and they are at least ``min_wal_share`` of all, or where the server
        warned ``checkpoints are occurring too frequently``. It measures how far apart they
        came, how long they took, and how fast WAL was written meanwhile (the ``distance`` of
        each completed checkpoint over the time between them).

    Why it matters:
        Each checkpoint writes every dirty page, and the first change to a page after it
        writes the whole page to WAL again (full-page writes): checkpoints seconds apart
        multiply WAL volume and disk writes, slow every write, and lengthen replica lag. They
        should come from ``checkpoint_timeout``, minutes apart, not from WAL volume.

    Example:
        ``postgresql.log``: 42 of 45 checkpoints forced by WAL, 18 s apart (median), 31
        "too frequently" warnings; WAL written at 6 MB/s.

    How to fix:
        Raise ``max_wal_size`` (a reload is enough) to about the WAL written in one
        ``checkpoint_timeout`` times 1 + ``checkpoint_completion_target``: the finding
        computes it from the measured WAL rate. If the WAL comes from batch jobs or bulk
        loads, raise it for their window, or spread them out.

    Options:
        ``min_wal_checkpoints`` (3), ``min_wal_share`` (0.3).
    """

    code: ClassVar[str] = "O002"
    name: ClassVar[str] = "checkpoint-pressure"
    needs: ClassVar[tuple[str, ...]] = ("db_events",)
    Options: ClassVar[type[CheckpointPressureOptions]] = CheckpointPressureOptions

    def run(self, ctx: AnalysisContext, options: CheckpointPressureOptions) -> list[Finding]:
        """One finding per database log whose checkpoints are forced by WAL volume."""
        if not ctx.db.count("db_events"):
            return []
        rows = ctx.db.rows(
            r"""
            WITH events AS (
                SELECT source, line, ts, message, db_system,
                    regexp_extract(message, '^(?:checkpoint|restartpoint) starting: (.*)$', 1)
                        AS reason,
                    regexp_matches(message, '^(?:checkpoint|restartpoint) complete: ')
                        AS is_complete,
                    starts_with(message, 'checkpoints are occurring too frequently')
                        AS is_warning
                FROM db_events
                WHERE message IS NOT NULL AND (kind = 'checkpoint'
                    OR starts_with(message, 'checkpoints are occurring too frequently'))
            ), starts AS (
                SELECT source, ts, regexp_matches(reason, '\b(?:wal|xlog)\b') AS by_wal,
                    regexp_matches(reason, '\btime\b') AS by_time,
                    epoch(ts) - epoch(lag(ts) OVER (PARTITION BY source ORDER BY line))
                        AS gap_s
                FROM events WHERE reason <> ''
            ), completes AS (
                SELECT source, ts,
                    try_cast(regexp_extract(message, ' total=([0-9.]+) s', 1) AS DOUBLE)
                        AS total_s,
                    try_cast(regexp_extract(message, 'distance=([0-9]+) kB', 1) AS DOUBLE)
                        AS distance_kb,
                    row_number() OVER (PARTITION BY source ORDER BY line) AS k
                FROM events WHERE is_complete
            ), per_start AS (
                SELECT source, count(*) AS started,
                    count(*) FILTER (WHERE by_wal) AS by_wal,
                    count(*) FILTER (WHERE by_time) AS by_time,
                    quantile_cont(gap_s, 0.5) FILTER (WHERE by_wal) AS wal_gap_s,
                    quantile_cont(gap_s, 0.5) FILTER (WHERE by_time) AS time_gap_s,
                    min(ts) AS first_ts, max(ts) AS last_ts
                FROM starts GROUP BY source
            ), per_complete AS (
                -- WAL written between the first completed checkpoint and the last: the
                -- distances after the first, over the time between them.
                SELECT source, max(total_s) AS max_total_s,
                    sum(distance_kb) FILTER (WHERE k > 1) AS wal_kb,
                    epoch(max(ts)) - epoch(min(ts)) AS span_s
                FROM completes GROUP BY source
            ), warned AS (
                SELECT source, count(*) AS warnings, any_value(db_system) AS db_system
                FROM events WHERE is_warning GROUP BY source
            )
            SELECT s.*, c.max_total_s, c.wal_kb, c.span_s,
                coalesce(w.warnings, 0) AS warnings
            FROM per_start s LEFT JOIN per_complete c USING (source)
            LEFT JOIN warned w USING (source)
            WHERE (s.by_wal >= ? AND s.by_wal >= ? * s.started) OR coalesce(w.warnings, 0) > 0
            ORDER BY s.by_wal DESC, s.source
            """,
            [options.min_wal_checkpoints, options.min_wal_share],
        )
        return [self._finding(row) for row in rows]

    def _finding(self, row: dict[str, Any]) -> Finding:
        by_wal, started = row["by_wal"], row["started"]
        gap = row["wal_gap_s"]
        evidence: dict[str, Any] = {
            "source": row["source"],
            "checkpoints": started,
            "checkpoints_by_wal": by_wal,
            "checkpoints_by_time": row["by_time"],
            "too_frequent_warnings": row["warnings"],
        }
        if gap is not None:
            evidence["median_s_between_wal_checkpoints"] = round(gap, 1)
        if row["max_total_s"] is not None:
            evidence["longest_checkpoint_s"] = round(row["max_total_s"], 3)
        timeout_s = row["time_gap_s"] if row["by_time"] >= 2 and row["time_gap_s"] else None
        need_mb = None
        if row["wal_kb"] and row["span_s"] and row["span_s"] >= 1:
            rate = row["wal_kb"] * 1024 / row["span_s"]
            evidence["wal_bytes_per_s"] = round(rate)
            need = rate * (timeout_s or _DEFAULT_TIMEOUT_S) * (1 + _COMPLETION_TARGET)
            # Rounded up to a power of two in MB, as people write the setting.
            need_mb = 2 ** math.ceil(math.log2(max(need / 2**20, 64)))
            evidence["suggested_max_wal_size_mb"] = need_mb
        severity = (
            Severity.HIGH
            if by_wal >= 10 and gap is not None and gap < 30
            else Severity.MEDIUM
            if by_wal >= 3
            else Severity.LOW
        )
        apart = ""
        if gap is not None:
            seconds = f"{gap:.1f}" if gap < 10 else f"{gap:.0f}"
            apart = _(", {seconds} s apart (median)").format(seconds=seconds)
        title = _(
            "{wal} of {all} checkpoints forced by WAL volume{apart}: max_wal_size is too "
            "small for the write load"
        ).format(wal=count(by_wal), all=count(started), apart=apart)
        if need_mb is not None:
            rate_text = byte_size(evidence["wal_bytes_per_s"])
            timeout = f"{timeout_s:.0f} s" if timeout_s else "5 min"
            fix = _(
                "Raise max_wal_size (postgresql.conf, then SELECT pg_reload_conf()) so that "
                "checkpoints come every checkpoint_timeout ({timeout}) instead: WAL was "
                "written at about {rate}/s while they ran, so max_wal_size = {size}MB "
                "(the WAL of one checkpoint_timeout × 1.9). If this WAL comes from batch jobs "
                "or bulk loads, raise it for their window or spread them out."
            ).format(timeout=timeout, rate=rate_text, size=need_mb)
        else:
            fix = _(
                "Raise max_wal_size (postgresql.conf, then SELECT pg_reload_conf()) until "
                "checkpoints start by time (checkpoint_timeout), not by WAL volume; check "
                "with log_checkpoints = on that they then say 'starting: time'."
            )
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=min(1.0, 0.05 * (1.0 + math.log10(max(by_wal, 1)))),
            title=title,
            evidence=evidence,
            impact={"checkpoints_by_wal": by_wal},
            fix=fix,
            examples=(),
        )
