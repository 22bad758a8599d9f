"""The dashboard (``logtriage serve``) over a real saved analysis, through the TestClient."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from logtriage import api
from logtriage.serve.app import CSP, NO_HISTORY, create_app
from tests.conftest import nginx_line
from tests.fixed_report import XSS_PAYLOADS
from tests.serve_history import (
    ARTICLES,
    AWS_KEY,
    N_PLUS_ONE_ROUTE,
    START,
    TOKEN,
    build_state,
    write_logs,
)

_HREF = re.compile(r'href="(/[^"#]*)"')


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    return build_state(root / "state", write_logs(root))


@pytest.fixture(scope="module")
def client(state: Path) -> Iterator[TestClient]:
    app = create_app(api.saved_analysis(str(state)), api.rule_docs(), allowed_hosts=["testserver"])
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def report_only(state: Path) -> Iterator[TestClient]:
    saved = api.saved_analysis(str(state / "report.json"))
    with TestClient(create_app(saved, api.rule_docs(), allowed_hosts=["testserver"])) as c:
        yield c


@pytest.fixture(scope="module")
def report(state: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((state / "report.json").read_text())
    return data


def crawl(client: TestClient, limit: int = 400) -> dict[str, str]:
    """Every page reachable by following the dashboard's own links from the overview."""
    seen: dict[str, str] = {}
    todo = ["/"]
    while todo and len(seen) < limit:
        url = html.unescape(todo.pop(0))
        if url in seen or url.startswith("/static/"):
            continue
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[-300:])
        seen[url] = response.text
        todo.extend(u for u in _HREF.findall(response.text) if html.unescape(u) not in seen)
    return seen


@pytest.fixture(scope="module")
def pages(client: TestClient) -> dict[str, str]:
    return crawl(client)


def rows_of(page: str, table_id: str) -> list[str]:
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body.split("<tbody>", 1)[1], re.S)


def link_to(page: str, prefix: str, text: str) -> str:
    """The href of the link under ``prefix`` whose text holds ``text``."""
    for href, inner in re.findall(r'href="(' + prefix + r'[^"]*)"[^>]*>(.*?)</a>', page, re.S):
        if text in html.unescape(re.sub(r"<[^>]+>", "", inner)):
            return html.unescape(href)
    raise AssertionError(f"no link to {prefix}… saying {text!r}")


def test_every_page_of_the_crawl_answers_and_carries_the_csp(
    client: TestClient, pages: dict[str, str], report: dict[str, object]
) -> None:
    findings = report["findings"]
    assert isinstance(findings, list)
    kinds = {url.split("/")[1].split("?")[0] for url in pages}
    assert {"", "findings", "routes", "requests", "queries"} <= kinds
    assert sum(url.startswith("/findings/") for url in pages) == len(findings)
    response = client.get("/")
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "default-src 'self'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    # No inline script or style anywhere: the CSP would block it, so none is written.
    for page in pages.values():
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
        assert "<style" not in page.split("<svg", 1)[0]
        assert " style=" not in page


def test_overview_groups_ranked_findings_by_the_five_viewpoints(
    pages: dict[str, str], report: dict[str, object]
) -> None:
    page = pages["/"]
    for viewpoint in ("performance", "availability", "monitoring", "security", "operations"):
        assert f'id="vp-{viewpoint}"' in page
    findings = report["findings"]
    assert isinstance(findings, list)
    ranks = [int(n) for n in re.findall(r'href="/findings/(\d+)"', page)]
    # Within each viewpoint the report's ranking holds; every finding is listed once.
    assert sorted(ranks) == list(range(1, len(findings) + 1))
    for viewpoint in ("performance", "security", "monitoring"):
        section = page.split(f'id="vp-{viewpoint}"', 1)[1].split('class="viewpoint"', 1)[0]
        listed = [int(n) for n in re.findall(r'href="/findings/(\d+)"', section)]
        expected = [i for i, f in enumerate(findings, 1) if f["viewpoint"] == viewpoint]
        assert listed == expected
    assert page.count("<svg") >= 3  # requests, latency and errors over time


def test_finding_page_shows_evidence_location_fix_and_opens_a_request(
    client: TestClient, pages: dict[str, str], report: dict[str, object]
) -> None:
    findings = report["findings"]
    assert isinstance(findings, list)
    rank = next(i for i, f in enumerate(findings, 1) if f["code"] == "P001")
    page = pages[f"/findings/{rank}"]
    finding = findings[rank - 1]
    assert html.escape(finding["title"], quote=False) in page
    for part in ("Evidence", "Impact", "Code location", 'class="fix"'):
        assert part in page
    route_href = link_to(page, "/routes/", N_PLUS_ONE_ROUTE)
    assert client.get(route_href).status_code == 200
    request_href = re.search(r'href="(/requests/[^"]+)"', page)
    assert request_href, "the N+1's example requests link to their request pages"
    assert "repeat-top" in client.get(request_href.group(1)).text


def test_routes_table_agrees_with_the_report(
    pages: dict[str, str], report: dict[str, object]
) -> None:
    rows = rows_of(pages["/routes"], "route-table")
    routes = report["routes"]
    assert isinstance(routes, list)
    assert len(rows) == len(routes)
    for row in routes:
        match = next(r for r in rows if f"<code>{html.escape(row['route'])}</code>" in r)
        assert f'data-v="{row["count"]}"' in match
        if row["queries_per_request"] is not None:
            assert f'data-v="{row["queries_per_request"]}"' in match


def _routes_listed(client: TestClient, query: str) -> list[str]:
    response = client.get("/routes" + query)
    assert response.status_code == 200, response.text
    if 'id="route-table"' not in response.text:
        return []
    return [
        html.unescape(re.search(r"<code>(.*?)</code>", row, re.S).group(1))  # type: ignore[union-attr]
        for row in rows_of(response.text, "route-table")
    ]


def test_filters_narrow_the_routes(client: TestClient) -> None:
    errors = _routes_listed(client, "?status=5xx")
    assert errors == ["POST /api/orders/{id}/pay"]
    assert N_PLUS_ONE_ROUTE not in _routes_listed(client, "?status=500,404")
    assert _routes_listed(client, "?route=ARTICLES") == [N_PLUS_ONE_ROUTE]
    assert _routes_listed(client, "?client=10.") == []
    assert N_PLUS_ONE_ROUTE in _routes_listed(client, "?client=127.0.0.")
    # The first three N+1 requests: each starts 10 s after the previous one.
    since = (START + timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (START + timedelta(seconds=35)).isoformat()
    response = client.get("/routes", params={"since": since, "until": until, "sort": "count"})
    assert response.status_code == 200
    page = response.text
    row = rows_of(page, "route-table")[0]
    assert N_PLUS_ONE_ROUTE in html.unescape(row)
    assert 'data-v="3"' in row
    assert ARTICLES > 3


def test_filters_follow_queries_to_their_requests(client: TestClient) -> None:
    every = client.get("/queries").text
    narrowed = client.get("/queries?route=/api/orders").text
    assert "authors" in every
    assert "authors" not in narrowed and "users" in narrowed


@pytest.mark.parametrize(
    "query",
    [
        "?status=abc",
        "?status=5x",
        "?status=99",
        "?since=yesterday",
        "?until=2026-13-01",
        "?since=2026-11-24T11:00Z&until=2026-11-24T10:00Z",
        "?sort=route;DROP TABLE requests",
        "?client=1'%20OR%201=1",
        "?file=/etc/passwd",
        "?route=" + "x" * 300,
    ],
)
def test_bad_filters_are_a_400_with_one_line(client: TestClient, query: str) -> None:
    for page in ("/routes", "/queries"):
        response = client.get(page + query)
        assert response.status_code == 400, (page, query)
        message = re.findall(r'<p class="error-line">(.*?)</p>', response.text, re.S)
        assert len(message) == 1 and "\n" not in message[0].strip()
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/findings/0",
        "/findings/9999",
        "/findings/abc",
        "/routes/000000000000",
        "/routes/not-a-route",
        "/requests/00000000-1",
        "/requests/../../etc/passwd",
        "/queries/0000000000000000",
        "/queries/x;y",
        "/static/app.py",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2fetc%2fpasswd",
        "/etc/passwd",
        "/favicon.ico",
    ],
)
def test_unknown_ids_and_paths_are_a_404_page(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "root:x:0" not in response.text and "[project]" not in response.text
    assert response.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_dashboard_is_read_only(client: TestClient, state: Path, method: str) -> None:
    before = hashlib.sha256((state / "history.duckdb").read_bytes()).hexdigest()
    for url in ("/", "/routes", "/queries", "/findings/1", "/static/serve.css"):
        response = client.request(method, url)
        assert response.status_code == 405, (method, url)
        assert "Traceback" not in response.text
    assert hashlib.sha256((state / "history.duckdb").read_bytes()).hexdigest() == before


def test_each_page_releases_the_history_for_the_next_run(
    client: TestClient, state: Path, pages: dict[str, str]
) -> None:
    # A writer (the next analyze --state) can open the file once a page is served.
    con = duckdb.connect(str(state / "history.duckdb"))
    try:
        assert con.execute("SELECT count(*) FROM requests").fetchone()[0] > 0  # type: ignore[index]
    finally:
        con.close()
    assert client.get("/routes").status_code == 200


def test_request_page_shows_the_n_plus_one_in_time_order(
    client: TestClient, pages: dict[str, str]
) -> None:
    route_page = client.get(link_to(pages["/routes"], "/routes/", N_PLUS_ONE_ROUTE)).text
    slowest = rows_of(route_page, "slowest")
    assert len(slowest) == ARTICLES
    seen_counts = set()
    for row in slowest:
        href = re.search(r'href="(/requests/[^"]+)"', row).group(1)  # type: ignore[union-attr]
        page = client.get(href).text
        sequence = rows_of(page, "query-sequence-table")
        repeated = [r for r in sequence if 'class="repeat-top"' in r]
        banner = re.search(r"the same query shape <strong>(\d+) times", page)
        assert banner and int(banner.group(1)) == len(repeated)
        assert len(sequence) == len(repeated) + 1  # one list query, then one per author
        assert "authors" in html.unescape(repeated[0]) and "articles" in sequence[0]
        offsets = [float(m) for m in re.findall(r"\+([\d.]+) ms", "".join(sequence))]
        assert offsets == sorted(offsets) and len(offsets) == len(sequence)
        seen_counts.add(len(repeated))
    assert seen_counts == set(range(8, 8 + ARTICLES))


def test_secrets_never_appear_on_any_page(pages: dict[str, str]) -> None:
    assert len(pages) > 30
    for url, page in pages.items():
        for secret in (TOKEN, AWS_KEY):
            assert secret not in page, url
    assert any("[REDACTED]" in page for page in pages.values())


def test_planted_payloads_show_as_text_only(client: TestClient, pages: dict[str, str]) -> None:
    joined = "\n".join(pages.values())
    for payload in XSS_PAYLOADS:
        if "<" in payload:
            assert payload not in joined, payload
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in joined
    assert "<img src=x onerror" not in joined and "<svg onload" not in joined
    tags = set(
        re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", re.sub(r"<svg.*?</svg>", "", joined, flags=re.S))
    )
    assert tags <= {
        "html", "head", "meta", "title", "link", "script", "body", "header", "div", "p", "span",
        "nav", "a", "main", "section", "h2", "h3", "h4", "h5", "table", "thead", "tbody", "tr",
        "th", "td", "strong", "code", "pre", "ol", "ul", "li", "dl", "dt", "dd", "article",
        "details", "summary", "footer", "form", "label", "input", "select", "option", "button",
        "figure", "figcaption",
    }  # fmt: skip


def test_a_report_file_alone_shows_the_report_and_says_the_history_is_missing(
    report_only: TestClient, report: dict[str, object]
) -> None:
    overview = report_only.get("/")
    assert overview.status_code == 200 and "report only" in overview.text
    routes = report_only.get("/routes")
    assert routes.status_code == 200
    rows = rows_of(routes.text, "route-table")
    assert isinstance(report["routes"], list) and len(rows) == len(report["routes"])
    route = report_only.get(link_to(routes.text, "/routes/", N_PLUS_ONE_ROUTE))
    assert route.status_code == 200 and "history is not available" in route.text
    request = report_only.get("/requests/00000000-1")
    assert request.status_code == 404 and html.escape(NO_HISTORY, quote=False) in request.text
    assert report_only.get("/queries").status_code == 200
    assert "need the history" in report_only.get("/routes?status=5xx").text
    pages = crawl(report_only)
    for page in pages.values():
        assert TOKEN not in page and AWS_KEY not in page


def test_other_host_names_are_refused(state: Path) -> None:
    app = create_app(api.saved_analysis(str(state)))
    with TestClient(app, base_url="http://127.0.0.1:8765") as local:
        assert local.get("/").status_code == 200
    with TestClient(app, base_url="http://attacker.example") as rebound:
        assert rebound.get("/").status_code == 400


def _count_of(client: TestClient, route: str) -> int:
    page = client.get("/routes").text
    row = next(r for r in rows_of(page, "route-table") if route in html.unescape(r))
    return int(re.search(r'data-v="(\d+)"', row).group(1))  # type: ignore[union-attr]


def test_a_new_state_run_shows_without_a_restart(tmp_path: Path) -> None:
    logs = write_logs(tmp_path, hostile=False)
    state = build_state(tmp_path / "state", logs)
    app = create_app(api.saved_analysis(str(state)), allowed_hosts=["testserver"])
    with TestClient(app) as client:
        before = _count_of(client, N_PLUS_ONE_ROUTE)
        later = START + timedelta(hours=1)
        more = tmp_path / "more.log"
        more.write_text(
            "".join(
                nginx_line(later + timedelta(seconds=n), "GET", "/api/articles", 200, 0.2) + "\n"
                for n in range(3)
            )
        )
        build_state(state, [*logs, more])
        assert _count_of(client, N_PLUS_ONE_ROUTE) == before + 3
        total = json.loads((state / "report.json").read_text())["summary"]["requests"]
        assert f'<div class="tile-value">{total:,}</div>' in client.get("/").text


def test_a_run_writing_the_history_makes_drill_downs_a_503_not_a_traceback(
    client: TestClient, state: Path
) -> None:
    writer = duckdb.connect(str(state / "history.duckdb"))  # as analyze --state holds it
    try:
        response = client.get("/routes")
        assert response.status_code == 503
        assert "try again" in response.text and "Traceback" not in response.text
        assert client.get("/").status_code == 200  # the report's pages need no history
    finally:
        writer.close()
    assert client.get("/routes").status_code == 200


def test_a_long_query_sequence_is_cut_but_counted_in_full(state: Path) -> None:
    from logtriage.engine.explore import Filters, History

    with History(str(state / "history.duckdb")) as history:
        slowest = history.slowest_requests(N_PLUS_ONE_ROUTE, Filters())
        record = history.request(slowest[-1]["request_id_url"])
        assert record is not None
        every = history.request_queries(record)
        first = history.request_queries(record, limit=3)
        shapes = history.request_shapes(record)
    assert first == every[:3]
    assert sum(s["count"] for s in shapes) == len(every) > 3
    assert max(s["count"] for s in shapes) == max(q["repeats"] for q in first)


def test_accepted_findings_show_with_their_reason(tmp_path: Path) -> None:
    from logtriage.config import AcceptedFinding, Settings

    reason = "scanner of our own " + XSS_PAYLOADS[0]
    settings = Settings(accepted=(AcceptedFinding(code="S002", reason=reason),))
    state = build_state(tmp_path / "state", write_logs(tmp_path), settings=settings)
    app = create_app(api.saved_analysis(str(state)), allowed_hosts=["testserver"])
    with TestClient(app) as client:
        page = client.get("/").text
    section = page.split('id="suppressed"', 1)[1].split("</section>", 1)[0]
    assert "S002" in section and html.escape(reason, quote=True) in section
    assert XSS_PAYLOADS[0] not in page


@pytest.mark.parametrize("kept", ["access.log", "postgresql.log"])
def test_a_history_of_one_kind_of_log_still_serves_every_page(tmp_path: Path, kept: str) -> None:
    logs = [p for p in write_logs(tmp_path) if p.name == kept]
    state = build_state(tmp_path / "state", logs)
    app = create_app(api.saved_analysis(str(state)), allowed_hosts=["testserver"])
    with TestClient(app) as client:
        pages = crawl(client)
        assert client.get("/queries").status_code == 200
        assert client.get("/routes?status=5xx&route=x&client=1").status_code == 200
    # Drill-down pages (/kind/id) exist only for what the history holds.
    details = {url.split("/")[1] for url in pages if url.count("/") > 1}
    assert ("requests" in details) == (kept == "access.log")
    assert ("queries" in details) == (kept == "postgresql.log")
