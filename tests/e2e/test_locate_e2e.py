"""Issue 6 end to end: the shop's planted N+1 is located to its file and line from real logs.

The shop (tests/e2e/shop, Flask + SQLAlchemy under gunicorn, behind a real nginx, on a real
PostgreSQL) runs its traffic twice: with sqlcommenter tags that carry the app's ``file``/``line``
(the location comes from the database log alone), and with tags off (the location comes from
scanning ``--source``). Both must name the line of the loop that touches ``article.author``.
"""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.report.json_report import render_json

from .test_correlation_e2e import SHOP, Capture, _capture

pytestmark = pytest.mark.e2e

APP = SHOP / "app.py"


def _loop_line() -> int:
    """The line of the comprehension in ``articles()`` that reads ``a.author``."""
    tree = ast.parse(APP.read_text())
    handler = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "articles"
    )
    loops = [
        n
        for n in ast.walk(handler)
        if isinstance(n, ast.ListComp)
        and any(isinstance(a, ast.Attribute) and a.attr == "author" for a in ast.walk(n))
    ]
    assert len(loops) == 1
    return loops[0].lineno


@pytest.fixture(scope="module", params=[True, False], ids=["tags", "no-tags"])
def capture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Capture:
    tags: bool = request.param
    return _capture("postgresql", tags, tmp_path_factory.mktemp(f"locate-{tags}"))


def _analyze(capture: Capture, source: Path | None) -> dict[str, Any]:
    settings = Settings(
        since=capture.started - timedelta(seconds=1), source=str(source) if source else None
    )
    report = api.analyze([str(capture.access_log), str(capture.db_log)], settings)
    data: dict[str, Any] = json.loads(render_json(report))
    return data


def _n_plus_one(report: dict[str, Any]) -> dict[str, Any]:
    # Only the route's N+1 matters here (test_correlation_e2e checks that it is the only one;
    # the seeding's inserts can leak in when gunicorn starts within a second of them).
    found = [f for f in report["findings"] if f["code"] == "P001"]
    on_route = [f for f in found if f.get("route") == "GET /articles"]
    assert len(on_route) == 1, [f["title"] for f in found]
    return on_route[0]


def test_the_n_plus_one_points_at_its_loop_with_the_source_tree(capture: Capture) -> None:
    report = _analyze(capture, SHOP)
    finding = _n_plus_one(report)
    first = finding["location"][0]
    assert (first["path"], first["line"]) == ("app.py", _loop_line()), finding["location"]
    # With tags, the database log already says where; the scan agrees.
    assert first["how"] == ("comment-tag" if _has_tags(capture) else "source-scan")
    assert first["confidence"] >= 0.9
    assert f"app.py:{_loop_line()}" in finding["fix"]
    assert "selectinload(Article.author)" in finding["fix"]
    assert report["source_scan"]["files"] >= 2
    assert report["source_scan"]["routes"] >= 4


def test_comment_tags_alone_name_the_line(capture: Capture) -> None:
    if not _has_tags(capture):
        pytest.skip("this run has no SQL comment tags: only --source can locate it")
    finding = _n_plus_one(_analyze(capture, None))
    first = finding["location"][0]
    assert first["how"] == "comment-tag"
    # Without --source the path is the one the app ran from.
    assert Path(first["path"]).resolve() == APP.resolve()
    assert first["line"] == _loop_line()


def _has_tags(capture: Capture) -> bool:
    return "/*" in capture.db_log.read_text(errors="replace")
