"""Which access-log reader takes which lines, and how Apache LogFormat strings are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.engine.loading import choose_format
from logtriage.errors import FormatError
from logtriage.sources.apache import FORMAT as APACHE
from logtriage.sources.apache import compile_apache, directive_to_format
from logtriage.sources.base import FormatOptions

CASES = Path(__file__).parent / "cases" / "sources"
NO_OPTIONS = FormatOptions({})
PREFIX = (
    '203.0.113.7 - - [24/Nov/2026:10:00:01 +0000] "GET /users/42?x=1 HTTP/1.1" 200 512 "-" '
    '"curl/8.5.0"'
)


def _lines(case: str) -> list[str]:
    return [ln for ln in (CASES / case).read_text().splitlines() if ln.strip()]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # nginx's float $request_time / $upstream_response_time tails stay nginx's.
        ([PREFIX + " 0.120 0.118", PREFIX + " 0.004 -"], "nginx"),
        # ingress-nginx upstreaminfo: integers among floats are still nginx.
        (
            [
                PREFIX
                + " 233 0.004 [default-web-80] [] 10.1.0.5:8080 512 0.004 200 9f8e7d6c5b4a3928"
            ],
            "nginx",
        ),
        # Plain combined with nothing Apache-only: nginx, by the documented rule.
        ([PREFIX, PREFIX.replace(" 200 512 ", " 304 0 ")], "nginx"),
        # An integer tail is Apache's %D (microseconds).
        ([PREFIX + " 1532", PREFIX + " 98"], "apache"),
        # '-' for an empty body is %b, which nginx never writes.
        ([PREFIX, PREFIX.replace(" 200 512 ", " 304 - ")], "apache"),
        # A backslash-escaped quote is Apache's escaping (nginx writes \x22).
        ([PREFIX.replace("curl/8.5.0", 'a \\"quoted\\" agent')], "apache"),
        # common has no referrer and user agent: no nginx default looks like that.
        ([PREFIX.rsplit(' "-"', 1)[0]], "apache"),
    ],
)
def test_nginx_and_apache_share_combined_by_a_fixed_rule(lines: list[str], expected: str) -> None:
    choice = choose_format(lines, NO_OPTIONS, None)
    assert choice.format is not None
    assert choice.format.name == expected


@pytest.mark.parametrize(
    ("tail", "directives"),
    [
        ([" 0/169", " 1/1043210"], "%T/%D"),
        ([" 0 169", " 1 1043210"], "%T %D"),
        ([" 79 759", " 237 897"], "%I %O"),
        ([" 0", " 0", " 0", " 0", " 0", " 0", " 0", " 0", " 0", " 1"], "%T"),
        ([" 0", " 352", " 0", " 2"], "%{ms}T"),
        ([' 169 "0f8fad5b-d9cb-469f-a165-70867728950e" awbjfRfoFjysSdW-ZuO4XQAAAAM'], ""),
    ],
)
def test_apache_tails_are_recognised(tail: list[str], directives: str) -> None:
    detection = APACHE.sniff([PREFIX + t for t in tail], NO_OPTIONS)
    assert detection.confidence == 1.0
    if directives:
        assert detection.detail.endswith('"%{User-Agent}i" ' + directives)
    else:
        assert detection.detail.endswith(' %D "%{X-Request-ID}i" %{UNIQUE_ID}e')


def test_apache_logformat_is_accepted_in_every_spelling() -> None:
    raw = '%h %l %u %t "%r" %>s %b'
    assert directive_to_format(raw) == raw
    assert directive_to_format('LogFormat "%h %l %u %t \\"%r\\" %>s %b" common') == raw
    assert directive_to_format('"%h %l %u %t \\"%r\\" %>s %b"') == raw
    assert directive_to_format('%h %l %u %t \\"%r\\" %>s %b') == raw
    assert directive_to_format("common") == raw
    assert directive_to_format("CustomLog /var/log/apache2/access.log common") == raw


def test_apache_prefers_final_status_microseconds_and_the_client_address() -> None:
    # %s and %>s, %T and %D, %{c}a and %a: the better one of each pair is read.
    template = compile_apache('%{c}a %a %s %>s %T %D "%r"')
    assert "client" in template.slots
    assert "duration_us" in template.slots and "duration_s" not in template.slots
    match = template.pattern.match('10.0.0.1 2001:db8::1 302 200 0 1500 "GET / HTTP/1.1"')
    assert match is not None
    assert match.group(template.slots.index("client") + 1) == "2001:db8::1"
    assert match.group(template.slots.index("status") + 1) == "200"


def test_a_string_without_directives_is_a_one_line_error(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(PREFIX + "\n")
    settings = Settings(format="apache", format_options={"apache_log_format": "no directives"})
    with pytest.raises(FormatError, match="not an Apache LogFormat"):
        api.records(str(log), settings)


def test_custom_strftime_time_is_read_with_its_fraction_and_zone(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('10.0.0.1 [24/Nov/2026 19:00:01.250 +0900] "GET /a HTTP/1.1" 200 1500\n')
    fmt = '%a [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %>s %D'
    summary, rows, _ = api.records(str(log), Settings(format_options={"apache_log_format": fmt}))
    assert summary.format == "apache"
    assert str(rows[0]["ts"]) == "2026-11-24 10:00:01.250000"
    assert rows[0]["duration_ms"] == pytest.approx(1.5)


def test_json_lines_of_other_formats_are_not_access_logs() -> None:
    pg_jsonlog = _lines("postgresql_json/statement_duration.json")
    choice = choose_format(pg_jsonlog[:64], NO_OPTIONS, None)
    assert choice.format is not None
    assert choice.format.name != "json_access"


@pytest.mark.parametrize("case", ["nginx/combined_timing.log", "apache/combined_usec.log"])
def test_many_requests_on_one_line_are_rejected_not_a_regex_of_every_field(
    tmp_path: Path, case: str
) -> None:
    # Hundreds of "trailing fields" are not a log_format: their template was a regex too
    # large for the engine to compile (an internal error instead of a counted rejection).
    joined = " ".join(_lines(case) * 40)
    path = tmp_path / "one-line.log"
    path.write_text(joined + "\n")
    summary, rows, rejects = api.records(str(path))
    assert (summary.lines, summary.records, summary.rejected) == (1, 0, 1)
    assert rows == [] and [r["line"] for r in rejects] == [1]
