"""One task attempt on the local engine: a payload task in, an outcome out.  No run semantics here.

:func:`execute_attempt` runs in the current process (the isolated child, see :mod:`flowdef.local.isolation`).
Its input is the compiled payload's task (``{{...}}`` references already resolved by the control plane), the
job parameters, the task values upstream tasks set, and where things are (:class:`AttemptRequest`).  Its
output (:class:`AttemptResult`) is the outcome (``SUCCESS`` / ``FAILED``), the error, the task values set, the
output (SQL result rows, ``display`` rows, the notebook exit value).

Workspace paths in the payload map back to the project: ``<root_path>/files/<rel>`` -> ``<project>/<rel>``,
``<root_path>/sql/<job>/<task>.sql`` -> the rendered SQL (``sources``), ``<root_path>/lib/flowdef_entry.py`` ->
a function task run with flowdef's TaskContext.

A second data backend (real PySpark) would replace :func:`open_data` — the control plane never sees it.
"""

from __future__ import annotations

import io
import os
import runpy
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any

ENTRY_SUFFIX = "/lib/flowdef_entry.py"


@dataclass
class AttemptRequest:
    task: dict[str, Any]
    job_params: dict[str, str]
    data_dir: str
    project_root: str
    root_path: str
    job_key: str = ""
    upstream_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # workspace path -> local file (rendered SQL)
    templates: dict[str, str] = field(default_factory=dict)  # workspace path of rendered SQL -> its template file
    stdout_path: str | None = None
    stderr_path: str | None = None


@dataclass
class AttemptResult:
    state: str  # SUCCESS | FAILED | TIMEDOUT
    error: str | None = None
    error_trace: str | None = None
    task_values: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    notebook_output: str | None = None
    duration_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TaskFailure(Exception):
    """A failure whose message is the whole story (no traceback needed)."""


def open_data(request: AttemptRequest) -> tuple[Any, Any]:
    """(workspace, DuckDB connection) — the DuckDB data backend."""
    from flowdef.local.workspace import LocalWorkspace

    workspace = LocalWorkspace(request.data_dir)
    return workspace, workspace.connect()


def _map_path(request: AttemptRequest, path: str, extensions: tuple[str, ...] = ("",)) -> str:
    if path in request.sources:
        return request.sources[path]
    root = request.root_path.rstrip("/")
    rel = None
    if path.startswith(root + "/files/"):
        rel = path[len(root) + len("/files/"):]
    elif not path.startswith("/"):
        rel = path
    if rel is None:
        raise TaskFailure(f"{path}: not a file of this project (the local engine runs files under {root}/files/)")
    for ext in extensions:
        local = os.path.join(request.project_root, rel + ext)
        if os.path.isfile(local):
            return local
    raise TaskFailure(f"{path}: no such project file ({os.path.join(request.project_root, rel)})")


def _pairs(parameters: list[str]) -> dict[str, str]:
    """``--name value`` pairs of a Python file task's arguments (what its widgets would be)."""
    out: dict[str, str] = {}
    i = 0
    while i < len(parameters):
        item = parameters[i]
        if item.startswith("--") and i + 1 < len(parameters):
            out[item[2:]] = parameters[i + 1]
            i += 2
        else:
            i += 1
    return out


def execute_attempt(request: AttemptRequest) -> AttemptResult:
    """Run one attempt in this process; every error becomes a FAILED result."""
    start = time.monotonic()
    result = AttemptResult(state="SUCCESS")
    try:
        _dispatch(request, result)
    except TaskFailure as exc:
        result.state, result.error = "FAILED", str(exc)
    except SystemExit as exc:
        code = exc.code
        if code not in (None, 0):
            result.state, result.error = "FAILED", f"the task called sys.exit({code!r})"
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything; it fails the task, not the engine
        if isinstance(exc, KeyboardInterrupt):
            raise
        from flowdef.local.sql import SqlTaskError

        result.state = "FAILED"
        result.error = str(exc) if isinstance(exc, SqlTaskError) else f"{type(exc).__name__}: {exc}"
        result.error_trace = traceback.format_exc()
    result.duration_ms = int((time.monotonic() - start) * 1000)
    return result


def _dispatch(request: AttemptRequest, result: AttemptResult) -> None:
    task = request.task
    if "sql_task" in task:
        _sql_task(request, task["sql_task"], result)
    elif "spark_python_task" in task:
        _python_task(request, task["spark_python_task"], result)
    elif "notebook_task" in task:
        _notebook_task(request, task["notebook_task"], result)
    else:
        kinds = sorted(k for k in task if k.endswith("_task"))
        raise TaskFailure(f"task kind {', '.join(kinds) or '(none)'} is not run by the local engine's data plane")


def _sql_task(request: AttemptRequest, body: dict[str, Any], result: AttemptResult) -> None:
    from flowdef.local.sql import SqlRunner

    if "file" not in body:
        what = next((k for k in ("query", "alert", "dashboard") if k in body), "?")
        raise TaskFailure(f"sql_task.{what} refers to a workspace object; only SQL files run locally")
    path = body["file"]["path"]
    local = _map_path(request, path)
    with open(local, encoding="utf-8") as fh:
        text = fh.read()
    params = {**request.job_params, **{k: str(v) for k, v in (body.get("parameters") or {}).items()}}
    workspace, conn = open_data(request)
    try:
        source, note = _sql_source(request, path, local, text)
        out = SqlRunner(conn, workspace, params).run_file(text, source, note=note)
    finally:
        conn.close()
    result.columns, result.rows, result.truncated = out.columns, out.rows, out.truncated


def _sql_source(request: AttemptRequest, path: str, local: str, text: str) -> tuple[str, str]:
    """How a failing statement names its file (and a note on where it comes from): the SQL template the user
    edits when the rendered file kept its lines (each template line rendered to one line: then line N is the
    template's line N), else the rendered file, naming its template."""
    shown = os.path.relpath(local, request.project_root) if local.startswith(request.project_root) else local
    template = request.templates.get(path)
    if template is None:
        return shown, ""
    try:
        with open(os.path.join(request.project_root, template), encoding="utf-8") as fh:
            same_lines = fh.read().count("\n") == text.count("\n")
    except OSError:
        same_lines = False
    if same_lines:
        return template, f" (in the rendered file {shown})"
    return shown, f" (rendered from {template}, whose lines differ)"


class _Globals:
    """spark / dbutils / display for one attempt (the connection opened on first use of ``spark``)."""

    def __init__(self, request: AttemptRequest, widgets: dict[str, str]) -> None:
        from flowdef.local.dbutils import DBUtils, Display
        from flowdef.local.workspace import LocalWorkspace

        self.request = request
        self.workspace = LocalWorkspace(request.data_dir)
        self.dbutils = DBUtils(self.workspace, widgets, request.upstream_values)
        self.display = Display()
        self._conn: Any = None
        self._spark: Any = None
        self.widgets = widgets
        _activate_pyspark(self)

    @property
    def spark(self) -> Any:
        if self._spark is None:
            from flowdef.local.spark import make_session

            _, self._conn = open_data(self.request)
            self._spark = make_session(self._conn, self.workspace, self.widgets)
        return self._spark

    def namespace(self, path: str) -> dict[str, Any]:
        return {"spark": _LazySpark(self), "dbutils": self.dbutils, "display": self.display, "__file__": path}

    def close(self, result: AttemptResult) -> None:
        result.task_values = dict(self.dbutils.task_values)
        if self.display.columns and not result.columns:
            result.columns, result.rows = self.display.columns, self.display.rows
        if self._conn is not None:
            self._conn.close()


def _activate_pyspark(g: _Globals) -> None:
    """``from pyspark.sql import SparkSession`` resolves to sqlframe, and ``getOrCreate()`` to this attempt's
    session — opened on first use, so code that never touches Spark never takes the DuckDB file lock."""
    import sqlframe
    from sqlframe.duckdb import DuckDBSession

    sqlframe.activate("duckdb")
    DuckDBSession.Builder.getOrCreate = lambda builder: g.spark  # type: ignore[method-assign,assignment]


class _LazySpark:
    """``spark`` as a global: opening DuckDB (and its file lock) only when the code touches it."""

    def __init__(self, owner: _Globals) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.spark, name)


def _python_task(request: AttemptRequest, body: dict[str, Any], result: AttemptResult) -> None:
    from flowdef.local.dbutils import NotebookExit

    path = body["python_file"]
    parameters = [str(p) for p in body.get("parameters") or []]
    if path.endswith(ENTRY_SUFFIX):
        _function_task(request, parameters, result)
        return
    local = _map_path(request, path)
    g = _Globals(request, {**request.job_params, **_pairs(parameters)})
    argv = sys.argv
    sys.argv = [local, *parameters]
    try:
        runpy.run_path(local, init_globals=g.namespace(local), run_name="__main__")
    except NotebookExit as exc:
        result.notebook_output = exc.value
    finally:
        sys.argv = argv
        g.close(result)


def _function_task(request: AttemptRequest, parameters: list[str], result: AttemptResult) -> None:
    from flowdef.runtime import TaskContext, TaskValues, _parser, resolve

    args = _parser().parse_args(parameters)
    params = dict(p.partition("=")[::2] for p in args.param)
    g = _Globals(request, params)
    if request.project_root not in sys.path:
        sys.path.insert(0, request.project_root)
    try:
        _import_from_project(args.module, request.project_root)
        target = resolve(args.module, args.function)
        function = getattr(target, "function", target)
        declared: dict[str, str] = {}
        job = getattr(target, "job", None)
        for spec in getattr(job, "_tasks", ()):
            if spec.key == args.task:
                declared = dict(spec.values)
        store = _ValueStore(g)
        ctx = TaskContext(job=args.job, task=args.task, params=params,
                          task_values=TaskValues(args.task, declared, store=store),  # type: ignore[arg-type]
                          spark=_LazySpark(g))
        function(ctx)
    finally:
        g.close(result)


def _import_from_project(module: str, root: str) -> None:
    """Import ``module`` from the project folder, whatever else on ``sys.path`` has the same top-level name (a
    project's ``pipelines/`` without ``__init__.py`` is a namespace package, which any regular package of that
    name elsewhere on the path would otherwise win over)."""
    import importlib.util
    import types

    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name in sys.modules:
            continue
        base = os.path.join(root, *parts[:i])
        init = os.path.join(base, "__init__.py")
        if i < len(parts) or os.path.isdir(base):
            if os.path.isfile(init):
                spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[base])
            elif os.path.isdir(base):
                namespace = types.ModuleType(name)
                namespace.__path__ = [base]  # type: ignore[attr-defined]
                sys.modules[name] = namespace
                continue
            else:
                return  # not a project module: a normal import will look for it
        else:
            if not os.path.isfile(base + ".py"):
                return
            spec = importlib.util.spec_from_file_location(name, base + ".py")
        if spec is None or spec.loader is None:
            return
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)


class _ValueStore:
    """flowdef.runtime's task-value store interface over this attempt's dbutils."""

    def __init__(self, g: _Globals) -> None:
        self._tv = g.dbutils.jobs.taskValues

    def set(self, task: str, key: str, value: Any) -> None:
        self._tv.set(key, value)

    def get(self, task: str, key: str, default: Any, debug_value: Any) -> Any:
        return self._tv.get(task, key, default=default, debugValue=debug_value)


def _notebook_task(request: AttemptRequest, body: dict[str, Any], result: AttemptResult) -> None:
    from flowdef.local.dbutils import NotebookExit
    from flowdef.local.sql import SqlRunner

    local = _map_path(request, body["notebook_path"], ("", ".py", ".sql"))
    with open(local, encoding="utf-8") as fh:
        text = fh.read()
    params = {**request.job_params, **{k: str(v) for k, v in (body.get("base_parameters") or {}).items()}}
    g = _Globals(request, params)
    try:
        if local.endswith(".sql"):
            if not text.startswith("-- Databricks notebook source"):
                raise TaskFailure(f"{local}: not a SQL notebook in source format")
            g.spark  # noqa: B018 - opens the connection
            out = SqlRunner(g._conn, g.workspace, params).run_file(text, local)
            result.columns, result.rows = out.columns, out.rows
            return
        if not text.startswith("# Databricks notebook source"):
            raise TaskFailure(f"{local}: not a Python notebook in source format ('# Databricks notebook source')")
        namespace = g.namespace(local)
        for number, cell in enumerate(text.split("\n# COMMAND ----------\n"), 1):
            _run_cell(cell, number, local, namespace, g, result)
    except NotebookExit as exc:
        result.notebook_output = exc.value
    finally:
        g.close(result)


def _run_cell(cell: str, number: int, path: str, namespace: dict[str, Any], g: _Globals, result: AttemptResult) -> None:
    from flowdef.local.sql import SqlRunner

    lines = cell.strip("\n").splitlines()
    magic = [ln[len("# MAGIC "):] if ln.startswith("# MAGIC ") else ln[len("# MAGIC"):] for ln in lines
             if ln.startswith("# MAGIC")]
    if magic and len(magic) == len([ln for ln in lines if ln.strip()]):
        head = magic[0].strip().split()[0] if magic[0].strip() else ""
        if head == "%md":
            return
        if head == "%sql":
            g.spark  # noqa: B018
            out = SqlRunner(g._conn, g.workspace, g.widgets).run_file("\n".join(magic)[len("%sql"):], f"{path} cell {number}")
            result.columns, result.rows = out.columns, out.rows
            return
        raise TaskFailure(f"{path}: cell {number}: magic {head} is not supported by the local engine")
    code = compile(cell, f"{path} (cell {number})", "exec")
    exec(code, namespace)  # noqa: S102 - running the user's notebook is the point


def run_in_process(request: AttemptRequest) -> tuple[AttemptResult, str, str]:
    """Run without isolation, capturing Python-level stdout/stderr (tests and the in-process harness)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        result = execute_attempt(request)
    finally:
        sys.stdout, sys.stderr = old
    return result, out.getvalue(), err.getvalue()
