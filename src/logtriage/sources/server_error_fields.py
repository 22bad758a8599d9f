"""Web-server error-log fields in SQL, shared by the nginx and Apache readers: the error kind.

An error's *kind* is its message without what varies between occurrences (paths, addresses,
ports, numbers, quoted values), cut before the context nginx appends (``while reading …``,
``, client: …``), with the system error text kept: ``upstream timed out (Connection timed
out)``, ``connect() failed (Connection refused)``, ``open() failed (No such file or
directory)``. A002 and A001 group errors by it.
"""

from __future__ import annotations

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
