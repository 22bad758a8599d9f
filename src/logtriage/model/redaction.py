"""Redact secrets from any text before it reaches a report: log content is attacker-controlled."""

from __future__ import annotations

import re
from typing import Any

from logtriage.model.secret_shapes import MASK, SHAPES

REDACTED = "[REDACTED]"

# Query-string / form / JSON / SQL keys whose values are secrets whatever they look like.
_SECRET_KEYS = (
    r"pass(?:word|wd)?|pwd|secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|"
    r"auth|authorization|session[_-]?(?:id|key|token)?|sessid|phpsessid|jsessionid|sid|key|signature|sig|"
    r"private[_-]?key|client[_-]?secret|credentials?|otp|code_verifier|x-amz-signature"
)
_KEY_VALUE = re.compile(
    rf"(?i)(?P<key>(?:^|[?&;,\s\"'{{(])(?:{_SECRET_KEYS}))(?P<sep>\"?\s*[=:]\s*\"?'?)(?P<value>[^&;,\s\"')}}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@")
_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_PRIVATE_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b"
)
# 13-19 digit runs that look like payment cards (with optional separators).
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _redact_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return REDACTED if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


# The provider shapes S001 knows (OpenAI, SendGrid, npm, Twilio, Azure, PEM keys…); cards are
# handled below with the Luhn check.
_SHAPES = tuple(
    (re.compile(shape.pattern), shape.replacement.replace(MASK, REDACTED))
    for shape in SHAPES
    if shape.name != "card-number"
)


# Control characters (all but tab and newline, C1 included) and bidi overrides from a log would
# drive the reader's terminal (clear the screen, set the title, fake a link) or reorder what a
# report shows: they are written the way nginx escapes bytes, \x1b, as visible text.
_CONTROLS = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (0x09, 0x0A)},
    **{c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def neutralize_controls(text: str) -> str:
    """Return ``text`` with control and bidi-override characters written as visible escapes."""
    return text.translate(_CONTROLS)


def redact_text(text: str) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``.

    Control characters come out as visible escapes (``neutralize_controls``).
    """
    if not text:
        return text
    text = neutralize_controls(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    # Schemes first: "Authorization: Bearer X" must lose X, not just the word "Bearer".
    out = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    out = _KEY_VALUE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", out)
    out = _JWT.sub(REDACTED, out)
    out = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{REDACTED}@", out)
    out = _AWS_KEY.sub(REDACTED, out)
    out = _PRIVATE_TOKENS.sub(REDACTED, out)
    return _CARD.sub(_redact_card, out)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, tuples, scalars)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        # A key can come from a log too (a header name, a reason): no secret, but no control.
        return {
            neutralize_controls(k) if isinstance(k, str) else k: redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
