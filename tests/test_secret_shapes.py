"""S001 card check: card numbers are found; UUIDs and hex ids starting with digits are not."""

from __future__ import annotations

import duckdb
import pytest

from logtriage.analyzers.secret_shapes import found_sql
from logtriage.model.secret_shapes import SHAPES

CARD = next(s for s in SHAPES if s.name == "card-number")


@pytest.mark.parametrize(
    ("text", "is_card"),
    [
        ("pay with 4111 1111 1111 1111 now", True),
        ("card=4111111111111111", True),
        # 16 leading digits that pass the Luhn check, inside identifiers (seen in real logs).
        ("/orders/45320151-1283-4366-8123-123456789abc", False),
        ("trace 4532015112830366aabbccdd11223344", False),
        ("/orders/4532015112830366-1234-4123-8123-123456789abc", False),
    ],
)
def test_card_numbers_not_identifiers(text: str, is_card: bool) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [text])
    row = con.execute(f"SELECT {found_sql(CARD, 'x')} FROM t").fetchone()
    assert row is not None and row[0] is is_card
