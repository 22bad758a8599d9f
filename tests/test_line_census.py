"""The line census (count, blank lines, longest lines in two scans) against plain Python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logtriage.config import Settings
from logtriage.engine.database import Database, new_work_dir
from logtriage.engine.line_lengths import (
    LINE_MEASURES,
    NEIGHBOURHOOD,
    line_census,
    longest_lines,
)

# Short lines, blank ones (spaces, tabs, nothing), lines ending in a closing character or not,
# and a few long ones whose lengths sit inside and outside the neighbourhood of the longest.
_LINE = st.one_of(
    st.text(alphabet=" \t", max_size=3),
    st.text(alphabet='ab ]}".;>\u00e9', max_size=20),
    st.integers(min_value=60, max_value=200).map(lambda n: "x" * (n - 1) + "y"),
    st.integers(min_value=60, max_value=200).map(lambda n: "x" * (n - 1) + '"'),
)


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with new_work_dir(Settings()) as work:
        database = Database(Settings(threads=2), work)
        yield database
        database.close()


def _load(db: Database, texts: list[str | None]) -> None:
    db.execute("CREATE OR REPLACE TEMP TABLE raw_lines (line BIGINT, text VARCHAR)")
    if texts:
        db.con.executemany("INSERT INTO raw_lines VALUES (?, ?)", list(enumerate(texts, 1)))
    # As the loader writes it: the measures beside every line.
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE lines AS SELECT line, text, {LINE_MEASURES} FROM raw_lines"
    )


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.one_of(_LINE, st.none()), max_size=40), first=st.integers(1, 10))
def test_the_census_counts_what_python_counts(
    db: Database, texts: list[str | None], first: int
) -> None:
    _load(db, texts)
    where = f"(line >= {first})"
    census = line_census(db, where)
    mine = [t for i, t in enumerate(texts, 1) if i >= first]
    assert census.lines == len(mine)
    # Blank: nothing but spaces (a tab is content, as the readers' samples take it).
    assert census.blank == sum(1 for t in mine if t is None or not t.strip(" "))
    # The longest lines are the ones the separate measurement finds, computed from the
    # lengths Python sees.
    assert census.longest == longest_lines(db, where)
    lengths = [len(t.encode()) for t in mine if t is not None]
    if not any(lengths):
        assert census.longest is None
        return
    assert census.longest is not None
    top = max(lengths)
    assert census.longest.bytes == top
    assert census.longest.count == lengths.count(top)
    assert census.longest.just_below == sum(1 for n in lengths if top - NEIGHBOURHOOD <= n < top)
