"""logfmt: pairs into app events, access pairs into requests, both from one mixed stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logtriage.config import Settings
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.loading import choose_format, load_input
from logtriage.sources.base import FormatOptions
from logtriage.sources.reading import expand_inputs

CASES = Path(__file__).parent / "cases" / "sources"
HEROKU = CASES / "logfmt_access" / "heroku_router.log"


def _tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    settings = Settings()
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir)
        try:
            load_input(db, expand_inputs([str(path)], work_dir)[0], 0, settings, {})
            return {
                table: db.rows(f"SELECT * FROM {table} ORDER BY line")
                for table in ("requests", "app_events", "rejects")
            }
        finally:
            db.close()


def test_heroku_stream_fills_requests_and_app_events() -> None:
    tables = _tables(HEROKU)
    lines = HEROKU.read_text().splitlines()
    access = [n for n, text in enumerate(lines, 1) if "heroku[router]" in text]
    assert [r["line"] for r in tables["requests"]] == access
    events = {r["line"]: r for r in tables["app_events"]}
    # The app dyno's logrus line keeps its own time, level and request id.
    app_line = next(n for n, text in enumerate(lines, 1) if "app[web.1]" in text)
    assert events[app_line]["level"] == "ERROR"
    assert events[app_line]["message"] == "order lookup failed"
    assert events[app_line]["attributes"]["process"] == "app[web.1]"
    # The platform's plain-text line is a message, not a rejection.
    platform = next(n for n, text in enumerate(lines, 1) if "State changed" in text)
    assert events[platform]["message"] == "State changed from up to crashed"
    assert tables["rejects"] == []


def test_app_stream_with_a_router_line_keeps_app_events_primary(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        'time="2026-11-25T10:00:00Z" level=info msg="booted" pid=1\n'
        'time="2026-11-25T10:00:01Z" level=warning msg="slow" request_id=r1\n'
        'time="2026-11-25T10:00:02Z" level=info method=GET path=/x status=200 duration=2.5ms '
        "request_id=r1\n"
    )
    tables = _tables(log)
    assert [r["line"] for r in tables["app_events"]] == [1, 2]
    (request,) = tables["requests"]
    assert (request["method"], request["path"], request["status"]) == ("GET", "/x", 200)
    assert request["duration_ms"] == 2.5
    assert request["request_id"] == "r1"


def test_request_line_pairs_and_seconds(tmp_path: Path) -> None:
    # An nginx log_format written as pairs (``request="$request"``, ``$request_time`` seconds).
    log = tmp_path / "nginx.log"
    log.write_text(
        'measure#nginx.service=0.005 request="GET /a/7?ref=home HTTP/1.1" status_code=200 '
        'request_id=3f2a9c remote_addr="10.0.0.1" body_bytes_sent=512 user_agent="curl/8.5.0"\n'
    )
    (request,) = _tables(log)["requests"]
    assert request["method"] == "GET"
    assert (request["path"], request["query"]) == ("/a/7", "ref=home")
    assert request["duration_ms"] == 5.0
    assert (request["client"], request["bytes_sent"]) == ("10.0.0.1", 512)


def test_go_durations_of_every_unit(tmp_path: Path) -> None:
    log = tmp_path / "go.log"
    values = {"1m2.5s": 62500.0, "18ms": 18.0, "250µs": 0.25, "1h": 3600000.0, "7": 7.0}
    log.write_text(
        "".join(f"level=info method=GET path=/d status=200 duration={v}\n" for v in values)
    )
    got = [r["duration_ms"] for r in _tables(log)["requests"]]
    assert got == list(values.values())


def test_lines_without_pairs_are_rejected_with_a_reason(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_text("level=info msg=ok\nplain words here\nlevel=info msg=ok2\n")
    settings_format = _tables(log)
    assert [(r["line"], r["reason"]) for r in settings_format["rejects"]] == [
        (2, "no key=value pairs (not a logfmt line)")
    ]


def test_sniff_leaves_other_formats_alone() -> None:
    for folder in ("nginx", "postgresql", "app_text", "app_json", "mysql_slow"):
        for log in sorted((CASES / folder).glob("*.log")):
            sample = log.read_text(errors="replace").splitlines()[:64]
            chosen = choose_format(sample, FormatOptions({}), None).format
            assert chosen is None or not chosen.name.startswith("logfmt"), log
