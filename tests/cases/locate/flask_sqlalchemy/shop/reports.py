from flask import Blueprint, jsonify
from sqlalchemy import text

from . import db
from .models import Article

reports = Blueprint("reports", __name__, url_prefix="/reports")


@reports.route("/status")
def status_counts():
    counts = {}
    # A fixed fan-out over a constant list: two queries whatever the data, not an N+1.
    for status in ("draft", "published"):  # expect-not: articles
        counts[status] = Article.query.filter_by(status=status).count()
    return jsonify(counts)


@reports.route("/recent", methods=["GET", "POST"])
def recent():  # expect: handler recent
    rows = db.session.execute(
        text(
            "SELECT id, title FROM articles WHERE status = :status "  # expect: P005 raw sql
            "ORDER BY id DESC LIMIT 10"
        ),
        {"status": "published"},
    )
    return jsonify([dict(r._mapping) for r in rows])
