"""Watch alerts on planted windows: start once, stay quiet while held, resolve when gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from logtriage.config import Settings
from logtriage.engine.watch_rules import AlertBook, AlertRules, conditions, parse_thresholds
from logtriage.engine.watch_window import RollingWindow
from logtriage.errors import ConfigError
from logtriage.model.alert import AlertState
from logtriage.sources.follow import Chunk

T0 = datetime(2026, 11, 25, 10, 0, 0)


def _lines(at: datetime, count: int, *, status: int = 200, seconds: float = 0.05) -> list[str]:
    stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return [
        f'10.0.0.{i % 9} - - [{stamp}] "GET /orders/{i} HTTP/1.1" {status} 120 "-" "curl/8" '
        f"{seconds:.3f} {seconds:.3f}"
        for i in range(count)
    ]


class Feed:
    """Writes lines as a followed file would deliver them, numbering them as the file does."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.line = 1
        self.n = 0

    def chunk(self, lines: list[str]) -> Chunk:
        self.n += 1
        spool = self.tmp / f"chunk{self.n}.log"
        spool.write_text("\n".join(lines) + "\n")
        chunk = Chunk("access.log", str(spool), self.line, len(lines))
        self.line += len(lines)
        return chunk


@pytest.fixture
def window(tmp_path: Path) -> Iterator[RollingWindow]:
    win = RollingWindow(
        Settings(), str(tmp_path), window=timedelta(seconds=60), baseline=timedelta(hours=1)
    )
    yield win
    win.close()


def _tick(
    win: RollingWindow, book: AlertBook, rules: AlertRules, now: datetime
) -> list[tuple[str, str]]:
    win.prune(now)
    result = win.analyze(now)
    held = conditions(result.findings, result.routes, rules, "1m")
    alerts = book.update(held, now.isoformat())
    return [(a.state.value, a.condition.key) for a in alerts if a.condition.rule == "route-5xx"]


def test_error_rate_alert_fires_once_and_resolves(window: RollingWindow, tmp_path: Path) -> None:
    rules = AlertRules(route_5xx_rate=0.10)
    book = AlertBook(clear_ticks=1)
    feed = Feed(tmp_path)
    window.add(feed.chunk(_lines(T0, 40)), T0)
    assert _tick(window, book, rules, T0 + timedelta(seconds=1)) == []
    # The fault: a third of the next requests fail.
    window.add(feed.chunk(_lines(T0 + timedelta(seconds=5), 20, status=502)), T0)
    key = "route-5xx:GET /orders/{id}"
    assert _tick(window, book, rules, T0 + timedelta(seconds=6)) == [("firing", key)]
    # Still failing: not repeated.
    window.add(feed.chunk(_lines(T0 + timedelta(seconds=10), 5, status=500)), T0)
    assert _tick(window, book, rules, T0 + timedelta(seconds=11)) == []
    assert key in book.firing
    # Healthy again, and the failures leave the window: resolved once.
    later = T0 + timedelta(seconds=75)
    window.add(feed.chunk(_lines(later, 30)), later)
    assert _tick(window, book, rules, later + timedelta(seconds=1)) == [("resolved", key)]
    assert _tick(window, book, rules, later + timedelta(seconds=2)) == []


def test_rows_keep_their_line_numbers_and_leave_with_the_window(
    window: RollingWindow, tmp_path: Path
) -> None:
    feed = Feed(tmp_path)
    window.add(feed.chunk(_lines(T0, 3)), T0)
    window.add(feed.chunk(_lines(T0 + timedelta(seconds=30), 2, status=500)), T0)
    lines = window.db.rows("SELECT line, status FROM win.requests ORDER BY line")
    assert [(r["line"], r["status"]) for r in lines] == [
        (1, 200),
        (2, 200),
        (3, 200),
        (4, 500),
        (5, 500),
    ]
    window.prune(T0 + timedelta(seconds=70))
    assert window.db.scalar("SELECT count(*) FROM win.requests") == 2
    window.prune(T0 + timedelta(seconds=100))
    assert window.db.scalar("SELECT count(*) FROM win.requests") == 0


def test_a_route_slower_than_its_own_baseline_alerts(tmp_path: Path) -> None:
    window = RollingWindow(
        Settings(), str(tmp_path), window=timedelta(minutes=5), baseline=timedelta(hours=1)
    )
    book = AlertBook(clear_ticks=1)
    feed = Feed(tmp_path)
    fired: list[tuple[int, str]] = []
    # Twelve quiet minutes at 50 ms, then a minute at 900 ms.
    for minute in range(13):
        at = T0 + timedelta(minutes=minute)
        seconds = 0.9 if minute == 12 else 0.05
        window.add(feed.chunk(_lines(at + timedelta(seconds=10), 30, seconds=seconds)), at)
        now = at + timedelta(seconds=40)
        window.prune(now)
        result = window.analyze(now)
        held = conditions(result.findings, result.routes, AlertRules(), "5m")
        fired += [(minute, a.condition.key) for a in book.update(held, now.isoformat())]
    window.close()
    assert [m for m, key in fired if key.startswith("baseline-p95:")] == [12]
    slow = book.firing["baseline-p95:GET /orders/{id}"]
    assert slow.code == "P004"
    assert slow.evidence["baseline_p95_ms"] == pytest.approx(50.0)
    assert slow.evidence["p95_ms"] == pytest.approx(900.0)


def test_alert_book_waits_clear_ticks_before_resolving() -> None:
    from logtriage.model.alert import Condition
    from logtriage.model.finding import Severity

    c = Condition("k", "route-5xx", "A001", "error-prone-route", Severity.HIGH, "t", "f")
    book = AlertBook(clear_ticks=2)
    assert [a.state for a in book.update({"k": c}, "1")] == [AlertState.FIRING]
    assert book.update({}, "2") == []  # one quiet tick is not the end
    assert book.update({"k": c}, "3") == []  # back: still the same alert, not a new one
    assert book.update({}, "4") == []
    resolved = book.update({}, "5")
    assert [(a.state, a.since) for a in resolved] == [(AlertState.RESOLVED, "1")]


def test_secrets_are_redacted_in_alerts() -> None:
    from logtriage.model.alert import Condition
    from logtriage.model.finding import Severity

    secret = "sk_live_abcdefghijklmnop1234"
    c = Condition(
        "k",
        "new-finding",
        "S001",
        "secret-in-logs",
        Severity.HIGH,
        f"token={secret} seen",
        f"rotate token={secret}",
        evidence={"example": f"GET /x?token={secret}"},
        examples=({"text": f"password={secret}"},),
    )
    (alert,) = AlertBook().update({"k": c}, "now")
    assert secret not in str(alert.to_json())
    assert "[REDACTED]" in alert.condition.title


@pytest.mark.parametrize(
    ("spec", "field", "value"),
    [
        ("route-p95=500ms", "route_p95_ms", 500.0),
        ("route-p95=1.5s", "route_p95_ms", 1500.0),
        ("route-5xx=5%", "route_5xx_rate", 0.05),
        ("route-5xx=0.2", "route_5xx_rate", 0.2),
        ("baseline-p95=3x", "baseline_p95_factor", 3.0),
        ("queries-per-request=20", "queries_per_request", 20.0),
    ],
)
def test_thresholds_parse(spec: str, field: str, value: float) -> None:
    assert getattr(parse_thresholds([spec]), field) == pytest.approx(value)


@pytest.mark.parametrize("spec", ["route-p95", "p95=1s", "route-5xx=150%", "route-p95=fast"])
def test_bad_thresholds_are_one_line_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="cannot read threshold"):
        parse_thresholds([spec])


def test_a_finding_that_blinks_out_is_held_for_a_window() -> None:
    from logtriage.model.alert import Condition
    from logtriage.model.finding import Severity

    finding = Condition("f", "new-finding", "A001", "error-prone-route", Severity.HIGH, "t", "f")
    rule = Condition("r", "route-5xx", "A001", "error-prone-route", Severity.HIGH, "t", "f")
    book = AlertBook(clear_ticks=1, finding_clear_ticks=3)
    assert len(book.update({"f": finding, "r": rule}, "1")) == 2
    assert [a.condition.key for a in book.update({}, "2")] == ["r"]
    assert book.update({}, "3") == []
    assert [a.condition.key for a in book.update({}, "4")] == ["f"]


def test_a_long_request_stays_while_it_ends_inside_the_window(tmp_path: Path) -> None:
    window = RollingWindow(
        Settings(), str(tmp_path), window=timedelta(seconds=20), baseline=timedelta(hours=1)
    )
    feed = Feed(tmp_path)
    # Logged when it ended, at T0+20 s, after 20 s: it started at T0.
    window.add(feed.chunk(_lines(T0 + timedelta(seconds=20), 1, seconds=20.0)), T0)
    window.prune(T0 + timedelta(seconds=30))  # started before the window, ended inside it
    assert window.db.scalar("SELECT count(*) FROM win.requests") == 1
    window.prune(T0 + timedelta(seconds=45))
    assert window.db.scalar("SELECT count(*) FROM win.requests") == 0
    window.close()
