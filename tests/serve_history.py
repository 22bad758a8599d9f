"""A saved analysis for the dashboard tests: real logs → ``analyze --state`` → history + report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from logtriage import api
from logtriage.config import Settings
from tests.fixed_report import XSS_PAYLOADS

N_PLUS_ONE_ROUTE = "GET /api/articles"
START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
# Planted where a dashboard could show them: a path's query string and a statement's literal.
TOKEN = "hunter2-s3cret"
AWS_KEY = "AKIAABCDEFGHIJKLMNOP"
ARTICLES = 6  # N+1 requests; request n runs 8 + n author queries


def _nginx(when: datetime, request: str, status: int, seconds: float, agent: str) -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'127.0.0.1 - - [{stamp}] "{request}" {status} 512 "-" "{agent}" '
        f"{seconds:.3f} {seconds:.3f}"
    )


def _pg(when: datetime, pid: int, ms: float, sql: str) -> str:
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp} UTC [{pid}] LOG:  duration: {ms:.3f} ms  statement: {sql}"


def write_logs(directory: Path, *, hostile: bool = True) -> list[Path]:
    """An nginx access log and a PostgreSQL log with a planted N+1, errors, payloads, secrets.

    Requests are 10 s apart so time alone ties each query burst to exactly one request.
    """
    access: list[str] = []
    database: list[str] = []
    slot = 0

    def at(offset: float = 0.0) -> datetime:
        return START + timedelta(seconds=10 * slot + offset)

    for n in range(ARTICLES):
        slot += 1
        # nginx writes the end time (whole seconds); the request ran 0.9 s before it.
        access.append(_nginx(at(1), "GET /api/articles HTTP/1.1", 200, 0.9, "curl/8.5.0"))
        pid = 4000 + n
        database.append(
            _pg(at(0.2), pid, 0.4, "SELECT articles.id, articles.title FROM articles "
                "ORDER BY articles.id DESC LIMIT 50")
        )  # fmt: skip
        for i in range(8 + n):
            database.append(
                _pg(at(0.3 + 0.01 * i), pid, 0.15, "SELECT authors.id, authors.name FROM authors "
                    f"WHERE authors.id = {i + 1}")
            )  # fmt: skip
    for n in range(4):
        slot += 1
        access.append(_nginx(at(1), f"POST /api/orders/{100 + n}/pay HTTP/1.1", 500, 0.05, "app"))
        database.append(
            _pg(at(0.97), 5000 + n, 0.3, f"SELECT * FROM users WHERE password = '{TOKEN}'")
        )
    slot += 1
    access.append(_nginx(at(1), f"GET /reset?token={TOKEN} HTTP/1.1", 200, 0.01, "browser"))
    slot += 1
    access.append(_nginx(at(1), f"GET /keys/{AWS_KEY} HTTP/1.1", 200, 0.01, "browser"))
    if hostile:
        for i, payload in enumerate(XSS_PAYLOADS):
            slot += 1
            raw = payload.replace(" ", "%20").replace('"', "\\x22")
            agent = payload.replace('"', "\\x22")
            status = 404 if i % 2 else 200
            access.append(_nginx(at(1), f"GET /p/{raw}/view HTTP/1.1", status, 0.02, agent))
    access_log = directory / "access.log"
    access_log.write_text("\n".join(access) + "\n", encoding="utf-8")
    db_log = directory / "postgresql.log"
    db_log.write_text("\n".join(database) + "\n", encoding="utf-8")
    return [access_log, db_log]


def build_state(state: Path, logs: list[Path], *, settings: Settings | None = None) -> Path:
    """Run ``analyze --state`` over ``logs``: ``state``/history.duckdb and report.json."""
    chosen = (settings or Settings()).with_overrides(state=str(state))
    api.analyze([str(p) for p in logs], chosen, now=datetime(2026, 11, 25, tzinfo=UTC))
    return state
