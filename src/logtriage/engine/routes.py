"""Give every request a route (``METHOD /path/{id}``) in bulk: declared routes, then templating.

Segment rules follow Sentry's ``parameterize_url`` in spirit (integers, UUIDs, long hex) plus
dates, e-mails, mixed tokens and long opaque tokens; then any path position with more than
``route_max_distinct_segments`` distinct values under the same parent becomes ``{param}``, so
a million distinct paths never become a million routes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from logtriage.config import Settings
from logtriage.engine.database import Database

MAX_DEPTH = 12
STATIC_EXTENSIONS = (
    "js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif",
    "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "pdf", "txt", "xml",
)  # fmt: skip

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# One CASE over a segment `s`, most specific shape first. Most segments are words: without a
# digit or an '@' only a 36-character (all-letter) UUID could match, so words skip the regexes;
# digits-only segments (never a UUID) are tested before the UUID for the same reason.
_SEGMENT_SQL = r"""
CASE
    WHEN s = '' THEN s
    WHEN length(s) <> 36 AND NOT regexp_matches(s, '[0-9@]') THEN s
    WHEN regexp_full_match(s, '[0-9]+') THEN '{id}'
    WHEN regexp_full_match(s, 'UUID_RE') THEN '{uuid}'
    WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN '{date}'
    WHEN regexp_full_match(s, '[^@/]+@[^@/]+\.[A-Za-z]{2,}') THEN '{email}'
    WHEN regexp_full_match(s, '[0-9]+\.[A-Za-z0-9]{1,5}') THEN '{id}.' || split_part(s, '.', 2)
    WHEN regexp_full_match(s, '[0-9a-fA-F]{10,}') AND regexp_matches(s, '[0-9]') THEN '{hex}'
    WHEN length(s) >= 20 AND regexp_full_match(s, '[A-Za-z0-9_=-]+')
         AND regexp_matches(s, '[0-9]') AND regexp_matches(s, '[A-Za-z]') THEN '{token}'
    WHEN length(s) >= 8 AND length(regexp_replace(s, '[^0-9]', '', 'g')) >= 3
         AND regexp_matches(s, '[A-Za-z]') THEN '{token}'
    ELSE s
END
""".replace("UUID_RE", _UUID)


def pattern_to_regex(pattern: str) -> tuple[str | None, str, str]:
    """Turn ``GET /users/{id}`` or ``/users/:id`` into (method, full-match regex, route path)."""
    text = pattern.strip()
    method = None
    if " " in text:
        method, text = text.split(None, 1)
        method = method.upper()
    parts = []
    shown = []
    for seg in text.split("/"):
        if (seg.startswith("{") and seg.endswith("}")) or seg.startswith(":") or seg in {"*", "**"}:
            name = seg.strip("{}:") or "param"
            parts.append(".*" if seg == "**" or name.endswith("*") else "[^/]+")
            shown.append("{" + name.rstrip("*") + "}" if seg != "**" else "**")
        else:
            parts.append(re.escape(seg))
            shown.append(seg)
    return method, "/".join(parts) + "/?", "/".join(shown)


def _declared_case(patterns: Sequence[str]) -> str:
    if not patterns:
        return "NULL"
    whens = []
    for pattern in patterns:
        method, regex, shown = pattern_to_regex(pattern)
        quoted_regex = regex.replace("'", "''")
        quoted_shown = shown.replace("'", "''")
        cond = f"regexp_full_match(path, '{quoted_regex}')"
        if method:
            cond = f"method = '{method}' AND {cond}"
        whens.append(f"WHEN {cond} THEN coalesce(method, '-') || ' ' || '{quoted_shown}'")
    return "CASE " + " ".join(whens) + " END"


def assign_routes(db: Database, settings: Settings, declared: Sequence[str] = ()) -> None:
    """Fill ``requests.route`` for every row that does not carry its own."""
    if not db.count("requests"):
        return
    patterns = [*settings.routes, *declared]
    static = "|".join(STATIC_EXTENSIONS)
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE route_paths AS
        WITH paths AS (
            SELECT method, path, {_declared_case(patterns)} AS declared, is_found
            -- A path only ever answered 404 is a probe or a typo, not one of the app's routes.
            FROM (SELECT method, path, bool_or(status IS DISTINCT FROM 404) AS is_found
                  FROM requests GROUP BY ALL)
        ), cleaned AS (
            SELECT *, CASE WHEN path = '/' THEN '/'
                -- Regexes only where they can change something (most paths have no '//').
                WHEN NOT contains(path, '//') THEN rtrim(path, '/')
                ELSE rtrim(regexp_replace(path, '/{{2,}}', '/', 'g'), '/') END AS clean
            FROM paths
        )
        SELECT method, path, declared, is_found,
               list_transform(string_split(clean, '/'), lambda s: {_SEGMENT_SQL}) AS segs,
               CASE WHEN {"TRUE" if settings.group_static_assets else "FALSE"}
                 AND contains(clean, '.')
                 THEN NULLIF(regexp_extract(lower(clean), '\\.({static})$', 1), '') END AS ext
        FROM cleaned
        """
    )
    # The position statistics count distinct segments, which duplicate rows do not change:
    # run them over the distinct templated shapes (hundreds) instead of every path (~10^5).
    # Declared routes need no templating (and no statistics count them).
    db.execute(
        "CREATE OR REPLACE TEMP TABLE route_map AS SELECT DISTINCT method, NULL AS declared, "
        "is_found, ext, segs AS shape, segs FROM route_paths WHERE declared IS NULL"
    )
    depth = min(MAX_DEPTH, int(db.scalar("SELECT max(len(segs)) FROM route_map") or 0))
    for pos in range(2, depth + 1):
        # A position with many distinct literal values under the same parent is a parameter.
        db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE route_map AS
            WITH stats AS (
                SELECT len(segs) AS depth, segs[1:{pos - 1}] AS prefix,
                       count(DISTINCT segs[{pos}]) AS k,
                       count(DISTINCT segs[{pos}]) FILTER (WHERE is_found) AS k_found
                FROM route_map WHERE declared IS NULL AND len(segs) >= {pos}
                GROUP BY ALL
            )
            SELECT r.method, r.declared, r.is_found, r.ext, r.shape,
                -- Found paths count only found siblings: a scanner probing hundreds of paths
                -- must not turn /search and /cart into /{{param}}; its 404s collapse instead.
                CASE WHEN (CASE WHEN r.is_found THEN s.k_found ELSE s.k END)
                            > {int(settings.route_max_distinct_segments)}
                          AND r.segs[{pos}] NOT IN ('{{id}}', '{{uuid}}', '')
                          AND NOT (r.ext IS NOT NULL AND len(r.segs) = {pos})
                     THEN list_concat(r.segs[1:{pos - 1}], ['{{param}}'], r.segs[{pos + 1}:])
                     ELSE r.segs END AS segs
            FROM route_map r LEFT JOIN stats s
              ON len(r.segs) = s.depth AND r.segs[1:{pos - 1}] = s.prefix
            """
        )
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE route_map AS
        SELECT p.method, p.path,
            CASE
                WHEN p.declared IS NOT NULL THEN p.declared
                WHEN p.path IS NULL THEN coalesce(p.method, '-') || ' (malformed request)'
                WHEN NOT starts_with(p.path, '/') THEN coalesce(p.method, '-') || ' ' || p.path
                ELSE coalesce(p.method, '-') || ' ' || CASE
                    WHEN r.ext IS NOT NULL
                        THEN array_to_string(list_concat(r.segs[1:-2], ['{file}.' || r.ext]), '/')
                    WHEN len(r.segs) <= 1 THEN '/'
                    ELSE array_to_string(r.segs, '/') END
            END AS route
        FROM route_paths p LEFT JOIN route_map r
          ON p.declared IS NULL AND p.method IS NOT DISTINCT FROM r.method
         AND p.is_found IS NOT DISTINCT FROM r.is_found AND p.ext IS NOT DISTINCT FROM r.ext
         AND p.segs IS NOT DISTINCT FROM r.shape
        """
    )
    # A route the log itself carries (a span's http.route) is the real one: kept. An UPDATE of
    # the one column costs less than rewriting the table with a join (DuckDB 2.0, measured):
    # 1M-line access log 1.0 -> 0.5 CPU-s; 4M lines in a scratch file, where the rewrite
    # compressed every column again, 8.2 -> 2.1 CPU-s.
    db.execute(
        """
        UPDATE requests SET route = m.route FROM route_map m
        WHERE requests.route IS NULL AND requests.method IS NOT DISTINCT FROM m.method
          AND requests.path IS NOT DISTINCT FROM m.path
        """
    )
    db.execute("DROP TABLE route_map")
    db.execute("DROP TABLE route_paths")
