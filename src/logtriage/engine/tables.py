"""--tables DIR: the canonical tables as Parquet, by date and source (docs/tables.md)."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from logtriage import __version__
from logtriage.engine.database import Database
from logtriage.errors import ConfigError, FormatError
from logtriage.model.report import InputSummary, LongestLines
from logtriage.model.tables import CANONICAL_TABLES, REJECTS
from logtriage.sources import format_by_name

LAYOUT = "logtriage.tables/1"
MARKER = "logtriage-tables.json"
# Rows without a time (a line that parsed without one) still need a partition.
NO_DATE = "unknown"
# The rejected-line examples have no time: partitioned by source only.
BY_SOURCE = {"rejects": REJECTS}
# Small per-input tables M001 reads: one file each, not partitioned.
SIDE_TABLES = ("reject_counts", "reject_resemblance")


def has_tables(directory: str) -> bool:
    """Whether ``directory`` holds tables this layout wrote (its marker file)."""
    return os.path.isfile(os.path.join(directory, MARKER))


def write_tables(db: Database, directory: str, inputs: Sequence[InputSummary]) -> None:
    """Write every canonical table under ``directory``, replacing tables written before."""
    _prepare(directory)
    engine = db.engine
    date = f"coalesce(strftime(ts, '%Y-%m-%d'), '{NO_DATE}')"
    for name in CANONICAL_TABLES:
        _write(db, f"SELECT *, {date} AS date FROM {name}", directory, name, ("date", "source"))
    for name in BY_SOURCE:
        _write(db, f"SELECT * FROM {name}", directory, name, ("source",))
    for name in SIDE_TABLES:
        _write(db, f"SELECT * FROM {name}", directory, name, ())
    marker = {
        "layout": LAYOUT,
        "written_by": f"logtriage {__version__}",
        "engine": engine,
        "partitioning": {
            **{name: ["date", "source"] for name in CANONICAL_TABLES},
            **{name: ["source"] for name in BY_SOURCE},
            **{name: [] for name in SIDE_TABLES},
        },
        "columns": {**CANONICAL_TABLES, **BY_SOURCE},
        "inputs": [_input_json(i) for i in inputs],
    }
    with open(os.path.join(directory, MARKER), "w", encoding="utf-8") as out:
        json.dump(marker, out, indent=2)
        out.write("\n")


def read_tables(db: Database, directory: str) -> list[InputSummary]:
    """Fill the canonical tables from ``directory``; the inputs they were parsed from."""
    path = os.path.join(directory, MARKER)
    try:
        with open(path, encoding="utf-8") as marker_file:
            marker = json.load(marker_file)
    except FileNotFoundError:
        raise ConfigError(f"--tables {directory}: no tables there ({MARKER} not found)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--tables {directory}: unreadable {MARKER} ({exc})") from None
    if not isinstance(marker, dict) or marker.get("layout") != LAYOUT:
        found = marker.get("layout") if isinstance(marker, dict) else None
        raise ConfigError(f"--tables {directory}: layout {found!r}, this version reads {LAYOUT}")
    for name in (*CANONICAL_TABLES, *BY_SOURCE, *SIDE_TABLES):
        _read(db, directory, name)
    return [_input_from_json(i) for i in marker.get("inputs", [])]


def field_hints(inputs: Sequence[InputSummary]) -> dict[str, Mapping[str, str]]:
    """Per format of the inputs, the settings that add a missing field (what M002 shows)."""
    hints: dict[str, Mapping[str, str]] = {}
    for item in inputs:
        try:
            hints[item.format] = format_by_name(item.format).field_hints
        except FormatError:
            continue  # "unknown" or a format this version no longer has: no hints
    return hints


def _prepare(directory: str) -> None:
    """An empty directory, or one this layout wrote: its tables are replaced, nothing else."""
    if os.path.isdir(directory) and os.listdir(directory) and not has_tables(directory):
        raise ConfigError(
            f"--tables {directory}: the directory holds other files; give an empty or new one"
        )
    os.makedirs(directory, exist_ok=True)
    for name in (*CANONICAL_TABLES, *BY_SOURCE, *SIDE_TABLES):
        shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def _write(db: Database, select: str, directory: str, name: str, keys: Sequence[str]) -> None:
    target = os.path.join(directory, name)
    if db.engine == "spark":
        db.write_parquet(select, target, keys)  # type: ignore[attr-defined]
        return
    if not db.scalar(f"SELECT count(*) FROM ({select})"):
        return  # DuckDB writes no file for no rows; reading finds none and keeps it empty
    quoted = target.replace("'", "''")
    if keys:
        options = f"FORMAT parquet, PARTITION_BY ({', '.join(keys)})"
        db.execute(f"COPY ({select}) TO '{quoted}' ({options})")
    else:
        os.makedirs(target, exist_ok=True)
        db.execute(f"COPY ({select}) TO '{quoted}/data_0.parquet' (FORMAT parquet)")


def _read(db: Database, directory: str, name: str) -> None:
    source = os.path.join(directory, name)
    if db.engine == "spark":
        db.read_parquet(name, source)  # type: ignore[attr-defined]
        return
    if not glob.glob(os.path.join(source, "**", "*.parquet"), recursive=True):
        return
    pattern = os.path.join(source, "**", "*.parquet").replace("'", "''")
    # The date partition key is derived from ts: the tables themselves have no such column.
    columns = "* EXCLUDE (date)" if name in CANONICAL_TABLES else "*"
    db.execute(
        f"INSERT INTO {name} BY NAME SELECT {columns} FROM read_parquet('{pattern}', "
        "hive_partitioning=true, hive_types_autocast=false, union_by_name=true)"
    )


def _input_json(item: InputSummary) -> dict[str, Any]:
    out = dataclasses.asdict(item)
    out["missing"] = list(item.missing)
    return out


def _input_from_json(data: Mapping[str, Any]) -> InputSummary:
    known = {f.name for f in dataclasses.fields(InputSummary)}
    values = {k: v for k, v in data.items() if k in known}
    values["missing"] = tuple(values.get("missing") or ())
    longest = values.get("longest")
    if isinstance(longest, dict):
        near = tuple(tuple(int(v) for v in n) for n in longest.get("near") or ())
        values["longest"] = LongestLines(**{**longest, "near": near})
    else:
        values["longest"] = None
    return InputSummary(**values)
