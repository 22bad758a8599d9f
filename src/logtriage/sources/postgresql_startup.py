"""What the official ``postgres`` container image prints before the server's own log lines.

``docker logs`` (and Kubernetes pod logs) of the image start with initdb's report, pg_ctl's
progress and docker-entrypoint.sh's messages, unprefixed, on the same stream as the server's
stderr. Like the MySQL server banner, they are the start-up banner: left out, not rejected.
Only the lines these three programs write are recognised (not "anything unprefixed"):

- initdb (``src/bin/initdb/initdb.c``, PostgreSQL 9.x-17): the owner, locale, encoding, text
  search and checksum paragraphs, the ``creating …/selecting …/running … ... ok`` steps, the
  trust warning (``initdb: warning:``/``hint:``, before 15 ``WARNING:`` and its two lines)
  and ``Success. You can now start the database server using:`` with its ``pg_ctl`` line;
- pg_ctl (``src/bin/pg_ctl/pg_ctl.c``): ``waiting for server to start....``, its dots,
  `` done``, ``server started``, ``server stopped``. It prints the dots on stdout while the
  server logs on stderr, so the first server line of each wait follows them on the same line
  (``waiting for server to start....2024-… [48] LOG:  starting …``): the dots are cut off;
- docker-entrypoint.sh (docker-library/postgres): ``…/docker-entrypoint.sh: running|sourcing|
  ignoring …``, ``PostgreSQL init process complete; ready for start up.``, ``PostgreSQL
  Database directory appears to contain a database; Skipping initialization``, the
  ``CREATE DATABASE`` (``ALTER ROLE``/``CREATE ROLE`` in older images) psql echoes for it, the
  blank lines between them, and the box it prints when ``POSTGRES_HOST_AUTH_METHOD=trust``.
"""

from __future__ import annotations

import re

# pg_ctl's progress dots before a server line (RE2 and Python syntax alike).
DOTS = r"^(?:waiting for server to (?:start|shut down))?\.+"

_INITDB_STEP = (
    "creating|fixing|selecting|running|performing|syncing|initializing|setting|loading"
    "|vacuuming|copying"
)
_LOCALE_KEY = r"provider|locale|ICU locale|ICU rules|default collation|LC_[A-Z]+"

# The lines of the entrypoint's trust warning, as both wrappings of it print them.
_TRUST_BOX = "|".join(
    re.escape(line)
    for line in (
        "anyone with access to the Postgres port to access your database without",
        "anyone with access to the Postgres port to access your database without a",
        "a password, even if POSTGRES_PASSWORD is set. See PostgreSQL",
        "password, even if POSTGRES_PASSWORD is set. See PostgreSQL documentation about",
        'documentation about "trust":',
        "https://www.postgresql.org/docs/current/auth-trust.html",
        '"trust": https://www.postgresql.org/docs/current/auth-trust.html',
        "In Docker's default configuration, this is effectively any other",
        "In Docker's default configuration, this is effectively any other container on",
        "container on the same system.",
        "the same system.",
        "It is not recommended to use POSTGRES_HOST_AUTH_METHOD=trust. Replace",
        "It is not recommended to use POSTGRES_HOST_AUTH_METHOD=trust. Replace it with",
        'it with "-e POSTGRES_PASSWORD=password" instead to set a password in',
        '"docker run".',
        '"-e POSTGRES_PASSWORD=password" instead to set a password in "docker run".',
    )
)

# One full-line pattern per program; applied after DOTS is cut off (so "...." becomes "").
STARTUP = "|".join(
    (
        # Blank lines between the paragraphs (a CR left by a Windows terminal too).
        r"\r?",
        # initdb
        r'The files belonging to this database system will be owned by user ".*"\.',
        r"This user must also own the server process\.",
        r"The database cluster will be initialized with .*",
        rf"  (?:{_LOCALE_KEY}): +.*",
        r'The default database encoding has (?:accordingly )?been set to ".*"\.',
        r'The default text search configuration will be set to ".*"\.',
        r"Data page checksums are (?:enabled|disabled)\.",
        rf"(?:{_INITDB_STEP}) .* \.\.\. .*",
        r"initdb: (?:warning|hint): .*",
        r'WARNING: enabling "trust" authentication for local connections',
        r"You can change this by editing pg_hba\.conf .*",
        r"--auth-local and --auth-host, the next time you run initdb\.",
        r"Success\. You can now start the database server using:",
        r" +\S*pg_ctl -D .* start",
        # pg_ctl (after the dots are cut off)
        r" done",
        r"server (?:started|stopped)",
        # docker-entrypoint.sh
        r"\S*docker-entrypoint\.sh: (?:running|sourcing|ignoring) .*",
        r"PostgreSQL init process complete; ready for start up\.",
        r"PostgreSQL Database directory appears to contain a database; Skipping initialization",
        r"CREATE DATABASE|ALTER ROLE|CREATE ROLE",
        # docker-entrypoint.sh's box when POSTGRES_HOST_AUTH_METHOD=trust: indented by 9
        # spaces before 18, rewrapped flush left since (its words, not any indented text).
        r"\*{80}",
        r'WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust"\. This will allow',
        rf" {{0,9}}(?:{_TRUST_BOX})",
    )
)

_DOTS_RE = re.compile(DOTS)
_STARTUP_RE = re.compile(f"(?:{STARTUP})")


def server_part(line: str) -> str:
    """``line`` without pg_ctl's progress dots before it."""
    return _DOTS_RE.sub("", line, count=1) if line[:1] in "w." else line


def is_startup(line: str) -> bool:
    """True for a line of the image's start-up output (a server line after dots is not)."""
    return _STARTUP_RE.fullmatch(server_part(line).rstrip("\n")) is not None
