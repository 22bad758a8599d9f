"""How often time-based correlation ties a query to the request its own id names.

A run whose application tags every statement with the request id (sqlcommenter) carries its
own answer key: tie the queries by id, hide the ids, tie them again by time and connection
alone, and count how many of the second ties agree with the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from logtriage.config import Settings
from logtriage.engine.correlate import correlate
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.fingerprint import normalize_queries
from logtriage.engine.loading import load_input
from logtriage.engine.routes import assign_routes
from logtriage.sources.reading import expand_inputs


@dataclass(frozen=True)
class TimeTies:
    """Queries tied by id, and what time and connection alone made of them."""

    by_id: int  # queries tied to a request by their id (the answer key)
    tied: int  # of those, tied again with the ids hidden
    right: int  # of those, to the same request
    ambiguous: int  # queries left ambiguous with the ids hidden (all queries)

    @property
    def precision(self) -> float:
        return self.right / self.tied if self.tied else 0.0


def time_ties_against_ids(access_log: str, db_log: str) -> TimeTies:
    """Tie ``db_log``'s queries to ``access_log``'s requests twice: by id, then without ids."""
    settings = Settings()
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir)
        try:
            for scan, item in enumerate(expand_inputs([access_log, db_log], work_dir)):
                load_input(db, item, scan, settings, {})
            normalize_queries(db)
            assign_routes(db, settings, ())
            correlate(db)
            db.execute(
                "CREATE TABLE answer AS SELECT source, line, request_source, request_line "
                "FROM correlations WHERE kind = 'query' AND how IN ('request_id', 'trace_id')"
            )
            db.execute("UPDATE queries SET request_id = NULL, trace_id = NULL, tags = NULL")
            stats = correlate(db)
            row = db.rows(
                """
                SELECT (SELECT count(*) FROM answer) AS by_id, count(c.line) AS tied,
                       count(*) FILTER (WHERE c.request_source = a.request_source
                                          AND c.request_line = a.request_line) AS "right"
                FROM answer a LEFT JOIN correlations c
                  ON c.kind = 'query' AND c.source = a.source AND c.line = a.line
                """
            )[0]
        finally:
            db.close()
    return TimeTies(int(row["by_id"]), int(row["tied"]), int(row["right"]), stats.ambiguous)
