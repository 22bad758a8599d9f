"""A tiny Flask app that logs the way real Python services do, for capturing app-log cases.

``LOG_STYLE`` picks the logging setup: ``structlog`` (JSONRenderer + format_exc_info),
``structlog_dict`` (dict tracebacks), ``jsonlogger`` (python-json-logger), ``ecs``
(ecs-logging), ``text_dash`` (``%(asctime)s - %(name)s - %(levelname)s - %(message)s``),
``text_flask`` (Flask's documented ``[%(asctime)s] %(levelname)s in %(module)s: …``) or
``text_default`` (``logging.basicConfig()``'s ``LEVEL:name:message``). Run under gunicorn by
``capture.sh``; the handlers raise real exceptions. Needs flask, gunicorn, structlog,
python-json-logger and ecs-logging in a private virtualenv: these are not logtriage
dependencies.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, request

STYLE = os.environ.get("LOG_STYLE", "text_dash")
LOG_FILE = os.environ.get("LOG_FILE")


class RequestIdFilter(logging.Filter):
    """Put the current request id on every stdlib record (as the usual middleware does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def _stream() -> Any:
    return open(LOG_FILE, "a", buffering=1) if LOG_FILE else sys.stderr


def _stdlib(formatter: logging.Formatter) -> None:
    handler = logging.StreamHandler(_stream())
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def configure() -> Any:
    """Configure logging for ``STYLE``; return the logger the views use."""
    if STYLE.startswith("structlog"):
        import structlog

        tracebacks = (
            structlog.processors.dict_tracebacks
            if STYLE == "structlog_dict"
            else structlog.processors.format_exc_info
        )
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                tracebacks,
                structlog.processors.JSONRenderer(),
            ],
            logger_factory=structlog.PrintLoggerFactory(_stream()),
        )
        return structlog.get_logger("shop")
    if STYLE == "jsonlogger":
        from pythonjsonlogger.json import JsonFormatter

        _stdlib(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"))
    elif STYLE == "ecs":
        import ecs_logging

        _stdlib(ecs_logging.StdlibFormatter())
    elif STYLE == "text_flask":
        _stdlib(logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))
    elif STYLE == "text_default":
        _stdlib(logging.Formatter(logging.BASIC_FORMAT))
    else:
        _stdlib(
            logging.Formatter(
                "%(asctime)s - %(name)s - %(levelname)s - %(message)s request_id=%(request_id)s"
            )
        )
    return logging.getLogger("shop")


log = configure()
app = Flask(__name__)


def _info(message: str, **fields: Any) -> None:
    if STYLE.startswith("structlog"):
        log.info(message, **fields)
    else:
        log.info(message, extra=fields)


@app.before_request
def bind_request_id() -> None:
    g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
    if STYLE.startswith("structlog"):
        import structlog

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id, path=request.path)


@app.get("/orders/<int:order_id>")
def order(order_id: int) -> dict[str, Any]:
    _info("order loaded", order_id=order_id)
    return {"id": order_id}


@app.get("/checkout")
def checkout() -> dict[str, Any]:
    if STYLE.startswith("structlog"):
        log.warning("payment provider slow", provider="acme", wait_ms=812)
    else:
        log.warning("payment provider slow: %s ms", 812)
    return {"ok": True}


@app.get("/divide/<int:n>")
def divide(n: int) -> dict[str, Any]:
    return {"result": 100 // n}  # n = 0 raises ZeroDivisionError, logged by Flask


@app.get("/chained")
def chained() -> dict[str, Any]:
    try:
        {"a": 1}["missing"]
    except KeyError as exc:
        raise RuntimeError("could not read the cart") from exc
    return {}


@app.get("/handled")
def handled() -> dict[str, Any]:
    try:
        int("not a number")
    except ValueError:
        log.exception("bad quantity in form")
    return {"ok": False}


@app.get("/sleep/<float:seconds>")
def sleep(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


@app.errorhandler(Exception)
def unhandled(exc: Exception) -> tuple[dict[str, str], int]:
    # Flask's own handler logs with the stdlib logger; structlog apps log it themselves.
    if STYLE.startswith("structlog"):
        log.exception("unhandled exception", method=request.method)
    else:
        app.logger.error("Exception on %s [%s]", request.path, request.method, exc_info=exc)
    return {"error": type(exc).__name__}, 500
