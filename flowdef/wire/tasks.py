"""The wire shape of each task kind: the body of its ``*_task`` object, and the path rules they share.

``encode_<kind>(job, task, kind, target) -> body``; :mod:`flowdef.wire.kinds` pairs each with its wire field, its
decoder (:mod:`flowdef.wire.decode`) and its rules.  Pure functions of the frozen model and the target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from flowdef.load.config import Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.jobsapi.placeholders import job_placeholder, pipeline_placeholder
from flowdef.jobsapi.refs import quote_name
from flowdef.model.tasks import (
    AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask,
    NotebookTask, PipelineTask, PowerBiTask, PythonFileTask, PythonWheelTask, RunJobTask, SparkJarTask,
    SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask, Subscriber,
)

ENTRY_SCRIPT = "lib/flowdef_entry.py"
from flowdef.jobsapi.facts import (  # noqa: E402 - used as is, never uploaded
    CLOUD_PATH_PREFIXES as CLOUD, EXTERNAL_PATH_PREFIXES as EXTERNAL,
)

CompileTask = Callable[[JobSpec, TaskSpec, Target], dict]


def put(d: dict, key: str, value: Any) -> None:
    """Set ``d[key]`` unless the value is empty: payloads omit what is not set (``False`` and ``0`` are kept)."""
    if value is None or value == {} or value == [] or value == ():
        return
    d[key] = value


def workspace_path(target: Target, rel: str) -> str:
    return f"{target.root_path}/files/{Path(rel).as_posix()}"


def notebook_path(target: Target, rel: str) -> str:
    # Notebooks are imported without their extension.
    return workspace_path(target, str(Path(rel).with_suffix("")))


def sql_workspace_path(job: JobSpec, task: TaskSpec, target: Target) -> str:
    return f"{target.root_path}/sql/{job.key}/{task.key}.sql"


def function_task_parameters(job: JobSpec, task: TaskSpec) -> list[str]:
    """argv of the entry script: which function to run, and every parameter it receives."""
    kind = task.kind
    assert isinstance(kind, FunctionTask)
    argv = ["--job", job.key, "--task", task.key, "--module", kind.module, "--function", kind.function]
    names = [p.name for p in job.params]
    for name in names:
        argv += ["--param", f"{name}={{{{job.parameters.{quote_name(name)}}}}}"]
    for name, value in kind.parameters:
        argv += ["--param", f"{name}={value}"]
    return argv


def _code_path(job: JobSpec, path: str, target: Target, *, notebook: bool) -> tuple[str, str | None]:
    """(path, source) of a notebook or Python file (see the module docstring)."""
    if path.startswith(CLOUD):
        return path, ("WORKSPACE" if job.git is not None else None)
    if path.startswith(EXTERNAL):
        return path, "WORKSPACE"
    if job.git is not None:
        return (Path(path).with_suffix("").as_posix() if notebook else Path(path).as_posix()), "GIT"
    return (notebook_path(target, path) if notebook else workspace_path(target, path)), "WORKSPACE"


def _warehouse(kind, target: Target) -> str:
    return kind.warehouse_id or target.warehouse_id or ""


def _subscriptions(subs: tuple[Subscriber, ...]) -> list[dict]:
    out = []
    for s in subs:
        entry: dict = {}
        put(entry, "user_name", s.user_name)
        put(entry, "destination_id", s.destination_id)
        out.append(entry)
    return out


def encode_function(job, task, kind: FunctionTask, target) -> dict:
    return {
        "python_file": f"{target.root_path}/{ENTRY_SCRIPT}",
        "parameters": function_task_parameters(job, task),
        "source": "WORKSPACE",
    }


def encode_python_file(job, task, kind: PythonFileTask, target) -> dict:
    path, source = _code_path(job, kind.path, target, notebook=False)
    body: dict = {"python_file": path}
    put(body, "parameters", list(kind.parameters))
    put(body, "source", source)
    return body


def encode_notebook(job, task, kind: NotebookTask, target) -> dict:
    path = kind.path
    if path.__class__ is str and path[:1] == "/":  # absolute: used as is (what _code_path says, without the call)
        body: dict = {"notebook_path": path, "source": "WORKSPACE"}
    else:
        path, source = _code_path(job, path, target, notebook=True)
        body = {"notebook_path": path}
        if source is not None:
            body["source"] = source
    if kind.parameters:  # a non-empty dict (put() keeps it)
        body["base_parameters"] = dict(kind.parameters)
    if kind.warehouse_id is not None:
        put(body, "warehouse_id", kind.warehouse_id)
    return body


def encode_sql_file(job, task, kind: SqlFileTask, target) -> dict:
    body = {
        "file": {"path": sql_workspace_path(job, task, target), "source": "WORKSPACE"},
        "warehouse_id": _warehouse(kind, target),
    }
    put(body, "parameters", dict(kind.parameters))
    return body


def encode_sql_query(job, task, kind: SqlQueryTask, target) -> dict:
    body: dict = {"query": {"query_id": kind.query_id}, "warehouse_id": _warehouse(kind, target)}
    put(body, "parameters", dict(kind.parameters))
    return body


def encode_sql_alert(job, task, kind: SqlAlertTask, target) -> dict:
    alert: dict = {"alert_id": kind.alert_id}
    put(alert, "subscriptions", _subscriptions(kind.subscriptions))
    if kind.pause_subscriptions:
        alert["pause_subscriptions"] = True
    return {"alert": alert, "warehouse_id": _warehouse(kind, target)}


def encode_sql_dashboard(job, task, kind: SqlDashboardTask, target) -> dict:
    dash: dict = {"dashboard_id": kind.dashboard_id}
    put(dash, "subscriptions", _subscriptions(kind.subscriptions))
    put(dash, "custom_subject", kind.custom_subject)
    if kind.pause_subscriptions:
        dash["pause_subscriptions"] = True
    body: dict = {"dashboard": dash, "warehouse_id": _warehouse(kind, target)}
    put(body, "parameters", dict(kind.parameters))
    return body


def encode_python_wheel(job, task, kind: PythonWheelTask, target) -> dict:
    body: dict = {"package_name": kind.package_name, "entry_point": kind.entry_point}
    put(body, "parameters", list(kind.parameters))
    put(body, "named_parameters", dict(kind.named_parameters))
    return body


def encode_spark_jar(job, task, kind: SparkJarTask, target) -> dict:
    body: dict = {"main_class_name": kind.main_class_name}
    put(body, "parameters", list(kind.parameters))
    return body


def dbt_project_path(job: JobSpec, kind: DbtTask, target: Target) -> tuple[str | None, str]:
    """(project_directory, source) of a dbt task."""
    directory = kind.project_directory
    if directory is None:
        return None, "GIT" if job.git is not None else "WORKSPACE"
    if directory.startswith("/"):
        return directory, "WORKSPACE"
    if job.git is not None:
        return Path(directory).as_posix(), "GIT"
    return workspace_path(target, directory), "WORKSPACE"


def encode_dbt(job, task, kind: DbtTask, target) -> dict:
    directory, source = dbt_project_path(job, kind, target)
    body: dict = {"commands": list(kind.commands), "source": source}
    put(body, "project_directory", directory)
    put(body, "profiles_directory", kind.profiles_directory)
    warehouse = kind.warehouse_id or (target.warehouse_id if kind.profiles_directory is None else None)
    put(body, "warehouse_id", warehouse)
    put(body, "catalog", kind.catalog)
    put(body, "schema", kind.schema)
    return body


def encode_pipeline(job, task, kind: PipelineTask, target) -> dict:
    pipeline_id = kind.pipeline_id if kind.pipeline_id is not None else pipeline_placeholder(kind.pipeline_name or "")
    body: dict = {"pipeline_id": pipeline_id}
    if kind.full_refresh:
        body["full_refresh"] = True
    return body


def encode_run_job(job, task, kind: RunJobTask, target) -> dict:
    body: dict = {"job_id": kind.job_id if kind.job_id is not None else job_placeholder(kind.job_key or "")}
    put(body, "job_parameters", dict(kind.job_parameters))
    return body


def encode_condition(job, task, kind: ConditionTask, target) -> dict:
    return {"op": kind.op, "left": kind.left, "right": kind.right}


def encode_dashboard(job, task, kind: DashboardTask, target) -> dict:
    body: dict = {"dashboard_id": kind.dashboard_id}
    put(body, "warehouse_id", kind.warehouse_id)
    sub: dict = {}
    put(sub, "subscribers", _subscriptions(kind.subscribers))
    put(sub, "custom_subject", kind.custom_subject)
    if kind.paused:
        sub["paused"] = True
    put(body, "subscription", sub)
    return body


def encode_alert(job, task, kind: AlertTask, target) -> dict:
    body: dict = {}
    put(body, "alert_id", kind.alert_id)
    put(body, "workspace_path", kind.workspace_path)
    put(body, "warehouse_id", kind.warehouse_id)
    put(body, "subscribers", _subscriptions(kind.subscribers))
    return body


def encode_power_bi(job, task, kind: PowerBiTask, target) -> dict:
    body: dict = {"connection_resource_name": kind.connection_resource_name}
    if kind.model is not None:
        m = kind.model
        model: dict = {"workspace_name": m.workspace_name, "model_name": m.model_name}
        put(model, "storage_mode", m.storage_mode)
        put(model, "authentication_method", m.authentication_method)
        put(model, "overwrite_existing", m.overwrite_existing)
        body["power_bi_model"] = model
    tables = []
    for t in kind.tables:
        table: dict = {"catalog": t.catalog, "schema": t.schema, "name": t.name}
        put(table, "storage_mode", t.storage_mode)
        tables.append(table)
    put(body, "tables", tables)
    put(body, "warehouse_id", kind.warehouse_id)
    put(body, "refresh_after_update", kind.refresh_after_update)
    return body


def encode_clean_room_notebook(job, task, kind: CleanRoomNotebookTask, target) -> dict:
    body: dict = {"clean_room_name": kind.clean_room_name, "notebook_name": kind.notebook_name}
    put(body, "notebook_base_parameters", dict(kind.parameters))
    put(body, "etag", kind.etag)
    return body
