"""What every analyzer provides, and how its options and docs are read."""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Location
from logtriage.model.i18n import N_, _

# Section titles as written in docstrings; shown translated (``_(title)``) by explain and HTML.
DOC_SECTIONS = (
    N_("What it finds"),
    N_("Why it matters"),
    N_("Example"),
    N_("How to fix"),
    N_("Options"),
)


class Analyzer(Protocol):
    """One finding type. Registered in ``logtriage.analyzers.BUILTIN_ANALYZERS``.

    The class docstring is the documentation shown by ``logtriage explain CODE``; it has the
    sections of ``DOC_SECTIONS`` as ``Title:`` lines.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]]
    Options: ClassVar[type[Any]]

    def run(self, ctx: AnalysisContext, options: Any) -> list[Finding]:
        """Read the tables in ``ctx`` and return findings; print nothing."""
        ...


def build_options(analyzer: Analyzer, values: Mapping[str, Any]) -> Any:
    """Instantiate ``analyzer.Options`` from config values, checking names and types."""
    fields = {f.name: f for f in dataclasses.fields(analyzer.Options)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise ValueError(f"{analyzer.code} has no option {unknown[0]!r} (options: {known})")
    defaults = analyzer.Options()
    checked: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(defaults, key)
        expected = float if isinstance(default, float) else type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) is not isinstance(
            default, bool
        ):
            raise ValueError(f"{analyzer.code}.{key} must be a {expected.__name__}")
        checked[key] = value
    return dataclasses.replace(defaults, **checked)


def doc_sections(analyzer: Analyzer) -> dict[str, str]:
    """The analyzer's docstring as its titled sections (English: the msgids of the catalog)."""
    return split_doc(inspect.getdoc(analyzer) or "")


def split_doc(doc: str) -> dict[str, str]:
    """A cleaned docstring's summary and ``Title:`` sections, each body dedented."""
    titles = "|".join(re.escape(t) for t in DOC_SECTIONS)
    parts = re.split(rf"^({titles}):\s*$", doc, flags=re.MULTILINE)
    out = {"summary": parts[0].strip()}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        out[title] = textwrap.dedent(body).strip()
    return out


def translated_doc_sections(analyzer: Analyzer) -> dict[str, str]:
    """The docs in the active language: each section is one entry of the message catalog."""
    return {title: _(body) for title, body in doc_sections(analyzer).items()}


def share(part: float, whole: float) -> float:
    """``part / whole`` or 0.0 when the whole is empty."""
    return part / whole if whole else 0.0


_TABLE = re.compile(r"\b(?:from|into|update|join)\s+([`\"\[]?[\w.$]+[`\"\]]?)", re.IGNORECASE)


def table_of(sql: str) -> str | None:
    """The first table a statement reads or writes, for titles ("… queries on authors")."""
    match = _TABLE.search(sql)
    return match.group(1).strip('`"[]') if match else None


# SQL comment tags that name a code location: marginalia / Rails QueryLogs ``line`` and
# ``source_location`` ("app/models/post.rb:12:in 'recent'"), OpenTelemetry code attributes,
# and sqlcommenter-style ``file``/``line`` pairs.
_PATH_AND_LINE = re.compile(r"^\s*(?P<path>[^\s:][^:]*?\.[A-Za-z0-9]+):(?P<line>\d+)")
_PATH_KEYS = ("source_location", "line", "code.file.path", "code.filepath", "file", "filepath")
_LINE_KEYS = ("code.line.number", "code.lineno", "line", "lineno")


def location_from_tags(tags: Mapping[str, str] | None) -> Location | None:
    """The code location a query's comment tags name, if any."""
    if not tags:
        return None
    for key in _PATH_KEYS:
        value = tags.get(key)
        if not value:
            continue
        match = _PATH_AND_LINE.match(value)
        if match:
            return Location(match["path"], int(match["line"]), "sql-comment", 0.9)
        if key != "line" and "." in value:
            number = next((tags[k] for k in _LINE_KEYS if tags.get(k, "").isdigit()), None)
            return Location(value.strip(), int(number) if number else None, "sql-comment", 0.8)
    return None
