"""Load one input file: read its lines in bulk, pick its format, parse it into a canonical table."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import duckdb

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.engine.fingerprint import fingerprint_map, normalized_select
from logtriage.engine.line_lengths import LINE_MEASURES, line_census, longest_lines
from logtriage.engine.unwrapping import fill_container_ts, unwrap_lines
from logtriage.errors import FormatError, InputError
from logtriage.model.i18n import _
from logtriage.model.report import InputSummary
from logtriage.model.tables import CANONICAL_TABLES
from logtriage.sources import BUILTIN_FORMATS, format_by_name
from logtriage.sources.base import Detection, FormatOptions, LogFormat, ParsePlan, Pieces
from logtriage.sources.byte_decoding import lines_at
from logtriage.sources.cursor import open_content
from logtriage.sources.line_breaks import (
    copy_with_newline_endings,
    has_stray_carriage_returns,
    stream_has_stray_carriage_returns,
)
from logtriage.sources.reading import InputFile

SNIFF_LINES = 64
# Lines re-read from their bytes per round trip to the engine (bounded memory).
_REREAD_BATCH = 50_000
MIN_CONFIDENCE = 0.3
# How sure a second variant must be before rejected lines are re-read with it.
FALLBACK_CONFIDENCE = 0.8
EXAMPLES_PER_REASON = 20
RESEMBLANCE_SAMPLE = 200
# Each line becomes one VARCHAR: a delimiter and quote that never split a line.
_NO_DELIMITER = "\x01"
# A line with text besides whitespace (``_blank``: line_lengths.LINE_MEASURES).
_NONBLANK = "NOT _blank"


# Years a timestamp may have to be read back into Python (datetime: 1 to 9999).
_PLAUSIBLE_TIME = "year(ts) BETWEEN 1 AND 9999"


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


@dataclass(frozen=True)
class Choice:
    """The format chosen for an input and how sure the choice is."""

    format: LogFormat | None
    detection: Detection


def choose_format(sample: Sequence[str], options: FormatOptions, forced: str | None) -> Choice:
    """The forced format, else the registered format that recognises ``sample`` best."""
    if forced:
        fmt = format_by_name(forced)
        return Choice(fmt, fmt.sniff(sample, options))
    best: Choice = Choice(None, Detection(0.0))
    for fmt in BUILTIN_FORMATS:
        try:
            detection = fmt.sniff(sample, options)
        except FormatError:
            continue
        if detection.confidence > best.detection.confidence:
            best = Choice(fmt, detection)
        if detection.confidence >= 1.0:
            # Certain (confidences stop at 1): no later format can win, and sniffing them
            # all (PostgreSQL's prefix guesses compile dozens of regexes) costs a startup.
            break
    if best.detection.confidence < MIN_CONFIDENCE:
        return Choice(None, best.detection)
    return best


def _read_lines(db: Database, item: InputFile, scan: int) -> None:
    """Read the file into temp table ``lines(line, text)`` with true 1-based line numbers."""
    db.execute("DROP TABLE IF EXISTS lines")
    if db.engine == "spark":
        # Spark reads the file with its own text source (hdfs://, s3a://, .gz).
        db.read_lines(item.read_path)  # type: ignore[attr-defined]
        return
    encoding = ", encoding='utf-16'" if item.encoding == "utf-16" else ""
    copy: str | None = None
    if item.compression == "none" and not encoding and has_stray_carriage_returns(item.read_path):
        # The engine would break lines at these \r too: read a copy that breaks at \n only.
        copy = _newline_copy(db, item, scan)
    try:
        try:
            _read_csv_lines(db, item, copy or item.read_path, encoding, scan)
        except duckdb.InvalidInputException:
            if not encoding:
                raise
            # A UTF-16 byte-order mark on content that is not UTF-16 (an odd byte count):
            # read the bytes as they are; what is not UTF-8 is decoded line by line below.
            for table in ("lines", f"scan_rejects_{scan}", f"scan_info_{scan}"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            encoding = ""
            item = dataclasses.replace(item, encoding="utf-8")
            _read_csv_lines(db, item, item.read_path, encoding, scan)
        if (
            copy is None
            and item.compression != "none"
            and not encoding
            and db.scalar("SELECT count(*) FROM lines WHERE text IS NULL")
            and _compressed_has_stray_carriage_returns(item)
        ):
            # Blank rows in a compressed file may be a \r\n among \n endings read as two
            # breaks (a plain file is checked before reading; decompressing twice is not free).
            for table in ("lines", f"scan_rejects_{scan}", f"scan_info_{scan}"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            copy = _newline_copy(db, item, scan)
            _read_csv_lines(db, item, copy, encoding, scan)
        _renumber_around_refusals(db, item, copy, scan)
    finally:
        if copy is not None:
            os.remove(copy)


def _newline_copy(db: Database, item: InputFile, scan: int) -> str:
    """A plain copy of the file's content whose lines end at newlines only (no CR)."""
    target = os.path.join(db.work_dir, f"newlines-{scan}.log")
    with open_content(item.read_path, item.compression) as source, open(target, "wb") as out:
        copy_with_newline_endings(source, out)
    return target


def _compressed_has_stray_carriage_returns(item: InputFile) -> bool:
    with open_content(item.read_path, item.compression) as content:
        return stream_has_stray_carriage_returns(content)


def _read_csv_lines(db: Database, item: InputFile, path: str, encoding: str, scan: int) -> None:
    """The engine's bulk line reader: ``lines(line, text)``, refusals kept in scan_rejects."""
    compression = item.compression if path == item.read_path else "none"
    try:
        db.execute(
            f"""
            CREATE TEMP TABLE lines AS
            SELECT line, text, {LINE_MEASURES} FROM (
            SELECT row_number() OVER () + {int(item.line_offset)} AS line, text
            FROM read_csv('{_sql_str(path)}', delim='{_NO_DELIMITER}', quote='',
                          escape='', header=false, auto_detect=false,
                          compression='{compression}', columns={{'text': 'VARCHAR'}}{encoding},
                          max_line_size=8388608, ignore_errors=true, store_rejects=true,
                          strict_mode=false, rejects_table='scan_rejects_{scan}',
                          rejects_scan='scan_info_{scan}'))
            """
        )
    except duckdb.IOException as exc:
        # A truncated or corrupt .gz/.zst file: one clear line, not a traceback.
        reason = str(exc).splitlines()[0].removeprefix("IO Error: ")
        raise InputError(
            _("cannot read {path}: {reason}").format(path=item.path, reason=reason)
        ) from exc


def _renumber_around_refusals(db: Database, item: InputFile, copy: str | None, scan: int) -> None:
    bad = db.count(f"scan_rejects_{scan}")
    if bad:
        # Lines the reader itself refused (not UTF-8, a stray delimiter) shift the numbering
        # of the rows after them: row n is physical line n + (refused lines before it).
        db.execute(
            f"""
            CREATE TEMP TABLE refused AS
            SELECT line + {int(item.line_offset)} AS physical,
                   row_number() OVER (ORDER BY line) AS i
            FROM (SELECT DISTINCT line FROM scan_rejects_{scan})
            """
        )
        db.execute(
            "UPDATE lines SET line = line + (SELECT count(*) FROM refused "
            "WHERE refused.physical - refused.i < lines.line)"
        )
        db.execute("DROP TABLE refused")
        # A byte that is not UTF-8 (a Latin-1 app log; a scanner's URL that nginx escape=json
        # passes through) costs the line: it is read again from its bytes.
        if item.encoding == "utf-16":
            # Decoded by the engine: its copy (with '?' for what it could not decode) is kept.
            db.execute(
                f"""
                INSERT INTO lines
                SELECT line, text, {LINE_MEASURES} FROM (
                    SELECT line + {int(item.line_offset)} AS line, any_value(csv_line) AS text
                    FROM scan_rejects_{scan}
                    WHERE error_type = 'INVALID ENCODING' GROUP BY line ORDER BY line)
                """
            )
        else:
            _reread_undecodable(db, item, copy, scan)
        db.execute(f"DELETE FROM scan_rejects_{scan} WHERE error_type = 'INVALID ENCODING'")


def _reread_undecodable(db: Database, item: InputFile, copy: str | None, scan: int) -> None:
    """Insert the lines the engine refused as not UTF-8, decoded from their bytes."""
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE undecodable AS
        SELECT line, row_number() OVER (ORDER BY line) AS i
        FROM (SELECT DISTINCT line FROM scan_rejects_{scan}
              WHERE error_type = 'INVALID ENCODING')
        ORDER BY line
        """
    )
    total = db.count("undecodable")

    def wanted() -> Iterator[int]:
        # In batches: a whole Latin-1 file is millions of line numbers.
        for first in range(1, total + 1, _REREAD_BATCH):
            for row in db.rows(
                "SELECT line FROM undecodable WHERE i BETWEEN ? AND ? ORDER BY i",
                [first, first + _REREAD_BATCH - 1],
            ):
                yield int(row["line"])

    def insert(batch: list[tuple[int, str]]) -> None:
        db.execute(
            f"INSERT INTO lines SELECT line, text, {LINE_MEASURES} FROM "
            f"(SELECT unnest(?::BIGINT[]) + {int(item.line_offset)} AS line, "
            "unnest(?::VARCHAR[]) AS text)",
            [[n for n, _ in batch], [text for _, text in batch]],
        )

    batch: list[tuple[int, str]] = []
    read = (copy, "none") if copy is not None else (item.read_path, item.compression)
    with open_content(*read) as content:
        for found in lines_at(content, wanted()):
            batch.append(found)
            if len(batch) >= _REREAD_BATCH:
                insert(batch)
                batch = []
    if batch:
        insert(batch)
    db.execute("DROP TABLE undecodable")


def _record_reader_refusals(db: Database, item: InputFile, scan: int) -> None:
    reasons = (
        "CASE error_type WHEN 'INVALID ENCODING' THEN 'not valid UTF-8' "
        "WHEN 'TOO MANY COLUMNS' THEN 'line has a \\x01 control character' "
        "ELSE lower(error_type::VARCHAR) END"
    )
    db.execute(
        f"""
        INSERT INTO rejects
        SELECT ?, line + {int(item.line_offset)}, csv_line, {reasons} FROM scan_rejects_{scan}
        QUALIFY row_number() OVER (PARTITION BY error_type ORDER BY line) <= ?
        """,
        [item.path, EXAMPLES_PER_REASON],
    )
    db.execute(
        f"""
        INSERT INTO reject_counts
        SELECT ?, {reasons}, count(DISTINCT line), min(line) + {int(item.line_offset)}
        FROM scan_rejects_{scan} GROUP BY 1, 2
        """,
        [item.path],
    )


def consolidate_rejects(db: Database) -> None:
    """Each run (or piece) adds its counts and examples: keep one count, N examples a reason."""
    db.execute(
        "CREATE OR REPLACE TABLE reject_counts AS SELECT source, reason, "
        "sum(count)::BIGINT AS count, min(first_line) AS first_line FROM reject_counts "
        "GROUP BY ALL"
    )
    db.execute(
        "CREATE OR REPLACE TABLE rejects AS SELECT * FROM rejects "
        "QUALIFY row_number() OVER (PARTITION BY source, reason ORDER BY line) <= ?",
        [EXAMPLES_PER_REASON],
    )
    db.execute(
        "CREATE OR REPLACE TABLE reject_resemblance AS SELECT source, format, variant, "
        "sum(matched)::INTEGER AS matched, sum(sampled)::INTEGER AS sampled "
        "FROM reject_resemblance GROUP BY ALL"
    )


def head_sample(path: str, limit: int) -> list[str]:
    """The first non-blank lines of the plain file ``path``, as ``_sample`` takes them."""
    with open(path, "rb") as handle:
        return stream_head(handle, limit)


def stream_head(content: BinaryIO, limit: int) -> list[str]:
    """The first non-blank lines of a stream of bytes, as ``_sample`` takes them."""
    out: list[str] = []
    if limit <= 0:
        return out
    for raw in content:
        try:
            text = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError:
            continue
        if "\x01" in text or not text.strip(" "):
            continue
        out.append(text)
        if len(out) >= limit:
            break
    return out


def _sample(db: Database, limit: int, where: str = "TRUE") -> list[str]:
    rows = db.rows(
        f"SELECT text FROM lines WHERE {_NONBLANK} AND {where} ORDER BY line LIMIT ?",
        [limit],
    )
    return [r["text"] for r in rows]


@dataclass(frozen=True)
class PieceRange:
    """The lines of a file one piece gives rows for (engine/pieces.py); it may read more."""

    first_line: int
    end_line: int  # the first line of the next piece
    first: bool
    last: bool

    def where(self, column: str = "line") -> str:
        """SQL: ``column`` is one of this piece's lines."""
        return f"({column} >= {int(self.first_line)} AND {column} < {int(self.end_line)})"


def load_input(
    db: Database,
    item: InputFile,
    scan: int,
    settings: Settings,
    hints: dict[str, Mapping[str, str]],
    sample: Sequence[str] | None = None,
    *,
    normalize: bool = False,
    piece: PieceRange | None = None,
) -> InputSummary:
    """Load ``item`` into its canonical table; record rejections; summarise what it gave.

    ``sample`` replaces the lines the format is chosen from: a resumed read (--state) is
    parsed as its file's first lines were, not by sniffing a fragment. ``normalize``: the
    caller fingerprints the queries next (``normalize_queries``), so statements a database
    reader writes into an empty table may be normalized on their way in; otherwise the table
    keeps the readers' raw statements. ``piece``: ``item`` is one piece of a large file; only
    the rows of the piece's own lines are kept (the lines around them are context).
    """
    _read_lines(db, item, scan)
    mine = "TRUE" if piece is None else piece.where()
    if piece is not None:
        db.execute(
            f"DELETE FROM scan_rejects_{scan} "
            f"WHERE NOT {piece.where(f'line + {int(item.line_offset)}')}"
        )
    refused = db.count(f"scan_rejects_{scan}")
    if refused:
        _record_reader_refusals(db, item, scan)
    census = line_census(db, mine)
    total = census.lines + refused
    blank = census.blank
    options = FormatOptions(settings.format_options)
    sample = list(sample) if sample is not None else _sample(db, SNIFF_LINES)
    # Docker/Kubernetes records: the program's lines inside are what the formats read.
    unwrapped = unwrap_lines(
        db, sample, lambda lines: choose_format(lines, options, None).detection.confidence
    )
    if unwrapped is not None:
        blank += unwrapped.absorbed
        sample = unwrapped.sample
    # Container records unwrapped: the program's lines are the ones whose length says more.
    longest = census.longest if unwrapped is None else longest_lines(db, mine)
    choice = choose_format(sample, options, settings.format)
    if choice.format is None:
        return _unrecognised(db, item, total, blank, refused)
    fmt = choice.format
    hints[fmt.name] = fmt.field_hints
    plan = fmt.plan(sample, options, choice.detection.variant)
    columns = [c for c in CANONICAL_TABLES[plan.table] if c != "source"]
    # The readers see the columns they are promised (ParsePlan): line and text.
    nonblank = f"(SELECT line, text FROM lines WHERE {_NONBLANK})"
    pieces = getattr(fmt, "pieces", None)
    carry = pieces.carry if isinstance(pieces, Pieces) else None
    if carry is not None and (piece is None or piece.first):
        # The reader hands state from piece to piece in this table: none before a file.
        db.execute(f"CREATE OR REPLACE TEMP TABLE {carry[0]} AS {carry[1]}")
    for statement in plan.setup:
        db.execute(statement.replace("{lines}", nonblank))
    db.execute("DROP TABLE IF EXISTS parsed")
    adopt = _can_adopt(db, plan, settings)
    if adopt:
        # The parse is written in the canonical table's layout and becomes that table below:
        # copying a million parsed rows into an empty table costs an eighth of the load.
        layout = ", ".join(
            "?::VARCHAR AS source" if c == "source" else f'CAST("{c}" AS {t}) AS "{c}"'
            for c, t in CANONICAL_TABLES[plan.table].items()
        )
        select = f"({plan.select_sql.replace('{lines}', nonblank)})"
        if normalize and plan.table == "queries":
            # Statements normalized on their way in: normalize_queries's UPDATE of every row
            # afterwards cost twice this join (and it then finds nothing left to do).
            fingerprint_map(db, f"(SELECT * FROM {select} WHERE _reject IS NULL)")
            select = f"({normalized_select(select)})"
        db.execute(f"CREATE TABLE parsed AS SELECT {layout}, _reject FROM {select}", [item.path])
    else:
        db.execute("CREATE TEMP TABLE parsed AS " + plan.select_sql.replace("{lines}", nonblank))
    if db.engine == "duckdb":
        # A time no calendar shows (year 99999 in a crafted line) is kept by the engine but
        # cannot become a Python datetime for the analyzers: it is a counted rejection.
        db.execute(
            f"UPDATE parsed SET _reject = 'time out of range' "
            f"WHERE _reject IS NULL AND NOT ({_PLAUSIBLE_TIME})"
        )
    if piece is not None:
        # Rows of the lines read around the piece are the neighbouring pieces' own.
        db.execute(f"DELETE FROM parsed WHERE NOT {piece.where()}")
    variant = plan.variant
    if not plan.setup and not plan.also and settings.format is None:
        other = _parse_other_variant(db, options, plan, fmt.name)
        if other and adopt:
            db.execute("UPDATE parsed SET source = ? WHERE source IS NULL", [item.path])
        variant = other or variant
    if unwrapped is not None:
        fill_container_ts(db)
        variant = f"{unwrapped.wrapper}: {variant}"
    time_filter, params = _time_filter(settings)
    column_list = ", ".join(f'"{c}"' for c in columns)
    if not adopt:
        kept = f"(SELECT * FROM parsed WHERE _reject IS NULL AND {time_filter})"
        if normalize and plan.table == "queries" and db.engine == "duckdb":
            # A second file (or piece) is normalized on its way in as the first one was:
            # normalize_queries rewriting the whole table afterwards cost 20 of 124 CPU-s
            # for eight rotated 150 MB PostgreSQL logs.
            fingerprint_map(db, "(SELECT * FROM parsed WHERE _reject IS NULL)")
            kept = f"({normalized_select(kept)})"
        db.execute(
            f"INSERT INTO {plan.table} ({column_list}, source) SELECT {column_list}, ? FROM {kept}",
            [item.path, *params],
        )
    also_records = 0
    for table, select in plan.also:
        also_columns = ", ".join(f'"{c}"' for c in CANONICAL_TABLES[table] if c != "source")
        before = db.count(table)
        db.execute(
            f"INSERT INTO {table} ({also_columns}, source) SELECT {also_columns}, ? "
            f"FROM ({select.replace('{lines}', nonblank)}) WHERE {time_filter} "
            f"AND coalesce({_PLAUSIBLE_TIME}, TRUE) AND {mine}",
            [item.path, *params],
        )
        also_records += db.count(table) - before
    counts = db.rows(
        f"""
        SELECT count(*) FILTER (WHERE _reject IS NULL AND {time_filter}) AS records,
               count(*) FILTER (WHERE _reject IS NULL AND NOT ({time_filter})) AS filtered,
               count(*) FILTER (WHERE _reject IS NOT NULL) AS rejected,
               min(ts) FILTER (WHERE _reject IS NULL) AS first_ts,
               max(ts) FILTER (WHERE _reject IS NULL) AS last_ts
        FROM parsed
        """,
        [*params, *params],
    )[0]
    if counts["rejected"]:
        _record_parse_rejects(db, item)
        _record_resemblance(db, item, options, fmt.name, plan.variant)
    if adopt:
        if counts["rejected"]:
            db.execute("DELETE FROM parsed WHERE _reject IS NOT NULL")
        db.execute("ALTER TABLE parsed DROP COLUMN _reject")
        db.execute(f"DROP TABLE {plan.table}")
        db.execute(f"ALTER TABLE parsed RENAME TO {plan.table}")
    else:
        db.execute("DROP TABLE parsed")
    db.execute("DROP TABLE lines")
    if carry is not None and (piece is None or piece.last):
        db.execute(f"DROP TABLE IF EXISTS {carry[0]}")
    for row in db.rows(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'tmp\\_%' ESCAPE '\\'"
    ):
        db.execute(f'DROP TABLE "{row["table_name"]}"')
    return InputSummary(
        path=item.path,
        format=fmt.name,
        lines=total,
        records=counts["records"] + also_records,
        rejected=counts["rejected"] + refused,
        first_ts=_iso(counts["first_ts"]),
        last_ts=_iso(counts["last_ts"]),
        table=plan.table,
        variant=variant,
        skipped=blank + counts["filtered"],
        missing=plan.missing,
        longest=longest,
    )


def _can_adopt(db: Database, plan: ParsePlan, settings: Settings) -> bool:
    """Can the parse become ``plan.table`` itself instead of being copied into it?

    Requests (the access readers) and queries (the database readers), into an empty table of
    a run's own DuckDB database (in memory or its scratch file; a --state file keeps its
    tables), with no time filter. An
    access reader's rows must all go to that one table (no setup, no extra table); a database
    reader's setup tables and its db_events are its own, so its queries are adopted too.
    """
    if plan.table == "requests":
        if plan.setup or plan.also:
            return False
    elif plan.table != "queries" or any(table == plan.table for table, _ in plan.also):
        return False
    if db.engine != "duckdb":
        return False
    if settings.since is not None or settings.until is not None:
        return False
    return not db.keeps_tables and db.count(plan.table) == 0


def _parse_other_variant(
    db: Database, options: FormatOptions, plan: ParsePlan, chosen: str
) -> str | None:
    """Re-read rejected lines with the format variant they resemble (a log_format changed).

    Real logs change format mid-file when someone adds ``$request_time``; those lines are
    data, not noise. Returns the combined variant name when a second variant was used.
    """
    rows = db.rows(
        "SELECT l.text FROM parsed p JOIN lines l USING (line) WHERE p._reject IS NOT NULL "
        "ORDER BY p.line LIMIT ?",
        [SNIFF_LINES],
    )
    if not rows:
        return None
    sample = [r["text"] for r in rows]
    other = choose_format(sample, FormatOptions({}), None)
    if other.format is None or other.detection.confidence < FALLBACK_CONFIDENCE:
        return None
    second = other.format.plan(sample, FormatOptions({}), other.detection.variant)
    same = other.format.name == chosen and second.variant == plan.variant
    if same or second.table != plan.table or second.setup or second.also:
        return None
    rejected = "(SELECT l.* FROM lines l JOIN parsed p USING (line) WHERE p._reject IS NOT NULL)"
    db.execute(
        "CREATE TEMP TABLE tmp_fallback AS " + second.select_sql.replace("{lines}", rejected)
    )
    db.execute(
        "DELETE FROM parsed WHERE line IN (SELECT line FROM tmp_fallback WHERE _reject IS NULL)"
    )
    db.execute("INSERT INTO parsed BY NAME SELECT * FROM tmp_fallback WHERE _reject IS NULL")
    used = db.scalar("SELECT count(*) FROM tmp_fallback WHERE _reject IS NULL")
    if not used:
        return None
    name = (
        second.variant if other.format.name == chosen else f"{other.format.name} {second.variant}"
    )
    return f"{plan.variant} + {name} ({used} lines)"


def _iso(value: object) -> str | None:
    return value.isoformat() + "Z" if value is not None and hasattr(value, "isoformat") else None


def _time_filter(settings: Settings) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if settings.since is not None:
        clauses.append("ts >= ?")
        params.append(settings.since)
    if settings.until is not None:
        clauses.append("ts < ?")
        params.append(settings.until)
    return (" AND ".join(clauses) or "TRUE"), params


def _record_parse_rejects(db: Database, item: InputFile) -> None:
    db.execute(
        """
        INSERT INTO rejects
        SELECT ?, p.line, l.text, p._reject FROM parsed p JOIN lines l USING (line)
        WHERE p._reject IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY p._reject ORDER BY p.line) <= ?
        """,
        [item.path, EXAMPLES_PER_REASON],
    )
    db.execute(
        "INSERT INTO reject_counts SELECT ?, _reject, count(*), min(line) FROM parsed "
        "WHERE _reject IS NOT NULL GROUP BY _reject",
        [item.path],
    )


def _record_resemblance(
    db: Database, item: InputFile, options: FormatOptions, chosen: str, chosen_variant: str
) -> None:
    """Sniff a sample of rejected lines with every format: what do they look like instead?"""
    rows = db.rows(
        "SELECT l.text FROM parsed p JOIN lines l USING (line) WHERE p._reject IS NOT NULL "
        "ORDER BY p.line LIMIT ?",
        [RESEMBLANCE_SAMPLE],
    )
    sample = [r["text"] for r in rows]
    no_hint = FormatOptions({})
    for fmt in BUILTIN_FORMATS:
        try:
            detection = fmt.sniff(sample, no_hint if fmt.name == chosen else options)
        except FormatError:
            continue
        same = fmt.name == chosen and detection.variant == chosen_variant
        if detection.confidence >= MIN_CONFIDENCE and not same:
            db.execute(
                "INSERT INTO reject_resemblance VALUES (?, ?, ?, ?, ?)",
                [
                    item.path,
                    fmt.name,
                    detection.variant,
                    round(detection.confidence * len(sample)),
                    len(sample),
                ],
            )


def _unrecognised(
    db: Database, item: InputFile, total: int, blank: int, refused: int
) -> InputSummary:
    """No reader recognises the file: every non-blank line is a counted rejection."""
    reason = "no reader recognises this file"
    db.execute(
        f"INSERT INTO rejects SELECT ?, line, text, ? FROM lines WHERE {_NONBLANK} "
        "ORDER BY line LIMIT ?",
        [item.path, reason, EXAMPLES_PER_REASON],
    )
    first = db.scalar(f"SELECT min(line) FROM lines WHERE {_NONBLANK}")
    rejected = total - blank - refused
    if rejected:
        db.execute(
            "INSERT INTO reject_counts VALUES (?, ?, ?, ?)", [item.path, reason, rejected, first]
        )
    db.execute("DROP TABLE lines")
    return InputSummary(
        path=item.path,
        format="unknown",
        lines=total,
        records=0,
        rejected=rejected + refused,
        first_ts=None,
        last_ts=None,
        skipped=blank,
    )
