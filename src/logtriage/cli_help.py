"""``--help`` in the report language: our help texts and click's own few words via our catalog."""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from io import BytesIO
from typing import IO, Any

import click
from rich.cells import cell_len

from logtriage.config import load_settings
from logtriage.errors import ConfigError
from logtriage.model.i18n import LANGUAGES, N_, _, language_from_environment, using_language
from logtriage.report.line_breaking import fold, has_wide

# click writes these through the stdlib gettext of its own (absent) catalog; ours has them.
CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("default:"),
)
ENV_VARIABLE = "LOGTRIAGE_LANG"


def default_language(config_file: str | None = None) -> str:
    """The language when no --lang is given: LOGTRIAGE_LANG, else the config's, else the locale."""
    chosen = os.environ.get(ENV_VARIABLE, "").strip()
    if chosen:
        if chosen not in LANGUAGES:
            raise ConfigError(
                _("{name} must be one of {choices}, not {value}").format(
                    name=ENV_VARIABLE, choices=", ".join(LANGUAGES), value=repr(chosen)
                )
            )
        return chosen
    try:
        configured = load_settings(config_file).lang
    except ConfigError:
        configured = None  # a broken config is reported by the command that reads it
    return configured or language_from_environment(os.environ)


def _help_language(ctx: click.Context) -> str:
    """--lang when it came before --help (both are eager), else the default language."""
    flag = ctx.params.get("lang")
    if isinstance(flag, str):
        return flag
    try:
        return default_language()
    except ConfigError:
        return "en"  # a bad LOGTRIAGE_LANG is reported when a command runs, not by --help


def _translated(text: str) -> str:
    return _(inspect.cleandoc(text))


class HelpFormatter(click.HelpFormatter):
    """click's formatter with its words translated and Japanese broken between characters."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line, after "Usage:" in the active language."""
        super().write_usage(prog, args, f"{_('Usage:')} " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        """A section heading in the active language."""
        super().write_heading(_(heading))  # "Options", "Commands": in CLICK_WORDS

    def write_text(self, text: str) -> None:
        """A paragraph of help text, indented and wrapped to the terminal."""
        if not has_wide(text):
            super().write_text(text)
            return
        # click measures text in characters and breaks only at spaces: a wide character is
        # two cells and Japanese has no spaces, so fold() breaks it.
        width = max(self.width - self.current_indent, 20)
        for i, paragraph in enumerate(text.split("\n\n")):
            if i:
                self.write("\n")
            for line in fold(" ".join(paragraph.split()), width):
                self.write(f"{'':>{self.current_indent}}{line}\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """Options or commands and their help, the help in a column of its own."""
        rows = list(rows)
        if not any(has_wide(second) for _first, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_width = min(max(cell_len(first) for first, _second in rows), col_max)
        hang = self.current_indent + first_width + col_spacing
        width = max(self.width - hang, 20)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_len(first) <= first_width:
                self.write(" " * (first_width - cell_len(first) + col_spacing))
            else:
                self.write("\n" + " " * hang)
            # click's "  [default: 5m]" stays whole: after the text when it fits, else below it.
            text, bracket, extra = second.partition("  [")
            lines = fold(text, width) if text else []
            if bracket and lines and cell_len(lines[-1]) + 2 + cell_len(extra) + 1 <= width:
                lines[-1] += f"  [{extra}"
            elif bracket:
                lines.append(f"[{extra}")
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{'':>{hang}}{line}\n")


class HelpContext(click.Context):
    """A context whose help pages use the translating formatter."""

    formatter_class = HelpFormatter


class HelpCommand(click.Command):
    """A command whose --help page is written in the default language (or an earlier --lang)."""

    context_class = HelpContext

    def get_help(self, ctx: click.Context) -> str:
        """The whole --help page."""
        with using_language(_help_language(ctx)):
            return super().get_help(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first sentence of the help, for the group's list of commands."""
        original = self.help
        # click shortens self.help: hand it the translation for the call (one thread: the CLI).
        self.help = _translated(original) if original else original
        try:
            return super().get_short_help_str(limit)
        finally:
            self.help = original

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command's help text, translated."""
        text = _translated(self.help).partition("\f")[0] if self.help else ""
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options and their help texts, translated."""
        rows = []
        for param in self.get_params(ctx):
            record = None if isinstance(param, click.Argument) else param.get_help_record(ctx)
            if record is None:
                continue
            spec, text = record
            if param.help and text.startswith(param.help):
                text = _translated(param.help) + text[len(param.help) :]
            rows.append((spec, text.replace("[default: ", f"[{_('default:')} ")))
        if rows:
            with formatter.section("Options"):
                formatter.write_dl(rows)


class HelpGroup(HelpCommand, click.Group):
    """The command group: its own help page and its commands' pages are translated."""

    command_class = HelpCommand

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options, then the commands."""
        HelpCommand.format_options(self, ctx, formatter)  # click.Group's would skip ours
        self.format_commands(ctx, formatter)


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[tuple[Any, ...]]:
    """Babel extraction method for the command line (``babel.cfg``).

    Besides the ``_()`` calls, every ``help=`` text of a click decorator and the docstring of
    each click command are messages: ``--help`` shows them through the catalog.
    """
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(BytesIO(source), keywords, comment_tags, options)  # type: ignore[arg-type]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                text = value.value if isinstance(value, ast.Constant) else None
                if keyword.arg == "help" and isinstance(text, str):
                    yield value.lineno, None, inspect.cleandoc(text), ["--help"]
        elif isinstance(node, ast.FunctionDef) and any(
            _is_command(decorator) for decorator in node.decorator_list
        ):
            doc = ast.get_docstring(node)
            if doc:
                yield node.lineno, None, doc, ["--help"]


def _is_command(decorator: ast.expr) -> bool:
    """``@main.command()``, ``@click.group(…)``: a function that is a click command."""
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr in ("command", "group")
