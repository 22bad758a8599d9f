"""Docker json-file and Kubernetes CRI records: unwrapped, pieces joined, inner lines sniffed."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from logtriage import api
from logtriage.sources.container_wrappers import detect, unwrap_sample

ACCESS = (
    '127.0.0.1 - - [25/Nov/2026:16:06:11 +0000] "GET /a?x={n} HTTP/1.1" 200 12 "-" "curl/8.5.0"'
)


def _docker(log: str, stream: str = "stdout", second: int = 0) -> str:
    time = f"2026-11-25T16:06:{second:02d}.123456789Z"
    return json.dumps({"log": log, "stream": stream, "time": time})


def test_docker_pieces_join_per_stream_and_keep_the_first_physical_line(tmp_path: Path) -> None:
    long_query = "q" * 40000
    line = ACCESS.replace("x={n}", f"x={long_query}")
    pieces = [line[:16384], line[16384:32768], line[32768:] + "\n"]
    records = [
        _docker(ACCESS.format(n=1) + "\n"),
        _docker(pieces[0]),
        # stderr between the pieces of a stdout line does not break it.
        _docker("stderr noise\n", stream="stderr"),
        _docker(pieces[1]),
        _docker(pieces[2]),
        _docker(ACCESS.format(n=2) + "\n"),
    ]
    log = tmp_path / "container.log"
    log.write_text("\n".join(records) + "\n")
    summary, rows, rejects = api.records(str(log))
    assert summary.format == "nginx"
    assert summary.variant.startswith("docker: ")
    assert [r["line"] for r in rows] == [1, 2, 6]
    assert rows[1]["query"] == f"x={long_query}"
    assert [r["line"] for r in rejects] == [3]
    # Every physical line is a record, a rejection, or a piece joined into a record.
    assert summary.records + summary.rejected + summary.skipped == summary.lines == 6


def test_cri_partial_lines_and_the_runtime_time_fills_a_missing_one(tmp_path: Path) -> None:
    log = tmp_path / "pod.log"
    log.write_text(
        '2026-11-25T16:06:11.000000001Z stdout P level=info msg="split ac\n'
        "2026-11-25T16:06:11.000000002Z stderr F level=error msg=other\n"
        '2026-11-25T16:06:11.000000003Z stdout F ross pieces" request_id=r1\n'
        "2026-11-25T16:06:12.5+02:00 stdout F level=warning msg=shifted\n"
    )
    summary, rows, rejects = api.records(str(log))
    assert (summary.format, rejects) == ("logfmt", [])
    assert [(r["line"], r["message"]) for r in rows] == [
        (1, "split across pieces"),
        (2, "other"),
        (4, "shifted"),
    ]
    assert rows[0]["request_id"] == "r1"
    assert [r["ts"].isoformat() for r in rows] == [
        "2026-11-25T16:06:11",
        "2026-11-25T16:06:11",
        "2026-11-25T14:06:12.500000",
    ]


def test_plain_logs_and_json_app_logs_are_not_taken_for_wrappers() -> None:
    cases = Path(__file__).parent / "cases" / "sources"
    for log in sorted(cases.glob("*/*.log")):
        # Cases saved with a wrapper say so in their expected variant (``cloudwatch: mysql``).
        meta = log.with_suffix(".toml")
        variant = tomllib.loads(meta.read_text()).get("expect_variant", "") if meta.exists() else ""
        if log.parent.name == "container_wrappers" or ": " in variant:
            continue
        assert detect(log.read_text(errors="replace").splitlines()[:64]) is None, log


def test_sample_unwrapping_matches_the_engine() -> None:
    sample = [_docker("a"), _docker("b\n"), _docker("c\n", stream="stderr")]
    assert unwrap_sample(sample, "docker") == ["ab", "c"]


MYSQL_SLOW = Path(__file__).parent / "cases" / "sources" / "mysql_slow"
# The event time (and ``aws logs tail``'s stream name) a CloudWatch export puts before an entry.
_EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})[ \t](?:prod-db-1 )?")


def test_cloudwatch_slow_log_reads_as_the_same_log_without_event_times(tmp_path: Path) -> None:
    for case in ("rds_cloudwatch.log", "rds_cloudwatch_tail.log"):
        exported = MYSQL_SLOW / case
        plain = tmp_path / case
        lines = exported.read_text().splitlines(keepends=True)
        stripped = [_EVENT_TIME.sub("", line) for line in lines]
        assert stripped != lines
        plain.write_text("".join(stripped))
        summary, rows, rejects = api.records(str(exported))
        plain_summary, plain_rows, _ = api.records(str(plain))
        assert (summary.variant, rejects) == ("cloudwatch: " + plain_summary.variant, [])
        # Every column but the file's name, which differs.
        assert [{**r, "source": None} for r in rows] == [{**r, "source": None} for r in plain_rows]


def test_a_slow_log_with_every_line_timestamped_is_not_a_cloudwatch_export() -> None:
    lines = (MYSQL_SLOW / "rds_cloudwatch.log").read_text().splitlines()
    # ``kubectl logs --timestamps`` of a slow log: the ``timestamps`` prefix, not this one.
    every = ["2026-11-24T10:00:00.1Z " + _EVENT_TIME.sub("", line) for line in lines]
    assert detect(lines[:64]) == "cloudwatch"
    assert detect(every[:64]) is None
    assert unwrap_sample(lines[:3], "cloudwatch")[0].startswith("# Time: ")


def test_cloudwatch_epoch_milliseconds_and_a_tab_read_the_same(tmp_path: Path) -> None:
    """``aws logs filter-log-events --query 'events[].[timestamp,message]' --output text``."""
    exported = tmp_path / "text.log"
    lines = (MYSQL_SLOW / "rds_cloudwatch.log").read_text().splitlines(keepends=True)
    exported.write_text("".join(_EVENT_TIME.sub("1795514400251\t", line) for line in lines))
    summary, rows, rejects = api.records(str(exported))
    _, expected, _ = api.records(str(MYSQL_SLOW / "rds_cloudwatch.log"))
    assert (summary.variant, rejects) == ("cloudwatch: mysql", [])
    assert [{**r, "source": None} for r in rows] == [{**r, "source": None} for r in expected]


WRAPPED = Path(__file__).parent / "cases" / "sources" / "container_wrappers"


def test_cloud_logging_entries_read_as_the_log_in_their_text_payloads(tmp_path: Path) -> None:
    for case in ("gcp_cloudsql_postgresql.log", "gcp_gke_nginx.log"):
        exported = WRAPPED / case
        entries = [json.loads(line) for line in exported.read_text().splitlines()]
        plain = tmp_path / case
        plain.write_text("".join(entry["textPayload"] + "\n" for entry in entries))
        summary, rows, rejects = api.records(str(exported))
        plain_summary, plain_rows, plain_rejects = api.records(str(plain))
        assert summary.variant == "gcp: " + plain_summary.variant
        assert [r["line"] for r in rejects] == [r["line"] for r in plain_rejects]
        # Every column but the file's name, which differs.
        assert [{**r, "source": None} for r in rows] == [{**r, "source": None} for r in plain_rows]


def test_the_entry_time_fills_a_payload_without_one(tmp_path: Path) -> None:
    entry = {
        "insertId": "1",
        "receiveTimestamp": "2026-11-27T00:00:02.5Z",
        "textPayload": 'level=info msg="no time of its own"\n',
        "timestamp": "2026-11-27T00:00:01.25Z",
    }
    log = tmp_path / "export.json"
    log.write_text(json.dumps(entry) + "\n" + json.dumps({**entry, "insertId": "2"}) + "\n")
    summary, rows, rejects = api.records(str(log))
    assert (summary.format, summary.variant.split(": ")[0], rejects) == ("logfmt", "gcp", [])
    assert [r["ts"].isoformat() for r in rows] == ["2026-11-27T00:00:01.250000"] * 2
    assert unwrap_sample([json.dumps(entry)], "gcp") == ['level=info msg="no time of its own"']
