"""A log whose format changed mid-file is read with both variants, and the gap is reported."""

from __future__ import annotations

import json
from pathlib import Path

from logtriage import api
from logtriage.report.json_report import render_json

OLD = '10.0.0.{i} - - [24/Nov/2026:09:00:{s:02d} +0000] "GET /items/{i} HTTP/1.1" 200 10 "-" "ua"'
NEW = (
    '10.0.0.{i} - - [24/Nov/2026:10:00:{s:02d} +0000] "GET /items/{i} HTTP/1.1" 200 10 "-" "ua" '
    "0.250 0.249"
)


def test_both_variants_are_read_and_partial_latency_is_m002(tmp_path: Path) -> None:
    lines = [OLD.format(i=i, s=i) for i in range(20)] + [NEW.format(i=i, s=i) for i in range(40)]
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    report = json.loads(render_json(api.analyze([str(path)])))
    item = report["inputs"][0]
    assert item["records"] == 60
    assert item["rejected"] == 0
    assert "combined (20 lines)" in item["variant"]
    m002 = [f for f in report["findings"] if f["code"] == "M002"]
    assert len(m002) == 1
    assert m002[0]["evidence"]["records_without_field"] == 20
    assert "$request_time" in m002[0]["fix"]
    assert not any(f["code"] == "M001" for f in report["findings"])


def test_garbage_lines_stay_rejected(tmp_path: Path) -> None:
    lines = [NEW.format(i=i, s=i) for i in range(30)] + ["not a log line"] * 3
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    summary, rows, rejects = api.records(str(path))
    assert len(rows) == 30
    assert [r["line"] for r in rejects] == [31, 32, 33]
    assert summary.variant == "combined+timing"
