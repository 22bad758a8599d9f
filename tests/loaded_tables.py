"""Load one log file with the real engine and return every canonical table it filled.

``api.records`` gives the main table only; database readers also fill ``db_events``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logtriage.config import Settings
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.loading import load_input
from logtriage.model.report import InputSummary
from logtriage.sources.reading import expand_inputs


@dataclass(frozen=True)
class Loaded:
    """What the readers made of one file."""

    summary: InputSummary
    queries: list[dict[str, Any]]
    db_events: list[dict[str, Any]]
    rejects: list[dict[str, Any]]


def load_tables(path: str, settings: Settings | None = None) -> Loaded:
    """Load ``path`` (autodetected unless ``settings.format``) into a fresh database."""
    settings = settings or Settings()
    with new_work_dir(settings) as work_dir:
        files = expand_inputs([path], work_dir)
        db = Database(settings, work_dir)
        try:
            summary = load_input(db, files[0], 0, settings, {})
            return Loaded(
                summary=summary,
                queries=db.rows("SELECT * FROM queries ORDER BY line"),
                db_events=db.rows("SELECT * FROM db_events ORDER BY line"),
                rejects=db.rows("SELECT line, reason, text FROM rejects ORDER BY line"),
            )
        finally:
            db.close()
