"""The ``spark`` a local PySpark task gets: sqlframe's DuckDB session on the workspace's connection, plus shims.

sqlframe runs PySpark DataFrame code on DuckDB; it is used as is (``sqlframe.activate`` makes
``from pyspark.sql import ...`` resolve to it).  The gaps that matter for Databricks code are bridged by
subclassing, never by patching sqlframe's source:

- ``spark.sql("USE CATALOG ...")`` / ``USE SCHEMA`` / ``CREATE SCHEMA`` / ``DROP TABLE`` and other non-query
  statements: sqlframe refuses them ("execute this DDL through the native engine"), so they go through the same
  translator as SQL tasks (:class:`flowdef.local.sql.SqlRunner`).  Queries using ``read_files`` or
  ``IDENTIFIER`` are translated first, then handed to sqlframe.
- ``spark.read``: Spark's CSV defaults (no header, every column a STRING unless ``inferSchema``), volume paths
  mapped, globs expanded (sqlframe passes options straight to DuckDB, whose defaults sniff types and headers —
  a different answer).
- ``df.write.saveAsTable``: the schema is created on demand, ``format("delta")`` accepted (tables are DuckDB
  tables here), names with backticks and digit-leading schemas (```01_bronze```) accepted.

Each shim is covered by tests/test_local_spark.py.
"""

from __future__ import annotations

import sys
from typing import Any

from flowdef.local.files import csv_arguments, resolve_files
from flowdef.local.sql import SqlRunner, SqlTaskError, split_identifier
from flowdef.local.workspace import LocalWorkspace

_NON_QUERY = ("USE", "CREATE", "DROP", "INSERT", "DELETE", "UPDATE", "MERGE", "ALTER", "OPTIMIZE", "VACUUM",
              "REFRESH", "ANALYZE", "CACHE", "UNCACHE", "SET", "RESET", "COMMENT", "GRANT", "REVOKE", "TRUNCATE",
              "MSCK", "DESCRIBE", "SHOW")


def make_session(conn: Any, workspace: LocalWorkspace, params: dict[str, str]) -> Any:
    """Activate sqlframe on ``conn`` and return the shimmed session (also what ``getOrCreate()`` returns)."""
    import sqlframe
    from sqlframe.duckdb import DuckDBSession
    from sqlframe.duckdb.readwriter import DuckDBDataFrameReader, DuckDBDataFrameWriter

    sqlframe.activate("duckdb", conn=conn)
    runner = SqlRunner(conn, workspace, params)
    reads: list[int] = []

    def qualify(name: str) -> list[str]:
        """catalog, schema, table — completed from ``USE CATALOG`` / ``USE SCHEMA`` as Spark does."""
        parts = split_identifier(name)
        if len(parts) > 3:
            raise SqlTaskError(f"table name {name!r} has more than three parts")
        current = list(runner.current())
        return current[: 3 - len(parts)] + parts

    class LocalReader(DuckDBDataFrameReader):
        def load(self, path: Any = None, format: Any = None, schema: Any = None, **options: Any) -> Any:
            fmt = (format or self.state_format_to_read or "parquet").lower()
            merged = {**self.state_options, **options}
            if schema is not None:
                raise SqlTaskError("spark.read with an explicit schema is not supported by the local engine yet")
            paths = path if isinstance(path, (list, tuple)) else [path]
            files: list[str] = []
            for p in paths:
                files.extend(resolve_files(workspace, str(p), recursive=False))
            listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
            if fmt == "csv":
                call = f"read_csv({', '.join([listing, *csv_arguments(merged, infer_default=False)])})"
            elif fmt == "json":
                multiline = str(merged.pop("multiLine", merged.pop("multiline", "false"))).lower() == "true"
                if merged:
                    raise SqlTaskError(f"JSON option(s) {', '.join(sorted(merged))} not supported by the local engine")
                call = f"read_json({listing}, format = '{'array' if multiline else 'newline_delimited'}')"
            elif fmt == "parquet":
                call = f"read_parquet({listing})"
            else:
                raise SqlTaskError(f"spark.read format {fmt!r} is not supported by the local engine (csv, json, parquet)")
            # A temporary view gives sqlframe a relation whose schema it can look up (a bare table function
            # would leave df.schema empty).
            reads.append(1)
            view = f"__flowdef_read_{len(reads)}"
            conn.execute(f'CREATE OR REPLACE TEMP VIEW "{view}" AS SELECT * FROM {call}')
            return session.table(f"temp.main.{view}")

        def table(self, tableName: str) -> Any:
            return super().table(_duck_name(qualify(tableName)))

    class LocalWriter(DuckDBDataFrameWriter):
        def saveAsTable(self, name: str, format: Any = None, mode: Any = None) -> Any:
            if format is not None and str(format).lower() != "delta":
                raise SqlTaskError(f"saveAsTable format {format!r}: tables are Delta tables on Databricks")
            parts = qualify(name)
            runner.ensure_schema(parts[0], parts[1])
            effective = str(mode or self._mode or "error").lower()
            if effective == "append" and not _exists(parts):
                effective = "error"  # Spark's append creates a missing table; sqlframe's would fail
            return super().saveAsTable(_duck_name(parts), mode=effective)

        def format(self, source: str) -> Any:
            if source.lower() == "delta":
                return self
            return super().format(source)

        def insertInto(self, tableName: str, overwrite: Any = None) -> Any:
            return super().insertInto(_duck_name(qualify(tableName)), overwrite=overwrite)

    class LocalSparkSession(DuckDBSession):
        _reader = LocalReader  # type: ignore[assignment]
        _writer = LocalWriter  # type: ignore[assignment]

        def sql(self, sqlQuery: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(sqlQuery, str) and not args and not kwargs:
                head = sqlQuery.lstrip().split(None, 1)[0].upper() if sqlQuery.strip() else ""
                if head in _NON_QUERY:
                    out = runner.run_statement(sqlQuery)
                    if out is None:
                        return self.createDataFrame([], "result string")
                    columns, rows, _ = out
                    return self.createDataFrame([tuple(r) for r in rows], columns) if rows else \
                        self.createDataFrame([], ", ".join(f"`{c}` string" for c in columns))
                lowered = sqlQuery.lower()
                if "read_files" in lowered or "identifier" in lowered or ":" in sqlQuery:
                    translated, _ = runner.translate(runner.bind(sqlQuery))
                    if translated is not None:
                        return super().sql(translated, dialect="duckdb")
            return super().sql(sqlQuery, *args, **kwargs)

    def _exists(parts: list[str]) -> bool:
        row = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?", parts
        ).fetchone()
        return bool(row and row[0])

    session = LocalSparkSession(conn)
    # `SparkSession.builder.getOrCreate()` in user code returns this session.
    for cls in (DuckDBSession, LocalSparkSession):
        cls.builder.__dict__["session"] = session
    module = sys.modules.get("pyspark.sql")
    if module is not None:
        module.SparkSession = LocalSparkSession  # type: ignore[attr-defined]
    return session


def _duck_name(parts: list[str]) -> str:
    """A name in sqlframe's input dialect (Spark): backticks, so ``01_bronze`` stays one identifier."""
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)
