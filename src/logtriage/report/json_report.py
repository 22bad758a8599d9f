"""The report JSON contract (``logtriage.report/1``): stable keys, deterministic bytes."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from logtriage.model.report import Report


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_json(report: Report) -> str:
    """Render ``report`` as indented JSON; same report, same bytes."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=_default) + "\n"
