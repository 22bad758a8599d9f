"""Incremental runs (``--state DIR``): tables kept across runs, only new lines parsed each time.

DIR holds ``history.duckdb`` (the canonical tables of every run, ``read_files``: how far each
file was read, and ``runs``), ``report.json`` (the latest report) and a version marker. A file
is known by a hash of its first decompressed bytes (sources/cursor.py), so a rotated file
(``access.log`` → ``access.log.1`` → ``access.log.2.gz``) resumes where it stopped and its rows
are relabelled with its new name; a truncated or replaced file is read again from line 1 and
its earlier rows are kept under an ``(before run N)`` label. Derived tables (fingerprints,
routes, correlations) are recomputed over the whole history each run: parsing is the work
saved. Loading is one transaction: a failed run leaves the history as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from logtriage.config import Settings
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.loading import (
    SNIFF_LINES,
    consolidate_rejects,
    head_sample,
)
from logtriage.engine.pieces import load_file
from logtriage.engine.pipeline import Progress, analyze_tables
from logtriage.errors import ConfigError, InputError, LogtriageError
from logtriage.model.report import InputSummary, Report
from logtriage.model.tables import CANONICAL_TABLES
from logtriage.report.json_report import render_json
from logtriage.sources import format_by_name
from logtriage.sources.cursor import (
    Cursor,
    FileIdentity,
    Resume,
    copy_new_lines,
    identify,
    is_same_content,
    new_bytes,
)
from logtriage.sources.reading import InputFile, expand_inputs

STATE_SCHEMA = "logtriage.state/1"
MARKER = "logtriage-state.json"
HISTORY = "history.duckdb"
REPORT = "report.json"
LOCK = "lock"
# Tables whose rows name the file they came from: relabelled when a file moves.
_SOURCED = (*CANONICAL_TABLES, "rejects", "reject_counts", "reject_resemblance")
# Formats whose entries may span lines (a statement, a stack trace): the last entry read from
# a growing file may still be missing lines, so it is read again with the next new lines.
MULTILINE_FORMATS = frozenset(
    {"postgresql", "postgresql_csv", "mysql_slow", "mysql_general", "mysql_error", "app_text"}
)
# Where a rotated file goes when only the live one is named (logrotate, newsyslog defaults).
_ROTATED_SUFFIXES = (".1", ".1.gz", ".1.zst", ".0")

_TABLES_SQL = (
    "CREATE TABLE IF NOT EXISTS state_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """
    CREATE TABLE IF NOT EXISTS read_files (
        id INTEGER, path VARCHAR, real_path VARCHAR, status VARCHAR,
        device UBIGINT, inode UBIGINT, size BIGINT, mtime DOUBLE, compression VARCHAR,
        head_hash VARCHAR, head_len INTEGER, bytes_consumed BIGINT, lines_consumed BIGINT,
        is_complete BOOLEAN, format VARCHAR, variant VARCHAR, table_name VARCHAR,
        sample VARCHAR[], records BIGINT, rejected BIGINT, skipped BIGINT,
        first_ts VARCHAR, last_ts VARCHAR, missing VARCHAR[], carries_routes BOOLEAN,
        first_run INTEGER, last_run INTEGER, last_read TIMESTAMP, last_how VARCHAR,
        tail_line BIGINT, tail_offset BIGINT)
    """,
    # Added after the first histories were written: the multi-line hold-back.
    "ALTER TABLE read_files ADD COLUMN IF NOT EXISTS tail_line BIGINT DEFAULT 0",
    "ALTER TABLE read_files ADD COLUMN IF NOT EXISTS tail_offset BIGINT DEFAULT 0",
    # The --format and reader options (--nginx-log-format…) the file was first read with.
    "ALTER TABLE read_files ADD COLUMN IF NOT EXISTS reader_options VARCHAR DEFAULT '{}'",
    """
    CREATE TABLE IF NOT EXISTS runs (
        run INTEGER, started TIMESTAMP, finished TIMESTAMP, files INTEGER,
        new_lines BIGINT, new_records BIGINT)
    """,
)


@dataclass
class FileRecord:
    """One row of ``read_files``: a file's content, how far it was read, what it gave."""

    id: int
    path: str
    real_path: str
    status: str = "active"  # "active", or "archived" once its path holds other content
    device: int = 0
    inode: int = 0
    size: int = 0
    mtime: float = 0.0
    compression: str = "none"
    head_hash: str = ""
    head_len: int = 0
    bytes_consumed: int = 0
    lines_consumed: int = 0
    is_complete: bool = False
    format: str = "unknown"
    variant: str = ""
    table_name: str = ""
    sample: list[str] = field(default_factory=list)
    records: int = 0
    rejected: int = 0
    skipped: int = 0
    first_ts: str | None = None
    last_ts: str | None = None
    missing: list[str] = field(default_factory=list)
    carries_routes: bool = False
    first_run: int = 0
    last_run: int = 0
    last_read: datetime | None = None
    last_how: str = ""
    # Where the last entry of a multi-line log starts (0: none held back): read again next time.
    tail_line: int = 0
    tail_offset: int = 0
    # JSON: {"format": …, "options": {…}} as the file was first read (later flags add to it).
    reader_options: str = "{}"

    def cursor(self) -> Cursor:
        """How far this content was read, in the cursor module's terms."""
        return Cursor(
            head_hash=self.head_hash,
            head_len=self.head_len,
            offset=self.bytes_consumed,
            lines=self.lines_consumed,
            compression=self.compression,
            device=self.device,
            inode=self.inode,
            size=self.size,
            mtime=self.mtime,
            is_complete=self.is_complete,
        )

    def summary(self) -> InputSummary:
        """This file's share of the history, as the report lists inputs."""
        return InputSummary(
            path=self.path,
            format=self.format,
            lines=self.lines_consumed,
            records=self.records,
            rejected=self.rejected,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            table=self.table_name,
            variant=self.variant,
            skipped=self.skipped,
            missing=tuple(self.missing),
            read=self.last_how,
        )


@dataclass
class _Step:
    """One input of this run: the file, what it is now, and the history of its content."""

    item: InputFile
    identity: FileIdentity
    record: FileRecord | None = None
    # The record whose path this file now holds with other content (kept, relabelled).
    displaced: FileRecord | None = None


def run_incremental(
    paths: Sequence[str],
    settings: Settings,
    *,
    progress: Progress,
    now: datetime | None = None,
) -> Report:
    """Add the new lines of ``paths`` to the history in ``settings.state``; report on it all."""
    state = settings.state or ""
    if settings.engine != "duckdb":
        raise ConfigError("--state keeps its history in DuckDB: use it with --engine duckdb")
    if settings.tables:
        raise ConfigError("--tables and --state both keep the tables: use one of them")
    if settings.since is not None or settings.until is not None:
        raise ConfigError(
            "--since/--until do not combine with --state: the history keeps every line"
        )
    if "-" in paths:
        raise InputError("--state follows files, not standard input: name the log files")
    started = now or datetime.now(UTC)
    with locked_state(state), new_work_dir(settings) as work_dir:
        db = open_history(settings, work_dir, state)
        try:
            run = int(db.scalar("SELECT coalesce(max(run), 0) + 1 FROM runs"))
            # No paths: report on the history as it is (after a config change, say).
            files = expand_inputs(paths, work_dir) if paths else []
            records = _records(db)
            steps = _match(files, records)
            hints: dict[str, Mapping[str, str]] = {}
            db.execute("BEGIN TRANSACTION")
            try:
                _relabel(db, steps, records, run)
                new_lines, new_records = _load_steps(
                    db, steps, records, settings, hints, work_dir, run, started, progress
                )
                consolidate_rejects(db)
                _reset_computed_routes(db)
                db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        run,
                        started.replace(tzinfo=None),
                        datetime.now(UTC).replace(tzinfo=None),
                        len(steps),
                        new_lines,
                        new_records,
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                # The history stays as the last good run left it (DuckDB may have aborted it).
                with contextlib.suppress(duckdb.Error):
                    db.execute("ROLLBACK")
                raise
            inputs = [r.summary() for r in sorted(records.values(), key=lambda r: r.id)]
            for record in records.values():
                if record.format != "unknown":
                    hints.setdefault(record.format, _field_hints(record.format))
            report = analyze_tables(db, inputs, hints, settings, progress=progress, now=now)
            report = dataclasses.replace(
                report,
                extra={
                    **report.extra,
                    "state": {"run": run, "new_lines": new_lines, "new_records": new_records},
                },
            )
        finally:
            db.close()
        _write_report(state, report)
    return report


@contextmanager
def locked_state(state: str) -> Iterator[None]:
    """Create or check the state directory and hold its lock for the run."""
    directory = Path(state)
    marker = directory / MARKER
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--state {state} is a file: name a directory")
    if directory.is_dir() and not marker.exists() and any(directory.iterdir()):
        raise ConfigError(
            f"--state {state} is not a logtriage state directory (no {MARKER}): "
            "name a new or empty directory"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            marker.write_text(json.dumps({"schema": STATE_SCHEMA}) + "\n", encoding="utf-8")
        written = _marker_schema(marker)
        if written != STATE_SCHEMA:
            raise ConfigError(
                f"--state {state} holds history of schema {written or 'unknown'}; this logtriage "
                f"keeps {STATE_SCHEMA}: start a new --state directory"
            )
        handle = open(directory / LOCK, "a+")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        raise ConfigError(f"cannot use --state {state}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LogtriageError(
                f"another logtriage run is using --state {state}; try again when it ends"
            ) from exc
        yield
    finally:
        handle.close()


def _marker_schema(marker: Path) -> str | None:
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return str(data.get("schema")) if isinstance(data, dict) else None


def open_history(settings: Settings, work_dir: str, state: str) -> Database:
    """The history database of ``state``, checked to be ours and of this schema version."""
    path = os.path.join(state, HISTORY)
    try:
        db = Database(settings, work_dir, path=path)
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "lock" in reason.lower():
            reason = "another program has it open (a logtriage serve of this directory?)"
        raise ConfigError(f"cannot open {path}: {reason}") from exc
    try:
        for sql in _TABLES_SQL:
            db.execute(sql)
        schema = db.scalar("SELECT value FROM state_meta WHERE key = 'schema'")
        if schema is None:
            if db.count("read_files") or db.count("runs"):
                raise ConfigError(f"{path} has no schema version: start a new --state directory")
            db.execute("INSERT INTO state_meta VALUES ('schema', ?)", [STATE_SCHEMA])
        elif schema != STATE_SCHEMA:
            raise ConfigError(
                f"{path} holds history of schema {schema}; this logtriage keeps {STATE_SCHEMA}: "
                "start a new --state directory"
            )
        _add_new_columns(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _add_new_columns(db: Database, path: str) -> None:
    """A canonical column added since the history was written joins it (null in old rows)."""
    for table, columns in CANONICAL_TABLES.items():
        have = [
            r["column_name"]
            for r in db.rows(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND NOT internal AND schema_name = 'main' AND database_name = current_database()",
                [table],
            )
        ]
        unknown = sorted(set(have) - set(columns))
        if unknown:
            raise ConfigError(
                f"{path} has columns this logtriage does not know ({table}: "
                f"{', '.join(unknown)}): start a new --state directory"
            )
        for name, sql_type in columns.items():
            if name not in have:
                db.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {sql_type}')


def _records(db: Database) -> dict[int, FileRecord]:
    names = {f.name for f in dataclasses.fields(FileRecord)}
    out: dict[int, FileRecord] = {}
    for row in db.rows("SELECT * FROM read_files ORDER BY id"):
        values = {k: v for k, v in row.items() if k in names}
        values["sample"] = list(values.get("sample") or [])
        values["missing"] = list(values.get("missing") or [])
        values["last_how"] = ""
        record = FileRecord(**values)
        out[record.id] = record
    return out


def _match(files: Sequence[InputFile], records: Mapping[int, FileRecord]) -> list[_Step]:
    """Pair each file with the history of its content: same path first, then moved content."""
    steps = [_Step(item, identify(item.read_path)) for item in files]
    active = [r for r in records.values() if r.status == "active"]
    taken: set[int] = set()

    def claim(step: _Step, candidates: Sequence[FileRecord]) -> None:
        for record in candidates:
            if record.id not in taken and is_same_content(step.identity, record.cursor()):
                step.record = record
                taken.add(record.id)
                return

    for step in steps:
        claim(step, [r for r in active if r.real_path == _real(step.item)])
    # Content the live path no longer holds may sit in a rotated sibling nobody named.
    named = {_real(s.item) for s in steps}
    for step in list(steps):
        if step.record is not None:
            continue
        for record in active:
            if record.id in taken or record.real_path != _real(step.item):
                continue
            for suffix in _ROTATED_SUFFIXES:
                sibling = record.real_path + suffix
                if sibling in named or not os.path.isfile(sibling):
                    continue
                identity = identify(sibling)
                if is_same_content(identity, record.cursor()):
                    named.add(sibling)
                    item = InputFile(step.item.path + suffix, sibling, identity.compression)
                    steps.insert(steps.index(step), _Step(item, identity))
                    break
    # Moved content: only from a path that no longer holds it (a copy is another file).
    moved = [r for r in active if r.id not in taken and not _still_there(r)]
    for step in steps:
        if step.record is None:
            same_inode = [
                r
                for r in moved
                if (r.device, r.inode) == (step.identity.device, step.identity.inode)
            ]
            claim(step, [*same_inode, *moved])
    for step in steps:
        if step.record is None:
            step.displaced = next(
                (r for r in active if r.id not in taken and r.real_path == _real(step.item)),
                None,
            )
        # Another file already goes by this name (a relative path from another directory):
        # the new one is named by its full path, so no two files share one source label.
        clash = any(r.path == step.item.path and r.id not in taken for r in active)
        if step.record is None and step.displaced is None and clash:
            step.item = dataclasses.replace(step.item, path=_real(step.item))
    return steps


def _still_there(record: FileRecord) -> bool:
    """Does the record's own path still start with the content it read?"""
    try:
        return is_same_content(identify(record.real_path), record.cursor())
    except InputError:
        return False


def _real(item: InputFile) -> str:
    return os.path.realpath(item.read_path)


def _relabel(
    db: Database, steps: Sequence[_Step], records: Mapping[int, FileRecord], run: int
) -> None:
    """Give moved content its new name and displaced content an archive name, in every table."""
    renames: dict[int, str] = {}
    for step in steps:
        if step.record is not None and step.record.path != step.item.path:
            renames[step.record.id] = step.item.path
        if step.displaced is not None:
            renames[step.displaced.id] = f"{step.displaced.path} (before run {run})"
    # A name taken over by moved content must not stay on content nobody named this run.
    targets = set(renames.values())
    for record in records.values():
        if record.id not in renames and record.status == "active" and record.path in targets:
            renames[record.id] = f"{record.path} (before run {run})"
    if not renames:
        return
    # Through temporary names: access.log.1 → .2 and access.log → .1 in the same run.
    for phase in ("temporary", "final"):
        for rid, new in renames.items():
            record = records[rid]
            old, target = (
                (record.path, f"\x00run{run}:{rid}")
                if phase == "temporary"
                else (f"\x00run{run}:{rid}", new)
            )
            for table in _SOURCED:
                db.execute(f"UPDATE {table} SET source = ? WHERE source = ?", [target, old])
    for rid, new in renames.items():
        record = records[rid]
        moved = next((s for s in steps if s.record is record), None)
        if moved is None:
            record.status = "archived"
            record.last_how = f"replaced by other content at {record.path} in run {run}"
        else:
            record.last_how = f"rotated from {record.path}"
            record.real_path = _real(moved.item)
        record.path = new
        _save(db, record)


def _load_steps(
    db: Database,
    steps: Sequence[_Step],
    records: dict[int, FileRecord],
    settings: Settings,
    hints: dict[str, Mapping[str, str]],
    work_dir: str,
    run: int,
    started: datetime,
    progress: Progress,
) -> tuple[int, int]:
    """Parse each file's new lines into the tables; returns (new lines, new records)."""
    next_id = max(records, default=0) + 1
    total_lines = total_records = 0
    for scan, step in enumerate(steps):
        record = step.record
        resume = new_bytes(step.identity, record.cursor() if record else None)
        if record is None:
            record = FileRecord(id=next_id, path=step.item.path, real_path=_real(step.item))
            record.first_run = run
            records[record.id] = record
            next_id += 1
            if step.displaced is not None:
                resume = dataclasses.replace(resume, reason=_why_restart(step))
        how = _how(record, resume)
        first_new, records_before = resume.line, record.records
        if record.tail_line and resume.reason == "appended":
            resume = Resume(record.tail_offset, record.tail_line, "appended")
        spool = os.path.join(work_dir, f"new-{scan}.log")
        with open(spool, "wb") as out:
            cursor = (
                record.cursor()
                if resume.reason == "unchanged"
                else copy_new_lines(step.identity, resume, out)
            )
        added = cursor.lines - (first_new - 1)
        if added > 0:
            progress(f"reading {step.item.path} from line {first_new}")
            if resume.line < first_new:
                _forget_tail(db, record)
            sample = record.sample
            if len(sample) < SNIFF_LINES:
                # A short first read: the file's first lines so far plus the new ones.
                sample = [*sample, *head_sample(spool, SNIFF_LINES - len(sample))]
            item = InputFile(step.item.path, spool, "none", line_offset=resume.line - 1)
            # A large first read of a database log goes piece by piece, as without --state.
            got = load_file(db, item, scan, _reader_settings(record, settings), hints, sample)
            _accumulate(record, got, sample)
            record.carries_routes = record.carries_routes or bool(
                db.scalar(
                    "SELECT count(*) FROM requests WHERE source = ? AND line >= ? "
                    "AND route IS NOT NULL",
                    [step.item.path, resume.line],
                )
            )
            total_lines += added
            total_records += record.records - records_before
            how = f"{how}: lines {first_new}-{cursor.lines}"
            _hold_tail(db, record, resume, cursor, spool)
        elif resume.reason == "appended":
            how = "no new complete line"
        record.last_how = how
        _advance(record, step.identity, cursor)
        record.last_run, record.last_read = run, started.replace(tzinfo=None)
        _save(db, record)
        os.remove(spool)
    for record in records.values():
        if record.last_run != run and not record.last_how:
            record.last_how = "not named in this run"
    return total_lines, total_records


def _forget_tail(db: Database, record: FileRecord) -> None:
    """Drop the rows of the entry held back last time: it is read again, maybe longer now."""
    for table in CANONICAL_TABLES:
        where = "source = ? AND line >= ?"
        params = [record.path, record.tail_line]
        record.records -= int(db.scalar(f"SELECT count(*) FROM {table} WHERE {where}", params))
        db.execute(f"DELETE FROM {table} WHERE {where}", params)
    db.execute(
        "DELETE FROM rejects WHERE source = ? AND line >= ?", [record.path, record.tail_line]
    )
    record.tail_line = record.tail_offset = 0


def _hold_tail(
    db: Database, record: FileRecord, resume: Resume, cursor: Cursor, spool: str
) -> None:
    """Remember where the last entry of a growing multi-line log starts, to read it again."""
    record.tail_line = record.tail_offset = 0
    if record.format not in MULTILINE_FORMATS or cursor.is_complete:
        return
    last = max(
        (
            int(line)
            for table in CANONICAL_TABLES
            if (
                line := db.scalar(
                    f"SELECT max(line) FROM {table} WHERE source = ? AND line >= ?",
                    [record.path, resume.line],
                )
            )
            is not None
        ),
        default=0,
    )
    if last:
        record.tail_line = last
        record.tail_offset = resume.offset + _line_start(spool, last - resume.line)


def _line_start(path: str, skip: int) -> int:
    """Byte offset in ``path`` where line ``skip + 1`` starts (after ``skip`` newlines)."""
    offset = 0
    with open(path, "rb") as handle:
        while skip > 0:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            at = -1
            while skip > 0:
                at = chunk.find(b"\n", at + 1)
                if at < 0:
                    break
                skip -= 1
            if skip == 0:
                return offset + at + 1
            offset += len(chunk)
    return offset


def _why_restart(step: _Step) -> str:
    displaced = step.displaced
    assert displaced is not None
    shrank = step.identity.compression == "none" and step.identity.size < displaced.bytes_consumed
    return "truncated" if shrank else "replaced"


def _how(record: FileRecord, resume: Resume) -> str:
    """The words the report's inputs use for how this run read the file."""
    if record.last_how.startswith("rotated from"):
        return record.last_how if resume.reason != "unchanged" else f"{record.last_how}, unchanged"
    if resume.reason in ("truncated", "replaced"):
        return f"{resume.reason}: read again from line 1"
    return resume.reason


def _reader_settings(record: FileRecord, settings: Settings) -> Settings:
    """The settings a file is parsed with: as first read, with this run's reader flags on top.

    A daily run that forgets ``--nginx-log-format`` still parses new lines as the first run did.
    """
    try:
        kept = json.loads(record.reader_options or "{}")
    except json.JSONDecodeError:
        kept = {}
    kept = kept if isinstance(kept, dict) else {}
    options = {**dict(kept.get("options") or {}), **dict(settings.format_options)}
    forced = settings.format or kept.get("format")
    record.reader_options = json.dumps({"format": forced, "options": options}, sort_keys=True)
    return dataclasses.replace(settings, format=forced, format_options=options)


def _accumulate(record: FileRecord, got: InputSummary, sample: list[str]) -> None:
    if record.format == "unknown" or not record.table_name:
        record.format, record.table_name = got.format, got.table
        record.variant, record.missing = got.variant, list(got.missing)
    record.sample = sample
    record.records += got.records
    record.rejected += got.rejected
    record.skipped += got.skipped
    firsts = [t for t in (record.first_ts, got.first_ts) if t]
    lasts = [t for t in (record.last_ts, got.last_ts) if t]
    record.first_ts = min(firsts) if firsts else None
    record.last_ts = max(lasts) if lasts else None


def _advance(record: FileRecord, identity: FileIdentity, cursor: Cursor) -> None:
    record.device, record.inode = identity.device, identity.inode
    record.size, record.mtime = identity.size, identity.mtime
    record.compression = identity.compression
    record.head_hash, record.head_len = cursor.head_hash, cursor.head_len
    record.bytes_consumed, record.lines_consumed = cursor.offset, cursor.lines
    record.is_complete = cursor.is_complete


def _save(db: Database, record: FileRecord) -> None:
    values = dataclasses.asdict(record)
    db.execute("DELETE FROM read_files WHERE id = ?", [record.id])
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO read_files ({columns}) VALUES ({marks})", list(values.values()))


def _reset_computed_routes(db: Database) -> None:
    """Routes are templated over the whole history: new paths can turn a segment into {id}."""
    db.execute(
        "UPDATE requests SET route = NULL WHERE route IS NOT NULL AND source IN "
        "(SELECT path FROM read_files WHERE NOT coalesce(carries_routes, false))"
    )


def _field_hints(name: str) -> Mapping[str, str]:
    try:
        return format_by_name(name).field_hints
    except LogtriageError:
        return {}


def _write_report(state: str, report: Report) -> None:
    """``DIR/report.json``, replaced in one step so a reader never sees half of it."""
    target = os.path.join(state, REPORT)
    partial = target + ".partial"
    Path(partial).write_text(render_json(report), encoding="utf-8")
    os.replace(partial, target)


def range_report(
    state: str,
    settings: Settings,
    start: datetime | None,
    end: datetime | None,
    *,
    now: datetime | None = None,
) -> Report:
    """The analysis of the rows of ``state``'s history with ``start <= ts < end`` (naive UTC).

    Rows keep the routes and fingerprints the last run gave them over the whole history, so
    two ranges of one history are named alike and compare cleanly (``diff --state``).
    """
    path = os.path.join(state, HISTORY)
    if not os.path.isfile(path) or _marker_schema(Path(state) / MARKER) != STATE_SCHEMA:
        raise ConfigError(f"--state {state} holds no logtriage history: run analyze --state first")
    with new_work_dir(settings) as work_dir:
        db = Database(settings, work_dir)
        try:
            try:
                db.execute(f"ATTACH '{_sql_str(path)}' AS history (READ_ONLY)")
            except duckdb.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ConfigError(f"cannot read {path}: {reason}") from exc
            where, params = _range_filter(start, end)
            for table in CANONICAL_TABLES:
                db.execute(
                    f"INSERT INTO {table} BY NAME SELECT * FROM history.{table} WHERE {where}",
                    params,
                )
            files = db.rows(
                "SELECT path, format, variant, table_name, missing FROM history.read_files "
                "ORDER BY id"
            )
            db.execute("DETACH history")
            inputs = _range_inputs(db, files)
            if not any(i.records for i in inputs):
                raise InputError(f"no records in {state} between {_shown(start)} and {_shown(end)}")
            hints = {i.format: _field_hints(i.format) for i in inputs if i.format != "unknown"}
            return analyze_tables(db, inputs, hints, settings, now=now)
        finally:
            db.close()


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _shown(moment: datetime | None) -> str:
    return moment.isoformat(sep="T") + "Z" if moment is not None else "the open end"


def _range_filter(start: datetime | None, end: datetime | None) -> tuple[str, list[object]]:
    clauses: list[str] = ["ts IS NOT NULL"]
    params: list[object] = []
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return " AND ".join(clauses), params


def _range_inputs(db: Database, files: Sequence[Mapping[str, Any]]) -> list[InputSummary]:
    """Per file of the history, what the range holds (records only: lines are not dated)."""
    out: list[InputSummary] = []
    for row in files:
        table = row["table_name"] or ""
        if table not in CANONICAL_TABLES:
            continue
        got = db.rows(
            f"SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM {table} "
            "WHERE source = ?",
            [row["path"]],
        )[0]
        if not got["n"]:
            continue
        out.append(
            InputSummary(
                path=row["path"],
                format=row["format"],
                lines=got["n"],
                records=got["n"],
                rejected=0,
                first_ts=got["first"].isoformat() + "Z",
                last_ts=got["last"].isoformat() + "Z",
                table=table,
                variant=row["variant"] or "",
                missing=tuple(row["missing"] or ()),
            )
        )
    return out
