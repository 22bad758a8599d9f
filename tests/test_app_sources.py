"""App-log readers beyond the captured cases: stacks kept whole, documented layouts, times.

The captured cases (tests/cases/sources/app_*) check the columns line by line; here: what a
whole stack trace looks like after grouping, layouts of frameworks not captured here (written
as their documentation shows them), and time handling.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings

CASES = Path(__file__).parent / "cases" / "sources"


def _records(
    tmp_path: Path, lines: list[str], **options: str
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    return api.records(str(path), Settings(format_options=options))


def test_java_stack_with_causes_is_one_record() -> None:
    _, rows, rejects = api.records(str(CASES / "app_text" / "logback_pattern.log"))
    checkout = next(r for r in rows if r["line"] == 4)
    stack = checkout["stack"].splitlines()
    assert stack[0].startswith("java.lang.IllegalStateException: cart 9")
    assert any(s.startswith("Caused by: java.lang.NullPointerException") for s in stack)
    assert stack[-1].strip() == "... 1 common frames omitted"
    # The 7 trace lines are part of the entry, not records or rejections.
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 12, 18]
    assert rejects == []


def test_chained_python_traceback_keeps_both_and_names_the_last() -> None:
    _, rows, _ = api.records(str(CASES / "app_text" / "gunicorn_flask_worker_timeout.log"))
    chained = next(r for r in rows if r["message"] == "Exception on /chained [GET]")
    assert "KeyError: 'missing'" in chained["stack"]
    assert "The above exception was the direct cause" in chained["stack"]
    assert chained["stack"].rstrip().endswith("RuntimeError: could not read the cart")
    assert chained["error_type"] == "RuntimeError"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (  # Spring Boot 3.4 default console pattern (with the application name)
            "2026-11-24T10:00:00.123+01:00 ERROR 4242 --- [shop] [nio-8080-exec-1] "
            "c.e.shop.CheckoutController             : Checkout failed",
            {"ts": "2026-11-24T09:00:00.123000", "level": "ERROR",
             "message": "Checkout failed", "attributes": {"pid": "4242"}},
        ),
        (  # Spring Boot 2.x (no application name)
            "2026-11-24 10:00:00.123  WARN 4242 --- [           main] o.s.b.StartupInfoLogger"
            "                 : Slow startup",
            {"level": "WARNING", "message": "Slow startup", "attributes": {"thread": "main"}},
        ),
        (  # log4j's classic %d %-5p [%t] %c{1}:%L - %m
            "2026-11-24 10:00:00,456 ERROR [http-nio-8080-exec-3] OrderService:88 - boom",
            {"ts": "2026-11-24T10:00:00.456000", "level": "ERROR", "message": "boom",
             "attributes": {"logger": "OrderService:88"}},
        ),
        (  # Django docs' verbose formatter
            "ERROR 2026-11-24 10:00:00,789 views 4242 139 Internal Server Error: /cart",
            {"level": "ERROR", "message": "Internal Server Error: /cart",
             "attributes": {"logger": "views", "pid": "4242"}},
        ),
        (  # %(asctime)s [%(levelname)s] %(name)s: %(message)s
            "2026-11-24 10:00:00,001 [CRITICAL] app.db: pool exhausted request_id=r-77",
            {"level": "CRITICAL", "message": "app.db: pool exhausted request_id=r-77",
             "request_id": "r-77"},
        ),
    ],
)  # fmt: skip
def test_documented_text_layouts(tmp_path: Path, line: str, expected: dict[str, Any]) -> None:
    summary, rows, rejects = _records(tmp_path, [line, line])
    assert summary.format == "app_text"
    assert rejects == []
    row = rows[0]
    for key, value in expected.items():
        actual = row[key].isoformat() if key == "ts" else row[key]
        if isinstance(value, dict):
            assert {k: actual.get(k) for k in value} == value
        else:
            assert actual == value, key


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (  # zap production encoder: epoch seconds
            {"level": "error", "ts": 1795600800.25, "caller": "shop/cart.go:42",
             "msg": "cart failed", "error": "context deadline exceeded"},
            {"ts": "2026-11-25T10:00:00.250000", "level": "ERROR", "message": "cart failed"},
        ),
        (  # logrus JSONFormatter
            {"level": "warning", "msg": "slow", "time": "2026-11-24T10:00:00+02:00"},
            {"ts": "2026-11-24T08:00:00", "level": "WARNING", "message": "slow"},
        ),
        (  # Serilog compact JSON (CLEF)
            {"@t": "2026-11-24T10:00:00.1234567Z", "@mt": "Order {Id} failed", "@l": "Error",
             "@x": "System.InvalidOperationException: nope\n   at Shop.Pay()", "Id": 7},
            {"level": "ERROR", "error_type": "System.InvalidOperationException",
             "attributes": {"Id": "7"}},
        ),
        (  # Google Cloud structured logging
            {"severity": "CRITICAL", "message": "down", "timestamp": "2026-11-24T10:00:00Z",
             "logging.googleapis.com/trace": "projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736"},
            # The trace id alone, as the access readers keep it (json_access's gcp_trace).
            {"level": "CRITICAL", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        ),
        (  # ECS with dotted keys and a nanosecond epoch string elsewhere
            {"@timestamp": "2026-11-24T10:00:00.000Z", "log.level": "error", "message": "x",
             "error.type": "KeyError", "http.request.id": "abc-1", "trace.id": "t-1"},
            {"level": "ERROR", "error_type": "KeyError", "request_id": "abc-1",
             "trace_id": "t-1"},
        ),
        (  # epoch microseconds
            {"time": 1795600800000000, "level": 50, "msg": "pino-like"},
            {"ts": "2026-11-25T10:00:00", "level": "ERROR"},
        ),
    ],
)  # fmt: skip
def test_documented_json_shapes(
    tmp_path: Path, record: dict[str, Any], expected: dict[str, Any]
) -> None:
    summary, rows, rejects = _records(tmp_path, [json.dumps(record)] * 2)
    assert summary.format == "app_json"
    assert rejects == []
    row = rows[0]
    for key, value in expected.items():
        actual = row[key].isoformat() if key == "ts" else row[key]
        if isinstance(value, dict):
            assert {k: actual.get(k) for k in value} == value
        else:
            assert actual == value, key


def test_app_timezone_applies_to_times_without_a_zone(tmp_path: Path) -> None:
    lines = [
        "2026-07-01 12:00:00,000 - app - INFO - summer",
        "2026-12-01 12:00:00,000 - app - INFO - winter",
    ]
    _, rows, _ = _records(tmp_path, lines, app_timezone="Europe/Paris")
    assert [r["ts"].isoformat() for r in rows] == ["2026-07-01T10:00:00", "2026-12-01T11:00:00"]
    _, utc_rows, _ = _records(tmp_path, lines)
    assert utc_rows[0]["ts"].isoformat() == "2026-07-01T12:00:00"


def test_lines_before_the_first_entry_are_counted_not_glued(tmp_path: Path) -> None:
    lines = [
        "    at com.example.Tail.run(Tail.java:1)",  # the log was rotated mid-trace
        "2026-11-24 10:00:00.000 [main] INFO  c.e.App - started",
        "2026-11-24 10:00:01.000 [main] ERROR c.e.App - failed",
        "java.lang.IllegalStateException: x",
        "\tat c.e.App.main(App.java:3)",
    ]
    _, rows, rejects = _records(tmp_path, lines)
    assert [r["line"] for r in rows] == [2, 3]
    assert rows[1]["error_type"] == "java.lang.IllegalStateException"
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (1, "continuation line before the first log entry")
    ]
