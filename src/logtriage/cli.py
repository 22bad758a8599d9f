"""The command line: the only place that prints to the user or chooses an exit code."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from logtriage import __version__, api
from logtriage.cli_help import HelpGroup, default_language
from logtriage.config import Settings, load_settings
from logtriage.errors import ConfigError, LogtriageError
from logtriage.model.finding import Severity
from logtriage.model.i18n import LANGUAGES, N_, _, reset_language, set_language
from logtriage.model.report import Report
from logtriage.report.diff_text import render_diff_markdown, render_diff_terminal
from logtriage.report.html import render_html
from logtriage.report.json_report import render_json
from logtriage.report.line_breaking import fold, has_wide
from logtriage.report.markdown import render_markdown
from logtriage.report.sarif import render_sarif
from logtriage.report.terminal import render_terminal


class ExitStatus(IntEnum):
    """Exit codes, as ruff's: 0 clean, 1 findings matched --fail-on, 2 usage/input error."""

    OK = 0
    FINDINGS = 1
    ERROR = 2
    INTERNAL = 3
    INTERRUPTED = 130


_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(value: str | None, now: datetime | None = None) -> datetime | None:
    """``2026-11-24``, ``2026-11-24T10:00:00[Z|+01:00]`` or ``2h`` (before now) as naive UTC."""
    if value is None:
        return None
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return ((now or datetime.now(UTC)) - delta).replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LogtriageError(
            _("cannot read time {value}: use 2026-11-24, 2026-11-24T10:00:00Z or 2h").format(
                value=repr(value)
            )
        ) from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_range(text: str) -> tuple[datetime | None, datetime | None]:
    """``FROM..TO`` (either side may be empty) as naive UTC times; FROM must precede TO."""
    if ".." not in text:
        raise LogtriageError(
            _("cannot read range {range}: use FROM..TO, e.g. 2026-11-01..2h").format(
                range=repr(text)
            )
        )
    first, _sep, last = text.partition("..")
    start = parse_time(first) if first.strip() else None
    end = parse_time(last) if last.strip() else None
    if start is not None and end is not None and start >= end:
        raise LogtriageError(
            _("range {range} is empty: FROM must be before TO").format(range=repr(text))
        )
    return start, end


def matches_fail_on(report: Report, spec: str) -> bool:
    """True when a finding's code, name or severity (or a worse one) is listed in ``spec``."""
    wanted = {w.strip().lower() for w in spec.split(",") if w.strip()}
    severities = {s for s in Severity if s.value in wanted}
    worst = min((s.rank for s in severities), default=None)
    for finding in report.findings:
        if finding.code.lower() in wanted or finding.name in wanted:
            return True
        if finding.code[0].lower() in wanted:  # a whole viewpoint letter: "P", "A" …
            return True
        if worst is not None and finding.severity.rank <= worst:
            return True
    return False


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str], None]]:
    """A status line on a terminal; nothing when stderr is piped."""
    if not console.is_terminal:
        yield lambda _: None
        return
    with console.status(_("starting…")) as status:
        yield lambda message: status.update(message)


def _fail(console: Console, message: str, status: ExitStatus = ExitStatus.ERROR) -> None:
    # One line whatever the terminal width: no wrapping, no markup from log content.
    flat = " ".join(message.split())
    click.echo(_("logtriage: error: {message}").format(message=flat), err=True)
    sys.exit(int(status))


@contextmanager
def _one_line_errors(err: Console) -> Iterator[None]:
    """Every failure as one line on stderr and its exit status; a traceback only on request."""
    try:
        yield
    except LogtriageError as exc:
        _fail(err, str(exc), ExitStatus(exc.exit_code))
    except OSError as exc:
        _fail(err, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except KeyboardInterrupt:
        _fail(err, _("interrupted"), ExitStatus.INTERRUPTED)
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("LOGTRIAGE_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        message = _(
            "internal error ({kind}: {reason}); rerun with LOGTRIAGE_DEBUG=1 and report it"
        ).format(kind=type(exc).__name__, reason=first)
        _fail(err, message, ExitStatus.INTERNAL)


@click.group(cls=HelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logtriage")
def main() -> None:
    """Triage a slow or failing service from the logs it already writes."""


_LANG_HELP = N_(
    "Report language (default: LOGTRIAGE_LANG, else the config's lang, else the locale: "
    "LC_ALL, LANG)."
)


def _lang_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--lang en|ja`` on every command that prints for people.

    Eager, as --help is: ``--lang ja --help`` shows the help in Japanese.
    """
    option = click.option("--lang", type=click.Choice(LANGUAGES), is_eager=True, help=_LANG_HELP)
    return option(command)


def _use_language(flag: str | None, config_file: str | None = None) -> None:
    """The flag, else LOGTRIAGE_LANG, else the config file's ``lang``, else the locale."""
    try:
        token = set_language(flag or default_language(config_file))
    except ConfigError as exc:
        _fail(Console(stderr=True), str(exc), ExitStatus(exc.exit_code))
        return
    # Back to the caller's language when the command ends (tests run many in one process).
    click.get_current_context().call_on_close(lambda: reset_language(token))


# Flags that are reader options: flag value -> FormatOptions key (also `[formats]` in config).
FORMAT_FLAGS = ("nginx_log_format", "apache_log_format", "pg_prefix", "mysql_utc_offset")


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--format", "format_name", metavar="NAME", help="Force the input format.")
@click.option(
    "--output-format",
    type=click.Choice(["text", "json", "markdown", "sarif"]),
    default="text",
    show_default=True,
    help="What goes to stdout.",
)
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write JSON here.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write HTML here.")
@click.option(
    "--markdown", "markdown_file", type=click.Path(dir_okay=False), help="Write Markdown."
)
@click.option("--sarif", "sarif_file", type=click.Path(dir_okay=False), help="Write SARIF here.")
@click.option("--since", help="Only records at or after: 2026-11-24, ISO time, or 2h ago.")
@click.option("--until", help="Only records before this time.")
@click.option(
    "--engine", type=click.Choice(["duckdb", "spark"]), default=None, help="Analysis engine."
)
@click.option(
    "--spark-master",
    metavar="URL",
    help="With --engine spark: local[*] (default), spark://…, yarn, or sc:// (Spark Connect).",
)
@click.option(
    "--tables",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="With PATHs: also write the parsed tables to DIR (Parquet). "
    "Without: analyze the tables in DIR, parse nothing.",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--nginx-log-format", help="The nginx log_format of the access logs.")
@click.option("--apache-log-format", help="The Apache LogFormat of the access logs.")
@click.option("--pg-prefix", help="The log_line_prefix of the PostgreSQL logs.")
@click.option(
    "--mysql-utc-offset",
    metavar="+HH:MM",
    help="UTC offset of MariaDB/old MySQL log times, which carry no zone.",
)
@click.option("--openapi", type=click.Path(dir_okay=False), help="OpenAPI file: route names.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False),
    help="The app's source tree: point findings at lines of code.",
)
@click.option("--fail-on", metavar="CODES", help="Exit 1 if a finding matches: P001,A,high…")
@click.option("--threads", type=click.IntRange(1, 256), help="Engine threads (default: all).")
@click.option(
    "--memory-limit",
    help="Engine memory limit, e.g. 1GB (spills to disk beyond; less what the heap grows by).",
)
@click.option("--top", "top_routes", type=click.IntRange(1, 10000), help="Routes in the table.")
@click.option(
    "--state",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Keep a history in DIR: next time parse only new lines (rotation-aware).",
)
@click.option("-q", "--quiet", is_flag=True, help="Findings only.")
@click.option("-v", "--verbose", is_flag=True, help="All evidence, examples and routes.")
@_lang_option
def analyze(
    paths: Sequence[str],
    output_format: str,
    json_file: str | None,
    html_file: str | None,
    markdown_file: str | None,
    sarif_file: str | None,
    config_file: str | None,
    fail_on: str | None,
    quiet: bool,
    verbose: bool,
    **flags: Any,
) -> None:
    """Analyze access, database and app logs and print ranked findings."""
    _use_language(flags.get("lang"), config_file)
    out = Console(highlight=False, soft_wrap=False)
    err = Console(stderr=True, highlight=False)
    with _one_line_errors(err):
        settings = _settings(config_file, flags)
        # --state DIR alone reports on the history as it is.
        if not paths and not settings.tables and not settings.state:
            raise ConfigError(_("give the logs to analyze (PATH…), or --tables DIR"))
        with _progress(err) as progress:
            report = api.analyze(paths, settings, progress=progress)
        renderers = _renderers()
        files = {
            "json": json_file,
            "html": html_file,
            "markdown": markdown_file,
            "sarif": sarif_file,
        }
        for kind, path in files.items():
            if path:
                Path(path).write_text(renderers[kind](report), encoding="utf-8")
        if output_format in renderers:
            sys.stdout.write(renderers[output_format](report))
        else:
            render_terminal(report, out, verbose=verbose, quiet=quiet)
        if settings.state and "state" in report.extra:
            _state_line(settings.state, report)
    if fail_on and matches_fail_on(report, fail_on):
        sys.exit(int(ExitStatus.FINDINGS))


def _state_line(state: str, report: Report) -> None:
    """One line on stderr: what this --state run added, and what the history now holds."""
    run = report.extra["state"]
    lines = sum(i.lines for i in report.inputs)

    def count(n: int, what: str) -> str:
        return f"{n:,} {what}" + ("" if n == 1 else "s")

    click.echo(
        f"logtriage: {state}: run {run['run']} read {count(run['new_lines'], 'new line')}; "
        f"the history holds {count(lines, 'line')} of {count(len(report.inputs), 'file')}",
        err=True,
    )


def _renderers() -> dict[str, Callable[[Report], str]]:
    """Each file rendering by name; HTML and SARIF carry the analyzers' docs as rules."""
    return {
        "json": render_json,
        "html": lambda report: render_html(report, api.rule_docs()),
        "markdown": render_markdown,
        "sarif": lambda report: render_sarif(report, api.rule_docs()),
    }


def _settings(config_file: str | None, flags: dict[str, Any]) -> Settings:
    """The config file's settings with the command-line flags on top."""
    base = load_settings(config_file)
    format_options: dict[str, str] = dict(base.format_options)
    for key in FORMAT_FLAGS:
        value = flags.pop(key, None)
        if value:
            format_options[key] = value
    format_name = flags.pop("format_name", None)
    if format_name:
        api.format_named(format_name)
    return base.with_overrides(
        format=format_name,
        format_options=format_options,
        since=parse_time(flags.pop("since", None)),
        until=parse_time(flags.pop("until", None)),
        **flags,
    )


@main.command()
@click.argument("before", required=False, type=click.Path(dir_okay=False))
@click.argument("after", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--output-format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when anything got worse.")
@click.option(
    "--state",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Compare two time ranges of an analyze --state history instead of two reports.",
)
@click.option("--before", "before_range", metavar="FROM..TO", help="With --state: the first range.")
@click.option("--after", "after_range", metavar="FROM..TO", help="With --state: the second range.")
@_lang_option
def diff(
    before: str | None,
    after: str | None,
    output_format: str,
    fail_on_regression: bool,
    state: str | None,
    before_range: str | None,
    after_range: str | None,
    lang: str | None,
) -> None:
    """Compare two reports (analyze --json): what got better, worse, appeared, went away.

    Or two time ranges of one history: diff --state DIR --before 2026-11-01..2026-11-02
    --after 2026-11-03.. (FROM inclusive, TO exclusive, either may be left open).
    """
    _use_language(lang)
    err = Console(stderr=True, highlight=False)
    try:
        if state is not None:
            if before or after or not (before_range and after_range):
                raise LogtriageError(
                    _("diff --state DIR takes --before FROM..TO and --after FROM..TO, no reports")
                )
            result = api.diff_history(
                state, parse_range(before_range), parse_range(after_range), load_settings()
            )
        elif before and after and not (before_range or after_range):
            result = api.diff(before, after)
        else:
            raise LogtriageError(
                _("diff takes two reports (BEFORE AFTER), or --state DIR --before --after")
            )
    except LogtriageError as exc:
        _fail(err, str(exc), ExitStatus(exc.exit_code))
        return
    if output_format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif output_format == "markdown":
        sys.stdout.write(render_diff_markdown(result) + "\n")
    else:
        render_diff_terminal(result, Console(highlight=False))
    if fail_on_regression and result.has_regression:
        sys.exit(int(ExitStatus.FINDINGS))


@main.command()
@_lang_option
def formats(lang: str | None) -> None:
    """List the formats logtriage reads and how it recognises each."""
    _use_language(lang)
    out = Console(highlight=False)
    for fmt in api.formats():
        head = f"{fmt.name} → {fmt.table}: "
        description = _wrapped(_(fmt.description), out.width, len(head))
        out.print(f"[bold]{escape(fmt.name)}[/bold] → {fmt.table}: {escape(description)}")
        how = "  " + _("recognised by: {how}").format(how=_(fmt.recognises))
        out.print(_wrapped(how, out.width), markup=False)


@main.command()
@click.argument("code", required=False)
@_lang_option
def explain(code: str | None, lang: str | None) -> None:
    """Show what a finding code means and how to fix it (all codes without CODE)."""
    _use_language(lang)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    if code is None:
        order = "PAMSO"
        for analyzer in sorted(api.analyzers(), key=lambda a: (order.index(a.code[0]), a.code)):
            summary = api.explain(analyzer.code)[1]["summary"].splitlines()[0]
            head = f"{analyzer.code} {analyzer.name}: "
            summary = _wrapped(summary, out.width, len(head))
            out.print(f"[bold]{analyzer.code}[/bold] {analyzer.name}: {escape(summary)}")
        return
    try:
        analyzer, sections = api.explain(code)
    except LogtriageError as exc:
        _fail(err, str(exc))
        return
    out.print(f"[bold]{analyzer.code} {analyzer.name}[/bold]")
    out.print(_reflow(sections["summary"], out.width), markup=False)
    for title, body in sections.items():
        if title != "summary":
            out.print(f"\n[bold]{escape(_(title))}[/bold]")
            out.print(_reflow(body, out.width), markup=False)


def _wrapped(text: str, width: int, used: int = 0) -> str:
    """CJK text broken into lines here (rich breaks only at spaces); other text as it is."""
    return "\n".join(fold(text, width, first_width=width - used)) if has_wide(text) else text


def _reflow(body: str, width: int) -> str:
    """Docstring lines joined into paragraphs; list items stay lines; CJK broken here."""
    out: list[str] = []
    for line in body.splitlines():
        starts_item = line.lstrip().startswith(("- ", "* ")) or line[:1].isspace()
        if out and out[-1] and line.strip() and not starts_item:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    # rich breaks lines only at spaces: Japanese text is broken between characters instead.
    return "\n".join("\n".join(fold(p, width)) if has_wide(p) else p for p in out)


def _given(name: str, value: str, configured: Mapping[str, str]) -> str:
    """A flag's value, or the config's when the flag was left at its default."""
    source = click.get_current_context().get_parameter_source(name)
    if source is click.core.ParameterSource.DEFAULT and name in configured:
        return configured[name]
    return value


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--interval", default="5s", show_default=True, help="How often to read new lines.")
@click.option("--window", default="5m", show_default=True, help="The rolling window analyzed.")
@click.option(
    "--baseline", default="1h", show_default=True, help="Per-minute history a route is held to."
)
@click.option("--duration", help="Stop by itself after this long (e.g. 10m); default: Ctrl-C.")
@click.option("--from-start", is_flag=True, help="Read what the files hold already, not only new.")
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="NAME=VALUE",
    help="route-p95=500ms, route-5xx=5%, queries-per-request=20, baseline-p95=2x, "
    "baseline-5xx=3x, n-plus-one-growth=1.5x, min-requests=5, min-severity=low, clear-ticks=2.",
)
@click.option("--alert-jsonl", type=click.Path(dir_okay=False), help="Append alerts (JSON lines).")
@click.option(
    "--alert-command", metavar="CMD", help="Run CMD per alert, the alert JSON on its stdin."
)
@click.option("--webhook", metavar="URL", help="POST a Slack-compatible message per alert.")
@click.option("-q", "--quiet", is_flag=True, help="No alert lines on the terminal.")
@click.option("-v", "--verbose", is_flag=True, help="One line per tick on stderr.")
@click.option("--format", "format_name", metavar="NAME", help="Force the input format.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--nginx-log-format", help="The nginx log_format of the access logs.")
@click.option("--apache-log-format", help="The Apache LogFormat of the access logs.")
@click.option("--pg-prefix", help="The log_line_prefix of the PostgreSQL logs.")
@click.option("--mysql-utc-offset", metavar="+HH:MM", help="UTC offset of MariaDB log times.")
@click.option("--openapi", type=click.Path(dir_okay=False), help="OpenAPI file: route names.")
@click.option("--threads", type=click.IntRange(1, 256), help="Engine threads (default: all).")
@click.option("--memory-limit", help="Engine memory limit, e.g. 256MB.")
@_lang_option
def watch(
    paths: Sequence[str],
    interval: str,
    window: str,
    baseline: str,
    duration: str | None,
    from_start: bool,
    thresholds: Sequence[str],
    alert_jsonl: str | None,
    alert_command: str | None,
    webhook: str | None,
    quiet: bool,
    verbose: bool,
    config_file: str | None,
    lang: str | None,
    **flags: Any,
) -> None:
    """Follow logs as they grow and alert when a rule fires (Ctrl-C stops)."""
    from logtriage.report.alert_sinks import (
        AlertSink,
        CommandSink,
        JsonLinesSink,
        TerminalSink,
        WebhookSink,
    )

    _use_language(lang, config_file)
    err = Console(stderr=True, highlight=False)
    stop = threading.Event()
    sinks: list[AlertSink] = []
    try:
        with _one_line_errors(err):
            settings = _settings(config_file, flags)
            configured = settings.watch
            alert_jsonl = alert_jsonl or configured.get("alert_jsonl")
            alert_command = alert_command or configured.get("alert_command")
            webhook = webhook or configured.get("webhook")
            options = api.WatchOptions(
                interval_s=api.parse_duration_s(
                    _given("interval", interval, configured), "--interval"
                ),
                window_s=api.parse_duration_s(_given("window", window, configured), "--window"),
                baseline_s=api.parse_duration_s(
                    _given("baseline", baseline, configured), "--baseline"
                ),
                duration_s=api.parse_duration_s(duration, "--duration") if duration else None,
                from_start=from_start,
                # The config's thresholds first: a --threshold of the same name wins.
                rules=api.parse_thresholds([*settings.watch_thresholds, *thresholds]),
            )
            if options.interval_s <= 0 or options.window_s < options.interval_s:
                raise LogtriageError(
                    _("--interval must be above 0 and --window at least one interval")
                )
            if not quiet:
                sinks.append(TerminalSink(Console(highlight=False)))
            if alert_jsonl:
                sinks.append(JsonLinesSink(alert_jsonl))
            if alert_command:
                sinks.append(CommandSink(shlex.split(alert_command)))
            if webhook:
                sinks.append(WebhookSink(webhook))

            def on_tick(tick: api.Tick) -> None:
                for problem in tick.errors:
                    click.echo(
                        _("logtriage: warning: alert not delivered: {problem}").format(
                            problem=problem
                        ),
                        err=True,
                    )
                for event in tick.events:
                    click.echo(f"logtriage: {event}", err=True)
                if verbose:
                    started = (
                        tick.started.isoformat(timespec="milliseconds") if tick.started else ""
                    )
                    rows = ", ".join(f"{n} {table}" for table, n in tick.rows.items() if n)
                    click.echo(
                        _(
                            "logtriage: tick {started}Z: {lines} new lines, window {rows}, "
                            "{alerts} alerts, {seconds:.2f} s"
                        ).format(
                            started=started,
                            lines=tick.new_lines,
                            rows=rows or _("empty"),
                            alerts=len(tick.alerts),
                            seconds=tick.seconds,
                        ),
                        err=True,
                    )

            previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

            def on_signal(signum: int, frame: object) -> None:
                # The first Ctrl-C ends the tick in progress cleanly; a second one interrupts it.
                stop.set()
                signal.signal(signal.SIGINT, previous[signal.SIGINT])

            for sig in previous:
                signal.signal(sig, on_signal)
            try:
                api.watch(paths, settings, options, sinks, on_tick=on_tick, stop=stop)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    finally:
        for sink in sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                close()


@main.command()
@click.argument("target", type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any free."
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other than loopback: whoever reaches it sees the logs' data.",
)
@_lang_option
def serve(target: str, host: str, port: int, allow_remote: bool, lang: str | None) -> None:
    """Open a saved analysis (an analyze --state DIR, or a report JSON) in a local dashboard."""
    from logtriage.serve.server import bind, is_loopback
    from logtriage.serve.server import serve as run_dashboard

    _use_language(lang)
    err = Console(stderr=True, highlight=False)
    try:
        saved = api.saved_analysis(target)
    except LogtriageError as exc:
        _fail(err, str(exc), ExitStatus(exc.exit_code))
        return
    if not is_loopback(host):
        if not allow_remote:
            _fail(
                err,
                _(
                    "--host {host} is not a loopback address: the dashboard would show log data "
                    "to whoever reaches it; add --allow-remote to serve it anyway"
                ).format(host=host),
            )
        click.echo(
            _(
                "logtriage: warning: serving on {host}: anyone who reaches it sees this analysis"
            ).format(host=host),
            err=True,
        )
    try:
        sock = bind(host, port)
    except OSError as exc:
        _fail(
            err,
            _("cannot listen on {address}: {problem}").format(
                address=f"{host}:{port}", problem=exc.strerror or exc
            ),
        )
        return

    def ready(url: str) -> None:
        message = (
            _("logtriage dashboard of {target}: {url}  (Ctrl-C stops)")
            if saved.has_history
            else _(
                "logtriage dashboard of {target} (report only: no history to drill into): "
                "{url}  (Ctrl-C stops)"
            )
        )
        click.echo(message.format(target=target, url=url), err=True)

    try:
        run_dashboard(saved, api.rule_docs(), sock, on_ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    click.echo(_("logtriage: dashboard stopped"), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
