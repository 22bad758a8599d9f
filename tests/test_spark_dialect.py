"""The DuckDB → Spark SQL rewrite rules: one test each, and every rule is tested."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from logtriage.config import Settings
from logtriage.engine.database import Database
from logtriage.engine.loading import load_input
from logtriage.engine.pipeline import analyze_tables
from logtriage.engine.spark.dialect import (
    RULES,
    expand_star_replace,
    java_time_format,
    parse,
    prepare,
    to_spark,
    translate,
)
from logtriage.sources.reading import expand_inputs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "nginx" / "access.log"


def planted_n_plus_one(out: Path, requests: int) -> tuple[Path, Path]:
    """An nginx log and a PostgreSQL log of the same requests, a fifth of them an N+1 loop."""
    spec = importlib.util.spec_from_file_location(
        "bench_correlation", ROOT / "benchmarks" / "correlation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    access, pg = module.generate(requests, out)
    return Path(access), Path(pg)


# rule name -> (DuckDB SQL, text the Spark SQL must hold, text it must not hold)
CASES = {
    "time-bucket": (
        "SELECT time_bucket(INTERVAL 3 SECOND, ts), time_bucket(to_seconds(604800), ts) FROM t",
        "PMOD(UNIX_MICROS(CAST(ts AS TIMESTAMP_LTZ)) - 946857600000000",
        "(604800) * 1000000)",  # an INT product: overflows on Spark
    ),
    "time-range": (
        "SELECT unnest(range(a, b, INTERVAL 1 SECOND))",
        "SEQUENCE(a, (b) - INTERVAL '1' SECOND, INTERVAL '1' SECOND)",
        "> 0",
    ),
    "regexp-flags": ("SELECT regexp_matches(s, 'ab', 'i')", "s RLIKE '(?i)ab'", "'i'"),
    "regexp-full-match": ("SELECT regexp_full_match(s, 'a+')", "s RLIKE '^(?:a+)$'", "FULL"),
    "regexp-replace": (
        r"SELECT regexp_replace(s, '(v)\s*(x)', '\1 \2 $', 'g'), "
        r"regexp_replace(s, ' +', ' ', 'i'), "
        r"regexp_replace(regexp_replace(s, '(a)', '\1', 'g'), 'b', 'c', 'g')",
        r"SELECT REGEXP_REPLACE(s, '(v)\\s*(x)', '$1 $2 \\$'), "
        r"REGEXP_REPLACE(s, '(?s:^(.*?))((?i) +)', '$1 ')",
        "\\1",
    ),
    "timestamptz": (
        "SELECT try_cast(s AS TIMESTAMPTZ)::TIMESTAMP",
        "CAST(TRY_CAST(REGEXP_REPLACE(s, '  +', ' ') AS TIMESTAMP_LTZ) AS TIMESTAMP_NTZ)",
        "AS TIMESTAMP)",
    ),
    "regexp-extract-groups": (
        "SELECT regexp_extract(s, '(a)(b)', ['x', 'y'])",
        "NAMED_STRUCT('x', REGEXP_EXTRACT(s, '(a)(b)', 1), 'y', REGEXP_EXTRACT(s, '(a)(b)', 2))",
        "ARRAY(",
    ),
    "regexp-extract-all-group": (
        "SELECT regexp_extract_all(s, 'a(b)')",
        "REGEXP_EXTRACT_ALL(s, 'a(b)', 0)",
        "REGEXP_EXTRACT_ALL(s, 'a(b)')",
    ),
    "list-slice": ("SELECT l[2:-1] FROM t", "SLICE(l, GREATEST((2), 1)", "l[2:"),
    "percentile": (
        "SELECT quantile_cont(d, 0.95), median(d) FROM t",
        "SELECT PERCENTILE(d, 0.95), PERCENTILE(d, 0.5) FROM t",
        "PERCENTILE_APPROX",
    ),
    "percentile-disc": (
        "SELECT quantile_disc(n, 0.5) FROM t",
        "ELEMENT_AT(ARRAY_SORT(COLLECT_LIST(n)), GREATEST(1, CAST(CEIL(COUNT(n) * 0.5) AS INT)))",
        "PERCENTILE",
    ),
    "epoch": (
        "SELECT epoch(a - b), epoch(ts) FROM t",
        "(UNIX_MICROS(CAST(a AS TIMESTAMP_LTZ)) - UNIX_MICROS(CAST(b AS TIMESTAMP_LTZ)))"
        " / 1000000.0",
        "UNIX_TIMESTAMP",
    ),
    "interval-functions": (
        "SELECT ts + to_microseconds(d), to_seconds(median(epoch(ts - to_microseconds(n)))) FROM t",
        "MAKE_DT_INTERVAL(0, 0, 0, CAST(d AS DECIMAL(18, 6)) / 1000000)",
        "TO_MICROSECONDS",
    ),
    "try-strptime": (
        "SELECT try_strptime(s, '%d/%b/%Y:%H:%M:%S %z')",
        "TO_TIMESTAMP_LTZ(REGEXP_REPLACE(s, '  +', ' '), "
        "'d\\'/\\'MMM\\'/\\'yyyy\\':\\'H\\':\\'m\\':\\'s\\' \\'XXX')",
        "STRPTIME",
    ),
    "strlen": ("SELECT strlen(s)", "SELECT OCTET_LENGTH(s)", "STRLEN"),
    "md5-number": ("SELECT md5_number(s)", "MD5(s)", "MD5_NUMBER"),
    "count-distinct-tuple": (
        "SELECT count(DISTINCT (a, b)) FROM t",
        "COUNT(DISTINCT STRUCT(a, b))",
        "DISTINCT (a, b)",
    ),
    "list-sum": ("SELECT list_sum(l)", "AGGREGATE(l, CAST(0 AS DOUBLE)", "LIST_SUM"),
    "histogram": (
        "SELECT histogram(x) FILTER (WHERE y) FROM t",
        "ARRAY_DISTINCT(COLLECT_LIST(x) FILTER(WHERE y))",
        "HISTOGRAM",
    ),
    "insertion-order": (
        "SELECT lag(k) OVER (), sum(k) OVER w, sum(k) OVER () FROM t "
        "WINDOW w AS (ROWS UNBOUNDED PRECEDING)",
        "SELECT LAG(k) OVER (ORDER BY line NULLS LAST), SUM(k) OVER w, SUM(k) OVER () FROM t "
        "WINDOW w AS (ORDER BY line NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        "LAG(k) OVER ()",
    ),
    "map-literal": (
        "SELECT MAP {'a': x, 'b': coalesce(y, 'q')}, MAP {'a': 'b'}[upper(k)]",
        "SELECT MAP('a', x, 'b', COALESCE(y, 'q')), ELEMENT_AT(MAP('a', 'b'), UPPER(k))",
        "STRUCT",
    ),
    "struct-unnest": (
        "SELECT line, unnest(g), unnest(l) AS x FROM t",
        "SELECT line, g.*, EXPLODE(l) AS x FROM t",
        "EXPLODE(g)",
    ),
    "json": (
        "SELECT try(json_extract_string(s, ['$.a', '$.\"b.c\"[0]'])), json_valid(s)",
        "ELSE VARIANT_GET(TRY_PARSE_JSON(s), '$[\\'b.c\\'][0]', 'string') END), "
        "NOT TRY_PARSE_JSON(s) IS NULL",
        "TRY(",
    ),
    "json-type": (
        "SELECT json_type(s) = 'OBJECT', json_type(s, ['$.a'])",
        "ARRAY(ELEMENT_AT(TRANSFORM(ARRAY(VARIANT_GET(TRY_PARSE_JSON(s), '$[\\'a\\']')), v ->",
        "JSON_TYPE",
    ),
    "json-map": (
        "SELECT try_cast(s::JSON AS MAP(VARCHAR, JSON))",
        "MAP_ZIP_WITH(FROM_JSON(s, 'map<string,string>'), TRY_VARIANT_GET(TRY_PARSE_JSON(s), '$'",
        "TO_JSON(s)",
    ),
    "json-cast": (
        "SELECT CASE WHEN json_valid(s) THEN s::JSON END, try_cast(s AS JSON)",
        "SELECT CASE WHEN NOT TRY_PARSE_JSON(s) IS NULL THEN s END, s",
        "TO_JSON",
    ),
    "json-list": (
        "SELECT json_extract(s, '$.a[*]')",
        "COALESCE(ZIP_WITH(FROM_JSON(GET_JSON_OBJECT(s, '$.a'), 'array<string>'), "
        "TRY_VARIANT_GET(TRY_PARSE_JSON(s), '$[\\'a\\']', 'array<variant>'),",
        "[*]",
    ),
    "unnest-subscripts": (
        "SELECT line, unnest(l) AS x, generate_subscripts(l, 1) AS i, y FROM t",
        "SELECT line, INLINE(TRANSFORM(l, (e, n) -> STRUCT(e AS e, n + 1 AS col2))) AS (x, i), y",
        "GENERATE_SUBSCRIPTS",
    ),
    "try-from-base64": (
        "SELECT lower(hex(try(from_base64(s))))",
        "LOWER(HEX(TRY_TO_BINARY(s, 'base64')))",
        "UNBASE64",
    ),
    "hugeint": ("SELECT try_cast(s AS HUGEINT)", "TRY_CAST(s AS DECIMAL(38, 0))", "INT128"),
    "left-negative": (
        "SELECT left(s, -2), left(s, 3)",
        "SELECT SUBSTRING(s, 1, GREATEST(LENGTH(s) - 2, 0)), LEFT(s, 3)",
        "LEFT(s, -",
    ),
    "round-to-integer": (
        "SELECT (q * 1000000)::BIGINT, try_cast(CASE WHEN a THEN d * 1000 END AS BIGINT), "
        "s::BIGINT",
        "SELECT CAST(BROUND((q * 1000000)) AS BIGINT), TRY_CAST(BROUND(CASE WHEN a THEN d * 1000 "
        "END) AS BIGINT), CAST(s AS BIGINT)",
        "ROUND(s)",
    ),
    "cte-materialized": (
        "WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a",
        "WITH a AS (SELECT 1)",
        "MATERIALIZED",
    ),
    "zip-unnests": (
        "SELECT unnest(['a', 'b']) AS route, unnest([1.0, 2.0]) AS width",
        "SELECT INLINE(ARRAYS_ZIP(ARRAY('a', 'b'), ARRAY(1.0, 2.0))) AS (route, width)",
        "EXPLODE",
    ),
    "asof-join": (
        "SELECT c.line, s.line FROM c ASOF LEFT JOIN (SELECT line, k FROM t) AS s "
        "ON c.k = s.k AND c.line >= s.line",
        "LEFT JOIN (SELECT *, LEAD(line) OVER (PARTITION BY k ORDER BY line NULLS LAST) AS "
        "__asof_next FROM (SELECT line, k FROM t) AS __asof) AS s ON (c.k = s.k AND c.line >= "
        "s.line) AND (s.__asof_next IS NULL OR c.line < s.__asof_next)",
        "ASOF",
    ),
    "text-index": (
        "SELECT split_part(t, ' ', 3)[1], split_part(t, ' ', 3)[4:], trim(t)[2:3], "
        "transform(l, x -> x[2:]), ltrim(t)[1], l[2:]",
        "SELECT SUBSTRING(SPLIT_PART(t, ' ', 3), (0) + 1, 1), SUBSTRING(SPLIT_PART(t, ' ', 3), 4), "
        "SUBSTRING(TRIM(t), 2, GREATEST((3) - (2) + 1, 0)), TRANSFORM(l, x -> SUBSTRING(x, 2)), "
        "SUBSTRING(LTRIM(t), 1, 1), SLICE(l,",
        "SLICE(x",
    ),
    "distinct-string-agg": (
        "SELECT string_agg(DISTINCT source, ', ' ORDER BY source) FROM t",
        "ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(source)), ', ')",
        "LISTAGG",
    ),
    "lambda-index": (
        "SELECT list_filter(l, (p, i) -> list_position(l, p) = i), "
        "list_transform(l, (x, i) -> k[i - 1])",
        "FILTER(l, (p, i) -> NULLIF(ARRAY_POSITION(l, p), 0) = (i + 1)), "
        "TRANSFORM(l, (x, i) -> ELEMENT_AT(k, CAST(NULLIF((i + 1) - 1, 0) AS INT)))",
        "= i)",
    ),
    "list-index": (
        "SELECT l[n], l[2], l[-1] FROM t",
        "SELECT ELEMENT_AT(l, CAST(NULLIF(n, 0) AS INT)), l[1], ELEMENT_AT(l, -1) FROM t",
        "l[-",
    ),
    "map-concat": (
        "SELECT map_concat(m.tags, q.tags)",
        "COALESCE(MAP_CONCAT(m.tags, q.tags), m.tags, q.tags)",
        "SELECT MAP_CONCAT",
    ),
    "try-url-decode": ("SELECT try(url_decode(s))", "TRY_URL_DECODE(s)", "TRY("),
    "qualify-aliases": (
        "SELECT 'a.log', x.line, y.line FROM x, y QUALIFY row_number() OVER (ORDER BY 1) <= 2",
        "SELECT _c1, line, _c3 FROM (SELECT 'a.log' AS _c1, x.line, y.line AS _c3, ROW_NUMBER()",
        "QUALIFY",
    ),
    "list-aggregates": ("SELECT list_bool_or(l)", "EXISTS(l, x -> x)", "LIST_BOOL_OR"),
    "list-position": (
        "SELECT list_position(l, 3)",
        "NULLIF(ARRAY_POSITION(l, 3), 0)",
        "LIST_POSITION",
    ),
    "deterministic-mode": (
        "SELECT mode(x ORDER BY x), mode(y ORDER BY y DESC)",
        "MODE(x, TRUE)",
        "MODE(x ORDER BY",
    ),
}


def test_a_leading_weekday_is_dropped_from_the_text_and_the_pattern() -> None:
    # Spark parses no day-of-week (EEE); DuckDB's %a reads a weekday name of any case.
    spark = translate("SELECT try_strptime(s, ['%a %b %d %H:%M:%S %Y', '%d/%b/%Y'])")
    first, second = spark.split("), TO_TIMESTAMP_LTZ(")
    assert first.endswith(
        "'^(?i:Mon|Tue|Wed|Thu|Fri|Sat|Sun)', ''), '\\' \\'MMM\\' \\'d\\' \\'H\\':\\'m"
        "\\':\\'s\\' \\'yyyy'"
    )
    assert second == "REGEXP_REPLACE(s, '  +', ' '), 'd\\'/\\'MMM\\'/\\'yyyy'))"


def test_every_rule_has_a_case() -> None:
    assert {r.name for r in RULES} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule(name: str) -> None:
    duckdb_sql, must, must_not = CASES[name]
    spark = translate(duckdb_sql)
    assert must in spark, spark
    assert must_not not in spark, spark


def test_epoch_of_a_time_minus_a_coalesced_interval_is_of_a_time() -> None:
    # The slow log's start time: end time minus coalesce(to_microseconds(n), INTERVAL 0).
    spark = translate("SELECT epoch(ts - coalesce(to_seconds(n), INTERVAL 0 SECOND))")
    assert spark == (
        "SELECT (UNIX_MICROS(CAST(ts - COALESCE(MAKE_DT_INTERVAL(0, 0, 0, CAST(n AS "
        "DECIMAL(18, 6))), INTERVAL '0' SECOND) AS TIMESTAMP_LTZ))) / 1000000.0"
    )


def test_a_replacement_read_from_a_table_has_its_groups_rewritten_in_sql() -> None:
    # postgresql_lang: English templates with \1 groups, one per translated message.
    spark = translate("SELECT regexp_replace(m, t.pattern, t.english, 'g')")
    assert spark.startswith(
        r"SELECT REGEXP_REPLACE(m, t.pattern, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE("
        r"REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(t.english, '$', '\\$'), '\\0', '$0'), "
        r"'\\1', '$1')"
    ), spark


def test_parameters_are_inlined_as_literals() -> None:
    sql = prepare(
        "SELECT ?, ?::TIMESTAMP, ? IN (SELECT unnest(?))",
        ["it's", dt.datetime(2026, 11, 24, 10, 0, 1, 500), None, ["a", "b"]],
    )
    assert sql == (
        "SELECT 'it''s', CAST('2026-11-24 10:00:01.000500' AS TIMESTAMP)::TIMESTAMP, "
        "NULL IN (SELECT unnest(['a', 'b']))"
    )


def test_len_is_for_lists_length_for_strings() -> None:
    assert translate("SELECT len(l), length(s)") == "SELECT SIZE(l), LENGTH(s)"


def test_placeholder_count_must_match() -> None:
    with pytest.raises(ValueError, match="fewer"):
        prepare("SELECT 1", [1])
    with pytest.raises(ValueError, match="more"):
        prepare("SELECT ?", [])


def test_java_time_format_quotes_literals_and_reads_one_or_two_digits() -> None:
    assert java_time_format("%Y-%m-%dT%H:%M:%S.%f") == "yyyy'-'M'-'d'T'H':'m':'s'.'SSSSSS"
    # One digit or two where text follows, as DuckDB reads them; fixed widths where not.
    assert java_time_format("%y%m%d %H") == "yyMMd' 'HH"


def test_star_replace_is_expanded_from_tables_ctes_and_subqueries() -> None:
    tables = {"requests": ["ts", "route", "path"], "m": ["path", "route"]}.get
    joined = expand_star_replace(
        parse(
            "CREATE TABLE requests AS SELECT r.* REPLACE (coalesce(r.route, m.route) AS route) "
            "FROM requests r LEFT JOIN m USING (path)"
        ),
        tables,
    )
    assert "SELECT r.ts, COALESCE(r.route, m.route) AS route, r.path FROM" in to_spark(joined)
    chained = expand_star_replace(
        parse(
            "WITH a AS (SELECT * FROM (SELECT path, 1 AS n FROM requests)), "
            "b AS (SELECT * REPLACE (n + 1 AS n) FROM a) SELECT * FROM b"
        ),
        tables,
    )
    assert "b AS (SELECT path, n + 1 AS n FROM a)" in to_spark(chained)
    with pytest.raises(ValueError, match="unknown columns"):
        expand_star_replace(parse("SELECT * REPLACE (1 AS x) FROM nowhere"), tables)


def test_large_inputs_get_approximate_percentiles_of_the_same_type() -> None:
    sql = "SELECT quantile_cont(d, [0.5, 0.95]), quantile_disc(ts, 0.1), median(n) FROM t"
    assert translate(sql, approximate=True) == (
        "SELECT CAST(PERCENTILE_APPROX(d, ARRAY(0.5, 0.95), 10000) AS ARRAY<DOUBLE>), "
        "PERCENTILE_APPROX(ts, 0.1, 10000), CAST(PERCENTILE_APPROX(n, 0.5, 10000) AS DOUBLE) "
        "FROM t"
    )


def test_several_discrete_cuts_of_one_state_become_an_array_of_each_cut() -> None:
    # DuckDB keeps one state for ``[a, b]`` (three separate quantiles ran out of memory on 23M
    # requests); Spark has no list form of the rank, so each cut is its own element.
    sql = "SELECT quantile_disc(n, [0.9, 0.5])[2] FROM t"
    rank = "ELEMENT_AT(ARRAY_SORT(COLLECT_LIST(n)), GREATEST(1, CAST(CEIL(COUNT(n) * {q}) AS INT)))"
    assert translate(sql) == (f"SELECT ARRAY({rank.format(q=0.9)}, {rank.format(q=0.5)})[1] FROM t")
    assert translate(sql, approximate=True) == (
        "SELECT PERCENTILE_APPROX(n, ARRAY(0.9, 0.5), 10000)[1] FROM t"
    )


def test_union_by_name_is_a_union_of_the_same_columns_in_one_order() -> None:
    tables = {"x": ["a", "b"], "y": ["b", "c"]}.get
    same = expand_star_replace(
        parse("SELECT * FROM x UNION ALL BY NAME SELECT a, b FROM x"), tables
    )
    assert to_spark(same) == "SELECT * FROM x UNION ALL SELECT a, b FROM x"
    other = expand_star_replace(parse("SELECT * FROM x UNION ALL BY NAME SELECT * FROM y"), tables)
    assert to_spark(other) == (
        "SELECT a, b, NULL AS c FROM (SELECT * FROM x) AS __by_name UNION ALL "
        "SELECT NULL AS a, b, c FROM (SELECT * FROM y) AS __by_name"
    )


class RecordingDatabase(Database):
    """The embedded engine, keeping every statement it ran with its parameters."""

    def __init__(self, settings: Settings, work_dir: str) -> None:
        self.ran: list[tuple[str, list[Any]]] = []
        super().__init__(settings, work_dir)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.ran.append((sql, list(params)))
        super().execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.ran.append((sql, list(params)))
        return super().rows(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.ran.append((sql, list(params)))
        return super().scalar(sql, params)


# The Spark engine reads files its own way (read_lines, read_parquet): these never reach it.
_DUCKDB_ONLY = ("read_csv(", "read_parquet(", "copy (", "scan_rejects_")


def test_every_statement_of_a_run_translates(tmp_path: Path) -> None:
    access, pg = planted_n_plus_one(tmp_path, requests=60)
    settings = Settings()
    db = RecordingDatabase(settings, str(tmp_path))
    try:
        hints: dict[str, Mapping[str, str]] = {}
        files = expand_inputs([str(access), str(pg), str(EXAMPLE)], str(tmp_path))
        inputs = [load_input(db, item, n, settings, hints) for n, item in enumerate(files)]
        report = analyze_tables(db, inputs, hints, settings)
    finally:
        db.close()
    assert "P001" in {f.code for f in report.findings}
    failed = []
    for sql, params in db.ran:
        if any(marker in sql.lower() for marker in _DUCKDB_ONLY):
            continue
        for approximate in (False, True):
            try:
                translate(sql, params, approximate=approximate)
            except Exception as exc:  # every failure listed at once, not the first only
                failed.append(f"{type(exc).__name__}: {exc}\n{sql.strip()[:300]}")
    assert len(db.ran) > 100
    assert not failed, "\n\n".join(failed)
