"""The report JSON contract (``logtriage.report/1``): stable keys, deterministic bytes."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from logtriage.model.report import Report


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number as null: JSON has no such numbers.

    An engine aggregate over data without spread (a correlation of constant columns) is NaN;
    Python's json writes it as a bare ``NaN`` that other parsers refuse.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def render_json(report: Report) -> str:
    """Render ``report`` as indented JSON; same report, same bytes."""
    document = _finite(report.to_json())
    return (
        json.dumps(document, indent=2, ensure_ascii=False, default=_default, allow_nan=False) + "\n"
    )
