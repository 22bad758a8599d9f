r"""Container log wrappers (Docker json-file, Kubernetes CRI): recognise them, unwrap in bulk.

A container runtime writes each line the program printed inside its own record; the program's
line is then sniffed and parsed by the reader that fits it (an nginx access log inside Docker
is read as nginx). Both wrappers split long lines, and the pieces are joined again per stream:

- Docker ``json-file`` (moby ``daemon/logger/jsonfilelog``): ``{"log":"<line>\n",
  "stream":"stdout","time":"2026-11-25T10:00:00.123456789Z"}``; a piece of a line longer than
  16 KiB has no trailing ``\n``.
- Kubernetes CRI (kubelet/containerd, ``/var/log/pods/…``): ``<RFC 3339 time> <stream> <tag>
  <line>``, tag ``F`` for a full line or the last piece, ``P`` for a partial piece.

- Google Cloud Logging export (a log sink to Cloud Storage, ``gcloud logging read
  --format=json`` flattened to one entry per line): each ``LogEntry`` a JSON object whose
  ``textPayload`` is the program's line (Cloud SQL's PostgreSQL and MySQL logs, GKE
  containers) and ``timestamp`` when it was written; a payload is never split.

The joined line keeps the physical line number of its first piece, and the runtime's time
(when the line was written) fills a record's missing ``ts``.

Two prefixes people save logs with are weaker evidence, since a log of its own may start the
same way; they are removed only when the lines without them are read better (``PREFIXED``):

- ``timestamps``: ``kubectl logs --timestamps`` / ``docker logs -t``: ``<RFC 3339 time> <line>``.
- ``compose``: ``docker compose logs``: ``<service>  | <line>`` (``web-1``, Compose v1 ``web_1``).
- ``syslog``: a syslog or journal line, ``Mar 10 16:25:43 web1 nginx: <line>`` (``journalctl``,
  rsyslog's traditional format, nginx's ``access_log syslog:``) or with an RFC 3339 time; a
  traditional time has no year, so only an RFC 3339 one fills a missing ``ts``.

One saved prefix marks only the first line of a multi-line entry:

- ``cloudwatch``: a MySQL slow log exported from Amazon CloudWatch Logs (RDS/Aurora publish
  each slow-log entry as one event; ``aws logs tail``, downloads and exports print the event's
  time, ``aws logs tail`` also the stream name, before the entry's first line):
  ``2023-10-12T08:15:42.123Z # Time: …`` and the rest of the entry as it is (``--query
  'events[].[timestamp,message]' --output text`` prints epoch milliseconds and a tab). The time is
  removed where it stands before ``# Time:`` or ``# User@Host:``; since a slow log never starts
  a line that way, this needs no better reading, only that most entries carry it and most
  lines do not (those are ``timestamps``).
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
# A CRI record's prefix: time (at most 35 characters), stream (6), tag, then a blank or the end.
_CRI_PREFIX = (
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}) "
    r"(?:stdout|stderr) [PF](?: |$)"
)


_TIMESTAMPS = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) (.*)$"
)
# An exported event's time (and ``aws logs tail``'s stream name) before a slow-log entry's head.
_EVENT = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?|\d{13})"
    r"[ \t](?:[\w./-]+ )?(# (?:Time|User@Host): .*)$"
)
_COMPOSE = re.compile(r"^([\w.-]+) *\| ?(.*)$")
_SYSLOG = re.compile(
    r"^(?:<\d{1,3}>)?((?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})|"
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) "
    r"\S+ [\w./@-]+(?:\[\d+\])?: ?(.*)$"
)
# Wrappers that are removed only when the unwrapped lines are read better (the engine checks).
PREFIXED = ("syslog", "timestamps", "compose")
_PREFIX_RE = {
    "timestamps": _TIMESTAMPS,
    "compose": _COMPOSE,
    "syslog": _SYSLOG,
    "cloudwatch": _EVENT,
}


def _is_docker(line: str) -> bool:
    if not line.startswith("{") or '"log"' not in line:
        return False
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return isinstance(obj, dict) and isinstance(obj.get("log"), str) and "time" in obj


def _is_gcp(line: str) -> bool:
    if not line.startswith("{") or '"textPayload"' not in line:
        return False
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("textPayload"), str)
        and ("timestamp" in obj or "receiveTimestamp" in obj)
    )


def detect(sample: Sequence[str]) -> str | None:
    """``docker``, ``cri``, ``gcp`` or ``cloudwatch`` when the sample is wrapped so, else None."""
    lines = [line for line in sample if line.strip()]
    if not lines:
        return None
    tests = (("docker", _is_docker), ("cri", lambda s: bool(_CRI.match(s))), ("gcp", _is_gcp))
    for name, test in tests:
        if sum(1 for line in lines if test(line)) >= MIN_SHARE * len(lines):
            return name
    return "cloudwatch" if _is_cloudwatch(lines) else None


def _is_cloudwatch(lines: Sequence[str]) -> bool:
    """Most slow-log entries start with an event time, and most lines do not."""
    heads = sum(1 for line in lines if _EVENT.match(line))
    if not heads:
        return False
    bare = sum(1 for line in lines if line.startswith("# Time: "))
    stamped = sum(1 for line in lines if _TIMESTAMPS.match(line))
    return heads >= MIN_SHARE * (heads + bare) and stamped < MIN_SHARE * len(lines)


def detect_prefixed(sample: Sequence[str]) -> list[str]:
    """The saved prefixes (``PREFIXED``) most sample lines carry; the engine picks one or none."""
    lines = [line for line in sample if line.strip()]
    if not lines:
        return []
    return [
        name
        for name in PREFIXED
        if sum(1 for line in lines if _PREFIX_RE[name].match(line)) >= MIN_SHARE * len(lines)
    ]


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
        elif wrapper == "gcp" and _is_gcp(line):
            out.append(json.loads(line)["textPayload"].removesuffix("\n").removesuffix("\r"))
            continue
        elif wrapper == "cri" and (match := _CRI.match(line)):
            stream, text, is_partial = match.group(2), match.group(4), match.group(3) == "P"
        elif wrapper in _PREFIX_RE and (match := _PREFIX_RE[wrapper].match(line)):
            out.append(match.group(2))
            continue
        else:
            out.append(line)
            continue
        text = pending.pop(stream, "") + text
        if is_partial:
            pending[stream] = text
        else:
            out.append(text)
    return out + list(pending.values())


def pieces_sql(wrapper: str) -> str:
    """SQL over ``{lines}`` (``line``, ``text``): each physical line as a piece of a program line.

    Yields ``line``, ``ok`` (a wrapper record), ``stream``, ``text`` (the program's text, or
    the whole line when it is no record), ``is_partial`` and ``container_ts`` (the runtime's
    time).
    """
    if wrapper == "docker":
        # One JSON parse per line for the three keys; try() makes a line that is not JSON NULL.
        return """
SELECT line, ok, CASE WHEN ok THEN v[2] END AS stream,
    CASE WHEN NOT ok THEN text
         WHEN ends_with(v[1], chr(13) || chr(10)) THEN left(v[1], -2)
         WHEN ends_with(v[1], chr(10)) THEN left(v[1], -1) ELSE v[1] END AS text,
    ok AND NOT ends_with(v[1], chr(10)) AS is_partial,
    CASE WHEN ok THEN try_cast(try_cast(v[3] AS TIMESTAMPTZ) AS TIMESTAMP) END AS container_ts
FROM (
    SELECT line, text, v, v[1] IS NOT NULL AS ok
    FROM (SELECT line, text, try(json_extract_string(text, ['$.log', '$.stream', '$.time'])) AS v
          FROM {lines})
)
"""
    if wrapper == "gcp":
        # One JSON parse per line; the entry's time, else when Logging received it.
        return """
SELECT line, ok, NULL::VARCHAR AS stream,
    CASE WHEN NOT ok THEN text
         WHEN ends_with(v[1], chr(13) || chr(10)) THEN left(v[1], -2)
         WHEN ends_with(v[1], chr(10)) THEN left(v[1], -1) ELSE v[1] END AS text,
    FALSE AS is_partial,
    CASE WHEN ok THEN try_cast(try_cast(coalesce(v[2], v[3]) AS TIMESTAMPTZ) AS TIMESTAMP) END
        AS container_ts
FROM (
    SELECT line, text, v, v[1] IS NOT NULL AS ok
    FROM (SELECT line, text,
              try(json_extract_string(text, ['$.textPayload', '$.timestamp',
                                             '$.receiveTimestamp'])) AS v
          FROM {lines})
)
"""
    if wrapper in _PREFIX_RE:
        # One capture per line; a prefixed line is never split, so no piece is partial.
        regex = _PREFIX_RE[wrapper].pattern.replace("'", "''")
        ts = "try_cast(try_cast(x.a AS TIMESTAMPTZ) AS TIMESTAMP)"
        # A traditional syslog time has no year: only an RFC 3339 one is a time.
        container_ts = "NULL::TIMESTAMP" if wrapper == "compose" else ts
        return f"""
SELECT line, ok, NULL::VARCHAR AS stream, CASE WHEN ok THEN x.b ELSE text END AS text,
    FALSE AS is_partial, CASE WHEN ok THEN {container_ts} END AS container_ts
FROM (
    SELECT line, text, x, x.a <> '' AS ok
    FROM (SELECT line, text, regexp_extract(text, '{regex}', ['a', 'b']) AS x FROM {{lines}})
)
"""
    # The record's prefix is checked on its first characters; the fields are cut at the first
    # blank, as the runtime wrote them (a regex capture of the whole line costs twice as much).
    prefix = _CRI_PREFIX.replace("'", "''")
    return f"""
SELECT line, ok, CASE WHEN ok THEN substr(text, i + 1, 6) END AS stream,
    CASE WHEN ok THEN substr(text, i + 10) ELSE text END AS text,
    ok AND substr(text, i + 8, 1) = 'P' AS is_partial,
    CASE WHEN ok THEN try_cast(try_cast(left(text, i - 1) AS TIMESTAMPTZ) AS TIMESTAMP) END
        AS container_ts
FROM (
    SELECT line, text, instr(text, ' ') AS i,
        regexp_matches(left(text, 48), '{prefix}') AS ok
    FROM {{lines}}
)
"""


def joined_sql(pieces: str) -> str:
    """SQL: the program's lines from the table ``pieces`` (see ``pieces_sql``), pieces joined.

    A partial piece belongs to the next full line of its stream. Only the pieces of split
    lines are grouped; every other line passes through as it is. Yields the columns of
    ``pieces`` with ``line`` the first piece's.
    """
    return f"""
WITH marked AS (
    SELECT *, coalesce(lag(is_partial) OVER (PARTITION BY stream ORDER BY line), FALSE)
                  AND ok AS after_partial
    FROM {pieces}
), split AS (
    SELECT *, coalesce(sum(CASE WHEN is_partial THEN 0 ELSE 1 END) OVER (
                  PARTITION BY stream ORDER BY line
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS grp
    FROM marked WHERE is_partial OR after_partial
)
SELECT line, ok, stream, text, is_partial, container_ts FROM marked
WHERE NOT is_partial AND NOT after_partial
UNION ALL
SELECT min(line), TRUE, stream, string_agg(text, '' ORDER BY line), FALSE, min(container_ts)
FROM split GROUP BY stream, grp
"""
