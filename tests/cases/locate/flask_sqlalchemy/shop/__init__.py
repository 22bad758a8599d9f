"""A small Flask + SQLAlchemy blog with planted N+1 loops (see cases.toml)."""

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    from .reports import reports
    from .views import blog

    app.register_blueprint(blog, url_prefix="/api")
    app.register_blueprint(reports)
    return app
