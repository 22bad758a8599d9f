"""The engine floor: the least DuckDB work that answers an anchor's main table, nothing more.

What the ratio targets of issues 4 and 9 can reach at best on this machine. Each kind runs, in a
fresh process with the same thread count as logtriage, only what any DuckDB-based tool must do
to print the anchor's headline table, in bulk SQL, with none of logtriage's care:

- ``access`` (GoAccess): read the lines, split on ``"``, read status and time, and count
  requests, errors and the p95 per method and path (no routes, no findings, no checks).
- ``mysql`` (pt-query-digest): read the lines, number the entries (a running sum over
  ``# Time``/``# User@Host`` starts), glue each entry's statement lines, read ``Query_time``,
  fingerprint the distinct statements with three regexes (strings, numbers, whitespace:
  pt-query-digest has a dozen rules) and total calls, time and p95 per fingerprint.
- ``postgres`` (pgBadger): the same for ``duration: N ms  statement:`` lines and their
  tab-indented continuations, with the session id from the prefix.

Comments, tags, rejections, other formats, correlation, routes and every finding are left out,
so a tool doing the whole job cannot be as fast; logtriage's wall time over the floor's says
how much its care costs. Prints one JSON object (groups, records, seconds).

Usage: ``python benchmarks/floor.py {access,mysql,postgres} FILE``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import duckdb

# Every line as one VARCHAR: no delimiter, quote or escape (as logtriage reads lines).
_LINES = """
CREATE TABLE lines AS SELECT row_number() OVER () AS line, text
FROM read_csv(?, delim='', quote='', escape='', header=false, auto_detect=false,
              columns={'text': 'VARCHAR'}, max_line_size=8388608, ignore_errors=true)
"""

_FINGERPRINT = r"""
md5(regexp_replace(regexp_replace(regexp_replace(lower(sql),
    '''(?:[^''\\]|\\.)*''', '?', 'g'), '\b\d+(?:\.\d+)?\b', '?', 'g'), '\s+', ' ', 'g'))
"""
# The last steps of both database kinds: fingerprint the distinct statements, total per shape.
_SHAPES = (
    f"CREATE TABLE f AS SELECT sql, {_FINGERPRINT} AS fp FROM (SELECT DISTINCT sql FROM q)",
    """CREATE TABLE shapes AS SELECT fp, count(*) AS n, sum(ms) AS total_ms,
           quantile_cont(ms, 0.95) AS p95 FROM q JOIN f USING (sql) GROUP BY fp""",
)

# Each kind is a list of steps, one table each (DuckDB runs these simple steps faster than one
# statement of nested CTEs); the last table has one row per group and ``n`` records.
_ACCESS = (
    """CREATE TABLE r AS SELECT split_part(q[2], ' ', 1) AS method,
           split_part(split_part(q[2], ' ', 2), '?', 1) AS path,
           try_cast(split_part(trim(q[3]), ' ', 1) AS INTEGER) AS status,
           try_cast(split_part(trim(q[7]), ' ', 1) AS DOUBLE) AS seconds
       FROM (SELECT string_split(text, '"') AS q FROM lines)""",
    """CREATE TABLE shapes AS SELECT method, path, count(*) AS n,
           count(*) FILTER (WHERE status >= 500) AS errors, quantile_cont(seconds, 0.95) AS p95
       FROM r GROUP BY ALL""",
)

_MYSQL = (
    """CREATE TABLE e AS SELECT line, text,
           sum(CASE WHEN starts_with(text, '# Time:') OR starts_with(text, '# User@Host:')
               THEN 1 ELSE 0 END) OVER (ORDER BY line) AS entry
       FROM lines""",
    """CREATE TABLE q AS SELECT * FROM (
           SELECT entry,
               string_agg(text, ' ' ORDER BY line) FILTER (WHERE NOT starts_with(text, '#')
                   AND NOT starts_with(text, 'SET timestamp=') AND NOT starts_with(text, 'use '))
                   AS sql,
               1000 * max(CASE WHEN starts_with(text, '# Query_time:')
                   THEN regexp_extract(text, 'Query_time: ([0-9.]+)', 1) END)::DOUBLE AS ms
           FROM e GROUP BY entry)
       WHERE sql IS NOT NULL AND ms IS NOT NULL""",
    *_SHAPES,
)

# A tab-indented line continues the entry before it; only those few entries are glued.
_POSTGRES = (
    """CREATE TABLE e AS SELECT line, text, starts_with(text, chr(9)) AS more,
           sum(CASE WHEN starts_with(text, chr(9)) THEN 0 ELSE 1 END) OVER (ORDER BY line)
               AS entry
       FROM lines""",
    """CREATE TABLE tails AS SELECT entry, string_agg(text, ' ' ORDER BY line) AS tail
       FROM e WHERE more GROUP BY entry""",
    r"""CREATE TABLE q AS SELECT * FROM (
           SELECT regexp_extract(text, '^\S+ \S+ \S+ \[(\d+)\]', 1) AS session,
               regexp_extract(text, ' duration: ([0-9.]+) ms', 1)::DOUBLE AS ms,
               regexp_extract(text, ' duration: [0-9.]+ ms  (?:statement|execute [^:]*): (.*)$',
                              1) || coalesce(' ' || t.tail, '') AS sql
           FROM e LEFT JOIN tails t USING (entry)
           WHERE NOT more AND contains(text, ' duration: '))
       WHERE sql <> ''""",
    *_SHAPES,
)

QUERIES = {"access": _ACCESS, "mysql": _MYSQL, "postgres": _POSTGRES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(QUERIES))
    parser.add_argument("path")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    steps = {}
    for n, sql in enumerate((_LINES, *QUERIES[args.kind])):
        began = time.perf_counter()
        con.execute(sql, [args.path] if n == 0 else [])
        steps[sql.split()[2]] = round(time.perf_counter() - began, 3)
    row = con.execute("SELECT count(*), sum(n) FROM shapes").fetchone()
    groups, records = (int(v or 0) for v in (row or (0, 0)))
    seconds = round(time.perf_counter() - started, 3)
    result = {"kind": args.kind, "groups": groups, "records": records, "seconds": seconds}
    json.dump({**result, "steps": steps}, sys.stdout)
    print()
    return 0 if records else 1


if __name__ == "__main__":
    sys.exit(main())
