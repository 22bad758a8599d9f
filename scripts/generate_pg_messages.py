"""Generate the PostgreSQL message translation table from PostgreSQL's own message catalogs.

Reads the compiled catalogs Debian's ``postgresql-N`` packages install
(``/usr/share/locale/<lang>/LC_MESSAGES/postgres-<N>.mo``) with the standard library's .mo
parser and writes ``src/logtriage/sources/postgresql_i18n.json``: per language, the severity
words and the (translated, English) pairs of the messages the PostgreSQL readers and A003 read.
Nothing reads a catalog at run time; ``tests/test_postgresql_i18n.py`` checks that the committed
table is what this script makes from the catalogs installed.

    python scripts/generate_pg_messages.py            # write the table
    python scripts/generate_pg_messages.py --check    # exit 1 when it is not current
"""

from __future__ import annotations

import argparse
import gettext
import glob
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "src" / "logtriage" / "sources" / "postgresql_i18n.json"
CATALOGS = "/usr/share/locale/*/LC_MESSAGES/postgres-*.mo"

# error_severity() in elog.c: the words written before ":  " (DEBUG1-5 print "DEBUG").
SEVERITIES = ("DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC")
# The secondary lines elog.c writes as _("DETAIL:  ") and so on.
SECONDARY = ("DETAIL", "HINT", "QUERY", "CONTEXT", "LOCATION", "STATEMENT")
# "%s %s%s%s: %s" is written with _("execute") or _("execute fetch from") in the first %s.
VERB_WORDS = ("execute", "execute fetch from")
VERB_MSGIDS = ("duration: %s ms  %s %s%s%s: %s", "%s %s%s%s: %s")
# Words the stderr reader meets outside messages: %u/%d before authentication, and the error
# position elog.c appends to the message.
WORDS = ("[unknown]", " at character %d")

# The messages logtriage reads (msgid patterns): statement timing, the kinds of db_events
# (postgresql_messages._KIND) and the errors A003 groups most often.
WANTED = re.compile(
    "^(?:"
    + "|".join(
        (
            r"duration: %s ms",
            r"statement: %s$",
            r"parameters: %s$",
            r"fastpath function call: ",
            r"deadlock detected$",
            r"canceling statement due to ",
            r"canceling autovacuum task$",
            r"connection (?:received|authorized|authenticated): ",
            r"disconnection: ",
            r"(?:checkpoint|restartpoint) (?:starting|complete): ",
            r"checkpoints are occurring too frequently",
            r"automatic (?:aggressive )?(?:vacuum|analyze) ",
            r"process %d (?:still waiting for|acquired|avoided deadlock|detected deadlock while"
            r"|failed to acquire) ",
            r"temporary file: path ",
            r"relation \"%s\" does not exist$",
            r"column \"%s\" does not exist$",
            r"column %s\.%s does not exist$",
            r"syntax error at or near ",
            r"syntax error at end of input$",
            r"duplicate key value violates unique constraint ",
            r"null value in column \"%s\" of relation \"%s\" violates not-null constraint$",
            r"insert or update on table \"%s\" violates foreign key constraint ",
            r"update or delete on table \"%s\" violates foreign key constraint ",
            r"new row for relation \"%s\" violates check constraint ",
            r"value too long for type ",
            r"invalid input syntax for type ",
            r"division by zero$",
            r"permission denied for ",
            r"could not serialize access due to ",
            r"current transaction is aborted, commands ignored until end of transaction block$",
            r"could not obtain lock on ",
            r"terminating connection ",
            r"password authentication failed for user ",
            r"database \"%s\" does not exist$",
            r"role \"%s\" does not exist$",
            r"sorry, too many clients already$",
            r"remaining connection slots are reserved ",
            r"no pg_hba\.conf entry for ",
            r"function %s does not exist$",
            r"operator does not exist: ",
            r"out of memory$",
            r"could not receive data from client: ",
            r"unexpected EOF on client connection",
            r"database system is (?:ready to accept|shut down)",
            r"received (?:fast|smart|immediate) shutdown request$",
            r"server process \(PID %d\) ",
        )
    )
    + ")"
)


def catalogs(pattern: str = CATALOGS) -> dict[str, list[Path]]:
    """Installed catalogs by language, each language's versions in order."""
    found: dict[str, list[Path]] = {}
    for name in sorted(glob.glob(pattern)):
        path = Path(name)
        found.setdefault(path.parent.parent.name, []).append(path)
    return found


def version_of(path: Path) -> str:
    """``15`` for ``postgres-15.mo``."""
    return path.stem.removeprefix("postgres-")


def read_catalog(path: Path) -> dict[str, str]:
    """Map msgid -> msgstr of one compiled catalog (singular, non-empty translations only)."""
    with path.open("rb") as fh:
        raw = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    return {k: v for k, v in raw.items() if isinstance(k, str) and k and v}


def severity_word(msgid: str, msgstr: str) -> str | None:
    """The translated severity word ("FEHLER", "ASTUCE") from its catalog entry."""
    word = msgstr.strip().removesuffix(":").strip()
    return word if word and word != msgid.removesuffix(":  ") else None


_SPEC = re.compile(r"%(?:(\d+)\$)?[-+ 0#]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|L)?([diouxXfgsc%])")


def fill_arg(fmt: str, arg: int, text: str) -> str:
    """``fmt`` with its argument number ``arg`` (1-based) written as ``text``."""
    order = 0
    for m in _SPEC.finditer(fmt):
        if m.group(2) == "%":
            continue
        order += 1
        if (int(m.group(1)) if m.group(1) else order) == arg:
            return fmt[: m.start()] + text.replace("%", "%%") + fmt[m.end() :]
    return fmt


def language_table(paths: list[Path]) -> dict[str, object]:
    """One language's words and message pairs, from each of its catalogs (versions)."""
    severities: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    for path in paths:
        catalog = read_catalog(path)
        for english in (*SEVERITIES, *SECONDARY):
            msgid = english if english in SEVERITIES else f"{english}:  "
            text = catalog.get(msgid, "")
            if english == "LOCATION":
                # elog.c translates the whole line ("ORT:  %s, %s:%d\n"), not the word alone.
                text = catalog.get(f"{msgid}%s, %s:%d\n", "").split("%s")[0]
            word = severity_word(msgid, text)
            if word is not None:
                severities[word] = english
        verbs = {catalog.get(v, v): v for v in VERB_WORDS}
        for msgid, msgstr in catalog.items():
            if msgid in VERB_MSGIDS:
                # Expand the verb slot: one pair per verb word, so each pair reads alone.
                slot = 2 if msgid == VERB_MSGIDS[0] else 1
                for local, english in verbs.items():
                    pair = (fill_arg(msgstr, slot, local), fill_arg(msgid, slot, english))
                    if pair[0] != pair[1]:
                        pairs.add(pair)
            elif WANTED.match(msgid) and msgstr != msgid:
                pairs.add((msgstr, msgid))
    words = {
        w: catalog[w] for path in paths for w in WORDS if (catalog := read_catalog(path)).get(w)
    }
    return {
        "severities": dict(sorted(severities.items())),
        "words": dict(sorted(words.items())),
        "messages": [list(p) for p in sorted(pairs, key=lambda p: (p[1], p[0]))],
    }


def build(pattern: str = CATALOGS) -> dict[str, object]:
    """The whole table from the catalogs ``pattern`` finds."""
    found = catalogs(pattern)
    versions = sorted({version_of(p) for paths in found.values() for p in paths}, key=int)
    return {
        "source": "PostgreSQL message catalogs (postgres-N.mo), by scripts/generate_pg_messages.py",
        "postgresql_versions": versions,
        "languages": {lang: language_table(paths) for lang, paths in sorted(found.items())},
    }


def render(table: dict[str, object]) -> str:
    """The committed text (stable order, one message pair per line)."""
    return json.dumps(table, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    """Write the table, or with --check say whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the table is stale")
    parser.add_argument("--catalogs", default=os.environ.get("PG_CATALOGS", CATALOGS))
    args = parser.parse_args()
    table = build(args.catalogs)
    if not table["languages"]:
        print(f"no PostgreSQL catalogs at {args.catalogs} (apt-get install postgresql)")
        return 1
    text = render(table)
    if args.check:
        current = TABLE.read_text(encoding="utf-8") if TABLE.exists() else ""
        if current != text:
            print(f"{TABLE.relative_to(ROOT)} is stale: run scripts/generate_pg_messages.py")
            return 1
        return 0
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)}: {len(table['languages'])} languages")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
