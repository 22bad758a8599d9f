"""Capture the otlp_json case files: a real OpenTelemetry SDK traces a request with an N+1.

Needs (for the capture only, not for logtriage): ``pip install opentelemetry-sdk
opentelemetry-exporter-otlp-json-file opentelemetry-exporter-otlp-proto-common``.
Writes two files under tests/cases/sources/otlp_json/:
- ``n_plus_one.log``: the SDK's OTLP JSON file exporter (hex ids, integer enums), one batch;
- ``protobuf_json.log``: the same spans through protobuf's ``MessageToJson`` (base64 ids, enum
  names), as collectors and tools built on protobuf's JSON printer write them.
Timings are real (sleeps), so durations differ between captures; ids are random.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

OUT = Path(__file__).resolve().parent.parent / "tests" / "cases" / "sources" / "otlp_json"


class Collected(SpanExporter):
    """Keep the finished spans; they are written as one batch per trace at the end."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Keep ``spans`` until the capture ends."""
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _db(tracer, statement: str, rows: int) -> None:  # type: ignore[no-untyped-def]
    with tracer.start_as_current_span(statement.split()[0], kind=SpanKind.CLIENT) as span:
        # Old and new semantic conventions, as instrumentations of both eras write them.
        span.set_attribute("db.system.name", "postgresql")
        span.set_attribute("db.system", "postgresql")
        span.set_attribute("db.namespace", "shop")
        span.set_attribute("db.query.text", statement)
        span.set_attribute("db.response.returned_rows", rows)
        time.sleep(0.002)


def _request(tracer, method: str, path: str, route: str, status: int, body) -> None:  # type: ignore[no-untyped-def]
    with tracer.start_as_current_span(f"{method} {route}", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.request.method", method)
        span.set_attribute("url.path", path)
        span.set_attribute("url.scheme", "http")
        span.set_attribute("http.route", route)
        span.set_attribute("client.address", "127.0.0.1")
        span.set_attribute("user_agent.original", "curl/8.5.0")
        span.set_attribute("http.request.header.x-request-id", ["req-" + path.replace("/", "-")])
        body()
        span.set_attribute("http.response.status_code", status)


def main() -> int:
    """Trace two requests with the real SDK and write both case files."""
    collected = Collected()
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SimpleSpanProcessor(collected))
    tracer = provider.get_tracer("capture_otlp")

    def n_plus_one() -> None:
        _db(tracer, "SELECT id, author_id FROM books WHERE shelf_id = 7 LIMIT 6", 6)
        for author in (11, 12, 13, 14, 15, 16):
            _db(tracer, f"SELECT id, name FROM authors WHERE id = {author}", 1)

    def one_query() -> None:
        _db(tracer, "SELECT id, name FROM authors WHERE id IN (11, 12, 13)", 3)

    _request(tracer, "GET", "/shelves/7/books", "/shelves/<int:shelf_id>/books", 200, n_plus_one)
    _request(tracer, "GET", "/authors", "/authors", 200, one_query)
    provider.shutdown()

    # The file exporter writes one line per export call: both traces in one batch, as a
    # BatchSpanProcessor or a collector would; the protobuf variant gets one line per trace.
    by_trace: dict[int, list[ReadableSpan]] = {}
    for span in collected.spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    buffer = io.StringIO()
    FileSpanExporter(stream=buffer).export(collected.spans)
    proto_lines = [json.dumps(MessageToDict(encode_spans(s))) for s in by_trace.values()]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "n_plus_one.log").write_text(buffer.getvalue())
    (OUT / "protobuf_json.log").write_text("\n".join(proto_lines) + "\n")
    print(f"wrote {len(collected.spans)} spans in {len(by_trace)} traces to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
