"""Translated messages: the active report language and its gettext catalog."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from importlib import resources
from io import BytesIO

# The languages a report can be written in; English is the source text of every message.
LANGUAGES = ("en", "ja")
DOMAIN = "logtriage"

_ACTIVE: ContextVar[str] = ContextVar("logtriage_language", default="en")


@cache
def translations(code: str) -> _gettext.NullTranslations:
    """The catalog of language ``code``, read once from the .po file shipped in the package.

    The .po file is the only artifact (no compiled .mo to keep in step): Babel parses it and
    compiles it in memory, and only when a language other than English is asked for.
    """
    if code == "en":
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = resources.files("logtriage").joinpath("locale", code, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries stay out: an unchecked guess reads as English
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def language() -> str:
    """The active language code (``en`` unless set)."""
    return _ACTIVE.get()


def set_language(code: str) -> Token[str]:
    """Make ``code`` the active language of this context; returns the token to reset it."""
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {code!r} (choose from {', '.join(LANGUAGES)})")
    return _ACTIVE.set(code)


def reset_language(token: Token[str]) -> None:
    """Restore the language that was active before ``set_language`` returned ``token``."""
    _ACTIVE.reset(token)


@contextmanager
def using_language(code: str) -> Iterator[None]:
    """Run a block in ``code``, then restore the previous language."""
    token = set_language(code)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def language_from_environment(environ: Mapping[str, str]) -> str:
    """``ja`` when the locale (LC_ALL, else LC_MESSAGES, else LANG, as POSIX) is Japanese."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def _(message: str) -> str:
    """``message`` in the active language (itself when it has no translation)."""
    if _ACTIVE.get() == "en":
        return message
    return translations(_ACTIVE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the active language."""
    return translations(_ACTIVE.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; translate it later with ``_()`` where it is shown."""
    return message
