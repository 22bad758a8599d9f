"""Human-friendly numbers shared by finding titles and renderers."""

from __future__ import annotations

from datetime import datetime


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


def iso_utc(value: object) -> str | None:
    """A naive UTC timestamp from the engine as ISO 8601 with ``Z``, like the report's others."""
    if not isinstance(value, datetime):
        return None
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text + "Z"
