"""Compile the frozen model into Jobs API 2.2 ``jobs/create`` payloads: pure and deterministic.

The same model and target always give byte-identical JSON (``to_json``): sorted keys, tasks in declaration
order, environments and clusters sorted by key, no empty fields.  The compiler also lists the *artifacts* the
payload references (rendered SQL files, project Python files, notebooks, the function-task runtime), which
``compile`` writes for review and ``apply`` uploads.  No SDK import here; jinja2 only when SQL is rendered.

Workspace layout under a target's ``root_path``::

    <root>/files/...            project files (pipelines/, scripts, notebooks)
    <root>/lib/flowdef/...      the flowdef runtime used by function tasks
    <root>/lib/flowdef_entry.py the entry script of function tasks (spark_python_task)
    <root>/sql/<job>/<task>.sql rendered SQL templates
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from flowdef.compute import Environment, ExistingCluster, JobCluster
from flowdef.config import ProjectConfig, Target
from flowdef.model import JobSpec, TaskSpec
from flowdef.refs import quote_name
from flowdef.tasks import FunctionTask, NotebookTask, PythonFileTask, SqlFileTask
from flowdef.triggers import Continuous, Cron, FileArrival, JobCompletion, Periodic, TableUpdate

FLOWDEF_DIR = Path(__file__).resolve().parent
ENTRY_SCRIPT = "lib/flowdef_entry.py"
IDENTITY_TAGS = ("flowdef_project", "flowdef_target", "flowdef_job")
_EXTERNAL = ("/", "dbfs:", "s3:", "s3a:", "abfss:", "gs:", "wasbs:", "file:")


@attrs.frozen
class Artifact:
    """A file the payload needs in the workspace: uploaded as a workspace ``file`` or a ``notebook``."""

    workspace_path: str
    kind: str  # "file" | "notebook"
    source: Path | None = None  # a local file
    content: bytes | None = None  # generated content

    def data(self) -> bytes:
        return self.content if self.content is not None else self.source.read_bytes()  # type: ignore[union-attr]


@attrs.frozen
class CompiledJob:
    key: str
    payload: dict
    artifacts: tuple[Artifact, ...] = ()
    sql: tuple[tuple[str, str], ...] = ()  # (task key, rendered SQL)


def to_json(payload: dict) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _put(d: dict, key: str, value: Any) -> None:
    if value is None or value == {} or value == [] or value == ():
        return
    d[key] = value


def _workspace_path(target: Target, rel: str) -> str:
    return f"{target.root_path}/files/{Path(rel).as_posix()}"


def _notebook_path(target: Target, rel: str) -> str:
    # Notebooks are imported without their extension.
    return _workspace_path(target, str(Path(rel).with_suffix("")))


def resolve_params(text: str, job: JobSpec, target: Target) -> str:
    """Triggers fire before any run exists, so ``{{job.parameters.x}}`` in a trigger (a volume path, a table
    name) can only mean the parameter's default: it is substituted at compile time, per target."""
    if "{{" not in text:
        return text
    overrides = target.params_dict
    for p in job.params:
        value = overrides.get(p.name, p.default)
        text = text.replace("{{job.parameters." + quote_name(p.name) + "}}", value)
    return text


def _trigger(job: JobSpec, target: Target) -> dict:
    if not job.triggers:
        return {}
    t = job.triggers[0]
    paused = t.paused or target.pause_triggers
    pause = "PAUSED" if paused else "UNPAUSED"
    if isinstance(t, Cron):
        return {"schedule": {"quartz_cron_expression": t.expression, "timezone_id": t.timezone,
                             "pause_status": pause}}
    if isinstance(t, Continuous):
        body: dict = {"pause_status": pause}
        _put(body, "task_retry_mode", t.task_retry_mode)
        return {"continuous": body}
    if isinstance(t, FileArrival):
        inner: dict = {"url": resolve_params(t.url, job, target)}
        _put(inner, "min_time_between_triggers_seconds", t.min_time_between_triggers)
        _put(inner, "wait_after_last_change_seconds", t.wait_after_last_change)
        return {"trigger": {"file_arrival": inner, "pause_status": pause}}
    if isinstance(t, TableUpdate):
        inner = {"table_names": [resolve_params(n, job, target) for n in t.tables], "condition": t.condition}
        _put(inner, "min_time_between_triggers_seconds", t.min_time_between_triggers)
        _put(inner, "wait_after_last_change_seconds", t.wait_after_last_change)
        return {"trigger": {"table_update": inner, "pause_status": pause}}
    if isinstance(t, Periodic):
        return {"trigger": {"periodic": {"interval": t.interval, "unit": t.unit}, "pause_status": pause}}
    if isinstance(t, JobCompletion):
        jobs = [{"job_id": str(j), "workspace_id": str(t.workspace_id or "{{workspace.id}}")} for j in t.jobs]
        inner = {"jobs": jobs}
        _put(inner, "if_status", t.if_status)
        return {"trigger": {"job_completion": inner, "pause_status": pause}}
    raise TypeError(f"unknown trigger {t!r}")  # pragma: no cover - validation rejects it first


def _environment(env: Environment) -> dict:
    spec: dict = {"environment_version": env.version}
    _put(spec, "dependencies", list(env.dependencies))
    return {"environment_key": env.key, "spec": spec}


def _cluster_spec(spec) -> dict:
    out: dict = {"spark_version": spec.spark_version}
    _put(out, "node_type_id", spec.node_type_id)
    _put(out, "num_workers", spec.num_workers)
    if spec.autoscale is not None:
        out["autoscale"] = {"min_workers": spec.autoscale.min_workers, "max_workers": spec.autoscale.max_workers}
    _put(out, "policy_id", spec.policy_id)
    _put(out, "spark_conf", dict(spec.spark_conf))
    _put(out, "spark_env_vars", dict(spec.spark_env_vars))
    _put(out, "data_security_mode", spec.data_security_mode)
    _put(out, "single_user_name", spec.single_user_name)
    return out


def _compute_of(job: JobSpec, task: TaskSpec):
    if task.compute is not None:
        return task.compute
    if getattr(task.kind, "needs_compute", False):
        return job.compute
    return None


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


def _task(job: JobSpec, task: TaskSpec, target: Target, config: ProjectConfig) -> dict:
    out: dict = {"task_key": task.key}
    _put(out, "description", task.description)
    if task.depends_on:
        deps = []
        for d in task.depends_on:
            dep = {"task_key": d.task_key}
            _put(dep, "outcome", d.outcome)
            deps.append(dep)
        out["depends_on"] = deps
    _put(out, "run_if", task.run_if)
    if task.retry is not None:
        out["max_retries"] = task.retry.max_retries
        if task.retry.interval is not None:
            out["min_retry_interval_millis"] = int(task.retry.interval * 1000)
        if task.retry.on_timeout:
            out["retry_on_timeout"] = True
    _put(out, "timeout_seconds", task.timeout_seconds)
    if task.disabled:
        out["disabled"] = True
    compute = _compute_of(job, task)
    if isinstance(compute, Environment):
        out["environment_key"] = compute.key
    elif isinstance(compute, JobCluster):
        out["job_cluster_key"] = compute.key
    elif isinstance(compute, ExistingCluster):
        out["existing_cluster_id"] = compute.cluster_id
    kind = task.kind
    if isinstance(kind, FunctionTask):
        out["spark_python_task"] = {
            "python_file": f"{target.root_path}/{ENTRY_SCRIPT}",
            "parameters": function_task_parameters(job, task),
            "source": "WORKSPACE",
        }
    elif isinstance(kind, PythonFileTask):
        external = kind.path.startswith(_EXTERNAL)
        body: dict = {"python_file": kind.path if external else _workspace_path(target, kind.path)}
        _put(body, "parameters", list(kind.parameters))
        if not kind.path.startswith(("dbfs:", "s3:", "s3a:", "abfss:", "gs:", "wasbs:")):
            body["source"] = "WORKSPACE"
        out["spark_python_task"] = body
    elif isinstance(kind, NotebookTask):
        external = kind.path.startswith("/")
        body = {"notebook_path": kind.path if external else _notebook_path(target, kind.path), "source": "WORKSPACE"}
        _put(body, "base_parameters", dict(kind.parameters))
        _put(body, "warehouse_id", kind.warehouse_id)
        out["notebook_task"] = body
    elif isinstance(kind, SqlFileTask):
        body = {
            "file": {"path": sql_workspace_path(job, task, target), "source": "WORKSPACE"},
            "warehouse_id": kind.warehouse_id or target.warehouse_id or "",
        }
        _put(body, "parameters", dict(kind.parameters))
        out["sql_task"] = body
    else:  # pragma: no cover - every kind is handled above
        raise TypeError(f"unknown task kind {kind!r}")
    return out


def sql_workspace_path(job: JobSpec, task: TaskSpec, target: Target) -> str:
    return f"{target.root_path}/sql/{job.key}/{task.key}.sql"


def payload(job: JobSpec, target: Target, config: ProjectConfig) -> dict:
    """The exact body of ``POST /api/2.2/jobs/create`` for this job and target."""
    out: dict = {"name": target.name_prefix + job.name}
    _put(out, "description", job.description)
    tags = dict(job.tags)
    tags.update(dict(target.tags))
    tags.update({"flowdef_project": config.project, "flowdef_target": target.name, "flowdef_job": job.key})
    out["tags"] = tags
    overrides = target.params_dict
    _put(out, "parameters", [{"name": p.name, "default": overrides.get(p.name, p.default)} for p in job.params])
    _put(out, "max_concurrent_runs", job.max_concurrent_runs)
    _put(out, "timeout_seconds", job.timeout_seconds)
    if job.queue is not None:
        out["queue"] = {"enabled": job.queue}
    out.update(_trigger(job, target))
    envs: dict[str, Environment] = {e.key: e for e in job.environments}
    clusters: dict[str, JobCluster] = {c.key: c for c in job.job_clusters}
    tasks = []
    for task in job.tasks:
        compute = _compute_of(job, task)
        if isinstance(compute, Environment):
            envs.setdefault(compute.key, compute)
        elif isinstance(compute, JobCluster):
            clusters.setdefault(compute.key, compute)
        tasks.append(_task(job, task, target, config))
    _put(out, "environments", [_environment(envs[k]) for k in sorted(envs)])
    _put(out, "job_clusters", [
        {"job_cluster_key": k, "new_cluster": _cluster_spec(clusters[k].spec)} for k in sorted(clusters)
    ])
    out["tasks"] = tasks
    for key, value in job.extra:
        out[key] = value
    return out


def _project_files(config: ProjectConfig) -> list[Path]:
    files: list[Path] = []
    for folder in config.pipelines:
        base = config.root / folder
        if base.is_dir():
            files += [p for p in base.rglob("*.py") if "__pycache__" not in p.parts]
        elif base.is_file():
            files.append(base)
    return sorted(set(files))


def runtime_artifacts(target: Target) -> list[Artifact]:
    """The flowdef package and the entry script, as function tasks need them on the cluster."""
    out = [Artifact(f"{target.root_path}/{ENTRY_SCRIPT}", "file", FLOWDEF_DIR / "runtime" / "entry_script.py")]
    for path in sorted(FLOWDEF_DIR.rglob("*.py")):
        rel = path.relative_to(FLOWDEF_DIR)
        if "__pycache__" in rel.parts or rel.parts[0] in ("testing", "deploy", "commands"):
            continue
        out.append(Artifact(f"{target.root_path}/lib/flowdef/{rel.as_posix()}", "file", path))
    return out


def artifacts(job: JobSpec, target: Target, config: ProjectConfig, sql: dict[str, str]) -> list[Artifact]:
    out: dict[str, Artifact] = {}
    needs_project = False
    for task in job.tasks:
        kind = task.kind
        if isinstance(kind, FunctionTask):
            needs_project = True
            for a in runtime_artifacts(target):
                out[a.workspace_path] = a
        elif isinstance(kind, PythonFileTask) and not kind.path.startswith(_EXTERNAL):
            a = Artifact(_workspace_path(target, kind.path), "file", config.root / kind.path)
            out[a.workspace_path] = a
        elif isinstance(kind, NotebookTask) and not kind.path.startswith("/"):
            a = Artifact(_notebook_path(target, kind.path), "notebook", config.root / kind.path)
            out[a.workspace_path] = a
        elif isinstance(kind, SqlFileTask) and task.key in sql:
            a = Artifact(sql_workspace_path(job, task, target), "file", content=sql[task.key].encode("utf-8"))
            out[a.workspace_path] = a
    if needs_project:
        for path in _project_files(config):
            rel = os.path.relpath(path, config.root)
            a = Artifact(_workspace_path(target, rel), "file", path)
            out.setdefault(a.workspace_path, a)
    return [out[k] for k in sorted(out)]


def compile_job(job: JobSpec, target: Target, config: ProjectConfig, *, render_sql: bool = True) -> CompiledJob:
    """Payload, artifacts and rendered SQL of one job.  Validate first: compile assumes a valid model."""
    sql: dict[str, str] = {}
    if render_sql:
        sql_tasks = [t for t in job.tasks if isinstance(t.kind, SqlFileTask)]
        if sql_tasks:
            from flowdef import templates

            for task in sql_tasks:
                sql[task.key] = templates.render(config, job, task, target)
    body = payload(job, target, config)
    return CompiledJob(
        key=job.key,
        payload=body,
        artifacts=tuple(artifacts(job, target, config, sql)),
        sql=tuple(sorted(sql.items())),
    )
