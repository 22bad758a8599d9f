"""Locations from evidence in the logs: SQL comment tags and stack traces in app logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from logtriage.config import Settings
from logtriage.engine.correlate import CORRELATIONS_SQL
from logtriage.engine.database import Database
from logtriage.locate import LocateOptions, locate_findings
from logtriage.locate.comment_tags import read_site
from logtriage.locate.source_tree import SourceTree
from logtriage.locate.stack_traces import own_frame, parse_frames
from logtriage.model.finding import Finding, Severity

STACKS = Path(__file__).parent / "cases" / "locate" / "stacks"
LANGUAGES = ("python", "java", "ruby", "node", "php", "go")


def _marker(root: Path) -> tuple[str, int]:
    """The app file and line marked ``expect: own frame`` (the frame that must be chosen)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for number, text in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"expect: own frame", text):
                return path.relative_to(root).as_posix(), number
    raise AssertionError(f"no marker under {root}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_real_stack_reduces_to_the_apps_own_frame(language: str) -> None:
    """Traces captured from real runs (capture.sh): the innermost frame outside libraries."""
    stack = (STACKS / f"{language}.stack").read_text()
    root = STACKS / language
    rel, line = _marker(root)
    frames = parse_frames(stack)
    assert len(frames) >= 2
    # Without a source tree: library paths and packages are recognised as such.
    frame = own_frame(frames, None)
    assert frame is not None
    assert frame.path.endswith(rel.split("/java/")[-1]), frame
    assert frame.line == line
    # With the source tree: the deploy prefix (/tmp/…/releases/42/<lang>/) is stripped.
    tree = SourceTree.open(str(root))
    frame = own_frame(frames, tree.resolve)
    assert frame is not None and (frame.path, frame.line) == (rel, line)


def test_frames_are_innermost_first_and_python_chains_keep_order() -> None:
    stack = (STACKS / "python.stack").read_text()
    frames = parse_frames(stack)
    assert [f.path.rsplit("/", 2)[-2] for f in frames] == ["orm", "app", "framework"]
    assert frames[1].function == "show_order"


def test_a_stack_with_only_library_frames_names_nothing() -> None:
    stack = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner\n'
        '  File "/srv/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 9, in run\n'
        "TimeoutError: worker timeout\n"
    )
    assert own_frame(parse_frames(stack), None) is None
    assert parse_frames("no stack at all\njust words") == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # sqlcommenter with OpenTelemetry code attributes (old and new names)
        ({"code.filepath": "/app/shop/views.py", "code.lineno": "57"}, ("/app/shop/views.py", 57)),
        ({"code.file.path": "shop/views.py", "code.line.number": "9"}, ("shop/views.py", 9)),
        # sqlcommenter-style file/line pair, and file:line in one value
        ({"file": "app/views.py", "line": "12"}, ("app/views.py", 12)),
        ({"file": "app/views.py:31"}, ("app/views.py", 31)),
        # Rails 7.2 QueryLogs source_location, marginalia line
        ({"source_location": "app/models/post.rb:12:in 'recent'"}, ("app/models/post.rb", 12)),
        ({"line": "/srv/app/releases/9/app/controllers/posts_controller.rb:5:in `index'"},
         ("/srv/app/releases/9/app/controllers/posts_controller.rb", 5)),
        # pt-query-digest embedded attributes
        ({"file": "/login.php", "line": "493"}, ("/login.php", 493)),
    ],
)  # fmt: skip
def test_location_tags_are_read(tags: dict[str, str], expected: tuple[str, int]) -> None:
    site = read_site(tags)
    assert site is not None and (site.path, site.line) == expected


def test_tags_without_a_location_name_none_or_only_a_handler() -> None:
    assert read_site({"traceparent": "00-abc-def-01", "framework": "django:4.2"}) is None
    assert read_site({"line": "not a place"}) is None
    site = read_site({"controller": "posts", "action": "index", "application": "Blog"})
    assert site is not None and (site.controller, site.action, site.path) == (
        "posts",
        "index",
        None,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(Settings(), str(tmp_path))
    yield database
    database.close()


FP = "select * from authors where authors.id = ?"


def _finding(code: str, route: str | None, fingerprint: str | None) -> Finding:
    return Finding(
        code=code, name="x", severity=Severity.HIGH, score=0.5, title="t",
        fix="Load the rows with their parents.", route=route, fingerprint=fingerprint,
    )  # fmt: skip


def _add_query(db: Database, line: int, tags: dict[str, str], fingerprint: str = FP) -> None:
    db.execute(
        "INSERT INTO queries (ts, duration_ms, sql, fingerprint, tags, source, line) "
        "VALUES (TIMESTAMP '2026-01-01 10:00:00', 1.0, 'x', ?, MAP(?::VARCHAR[], ?::VARCHAR[]), "
        "'pg.log', ?)",
        [fingerprint, list(tags), list(tags.values()), line],
    )


def test_comment_tags_rank_sites_by_frequency_and_strip_deploy_prefixes(
    db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    (source / "shop").mkdir(parents=True)
    (source / "shop" / "views.py").write_text("x = 1\n")
    for i in range(5):  # the loop's line, five times, with a unique traceparent each
        tag = {"file": "/srv/shop/releases/42/shop/views.py", "line": "57", "traceparent": f"{i}"}
        _add_query(db, 10 + i, tag)
    _add_query(db, 20, {"file": "/srv/shop/releases/42/shop/other.py", "line": "3"})
    _add_query(db, 21, {"file": "elsewhere.py", "line": "1"}, fingerprint="select 1")
    found = locate_findings([_finding("P005", None, FP)], db, LocateOptions(source=str(source)))
    locations = found.findings[0].location
    assert [(loc.path, loc.line, loc.how) for loc in locations] == [
        ("shop/views.py", 57, "comment-tag"),
        ("/srv/shop/releases/42/shop/other.py", 3, "comment-tag"),
    ]
    # A path that is not under --source keeps its logged form, with less confidence.
    assert locations[0].confidence > locations[1].confidence


def test_p001_fix_names_the_tagged_line_without_a_source_tree(db: Database) -> None:
    _add_query(db, 1, {"source_location": "app/views/posts.rb:12:in 'index'"})
    found = locate_findings([_finding("P001", None, FP)], db, LocateOptions())
    finding = found.findings[0]
    assert finding.location[0].path == "app/views/posts.rb"
    assert "app/views/posts.rb:12" in finding.fix
    assert found.stats == {}


def test_stack_traces_of_a_routes_requests_point_at_the_app(db: Database) -> None:
    db.execute(
        "INSERT INTO requests (ts, duration_ms, method, path, route, status, source, line) VALUES "
        "(TIMESTAMP '2026-01-01 10:00:00', 30, 'GET', '/orders/7', 'GET /orders/{id}', 500, "
        "'access.log', 1)"
    )
    python = (STACKS / "python.stack").read_text()
    for line in (1, 2, 3):
        db.execute(
            "INSERT INTO app_events (ts, level, message, stack, source, line) VALUES "
            "(TIMESTAMP '2026-01-01 10:00:00.010', 'ERROR', 'boom', ?, 'app.log', ?)",
            [python, line],
        )
    # Tied by request id for two of them; the engine's correlations table says so.
    db.execute(CORRELATIONS_SQL)
    db.execute(
        "INSERT INTO correlations VALUES ('app_event', 'app.log', 1, 'access.log', 1, "
        "'request_id', 1.0), ('app_event', 'app.log', 2, 'access.log', 1, 'request_id', 1.0)"
    )
    found = locate_findings(
        [_finding("A001", "GET /orders/{id}", None)],
        db,
        LocateOptions(source=str(STACKS / "python")),
    )
    locations = found.findings[0].location
    assert [(loc.path, loc.line, loc.how) for loc in locations] == [
        ("app/views.py", 5, "stack-trace")
    ]
    assert locations[0].confidence == pytest.approx(0.8)


def test_stack_traces_by_time_when_nothing_ties_them(db: Database) -> None:
    db.execute(
        "INSERT INTO requests (ts, duration_ms, method, path, route, status, source, line) VALUES "
        "(TIMESTAMP '2026-01-01 10:00:00', 30, 'GET', '/orders/7', 'GET /orders/{id}', 500, "
        "'access.log', 1)"
    )
    ruby = (STACKS / "ruby.stack").read_text()
    db.execute(
        "INSERT INTO app_events (ts, level, message, stack, source, line) VALUES "
        "(TIMESTAMP '2026-01-01 10:00:00.020', 'ERROR', 'boom', ?, 'app.log', 1), "
        "(TIMESTAMP '2026-01-01 11:00:00', 'ERROR', 'later', ?, 'app.log', 2)",
        [ruby, (STACKS / "python.stack").read_text()],
    )
    found = locate_findings([_finding("A001", "GET /orders/{id}", None)], db, LocateOptions())
    paths = [loc.path for loc in found.findings[0].location]
    assert paths == ["/tmp/logtriage-deploy/releases/42/ruby/app/controllers/orders_controller.rb"]


def test_findings_about_nothing_in_code_are_left_alone(db: Database) -> None:
    finding = _finding("M001", None, None)
    found = locate_findings([finding], db, LocateOptions(source=str(STACKS / "python")))
    assert found.findings == [finding]


def test_snippets_come_only_from_the_source_tree_and_are_redacted(
    db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    code = ["import db", "", 'TOKEN = "AKIAIOSFODNN7EXAMPLE"', "rows = db.run(TOKEN)", "", "x = 1"]
    (source / "jobs.py").write_text("\n".join(code) + "\n")
    _add_query(db, 1, {"file": "/deploy/jobs.py", "line": "4"})
    # A log may name any path: nothing outside --source is ever read.
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    _add_query(db, 2, {"file": str(outside), "line": "1"})
    _add_query(db, 3, {"file": "src/../outside.py", "line": "1"})
    found = locate_findings([_finding("P005", None, FP)], db, LocateOptions(source=str(source)))
    by_path = {loc.path: loc for loc in found.findings[0].location}
    assert by_path["jobs.py"].snippet_start == 2
    snippet = by_path["jobs.py"].snippet or ""
    assert snippet.splitlines()[2:] == ["rows = db.run(TOKEN)", "", "x = 1"]
    assert "AKIAIOSFODNN7EXAMPLE" not in snippet and "[REDACTED]" in snippet
    assert by_path[str(outside)].snippet is None
    assert by_path["src/../outside.py"].snippet is None


def _def_line(path: Path, name: str) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if f"def {name}" in t)


@pytest.mark.parametrize(
    ("framework", "tags", "path", "function"),
    [
        # marginalia's default components / Rails QueryLogs :legacy
        ("rails", {"controller": "articles", "action": "stats", "application": "Blog"},
         "app/controllers/articles_controller.rb", "stats"),
        ("rails", {"namespaced_controller": "admin/reports", "action": "index"},
         "app/controllers/admin/reports_controller.rb", "index"),
        # sqlcommenter's Django middleware: controller is the view's name
        ("django", {"controller": "entry_list", "framework": "django%3A4.2"},
         "blog/views.py", "entry_list"),
    ],
)  # fmt: skip
def test_controller_tags_name_the_handler_under_source(
    db: Database, framework: str, tags: dict[str, str], path: str, function: str
) -> None:
    root = Path(__file__).parent / "cases" / "locate" / framework
    _add_query(db, 1, tags)
    found = locate_findings([_finding("P005", None, FP)], db, LocateOptions(source=str(root)))
    first = found.findings[0].location[0]
    assert (first.path, first.line, first.how) == (
        path,
        _def_line(root / path, function),
        "comment-tag",
    )


APP_LOG_CASES = Path(__file__).parent / "cases" / "sources"
CAPTURED_APPS = Path(__file__).parents[1] / "scripts" / "capture_app_logs"


def _own_frames(log: Path, strict: bool = True) -> set[tuple[str, int | None, str | None]]:
    from logtriage import api

    _, rows, _ = api.records(str(log), Settings())
    out = set()
    for row in rows:
        if row.get("stack"):
            frame = own_frame(parse_frames(str(row["stack"])), None)
            assert frame is not None or not strict, row["stack"][:300]
            if frame is not None:
                out.add((Path(frame.path).name, frame.line, frame.function))
    return out


@pytest.mark.parametrize(
    ("family", "logs"),
    [
        ("python", ["app_json/ecs_logging", "app_json/python_json_logger",
                    "app_json/structlog_dict_tracebacks", "app_json/structlog_gunicorn",
                    "app_text/gunicorn_basic_format", "app_text/gunicorn_python_cookbook"]),
        ("java", ["app_json/logstash_logback_encoder", "app_text/logback_pattern"]),
        ("node", ["app_json/pino", "app_json/bunyan"]),
    ],
)  # fmt: skip
def test_app_logs_of_every_style_agree_on_the_apps_frames(family: str, logs: list[str]) -> None:
    """Real app logs (the app-log readers' captured cases): one program logged in several
    styles — text tracebacks, JSON exception fields, structlog's dict tracebacks — must give
    the same frames of the program's own code."""
    frames = [_own_frames(APP_LOG_CASES / f"{name}.log") for name in logs]
    assert frames[0], f"no stack in {logs[0]}"
    assert all(f == frames[0] for f in frames), dict(zip(logs, frames, strict=True))
    assert {name for name, _, _ in frames[0]} <= {p.name for p in CAPTURED_APPS.iterdir()}


def test_rails_tagged_backtraces_skip_gems_and_tags() -> None:
    # A RoutingError has no frame at all: it names nothing rather than a gem.
    frames = _own_frames(APP_LOG_CASES / "app_text" / "rails_tagged.log", strict=False)
    assert {name for name, _, _ in frames} == {"rails_app.rb"}
