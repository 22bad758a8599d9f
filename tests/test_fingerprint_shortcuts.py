"""The quick path and the cheap guards of fingerprinting give what the full tokenizer gives."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logtriage.engine.database import Database
from logtriage.engine.fingerprint import _normalize_sql
from tests.canonical import database, insert_rows

# Pieces of statements, ordinary and awkward: literals holding comment or quote characters,
# prefixes (E'…', N'…', _utf8mb4'…'), placeholders, quoted identifiers, dollar quotes, signs,
# lists and the words the structure rules look for.
_HEAD_PIECES = (
    "SELECT",
    "select",
    "id",
    "FROM",
    "users",
    "u",
    "WHERE",
    "AND",
    "OR",
    "=",
    "<",
    "-",
    "+",
    "(",
    ")",
    ",",
    "*",
    "/",
    "?",
    "1",
    "42",
    "-7",
    "3.5",
    ".5",
    "6e-3",
    "0x1F",
    "NULL",
    "IS",
    "NOT",
    "IN",
    "VALUES",
    "INSERT INTO t",
    "LIMIT",
    "OFFSET",
    "ORDER BY",
    "ASC",
    "UNION ALL",
    "ARRAY[",
    "]",
    "'a'",
    "'it''s'",
    "'x\\'y'",
    "'/* no */'",
    "'-- no'",
    "'# no'",
    "''",
    "'a  b'",
    "E'e\\'s'",
    "e'x'",
    "N'n'",
    "_utf8mb4'u'",
    "x'0A'",
    "$1",
    "$23",
    "$$body$$",
    "$f$x$f$",
    '"Name"',
    '"a""b"',
    "`tick`",
    "#",
    "--",
    "-- c",
    "'",
    '"',
    "\\",
    "users_2009",
    "t1",
    "CALL p(",
    "USE db",
    ";",
    "is null",
    "true",
    "e",
    "E",
    "ee",
    "$",
    "é",
    "\t",
    "\n",
)
_COMMENTS = (
    "/* plain prose */",
    "/*controller='orders',action='show',traceparent='00-0af7651916cd43dd8448eb211c80319c"
    "-b7ad6b7169203331-01'*/",
    "/*application:Shop,controller:products,action:show*/",
    "/*request_id=abc-123*/",
    "/*route='%2Fapi%2Fv1%2Fitems',framework='rails%3A7.1'*/",
    "/*k='a,b',x=' spaced '*/",
    "/*x-request-id:r1,X-Request-Id:r2*/",
    "/*k='%%41',k2='%ZZ'*/",
    "/*!40001 SQL_NO_CACHE */",
    "/*+ INDEX(t i) */",
    "/**/",
    "/*/",
    "/* a /* b */",
    "/*db.tbl:1/2*/",
    "-- file: a.rb, line: 9\n",
)
_SEPARATORS = st.sampled_from(("", " ", " ", " ", "  ", "\n", "\t"))


@st.composite
def _statements(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(_HEAD_PIECES), min_size=0, max_size=12))
    text = "".join(piece + draw(_SEPARATORS) for piece in pieces)
    for _ in range(draw(st.integers(0, 2))):
        text += draw(_SEPARATORS) + draw(st.sampled_from(_COMMENTS))
    if draw(st.booleans()):
        text += draw(st.sampled_from(("", " ", ";", " ;", "\n")))
    return text


def _normalized(db: Database, shortcuts: bool) -> list[dict[str, Any]]:
    return db.rows(
        f"SELECT * FROM ({_normalize_sql(shortcuts=shortcuts)}) ORDER BY raw_md5, db_system"
    )


def test_shortcuts_change_nothing() -> None:
    with database() as db:

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            st.lists(_statements(), min_size=1, max_size=12),
            st.sampled_from(["mysql", "postgresql", "mariadb", None]),
        )
        # Found by CI: a PostgreSQL run starting with a backtick was taken for a quoted
        # identifier (kept with its trailing space) by the full path only.
        @example(texts=["`tick` "], system="postgresql")
        def check(texts: list[str], system: str | None) -> None:
            db.execute("DELETE FROM queries")
            insert_rows(db, "queries", [{"sql": t, "db_system": system} for t in texts])
            assert _normalized(db, shortcuts=True) == _normalized(db, shortcuts=False)

        check()


def test_the_quick_path_is_taken_for_common_statements() -> None:
    """The shortcut is real: ordinary ORM statements skip the tokenizer."""
    with database() as db:
        sql = (
            "SELECT id FROM users WHERE id = 5 AND name = 'o''brien' "
            "/*controller='users',traceparent='00-0af7651916cd43dd8448eb211c80319c"
            "-b7ad6b7169203331-01'*/"
        )
        insert_rows(db, "queries", [{"sql": sql, "db_system": "mysql"}])
        query = _normalize_sql().replace(
            "SELECT md5_number(raw) AS raw_md5",
            "SELECT (SELECT count(quick) FROM quick) AS n, md5_number(raw) AS raw_md5",
        )
        assert db.rows(query)[0]["n"] == 1
