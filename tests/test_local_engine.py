"""The local data plane's pieces: SQL translation, read_files, the Spark shims, dbutils, isolation."""

from __future__ import annotations

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlframe")

from flowdef.local.attempt import AttemptRequest, run_in_process  # noqa: E402
from flowdef.local.isolation import run_isolated  # noqa: E402
from flowdef.local.sql import SqlRunner, SqlTaskError, split_statements  # noqa: E402
from flowdef.local.workspace import LocalWorkspace, WorkspaceError  # noqa: E402


@pytest.fixture
def ws(tmp_path):
    workspace = LocalWorkspace(tmp_path / "ws")
    landing = workspace.volume("cat", "00_landing", "files")
    (landing / "people.csv").write_text('id,name,born\n1,"Doe, J",2001-02-03\n2,null,05-06-2001\n\n')
    (landing / "more_1.csv").write_text("a,b\n1,x\n")
    (landing / "more_2.csv").write_text("a,b\n2,y\n")
    (landing / "rows.json").write_text('{"k": 1}\n{"k": 2}\n')
    return workspace


def run_sql(ws, text, params=None):
    conn = ws.connect()
    try:
        return SqlRunner(conn, ws, params or {}).run_file(text, "task.sql")
    finally:
        conn.close()


def test_statements_keep_their_line_numbers():
    stmts = split_statements("-- c\nSELECT 1;\n\n  SELECT ';'\n  ;\nSELECT 3")
    assert [(s.number, s.line) for s in stmts] == [(1, 2), (2, 4), (3, 6)]


def test_markers_identifier_legacy_use_and_except(ws):
    out = run_sql(ws, """
        USE CATALOG cat;
        USE SCHEMA 01_bronze;
        CREATE TABLE IDENTIFIER(:catalog || '.' || :schema || '.t') AS SELECT 1 AS a, 'x' AS b, 2 AS c;
        SELECT * EXCEPT (b), CAST(:n AS BIGINT) + 1 AS n1, '${schema}' AS s FROM t;
    """, {"catalog": "cat", "schema": "01_bronze", "n": "41"})
    assert out.columns == ["a", "c", "n1", "s"] and out.rows == [[1, 2, 42, "01_bronze"]]


def test_read_files_databricks_defaults(ws):
    out = run_sql(ws, "SELECT * FROM read_files('/Volumes/cat/00_landing/files/people.csv', format => 'csv', "
                      "header => true) ORDER BY id")
    assert out.columns == ["id", "name", "born", "_rescued_data"]
    # types inferred, "null" is text, only ISO dates are dates (05-06-2001 keeps the column a string)
    assert out.rows == [[1, "Doe, J", "2001-02-03", None], [2, "null", "05-06-2001", None]]
    globbed = run_sql(ws, "SELECT a, b FROM read_files('/Volumes/cat/00_landing/files/more_{1,2}.csv', "
                          "format => 'csv', header => true) ORDER BY a")
    assert globbed.rows == [[1, "x"], [2, "y"]]
    no_header = run_sql(ws, "SELECT count(*) FROM read_files('/Volumes/cat/00_landing/files/more_1.csv', format => 'csv')")
    assert no_header.rows == [[2]]  # header defaults to false: the header line is a row
    js = run_sql(ws, "SELECT sum(k) AS s FROM read_files('/Volumes/cat/00_landing/files/rows.json', format => 'json')")
    assert js.rows == [[3]]


@pytest.mark.parametrize("sql, message", [
    ("SELECT 1;\n\nOPTIMIZE t", "task.sql:3: statement 2: OPTIMIZE statements are not supported"),
    ("SELECT :missing", "task.sql:1: statement 1: parameter marker :missing has no value"),
    ("SELECT * FROM read_files('/Volumes/cat/00_landing/files/people.csv', format => 'csv', badOption => 1)",
     "CSV option(s) badoption not supported"),
    ("SELECT * FROM read_files('/tmp/x.csv', format => 'csv')", "outside Unity Catalog volumes"),
    ("SELECT * FROM read_files('/Volumes/cat/00_landing/files/none*.csv', format => 'csv')", "PATH_NOT_FOUND"),
    ("USE CATALOG nope", "catalog 'nope' does not exist"),
    ("INSERT OVERWRITE t SELECT 1", "INSERT OVERWRITE is not supported"),
    ("SELECT '${nope}'", "${nope} has no value"),
])
def test_what_cannot_run_faithfully_fails_with_file_and_line(ws, sql, message):
    with pytest.raises(SqlTaskError) as err:
        run_sql(ws, sql)
    assert message in str(err.value)


def test_volume_paths_are_confined(ws):
    with pytest.raises(WorkspaceError):
        ws.local_path("/Volumes/cat/../../etc/passwd")
    assert ws.local_path("dbfs:/Volumes/c/s/v/a.csv").endswith("volumes/c/s/v/a.csv")


def _request(tmp_path, ws, code, params=None, upstream=None, name="t.py", kind="spark_python_task"):
    (tmp_path / name).write_text(code)
    body = {"python_file": name, "parameters": params or []} if kind == "spark_python_task" else \
        {"notebook_path": name.rsplit(".", 1)[0], "base_parameters": dict(params or {})}
    return AttemptRequest(task={"task_key": "t", kind: body}, job_params={}, data_dir=str(ws.root),
                          project_root=str(tmp_path), root_path="/Workspace/x", upstream_values=upstream or {})


LESSON_STYLE = '''
import os
def _get_widget_or_env(name, env):
    try:
        return dbutils.widgets.get(name)
    except Exception:
        return os.environ.get(env)
catalog = _get_widget_or_env("catalog", "CATALOG")
schema = _get_widget_or_env("schema", "SCHEMA")
spark.sql(f"USE CATALOG {catalog}")
spark.sql(f"USE SCHEMA {schema}")
from pyspark.sql import Window, functions as F
df = spark.read.format("csv").option("header", "true").load(f"/Volumes/{catalog}/00_landing/files/more_*.csv")
w = Window.partitionBy("a").orderBy(F.col("b").desc())
df.withColumn("rn", F.row_number().over(w)).write.mode("overwrite").saveAsTable(f"{catalog}.{schema}.more")
n = spark.table("more").count()
dbutils.jobs.taskValues.set("rows", n)
display(spark.table(f"{catalog}.{schema}.more").orderBy("a"))
'''


def test_lesson_style_pyspark_runs_unmodified(tmp_path, ws):
    result, out, _ = run_in_process(_request(tmp_path, ws, LESSON_STYLE, ["--catalog", "cat", "--schema", "01_bronze"]))
    assert (result.state, result.error) == ("SUCCESS", None), result.error_trace
    assert result.task_values == {"rows": 2}
    # spark.read CSV without inferSchema: strings, like Spark
    assert result.columns == ["a", "b", "rn"] and result.rows == [["1", "x", 1], ["2", "y", 1]]


def test_notebook_widgets_exit_and_task_values(tmp_path, ws):
    code = ("# Databricks notebook source\ndbutils.widgets.text('n', '5')\nx = int(dbutils.widgets.get('n'))\n"
            "# COMMAND ----------\n# MAGIC %md\n# MAGIC hello\n# COMMAND ----------\n"
            "up = dbutils.jobs.taskValues.get('prev', 'k', default=0)\n"
            "dbutils.jobs.taskValues.set('double', x * 2 + up)\ndbutils.notebook.exit('done')\nraise SystemExit(9)\n")
    req = _request(tmp_path, ws, code, {"n": "7"}, {"prev": {"k": 100}}, name="nb.py", kind="notebook_task")
    result, _, _ = run_in_process(req)
    assert (result.state, result.notebook_output, result.task_values) == ("SUCCESS", "done", {"double": 114})


def test_task_value_limit_and_undefined_widget(tmp_path, ws):
    big, _, _ = run_in_process(_request(tmp_path, ws, "dbutils.jobs.taskValues.set('x', 'a' * 50000)"))
    assert big.state == "FAILED" and "48 KiB" in big.error
    missing, _, _ = run_in_process(_request(tmp_path, ws, "dbutils.widgets.get('nope')"))
    assert missing.state == "FAILED" and "InputWidgetNotDefined" in missing.error


def test_dbutils_fs_on_volumes(tmp_path, ws):
    code = ("dbutils.fs.put('/Volumes/cat/00_landing/files/new/a.txt', 'hi')\n"
            "names = [f.name for f in dbutils.fs.ls('/Volumes/cat/00_landing/files/new')]\n"
            "dbutils.jobs.taskValues.set('names', names)\n"
            "dbutils.jobs.taskValues.set('head', dbutils.fs.head('/Volumes/cat/00_landing/files/new/a.txt'))\n")
    result, _, _ = run_in_process(_request(tmp_path, ws, code))
    assert result.task_values == {"names": ["a.txt"], "head": "hi"}


@pytest.mark.parametrize("code, state, error", [
    ("import sys; sys.exit(3)", "FAILED", "sys.exit(3)"),
    ("import sys; sys.exit(0)", "SUCCESS", None),
    ("import os; os._exit(5)", "FAILED", "exit code 5"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "FAILED", "signal 11"),
    ("while True: pass", "TIMEDOUT", "timed out after 1 s"),
    ("raise ValueError('boom')", "FAILED", "ValueError: boom"),
])
def test_user_code_fails_its_attempt_not_the_engine(tmp_path, ws, code, state, error):
    run_isolated(_request(tmp_path, ws, "pass"))  # the fork server is up: the 1 s timeout is the task's alone
    req = _request(tmp_path, ws, "print('before')\n" + code)
    req.stdout_path = str(tmp_path / "out.txt")
    result = run_isolated(req, timeout=1 if state == "TIMEDOUT" else 60)
    assert result.state == state
    assert (result.error is None) if error is None else (error in result.error)
    assert (tmp_path / "out.txt").read_text().startswith("before")


def test_a_run_view_never_mixes_two_moments(tmp_path):
    """The follower reads a run while the driver saves it: state and machine come from one row, so a run is
    never shown TERMINATED without its result (a torn read made ``flowdef run`` exit 1 on a successful run)."""
    from types import SimpleNamespace

    from flowdef.local.backend import run_view
    from flowdef.local.records import Records
    from flowdef.runs import Run

    settings = {"name": "j", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]}
    records = Records(tmp_path / "runs.db")
    run_id = records.create("j", "local", {}, settings, "RUNNING")
    run = Run(settings, now=1, params={}, job_id="j", run_id=run_id, job_name="j")
    (work,) = run.ready(2)
    run.task_started(work.key, 2)
    records.save(run_id, run)
    stale = records.row(run_id)  # the follower read the row here ...
    run.attempt_finished("a", "SUCCESS", 3, attempt=work.attempt)
    records.save(run_id, run)  # ... the driver saved the end ...
    assert run.result == "SUCCESS"

    class Reading(Records):
        calls = 0

        def row(self, rid):  # ... and the follower goes on from what it read first (a second read is newer)
            self.calls += 1
            return stale if self.calls == 1 else super().row(rid)

    reading = Reading(tmp_path / "runs.db")
    view = run_view(SimpleNamespace(records=reading, data_dir=tmp_path), run_id)
    assert (view.state, view.result, view.finished) == ("RUNNING", None, False)
    view = run_view(SimpleNamespace(records=records, data_dir=tmp_path), run_id)
    assert (view.state, view.result, view.finished) == ("TERMINATED", "SUCCESS", True)


def test_a_failing_sql_statement_is_named_at_its_template_when_the_lines_match(tmp_path):
    """The local engine runs the rendered SQL; the user edits the template.  When rendering kept every line, the
    error names the template and the line is the template's; when it did not (a loop, a multi-line value), it
    names the rendered file and says which template it comes from."""
    from flowdef.local.attempt import AttemptRequest, _sql_source

    (tmp_path / "sql_templates").mkdir()
    (tmp_path / "sql_templates" / "same.sql").write_text("SELECT 1;\nSELECT {{ col }} FROM t;\n")
    (tmp_path / "sql_templates" / "loop.sql").write_text("{% for c in cols %}\nSELECT {{ c }};\n{% endfor %}\n")
    rendered = str(tmp_path / ".flowdef" / "build" / "job" / "task.sql")
    request = AttemptRequest(task={}, job_params={}, data_dir="", project_root=str(tmp_path), root_path="/r",
                             templates={"/r/sql/same.sql": "sql_templates/same.sql",
                                        "/r/sql/loop.sql": "sql_templates/loop.sql"})
    assert _sql_source(request, "/r/sql/same.sql", rendered, "SELECT 1;\nSELECT a FROM t;\n") == (
        "sql_templates/same.sql", " (in the rendered file .flowdef/build/job/task.sql)")
    assert _sql_source(request, "/r/sql/loop.sql", rendered, "\nSELECT a;\n\nSELECT b;\n\n\n") == (
        ".flowdef/build/job/task.sql", " (rendered from sql_templates/loop.sql, whose lines differ)")
    assert _sql_source(request, "/r/sql/other.sql", rendered, "SELECT 1") == (".flowdef/build/job/task.sql", "")
