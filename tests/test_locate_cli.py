"""``analyze --source``: findings from real-format logs point at the fixture app's lines."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from logtriage.cli import main

FLASK_APP = Path(__file__).parent / "cases" / "locate" / "flask_sqlalchemy"


def _logs(tmp_path: Path) -> tuple[Path, Path]:
    """Three ``GET /api/articles`` requests, each running one query on authors per article."""
    access, database = [], []
    for n, second in enumerate((1, 11, 21)):
        access.append(
            f'127.0.0.1 - - [24/Nov/2026:10:00:{second:02d} +0000] "GET /api/articles HTTP/1.1" '
            f'200 512 "-" "curl/8.5.0" 0.900 0.899'
        )
        pid = 4000 + n
        start = second - 1
        database.append(
            f"2026-11-24 10:00:{start:02d}.200 UTC [{pid}] LOG:  duration: 0.400 ms  statement: "
            "SELECT articles.id, articles.title FROM articles ORDER BY articles.id DESC LIMIT 50"
        )
        for i in range(8 + n):
            database.append(
                f"2026-11-24 10:00:{start:02d}.{300 + 10 * i:03d} UTC [{pid}] LOG:  duration: "
                f"0.150 ms  statement: SELECT authors.id, authors.name FROM authors "
                f"WHERE authors.id = {i + 1}"
            )
    access_log = tmp_path / "access.log"
    access_log.write_text("\n".join(access) + "\n")
    db_log = tmp_path / "postgresql.log"
    db_log.write_text("\n".join(database) + "\n")
    return access_log, db_log


def test_source_flag_points_the_n_plus_one_at_the_loop(tmp_path: Path) -> None:
    access_log, db_log = _logs(tmp_path)
    runner = CliRunner()
    args = ["analyze", str(access_log), str(db_log), "--source", str(FLASK_APP)]
    result = runner.invoke(main, [*args, "--output-format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    schema = resources.files("logtriage.report").joinpath("schema/report.schema.json")
    jsonschema.validate(report, json.loads(schema.read_text()))
    n1 = [f for f in report["findings"] if f["code"] == "P001"]
    assert [f["route"] for f in n1] == ["GET /api/articles"]
    views = (FLASK_APP / "shop" / "views.py").read_text().splitlines()
    loop = next(i for i, t in enumerate(views, 1) if "expect: P001 authors" in t)
    first = n1[0]["location"][0]
    assert (first["path"], first["line"], first["how"]) == ("shop/views.py", loop, "source-scan")
    assert "selectinload(Article.author)" in n1[0]["fix"]
    # A few lines of the code around it, from the source tree.
    assert first["snippet"]["start_line"] == loop - 2
    assert first["snippet"]["text"].splitlines() == views[loop - 3 : loop + 2]
    assert report["source_scan"]["routes"] >= 5
    # The terminal shows the same location.
    text = runner.invoke(main, args)
    assert text.exit_code == 0
    assert f"location: shop/views.py:{loop} (source-scan)" in text.stdout


def test_a_missing_source_directory_is_one_line_error(tmp_path: Path) -> None:
    access_log, _ = _logs(tmp_path)
    result = CliRunner().invoke(
        main, ["analyze", str(access_log), "--source", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "nowhere" in result.output


def test_a_source_setting_in_the_config_file_is_checked(tmp_path: Path) -> None:
    access_log, _ = _logs(tmp_path)
    config = tmp_path / "logtriage.toml"
    config.write_text('source = "no/such/dir"\n')
    result = CliRunner().invoke(main, ["analyze", str(access_log), "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "logtriage: error: source directory not found: no/such/dir"
