"""Reports in Japanese (--lang ja): complete catalog, translated outputs, English contracts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from io import StringIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from logtriage import api
from logtriage.cli import main
from logtriage.config import Settings
from logtriage.model.i18n import _, language, language_from_environment, using_language
from logtriage.report.chart_specs import (
    histogram_charts,
    query_time_chart,
    route_time_chart,
    traffic_charts,
)
from logtriage.report.html import render_html
from logtriage.report.line_breaking import fold, has_wide
from logtriage.report.markdown import render_markdown
from logtriage.report.svg import vega_lite_svg
from logtriage.report.terminal import render_terminal
from tests.fixed_report import fixed_report

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "logtriage" / "locale"
POT = LOCALE / "logtriage.pot"
JA_PO = LOCALE / "ja" / "LC_MESSAGES" / "logtriage.po"
# {name} / {name:.0%} (str.format) and %(name)s (Jinja's newstyle gettext).
PLACEHOLDER = re.compile(r"\{(\w+)(?:[:!][^{}]*)?\}|%\((\w+)\)[sdf]")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

Request = tuple[str, str, int, float]


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_template_is_current_with_the_code(tmp_path: Path) -> None:
    """Re-extract as `make i18n` does: a message added or changed in code must reach the .pot."""
    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "--no-location",
            "-o",
            str(fresh),
            str(ROOT / "src" / "logtriage"),
        ]
    )
    extracted, committed = _ids(_read(fresh)), _ids(_read(POT))
    assert extracted - committed == set(), "new messages: run `make i18n` and translate them"
    assert committed - extracted == set(), "messages no longer in the code: run `make i18n`"


def test_every_message_has_a_japanese_translation() -> None:
    catalog = _read(JA_PO)
    by_id = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    missing = []
    for msgid in sorted(_ids(_read(POT))):
        message = by_id.get(msgid)
        forms = () if message is None else message.string
        forms = (forms,) if isinstance(forms, str) else forms
        if message is None or "fuzzy" in message.flags or not all(forms):
            missing.append(msgid[:80])
    assert missing == [], f"{len(missing)} messages lack a Japanese translation: {missing[:5]}"


def test_translations_keep_every_placeholder() -> None:
    """A translation may reorder the named placeholders, never drop, rename or add one."""
    wrong = []
    for message in _read(JA_PO):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if _placeholders(form) != _placeholders(source):
                wrong.append(source[:60])
            # Jinja's newstyle gettext %-formats every message: a lone % would break the page.
            if "%(" in source and re.search(r"%(?!\(\w+\)[sdf]|%)", form):
                wrong.append(source[:60])
    assert wrong == []


def test_catalog_ships_in_the_package() -> None:
    """The .po is package data (the wheel carries it); nothing is fetched at run time."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    package_data = re.search(r"\[tool\.setuptools\.package-data\]\nlogtriage = \[(.*)\]", pyproject)
    assert package_data is not None and '"**/*.po"' in package_data.group(1)
    assert JA_PO.is_file()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LC_ALL": "ja_JP.eucJP", "LANG": "C"}, "ja"),
        ({"LC_MESSAGES": "ja", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),  # LC_ALL wins, as in POSIX
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_language_follows_the_locale(environ: dict[str, str], expected: str) -> None:
    assert language_from_environment(environ) == expected


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_explain_in_japanese() -> None:
    code, out, _err = _run("explain", "P001", "--lang", "ja")
    assert code == 0
    assert "P001 n-plus-one-queries" in out  # codes and names stay as they are
    for heading in ("検出する内容", "なぜ問題か", "修正方法"):
        assert heading in out
    assert "What it finds" not in out
    assert language() == "en"  # the command restores the caller's language


def test_explain_language_defaults_to_the_locale() -> None:
    env = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ja_JP.UTF-8"}
    _code, out, _err = _run("explain", "P004", env=env)
    assert "修正方法" in out
    _code, out, _err = _run("explain", "P004", env={**env, "LANG": "C.UTF-8"})
    assert "How to fix" in out


def test_an_error_in_japanese_is_still_one_line() -> None:
    code, _out, err = _run("explain", "Z999", "--lang", "ja")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("logtriage: エラー: 不明な検出コード 'Z999'")


def test_lang_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "logtriage.toml"
    config.write_text('lang = "fr"\n')
    code, _out, err = _run("analyze", str(config), "--config", str(config))
    assert code == 2 and "lang must be one of en, ja" in err


def _planted(write: Callable[[Iterable[Request], str], Path]) -> Path:
    """A slow route and a failing one: P004 and A001 fire."""
    requests: list[Request] = []
    for i in range(200):
        requests.append(("GET", f"/reports/{i}", 200, 2.5 + (i % 7) / 10))
        requests.append(("GET", f"/items/{i}", 500 if i % 4 == 0 else 200, 0.02))
        requests.append(("GET", "/health", 200, 0.001))
    return write(requests, "access.log")


@pytest.fixture
def planted_ja(write_nginx_log: Callable[[Iterable[Request], str], Path]) -> api.Report:
    return api.analyze([str(_planted(write_nginx_log))], Settings(lang="ja"))


def test_findings_are_written_in_japanese(planted_ja: api.Report) -> None:
    codes = {f.code for f in planted_ja.findings}
    assert {"P004", "A001"} <= codes
    titles = {f.code: f.title for f in planted_ja.findings}
    assert "GET /reports/{id} が遅い" in titles["P004"]
    assert "の割合で失敗" in titles["A001"]
    assert all(JAPANESE.search(f.fix) for f in planted_ja.findings)
    assert language() == "en"  # analyze restores the caller's language


def test_json_keeps_english_keys_codes_and_names(
    write_nginx_log: Callable[[Iterable[Request], str], Path],
) -> None:
    log = str(_planted(write_nginx_log))
    english = json.loads(_run("analyze", log, "--output-format", "json", "--lang", "en")[1])
    japanese = json.loads(_run("analyze", log, "--output-format", "json", "--lang", "ja")[1])

    def shape(report: dict[str, object]) -> object:
        findings = report["findings"]
        assert isinstance(findings, list)
        return sorted(report), [
            (sorted(f), f["code"], f["name"], f["viewpoint"], f["severity"], sorted(f["evidence"]))
            for f in findings
        ]

    assert shape(english) == shape(japanese)
    assert not JAPANESE.search(json.dumps([f["title"] for f in english["findings"]]))
    assert all(JAPANESE.search(f["title"]) for f in japanese["findings"])


def test_terminal_report_in_japanese_fits_80_columns(planted_ja: api.Report) -> None:
    buffer = StringIO()
    with using_language("ja"):
        render_terminal(planted_ja, Console(file=buffer, width=80, color_system=None))
    text = buffer.getvalue()
    for heading in ("入力", "合計時間順のルート", "性能", "可用性", "修正方法:"):
        assert heading in text
    assert "GET /reports/{id} が遅い" in text
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    # Every row of a table is as wide as its border: wide characters count two cells.
    for border in (line for line in lines if line.startswith(("┏", "┡", "└"))):
        table_width = cell_len(border)
        start = lines.index(border)
        rows = [line for line in lines[start : start + 8] if line.startswith(("┃", "│"))]
        assert all(cell_len(row) == table_width for row in rows), rows


def test_markdown_report_in_japanese(planted_ja: api.Report) -> None:
    with using_language("ja"):
        text = render_markdown(planted_ja)
    assert text.startswith("# logtriage レポート")
    assert "## 検出結果（" in text
    assert "| # | 重大度 | コード | 観点 | 検出結果 | 場所 |" in text
    assert "- **修正方法:**" in text
    assert "GET /reports/\\{id\\} が遅い" in text or "GET /reports/{id} が遅い" in text


def test_html_report_in_japanese(planted_ja: api.Report) -> None:
    with using_language("ja"):
        html = render_html(planted_ja, api.rule_docs(), svg_renderer=lambda spec: "<svg></svg>")
    assert '<html lang="ja">' in html
    assert "<h2>検出結果</h2>" in html and "<h2>概要</h2>" in html
    assert "GET /reports/{id} が遅い" in html
    assert "<strong>修正方法.</strong>" in html  # rule docs: section titles in Japanese
    assert '"Noto Sans CJK JP"' in html  # the font stack names an installed CJK face


def test_english_stays_the_default(planted_ja: api.Report) -> None:
    assert language() == "en"
    assert _("Findings") == "Findings"
    html = render_html(planted_ja, (), svg_renderer=lambda spec: "<svg></svg>")
    assert '<html lang="en">' in html and "<h2>Findings</h2>" in html


def test_japanese_lines_break_between_characters_not_inside_words() -> None:
    text = "GET /reports/{id} の時間の 100% は upstream のアプリケーション内で使われています。"
    for width in (12, 20, 33):
        lines = fold(text, width, first_width=width - 5)
        assert cell_len(lines[0]) <= width - 5
        assert all(cell_len(line) <= width for line in lines)
        assert not any(line.startswith(("、", "。")) for line in lines)  # kinsoku
        assert any("upstream" in line for line in lines)  # a Latin word stays whole
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert fold("short", 80) == ["short"]
    assert not has_wide("plain English") and has_wide("検出結果")


def test_diff_in_japanese(tmp_path: Path, planted_ja: api.Report) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    _code, out, _err = _run("analyze", planted_ja.inputs[0].path, "--json", str(before))
    empty = tmp_path / "quiet.log"
    empty.write_text(Path(planted_ja.inputs[0].path).read_text().splitlines()[0] + "\n")
    _run("analyze", str(empty), "--json", str(after))
    code, out, _err = _run("diff", str(before), str(after), "--lang", "ja")
    assert code == 0
    assert "解消した検出結果" in out and "悪化はありません。" in out
    code, out, _err = _run(
        "diff", str(before), str(after), "--lang", "ja", "--output-format", "markdown"
    )
    assert "### 解消した検出結果" in out


def test_input_errors_in_japanese(tmp_path: Path) -> None:
    code, _out, err = _run("analyze", str(tmp_path / "missing.log"), "--lang", "ja")
    assert code == 2
    missing = tmp_path / "missing.log"
    assert (
        err.strip() == f"logtriage: エラー: そのようなファイルやディレクトリはありません: {missing}"
    )
    code, _out, err = _run("analyze", str(tmp_path), "--format", "nope", "--lang", "ja")
    assert code == 2 and "不明な形式 'nope' です。" in err


def test_diff_matches_findings_across_languages(
    tmp_path: Path, write_nginx_log: Callable[[Iterable[Request], str], Path]
) -> None:
    """A ja report diffed against an en one of the same logs: nothing new, nothing resolved.

    M001 has no route or fingerprint and a title in the report's language: two files with
    unreadable lines give two of them, told apart by the file their examples come from.
    """
    logs = [_planted(write_nginx_log)]
    for name in ("a.log", "b.log"):
        log = write_nginx_log([("GET", f"/x/{i}", 200, 0.01) for i in range(50)], name)
        log.write_text(log.read_text() + "not an access log line\n" * (3 if name == "a.log" else 5))
        logs.append(log)
    reports = {}
    for lang in ("en", "ja"):
        reports[lang] = tmp_path / f"{lang}.json"
        paths = [str(p) for p in logs]
        _run("analyze", *paths, "--json", str(reports[lang]), "--lang", lang, "-q")
    findings = json.loads(reports["ja"].read_text())["findings"]
    assert [f["code"] for f in findings].count("M001") == 2
    assert all(JAPANESE.search(f["title"]) for f in findings)
    _code, out, _err = _run(
        "diff", str(reports["en"]), str(reports["ja"]), "--output-format", "json"
    )
    result = json.loads(out)["findings"]
    assert result["appeared"] == [] and result["resolved"] == []
    assert len(result["persisting"]) == len(findings)


def _axis_titles(node: object) -> list[str]:
    """Every axis title of a Vega-Lite spec (the "title" of an x or y encoding)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("x", "y") and isinstance(value, dict) and value.get("title"):
                found.append(value["title"])
            found.extend(_axis_titles(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_axis_titles(item))
    return found


def test_chart_axes_and_labels_in_japanese() -> None:
    report = fixed_report()
    with using_language("ja"):
        charts = [*traffic_charts(report), route_time_chart(report), query_time_chart(report)]
        charts.extend(histogram_charts(report).values())
    specs = [c.spec for c in charts if c is not None]
    titles = {t for spec in specs for t in _axis_titles(spec)}
    assert titles - {"ms"} and all(JAPANESE.search(t) for t in titles - {"ms"}), titles
    assert "時刻 (UTC)" in titles
    notes = [v["note"] for spec in specs for v in spec["data"]["values"] if "note" in v]
    assert notes and all(JAPANESE.search(n) for n in notes), notes
    svg = vega_lite_svg(specs[0])  # the axis title is drawn inside the SVG itself
    assert "時刻 (UTC)" in svg and "time (UTC)" not in svg
    english = traffic_charts(report)[0].spec  # and English stays English
    assert "time (UTC)" in _axis_titles(english)


_JA_LOCALE = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ja_JP.UTF-8"}


def test_help_in_japanese_follows_the_default_language() -> None:
    """--help runs before --lang is read: the locale or LOGTRIAGE_LANG choose its language."""
    code, out, _err = _run("--help", env=_JA_LOCALE)
    assert code == 0
    for words in (
        "使い方: main",
        "オプション:",
        "コマンド:",
        "このメッセージを表示して終了します。",
    ):
        assert words in out, out
    assert "追記されるログを追跡し" in out  # a command's short help
    assert "Usage:" not in out and "Options:" not in out and "Show this" not in out
    english = {**_JA_LOCALE, "LANG": "C.UTF-8"}
    _code, out, _err = _run("watch", "--help", env={**english, "LOGTRIAGE_LANG": "ja"})
    assert "新しい行を読み込む間隔。  [既定値: 5s]" in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    _code, out, _err = _run("analyze", "--lang", "ja", "--help", env=english)
    assert "入力形式を指定します。" in out
    _code, out, _err = _run("analyze", "--help", env=english)
    assert "Usage: main analyze" in out and "Force the input format." in out
    assert "[default: text]" in out and not JAPANESE.search(out)


def test_every_help_text_has_a_japanese_translation() -> None:
    import inspect

    commands = [main, *main.commands.values()]  # type: ignore[attr-defined]
    texts = [c.help for c in commands] + [p.help for c in commands for p in c.params]
    texts += ["Show this message and exit.", "Show the version and exit."]
    with using_language("ja"):
        untranslated = [t for t in texts if t and not JAPANESE.search(_(inspect.cleandoc(t)))]
    assert untranslated == []


def test_logtriage_lang_sets_the_report_language() -> None:
    english = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
    _code, out, _err = _run("explain", "P004", env={**english, "LOGTRIAGE_LANG": "ja"})
    assert "修正方法" in out
    _code, out, _err = _run(
        "explain", "P004", "--lang", "en", env={**english, "LOGTRIAGE_LANG": "ja"}
    )
    assert "How to fix" in out
    code, _out, err = _run("explain", "P004", env={**english, "LOGTRIAGE_LANG": "fr"})
    assert code == 2 and err.strip().splitlines() == [
        "logtriage: error: LOGTRIAGE_LANG must be one of en, ja, not 'fr'"
    ]


def test_dashboard_in_japanese(tmp_path: Path) -> None:
    """serve --lang ja: every page, its charts, its notes and its error pages in Japanese."""
    from starlette.testclient import TestClient

    from logtriage.serve.app import create_app
    from tests.serve_history import build_state, write_logs
    from tests.test_serve import crawl

    saved = api.saved_analysis(str(build_state(tmp_path / "state", write_logs(tmp_path))))
    with using_language("ja"):  # the language where the dashboard is made (serve --lang ja)
        app = create_app(saved, api.rule_docs(), allowed_hosts=["testserver"])
    assert language() == "en"
    with TestClient(app) as client:
        pages = crawl(client)
        assert len(pages) > 5
        english = (
            "Findings by viewpoint",
            "Slowest requests",
            "Findings on this",
            "No request matches",
            "read-only",
            "Query shape",
            "Queries in time order",
            "time (UTC)",
            ">Filter<",
        )
        for url, page in pages.items():
            assert '<html lang="ja">' in page, url
            assert not [w for w in english if w in page], (url, [w for w in english if w in page])
        overview = client.get("/").text
        for words in ("観点別の検出結果", "読み取り専用", "時刻 (UTC)", "高"):
            assert words in overview
        missing = client.get("/routes/000000000000")
        assert (
            missing.status_code == 404 and "この履歴にそのようなルートはありません" in missing.text
        )
        bad = client.get("/routes?status=abc")
        assert bad.status_code == 400 and "を解釈できません" in bad.text
    with TestClient(create_app(saved, (), allowed_hosts=["testserver"])) as client:
        assert "Findings by viewpoint" in client.get("/").text  # English stays the default


def test_watch_alerts_in_japanese(tmp_path: Path) -> None:
    import threading

    from tests.test_watch_cli import _write_failures

    log = tmp_path / "access.log"
    log.write_text("")
    alerts = tmp_path / "alerts.jsonl"
    writer = threading.Thread(target=_write_failures, args=(log, 0.6))
    writer.start()
    args = ["watch", str(log), "--interval", "300ms", "--window", "1m", "--duration", "3s"]
    args += ["--threshold", "route-5xx=10%", "--alert-jsonl", str(alerts), "--lang", "ja"]
    code, out, err = _run(*args)
    writer.join()
    assert code == 0, err
    line = next(line for line in out.splitlines() if "直近 1m で" in line)  # route-5xx
    assert " 発生 A001 高 GET /pay/{id} は直近 1m で 33.3% が 5xx でした" in line
    assert "FIRING" not in out
    fired = [json.loads(r) for r in alerts.read_text().splitlines()]
    record = next(r for r in fired if r["rule"] == "route-5xx")
    assert record["state"] == "firing" and record["severity"] == "high"  # JSON: English codes
    assert JAPANESE.search(record["title"]) and JAPANESE.search(record["fix"])
    code, _out, err = _run("watch", str(log), "--interval", "soon", "--lang", "ja")
    assert code == 2 and err.count("\n") == 1
    assert "--interval の値 'soon' を解釈できません" in err


def test_slack_message_in_japanese() -> None:
    from logtriage.model.alert import Alert, AlertState, Condition
    from logtriage.model.finding import Severity
    from logtriage.report.alert_sinks import slack_payload

    condition = Condition("k", "route-5xx", "A001", "error-prone-route", Severity.HIGH, "t", "f")
    with using_language("ja"):
        payload = slack_payload(Alert(AlertState.RESOLVED, condition, "12:00", "11:00"))
    text = json.dumps(payload, ensure_ascii=False)
    assert "解消 A001" in text and "(高)" in text and "11:00 から" in text and "*修正方法:*" in text


def test_spark_engine_errors_in_japanese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no java there: Spark is never started
    log = ROOT / "examples" / "nginx" / "access.log"
    code, _out, err = _run("analyze", str(log), "--engine", "spark", "--lang", "ja")
    assert code == 2 and err.count("\n") == 1
    assert "--engine spark には Java 17 以降が必要です (java が見つかりません。" in err


def test_evidence_codes_read_as_names_and_json_keeps_the_codes(planted_ja: api.Report) -> None:
    """Codes an analyzer puts in evidence (A003 kind, S002 kinds, A002 signal, O001 method):
    JSON keeps the code, a Japanese report shows the name; values from logs stay as they are."""
    import dataclasses

    from logtriage.model.finding import Finding, Severity

    evidence = {
        "kind": "lock_timeout",
        "kinds": {"sqli": 3, "probe_path": 1},
        "errors": {"http": 4, "db": 2},
        "concurrency": {"peak": 5, "method": "sweep over request start and end"},
        "ending_mid_token": True,
        "first": None,
        "message": "lock_timeout",  # log text, not a code: never translated
    }
    finding = Finding("A003", "database-errors", Severity.HIGH, 0.5, "t", "f", evidence)
    report = dataclasses.replace(planted_ja, findings=(finding,))
    assert finding.to_json()["evidence"]["kind"] == "lock_timeout"
    with using_language("ja"):
        buffer = StringIO()
        console = Console(file=buffer, width=400, color_system=None)
        render_terminal(report, console, verbose=True)
        html = render_html(report, (), svg_renderer=lambda spec: "<svg></svg>")
    terminal = buffer.getvalue()
    for shown in (terminal, html):
        assert "ロックタイムアウト" in shown and "SQL インジェクション" in shown
        assert "探索パス" in shown and "データベース" in shown
        assert "リクエストの開始と終了を走査して算出" in shown
    assert "=はい" in terminal and "=-" in terminal and "True" not in terminal
    assert "メッセージ=lock_timeout" in terminal
    buffer = StringIO()
    render_terminal(report, Console(file=buffer, width=400, color_system=None))
    assert "kind=lock_timeout" in buffer.getvalue()  # English shows the JSON's own values


def test_serve_errors_in_japanese(tmp_path: Path) -> None:
    code, _out, err = _run("serve", str(tmp_path / "nope"), "--lang", "ja")
    assert code == 2 and err.count("\n") == 1
    assert "そのような状態ディレクトリまたはレポートはありません" in err
    code, _out, err = _run("serve", str(tmp_path), "--lang", "ja")
    assert code == 2 and "先に analyze --state" in err
