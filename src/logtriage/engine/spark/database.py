"""SparkDatabase: the ``Database`` interface on a SparkSession, tables as cached temp views."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from logtriage.config import Settings
from logtriage.engine.line_lengths import CLOSING
from logtriage.engine.spark import dialect
from logtriage.engine.spark.session import start_session
from logtriage.errors import InputError
from logtriage.model.i18n import _
from logtriage.model.tables import CANONICAL_TABLES, REJECTS, create_table_sql

# monotonically_increasing_id(): the partition index above bit 33, the row in it below.
_PARTITION_SHIFT = 33
_ROW_MASK = (1 << _PARTITION_SHIFT) - 1


class SparkDatabase:
    """Runs the analysis SQL written for DuckDB on Spark, statement by statement.

    Spark SQL has no mutable temp tables: every table is a temp view over a checkpointed
    DataFrame, and CREATE/INSERT/UPDATE/DELETE/DROP replace that view. Everything else is
    translated by ``dialect.translate`` and run as it is.
    """

    engine = "spark"

    def __init__(
        self,
        settings: Settings,
        work_dir: str,
        session: Any = None,
        exact_percentile_rows: int = dialect.EXACT_PERCENTILE_ROWS,
    ) -> None:
        self.work_dir = work_dir
        self.con = session or start_session(settings.spark_master)
        self.statements: list[str] = []
        self.failed_statement: str | None = None
        self.exact_percentile_rows = exact_percentile_rows
        # What the report says of its percentiles: "exact" until one was approximated.
        self.percentiles = "exact"
        # Rows per view, kept until the view is replaced or dropped: the percentile check
        # counts every canonical table before each statement that has percentiles.
        self._counts: dict[str, int] = {}
        for name, columns in CANONICAL_TABLES.items():
            self.execute(create_table_sql(name, columns))
        self.execute(create_table_sql("rejects", REJECTS))
        self.execute(
            "CREATE TABLE reject_counts (source VARCHAR, reason VARCHAR, count BIGINT, "
            "first_line BIGINT)"
        )
        self.execute(
            "CREATE TABLE reject_resemblance (source VARCHAR, format VARCHAR, variant VARCHAR, "
            "matched INTEGER, sampled INTEGER)"
        )

    # ----------------------------------------------------------------- the Database interface

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement that returns nothing of interest."""
        tree = dialect.parse(sql, params)
        if isinstance(tree, exp.Create):
            self._create(tree)
        elif isinstance(tree, exp.Drop):
            self._drop(tree)
        elif isinstance(tree, exp.Insert):
            self._insert(tree)
        elif isinstance(tree, exp.Delete):
            self._delete(tree)
        elif isinstance(tree, exp.Update):
            self._update(tree)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        else:
            self._sql(tree).collect()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts (structs as dicts, times naive UTC)."""
        frame = self._sql(dialect.parse(sql, params))
        return [_plain(row.asDict(recursive=True)) for row in frame.collect()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query and return the first column of its first row (None when empty)."""
        rows = self._sql(dialect.parse(sql, params)).take(1)
        return _plain(rows[0][0]) if rows else None

    def count(self, table: str) -> int:
        """Rows in ``table`` (0 when it does not exist)."""
        key = table.lower()
        if key not in self._counts:
            if not self._exists(table):
                return 0
            self._counts[key] = int(self.con.table(table).count())
        return self._counts[key]

    def close(self) -> None:
        """Drop this run's views; the session lives on (Spark Connect or a shared local one)."""
        self._counts.clear()
        for table in self.con.catalog.listTables():
            if table.isTemporary:
                self.con.catalog.dropTempView(table.name)

    # ----------------------------------------------------------------------- loading lines

    def read_lines(self, path: str) -> None:
        """Read ``path`` (local, hdfs://, s3a://; .gz natively) into view ``lines(line, text)``.

        Line numbers are true 1-based physical lines, counted in the JVM (an RDD
        ``zipWithIndex`` with a Python ``map`` sent every line through a Python worker).
        Spark's text source cuts one plain file into partitions in file order (a .gz is one),
        and ``monotonically_increasing_id`` holds the partition index above bit 33 and the
        row's place in its partition below: a line's number is the rows of the partitions
        before its own plus its place. The file is scanned twice (row counts, then lines): the
        same split gives the same ids both times, and a second scan cost less than caching the
        numbered rows (1M nginx lines: 10.7–14.7 vs 14.5–17.6 CPU-s).
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        try:
            frame = self.con.read.option("lineSep", "\n").text(path)
            ids = frame.select(
                F.monotonically_increasing_id().alias("_id"), F.col("value").alias("text")
            ).select(
                F.shiftright("_id", _PARTITION_SHIFT).alias("_part"),
                F.col("_id").bitwiseAND(_ROW_MASK).alias("_row"),
                "text",
            )
            sizes = ids.groupBy("_part").agg(F.count(F.lit(1)).alias("_rows"))
            before = F.sum("_rows").over(
                Window.orderBy("_part").rowsBetween(Window.unboundedPreceding, -1)
            )
            offsets = sizes.select("_part", F.coalesce(before, F.lit(0)).alias("_before"))
            lines = ids.join(F.broadcast(offsets), "_part").select(
                (F.col("_before") + F.col("_row") + 1).cast("bigint").alias("line"),
                # As the DuckDB reader: the \r of a \r\n ending is no part of the line, and
                # any other \r is a space (sources/line_breaks.py).
                F.translate(F.regexp_replace("text", "\r\\z", ""), "\r", " ").alias("text"),
            )
            # The measures every lines table carries (engine/line_lengths.py LINE_MEASURES).
            lines = lines.select(
                "line",
                "text",
                F.octet_length("text").cast("int").alias("_len"),
                F.coalesce(F.trim("text") == "", F.lit(True)).alias("_blank"),
                (~F.substring("text", -1, 1).isin(*CLOSING)).alias("_open"),
            )
            self._replace("lines", lines)
        except Exception as exc:  # Spark raises its own wrapper types for I/O
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                _("cannot read {path}: {problem}").format(path=path, problem=first)
            ) from exc

    # ----------------------------------------------------------------------- Parquet tables

    def write_parquet(self, sql: str, path: str, partition_by: Sequence[str]) -> None:
        """Write a query's rows to ``path`` as Parquet, hive-partitioned by ``partition_by``."""
        frame = self._sql(dialect.parse(sql))
        writer = frame.write.mode("overwrite")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(path)

    def read_parquet(self, table: str, path: str) -> None:
        """Append the Parquet rows under ``path`` to ``table`` (partition keys kept as text)."""
        self.con.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        try:
            frame = self.con.read.option("basePath", path).parquet(path)
        except Exception as exc:  # an empty table wrote no file, or the path is not there
            if "PATH_NOT_FOUND" in str(exc) or "UNABLE_TO_INFER_SCHEMA" in str(exc):
                return
            raise
        from pyspark.sql import functions as F

        present = {c.lower() for c in frame.columns}
        aligned = frame.select(
            *[
                (F.col(f"`{n}`") if n.lower() in present else F.lit(None)).cast(t).alias(n)
                for n, t in self._target_columns(table)
            ]
        )
        self._replace(table, self.con.table(table).unionByName(aligned))

    # ------------------------------------------------------------------------ statements

    def _sql(self, tree: exp.Expr) -> Any:
        tree = dialect.expand_star_replace(tree, self._column_names)
        approximate = dialect.has_percentiles(tree) and self._is_large()
        if approximate:
            self.percentiles = f"approximate ({dialect.PERCENTILE_TOLERANCE})"
        spark_sql = dialect.to_spark(tree, approximate)
        self.statements.append(spark_sql)
        if "duckdb_tables" in spark_sql.lower():
            # DuckDB's catalog function: a view of this run's tables, made when asked for.
            self._refresh_catalog_view()
            spark_sql = re.sub(r"(?i)duckdb_tables\(\)", "duckdb_tables", spark_sql)
        try:
            return self.con.sql(spark_sql)
        except Exception:
            # Kept for the error report and tests: which translated statement Spark refused.
            self.failed_statement = spark_sql
            raise

    def _refresh_catalog_view(self) -> None:
        names = [t.name for t in self.con.catalog.listTables() if t.isTemporary]
        frame = self.con.createDataFrame([(n,) for n in names], "table_name STRING")
        frame.createOrReplaceTempView("duckdb_tables")
        self._counts.pop("duckdb_tables", None)

    def _is_large(self) -> bool:
        """More rows in a canonical table than exact percentiles may hold in memory."""
        return any(self.count(t) > self.exact_percentile_rows for t in CANONICAL_TABLES)

    def _column_names(self, table: str) -> list[str] | None:
        return list(self.con.table(table).columns) if self._exists(table) else None

    def _exists(self, table: str) -> bool:
        return any(t.name == table.lower() for t in self.con.catalog.listTables())

    def _replace(self, table: str, frame: Any) -> None:
        # A checkpoint cuts the lineage: INSERTs in a loop must not grow the plan.
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(table)
        self._counts.pop(table.lower(), None)

    def _create(self, tree: exp.Create) -> None:
        name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
        query = tree.expression
        if query is not None:
            self._replace(name, self._sql(query))
            return
        if not isinstance(tree.this, exp.Schema):
            raise ValueError(f"unsupported CREATE: {tree.sql('duckdb')[:80]}")
        columns = ", ".join(
            f"CAST(NULL AS {col.args['kind'].sql('spark')}) AS `{col.name}`"
            for col in tree.this.expressions
            if isinstance(col, exp.ColumnDef)
        )
        if not tree.args.get("exists") or not self._exists(name):
            self._replace(name, self.con.sql(f"SELECT {columns} WHERE FALSE"))

    def _drop(self, tree: exp.Drop) -> None:
        for table in tree.args.get("tables") or [tree.this]:
            name = table.name
            if not self._exists(name):
                if tree.args.get("exists"):
                    continue
                raise ValueError(f"table {name} does not exist")
            self.con.catalog.dropTempView(name)
            self._counts.pop(name.lower(), None)

    def _alter(self, tree: exp.Alter) -> None:
        """``ALTER TABLE a RENAME TO b``: the same view under the new name."""
        table = tree.this.name
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                frame = self.con.table(table)
                self.con.catalog.dropTempView(table)
                self._counts.pop(table.lower(), None)
                # Already checkpointed as ``table``: the same rows under the new name.
                frame.createOrReplaceTempView(action.this.name)
                self._counts.pop(action.this.name.lower(), None)
                table = action.this.name
            else:
                raise ValueError(f"unsupported ALTER: {tree.sql('duckdb')[:80]}")

    def _target_columns(self, table: str) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString()) for f in self.con.table(table).schema.fields]

    def _insert(self, tree: exp.Insert) -> None:
        target = tree.this
        names: list[str] | None = None
        if isinstance(target, exp.Schema):
            names = [c.name for c in target.expressions]
            target = target.this
        table = target.name
        source = tree.expression
        new = self._sql(source)
        if names is not None:
            new = new.toDF(*names)
        elif not tree.args.get("by_name"):
            new = new.toDF(*[n for n, _ in self._target_columns(table)][: len(new.columns)])
        present = {c.lower() for c in new.columns}
        from pyspark.sql import functions as F

        aligned = new.select(
            *[
                (F.col(f"`{n}`") if n.lower() in present else F.lit(None)).cast(t).alias(n)
                for n, t in self._target_columns(table)
            ]
        )
        self._replace(table, self.con.table(table).unionByName(aligned))

    def _delete(self, tree: exp.Delete) -> None:
        table = tree.this.name
        where = tree.args.get("where")
        condition = where.this if where is not None else exp.true()
        keep = (
            exp.select("*")
            .from_(table)
            .where(exp.not_(exp.func("coalesce", exp.Paren(this=condition), exp.false())))
        )
        self._replace(table, self._sql(keep))

    def _update(self, tree: exp.Update) -> None:
        """``UPDATE t SET c = e [FROM m] WHERE cond`` → ``t LEFT JOIN m ON cond``, a new view.

        Each row of ``t`` takes the values of the (one) row of ``m`` it matches.
        """
        table = tree.this.name
        sets = {e.this.name.lower(): e.expression for e in tree.expressions}
        where = tree.args.get("where")
        condition = where.this if where is not None else exp.true()
        source = tree.args.get("from_") or tree.args.get("from")
        matched = exp.column("__matched", table="__m") if source else condition
        columns = []
        for name, _type in self._target_columns(table):
            column = exp.column(name, table=table)
            if name.lower() in sets:
                value: exp.Expression = exp.Case(
                    ifs=[exp.If(this=matched.copy(), true=sets[name.lower()].copy())],
                    default=column,
                )
            else:
                value = column
            columns.append(exp.alias_(value, name))
        query = exp.select(*columns).from_(table)
        if source is not None:
            other = source.this
            alias = other.alias_or_name
            bare = exp.table_(other.name) if isinstance(other, exp.Table) else other.copy()
            flagged = exp.select("*", exp.alias_(exp.true(), "__matched")).from_(bare)
            joined = exp.Subquery(this=flagged, alias=exp.TableAlias(this=exp.to_identifier(alias)))
            query = query.join(joined, on=condition.copy(), join_type="LEFT")
            # The match flag lives in the joined side under its alias.
            for col in query.find_all(exp.Column):
                if col.table == "__m":
                    col.set("table", exp.to_identifier(alias))
        self._replace(table, self._sql(query))


def _plain(value: Any) -> Any:
    """Spark values as DuckDB's Python client gives them (Rows → dicts, recursively)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "asDict"):
        return _plain(value.asDict(recursive=True))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
