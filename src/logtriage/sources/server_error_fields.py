"""Web-server error-log fields in SQL, shared by the nginx and Apache readers: the error kind.

An error's *kind* is its message without what varies between occurrences (paths, addresses,
ports, numbers, quoted values), cut before the context nginx appends (``while reading …``,
``, client: …``), with the system error text kept: ``upstream timed out (Connection timed
out)``, ``connect() failed (Connection refused)``, ``open() failed (No such file or
directory)``. A002 and A001 group errors by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from logtriage.sources.app_fields import sql_str

# ``(110: Connection timed out)`` (nginx) and ``(111)Connection refused`` (Apache's APR error).
NGINX_ERRNO = r"\((\d+): ([^)]*)\)"


def kind_sql(message: str, errno_text: str) -> str:
    """SQL: the normalized kind of a server error ``message`` with its system error text."""
    stripped = (
        "regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace("
        # A leading one-word tag (Apache's ``http: attempt to connect…``) is not the kind.
        f"regexp_replace({message}, '^\\w+: ', ''), "
        "'\"[^\"]*\"', '', 'g'), "
        r"'\(\d+: [^)]*\)', '', 'g'), "
        r"'(\d{1,3}\.){3}\d{1,3}(:\d+)?|\[[0-9a-fA-F:]+\](:\d+)?|(^|\s)/\S*', ' ', 'g'), "
        r"'\s\(\s*\)|\b\d+(\.\d+)?\b', '', 'g'), "
        r"'\s+', ' ', 'g')"
    )
    # Context nginx and Apache append after the error itself.
    head = (
        f"trim(regexp_replace({stripped}, "
        f"'{sql_str(r'( while |, |: | by zone | for | returned by ).*$')}', ''))"
    )
    return (
        f"NULLIF(trim({head} || coalesce(' (' || NULLIF(trim({errno_text}), '') || ')', '')), '')"
    )


def entries_sql(line_regex: str) -> str:
    """SQL: ``{lines}`` with each line the regex does not match joined to the entry above it.

    nginx writes a FastCGI backend's stderr (``PHP message: …``) with its line breaks, and
    mod_php's ``Stack trace:`` and ``#0 …`` lines follow their message: they belong to it.
    Each entry keeps its first line's number; lines before the first entry stay alone (and are
    rejected by the reader). The readers' regexes end in ``((?s:.*))$`` to read such text.
    """
    starts = f"regexp_matches(text, '{sql_str(line_regex)}')"
    return f"""(
    SELECT min(line) AS line, string_agg(text, chr(10) ORDER BY line) AS text
    FROM (SELECT line, text,
                 sum(CASE WHEN {starts} THEN 1 ELSE 0 END) OVER (ORDER BY line) AS entry
          FROM {{lines}})
    GROUP BY CASE WHEN entry = 0 THEN -line ELSE entry END
)"""


def multiline(line_regex: str) -> str:
    """``line_regex`` whose last group, the message, may run over several lines."""
    assert line_regex.endswith("(.*)$")
    return line_regex.removesuffix("(.*)$") + "((?s:.*))$"


# Lines that continue a server error entry: PHP's stack and FastCGI stderr lines.
_CONTINUED = re.compile(r"^(?:Stack trace:|#\d+ |PHP message: |  thrown in |\s)")


def continued_lines(lines: Sequence[str], start: re.Pattern[str]) -> int:
    """How many sample lines continue an entry that ``start`` began above them."""
    count, inside = 0, False
    for line in lines:
        if start.match(line):
            inside = True
        elif inside and _CONTINUED.match(line):
            count += 1
        else:
            inside = False
    return count
