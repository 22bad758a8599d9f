"""Vega-Lite specifications of the report's charts, drawn from the engine's chart data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logtriage.model.formatting import ms
from logtriage.model.i18n import N_, _
from logtriage.model.report import Report
from logtriage.report.values import shorten

FULL_WIDTH = 760
SMALL_WIDTH = 330
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_INK = "#1f2933"
_MUTED = "#52606d"
_BLUE = "#2f6fb3"
_RED = "#c0392b"
_AMBER = "#d68910"
_PERCENTILES = {"p50": "#7fb3e0", "p95": _BLUE, "p99": "#0b3d6e"}

_CONFIG: dict[str, Any] = {
    "font": _FONT,
    "background": "white",
    "view": {"stroke": None},
    "axis": {
        "labelColor": _MUTED,
        "titleColor": _INK,
        "gridColor": "#e4e7eb",
        "domainColor": "#9aa5b1",
        "tickColor": "#9aa5b1",
        "labelFontSize": 11,
        "titleFontSize": 11,
        "titleFontWeight": "normal",
    },
    "legend": {"labelColor": _INK, "titleColor": _INK, "orient": "top", "labelFontSize": 11},
    "title": {"color": _INK, "fontSize": 13, "anchor": "start", "fontWeight": 600},
}


@dataclass(frozen=True)
class Chart:
    """One chart of the report: where it goes, its caption and its Vega-Lite spec."""

    key: str
    title: str
    caption: str
    spec: dict[str, Any]
    small: bool = False


def _spec(width: int, height: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": height,
        "config": _CONFIG,
        **body,
    }


# A time bucket's name, by unit: the word for one unit, and the short form for n of them.
_BUCKET_UNITS = (
    (86400, N_("day"), N_("{n} d")),
    (3600, N_("hour"), N_("{n} h")),
    (60, N_("minute"), N_("{n} min")),
    (1, N_("second"), N_("{n} s")),
)


def _bucket_name(seconds: int) -> str:
    """The bucket width in the reader's language ("minute", "5 min"), for captions and axes."""
    for unit, one, many in _BUCKET_UNITS:
        if seconds % unit == 0:
            return _(many).format(n=seconds // unit) if seconds > unit else _(one)
    return _("{n} s").format(n=seconds)


def _time_x(points: list[dict[str, Any]]) -> dict[str, Any]:
    # Log timestamps are UTC: show them as UTC whatever the reader's time zone.
    span_days = 0
    if len(points) > 1:
        span_days = (points[-1]["ts"][:10] != points[0]["ts"][:10]) * 1
    fmt = "%m-%d %H:%M" if span_days else "%H:%M:%S"
    return {
        "field": "ts",
        "type": "temporal",
        "scale": {"type": "utc"},
        "title": _("time (UTC)"),
        "axis": {"format": fmt, "formatType": "utc", "labelOverlap": True, "tickCount": 8},
    }


def traffic_charts(report: Report) -> list[Chart]:
    """Requests, latency percentiles, error rate and database load over time."""
    series = report.timeseries or {}
    points = list(series.get("points") or [])
    if len(points) < 2:
        return []
    bucket = _bucket_name(int(series.get("bucket_seconds") or 60))
    x = _time_x(points)
    charts: list[Chart] = []
    if "requests" in points[0]:
        charts.append(
            Chart(
                key="requests-over-time",
                title=_("Requests over time"),
                caption=_("Requests per {bucket}; server errors (5xx) in red.").format(
                    bucket=bucket
                ),
                spec=_spec(
                    FULL_WIDTH,
                    170,
                    {
                        "data": {"values": points},
                        "transform": [
                            {"calculate": "datum.requests - datum.errors_5xx", "as": "ok"}
                        ],
                        "layer": [
                            {
                                "mark": {
                                    "type": "area",
                                    "color": _BLUE,
                                    "opacity": 0.25,
                                    "line": {"color": _BLUE},
                                    "interpolate": "step-after",
                                },
                                "encoding": {
                                    "x": x,
                                    "y": {
                                        "field": "requests",
                                        "type": "quantitative",
                                        "title": _("requests / {bucket}").format(bucket=bucket),
                                    },
                                },
                            },
                            {
                                "mark": {
                                    "type": "area",
                                    "color": _RED,
                                    "opacity": 0.8,
                                    "interpolate": "step-after",
                                },
                                "encoding": {
                                    "x": x,
                                    "y": {"field": "errors_5xx", "type": "quantitative"},
                                },
                            },
                        ],
                    },
                ),
            )
        )
        charts.append(
            Chart(
                key="latency-over-time",
                title=_("Latency percentiles over time"),
                caption=_("p50, p95 and p99 of request time per {bucket}.").format(bucket=bucket),
                spec=_spec(
                    FULL_WIDTH,
                    170,
                    {
                        "data": {"values": points},
                        "transform": [
                            {"fold": ["p50_ms", "p95_ms", "p99_ms"], "as": ["pct", "ms"]},
                            {"filter": "isValid(datum.ms)"},
                            {"calculate": "replace(datum.pct, '_ms', '')", "as": "percentile"},
                        ],
                        "mark": {"type": "line", "strokeWidth": 1.6, "point": False},
                        "encoding": {
                            "x": x,
                            "y": {"field": "ms", "type": "quantitative", "title": "ms"},
                            "color": {
                                "field": "percentile",
                                "type": "nominal",
                                "title": None,
                                "scale": {
                                    "domain": list(_PERCENTILES),
                                    "range": list(_PERCENTILES.values()),
                                },
                            },
                        },
                    },
                ),
            )
        )
        charts.append(
            Chart(
                key="error-rate-over-time",
                title=_("Error rate over time"),
                caption=_(
                    "Share of requests per {bucket} answered with 5xx (server) or 4xx."
                ).format(bucket=bucket),
                spec=_spec(
                    FULL_WIDTH,
                    140,
                    {
                        "data": {"values": points},
                        "transform": [
                            {"filter": "datum.requests > 0"},
                            {"calculate": "datum.errors_5xx / datum.requests", "as": "5xx"},
                            {"calculate": "datum.errors_4xx / datum.requests", "as": "4xx"},
                            {"fold": ["5xx", "4xx"], "as": ["class", "rate"]},
                        ],
                        "mark": {"type": "line", "strokeWidth": 1.6, "interpolate": "step-after"},
                        "encoding": {
                            "x": x,
                            "y": {
                                "field": "rate",
                                "type": "quantitative",
                                "title": _("share"),
                                "axis": {"format": ".0%"},
                            },
                            "color": {
                                "field": "class",
                                "type": "nominal",
                                "title": None,
                                "scale": {"domain": ["5xx", "4xx"], "range": [_RED, _AMBER]},
                            },
                        },
                    },
                ),
            )
        )
    if "queries" in points[0]:
        charts.append(
            Chart(
                key="database-over-time",
                title=_("Database load over time"),
                caption=_("Statements per {bucket} (bars) and their total time (line).").format(
                    bucket=bucket
                ),
                spec=_spec(
                    FULL_WIDTH,
                    150,
                    {
                        "data": {"values": points},
                        "layer": [
                            {
                                "mark": {"type": "bar", "color": "#9fb3c8"},
                                "encoding": {
                                    "x": x,
                                    "y": {
                                        "field": "queries",
                                        "type": "quantitative",
                                        "title": _("queries / {bucket}").format(bucket=bucket),
                                    },
                                },
                            },
                            {
                                "mark": {"type": "line", "color": _BLUE, "strokeWidth": 1.6},
                                "encoding": {
                                    "x": x,
                                    "y": {
                                        "field": "db_ms",
                                        "type": "quantitative",
                                        "title": _("database ms"),
                                    },
                                },
                            },
                        ],
                        "resolve": {"scale": {"y": "independent"}},
                    },
                ),
            )
        )
    return charts


def _ranked_bars(
    key: str, title: str, caption: str, rows: list[dict[str, Any]], value_title: str
) -> Chart:
    height = max(60, 22 * len(rows))
    return Chart(
        key=key,
        title=title,
        caption=caption,
        spec=_spec(
            FULL_WIDTH - 260,
            height,
            {
                "data": {"values": rows},
                "encoding": {
                    "y": {
                        "field": "label",
                        "type": "nominal",
                        "sort": None,
                        "title": None,
                        "axis": {"labelLimit": 300, "labelFontSize": 11},
                    },
                    "x": {"field": "value", "type": "quantitative", "title": value_title},
                },
                "layer": [
                    {"mark": {"type": "bar", "color": _BLUE, "height": {"band": 0.7}}},
                    {
                        "mark": {
                            "type": "text",
                            "align": "left",
                            "dx": 4,
                            "color": _INK,
                            "fontSize": 11,
                        },
                        "encoding": {"text": {"field": "note", "type": "nominal"}},
                    },
                ],
            },
        ),
    )


def route_time_chart(report: Report, limit: int = 12) -> Chart | None:
    """The routes that hold most request time, as ranked bars."""
    rows = [r for r in report.routes[:limit] if r.get("total_ms")]
    if len(rows) < 2:
        return None
    values = [
        {
            "label": shorten(str(r["route"]), 48),
            "value": round(float(r["total_ms"]) / 1000, 3),
            "note": _("{share:.0%} · {count} req").format(
                share=r.get("share_of_time") or 0, count=f"{r['count']:,}"
            ),
        }
        for r in rows
    ]
    return _ranked_bars(
        "routes-by-time",
        _("Routes by total time"),
        _("Where the service spends its time: total request time per route."),
        values,
        _("total seconds"),
    )


def query_time_chart(report: Report, limit: int = 12) -> Chart | None:
    """The query shapes that hold most database time, as ranked bars."""
    rows = [q for q in report.queries[:limit] if q.get("total_ms")]
    if not rows:
        return None
    values = [
        {
            "label": shorten(str(q["fingerprint"]), 56),
            "value": round(float(q["total_ms"]) / 1000, 3),
            "note": _("{count} calls").format(count=f"{q['count']:,}"),
        }
        for q in rows
    ]
    return _ranked_bars(
        "queries-by-time",
        _("Top queries by total time"),
        _("Query shapes (fingerprints) ranked by their total database time."),
        values,
        _("total seconds"),
    )


def _bin_label(lo: float, hi: float | None, unit: str) -> str:
    def num(v: float) -> str:
        if unit == "ms" and v >= 1000:
            return f"{v / 1000:g}s"
        return f"{v:g}"

    if hi is None:
        return f"≥{num(lo)}"
    if lo == 0 and unit == "ms" and hi <= 0.001:
        return "0"
    if unit == "" and hi - lo == 1:
        return num(lo)
    return f"{num(lo)}–{num(hi)}"


def histogram_charts(report: Report) -> dict[tuple[str, str], Chart]:
    """One small histogram per (route, metric): latency, and queries per request."""
    routes = {r["route"]: r for r in report.routes}
    out: dict[tuple[str, str], Chart] = {}
    for hist in report.histograms:
        route, metric = str(hist["route"]), str(hist["metric"])
        is_latency = metric == "duration_ms"
        unit = "ms" if is_latency else ""
        bins = [
            {"label": _bin_label(b["lo"], b["hi"], unit), "count": b["count"], "order": i}
            for i, b in enumerate(hist["bins"])
        ]
        stats = routes.get(route, {})
        if is_latency:
            caption = _("{count} requests by time taken (ms)").format(count=f"{hist['count']:,}")
            if stats.get("p95_ms") is not None:
                caption += f"; p95 {ms(stats['p95_ms'])}"
        else:
            caption = _("{count} requests by queries run").format(count=f"{hist['count']:,}")
        out[(route, metric)] = Chart(
            key=f"hist-{metric}-{len(out)}",
            title=route,
            caption=caption,
            small=True,
            spec=_spec(
                SMALL_WIDTH,
                120,
                {
                    "data": {"values": bins},
                    "mark": {"type": "bar", "color": _BLUE if is_latency else _AMBER},
                    "encoding": {
                        "x": {
                            "field": "label",
                            "type": "ordinal",
                            "sort": {"field": "order"},
                            "title": "ms" if is_latency else _("queries per request"),
                            "axis": {"labelAngle": -40, "labelFontSize": 10},
                        },
                        "y": {"field": "count", "type": "quantitative", "title": _("requests")},
                    },
                },
            ),
        )
    return out
