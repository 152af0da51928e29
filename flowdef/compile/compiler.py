"""Compile the frozen model into Jobs API 2.2 ``jobs/create`` payloads: pure and deterministic.

The same model and target always give byte-identical JSON (``to_json``): sorted keys, tasks in declaration
order, environments and clusters sorted by key, no empty fields.  The compiler also lists the *artifacts* the
payload references (rendered SQL files, project Python files, notebooks, the function-task runtime), which
``compile`` writes for review and ``apply`` uploads.  No SDK import here; jinja2 only when SQL is rendered.

Workspace layout under a target's ``root_path``::

    <root>/files/...            project files (pipelines/, scripts, notebooks, wheels, dbt projects)
    <root>/lib/flowdef/...      the flowdef runtime used by function tasks
    <root>/lib/flowdef_entry.py the entry script of function tasks (spark_python_task)
    <root>/sql/<job>/<task>.sql rendered SQL templates

Paths and ``source``: without a Git source, relative paths are project files (uploaded; ``source: WORKSPACE``).
With ``Job(git=...)`` relative notebook / Python file / dbt paths are repository paths (``source: GIT``, not
uploaded); absolute paths and flowdef's own generated files stay ``WORKSPACE`` explicitly, because the service's
default becomes ``GIT`` once a job has a Git source.

Deploy-time placeholders: what only the workspace knows is left as a whole-string placeholder the deployer
replaces before sending (see :func:`placeholders` and :func:`resolve_placeholders`)::

    ${flowdef.jobs.<job key>.id}          run_job_task.job_id (an int once resolved); job_completion job_id (a str)
    ${flowdef.pipelines.<name>.id}        pipeline_task.pipeline_id of a pipeline named by name (a str)
    ${flowdef.workspace.id}               job_completion trigger workspace_id when none is given (a str)

Permissions are not part of the payload: :func:`permissions` gives the access-control list to ``PUT`` after
the job exists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flowdef._frozen import frozen
from flowdef.model.compute import (
    ClusterSpec,
    Environment,
    ExistingCluster,
    JobCluster,
    Library,
)
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.jobsapi.placeholders import (
    WORKSPACE_ID,
    Placeholder,
    UnresolvedPlaceholder,
    deploy_references,
    job_placeholder,
    parse_placeholder,
    pipeline_placeholder,
    placeholders,
    resolve_deploy_references,
    resolve_placeholders,
)
from flowdef.jobsapi.refs import fill_job_parameters
from flowdef.model.settings import GitSource, Health, Notifications, Webhook
from flowdef.wire.tasks import (
    ENTRY_SCRIPT,
    EXTERNAL,
    KIND_WIRE,
    function_task_parameters,
    kind_body,
    notebook_path,
    put,
    sql_workspace_path,
    workspace_path,
)
from flowdef.model.tasks import (
    DbtTask,
    FunctionTask,
    NotebookTask,
    PythonFileTask,
    RawTask,
    SqlFileTask,
)
from flowdef.model.triggers import (
    Continuous,
    Cron,
    FileArrival,
    JobCompletion,
    Periodic,
    TableUpdate,
)

__all__ = [
    "Artifact", "CompiledJob", "ENTRY_SCRIPT", "IDENTITY_TAGS", "Placeholder", "UnresolvedPlaceholder", "WORKSPACE_ID",
    "artifacts", "compile_job", "deploy_references", "function_task_parameters", "job_placeholder",
    "parse_placeholder", "payload", "permissions", "pipeline_placeholder", "placeholders", "resolve_deploy_references",
    "resolve_params", "resolve_placeholders", "runtime_artifacts", "sql_workspace_path", "to_json",
]

FLOWDEF_DIR = Path(__file__).resolve().parent.parent
from flowdef.jobsapi.facts import IDENTITY_TAGS, INIT_SCRIPT_STORES as _INIT_SCRIPT_STORES  # noqa: E402
_DBT_SKIP = {"target", "dbt_packages", "logs", "__pycache__"}


@frozen
class Artifact:
    """A file the payload needs in the workspace: uploaded as a workspace ``file`` or a ``notebook``."""

    workspace_path: str
    kind: str  # "file" | "notebook"
    source: Path | None = None  # a local file
    content: bytes | None = None  # generated content

    def data(self) -> bytes:
        return self.content if self.content is not None else self.source.read_bytes()  # type: ignore[union-attr]


@frozen
class CompiledJob:
    key: str
    payload: dict
    artifacts: tuple[Artifact, ...] = ()
    sql: tuple[tuple[str, str], ...] = ()  # (task key, rendered SQL)


def to_json(payload: dict) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# triggers


def resolve_params(text: str, job: JobSpec, target: Target) -> str:
    """Triggers fire before any run exists, so ``{{job.parameters.x}}`` in a trigger (a volume path, a table
    name) can only mean the parameter's default: it is substituted at compile time, per target."""
    if "{{" not in text:
        return text
    overrides = target.params_dict
    return fill_job_parameters(text, {p.name: overrides.get(p.name, p.default) for p in job.params})


def _monitored_job(j: Any) -> str:
    key = getattr(j, "key", None)
    if key is not None and hasattr(j, "to_model"):  # a flowdef Job of this project
        return job_placeholder(key)
    return str(j)


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
        put(body, "task_retry_mode", t.task_retry_mode)
        window = t.maintenance_window
        if window is not None:
            body["maintenance_window"] = {"start_hour": window.start_hour, "day_of_week": window.day_of_week,
                                          "timezone_id": window.timezone}
        return {"continuous": body}
    if isinstance(t, FileArrival):
        inner: dict = {"url": resolve_params(t.url, job, target)}
        put(inner, "min_time_between_triggers_seconds", t.min_time_between_triggers)
        put(inner, "wait_after_last_change_seconds", t.wait_after_last_change)
        return {"trigger": {"file_arrival": inner, "pause_status": pause}}
    if isinstance(t, TableUpdate):
        inner = {"table_names": [resolve_params(n, job, target) for n in t.tables], "condition": t.condition}
        put(inner, "min_time_between_triggers_seconds", t.min_time_between_triggers)
        put(inner, "wait_after_last_change_seconds", t.wait_after_last_change)
        return {"trigger": {"table_update": inner, "pause_status": pause}}
    if isinstance(t, Periodic):
        return {"trigger": {"periodic": {"interval": t.interval, "unit": t.unit}, "pause_status": pause}}
    if isinstance(t, JobCompletion):
        # The workspace id is not known offline (and a {{workspace.id}} dynamic reference is only substituted
        # inside a running task, never in trigger settings): the deployer fills it in.
        jobs = [{"job_id": _monitored_job(j), "workspace_id": str(t.workspace_id or WORKSPACE_ID)} for j in t.jobs]
        inner = {"jobs": jobs}
        put(inner, "if_status", t.if_status)
        return {"trigger": {"job_completion": inner, "pause_status": pause}}
    raise TypeError(f"unknown trigger {t!r}")  # pragma: no cover - validation rejects it first


# ----------------------------------------------------------------------------------------------------------------
# compute, libraries, settings


def _environment(env: Environment) -> dict:
    spec: dict = {"environment_version": env.version}
    put(spec, "dependencies", list(env.dependencies))
    put(spec, "java_dependencies", list(env.java_dependencies))
    return {"environment_key": env.key, "spec": spec}


def _init_script(path: str, target: Target) -> dict:
    for prefix, store in _INIT_SCRIPT_STORES:
        if path.startswith(prefix):
            return {store: {"destination": path}}
    return {"workspace": {"destination": workspace_path(target, path)}}  # a project file, uploaded


def _cluster_spec(spec: ClusterSpec, target: Target) -> dict:
    out: dict = {"spark_version": spec.spark_version}
    put(out, "node_type_id", spec.node_type_id)
    put(out, "driver_node_type_id", spec.driver_node_type_id)
    if spec.num_workers is not None:
        out["num_workers"] = spec.num_workers  # 0 is meaningful (single node)
    if spec.autoscale is not None:
        out["autoscale"] = {"min_workers": spec.autoscale.min_workers, "max_workers": spec.autoscale.max_workers}
    put(out, "policy_id", spec.policy_id)
    put(out, "apply_policy_default_values", spec.apply_policy_default_values)
    put(out, "instance_pool_id", spec.instance_pool_id)
    put(out, "driver_instance_pool_id", spec.driver_instance_pool_id)
    put(out, "spark_conf", dict(spec.spark_conf))
    put(out, "spark_env_vars", dict(spec.spark_env_vars))
    put(out, "custom_tags", dict(spec.custom_tags))
    put(out, "data_security_mode", spec.data_security_mode)
    put(out, "single_user_name", spec.single_user_name)
    put(out, "runtime_engine", spec.runtime_engine)
    put(out, "kind", spec.kind)
    put(out, "is_single_node", spec.is_single_node)
    put(out, "use_ml_runtime", spec.use_ml_runtime)
    put(out, "init_scripts", [_init_script(p, target) for p in spec.init_scripts])
    for key, value in spec.extra:
        out[key] = value
    return out


def _library(lib: Library, target: Target) -> dict:
    if lib.is_path:
        path = lib.value if lib.value.startswith(EXTERNAL) else workspace_path(target, lib.value)
        return {lib.kind: path}
    if lib.kind == "maven":
        body: dict = {"coordinates": lib.value}
        put(body, "repo", lib.repo)
        put(body, "exclusions", list(lib.exclusions))
        return {"maven": body}
    body = {"package": lib.value}
    put(body, "repo", lib.repo)
    return {lib.kind: body}


def _notifications(n: Notifications | None, *, task: bool) -> dict:
    if n is None:
        return {}
    emails: dict = {}
    webhooks: dict = {}
    for event, recipients in n.events():
        put(emails, event, [r for r in recipients if not isinstance(r, Webhook)])
        put(webhooks, event, [{"id": r.id} for r in recipients if isinstance(r, Webhook)])
    settings: dict = {}
    put(settings, "no_alert_for_skipped_runs", n.no_alert_for_skipped_runs)
    put(settings, "no_alert_for_canceled_runs", n.no_alert_for_canceled_runs)
    if task:  # job-level notification settings have no alert_on_last_attempt (validation reports it)
        put(settings, "alert_on_last_attempt", n.alert_on_last_attempt)
    out: dict = {}
    put(out, "email_notifications", emails)
    put(out, "webhook_notifications", webhooks)
    put(out, "notification_settings", settings)
    return out


def _health(h: Health | None) -> dict:
    if h is None or not h.rules:
        return {}
    return {"health": {"rules": [{"metric": r.metric, "op": r.op, "value": r.value} for r in h.rules]}}


def _git(git: GitSource) -> dict:
    out: dict = {"git_url": git.url, "git_provider": git.provider}
    put(out, "git_branch", git.branch)
    put(out, "git_tag", git.tag)
    put(out, "git_commit", git.commit)
    if git.sparse_checkout:
        out["sparse_checkout"] = {"patterns": list(git.sparse_checkout)}
    return out


def _compute_of(job: JobSpec, task: TaskSpec):
    if task.compute is not None:
        return task.compute
    if job.compute is not None and getattr(task.kind, "needs_compute", False):
        return job.compute
    return None


def permissions(job: JobSpec) -> list[dict] | None:
    """The ``access_control_list`` for ``PUT /api/2.0/permissions/jobs/{job_id}`` (replaces every direct grant),
    or None when the job declares no permissions (leave the workspace's grants alone).  Sorted by principal."""
    if not job.permissions:
        return None
    acl = []
    for p in job.permissions:
        entry: dict = {"permission_level": p.level}
        for field, name in p.principals():
            entry[field] = name
        acl.append(entry)
    order = ("user_name", "service_principal_name", "group_name")

    def sort_key(entry: dict) -> tuple:
        field = next((f for f in order if f in entry), "")
        return (order.index(field) if field else len(order), str(entry.get(field, "")), entry["permission_level"])

    return sorted(acl, key=sort_key)


# ----------------------------------------------------------------------------------------------------------------
# tasks


def _task(job: JobSpec, task: TaskSpec, target: Target) -> dict:
    # Each optional field is tested before put() is called: most tasks set few of them.
    out: dict = {"task_key": task.key}
    if task.description is not None:
        put(out, "description", task.description)
    if task.depends_on:
        deps = []
        for d in task.depends_on:
            dep = {"task_key": d.task_key}
            if d.outcome is not None:
                put(dep, "outcome", d.outcome)
            deps.append(dep)
        out["depends_on"] = deps
    if task.run_if is not None:
        put(out, "run_if", task.run_if)
    if task.retry is not None:
        out["max_retries"] = task.retry.max_retries
        if task.retry.interval is not None:
            out["min_retry_interval_millis"] = int(task.retry.interval * 1000)
        if task.retry.on_timeout:
            out["retry_on_timeout"] = True
    if task.timeout_seconds is not None:
        put(out, "timeout_seconds", task.timeout_seconds)
    if task.disabled:
        out["disabled"] = True
    kind = task.kind
    compute = task.compute  # _compute_of, inline
    if compute is None and job.compute is not None and getattr(kind, "needs_compute", False):
        compute = job.compute
    if compute is None:
        pass
    elif isinstance(compute, Environment):
        out["environment_key"] = compute.key
    elif isinstance(compute, JobCluster):
        out["job_cluster_key"] = compute.key
    elif isinstance(compute, ExistingCluster):
        out["existing_cluster_id"] = compute.cluster_id
    elif isinstance(compute, ClusterSpec):
        out["new_cluster"] = _cluster_spec(compute, target)
    if task.libraries:
        put(out, "libraries", [_library(lib, target) for lib in task.libraries])
    if task.notifications is not None:
        out.update(_notifications(task.notifications, task=True))
    if task.health is not None:
        out.update(_health(task.health))
    compile_kind = KIND_WIRE.get(type(kind))
    if compile_kind is not None:  # a typed kind other than for-each (kind_body's table, without its call)
        field, body = compile_kind(job, task, kind, target)
        out[field] = body
    elif isinstance(kind, RawTask):
        for key, value in kind.fields:
            out[key] = value
    else:
        field, body = kind_body(job, task, target, _task)
        out[field] = body
    for key, value in task.extra:
        out[key] = value
    return out


def payload(job: JobSpec, target: Target, config: ProjectConfig) -> dict:
    """The exact body of ``POST /api/2.2/jobs/create`` for this job and target."""
    out: dict = {"name": target.name_prefix + job.name}
    put(out, "description", job.description)
    tags = dict(job.tags)
    tags.update(dict(target.tags))
    tags.update(zip(IDENTITY_TAGS, (config.project, target.name, job.key)))
    out["tags"] = tags
    overrides = target.params_dict
    put(out, "parameters", [{"name": p.name, "default": overrides.get(p.name, p.default)} for p in job.params])
    put(out, "max_concurrent_runs", job.max_concurrent_runs)
    put(out, "timeout_seconds", job.timeout_seconds)
    if job.queue is not None:
        out["queue"] = {"enabled": job.queue}
    out.update(_trigger(job, target))
    out.update(_notifications(job.notifications, task=False))
    out.update(_health(job.health))
    if job.git is not None:
        out["git_source"] = _git(job.git)
    if job.run_as is not None:
        put(out, "run_as", dict(job.run_as.principals()))
    put(out, "edit_mode", job.edit_mode)
    envs: dict[str, Environment] = {e.key: e for e in job.environments}
    clusters: dict[str, JobCluster] = {c.key: c for c in job.job_clusters}
    for task in job.all_tasks():
        compute = _compute_of(job, task)
        if compute is None:
            continue
        if isinstance(compute, Environment):
            envs.setdefault(compute.key, compute)
        elif isinstance(compute, JobCluster):
            clusters.setdefault(compute.key, compute)
    put(out, "environments", [_environment(envs[k]) for k in sorted(envs)])
    put(out, "job_clusters", [
        {"job_cluster_key": k, "new_cluster": _cluster_spec(clusters[k].spec, target)} for k in sorted(clusters)
    ])
    out["tasks"] = [_task(job, task, target) for task in job.tasks]
    for key, value in job.extra:
        out[key] = value
    return out


# ----------------------------------------------------------------------------------------------------------------
# artifacts


def _project_files(config: ProjectConfig) -> list[Path]:
    files: list[Path] = []
    for folder in config.pipelines:
        base = config.root / folder
        if base.is_dir():
            files += [p for p in base.rglob("*.py") if "__pycache__" not in p.parts]
        elif base.is_file():
            files.append(base)
    return sorted(set(files))


# What function tasks need on the cluster, listed explicitly so that no new module ships unnoticed: the runtime
# (``flowdef.runtime``, started by the entry script) and the builder that the user's module imports there
# (``from flowdef import Job``), with exactly the modules these import, lazily or not.  tests/test_runtime_upload.py
# derives this set from the import graph (a module added to it fails the test until it is listed here) and imports
# the uploaded tree on its own, without the source checkout.
RUNTIME_MODULES = (
    "flowdef",
    "flowdef._check",
    "flowdef._frozen",
    "flowdef._location",
    "flowdef.diagnostics",
    "flowdef.dsl",
    "flowdef.dsl.check",
    "flowdef.dsl.declare",
    "flowdef.dsl.job",
    "flowdef.dsl.refs",
    "flowdef.errors",
    "flowdef.jobsapi",
    "flowdef.jobsapi.facts",
    "flowdef.jobsapi.refs",
    "flowdef.model",
    "flowdef.model.compute",
    "flowdef.model.settings",
    "flowdef.model.spec",
    "flowdef.model.tasks",
    "flowdef.model.triggers",
    "flowdef.runtime",
)


def runtime_module_file(module: str) -> Path:
    """The source file of one of :data:`RUNTIME_MODULES`, relative to the folder that holds ``flowdef/``."""
    rel = Path(*module.split("."))
    return rel / "__init__.py" if (FLOWDEF_DIR.parent / rel).is_dir() else rel.with_suffix(".py")


def runtime_artifacts(target: Target) -> list[Artifact]:
    """The entry script and the flowdef modules of :data:`RUNTIME_MODULES`, as function tasks need them."""
    out = [Artifact(f"{target.root_path}/{ENTRY_SCRIPT}", "file", FLOWDEF_DIR / "runtime" / "entry_script.py")]
    for rel in sorted(runtime_module_file(m).as_posix() for m in RUNTIME_MODULES):
        out.append(Artifact(f"{target.root_path}/lib/{rel}", "file", FLOWDEF_DIR.parent / rel))
    return out


def _dbt_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part in _DBT_SKIP or part.startswith(".") for part in p.relative_to(root).parts)
    )


def artifacts(job: JobSpec, target: Target, config: ProjectConfig, sql: dict[str, str]) -> list[Artifact]:
    out: dict[str, Artifact] = {}
    needs_project = False
    git = job.git is not None

    def add(a: Artifact, first_wins: bool = False) -> None:
        if first_wins:
            out.setdefault(a.workspace_path, a)
        else:
            out[a.workspace_path] = a

    for task in job.all_tasks():
        kind = task.kind
        if isinstance(kind, FunctionTask):
            needs_project = True
            for a in runtime_artifacts(target):
                add(a)
        elif isinstance(kind, PythonFileTask) and not kind.path.startswith(EXTERNAL) and not git:
            add(Artifact(workspace_path(target, kind.path), "file", config.root / kind.path))
        elif isinstance(kind, NotebookTask) and not kind.path.startswith("/") and not git:
            add(Artifact(notebook_path(target, kind.path), "notebook", config.root / kind.path))
        elif isinstance(kind, SqlFileTask) and task.key in sql:
            add(Artifact(sql_workspace_path(job, task, target), "file", content=sql[task.key].encode("utf-8")))
        elif isinstance(kind, DbtTask) and kind.project_directory and not kind.project_directory.startswith("/") \
                and not git:
            base = config.root / kind.project_directory
            for file in _dbt_files(base):
                rel_file = Path(kind.project_directory) / file.relative_to(base)
                add(Artifact(workspace_path(target, rel_file.as_posix()), "file", file))
        for lib in task.libraries:
            if lib.is_path and not lib.value.startswith(EXTERNAL):
                add(Artifact(workspace_path(target, lib.value), "file", config.root / lib.value))
        compute = _compute_of(job, task)
        spec = compute.spec if isinstance(compute, JobCluster) else compute if isinstance(compute, ClusterSpec) \
            else None
        for script in spec.init_scripts if spec is not None else ():
            if not script.startswith(EXTERNAL):
                add(Artifact(workspace_path(target, script), "file", config.root / script))
    for cluster in job.job_clusters:
        for script in cluster.spec.init_scripts:
            if not script.startswith(EXTERNAL):
                add(Artifact(workspace_path(target, script), "file", config.root / script))
    if needs_project:
        for path in _project_files(config):
            rel = os.path.relpath(path, config.root)
            add(Artifact(workspace_path(target, rel), "file", path), first_wins=True)
    return [out[k] for k in sorted(out)]


def compile_job(job: JobSpec, target: Target, config: ProjectConfig, *, render_sql: bool = True) -> CompiledJob:
    """Payload, artifacts and rendered SQL of one job.  Validate first: compile assumes a valid model."""
    sql: dict[str, str] = {}
    if render_sql:
        sql_tasks = [t for t in job.all_tasks() if isinstance(t.kind, SqlFileTask)]
        if sql_tasks:
            from flowdef.compile import templates
            for task in sql_tasks:
                sql[task.key] = templates.render(config, job, task, target)
    body = payload(job, target, config)
    return CompiledJob(
        key=job.key,
        payload=body,
        artifacts=tuple(artifacts(job, target, config, sql)),
        sql=tuple(sorted(sql.items())),
    )
