"""The shop: Flask + SQLAlchemy, run by gunicorn; one planted N+1 and one planted slow pattern.

- ``GET /articles?limit=N`` loads N articles, then each article's author lazily: an N+1 on
  ``authors`` whose count grows with ``limit`` (planted).
- ``GET /feed?include=comments`` loads comments for the page in one ``IN`` query (no N+1) but
  is slow when ``include=comments`` is given (planted slow pattern, 200 ms of "rendering").
- ``GET /articles/<id>`` and ``GET /health`` run one query each (must stay quiet).
With ``SHOP_SQL_TAGS=1`` every statement carries a sqlcommenter comment with the request id
nginx passed in ``X-Request-ID``, the route, and the app's ``file``/``line`` that ran it;
without it the database log has no keys and logtriage must tie queries to requests by
connection and time (and find the code with ``--source``).
"""

from __future__ import annotations

import os
import sys
import time
from types import FrameType
from typing import Any
from urllib.parse import quote

from flask import Flask, has_request_context, jsonify, request
from sqlalchemy import ForeignKey, String, create_engine, event, select, text
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(lazy="select")
    comments: Mapped[list[Comment]] = relationship(lazy="select")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    body: Mapped[str] = mapped_column(String(200))


engine = create_engine(os.environ["SHOP_DB_URL"], pool_size=1, max_overflow=0)

if os.environ.get("SHOP_SQL_TAGS") == "1":

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _sqlcommenter(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        if not has_request_context():
            return statement, params
        tags = {
            "framework": "flask",
            "request_id": request.headers.get("X-Request-ID", ""),
            "route": request.url_rule.rule if request.url_rule else request.path,
            **_code_location(),
        }
        comment = ",".join(f"{k}='{quote(v, safe='')}'" for k, v in sorted(tags.items()))
        if context.dialect.paramstyle in ("pyformat", "format"):
            # As sqlcommenter does: the driver would read %2F as a placeholder.
            comment = comment.replace("%", "%%")
        return f"{statement} /*{comment}*/", params


def _code_location() -> dict[str, str]:
    """The app's line that ran the statement (as Rails' source_location or OTel's code.*)."""
    frame: FrameType | None = sys._getframe(2)  # skip this function and the hook
    while frame is not None and frame.f_code.co_filename != __file__:
        frame = frame.f_back
    if frame is None:
        return {}
    return {"file": frame.f_code.co_filename, "line": str(frame.f_lineno)}


app = Flask(__name__)


@app.get("/articles")
def articles() -> Any:
    limit = int(request.args.get("limit", "10"))
    with Session(engine) as session:
        rows = session.scalars(select(Article).order_by(Article.id).limit(limit)).all()
        # The planted N+1: one query per article for its author.
        return jsonify([{"title": a.title, "author": a.author.name} for a in rows])


@app.get("/articles/<int:article_id>")
def article(article_id: int) -> Any:
    with Session(engine) as session:
        row = session.get(Article, article_id)
        return jsonify({"title": row.title if row else None})


@app.get("/feed")
def feed() -> Any:
    with Session(engine) as session:
        query = select(Article).order_by(Article.id.desc()).limit(10)
        if request.args.get("include") == "comments":
            query = query.options(selectinload(Article.comments))
            page = session.scalars(query).all()
            time.sleep(0.2)  # the planted slow pattern: rendering every comment
            return jsonify([{"title": a.title, "comments": len(a.comments)} for a in page])
        page = session.scalars(query).all()
        return jsonify([{"title": a.title} for a in page])


@app.get("/health")
def health() -> Any:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return "ok"


def seed() -> None:
    """Create and fill the tables (run once before gunicorn starts) with one multi-row INSERT
    per table, so the seeding itself is no loop in the database log."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    authors = [{"id": i, "name": f"author {i}"} for i in range(1, 41)]
    articles = [
        {"id": i, "title": f"article {i}", "author_id": (i * 7) % 40 + 1} for i in range(1, 61)
    ]
    comments = [{"id": i, "article_id": i % 60 + 1, "body": f"comment {i}"} for i in range(1, 301)]
    with engine.begin() as conn:
        for table, rows in (("authors", authors), ("articles", articles), ("comments", comments)):
            columns = list(rows[0])
            values = ", ".join(
                "(" + ", ".join(f":{c}{n}" for c in columns) + ")" for n in range(len(rows))
            )
            params = {f"{c}{n}": row[c] for n, row in enumerate(rows) for c in columns}
            conn.execute(
                text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"), params
            )


if __name__ == "__main__":
    seed()
