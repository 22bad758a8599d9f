"""Real PostgreSQL servers logging in Japanese, German and English tell the same story.

Three private clusters (``lc_messages`` = ``ja_JP.UTF-8``, ``de_DE.UTF-8`` and ``C``; Debian's
``locales-all``) run the same workload of ``postgres_server``. For each log destination
(stderr, csvlog, jsonlog) the three reports must agree: the same queries and fingerprints, each
timed, the same errors (in English), the same database events and the same findings. Durations
are the servers' own measurements, so they agree in count and in the planned timeouts, not to
the microsecond.
"""

from __future__ import annotations

import locale
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings
from tests.loaded_tables import load_tables

from .postgres_server import capture, require_postgres

pytestmark = pytest.mark.e2e

LANGS = {"ja": "ja_JP.UTF-8", "de": "de_DE.UTF-8", "en": "C"}
DESTINATIONS = ("stderr", "csvlog", "jsonlog")
PREFIX = "%m [%p] %q%u@%d "


def _has_locale(name: str) -> bool:
    try:
        locale.setlocale(locale.LC_MESSAGES, name)
    except locale.Error:
        return False
    finally:
        locale.setlocale(locale.LC_MESSAGES, "C")
    return True


@pytest.fixture(name="captures", scope="module")
def _captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    require_postgres()
    missing = [v for v in LANGS.values() if v != "C" and not _has_locale(v)]
    if missing:
        pytest.fail(
            f"locales {missing} are not installed: run `make system` (locales-all)", pytrace=False
        )
    logs: dict[str, dict[str, Path]] = {}
    for lang, setting in LANGS.items():
        settings = {"lc_messages": setting, "log_line_prefix": PREFIX}
        logs[lang], _ = capture(settings, tmp_path_factory.mktemp(f"pg-{lang}"))
    return logs


def _story(path: Path) -> dict[str, Any]:
    """What a report says about one log, without the times and durations measured."""
    loaded = load_tables(str(path))
    report = api.analyze([str(path)], Settings())
    events = loaded.db_events
    return {
        "rejects": loaded.rejects,
        # The workload's lock-wait probe polls pg_locks as often as timing needs: left out.
        "queries": Counter(
            q["fingerprint"] for q in report_queries(report) if "pg_locks" not in q["fingerprint"]
        ),
        "untimed": [q["sql"] for q in loaded.queries if q["duration_ms"] is None],
        "errors": Counter(
            (e["kind"], e["message"], e["statement"]) for e in events if e["level"] == "ERROR"
        ),
        "kinds": {k for k in Counter(e["kind"] for e in events)},
        # Three servers never run the workload with the same timing: performance findings
        # (shares of database time, bursts by pauses) and time-shape ones (gaps) may cross
        # their thresholds on one server and not another. What the language could change —
        # errors, events, unread lines, missing fields — must agree exactly.
        "findings": sorted(
            {(f.code, f.name, f.fingerprint or "")
             for f in report.findings if f.code[0] != "P" and f.code not in ("M004", "M006")}
        ),
        "timeouts_ms": sorted(
            round(q["duration_ms"] / 100) for q in loaded.queries if "pg_sleep" in (q["sql"] or "")
        ),
    }  # fmt: skip


def report_queries(report: Any) -> list[dict[str, Any]]:
    """The report's query rows (fingerprint and count) as the JSON report has them."""
    rows: list[dict[str, Any]] = []
    for q in report.to_json()["queries"]:
        rows += [q] * int(q["count"])
    return rows


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_japanese_german_and_english_reports_agree(
    captures: dict[str, dict[str, Path]], destination: str
) -> None:
    stories = {lang: _story(captures[lang][destination]) for lang in LANGS}
    english = stories["en"]
    assert english["rejects"] == []
    assert sum(english["queries"].values()) >= 20
    assert len(english["errors"]) == 4  # missing table, statement timeout, lock timeout, deadlock
    kinds = {k for k, _, _ in english["errors"]}
    assert {"deadlock", "lock_timeout", "statement_timeout"} <= kinds
    for lang in ("ja", "de"):
        text = captures[lang][destination].read_text(encoding="utf-8")
        assert "duration:" not in text  # the server really wrote its own language
        for key, value in english.items():
            assert stories[lang][key] == value, f"{lang} {destination}: {key} differs"
