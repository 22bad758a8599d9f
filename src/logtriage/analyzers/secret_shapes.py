"""The SQL that finds and masks secrets (shapes in ``model.secret_shapes``) in log text.

S001 counts them; every analyzer that shows log text (messages, paths, SQL) masks them with
``mask_sql`` before the text leaves the engine, so a shape the report redactor does not know
is still never shown. Patterns follow the providers' documented token formats (the families
detect-secrets and gitleaks know) plus key names whose value is a secret whatever it looks
like (``password=``, ``token=``, ``api_key=``…).
"""

from __future__ import annotations

from logtriage.model.secret_shapes import PLACEHOLDER, SHAPES, Shape

_IDENTIFIERS = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]{15,}|[0-9]{20,}"
)


def _lit(text: str) -> str:
    return text.replace("'", "''")


def luhn_sql(digits: str) -> str:
    """SQL: whether the digit string ``digits`` passes the Luhn check."""
    d = f"substr(reverse({digits}), i, 1)::INTEGER"
    term = f"CASE WHEN i % 2 = 0 THEN {d} * 2 - CASE WHEN {d} > 4 THEN 9 ELSE 0 END ELSE {d} END"
    return f"(list_sum(list_transform(range(1, length({digits}) + 1), lambda i: {term})) % 10 = 0)"


def found_sql(shape: Shape, text: str) -> str:
    """SQL: whether ``text`` holds a secret of ``shape`` (cards must pass the Luhn check)."""
    if shape.name == "card-number":
        # A v4 UUID or a long hex id can start with 16 digits that pass the Luhn check: take
        # identifiers out before looking for card numbers.
        without_ids = f"regexp_replace({text}, '{_IDENTIFIERS}', ' ', 'g')"
        cards = f"regexp_extract_all({without_ids}, '{_lit(shape.pattern)}')"
        digits = "regexp_replace(c, '[^0-9]', '', 'g')"
        return (
            f"coalesce(list_bool_or(list_transform({cards}, lambda c: "
            f"length({digits}) BETWEEN 13 AND 19 AND {luhn_sql(digits)})), false)"
        )
    if shape.name == "key-value":
        pairs = f"regexp_extract_all({text}, '{_lit(shape.pattern)}')"
        key = f"regexp_extract(m, '{_lit(shape.pattern)}', 1)"
        value = f"regexp_extract(m, '{_lit(shape.pattern)}', 2)"
        real = f"NOT regexp_full_match(lower(trim({value}, '''\"')), '{_lit(PLACEHOLDER)}')"
        # A session id of a few digits is a counter (Kafka's fetch sessionId=1901923426), not
        # a web session's token: those are long random strings.
        counter = (
            f"regexp_matches(lower({key}), 'sess|sid') "
            f"AND regexp_full_match({value}, '[0-9]{{1,12}}')"
        )
        return (
            f"coalesce(list_bool_or(list_transform({pairs}, "
            f"lambda m: {real} AND NOT ({counter}))), false)"
        )
    return f"coalesce(regexp_matches({text}, '{_lit(shape.pattern)}'), false)"


def _scoped(pattern: str) -> str:
    """``pattern`` as a group, its leading ``(?i)`` turned into a scoped ``(?i:…)``."""
    return f"(?i:{pattern[4:]})" if pattern.startswith("(?i)") else f"(?:{pattern})"


# Every shape in one alternation: RE2 tests them all in a single pass over the text.
ANY_SHAPE = "|".join(_scoped(s.pattern) for s in SHAPES)


def candidate_sql(text: str) -> str:
    """SQL: whether ``text`` may hold a secret (one cheap pass; ``found_sql`` then decides)."""
    return f"coalesce(regexp_matches({text}, '{_lit(ANY_SHAPE)}'), false)"


def mask_sql(text: str) -> str:
    """SQL: ``text`` with every secret shape replaced by ``[REDACTED]`` (over-masking is fine)."""
    out = text
    for shape in SHAPES:
        out = f"regexp_replace({out}, '{_lit(shape.pattern)}', '{_lit(shape.replacement)}', 'g')"
    return out
