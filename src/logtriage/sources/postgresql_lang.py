"""PostgreSQL logs in the server's language (lc_messages): severities and messages back to English.

The table ``postgresql_i18n.json`` is generated from PostgreSQL's own message catalogs by
``scripts/generate_pg_messages.py`` (nothing reads a catalog at run time). Each translated
message (msgstr) becomes a template: its literal text up to the first argument is the *lead*,
the whole msgstr a regex whose arguments are groups, and the English msgid the rewrite with
the arguments in English order (``%2$s`` in a msgstr moves them). The readers apply them in
bulk: one regex of every lead finds the candidate templates of a message (an equi-join on the
lead), the first template that matches rewrites its head, and the rest of the message stays.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypedDict

from logtriage.errors import FormatError
from logtriage.model.i18n import _

# printf conversions PostgreSQL's messages use, with an optional position (%2$s).
_SPEC = re.compile(r"%(?:(\d+)\$)?([-+ 0#]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|L)?([diouxXfgsc%])")
_RE2_SPECIAL = set("\\.^$|?*+()[]{}")
# Marks a lead found after the message's first word (a msgstr that starts with an argument).
AFTER_WORD = "\x01"
# RE2's rewrite strings name at most nine groups: longer messages keep their English head only.
_MAX_GROUPS = 9


class LangEntry(TypedDict):
    """One language of the generated table."""

    severities: dict[str, str]
    words: dict[str, str]
    messages: list[list[str]]


@dataclass(frozen=True)
class Template:
    """One translated message: where it starts, how to match it, how to write it in English."""

    lang: str
    lead: str
    pattern: str
    english: str
    priority: int


def _escape(text: str) -> str:
    """``text`` as an RE2 literal."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


def _arg_regex(conv: str, is_last: bool) -> str:
    """RE2 for one printf argument."""
    if conv in "diouxX":
        return "(-?[0-9a-fA-F]+)" if conv in "xX" else "(-?[0-9]+)"
    if conv in "fg":
        return "(-?[0-9]+(?:[.,][0-9]+)?)"
    return "(.*)" if is_last else "(.*?)"


def compile_template(lang: str, msgstr: str, msgid: str, priority: int) -> Template | None:
    """The template of one (msgstr, msgid) pair; None when its msgstr starts with an argument."""
    local = msgstr.rstrip("\n")
    english = msgid.rstrip("\n")
    specs = [m for m in _SPEC.finditer(local) if m.group(6) != "%"]
    lead = (local[: specs[0].start()] if specs else local).replace("%%", "%")
    if not lead.strip():
        # Korean and others start some messages with an argument ("%d PID 프로세스…"): the
        # literal after it is the lead, marked so that it is looked for after a first word.
        after = local[specs[0].end() : specs[1].start() if len(specs) > 1 else None]
        if not after.strip():
            return None
        lead = AFTER_WORD + after.replace("%%", "%")
    # Position of each English argument (1-based) in the msgstr's order of appearance.
    where: dict[int, int] = {}
    pattern: list[str] = []
    pos = 0
    for order, m in enumerate(specs, start=1):
        pattern.append(_escape(local[pos : m.start()].replace("%%", "%")))
        arg = int(m.group(1)) if m.group(1) else order
        where[arg] = order
        pattern.append(_arg_regex(m.group(6), order == len(specs)))
        pos = m.end()
    pattern.append(_escape(local[pos:].replace("%%", "%")))
    rewrite: list[str] = []
    pos = 0
    for order, m in enumerate(s for s in _SPEC.finditer(english) if s.group(6) != "%"):
        rewrite.append(_rewrite_literal(english[pos : m.start()]))
        group = where.get(order + 1)
        if group is None or group > _MAX_GROUPS:
            break
        rewrite.append(f"\\{group}")
        pos = m.end()
    else:
        rewrite.append(_rewrite_literal(english[pos:]))
    return Template(lang, lead, "(?s)^" + "".join(pattern), "".join(rewrite), priority)


def _rewrite_literal(text: str) -> str:
    """English text inside an RE2 rewrite string (backslashes doubled)."""
    return text.replace("%%", "%").replace("\\", "\\\\")


@cache
def table() -> dict[str, LangEntry]:
    """The generated table: language -> {severities, messages}."""
    text = resources.files("logtriage.sources").joinpath("postgresql_i18n.json").read_text("utf-8")
    data: dict[str, LangEntry] = json.loads(text)["languages"]
    return data


@cache
def catalog_versions() -> tuple[str, ...]:
    """PostgreSQL versions whose catalogs made the table."""
    text = resources.files("logtriage.sources").joinpath("postgresql_i18n.json").read_text("utf-8")
    return tuple(json.loads(text)["postgresql_versions"])


def languages() -> tuple[str, ...]:
    """Languages the table has, besides English."""
    return tuple(table())


# PostgreSQL's own severity words, the most common in a log first.
ENGLISH_LEVELS = (
    "LOG", "DETAIL", "STATEMENT", "ERROR", "CONTEXT", "HINT", "WARNING", "FATAL", "QUERY",
    "LOCATION", "NOTICE", "INFO", "PANIC", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4",
    "DEBUG5",
)  # fmt: skip


def severity_words() -> dict[str, str]:
    """Translated severity word -> English one, over every language (no word has two)."""
    words: dict[str, str] = {}
    for entry in table().values():
        words.update(entry["severities"])
    return words


def severity_languages() -> dict[str, str]:
    """Translated severity word -> the one language that writes it (shared words left out)."""
    seen: dict[str, set[str]] = {}
    for lang, entry in table().items():
        for word in entry["severities"]:
            seen.setdefault(word, set()).add(lang)
    return {word: langs.pop() for word, langs in seen.items() if len(langs) == 1}


@cache
def templates(langs: tuple[str, ...] | None = None) -> tuple[Template, ...]:
    """Templates of ``langs`` (all languages when None), most specific first."""
    found: list[Template] = []
    for lang, entry in table().items():
        if langs is not None and lang not in langs:
            continue
        pairs: list[list[str]] = entry["messages"]
        for msgstr, msgid in pairs:
            t = compile_template(lang, msgstr, msgid, 0)
            if t is not None:
                found.append(t)
    # Longer msgstrs first: "duration: %s ms  statement: %s" before "duration: %s ms".
    found.sort(key=lambda t: (-len(t.pattern), t.lang, t.pattern))
    return tuple(Template(t.lang, t.lead, t.pattern, t.english, i) for i, t in enumerate(found))


def level_sql(column: str) -> str:
    """SQL: the English severity of ``column`` (a translated word or already English)."""
    words = severity_words()
    # English words first, most common first: a CASE tries its branches in order, and an
    # English line would otherwise be compared with every translated word (~120) first.
    english = " ".join(f"WHEN '{e}' THEN '{e}'" for e in ENGLISH_LEVELS if e not in words)
    cases = " ".join(f"WHEN '{_sql(w)}' THEN '{e}'" for w, e in sorted(words.items()))
    return f"(CASE {column} {english} {cases} ELSE {column} END)"


def level_regex() -> str:
    """Regex alternation of every translated severity word (longest first)."""
    return "|".join(_escape(w) for w in sorted(severity_words(), key=lambda w: (-len(w), w)))


def _sql(text: str) -> str:
    return text.replace("'", "''")


def _templates_values(langs: tuple[str, ...] | None) -> str:
    """SQL: the templates as a VALUES list (lang, lead, pattern, english, priority)."""
    rows = ",\n".join(
        f"('{_sql(t.lang)}', '{_sql(t.lead)}', '{_sql(t.pattern)}', '{_sql(t.english)}', "
        f"{t.priority})"
        for t in templates(langs)
    )
    return f"SELECT * FROM (VALUES\n{rows}\n) AS t(lang, lead, pattern, english, priority)"


def lead_regex(
    langs: tuple[str, ...] | None, *, after_word: bool = False, cut: int | None = None
) -> str:
    """RE2: ``^(lead|lead|…)`` over the templates' leads, longest first (leftmost-first wins).

    With ``after_word``, the leads of messages that start with an argument, after that word.
    With ``cut``, only the leads' first ``cut`` characters: a quick test that every message
    the full regex matches passes (and few others do).
    """
    leads = {t.lead for t in templates(langs) if t.lead.startswith(AFTER_WORD) == after_word}
    cut_leads = {lead.removeprefix(AFTER_WORD)[:cut] for lead in leads}
    ordered = sorted(cut_leads, key=lambda s: (-len(s), s))
    if not ordered:
        return "^()$.^"  # matches nothing
    start = "^[^\\s]*?" if after_word else "^"
    return start + "(" + "|".join(_escape(lead) for lead in ordered) + ")"


# Characters of each lead in the quick test (8: English heads such as "duration: " then differ
# from every lead, e.g. Italian "durata: ").
_LEAD_TEST = 8


def lead_sql(langs: tuple[str, ...] | None) -> str:
    """SQL: the lead of ``message`` some template of ``langs`` starts with; NULL for most.

    A lead found after the message's first word is marked with ``AFTER_WORD``.
    """
    if not templates(langs):
        return "NULL::VARCHAR"
    # The full alternation of leads makes RE2 fall back to its slow engine: a regex of the
    # leads' first characters (small enough for its fast one) lets only candidates through.
    first = (
        f"CASE WHEN regexp_matches(message, '{_sql(lead_regex(langs, cut=_LEAD_TEST))}') "
        f"THEN NULLIF(regexp_extract(message, '{_sql(lead_regex(langs))}', 1), '') END"
    )
    after = (
        "CASE WHEN regexp_matches(message, "
        f"'{_sql(lead_regex(langs, after_word=True, cut=_LEAD_TEST))}') "
        f"THEN regexp_extract(message, '{_sql(lead_regex(langs, after_word=True))}', 1) END"
    )
    return f"coalesce({first}, chr(1) || NULLIF({after}, ''))"


def english_sql(messages: str, langs: tuple[str, ...] | None) -> str:
    """SQL: the reader's ``messages`` SELECT with English levels, plus ``lang`` and ``tpl_lead``.

    Messages stay as written: ``translation_sql`` then rewrites the few whose ``tpl_lead`` is
    set. ``langs`` limits the templates ([formats] pg_lang); None tries every language.
    """
    return (
        f"SELECT src.* REPLACE ({level_sql('src.level')} AS level), NULL::VARCHAR AS lang, "
        f"{lead_sql(langs)} AS tpl_lead FROM ({messages}) AS src"
    )


def translation_sql(table: str, langs: tuple[str, ...] | None) -> str | None:
    """SQL: rows (line, level, message, lang) of ``table`` whose message a template rewrote.

    Only messages with a ``tpl_lead`` are tried, against the templates of that lead; the first
    (most specific) template that matches rewrites the head. None when there are no templates.
    """
    if not templates(langs):
        return None
    return f"""
WITH tpl AS ({_templates_values(langs)}
), hit AS (
    SELECT c.line,
        arg_min(regexp_replace(c.message, t.pattern, t.english), t.priority) AS message,
        arg_min(t.lang, t.priority) AS lang
    FROM (SELECT line, message, tpl_lead FROM {table} WHERE tpl_lead IS NOT NULL) AS c
    JOIN tpl AS t ON t.lead = c.tpl_lead
    WHERE regexp_matches(c.message, t.pattern)
    GROUP BY c.line
)
SELECT hit.line, m.level, hit.message, hit.lang
FROM hit JOIN {table} AS m ON m.line = hit.line"""


def _words(msgid: str) -> list[str]:
    """``msgid`` and its translation in every language."""
    found = [msgid]
    for entry in table().values():
        words: dict[str, str] = entry["words"]
        if msgid in words and words[msgid] not in found:
            found.append(words[msgid])
    return found


def unknown_sql(column: str) -> str:
    """SQL: ``column``, NULL when ``[unknown]`` (%u/%d before authentication) in any language."""
    words = ", ".join(f"'{_sql(w)}'" for w in _words("[unknown]"))
    return f"(CASE WHEN {column} IN ({words}) THEN NULL ELSE {column} END)"


def position_regex() -> str:
    """RE2: the error position elog.c appends to a message (`` at character 15``), any language."""
    alternatives = [
        _escape(w.replace("%%", "%")).replace("%d", "[0-9]+") for w in _words(" at character %d")
    ]
    return "(?:" + "|".join(alternatives) + ")$"


def chosen_languages(value: str | None) -> tuple[str, ...] | None:
    """Languages ``[formats] pg_lang`` names: None (auto, every language), () for English only.

    Accepts ``auto``, ``en``/``C``, or languages separated by commas (``ja``, ``de,fr``,
    ``ja_JP.UTF-8``: the territory and encoding are ignored when the table has the language).
    """
    if value is None or value.strip().lower() in ("", "auto"):
        return None
    chosen: list[str] = []
    for item in value.split(","):
        name = item.strip().split(".")[0]
        if name in ("C", "POSIX") or name.lower().startswith("en"):
            continue
        lang = name if name in table() else name.split("_")[0]
        if lang not in table():
            known = ", ".join(languages())
            raise FormatError(
                _("pg_lang {value}: no PostgreSQL catalog for it (known: en, {known})").format(
                    value=repr(item.strip()), known=known
                )
            )
        chosen.append(lang)
    return tuple(chosen)
