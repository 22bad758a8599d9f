"""PostgreSQL logs in every language of the catalog table read the same as in English.

Each message is written twice from PostgreSQL's own catalog strings, in English (the msgid)
and in the language (the msgstr, with its argument order), with the same arguments, into a
stderr log, a csvlog and a jsonlog; the readers must find the same statements, durations and
events in both. The table itself must be what ``scripts/generate_pg_messages.py`` makes from
the catalogs installed.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from logtriage.config import Settings
from logtriage.errors import FormatError
from logtriage.sources import postgresql_lang
from tests.loaded_tables import load_tables

ROOT = Path(__file__).resolve().parent.parent
_SPEC = re.compile(r"%(?:(\d+)\$)?([-+ 0#]*\d*(?:\.\d+)?)(?:hh|h|ll|l|z|L)?([diouxXfgsc%])")

# (severity, msgid, arguments) written by a server; the English rendering is the reference.
MESSAGES: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("LOG", "connection received: host=%s port=%s", ("127.0.0.1", "51234")),
    ("LOG", "duration: %s ms  statement: %s", ("12.345", "SELECT id FROM t WHERE id = 1")),
    ("LOG", "duration: %s ms  parse %s: %s", ("0.100", "<unnamed>", "SELECT 2")),
    ("LOG", "duration: %s ms  execute %s%s%s: %s", ("1.500", "S_1", "", "", "SELECT 2")),
    ("LOG", "process %d still waiting for %s on %s after %ld.%03d ms",
     (42, "ShareLock", "x", 1000, 5)),
    ("ERROR", "deadlock detected", ()),
    ("ERROR", "canceling statement due to lock timeout", ()),
    ("ERROR", "canceling statement due to statement timeout", ()),
    ("ERROR", 'relation "%s" does not exist', ("missing_table",)),
    ("LOG", "checkpoint starting:%s%s%s%s%s%s%s%s", (" time", "", "", "", "", "", "", "")),
    ("LOG", "disconnection: session time: %d:%02d:%02d.%03d user=%s database=%s host=%s%s%s",
     (0, 0, 1, 250, "app", "shop", "127.0.0.1", " port=", "51234")),
)  # fmt: skip


def _printf(fmt: str, args: tuple[Any, ...]) -> str:
    """C printf of PostgreSQL's messages (positional %2$s included)."""
    counter = iter(range(len(args)))

    def one(m: re.Match[str]) -> str:
        if m.group(3) == "%":
            return "%"
        index = int(m.group(1)) - 1 if m.group(1) else next(counter)
        return ("%" + m.group(2) + m.group(3)) % args[index]

    return _SPEC.sub(one, fmt)


def _catalog(lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """(English severity -> word, msgid -> msgstr) of ``lang`` from the committed table."""
    entry = postgresql_lang.table()[lang]
    words = {english: word for word, english in entry["severities"].items()}
    return words, {msgid: msgstr for msgstr, msgid in entry["messages"]}


def _messages(lang: str | None) -> list[tuple[str, str]]:
    """(severity, text) of MESSAGES as a server with lc_messages = ``lang`` writes them."""
    words, strings = _catalog(lang) if lang else ({}, {})
    return [
        (words.get(level, level), _printf(strings.get(msgid, msgid), args))
        for level, msgid, args in MESSAGES
    ]


def _stderr(messages: list[tuple[str, str]]) -> str:
    return "".join(
        f"2026-07-01 10:00:{i:02d}.000 UTC [7] app@shop {level}:  {text}\n".replace(
            "\n", "\n\t", text.count("\n")
        )
        for i, (level, text) in enumerate(messages)
    )


def _csvlog(messages: list[tuple[str, str]]) -> str:
    # As csvlog.c writes them: text columns quoted, numbers, times and ids bare.
    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if value else ""

    return "".join(
        f'2026-07-01 10:00:{i:02d}.000 UTC,"app","shop",7,"127.0.0.1:51234",6890a1b2.7,{i + 1},'
        f'"SELECT",2026-07-01 10:00:00 UTC,3/1,0,{level},00000,{quoted(text)},,,,,,,,,'
        '"psql","client backend",,0\n'
        for i, (level, text) in enumerate(messages)
    )


def _jsonlog(messages: list[tuple[str, str]]) -> str:
    return "".join(
        json.dumps(
            {"timestamp": f"2026-07-01 10:00:{i:02d}.000 UTC", "user": "app", "dbname": "shop",
             "pid": 7, "session_id": "6890a1b2.7", "error_severity": level, "message": text},
            ensure_ascii=False,
        ) + "\n"
        for i, (level, text) in enumerate(messages)
    )  # fmt: skip


WRITERS = {"postgresql": _stderr, "postgresql_csv": _csvlog, "postgresql_json": _jsonlog}


def _read(tmp_path: Path, name: str, text: str, settings: Settings | None = None) -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load_tables(str(path), settings)
    queries = [(q["sql"], q["duration_ms"], q["user"], q["db"]) for q in loaded.queries]
    events = [(e["level"], e["kind"], e["message"], e["user"]) for e in loaded.db_events]
    return loaded.summary.format, loaded.rejects, queries, events


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("lang", postgresql_lang.languages())
def test_every_language_reads_like_english(tmp_path: Path, lang: str, fmt: str) -> None:
    write = WRITERS[fmt]
    english = _read(tmp_path, "en.log", write(_messages(None)))
    local_text = write(_messages(lang))
    assert local_text != write(_messages(None))
    local = _read(tmp_path, f"{lang}.log", local_text)
    assert local[0] == english[0] == fmt
    assert local[1] == english[1] == []
    assert local[2] == english[2]
    assert len(english[2]) == 2  # the statement and the execute; parse is a step
    assert local[3] == english[3]
    kinds = [e[1] for e in english[3]]
    assert kinds.count("deadlock") == kinds.count("lock_wait") == 1


def test_mixed_languages_in_one_file(tmp_path: Path) -> None:
    # A server whose lc_messages changed: Japanese, then German, then English lines.
    messages = _messages("ja")[:5] + _messages("de")[5:8] + _messages(None)[8:]
    english = _read(tmp_path, "en.log", _stderr(_messages(None)))
    assert _read(tmp_path, "mixed.log", _stderr(messages)) == english


def test_pg_lang_limits_the_languages(tmp_path: Path) -> None:
    text = _stderr(_messages("de"))
    given = Settings(format_options={"pg_lang": "de_DE.UTF-8"})
    assert _read(tmp_path, "de.log", text, given) == _read(tmp_path, "auto.log", text)
    # Told the log is Japanese, German timings are not statements: rejected, not lost.
    _, rejects, queries, _ = _read(
        tmp_path, "ja.log", text, Settings(format_options={"pg_lang": "ja"})
    )
    assert queries == []
    assert rejects and all("no PostgreSQL catalog" in r["reason"] for r in rejects)


def test_unknown_pg_lang_is_one_clear_error() -> None:
    with pytest.raises(FormatError, match="pg_lang 'xx'"):
        postgresql_lang.chosen_languages("xx")
    assert postgresql_lang.chosen_languages("C") == ()
    assert postgresql_lang.chosen_languages("auto") is None


def test_position_and_unknown_user_in_the_language(tmp_path: Path) -> None:
    words = postgresql_lang.table()["ja"]["words"]
    unknown = words["[unknown]"]
    at = _printf(words[" at character %d"], (15,))
    text = (
        f"2026-07-01 10:00:00.000 UTC [7] {unknown}@{unknown} LOG:  "
        + _printf(_catalog("ja")[1]["connection received: host=%s port=%s"], ("127.0.0.1", "5"))
        + "\n2026-07-01 10:00:01.000 UTC [7] app@shop ERROR:  "
        + _printf(_catalog("ja")[1]['relation "%s" does not exist'], ("t",))
        + at
        + "\n"
    )
    _, rejects, _, events = _read(tmp_path, "ja.log", text)
    assert rejects == []
    assert events == [
        ("LOG", "connection", "connection received: host=127.0.0.1 port=5", None),
        ("ERROR", "error", 'relation "t" does not exist', "app"),
    ]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_pg_messages", ROOT / "scripts" / "generate_pg_messages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_is_current_for_the_installed_postgresql() -> None:
    generator = _generator()
    if not generator.catalogs():
        pytest.skip(
            "no PostgreSQL message catalogs installed (/usr/share/locale/*/LC_MESSAGES/"
            "postgres-*.mo): `make system` installs postgresql"
        )
    table = generator.build()
    committed = (ROOT / "src/logtriage/sources/postgresql_i18n.json").read_text("utf-8")
    assert generator.render(table) == committed, "run scripts/generate_pg_messages.py"
    # The languages the issue names that this PostgreSQL ships.
    assert {"ja", "de", "fr", "es", "it", "ko", "ru", "zh_CN", "sv", "uk"} <= set(
        table["languages"]
    )
