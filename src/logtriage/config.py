"""Frozen settings: defaults < ``logtriage.toml`` / ``[tool.logtriage]`` < command-line flags."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from logtriage.errors import ConfigError
from logtriage.model.i18n import LANGUAGES, _

CONFIG_NAMES = ("logtriage.toml", ".logtriage.toml")


@dataclass(frozen=True)
class AcceptedFinding:
    """A finding the team has accepted: shown as suppressed, never silently dropped."""

    code: str
    route: str | None = None
    fingerprint: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything one run needs to know besides its inputs."""

    format: str | None = None
    format_options: Mapping[str, str] = field(default_factory=dict)
    engine: str = "duckdb"
    # --engine spark: a master URL (local[*], spark://…, yarn) or a Spark Connect sc:// address.
    spark_master: str = "local[*]"
    # --tables DIR: canonical tables as Parquet (written after loading, read instead of parsing).
    tables: str | None = None
    # --state DIR: a history kept across runs (history.duckdb); only new lines are parsed.
    state: str | None = None
    threads: int | None = None
    # The engine's own limit, below the 1 GiB peak RSS we promise: Python, the report and
    # DuckDB's allocator overhead live above it. Beyond it the engine spills to disk. What the
    # C heap grows by during a run is taken off it (engine/memory_budget.py).
    memory_limit: str = "768MB"
    temp_directory: str | None = None
    # A database log larger than this is read in pieces of about this many bytes (default: a
    # sixth of memory_limit; engine/pieces.py). Tests set it small to cut their case files.
    piece_bytes: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Route patterns ("GET /users/{id}", "/items/:id") that win over automatic templating.
    routes: tuple[str, ...] = ()
    openapi: str | None = None
    # The application's source tree (--source): findings get code locations from scanning it.
    source: str | None = None
    # A path position with more distinct values than this under one parent becomes {param}.
    route_max_distinct_segments: int = 40
    group_static_assets: bool = True
    # Per analyzer code: option name -> value, validated against the analyzer's Options.
    analyzer_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    disabled: tuple[str, ...] = ()
    accepted: tuple[AcceptedFinding, ...] = ()
    top_routes: int = 20
    top_queries: int = 20
    # Report language (en, ja); None follows the locale (LC_ALL, LC_MESSAGES, LANG).
    lang: str | None = None
    # The [watch] table: interval/window/baseline, alert sinks and [watch.thresholds], as
    # written (text); `logtriage watch` reads them, its flags win.
    watch: Mapping[str, str] = field(default_factory=dict)
    watch_thresholds: tuple[str, ...] = ()

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with the non-None ``changes`` applied (flags win over the file)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# The engine's limit when memory_limit cannot be read (DuckDB's own units: MB = 10^6 bytes).
_DEFAULT_MEMORY_LIMIT = 768 * 10**6
_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def memory_limit_bytes(settings: Settings) -> int:
    """``settings.memory_limit`` in bytes, read as DuckDB reads it ("768MB", "1GiB")."""
    found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", settings.memory_limit or "")
    unit = _BYTE_UNITS.get(found.group(2).lower()) if found else None
    return int(float(found.group(1)) * unit) if found and unit else _DEFAULT_MEMORY_LIMIT


def find_config(start: Path) -> Path | None:
    """The nearest ``logtriage.toml``, or a ``pyproject.toml`` with ``[tool.logtriage]``."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "[tool.logtriage" in pyproject.read_text(errors="replace"):
            return pyproject
    return None


def _table(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            _("cannot read config {path}: {reason}").format(path=path, reason=exc)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("invalid TOML in {path}: {reason}").format(path=path, reason=exc)
        ) from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("logtriage", {}) if isinstance(tool, dict) else {}
        return section if isinstance(section, dict) else {}
    return data


_SIMPLE_KEYS = {
    "format": str,
    "engine": str,
    "spark_master": str,
    "tables": str,
    "state": str,
    "threads": int,
    "memory_limit": str,
    "temp_directory": str,
    "openapi": str,
    "source": str,
    "route_max_distinct_segments": int,
    "group_static_assets": bool,
    "top_routes": int,
    "top_queries": int,
    "lang": str,
}


def settings_from_mapping(data: Mapping[str, Any], origin: str = "config") -> Settings:
    """Build settings from a parsed config table, rejecting unknown keys with one clear line."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SIMPLE_KEYS:
            expected = _SIMPLE_KEYS[key]
            if not isinstance(value, expected):
                raise ConfigError(
                    _("{origin}: {key} must be a {type}").format(
                        origin=origin, key=key, type=expected.__name__
                    )
                )
            if key == "lang" and value not in LANGUAGES:
                raise ConfigError(
                    _("{origin}: lang must be one of {languages}").format(
                        origin=origin, languages=", ".join(LANGUAGES)
                    )
                )
            values[key] = value
        elif key == "formats":
            values["format_options"] = {str(k): str(v) for k, v in _as_dict(value, key).items()}
        elif key == "routes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(
                    _("{origin}: routes must be a list of strings").format(origin=origin)
                )
            values["routes"] = tuple(value)
        elif key == "analyzers":
            values["analyzer_options"] = {
                str(code).upper(): _as_dict(opts, f"analyzers.{code}")
                for code, opts in _as_dict(value, key).items()
            }
        elif key == "disable":
            if not isinstance(value, list):
                raise ConfigError(
                    _("{origin}: disable must be a list of finding codes").format(origin=origin)
                )
            values["disabled"] = tuple(str(v).upper() for v in value)
        elif key == "accept":
            values["accepted"] = tuple(_accepted(item, origin) for item in _as_list(value, key))
        elif key == "watch":
            values["watch"], values["watch_thresholds"] = _watch(_as_dict(value, key), origin)
        else:
            raise ConfigError(
                _("{origin}: unknown setting {key}").format(origin=origin, key=repr(key))
            )
    return Settings(**values)


_WATCH_KEYS = ("interval", "window", "baseline", "alert_jsonl", "alert_command", "webhook")


def _watch(table: Mapping[str, Any], origin: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """The [watch] table: its settings as text, and its thresholds as NAME=VALUE specs."""
    settings: dict[str, str] = {}
    thresholds: tuple[str, ...] = ()
    for key, value in table.items():
        if key == "thresholds":
            thresholds = tuple(
                f"{name}={_scalar(v, f'watch.thresholds.{name}', origin)}"
                for name, v in _as_dict(value, "watch.thresholds").items()
            )
        elif key.replace("-", "_") in _WATCH_KEYS:
            settings[key.replace("-", "_")] = _scalar(value, f"watch.{key}", origin)
        else:
            raise ConfigError(
                _("{origin}: unknown setting {key}").format(origin=origin, key=repr(f"watch.{key}"))
            )
    return settings, thresholds


def _scalar(value: Any, key: str, origin: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(
            _("{origin}: {key} must be a {type}").format(origin=origin, key=key, type="str")
        )
    return str(value)


def _as_dict(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(_("config: {key} must be a table").format(key=key))
    return value


def _as_list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(_("config: {key} must be an array of tables").format(key=key))
    return value


def _accepted(item: Any, origin: str) -> AcceptedFinding:
    if not isinstance(item, dict) or "code" not in item:
        raise ConfigError(_("{origin}: each [[accept]] needs a code").format(origin=origin))
    return AcceptedFinding(
        code=str(item["code"]).upper(),
        route=item.get("route"),
        fingerprint=item.get("fingerprint"),
        reason=str(item.get("reason", "")),
    )


def load_settings(explicit: str | None = None, cwd: Path | None = None) -> Settings:
    """Read the config file (explicit path, else the nearest one); defaults when there is none."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(_("config file not found: {path}").format(path=explicit))
    else:
        found = find_config(cwd or Path(os.getcwd()))
        if found is None:
            return Settings()
        path = found
    return settings_from_mapping(_table(path), origin=str(path))
