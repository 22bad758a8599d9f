"""Capture tests/cases/sources/otlp_json/flask_sqlite.log: spans of an instrumented Flask app.

A real Flask 3 app over sqlite3, instrumented by OpenTelemetry's own instrumentations (not
spans made by hand): ``opentelemetry-instrumentation-flask`` makes the server span with
``http.route``, ``opentelemetry-instrumentation-sqlite3`` (DB-API) a client span per statement.
``GET /articles`` loads the authors one query per article (an N+1); ``GET /articles/<id>``
runs one query. Requests go through Flask's test client (a real WSGI call, offline); the SDK's
OTLP JSON file exporter writes one batch. Needs, in a throwaway venv (capture only, not
logtriage dependencies): ``pip install flask opentelemetry-sdk
opentelemetry-instrumentation-flask opentelemetry-instrumentation-sqlite3
opentelemetry-exporter-otlp-json-file``. Ids are random and timings real on every run.
"""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

from flask import Flask, jsonify
from opentelemetry import trace
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

OUT = Path(__file__).resolve().parent.parent / "tests" / "cases" / "sources" / "otlp_json"


def main() -> int:
    """Serve three requests and write their spans as one OTLP JSON line."""
    buffer = io.StringIO()
    provider = TracerProvider(resource=Resource.create({"service.name": "blog"}))
    processor = BatchSpanProcessor(FileSpanExporter(stream=buffer))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    SQLite3Instrumentor().instrument(tracer_provider=provider)

    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER);"
    )
    db.executemany("INSERT INTO authors VALUES (?, ?)", [(i, f"author {i}") for i in range(1, 6)])
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?)", [(i, f"post {i}", i % 5 + 1) for i in range(1, 9)]
    )
    # The setup statements are spans too; only the requests' spans are kept.
    processor.force_flush()
    buffer.seek(0)
    buffer.truncate()

    app = Flask("blog")

    @app.get("/articles")
    def articles():  # type: ignore[no-untyped-def]
        # Through a cursor: the DB-API instrumentation traces cursor.execute.
        cursor = db.cursor()
        rows = cursor.execute("SELECT id, title, author_id FROM articles ORDER BY id").fetchall()
        out = []
        for article_id, title, author_id in rows:
            author = cursor.execute(
                "SELECT name FROM authors WHERE id = ?", (author_id,)
            ).fetchone()
            out.append({"id": article_id, "title": title, "author": author[0]})
        return jsonify(out)

    @app.get("/articles/<int:article_id>")
    def article(article_id: int):  # type: ignore[no-untyped-def]
        row = (
            db.cursor()
            .execute(
                "SELECT a.title, u.name FROM articles a JOIN authors u ON u.id = a.author_id "
                "WHERE a.id = ?",
                (article_id,),
            )
            .fetchone()
        )
        return jsonify({"title": row[0], "author": row[1]})

    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    client = app.test_client()
    for path in ("/articles", "/articles/3", "/articles"):
        response = client.get(path, headers={"User-Agent": "curl/8.5.0"})
        assert response.status_code == 200, response.status_code
    processor.force_flush()
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    (OUT / "flask_sqlite.log").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} line(s) to {OUT / 'flask_sqlite.log'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
