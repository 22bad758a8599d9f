"""The dashboard's web application: read-only GET pages over one saved analysis (Starlette)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from logtriage import api
from logtriage.engine.explore import (
    Filters,
    History,
    HistoryUnavailableError,
    SavedAnalysis,
    route_id,
)
from logtriage.errors import LogtriageError
from logtriage.model.finding import Finding, Viewpoint
from logtriage.model.i18n import N_, _, language, using_language
from logtriage.model.rules import RuleDoc
from logtriage.report.chart_specs import histogram_charts
from logtriage.report.html import _finding_view, _overview
from logtriage.report.values import label, scalar
from logtriage.serve.filters import BadFilterError, parse_filters
from logtriage.serve.pages import environment, render_chart, static_file
from logtriage.serve.pages import time_charts as _time_charts

# Names a browser on this machine uses for a server bound to loopback. Any other Host header
# is refused: a web page elsewhere cannot reach the dashboard by rebinding its DNS name.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
# Nothing but this site's own files: no inline script, no inline style, no other origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_ROUTE_ID = re.compile(r"[0-9a-f]{12}")
_REQUEST_ID = re.compile(r"[0-9a-f]{8}-\d{1,12}")
_FINGERPRINT_ID = re.compile(r"[0-9A-Za-z]{1,64}")
NO_HISTORY = N_(
    "the history is not available: this dashboard shows a report file; serve the directory "
    "of analyze --state to open requests"
)
# The routes table shows this many routes (the first by the chosen order).
ROUTE_ROWS = 200
# A request page lists this many of its queries (all of them count in the shapes table).
QUERY_ROWS = 1000
TIME_CHARTS = ("requests-over-time", "latency-over-time", "error-rate-over-time")


class SecurityHeaders:
    """Adds the CSP and friends to every response, error pages included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def example_value(key: str, value: Any) -> str:
    """One cell of a finding's examples: nested lists and tables are counted, not dumped."""
    if isinstance(value, list | tuple):
        return f"{label(key)}: {len(value)}"
    if isinstance(value, dict):
        return ", ".join(f"{label(str(k))} {scalar(str(k), v)}" for k, v in value.items())
    return scalar(key, value)


def request_url_id(source: str, line: int) -> str:
    """The URL id of the request at ``source``:``line`` (as ``History.request`` reads it)."""
    return f"{hashlib.md5(source.encode('utf-8')).hexdigest()[:8]}-{line}"


class Dashboard:
    """The pages of one saved analysis; each page opens the history read-only, then closes it."""

    def __init__(
        self, saved: SavedAnalysis, rules: Sequence[RuleDoc] = (), lang: str | None = None
    ) -> None:
        # The pages' language: the one active where the dashboard was made (serve --lang).
        self.lang = lang or language()
        self.rules = {rule.code: rule for rule in rules}
        self.env = environment()
        self._use(saved)

    def _use(self, saved: SavedAnalysis) -> None:
        self.saved = saved
        self.report = saved.report
        self.request_sources = {
            i.path for i in self.report.inputs if i.table in ("requests", "spans")
        }
        self.fingerprint_ids = {
            q.get("fingerprint"): q.get("fingerprint_id") for q in self.report.queries
        }

    def refresh(self) -> None:
        """Show the latest report when ``analyze --state`` has written a new one meanwhile."""
        path = self.saved.report_path
        if path is None:
            return
        try:
            changed = os.stat(path).st_mtime_ns != self.saved.report_mtime_ns
        except OSError:
            return
        if changed:
            try:
                self._use(api.saved_analysis(self.saved.name))
            except LogtriageError:
                return  # a report being replaced right now: keep showing the last good one

    def fresh(self, endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """``endpoint`` after a check for a newer report."""

        def page(request: Request) -> Response:
            self.refresh()
            with using_language(self.lang):
                return endpoint(request)

        return page

    # Plumbing ---------------------------------------------------------------------------

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render ``template`` with the context every page shares."""
        body = self.env.get_template(template).render(
            saved=self.saved,
            report=self.report,
            has_history=self.saved.has_history,
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def history(self) -> History:
        """The history for one page, or a 404 page saying it is not there."""
        if not self.saved.has_history:
            raise HTTPException(404, _(NO_HISTORY))
        try:
            return self.saved.history()
        except HistoryUnavailableError as exc:
            raise HTTPException(
                503, _("{problem}; try again in a moment").format(problem=exc)
            ) from exc

    @staticmethod
    def filters(request: Request) -> tuple[Filters, str, dict[str, str]]:
        """The page's filters, sort key and raw parameters; a 400 page for a bad value."""
        params = dict(request.query_params)
        try:
            filters, sort = parse_filters(params)
        except BadFilterError as exc:
            raise HTTPException(400, str(exc)) from exc
        return filters, sort, params

    def findings_about(
        self, *, route: str | None = None, fingerprint: str | None = None
    ) -> list[tuple[int, Finding]]:
        """Findings (with their rank) about a route or a query shape."""
        return [
            (rank, f)
            for rank, f in enumerate(self.report.findings, start=1)
            if (route is not None and f.route == route)
            or (fingerprint is not None and f.fingerprint == fingerprint)
        ]

    # Pages ------------------------------------------------------------------------------

    def overview(self, request: Request) -> Response:
        """Summary tiles, findings by viewpoint and severity, traffic over time."""
        grouped = [
            {
                "viewpoint": vp.value,
                "findings": [
                    (rank, f)
                    for rank, f in enumerate(self.report.findings, start=1)
                    if f.viewpoint is vp
                ],
            }
            for vp in Viewpoint
        ]
        return self.page(
            "overview.html.j2",
            nav="overview",
            overview=_overview(self.report),
            grouped=grouped,
            charts=_time_charts(self.report.timeseries),
        )

    def finding(self, request: Request) -> Response:
        """One finding: evidence, impact, code location, fix, example requests."""
        rank = int(request.path_params["rank"])
        if not 1 <= rank <= len(self.report.findings):
            raise HTTPException(
                404,
                _("no finding #{rank}: this analysis has {count}").format(
                    rank=rank, count=len(self.report.findings)
                ),
            )
        finding = self.report.findings[rank - 1]
        charts = {
            key: render_chart(chart)
            for key, chart in histogram_charts(self.report).items()
            if key[0] == finding.route
        }
        columns = list(dict.fromkeys(k for example in finding.examples for k in example))
        examples = []
        for example in finding.examples:
            source, line = example.get("source"), example.get("line")
            link = None
            if (
                self.saved.has_history
                and isinstance(source, str)
                and isinstance(line, int)
                and source in self.request_sources
            ):
                link = request_url_id(source, line)
            examples.append(([example_value(c, example.get(c)) for c in columns], link))
        return self.page(
            "finding.html.j2",
            nav="findings",
            f=_finding_view(rank, finding, self.rules, charts),
            route_link=route_id(finding.route) if finding.route else None,
            query_link=self.fingerprint_ids.get(finding.fingerprint),
            example_columns=[label(c) for c in columns],
            examples=examples,
        )

    def routes(self, request: Request) -> Response:
        """The routes table under the filters, and the traffic charts of what they keep."""
        filters, sort, params = self.filters(request)
        note = None
        if self.saved.has_history:
            with self.history() as history:
                rows = history.routes(filters, sort, ROUTE_ROWS)
                charts = _time_charts(history.timeseries(filters), TIME_CHARTS)
        else:
            needle = filters.route.lower()
            rows = [
                {**r, "route_id": route_id(r.get("route"))}
                for r in self.report.routes
                if needle in str(r.get("route") or "").lower()
            ]
            charts = _time_charts(self.report.timeseries, TIME_CHARTS)
            if filters.since or filters.until or filters.statuses or filters.client:
                note = _("time, status and client filters need the history (analyze --state)")
        return self.page(
            "routes.html.j2",
            nav="routes",
            rows=rows,
            charts=charts,
            params=params,
            filters=filters,
            sort=sort,
            note=note,
            cut=len(rows) >= ROUTE_ROWS,
        )

    def route(self, request: Request) -> Response:
        """One route: its numbers, findings, slowest requests and charts."""
        rid = request.path_params["rid"]
        filters, _sort, params = self.filters(request)
        if not _ROUTE_ID.fullmatch(rid):
            raise HTTPException(404, _("no such route"))
        slowest: list[dict[str, Any]] = []
        if self.saved.has_history:
            with self.history() as history:
                name = history.route_name(rid)
                if name is None:
                    raise HTTPException(404, _("no such route in this history"))
                summary = history.route_summary(name, filters)
                slowest = history.slowest_requests(name, filters)
                charts = _time_charts(history.timeseries(filters, route=name), TIME_CHARTS)
            shown = summary["route"] if summary else None
        else:
            summary = next((r for r in self.report.routes if route_id(r.get("route")) == rid), None)
            if summary is None:
                raise HTTPException(404, _("no such route in this report"))
            name = shown = summary.get("route")
            charts = []
        histograms = [
            render_chart(c) for key, c in histogram_charts(self.report).items() if key[0] == shown
        ]
        return self.page(
            "route.html.j2",
            nav="routes",
            name=shown if shown is not None else name,
            summary=summary,
            slowest=slowest,
            charts=charts,
            histograms=histograms,
            params=params,
            filters=filters,
            findings=self.findings_about(route=shown),
        )

    def request(self, request: Request) -> Response:
        """One request: its fields and its queries in time order, repeats highlighted."""
        rid = request.path_params["rid"]
        if not _REQUEST_ID.fullmatch(rid):
            raise HTTPException(404, _("no such request"))
        with self.history() as history:
            record = history.request(rid)
            if record is None:
                raise HTTPException(404, _("no such request in this history"))
            queries = history.request_queries(record, QUERY_ROWS)
            shapes = history.request_shapes(record)
            events = history.request_events(record)
        top = shapes[0] if shapes and shapes[0]["count"] >= 2 else None
        return self.page(
            "request.html.j2",
            nav="routes",
            r=record.fields,
            queries=queries,
            events=events,
            shapes=shapes,
            total=sum(s["count"] for s in shapes),
            top=top,
            findings=self.findings_about(route=record.fields.get("route")),
        )

    def queries(self, request: Request) -> Response:
        """The query profile under the filters."""
        filters, _sort, params = self.filters(request)
        note = None
        if self.saved.has_history:
            with self.history() as history:
                rows = history.queries(filters)
                if filters.narrows_requests and not history.has("correlations"):
                    note = _("route, status and client filters need queries tied to requests")
        else:
            rows = list(self.report.queries)
            if filters.since or filters.until or filters.narrows_requests:
                note = _("filters need the history (analyze --state)")
        return self.page(
            "queries.html.j2", nav="queries", rows=rows, params=params, filters=filters, note=note
        )

    def query(self, request: Request) -> Response:
        """One query shape: its numbers, findings and slowest calls with their requests."""
        fid = request.path_params["fid"]
        filters, _sort, params = self.filters(request)
        if not _FINGERPRINT_ID.fullmatch(fid):
            raise HTTPException(404, _("no such query"))
        profile = next((q for q in self.report.queries if q.get("fingerprint_id") == fid), None)
        calls: list[dict[str, Any]] = []
        if self.saved.has_history:
            with self.history() as history:
                fingerprint = history.fingerprint(fid)
                if fingerprint is None:
                    raise HTTPException(404, _("no such query in this history"))
                calls = history.query_calls(fid, filters)
        elif profile is None:
            raise HTTPException(404, _("no such query in this report"))
        else:
            fingerprint = profile.get("fingerprint")
        return self.page(
            "query.html.j2",
            nav="queries",
            fid=fid,
            fingerprint=fingerprint,
            profile=profile,
            calls=calls,
            params=params,
            filters=filters,
            findings=self.findings_about(fingerprint=fingerprint),
        )

    def static(self, request: Request) -> Response:
        """The stylesheets and the table-sorting script, by fixed name."""
        found = static_file(request.path_params["name"])
        if found is None:
            raise HTTPException(404, _("no such file"))
        body, media = found
        return Response(body, media_type=media)

    # Errors -----------------------------------------------------------------------------

    def error(self, request: Request, exc: Exception) -> Response:
        """Every error as a small page with one line: never a traceback."""
        with using_language(self.lang):
            return self._error(exc)

    def _error(self, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, message = exc.status_code, str(exc.detail)
            headers = dict(exc.headers or {})
        else:
            status, headers = 500, {}
            message = _("internal error ({kind})").format(kind=type(exc).__name__)
        if status == 405:
            message = _("read-only dashboard: only GET")
        elif status == 404 and message == "Not Found":
            message = _("no such page")
        response = self.page("error.html.j2", status, code=status, message=message, nav="")
        response.headers.update(headers)
        return response


def create_app(
    saved: SavedAnalysis,
    rules: Sequence[RuleDoc] = (),
    *,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    lang: str | None = None,
) -> Starlette:
    """The dashboard for ``saved``: GET pages only, every response with a strict CSP.

    Its pages are written in ``lang`` (default: the language active here).
    """
    board = Dashboard(saved, rules, lang)
    pages: list[tuple[str, Callable[[Request], Response]]] = [
        ("/", board.overview),
        ("/findings/{rank:int}", board.finding),
        ("/routes", board.routes),
        ("/routes/{rid}", board.route),
        ("/requests/{rid}", board.request),
        ("/queries", board.queries),
        ("/queries/{fid}", board.query),
        ("/static/{name}", board.static),
    ]
    return Starlette(
        routes=[Route(path, board.fresh(endpoint), methods=["GET"]) for path, endpoint in pages],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        ],
        exception_handlers={HTTPException: board.error, Exception: board.error},
    )
