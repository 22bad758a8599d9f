r"""Container log wrappers (Docker json-file, Kubernetes CRI): recognise them, unwrap in bulk.

A container runtime writes each line the program printed inside its own record; the program's
line is then sniffed and parsed by the reader that fits it (an nginx access log inside Docker
is read as nginx). Both wrappers split long lines, and the pieces are joined again per stream:

- Docker ``json-file`` (moby ``daemon/logger/jsonfilelog``): ``{"log":"<line>\n",
  "stream":"stdout","time":"2026-11-25T10:00:00.123456789Z"}``; a piece of a line longer than
  16 KiB has no trailing ``\n``.
- Kubernetes CRI (kubelet/containerd, ``/var/log/pods/…``): ``<RFC 3339 time> <stream> <tag>
  <line>``, tag ``F`` for a full line or the last piece, ``P`` for a partial piece.

The joined line keeps the physical line number of its first piece, and the runtime's time
(when the line was written) fills a record's missing ``ts``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

# Share of sample lines that must be wrapped before the file is read as wrapped.
MIN_SHARE = 0.8
_CRI = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) "
    r"(stdout|stderr) ([PF]) ?(.*)$"
)
_CRI_SQL = _CRI.pattern


def _is_docker(line: str) -> bool:
    if not line.startswith("{") or '"log"' not in line:
        return False
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return isinstance(obj, dict) and isinstance(obj.get("log"), str) and "time" in obj


def detect(sample: Sequence[str]) -> str | None:
    """``"docker"`` or ``"cri"`` when most sample lines are that wrapper's records, else None."""
    lines = [line for line in sample if line.strip()]
    if not lines:
        return None
    for name, test in (("docker", _is_docker), ("cri", lambda s: bool(_CRI.match(s)))):
        if sum(1 for line in lines if test(line)) >= MIN_SHARE * len(lines):
            return name
    return None


def unwrap_sample(sample: Sequence[str], wrapper: str) -> list[str]:
    """The program's lines inside a sample of wrapped lines (pieces joined), for sniffing."""
    out: list[str] = []
    pending: dict[str, str] = {}
    for line in sample:
        if wrapper == "docker" and _is_docker(line):
            obj = json.loads(line)
            stream, text = str(obj.get("stream", "")), obj["log"]
            is_partial = not text.endswith("\n")
            text = text.removesuffix("\n").removesuffix("\r")
        elif wrapper == "cri" and (match := _CRI.match(line)):
            stream, text, is_partial = match.group(2), match.group(4), match.group(3) == "P"
        else:
            out.append(line)
            continue
        text = pending.pop(stream, "") + text
        if is_partial:
            pending[stream] = text
        else:
            out.append(text)
    return out + list(pending.values())


def unwrap_sql(wrapper: str) -> str:
    """SQL over ``{lines}`` (``line``, ``text``): the program's lines, pieces joined per stream.

    Yields ``line`` (the first piece's), ``text``, ``container_ts`` and ``pieces`` (physical
    lines joined into it). A line that is not a wrapper record is kept as it is.
    """
    if wrapper == "docker":
        pieces = """
SELECT line, text, ok,
    CASE WHEN ok THEN j ->> '$.stream' END AS stream,
    CASE WHEN ok THEN regexp_replace(j ->> '$.log', '\\r?\\n$', '') ELSE text END AS payload,
    ok AND NOT ends_with(j ->> '$.log', chr(10)) AS is_partial,
    CASE WHEN ok THEN try_cast(try_cast(j ->> '$.time' AS TIMESTAMPTZ) AS TIMESTAMP) END AS ts
FROM (
    SELECT line, text, j,
        j IS NOT NULL AND json_type(j) = 'OBJECT' AND json_type(j, '$.log') = 'VARCHAR' AS ok
    FROM (SELECT line, text, CASE WHEN json_valid(text) THEN text::JSON END AS j FROM {lines})
)
"""
    else:
        pattern = _CRI_SQL.replace("'", "''")
        pieces = f"""
SELECT line, text, ok,
    CASE WHEN ok THEN s.stream END AS stream,
    CASE WHEN ok THEN s.payload ELSE text END AS payload,
    ok AND s.tag = 'P' AS is_partial,
    CASE WHEN ok THEN try_cast(try_cast(s.ts AS TIMESTAMPTZ) AS TIMESTAMP) END AS ts
FROM (
    SELECT line, text, regexp_matches(text, '{pattern}') AS ok,
        regexp_extract(text, '{pattern}', ['ts', 'stream', 'tag', 'payload']) AS s
    FROM {{lines}}
)
"""
    # A piece belongs to the first full line after it on the same stream; lines that are not
    # records stand alone.
    return f"""
SELECT min(line) AS line, string_agg(payload, '' ORDER BY line) AS text,
    min(ts) AS container_ts, count(*) AS pieces
FROM (
    SELECT *, CASE WHEN ok THEN coalesce(sum(CASE WHEN is_partial THEN 0 ELSE 1 END) OVER (
                  PARTITION BY ok, stream ORDER BY line
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
              ELSE line END AS grp
    FROM ({pieces})
)
GROUP BY ok, stream, grp
"""
