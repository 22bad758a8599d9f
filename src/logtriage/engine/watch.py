"""The ``watch`` loop: follow files, parse new lines each interval, evaluate alert rules, send."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from logtriage.config import Settings
from logtriage.engine.database import new_work_dir
from logtriage.engine.watch_rules import AlertBook, AlertRules, conditions
from logtriage.engine.watch_window import RollingWindow
from logtriage.errors import InputError
from logtriage.model.alert import Alert
from logtriage.model.i18n import N_, _
from logtriage.report.alert_sinks import AlertSink, SinkError
from logtriage.sources.follow import FileFollower
from logtriage.sources.reading import expand_inputs

# What happened to a followed file (the follower's event word), as watch tells it on stderr.
_EVENTS = {
    "rotated": N_("{path} rotated"),
    "appeared": N_("{path} appeared"),
    "truncated": N_("{path} truncated"),
}


@dataclass(frozen=True)
class WatchOptions:
    """How often to look, how much to keep, when to stop, and the alert rules."""

    interval_s: float = 5.0
    window_s: float = 300.0
    baseline_s: float = 3600.0
    duration_s: float | None = None
    from_start: bool = False
    rules: AlertRules = field(default_factory=AlertRules)


@dataclass(frozen=True)
class Tick:
    """What one interval did: new lines read, rows in the window, alerts sent, sink failures."""

    at: str
    new_lines: int
    rows: Mapping[str, int]
    alerts: tuple[Alert, ...]
    errors: tuple[str, ...]
    seconds: float
    events: tuple[str, ...] = ()
    # When the tick started, to the microsecond (``at`` is the alerts' whole second).
    started: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def followed_files(paths: Sequence[str], spool_dir: str) -> list[str]:
    """The plain files ``paths`` name (files, directories, globs); compressed ones never grow."""
    if any(p == "-" for p in paths):
        raise InputError("watch follows files; standard input cannot be followed")
    files = [f.read_path for f in expand_inputs(paths, spool_dir) if f.compression == "none"]
    if not files:
        raise InputError("nothing to follow: every named file is compressed")
    return files


def watch(
    paths: Sequence[str],
    settings: Settings,
    options: WatchOptions,
    sinks: Sequence[AlertSink],
    *,
    on_tick: Callable[[Tick], None] = lambda _: None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> None:
    """Follow ``paths`` until ``stop`` is set or ``options.duration_s`` has passed."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + options.duration_s if options.duration_s else None
    window_label = _label(options.window_s)
    with new_work_dir(settings) as work_dir:
        followers = [
            FileFollower(p, work_dir, from_start=options.from_start)
            for p in followed_files(paths, work_dir)
        ]
        window = RollingWindow(
            settings,
            work_dir,
            window=timedelta(seconds=options.window_s),
            baseline=timedelta(seconds=options.baseline_s),
        )
        book = AlertBook(
            options.rules.clear_ticks, math.ceil(options.window_s / options.interval_s)
        )
        try:
            while not stop.is_set():
                started = time.monotonic()
                now = clock()
                new_lines = 0
                events: list[str] = []
                for follower in followers:
                    for chunk in follower.poll():
                        if chunk.event:
                            said = _EVENTS.get(chunk.event)
                            path = chunk.path
                            events.append(
                                _(said).format(path=path) if said else f"{path} {chunk.event}"
                            )
                        summary = window.add(chunk, now)
                        new_lines += summary.lines if summary else 0
                window.prune(now)
                result = window.analyze(now)
                held = conditions(result.findings, result.routes, options.rules, window_label)
                at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
                alerts = book.update(held, at)
                errors = [e for alert in alerts for e in _deliver(alert, sinks)]
                on_tick(
                    Tick(
                        at=at,
                        new_lines=new_lines,
                        rows=result.rows,
                        alerts=tuple(alerts),
                        errors=tuple(errors),
                        seconds=time.monotonic() - started,
                        events=tuple(events),
                        started=now,
                    )
                )
                wait = options.interval_s - (time.monotonic() - started)
                if deadline is not None:
                    if time.monotonic() >= deadline:
                        break
                    wait = min(wait, deadline - time.monotonic())
                if wait > 0 and stop.wait(wait):
                    break
        finally:
            window.close()
            for follower in followers:
                follower.close()


def _deliver(alert: Alert, sinks: Sequence[AlertSink]) -> list[str]:
    """Send to every sink; a sink that fails is reported and the others still get the alert."""
    errors: list[str] = []
    for sink in sinks:
        try:
            sink.send(alert)
        except SinkError as exc:
            errors.append(f"{sink.name}: {exc}")
    return errors


def _label(seconds: float) -> str:
    """``300`` → ``5m``: how the window is named in alert titles."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
