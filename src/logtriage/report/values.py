"""How evidence and table values read in the reports: durations, shares, counts, labels."""

from __future__ import annotations

from typing import Any

from logtriage.model.finding import Severity, Viewpoint
from logtriage.model.formatting import PROBE_KIND_NAMES, count, key_label, ms
from logtriage.model.i18n import N_, _, language

_SEVERITY_NAMES = {
    Severity.HIGH: N_("high"),
    Severity.MEDIUM: N_("medium"),
    Severity.LOW: N_("low"),
    Severity.INFO: N_("info"),
}
_VIEWPOINT_NAMES = {
    Viewpoint.PERFORMANCE: N_("performance"),
    Viewpoint.AVAILABILITY: N_("availability"),
    Viewpoint.MONITORING: N_("monitoring"),
    Viewpoint.SECURITY: N_("security"),
    Viewpoint.OPERATIONS: N_("operations"),
}


_SIGNALS = {"http": "5xx", "5xx": "5xx", "db": N_("database"), "database": N_("database")}
_SIGNALS |= {"app": N_("app")}
# Evidence values (and keys of its small tables) that are our own codes, by the evidence key
# they sit under. The JSON keeps the code (scripts match on it); a report in another language
# shows its name. Not translated: names of things (tables, columns, secret shapes, scanners,
# database systems) and anything read from a log.
_CODE_NAMES: dict[str, dict[str, str]] = {
    "kind": {  # A003
        "deadlock": N_("deadlock"),
        "lock_timeout": N_("lock timeout"),
        "statement_timeout": N_("statement timeout"),
        "error": N_("error"),
    },
    "kinds": PROBE_KIND_NAMES,  # S002
    "errors": _SIGNALS,  # A002
    "baseline_per_bucket": _SIGNALS,
    "signal": _SIGNALS,
    "method": {  # O001: how the peak concurrency was computed
        "busiest second's average (whole-second timestamps)": N_(
            "busiest second's average (whole-second timestamps)"
        ),
        "sweep over request start and end": N_("sweep over request start and end"),
    },
}


def code_name(key: str, code: str) -> str:
    """An evidence code under ``key`` as its name in the report's language (English: the code)."""
    names = _CODE_NAMES.get(key)
    if language() == "en" or names is None or code not in names:
        return code
    return _(names[code])


def pair_label(key: str, inner: str) -> str:
    """The label of ``inner``, a key of the small table at evidence ``key``."""
    return code_name(key, inner) if inner in _CODE_NAMES.get(key, {}) else label(inner)


# Example columns that come from SQL (not from a dict an analyzer builds), as labels.
_COLUMN_LABELS = (N_("path"), N_("status"), N_("sql"), N_("seq"), N_("user agent"))


def severity_name(severity: Severity | str) -> str:
    """A severity as the reader's language says it (the JSON keeps ``high``…)."""
    return _(_SEVERITY_NAMES[Severity(severity)])


def viewpoint_name(viewpoint: Viewpoint | str) -> str:
    """A viewpoint as the reader's language says it (the JSON keeps ``performance``…)."""
    return _(_VIEWPOINT_NAMES[Viewpoint(viewpoint)])


def label(key: str) -> str:
    """``requests_affected`` → ``requests affected`` in the reader's language; ``p95_ms`` → ``p95``.

    Only our own snake_case names are prettified: a key that came from a log (a status, a
    parameter value) is shown exactly as written.
    """
    text = key_label(key)
    return key if text is None else _(text)


def is_share(key: str) -> bool:
    """Keys whose values are fractions of one, shown as percentages."""
    return key.startswith("share") or key.endswith(("_share", "_rate")) or "share_of" in key


def scalar(key: str, value: Any) -> str:
    """One evidence value as people say it: ``850 ms``, ``31%``, ``1,234``, ``yes``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        if key.endswith("_ms"):
            return ms(float(value))
        if is_share(key):
            return percent(float(value))
        if key == "line" or key.endswith(("_line", "_id")):
            return str(value)  # an identifier, not an amount: no thousands separator
        if isinstance(value, int) or float(value).is_integer():
            return count(value)
        return f"{value:.4g}"
    if isinstance(value, str):
        return code_name(key, value)
    if isinstance(value, dict):  # a table inside a table (O001's per-second rates)
        return ", ".join(f"{pair_label(key, str(k))} {scalar(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(scalar(key, v) for v in value)
    return str(value)


def percent(value: float | None) -> str:
    """``0.312`` → ``31.2%``; small shares keep a digit so 0.4 % does not read as 0 %."""
    if value is None:
        return "-"
    if value == 0:
        return "0%"
    if abs(value) < 0.1:
        return f"{value:.1%}"
    return f"{value:.0%}"


def size(value: int | float | None) -> str:
    """Bytes as ``512 B``, ``3 KiB``, ``1.2 GiB``."""
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit in ("B", "KiB") else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def example_place(example: dict[str, Any]) -> tuple[str, str]:
    """An example's ``file:line`` and its text (request path, log line or SQL).

    A per-request example (P001, P002) names its unit and lists its queries: the first query
    stands for it.
    """
    shown = example
    if "source" not in example and example.get("queries"):
        shown = example["queries"][0]
    if "source" not in shown:
        return "", str(example.get("unit") or "")
    where = f"{shown.get('source', '')}:{shown.get('line', '')}"
    return where, str(shown.get("path") or shown.get("text") or shown.get("sql") or "")
