"""Page rendering for the dashboard: the Jinja environment, charts as checked SVG, view rows."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup

from logtriage import __version__
from logtriage.model.formatting import count, ms
from logtriage.model.i18n import N_, _, language, ngettext
from logtriage.model.report import Report
from logtriage.report.chart_specs import Chart, traffic_charts
from logtriage.report.html import RenderedChart, code_spans
from logtriage.report.svg import UnsafeSvgError, check_svg, vega_lite_svg
from logtriage.report.values import label, percent, severity_name, size, viewpoint_name

# The dashboard's own CSS, and the static report's CSS and table-sorting script it reuses.
STATIC = {
    "serve.css": ("logtriage.serve", "static/serve.css", "text/css"),
    "report.css": ("logtriage.report", "templates/report.css", "text/css"),
    "report.js": ("logtriage.report", "templates/report.js", "text/javascript"),
}
_CHART_CACHE = 128
# The routes table's orders (the sort parameter keeps the English key).
SORT_NAMES = {
    "total": N_("total time"),
    "count": N_("requests"),
    "p95": "p95",
    "errors": N_("server errors"),
}


def environment() -> jinja2.Environment:
    """Templates of the dashboard, falling back to the report's (cards, tables, charts)."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("logtriage.serve", "templates"),
                jinja2.PackageLoader("logtriage.report", "templates"),
            ]
        ),
        # Every value from a log is attacker-controlled: escaping is on for every template.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Messages come from our catalog in the active language; newstyle: _("… %(n)s", n=…).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True
    )
    env.filters.update(
        ms=ms, count=count, percent=percent, size=size, code_spans=code_spans, num=_num
    )
    env.globals["version"] = __version__
    env.globals["query"] = query_string
    env.globals.update(
        lang=language,
        label=label,
        severity_name=severity_name,
        viewpoint_name=viewpoint_name,
        sort_name=sort_name,
        # Markup into a translated sentence (newstyle gettext escapes every other argument).
        command=lambda text: Markup("<code>{}</code>").format(text),
        strong=lambda text: Markup("<strong>{}</strong>").format(text),
    )
    return env


def sort_name(key: str) -> str:
    """The name of a routes-table order in the reader's language."""
    return _(SORT_NAMES[key]) if key in SORT_NAMES else key


def _num(value: Any) -> str:
    """A number as a sortable ``data-v`` attribute value (empty when missing)."""
    return "" if value is None else str(value)


def query_string(params: Mapping[str, str], **changes: str) -> str:
    """``?a=1&b=2`` of ``params`` with ``changes``, empty values dropped (links keep filters)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v}
    return "?" + urlencode(kept) if kept else ""


def static_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of a static file by its fixed name (no path ever reaches here)."""
    return _static_bytes(name) if name in STATIC else None


@lru_cache(maxsize=len(STATIC))
def _static_bytes(name: str) -> tuple[bytes, str]:
    package, relative, media = STATIC[name]
    return resources.files(package).joinpath(relative).read_bytes(), media


@lru_cache(maxsize=_CHART_CACHE)
def _svg(spec_json: str) -> tuple[str | None, str | None]:
    try:
        return check_svg(vega_lite_svg(json.loads(spec_json))), None
    except UnsafeSvgError as exc:
        return None, _("chart withheld: {reason}").format(reason=exc)
    except Exception as exc:  # a chart library failure must not cost the page
        return None, _("chart unavailable ({kind})").format(kind=type(exc).__name__)


def render_chart(chart: Chart) -> RenderedChart:
    """A chart as checked inline SVG; the same data draws from the cache."""
    svg, error = _svg(json.dumps(chart.spec, sort_keys=True, default=str))
    return RenderedChart(
        chart.key, chart.title, chart.caption, Markup(svg) if svg else None, error, chart.small
    )


def time_charts(
    timeseries: Mapping[str, Any], keys: Sequence[str] | None = None
) -> list[RenderedChart]:
    """The report's charts over time (traffic, latency percentiles, errors, database load)."""
    holder = Report(
        generated_at="", inputs=(), summary={}, findings=(), timeseries=dict(timeseries)
    )
    return [render_chart(c) for c in traffic_charts(holder) if keys is None or c.key in keys]
