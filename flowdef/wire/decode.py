"""Decode Jobs API 2.2 JSON into the frozen model: the inverse of :mod:`flowdef.wire.encode`.

``decode_job(payload)`` gives a :class:`DecodedJob`: the :class:`~flowdef.model.spec.JobSpec`, and the target and
project it was compiled for (from flowdef's identity tags and the paths of its own files), so that
``encode.job_payload(decoded.job, decoded.target, decoded.project) == payload``.  Pure, no SDK import; the coming
``import`` command generates Python from the decoded model.

What flowdef's model cannot say is kept, never dropped:

* a task field no typed option covers goes to the task's ``extra`` (emitted verbatim);
* a task whose kind body has no typed equivalent (a preview kind, or a body a typed kind would not re-encode to
  the same JSON) becomes a :class:`~flowdef.model.tasks.RawTask`;
* a job setting no typed option covers goes to the job's ``extra``.

Each task is re-encoded after decoding and falls back one step (typed kind with every other field raw, then a
raw task) when the JSON differs, so decoding is lossless by construction; the tests prove that flowdef's own
payloads decode to typed kinds, not to the fallbacks.

Paths come back as the payload has them: a project notebook compiled to ``<root>/files/nb/x`` decodes to that
absolute workspace path (the project file's extension is not in the payload).  A rendered SQL file
(``<root>/sql/<job>/<task>.sql``) decodes to a :class:`~flowdef.model.tasks.SqlFileTask` whose template is
``<job>/<task>.sql``: the SQL text itself is an artifact, fetched by the importer.  Deploy-time substitutions
(:data:`DecodedJob.deploy_time`, see ADR 0004) turn back into ``job_key`` / ``pipeline_name`` references.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

from flowdef._frozen import frozen
from flowdef.jobsapi.facts import JOB_TAG, PROJECT_TAG, TARGET_TAG
from flowdef.jobsapi.placeholders import WORKSPACE_ID, parse_placeholder
from flowdef.load.config import Target
from flowdef.model.compute import Autoscale, ClusterSpec, Environment, ExistingCluster, JobCluster, Library
from flowdef.model.settings import GitSource, Health, HealthRule, Notifications, RunAs, Webhook
from flowdef.model.spec import Dependency, JobSpec, Param, Retry, TaskSpec
from flowdef.model.tasks import (
    AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask,
    NotebookTask, PipelineTask, PowerBiModel, PowerBiTable, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask,
    RunJobTask, SparkJarTask, SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask, Subscriber,
)
from flowdef.model.triggers import (
    Continuous, Cron, FileArrival, JobCompletion, MaintenanceWindow, Periodic, TableUpdate,
)
from flowdef.wire.tasks import ENTRY_SCRIPT

__all__ = ["DecodeContext", "DecodedJob", "decode_job", "decode_task"]


@frozen
class DecodeContext:
    """What decoding one task needs beyond its JSON: the job around it and the target's root path."""

    job: JobSpec  # key, params, git, environments and job clusters (tasks not yet decoded)
    target: Target
    deploy_time: tuple[tuple[tuple, str], ...] = ()  # (path in the task, placeholder) substitutions
    in_for_each: bool = False


@frozen
class DecodedJob:
    job: JobSpec
    target: Target
    project: str
    raw_tasks: tuple[str, ...] = ()  # keys of tasks that fell back to RawTask
    raw_fields: tuple[str, ...] = ()  # "<task key>.<field>" / "<job field>" kept verbatim in extra


# ----------------------------------------------------------------------------------------------------------------
# task kinds: body -> kind (None: this kind does not describe the body)


def _opt(body: dict, key: str):
    return body.get(key)


def _pairs(value: Any) -> tuple:
    return tuple(value.items()) if isinstance(value, dict) else ()


def _subscribers(items: Any) -> tuple[Subscriber, ...]:
    return tuple(Subscriber(user_name=s.get("user_name"), destination_id=s.get("destination_id"))
                 for s in items or () if isinstance(s, dict))


def _warehouse(body: dict) -> str | None:
    return body.get("warehouse_id") or None


def decode_function(body: dict, ctx: DecodeContext):
    entry = f"{ctx.target.root_path}/{ENTRY_SCRIPT}"
    if body.get("python_file") != entry or not ctx.target.root_path:
        return None
    argv = list(body.get("parameters") or ())
    if len(argv) % 2:
        return None
    pairs = list(zip(argv[::2], argv[1::2]))
    named = dict(p for p in pairs[:4])
    if set(named) != {"--job", "--task", "--module", "--function"}:
        return None
    params = [v for flag, v in pairs[4 + len(ctx.job.params):] if flag == "--param"]
    return FunctionTask(named["--module"], named["--function"],
                        tuple(tuple(p.split("=", 1)) for p in params if "=" in p))


def decode_python_file(body: dict, ctx: DecodeContext):
    return PythonFileTask(body.get("python_file", ""), tuple(body.get("parameters") or ()))


def decode_notebook(body: dict, ctx: DecodeContext):
    return NotebookTask(body.get("notebook_path", ""), _pairs(body.get("base_parameters")), body.get("warehouse_id"))


def decode_sql_file(body: dict, ctx: DecodeContext):
    file = body.get("file")
    if not isinstance(file, dict):
        return None
    own = f"{ctx.target.root_path}/sql/{ctx.job.key}/"
    path = file.get("path", "")
    if not ctx.target.root_path or not path.startswith(own):
        return None  # a SQL file flowdef did not render: no typed kind says "this workspace file" (raw task)
    return SqlFileTask(path[len(own) - len(ctx.job.key) - 1:], _pairs(body.get("parameters")), _warehouse(body))


def decode_sql_query(body: dict, ctx: DecodeContext):
    query = body.get("query")
    if not isinstance(query, dict):
        return None
    return SqlQueryTask(query.get("query_id", ""), _pairs(body.get("parameters")), _warehouse(body))


def decode_sql_alert(body: dict, ctx: DecodeContext):
    alert = body.get("alert")
    if not isinstance(alert, dict):
        return None
    return SqlAlertTask(alert.get("alert_id", ""), _subscribers(alert.get("subscriptions")),
                        bool(alert.get("pause_subscriptions")), _warehouse(body))


def decode_sql_dashboard(body: dict, ctx: DecodeContext):
    dash = body.get("dashboard")
    if not isinstance(dash, dict):
        return None
    return SqlDashboardTask(dash.get("dashboard_id", ""), _subscribers(dash.get("subscriptions")),
                            dash.get("custom_subject"), bool(dash.get("pause_subscriptions")),
                            _pairs(body.get("parameters")), _warehouse(body))


def decode_python_wheel(body: dict, ctx: DecodeContext):
    return PythonWheelTask(body.get("package_name", ""), body.get("entry_point", ""),
                           tuple(body.get("parameters") or ()), _pairs(body.get("named_parameters")))


def decode_spark_jar(body: dict, ctx: DecodeContext):
    return SparkJarTask(body.get("main_class_name", ""), tuple(body.get("parameters") or ()))


def decode_dbt(body: dict, ctx: DecodeContext):
    return DbtTask(tuple(body.get("commands") or ()), body.get("project_directory"), body.get("profiles_directory"),
                   body.get("warehouse_id"), body.get("catalog"), body.get("schema"))


def _substitution(ctx: DecodeContext, path: tuple) -> tuple[str, str] | None:
    for where, placeholder in ctx.deploy_time:
        if where == path:
            return parse_placeholder(placeholder)
    return None


def decode_pipeline(body: dict, ctx: DecodeContext):
    value = body.get("pipeline_id")
    ref = parse_placeholder(value) or _substitution(ctx, ("pipeline_task", "pipeline_id"))
    full_refresh = bool(body.get("full_refresh"))
    if ref is not None and ref[0] == "pipeline":
        return PipelineTask(pipeline_name=ref[1], full_refresh=full_refresh)
    return PipelineTask(pipeline_id=value, full_refresh=full_refresh)


def decode_run_job(body: dict, ctx: DecodeContext):
    value = body.get("job_id")
    ref = parse_placeholder(value) or _substitution(ctx, ("run_job_task", "job_id"))
    params = _pairs(body.get("job_parameters"))
    if ref is not None and ref[0] == "job":
        return RunJobTask(job_key=ref[1], job_parameters=params)
    return RunJobTask(job_id=value, job_parameters=params)


def decode_condition(body: dict, ctx: DecodeContext):
    return ConditionTask(body.get("op", ""), body.get("left", ""), body.get("right", ""))


def decode_for_each(body: dict, ctx: DecodeContext):
    nested = body.get("task")
    inner = None
    if isinstance(nested, dict):
        inner_ctx = attrs.evolve(ctx, in_for_each=True, deploy_time=tuple(
            (p[2:], v) for p, v in ctx.deploy_time if p[:2] == ("for_each_task", "task")))
        inner = decode_task(nested, inner_ctx)
    return ForEachTask(body.get("inputs", ""), inner, body.get("concurrency"))


def decode_dashboard(body: dict, ctx: DecodeContext):
    sub = body.get("subscription") or {}
    return DashboardTask(body.get("dashboard_id", ""), body.get("warehouse_id"), _subscribers(sub.get("subscribers")),
                         sub.get("custom_subject"), bool(sub.get("paused")))


def decode_alert(body: dict, ctx: DecodeContext):
    return AlertTask(body.get("alert_id"), body.get("workspace_path"), body.get("warehouse_id"),
                     _subscribers(body.get("subscribers")))


def decode_power_bi(body: dict, ctx: DecodeContext):
    m = body.get("power_bi_model")
    model = None
    if isinstance(m, dict):
        model = PowerBiModel(m.get("workspace_name", ""), m.get("model_name", ""), storage_mode=m.get("storage_mode"),
                             authentication_method=m.get("authentication_method"),
                             overwrite_existing=m.get("overwrite_existing"))
    tables = tuple(PowerBiTable(t.get("catalog", ""), t.get("schema", ""), t.get("name", ""),
                                storage_mode=t.get("storage_mode")) for t in body.get("tables") or ())
    return PowerBiTask(body.get("connection_resource_name", ""), model, tables, body.get("warehouse_id"),
                       body.get("refresh_after_update"))


def decode_clean_room_notebook(body: dict, ctx: DecodeContext):
    return CleanRoomNotebookTask(body.get("clean_room_name", ""), body.get("notebook_name", ""),
                                 _pairs(body.get("notebook_base_parameters")), body.get("etag"))


# ----------------------------------------------------------------------------------------------------------------
# tasks


def _library(item: dict) -> Library | None:
    if not isinstance(item, dict) or len(item) != 1:
        return None
    kind, value = next(iter(item.items()))
    if kind in ("whl", "jar", "requirements") and isinstance(value, str):
        return Library(kind, value)
    if kind == "maven" and isinstance(value, dict):
        return Library(kind, value.get("coordinates", ""), repo=value.get("repo"),
                       exclusions=tuple(value.get("exclusions") or ()))
    if kind in ("pypi", "cran") and isinstance(value, dict):
        return Library(kind, value.get("package", ""), repo=value.get("repo"))
    return None


def notifications(data: dict) -> Notifications | None:
    """``email_notifications`` + ``webhook_notifications`` + ``notification_settings`` of a job or a task."""
    emails = data.get("email_notifications") or {}
    hooks = data.get("webhook_notifications") or {}
    settings = data.get("notification_settings") or {}
    if not (emails or hooks or settings):
        return None
    events: dict[str, Any] = {e: [*emails.get(e, ()), *(Webhook(h.get("id")) for h in hooks.get(e, ()))]
                              for e in set(emails) | set(hooks)}
    return Notifications(**events, no_alert_for_skipped_runs=settings.get("no_alert_for_skipped_runs"),
                         no_alert_for_canceled_runs=settings.get("no_alert_for_canceled_runs"),
                         alert_on_last_attempt=settings.get("alert_on_last_attempt"))


def health(data: dict) -> Health | None:
    rules = (data.get("health") or {}).get("rules")
    if not rules:
        return None
    return Health(tuple(HealthRule(r.get("metric"), r.get("value"), op=r.get("op")) for r in rules))


_INIT_STORES = ("volumes", "s3", "abfss", "gcs", "dbfs", "file", "workspace")
_CLUSTER_FIELDS = ("node_type_id", "driver_node_type_id", "num_workers", "policy_id", "apply_policy_default_values",
                   "instance_pool_id", "driver_instance_pool_id", "data_security_mode", "single_user_name",
                   "runtime_engine", "kind", "is_single_node", "use_ml_runtime")


def cluster_spec(data: dict) -> ClusterSpec:
    known: dict[str, Any] = {k: data[k] for k in _CLUSTER_FIELDS if k in data}
    scale = data.get("autoscale")
    if isinstance(scale, dict):
        known["autoscale"] = Autoscale(scale["min_workers"], scale["max_workers"])
    for field in ("spark_conf", "spark_env_vars", "custom_tags"):
        if field in data:
            known[field] = _pairs(data[field])
    scripts = []
    for script in data.get("init_scripts") or ():
        (store, dest), = script.items()
        scripts.append(dest.get("destination"))
    if scripts:
        known["init_scripts"] = tuple(scripts)
    extra = tuple((k, v) for k, v in data.items() if k not in known and k not in ("spark_version", "init_scripts",
                                                                                   "autoscale"))
    return ClusterSpec(data.get("spark_version", ""), extra=extra, **known)


def environment(item: dict) -> Environment:
    spec = item.get("spec") or {}
    return Environment(item.get("environment_key", ""), version=spec.get("environment_version", ""),
                       dependencies=tuple(spec.get("dependencies") or ()),
                       java_dependencies=tuple(spec.get("java_dependencies") or ()))


_COMMON = ("task_key", "description", "depends_on", "run_if", "max_retries", "min_retry_interval_millis",
           "retry_on_timeout", "timeout_seconds", "disabled", "job_cluster_key", "environment_key",
           "existing_cluster_id", "new_cluster", "libraries", "email_notifications", "webhook_notifications",
           "notification_settings", "health")


def _common(data: dict, ctx: DecodeContext) -> dict[str, Any]:
    """TaskSpec keyword arguments of the fields every task may have."""
    out: dict[str, Any] = {"description": data.get("description"), "run_if": data.get("run_if"),
                           "timeout_seconds": data.get("timeout_seconds"), "disabled": bool(data.get("disabled")),
                           "in_for_each": ctx.in_for_each}
    out["depends_on"] = tuple(Dependency(d.get("task_key"), d.get("outcome")) for d in data.get("depends_on") or ())
    if "max_retries" in data:
        ms = data.get("min_retry_interval_millis")
        out["retry"] = Retry(data["max_retries"], interval=None if ms is None else ms / 1000,
                             on_timeout=bool(data.get("retry_on_timeout")))
    if "job_cluster_key" in data:
        key = data["job_cluster_key"]
        out["compute"] = next((c for c in ctx.job.job_clusters if c.key == key), JobCluster(key, ClusterSpec("")))
    elif "environment_key" in data:
        key = data["environment_key"]
        out["compute"] = next((e for e in ctx.job.environments if e.key == key), Environment(key))
    elif "existing_cluster_id" in data:
        out["compute"] = ExistingCluster(data["existing_cluster_id"])
    elif "new_cluster" in data:
        out["compute"] = cluster_spec(data["new_cluster"])
    libs = [_library(item) for item in data.get("libraries") or ()]
    if any(lib is None for lib in libs):
        raise ValueError("a library flowdef does not type")
    out["libraries"] = tuple(libs)
    out["notifications"] = notifications(data)
    out["health"] = health(data)
    return out


def _kind_field(data: dict) -> str | None:
    from flowdef.wire import kinds

    found = [f for f in data if f in kinds.WIRE_FIELDS]
    return found[0] if len(found) == 1 and not any(f.endswith("_task") and f not in kinds.WIRE_FIELDS
                                                    for f in data) else None


def _typed_kind(data: dict, ctx: DecodeContext):
    from flowdef.wire import kinds

    field = _kind_field(data)
    if field is None or not isinstance(data[field], dict):
        return None
    for entry in kinds.BY_FIELD[field]:
        kind = entry.decode(data[field], ctx) if entry.decode is not None else None
        if kind is not None:
            return kind
    return None


def decode_task(data: dict, ctx: DecodeContext) -> TaskSpec:
    """One task of a payload (a dict as ``tasks[]`` holds it): typed where the JSON round-trips, else raw."""
    from flowdef.wire.encode import task_payload

    key = data.get("task_key", "")
    kind = _typed_kind(data, ctx)
    attempts: list[Callable[[], TaskSpec]] = []
    if kind is not None:
        field = _kind_field(data)

        def typed() -> TaskSpec:
            extra = tuple((k, v) for k, v in data.items() if k not in _COMMON and k != field)
            return TaskSpec(key, kind, extra=extra, **_common(data, ctx))

        def typed_rest_raw() -> TaskSpec:
            extra = tuple((k, v) for k, v in data.items() if k not in ("task_key", field))
            return TaskSpec(key, kind, extra=extra, in_for_each=ctx.in_for_each)

        attempts += [typed, typed_rest_raw]

    def raw_kind() -> TaskSpec:  # an untyped kind, with the options every task shares typed
        kind_fields = tuple((k, v) for k, v in data.items() if k.endswith("_task"))
        extra = tuple((k, v) for k, v in data.items() if k not in _COMMON and not k.endswith("_task"))
        return TaskSpec(key, RawTask(kind_fields), extra=extra, **_common(data, ctx))

    def raw() -> TaskSpec:  # every field verbatim
        return TaskSpec(key, RawTask(tuple((k, v) for k, v in data.items() if k != "task_key")),
                        in_for_each=ctx.in_for_each)

    attempts += [raw_kind, raw]
    for attempt in attempts:
        try:
            task = attempt()
        except (TypeError, ValueError, AttributeError, KeyError):
            continue
        if task_payload(ctx.job, task, ctx.target) == _substituted(data, ctx):
            return task
    return raw()


def _substituted(data: dict, ctx: DecodeContext) -> dict:
    """``data`` with its deploy-time substitutions written back as placeholders (what the encoder writes)."""
    if not ctx.deploy_time:
        return data
    import copy

    out = copy.deepcopy(data)
    for path, placeholder in ctx.deploy_time:
        node: Any = out
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = placeholder
    return out


# ----------------------------------------------------------------------------------------------------------------
# jobs


def _trigger(payload: dict) -> tuple[tuple, list[str]]:
    """(triggers, fields used)."""
    if "schedule" in payload:
        s = payload["schedule"]
        return (Cron(s.get("quartz_cron_expression"), timezone=s.get("timezone_id"),
                     paused=s.get("pause_status") == "PAUSED"),), ["schedule"]
    if "continuous" in payload:
        c = payload["continuous"]
        w = c.get("maintenance_window")
        window = None if w is None else MaintenanceWindow(w.get("start_hour"), w.get("day_of_week"),
                                                          timezone=w.get("timezone_id"))
        return (Continuous(paused=c.get("pause_status") == "PAUSED", task_retry_mode=c.get("task_retry_mode"),
                           maintenance_window=window),), ["continuous"]
    t = payload.get("trigger")
    if not isinstance(t, dict):
        return (), []
    paused = t.get("pause_status") == "PAUSED"
    if "file_arrival" in t:
        f = t["file_arrival"]
        return (FileArrival(f.get("url"), min_time_between_triggers=f.get("min_time_between_triggers_seconds"),
                            wait_after_last_change=f.get("wait_after_last_change_seconds"), paused=paused),), ["trigger"]
    if "table_update" in t:
        f = t["table_update"]
        return (TableUpdate(tuple(f.get("table_names") or ()), condition=f.get("condition"),
                            min_time_between_triggers=f.get("min_time_between_triggers_seconds"),
                            wait_after_last_change=f.get("wait_after_last_change_seconds"), paused=paused),), ["trigger"]
    if "periodic" in t:
        p = t["periodic"]
        return (Periodic(p.get("interval"), p.get("unit"), paused=paused),), ["trigger"]
    if "job_completion" in t:
        jc = t["job_completion"]
        jobs = tuple(j.get("job_id") for j in jc.get("jobs") or ())
        spaces = {j.get("workspace_id") for j in jc.get("jobs") or ()}
        space = spaces.pop() if len(spaces) == 1 else None
        return (JobCompletion(jobs, workspace_id=None if space == WORKSPACE_ID else space,
                              if_status=jc.get("if_status"), paused=paused),), ["trigger"]
    return (), []


def _git(data: Any) -> GitSource | None:
    if not isinstance(data, dict):
        return None
    sparse = (data.get("sparse_checkout") or {}).get("patterns") or ()
    return GitSource(data.get("git_url", ""), data.get("git_provider", ""), branch=data.get("git_branch"),
                     tag=data.get("git_tag"), commit=data.get("git_commit"), sparse_checkout=tuple(sparse))


def _root_path(payload: dict, job_key: str) -> str:
    """The target's root path, from the paths of flowdef's own files (the function-task entry script, rendered SQL)."""
    tasks = list(payload.get("tasks") or ())
    for t in list(tasks):
        nested = (t.get("for_each_task") or {}).get("task")
        if isinstance(nested, dict):
            tasks.append(nested)
    for t in tasks:
        script = (t.get("spark_python_task") or {}).get("python_file", "")
        if isinstance(script, str) and script.endswith("/" + ENTRY_SCRIPT):
            return script[: -len(ENTRY_SCRIPT) - 1]
        sql = ((t.get("sql_task") or {}).get("file") or {}).get("path", "")
        marker = f"/sql/{job_key}/"
        if isinstance(sql, str) and marker in sql:
            return sql[: sql.rindex(marker)]
    return ""


_JOB_TYPED = ("name", "description", "tags", "parameters", "max_concurrent_runs", "timeout_seconds", "queue",
              "schedule", "continuous", "trigger", "email_notifications", "webhook_notifications",
              "notification_settings", "health", "git_source", "run_as", "edit_mode", "environments",
              "job_clusters", "tasks")


def decode_job(payload: dict, deploy_time: dict[str, str] | None = None) -> DecodedJob:
    """A ``jobs/create`` body (and its deploy-time substitutions, ``{"tasks[0].run_job_task.job_id":
    "${flowdef.jobs.x.id}"}``) as a model job, the target and the project it was compiled for."""
    from flowdef.wire.encode import job_payload

    tags = dict(payload.get("tags") or {})
    project = tags.pop(PROJECT_TAG, "")
    target_name = tags.pop(TARGET_TAG, "")
    key = tags.pop(JOB_TAG, "") or str(payload.get("name", "job"))
    target = Target(target_name, root_path=_root_path(payload, key))
    triggers, trigger_fields = _trigger(payload)
    queue = payload.get("queue")
    job = JobSpec(
        key=key, name=payload.get("name", ""), description=payload.get("description"), tags=tuple(tags.items()),
        params=tuple(Param(p.get("name"), p.get("default")) for p in payload.get("parameters") or ()),
        max_concurrent_runs=payload.get("max_concurrent_runs"), timeout_seconds=payload.get("timeout_seconds"),
        queue=queue.get("enabled") if isinstance(queue, dict) and set(queue) == {"enabled"} else None,
        triggers=triggers, notifications=notifications(payload), health=health(payload),
        git=_git(payload.get("git_source")),
        run_as=RunAs(**payload["run_as"]) if isinstance(payload.get("run_as"), dict) else None,
        edit_mode=payload.get("edit_mode"),
        environments=tuple(environment(e) for e in payload.get("environments") or ()),
        job_clusters=tuple(JobCluster(c.get("job_cluster_key"), cluster_spec(c.get("new_cluster") or {}))
                           for c in payload.get("job_clusters") or ()),
    )
    used = set(_JOB_TYPED) - {"schedule", "continuous", "trigger"} | set(trigger_fields)
    if isinstance(queue, dict) and set(queue) != {"enabled"}:
        used.discard("queue")
    job = attrs.evolve(job, extra=tuple((k, v) for k, v in payload.items() if k not in used))
    subs = _task_substitutions(deploy_time or {})
    tasks = []
    for i, data in enumerate(payload.get("tasks") or ()):
        ctx = DecodeContext(job, target, tuple(subs.get(i, ())))
        tasks.append(decode_task(data, ctx))
    job = attrs.evolve(job, tasks=tuple(tasks))
    # Settings whose typed form does not re-encode to the same JSON are kept raw, as they came.
    encoded = job_payload(job, target, project)
    bad = [k for k in _JOB_TYPED if k not in ("name", "tags", "tasks") and encoded.get(k) != payload.get(k)]
    if bad:
        cleared: dict[str, Any] = {"description": None, "parameters": (), "max_concurrent_runs": None, "timeout_seconds": None,
                   "queue": None, "schedule": (), "continuous": (), "trigger": (), "email_notifications": None,
                   "webhook_notifications": None, "notification_settings": None, "health": None,
                   "git_source": None, "run_as": None, "edit_mode": None, "environments": (), "job_clusters": ()}
        field_of = {"parameters": "params", "schedule": "triggers", "continuous": "triggers", "trigger": "triggers",
                    "email_notifications": "notifications", "webhook_notifications": "notifications",
                    "notification_settings": "notifications", "git_source": "git"}
        changes: dict[str, Any] = {field_of.get(k, k): cleared[k] for k in bad}
        job = attrs.evolve(job, **changes, extra=job.extra + tuple((k, payload[k]) for k in bad if k in payload))
    raw_tasks = tuple(t.key for t in job.all_tasks() if isinstance(t.kind, RawTask))
    raw_fields = tuple([f"{t.key}.{k}" for t in job.all_tasks() for k, _ in t.extra] + [k for k, _ in job.extra])
    return DecodedJob(job, target, project, raw_tasks, raw_fields)


def _task_substitutions(deploy_time: dict[str, str]) -> dict[int, list[tuple[tuple, str]]]:
    """``{"tasks[3].run_job_task.job_id": ph}`` -> ``{3: [(("run_job_task", "job_id"), ph)]}``."""
    out: dict[int, list] = {}
    for path, placeholder in deploy_time.items():
        head, _, rest = path.partition(".")
        if not head.startswith("tasks[") or not rest:
            continue
        out.setdefault(int(head[6:-1]), []).append((tuple(rest.split(".")), placeholder))
    return out
