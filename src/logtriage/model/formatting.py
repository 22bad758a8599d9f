"""Human-friendly numbers shared by finding titles and renderers."""

from __future__ import annotations


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
