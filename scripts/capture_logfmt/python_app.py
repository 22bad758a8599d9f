"""Log a few requests through structlog's LogfmtRenderer and through logfmter (logfmt capture).

Run with a venv that has ``structlog`` and ``logfmter`` (capture only; not logtriage deps):
``python python_app.py structlog > structlog.log`` / ``python python_app.py logfmter > ...``.
"""

from __future__ import annotations

import logging
import sys
import time


def run_structlog() -> None:
    """Log through structlog LogfmtRenderer + format_exc_info (a traceback as one value)."""
    import structlog

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.LogfmtRenderer(
                key_order=["timestamp", "level", "event"], bool_as_flag=False
            ),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    log = structlog.get_logger()
    log.info("worker booted", pid=4242)
    for n, request_id in enumerate(["c0ffee01", "c0ffee02", "c0ffee03"]):
        started = time.perf_counter()
        time.sleep(0.004 * (n + 1))
        bound = log.bind(request_id=request_id, path=f"/articles/{n + 7}")
        if n == 2:
            try:
                {"a": 1}["missing"]
            except KeyError:
                bound.exception("article lookup failed")
            continue
        took = round((time.perf_counter() - started) * 1000, 1)
        bound.info("article served", duration_ms=took, user="ann o'neil")


def run_logfmter() -> None:
    """Log through logfmter on stdlib logging: ``at=`` level, ``exc_info=`` traceback."""
    from logfmter import Logfmter

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        Logfmter(
            keys=["at", "when", "logger"],
            mapping={"at": "levelname", "when": "asctime", "logger": "name"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    logging.basicConfig(handlers=[handler], level=logging.INFO)
    log = logging.getLogger("shop.checkout")
    log.info("checkout started", extra={"request_id": "9f1c2a77", "cart_items": 3})
    log.warning("payment slow", extra={"request_id": "9f1c2a77", "duration": "1.532s"})
    try:
        print(1 / 0)
    except ZeroDivisionError:
        log.exception("tax computation failed", extra={"request_id": "9f1c2a78"})
    log.info('said "hello" to the user', extra={"request_id": "9f1c2a79"})


if __name__ == "__main__":
    {"structlog": run_structlog, "logfmter": run_logfmter}[sys.argv[1]]()
