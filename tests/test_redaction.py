"""Secrets in log content never reach a report unredacted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logtriage.cli import main
from logtriage.model.redaction import REDACTED, redact_text, redact_value

SECRETS = [
    ("/login?user=bob&password=hunter2", "hunter2"),
    ("/cb?code=x&access_token=ya29.a0AfH6SMBx", "ya29.a0AfH6SMBx"),
    ("/api?api_key=AbC123xyz987", "AbC123xyz987"),
    ("/api?apikey=AbC123xyz987", "AbC123xyz987"),
    ("Authorization: Bearer abcdefghijklmnop123", "abcdefghijklmnop123"),
    ("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk", "eyJzdWIiOiIxMjM0In0"),
    ("postgres://app:s3cretpw@db.internal/prod", "s3cretpw"),
    ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    ("sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234"),
    ("card 4111 1111 1111 1111 paid", "4111 1111 1111 1111"),
    ("card=4111111111111111", "4111111111111111"),
    ('{"password": "pa55word!"}', "pa55word!"),
    ("UPDATE users SET password='s3cr3t' WHERE id=1", "s3cr3t"),
    ("/reset?session_id=abcd1234efgh", "abcd1234efgh"),
    ("Cookie: PHPSESSID=9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("/x?client_secret=zzz999yyy", "zzz999yyy"),
    ("/x?signature=deadbeefcafe", "deadbeefcafe"),
    ("AIzaSyA-abcdefghijklmnopqrstuvwxyz12345", "AIzaSyA-abcdefghijklmnopqrstuvwxyz12345"),
    ("glpat-abcdefghijklmnopqrstu", "glpat-abcdefghijklmnopqrstu"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_is_redacted(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/users/12345 HTTP/1.1",
        "select * from orders where id = 42",
        "/search?q=shoes&page=2",
        "order 1234567890123 shipped",  # 13 digits, not a valid card number (Luhn)
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_nested_values_are_redacted() -> None:
    value = {"a": ["/x?token=abc123def", {"b": "password=zz"}], "n": 3}
    out = redact_value(value)
    assert "abc123def" not in str(out)
    assert "zz" not in str(out)
    assert out["n"] == 3


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "abcdefghijklmnopqrstuvwxyz0123"),
        ("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", "SG.abcdefghij"),
        ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghij"),
        ("AccountKey=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP12345==", "abcdefghijklmnopq"),
        ("Authorization: ya29.a0AfH6SMBxyzabcdefghijklmnop", "a0AfH6SMBxyz"),
    ],
)
def test_provider_shapes_of_s001_are_redacted_everywhere(text: str, secret: str) -> None:
    # The report redactor shares S001's list of shapes: what S001 finds, no output shows.
    assert secret not in redact_text(text)


def test_control_characters_become_visible_escapes() -> None:
    text = "GET /a\x1b[2J\x1b]0;pwned\x07\r\x00\x9b\u202e\tok\nnext é"
    out = redact_text(text)
    assert out == "GET /a\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x00\\x9b\\u202e\tok\nnext é"
    assert redact_value({"ua\x1b": ["x\x1b"]}) == {"ua\\x1b": ["x\\x1b"]}


def test_escape_sequences_in_a_log_never_reach_the_terminal_or_markdown(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(
        b'127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /a\x1b[2J\x1b]0;pwned\x07 HTTP/1.1" '
        b'200 12 "-" "evil\x1b[31mRED"\n'
        b"\x1b[31mgarbage\x1b[0m \x1b]8;;http://x\x1b\\link\n"
        b'127.0.0.1 - - [25/Nov/2026:10:00:01 +0000] "GET /b HTTP/1.1" 500 12 "-" "curl/8"\n'
    )
    for output in ("text", "markdown"):
        result = CliRunner().invoke(main, ["analyze", str(log), "--output-format", output])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "\\x1b[31mgarbage" in result.output  # the rejected line is still shown
