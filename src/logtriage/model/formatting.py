"""Human-friendly numbers shared by finding titles and renderers."""

from __future__ import annotations

import re
from datetime import datetime

from logtriage.model.i18n import N_


def ms(value: float | None) -> str:
    """Format a duration in milliseconds as ``850 ms``, ``2.3 s`` or ``4.1 min``."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def count(value: int | float | None) -> str:
    """Format a count with thousands separators."""
    if value is None:
        return "-"
    return f"{value:,.0f}"


def byte_size(value: int | float | None) -> str:
    """Format a size in bytes as ``812 B``, ``3 MiB`` or ``1.2 TiB``."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def iso_utc(value: object) -> str | None:
    """A naive UTC timestamp from the engine as ISO 8601 with ``Z``, like the report's others."""
    if not isinstance(value, datetime):
        return None
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text + "Z"


_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def key_label(key: str) -> str | None:
    """``requests_affected`` → ``requests affected``; ``p95_ms`` → ``p95``.

    The English label of one of our own snake_case evidence keys (the reports translate it);
    None for a key that came from a log (a status, a parameter value), shown as written.
    """
    if not _KEY.fullmatch(key):
        return None
    text = key.removesuffix("_ms") if key.endswith("_ms") and key != "_ms" else key
    return text.replace("_", " ")


# S002's probe kinds as shown to readers (the JSON keeps the keys): the analyzer's title and
# the report's evidence both use these names.
PROBE_KIND_NAMES = {
    "probe_path": N_("probe paths"),
    "sqli": N_("SQL injection"),
    "traversal": N_("path traversal"),
    "xss": "XSS",
    "rce": N_("command injection / Log4Shell"),
    "storm_404": N_("404 storm"),
}
