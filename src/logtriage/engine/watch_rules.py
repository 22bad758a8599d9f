"""Alert rules of ``watch``: conditions from a window's numbers, and their firing/resolved life."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from logtriage.errors import ConfigError
from logtriage.model.alert import Alert, AlertState, Condition
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration_s(text: str, what: str = "duration") -> float:
    """``500ms``, ``5s``, ``5m``, ``1h`` or plain seconds, as seconds; one-line error else."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(
            _("cannot read {what} {value}: use 500ms, 5s, 5m or 1h").format(
                what=what, value=repr(text)
            )
        )
    return float(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class AlertRules:
    """When a window's numbers make a condition; ``None`` leaves a threshold rule off."""

    # Absolute thresholds (--threshold route-p95=500ms, route-5xx=5%, queries-per-request=20).
    route_p95_ms: float | None = None
    route_5xx_rate: float | None = None
    queries_per_request: float | None = None
    # A route against its own baseline (per-minute numbers from before the window).
    baseline_p95_factor: float = 2.0
    baseline_min_delta_ms: float = 100.0
    baseline_5xx_factor: float = 3.0
    baseline_min_5xx_rate: float = 0.05
    n_plus_one_growth: float = 1.5
    # A route needs this many requests in the window before its numbers are judged.
    min_requests: int = 5
    min_baseline_minutes: int = 5
    # Findings less urgent than this do not alert (O001's capacity profile is always there).
    min_severity: Severity = Severity.LOW
    # Ticks a condition must stay away before it is resolved (no flapping on one quiet tick).
    clear_ticks: int = 2


_THRESHOLD_KEYS = {
    "route-p95": "route_p95_ms",
    "route-5xx": "route_5xx_rate",
    "queries-per-request": "queries_per_request",
    "baseline-p95": "baseline_p95_factor",
    "baseline-5xx": "baseline_5xx_factor",
    "n-plus-one-growth": "n_plus_one_growth",
    "min-requests": "min_requests",
    "min-severity": "min_severity",
    "clear-ticks": "clear_ticks",
}


def parse_thresholds(specs: Sequence[str], base: AlertRules | None = None) -> AlertRules:
    """Apply ``name=value`` specs (``route-p95=500ms``, ``route-5xx=5%``, ``baseline-p95=2x``)."""
    changes: dict[str, Any] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name, raw = name.strip().lower(), raw.strip()
        if not sep or name not in _THRESHOLD_KEYS or not raw:
            known = ", ".join(_THRESHOLD_KEYS)
            raise ConfigError(
                _("cannot read threshold {spec}: use NAME=VALUE with NAME one of {known}").format(
                    spec=repr(spec), known=known
                )
            )
        field_name = _THRESHOLD_KEYS[name]
        try:
            changes[field_name] = _threshold_value(name, raw)
        except ValueError as exc:
            raise ConfigError(
                _("cannot read threshold {spec}: {problem}").format(spec=repr(spec), problem=exc)
            ) from exc
    return replace(base or AlertRules(), **changes)


def _threshold_value(name: str, raw: str) -> Any:
    if name == "route-p95":
        return parse_duration_s(raw, "threshold") * 1000.0
    if name == "route-5xx":
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
        if not 0.0 <= value <= 1.0:
            raise ValueError(_("a rate is 0-100% (or 0-1)"))
        return value
    if name in ("min-requests", "clear-ticks"):
        return max(1, int(raw))
    if name == "min-severity":
        return Severity(raw.lower())
    value = float(raw.rstrip("x"))
    if value <= 0:
        raise ValueError(_("must be above 0"))
    return value


@dataclass(frozen=True)
class RouteWindow:
    """One route's numbers in the window and, when known, in its baseline before it."""

    route: str
    requests: int
    errors_5xx: int
    p95_ms: float | None
    queries_per_request: float | None
    baseline_minutes: int = 0
    baseline_p95_ms: float | None = None
    baseline_5xx_rate: float | None = None
    baseline_queries_per_request: float | None = None
    examples: tuple[dict[str, Any], ...] = ()

    @property
    def error_rate(self) -> float:
        """Share of the window's requests answered 5xx."""
        return self.errors_5xx / self.requests if self.requests else 0.0


def conditions(
    findings: Sequence[Finding], routes: Sequence[RouteWindow], rules: AlertRules, window: str
) -> dict[str, Condition]:
    """Every condition that holds on this tick, by key."""
    out: dict[str, Condition] = {}
    for finding in findings:
        if finding.severity.rank > rules.min_severity.rank:
            continue
        c = _from_finding(finding)
        out.setdefault(c.key, c)
    with_n_plus_one = {f.route for f in findings if f.code == "P001" and f.route}
    for route in routes:
        if route.requests < rules.min_requests:
            continue
        for c in _route_conditions(route, rules, window, route.route in with_n_plus_one):
            out[c.key] = c
    return out


def _from_finding(finding: Finding) -> Condition:
    subject = finding.route or finding.fingerprint or ""
    return Condition(
        key=f"finding:{finding.code}:{subject}",
        rule="new-finding",
        code=finding.code,
        name=finding.name,
        severity=finding.severity,
        title=finding.title,
        fix=finding.fix,
        evidence=dict(finding.evidence),
        route=finding.route,
        fingerprint=finding.fingerprint,
        examples=finding.examples,
        location=tuple(loc.to_json() for loc in finding.location),
    )


def _route_conditions(
    r: RouteWindow, rules: AlertRules, window: str, has_n_plus_one: bool
) -> list[Condition]:
    found: list[Condition] = []
    numbers: dict[str, Any] = {
        "window": window,
        "requests": r.requests,
        "errors_5xx": r.errors_5xx,
        "error_rate": round(r.error_rate, 4),
        "p95_ms": _round(r.p95_ms),
    }
    if r.baseline_minutes:
        numbers |= {
            "baseline_minutes": r.baseline_minutes,
            "baseline_p95_ms": _round(r.baseline_p95_ms),
            "baseline_error_rate": _round(r.baseline_5xx_rate, 4),
        }
    has_baseline = r.baseline_minutes >= rules.min_baseline_minutes
    slow_fix = _(
        "look at what {route}'s slow requests wait on in this window: database time "
        "(`logtriage analyze` on these logs shows P001/P005), an upstream, or a saturated "
        "worker pool; compare with the last deploy or traffic change"
    ).format(route=r.route)
    error_fix = _(
        "read the app's errors for {route} in this window (its log or `logtriage analyze`); "
        "roll back or fix the change that started them"
    ).format(route=r.route)
    if rules.route_p95_ms is not None and r.p95_ms is not None and r.p95_ms > rules.route_p95_ms:
        found.append(
            _route_condition(
                "route-p95",
                "P004",
                "slow-route",
                Severity.HIGH,
                r,
                _(
                    "{route} p95 {p95:.0f} ms over the last {window} (threshold {threshold:.0f} ms)"
                ).format(route=r.route, p95=r.p95_ms, window=window, threshold=rules.route_p95_ms),
                slow_fix,
                numbers | {"threshold_p95_ms": rules.route_p95_ms},
            )
        )
    if (
        has_baseline
        and r.p95_ms is not None
        and r.baseline_p95_ms
        and r.p95_ms > rules.baseline_p95_factor * r.baseline_p95_ms
        and r.p95_ms - r.baseline_p95_ms >= rules.baseline_min_delta_ms
    ):
        found.append(
            _route_condition(
                "baseline-p95",
                "P004",
                "slow-route",
                Severity.MEDIUM,
                r,
                _(
                    "{route} p95 {p95:.0f} ms over the last {window}, {factor:.1f}× its "
                    "baseline {baseline:.0f} ms"
                ).format(
                    route=r.route,
                    p95=r.p95_ms,
                    window=window,
                    factor=r.p95_ms / r.baseline_p95_ms,
                    baseline=r.baseline_p95_ms,
                ),
                slow_fix,
                numbers,
            )
        )
    if rules.route_5xx_rate is not None and r.errors_5xx and r.error_rate > rules.route_5xx_rate:
        found.append(
            _route_condition(
                "route-5xx",
                "A001",
                "error-prone-route",
                Severity.HIGH,
                r,
                _(
                    "{route} answered {rate:.1%} 5xx ({errors} of {requests}) over the last "
                    "{window} (threshold {threshold:.1%})"
                ).format(
                    route=r.route,
                    rate=r.error_rate,
                    errors=r.errors_5xx,
                    requests=r.requests,
                    window=window,
                    threshold=rules.route_5xx_rate,
                ),
                error_fix,
                numbers | {"threshold_error_rate": rules.route_5xx_rate},
            )
        )
    baseline_rate = r.baseline_5xx_rate or 0.0
    if (
        has_baseline
        and r.errors_5xx
        and r.error_rate >= rules.baseline_min_5xx_rate
        and r.error_rate > rules.baseline_5xx_factor * baseline_rate
    ):
        found.append(
            _route_condition(
                "baseline-5xx",
                "A002",
                "error-burst",
                Severity.HIGH,
                r,
                _(
                    "{route} errors burst: {rate:.1%} 5xx over the last {window} against "
                    "{baseline:.1%} in its baseline"
                ).format(route=r.route, rate=r.error_rate, window=window, baseline=baseline_rate),
                error_fix,
                numbers,
            )
        )
    qpr = r.queries_per_request
    if (
        qpr is not None
        and rules.queries_per_request is not None
        and qpr > rules.queries_per_request
    ):
        found.append(
            _route_condition(
                "queries-per-request",
                "P001",
                "n-plus-one-queries",
                Severity.HIGH,
                r,
                _(
                    "{route} runs {qpr:.1f} queries per request over the last {window} "
                    "(threshold {threshold:g})"
                ).format(
                    route=r.route, qpr=qpr, window=window, threshold=rules.queries_per_request
                ),
                _(_N_PLUS_ONE_FIX),
                numbers | {"queries_per_request": round(qpr, 2)},
            )
        )
    base_qpr = r.baseline_queries_per_request
    if (
        has_n_plus_one
        and has_baseline
        and qpr is not None
        and base_qpr
        and qpr >= rules.n_plus_one_growth * base_qpr
    ):
        found.append(
            _route_condition(
                "n-plus-one-growth",
                "P001",
                "n-plus-one-queries",
                Severity.HIGH,
                r,
                _(
                    "{route}'s N+1 grows: {qpr:.1f} queries per request over the last {window} "
                    "against {baseline:.1f} in its baseline"
                ).format(route=r.route, qpr=qpr, window=window, baseline=base_qpr),
                _(_N_PLUS_ONE_FIX),
                numbers
                | {
                    "queries_per_request": round(qpr, 2),
                    "baseline_queries_per_request": round(base_qpr, 2),
                },
            )
        )
    return found


_N_PLUS_ONE_FIX = N_(
    "load the related rows with the parent query (eager loading, a JOIN or one IN query) "
    "instead of one query per row; `logtriage analyze` names the query shape and code line"
)


def _route_condition(
    rule: str,
    code: str,
    name: str,
    severity: Severity,
    r: RouteWindow,
    title: str,
    fix: str,
    evidence: dict[str, Any],
) -> Condition:
    return Condition(
        key=f"{rule}:{r.route}",
        rule=rule,
        code=code,
        name=name,
        severity=severity,
        title=title,
        fix=fix,
        evidence=evidence,
        route=r.route,
        examples=r.examples,
    )


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass
class _Active:
    condition: Condition
    since: str
    missing: int = 0


class AlertBook:
    """Which conditions are firing.

    A new condition alerts, a held one stays quiet, one gone for ``clear_ticks`` ticks is
    resolved.
    """

    def __init__(self, clear_ticks: int = 2, finding_clear_ticks: int | None = None) -> None:
        self.clear_ticks = clear_ticks
        # An analyzer's finding can blink out while its evidence is still in the window (a
        # count dips under a minimum): it is resolved only after a whole window without it.
        self.finding_clear_ticks = max(clear_ticks, finding_clear_ticks or clear_ticks)
        self._active: dict[str, _Active] = {}

    @property
    def firing(self) -> Mapping[str, Condition]:
        """The conditions alerted and not yet resolved."""
        return {k: a.condition for k, a in self._active.items()}

    def update(self, now: Mapping[str, Condition], at: str) -> list[Alert]:
        """The alerts this tick sends: firing for new conditions, resolved for ended ones."""
        alerts: list[Alert] = []
        for key, condition in now.items():
            held = self._active.get(key)
            if held is None:
                self._active[key] = _Active(condition, at)
                alerts.append(Alert(AlertState.FIRING, condition, at, at))
            else:
                held.condition, held.missing = condition, 0
        for key in [k for k in self._active if k not in now]:
            held = self._active[key]
            held.missing += 1
            is_finding = held.condition.rule == "new-finding"
            if held.missing >= (self.finding_clear_ticks if is_finding else self.clear_ticks):
                del self._active[key]
                alerts.append(Alert(AlertState.RESOLVED, held.condition, at, held.since))
        return [a.redacted() for a in alerts]
