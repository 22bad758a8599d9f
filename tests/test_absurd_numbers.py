"""Numbers no server writes (a corrupt or crafted line) are rejected or left out, never a crash.

Log content is attacker-controlled: a duration of 10^26 once overflowed the engine's time
arithmetic and stopped the whole run with an internal error.
"""

from __future__ import annotations

from pathlib import Path

from logtriage import api

HUGE = "99999999999999999999999999"


def test_a_w3c_time_taken_beyond_reason_gives_no_start_time(tmp_path: Path) -> None:
    path = tmp_path / "u_ex240101.log"
    path.write_text(
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
        f"2024-01-01 00:00:01 10.0.0.1 GET /a - 80 - 1.2.3.4 ua - 200 0 0 {HUGE}\n"
        "2024-01-01 00:00:02 10.0.0.1 GET /b - 80 - 1.2.3.4 ua - 200 0 0 15\n"
    )
    summary, rows, _ = api.records(str(path))
    assert summary.format == "w3c"
    assert [(r["path"], r["ts"] is None) for r in rows] == [("/a", True), ("/b", False)]
    assert rows[1]["duration_ms"] == 15.0


def test_an_otlp_span_starting_after_2262_is_a_counted_rejection(tmp_path: Path) -> None:
    span = (
        '{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",'
        '"name":"GET /","kind":2,"startTimeUnixNano":"%s","endTimeUnixNano":"%s"}'
    )
    spans = ",".join([span % (HUGE, HUGE), span % ("1704067200000000000", "1704067200005000000")])
    path = tmp_path / "traces.jsonl"
    document = '{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[SPANS]}]}]}\n'
    path.write_text(document.replace("SPANS", spans))
    summary, rows, rejects = api.records(str(path))
    assert summary.format == "otlp_json"
    assert len(rows) == 1 and rows[0]["duration_ms"] == 5.0
    assert [r["reason"] for r in rejects] == ["startTimeUnixNano out of range"]


def test_a_time_in_year_99999_is_a_counted_rejection_and_the_run_completes(
    tmp_path: Path,
) -> None:
    # The engine keeps such a time, but Python's datetime cannot hold it: A002 failed on it.
    path = tmp_path / "app.jsonl"
    path.write_text(
        '{"time":"99999-01-01T00:00:00Z","level":"error","msg":"far"}\n'
        + "".join(
            f'{{"time":"2024-01-01T00:00:{s:02d}Z","level":"error","msg":"near"}}\n'
            for s in range(3)
        )
    )
    summary, _, rejects = api.records(str(path))
    assert (summary.records, summary.rejected) == (3, 1)
    assert [(r["line"], r["reason"]) for r in rejects] == [(1, "time out of range")]
    result = api.analyze([str(path)])
    assert result.inputs[0].rejected == 1
