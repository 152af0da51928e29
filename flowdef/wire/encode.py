"""Encode the frozen model as Jobs API 2.2 JSON: job settings, tasks, compute, libraries, notifications, triggers.

The inverse is :mod:`flowdef.wire.decode`; ``encode(decode(payload)) == payload`` for every payload flowdef
writes (tests/test_wire_roundtrip.py).  The body of each task kind's ``*_task`` object comes from the kind's
entry in :mod:`flowdef.wire.kinds`.  Pure and deterministic; no I/O, no SDK import.
"""

from __future__ import annotations

from typing import Any

from flowdef.jobsapi.refs import fill_job_parameters
from flowdef.jobsapi.placeholders import WORKSPACE_ID, job_placeholder
from flowdef.load.config import Target
from flowdef.model.compute import ClusterSpec, Environment, ExistingCluster, JobCluster, Library
from flowdef.model.settings import GitSource, Health, Notifications, Webhook
from flowdef.model.spec import JobSpec, Retry, TaskSpec
from flowdef.model.triggers import Continuous, Cron, FileArrival, JobCompletion, Periodic, TableUpdate
from flowdef.wire import kinds
from flowdef.wire.tasks import EXTERNAL, put, workspace_path

from flowdef.jobsapi.facts import IDENTITY_TAGS, INIT_SCRIPT_STORES

__all__ = ["IDENTITY_TAGS", "compute_of", "job_payload", "permissions", "resolve_params", "task_payload"]


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
    for prefix, store in INIT_SCRIPT_STORES:
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


def compute_of(job: JobSpec, task: TaskSpec):
    if task.compute is not None:
        return task.compute
    if job.compute is not None and kinds.needs_compute(task.kind):
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


def retry_fields(retry: Retry) -> dict[str, Any]:
    """A task's retry fields (``max_retries``, ``min_retry_interval_millis``, ``retry_on_timeout``)."""
    out: dict[str, Any] = {"max_retries": retry.max_retries}
    if retry.interval is not None:
        # round, not int: 1.001 s is 1000.9999999999999 ms as a float product
        out["min_retry_interval_millis"] = round(retry.interval * 1000)
    if retry.on_timeout:
        out["retry_on_timeout"] = True
    return out


def task_payload(job: JobSpec, task: TaskSpec, target: Target) -> dict:
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
        out.update(retry_fields(task.retry))
    if task.timeout_seconds is not None:
        put(out, "timeout_seconds", task.timeout_seconds)
    if task.disabled:
        out["disabled"] = True
    kind = task.kind
    compute = compute_of(job, task)
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
    out.update(kinds.entry(kind).encode(job, task, kind, target, task_payload))
    for key, value in task.extra:
        out[key] = value
    return out


def job_payload(job: JobSpec, target: Target, project: str) -> dict:
    """The exact body of ``POST /api/2.2/jobs/create`` for this job and target."""
    out: dict = {"name": target.name_prefix + job.name}
    put(out, "description", job.description)
    tags = dict(job.tags)
    tags.update(dict(target.tags))
    tags.update(zip(IDENTITY_TAGS, (project, target.name, job.key)))
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
        compute = compute_of(job, task)
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
    out["tasks"] = [task_payload(job, task, target) for task in job.tasks]
    for key, value in job.extra:
        out[key] = value
    return out

