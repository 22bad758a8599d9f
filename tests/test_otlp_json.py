"""OTLP JSON traces: server spans become requests, DB spans queries, and P001 works on them."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.loading import load_input
from logtriage.engine.routes import assign_routes
from logtriage.sources.base import FormatOptions
from logtriage.sources.otlp_json import FORMAT, LINE_STRIDE
from logtriage.sources.reading import expand_inputs

CASES = Path(__file__).parent / "cases" / "sources" / "otlp_json"
HEX_CASE = CASES / "n_plus_one.log"
# The same spans through protobuf's JSON printer: base64 ids, enum names.
PROTOBUF_CASE = CASES / "protobuf_json.log"


def _spans(path: Path) -> list[dict[str, Any]]:
    """Every span of the file, read independently of the reader (Python's json)."""
    return [
        span
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def _attr(span: dict[str, Any], key: str) -> Any:
    for attribute in span["attributes"]:
        if attribute["key"] == key:
            return next(iter(attribute["value"].values()))
    return None


def _tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    settings = Settings()
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir)
        try:
            load_input(db, expand_inputs([str(path)], work_dir)[0], 0, settings, {})
            return {
                table: db.rows(f"SELECT * FROM {table} ORDER BY line")
                for table in ("spans", "requests", "queries", "rejects")
            }
        finally:
            db.close()


def test_server_spans_become_requests_with_their_route() -> None:
    server = [s for s in _spans(HEX_CASE) if s["kind"] == 2]
    requests = _tables(HEX_CASE)["requests"]
    assert [r["trace_id"] for r in requests] == [s["traceId"] for s in server]
    assert [r["path"] for r in requests] == [_attr(s, "url.path") for s in server]
    assert [r["status"] for r in requests] == [
        int(_attr(s, "http.response.status_code")) for s in server
    ]
    assert [r["request_id"] for r in requests] == [
        _attr(s, "http.request.header.x-request-id")["values"][0]["stringValue"] for s in server
    ]
    # Flask's ``<int:shelf_id>`` is written in the route shape ``{shelf_id}``.
    assert requests[0]["route"] == "GET /shelves/{shelf_id}/books"
    assert all(r["client"] == "127.0.0.1" and r["host"] == "shop" for r in requests)


def test_db_client_spans_become_queries_one_connection_per_trace() -> None:
    db_spans = [s for s in _spans(HEX_CASE) if s["kind"] == 3]
    queries = _tables(HEX_CASE)["queries"]
    assert [q["sql"] for q in queries] == [_attr(s, "db.query.text") for s in db_spans]
    assert [q["connection"] for q in queries] == [s["traceId"] for s in db_spans]
    assert [q["trace_id"] for q in queries] == [s["traceId"] for s in db_spans]
    durations = [(int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6 for s in db_spans]
    assert [q["duration_ms"] for q in queries] == pytest.approx(durations)
    assert {q["db_system"] for q in queries} == {"postgresql"}


def test_every_span_of_one_line_is_its_own_row() -> None:
    rows = _tables(HEX_CASE)["spans"]
    assert [r["line"] for r in rows] == [LINE_STRIDE + i for i in range(1, len(rows) + 1)]
    assert len({r["line"] for r in rows}) == len(_spans(HEX_CASE))


def test_spans_under_instrumentation_library_spans_are_read(tmp_path: Path) -> None:
    # OTLP before 0.15 named scopeSpans instrumentationLibrarySpans.
    old = tmp_path / "old_otlp.jsonl"
    old.write_text(HEX_CASE.read_text().replace('"scopeSpans"', '"instrumentationLibrarySpans"'))
    assert "scopeSpans" not in old.read_text()
    keys = ("line", "trace_id", "span_id", "parent_id", "kind", "ts", "duration_ms")
    rows = [[r[k] for k in keys] for r in _tables(old)["spans"]]
    assert rows == [[r[k] for k in keys] for r in _tables(HEX_CASE)["spans"]]
    assert len(rows) == len(_spans(HEX_CASE))


def test_base64_ids_and_enum_names_read_like_hex_and_integers() -> None:
    hex_rows = _tables(HEX_CASE)["spans"]
    proto_rows = _tables(PROTOBUF_CASE)["spans"]
    keys = ("trace_id", "span_id", "parent_id", "kind", "ts", "duration_ms")
    assert [[r[k] for k in keys] for r in proto_rows] == [[r[k] for k in keys] for r in hex_rows]


@pytest.mark.parametrize("path", [HEX_CASE, PROTOBUF_CASE], ids=lambda p: p.name)
def test_n_plus_one_found_in_traces_tied_by_trace_id(path: Path) -> None:
    report = api.analyze([str(path)])
    spans = _spans(path)
    looping = [s for s in spans if s["kind"] in (2, "SPAN_KIND_SERVER")]
    route_of = {_attr(s, "url.path"): _attr(s, "http.route") for s in looping}
    p001 = [f for f in report.findings if f.code == "P001"]
    assert len(p001) == 1
    assert p001[0].route == "GET " + route_of["/shelves/7/books"].replace("<int:", "{").replace(
        ">", "}"
    )
    queries = sum(1 for s in spans if _attr(s, "db.query.text") is not None)
    assert report.summary["correlation"]["by_how"] == {"trace_id": queries}
    # The other trace runs one query: nothing is said about its route.
    assert not [f for f in report.findings if f.route == "GET /authors"]


def test_lines_that_are_not_otlp_traces_are_rejected_with_a_reason(tmp_path: Path) -> None:
    good = HEX_CASE.read_text().splitlines()[0]
    path = tmp_path / "traces.jsonl"
    path.write_text(
        "\n".join(
            [
                good,
                "not json at all",
                '{"level": "info", "msg": "hello"}',
                '{"resourceLogs": []}',
                '{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no ids"}]}]}]}',
            ]
        )
        + "\n"
    )
    tables = _tables(path)
    reasons = {r["line"]: r["reason"] for r in tables["rejects"]}
    assert reasons == {
        2: "not JSON",
        3: "JSON without resourceSpans (not OTLP traces)",
        4: "OTLP logs or metrics, not traces",
        5: "span without traceId or spanId",
    }
    assert len(tables["spans"]) == len(_spans(HEX_CASE))


def test_sniff_leaves_other_json_logs_alone() -> None:
    app = ['{"level": "info", "message": "GET /x", "timestamp": "2026-11-24T10:00:00Z"}'] * 3
    assert FORMAT.sniff(app, FormatOptions()).confidence == 0.0
    assert FORMAT.sniff(HEX_CASE.read_text().splitlines(), FormatOptions()).confidence == 1.0


@pytest.fixture
def db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as work:
        database = Database(Settings(), work)
        yield database
        database.close()


def test_a_route_the_log_carries_is_kept(db: Database) -> None:
    db.execute(
        "INSERT INTO requests (method, path, route, status, source, line) VALUES "
        "('GET', '/books/12', 'GET /books/{book_id}', 200, 'a', 1), "
        "('GET', '/books/13', NULL, 200, 'a', 2)"
    )
    assign_routes(db, Settings())
    routes = [r["route"] for r in db.rows("SELECT route FROM requests ORDER BY line")]
    assert routes == ["GET /books/{book_id}", "GET /books/{id}"]


FLASK_CASE = CASES / "flask_sqlite.log"


def test_instrumented_flask_app_requests_queries_and_n_plus_one() -> None:
    # Spans made by OpenTelemetry's Flask and sqlite3 instrumentations (old semantic
    # conventions: http.target, http.status_code, db.statement), not by hand.
    spans = _spans(FLASK_CASE)
    tables = _tables(FLASK_CASE)
    servers = [s for s in spans if s["kind"] == 2]
    statements = [s for s in spans if _attr(s, "db.statement") is not None]
    requests = tables["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", _attr(s, "http.target"), int(_attr(s, "http.status_code"))) for s in servers
    ]
    assert {r["route"] for r in requests} == {"GET /articles", "GET /articles/{article_id}"}
    queries = tables["queries"]
    assert len(queries) == len(statements)
    assert {q["db_system"] for q in queries} == {"sqlite"}
    assert {q["trace_id"] for q in queries} == {r["trace_id"] for r in requests}
    report = api.analyze([str(FLASK_CASE)])
    assert report.summary["correlation"]["by_how"] == {"trace_id": len(statements)}
    (p001,) = [f for f in report.findings if f.code == "P001"]
    assert p001.route == "GET /articles"
    assert "authors" in str(p001.fingerprint)
