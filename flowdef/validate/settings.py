"""Rules of task kinds, job settings and the raw escape hatch.

* every task has exactly one kind (a raw task exactly one ``*_task`` field; ``extra`` adds none; a for-each task
  has its nested task) — FD510;
* raw settings (``Job(extra=...)``, ``extra=`` on tasks, ``job.raw_task``) are Jobs API fields flowdef does not
  type — FD511 — with values the API schema accepts — FD512;
* enum values are spelled as the API spells them (the SDK silently drops anything else) — FD513;
* notifications (addresses, webhooks, when they can fire) — FD514; permissions (levels, one owner) — FD515;
* run-job and job-completion references name jobs of the project, without cycles — FD516;
* the fields of each kind (wheel parameters xor named parameters, dbt commands, pipeline id xor name, ...),
  run-as, Git source, health rules and the documented length limits of those fields — FD501 / FD502.

Graph, reference, condition / for-each semantics and job-wide limits live in :mod:`.structure`,
:mod:`.references` and :mod:`.triggers`; compute in :mod:`.compute`.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterator

from flowdef.diagnostics import Diagnostic
from flowdef.model.spec import _FLAT_KINDS, JobSpec, TaskSpec
from flowdef.model.settings import (
    HEALTH_OPS, MAX_WEBHOOKS_PER_EVENT, NOTIFICATION_EVENTS, EditMode, GitProvider, HealthMetric, Notifications,
    PermissionLevel, Webhook,
)
from flowdef.model.tasks import (
    AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask, NotebookTask,
    PipelineTask, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask, RunJobTask, SparkJarTask, SqlAlertTask,
    SqlDashboardTask, SqlFileTask, SqlQueryTask,
)
from flowdef.model.triggers import JobCompletion
from flowdef.validate.structure import JobContext

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
from flowdef.jobsapi.facts import (  # noqa: E402 - Jobs API limits, written once
    IDENTITY_TAGS, MAX_ALERT_SUBSCRIBERS, MAX_DBT_COMMANDS, MAX_ENVIRONMENT_VARIABLES, MAX_GIT_BRANCH, MAX_GIT_COMMIT,
    MAX_GIT_TAG, MAX_GIT_URL,
)
POWER_BI_STORAGE_MODES = ("DIRECT_QUERY", "DUAL", "IMPORT")
POWER_BI_AUTH = ("OAUTH", "PAT")

# Settings flowdef types, and where to set them instead of a raw field.
TYPED_JOB_FIELDS = {
    "name": "the Job's name", "description": "Job(description=...)", "tags": "Job(tags=...)",
    "tasks": "the job's task methods", "parameters": "Job(params=...)",
    "max_concurrent_runs": "Job(max_concurrent_runs=...)", "timeout_seconds": "Job(timeout=...)",
    "queue": "Job(queue=...)", "schedule": "Job(trigger=Cron(...))", "continuous": "Job(trigger=Continuous(...))",
    "trigger": "Job(trigger=FileArrival/TableUpdate/Periodic/JobCompletion(...))",
    "environments": "Job(environments=[Environment(...)]) or compute=", "job_clusters":
    "Job(job_clusters=[JobCluster(...)]) or compute=", "email_notifications": "Job(notifications=Notifications(...))",
    "webhook_notifications": "Job(notifications=Notifications(... Webhook(id) ...))",
    "notification_settings": "Job(notifications=Notifications(no_alert_for_...=True))",
    "health": "Job(health=Health.over(...))", "git_source": "Job(git=GitSource.github(...))",
    "run_as": "Job(run_as=RunAs.service_principal(...))", "edit_mode": "Job(edit_mode=EditMode.UI_LOCKED)",
}
TYPED_TASK_FIELDS = {
    "task_key": "the task's key", "description": "description=", "depends_on": "depends_on=[...]",
    "run_if": "run_if=", "max_retries": "retry=Retry(n)", "min_retry_interval_millis": "retry=Retry(n, interval=s)",
    "retry_on_timeout": "retry=Retry(n, on_timeout=True)", "timeout_seconds": "timeout=", "disabled": "disabled=True",
    "job_cluster_key": "compute=JobCluster(...)", "environment_key": "compute=Environment(...)",
    "existing_cluster_id": "compute=ExistingCluster(...)", "new_cluster": "compute=ClusterSpec(...)",
    "libraries": "libraries=[Library....]", "email_notifications": "notifications=Notifications(...)",
    "webhook_notifications": "notifications=Notifications(... Webhook(id) ...)",
    "notification_settings": "notifications=Notifications(...)", "health": "health=Health.over(...)",
}
TYPED_KINDS = {
    "notebook_task": "job.notebook(...)", "spark_python_task": "job.python_file(...) or @job.task",
    "python_wheel_task": "job.python_wheel(...)", "spark_jar_task": "job.spark_jar(...)",
    "sql_task": "job.sql / sql_query / sql_alert / sql_dashboard(...)", "dbt_task": "job.dbt(...)",
    "pipeline_task": "job.pipeline(...)", "run_job_task": "job.run_job(...)", "condition_task": "job.condition(...)",
    "for_each_task": "job.for_each(...)", "dashboard_task": "job.dashboard(...)", "alert_task": "job.alert(...)",
    "power_bi_task": "job.power_bi(...)", "clean_rooms_notebook_task": "job.clean_room_notebook(...)",
}


def check(ctx: JobContext) -> list[Diagnostic]:
    """The per-job rules."""
    job = ctx.job
    out: list[Diagnostic] = []
    raw = _RawFields(ctx)
    out += raw.job_fields()
    for top in job.tasks:
        if (top.kind.__class__ in _PLAIN_KINDS and top.notifications is None and top.health is None
                and not top.extra):
            continue  # none of the four rules below has anything to say (and there is no nested task)
        for task, path in _with_paths(top):
            out += _kind(ctx, task, path)
            out += raw.task_fields(task, path)
            out += _notifications(ctx, task.notifications, path, task.location, task.health, task_level=True)
            out += _health(ctx, task.health, path, task.location)
    out += _notifications(ctx, job.notifications, "", job.location, job.health, task_level=False)
    out += _health(ctx, job.health, "", job.location)
    out += _git(ctx)
    out += _run_as(ctx)
    out += _permissions(ctx)
    out += _tags(ctx)
    if job.edit_mode is not None:
        out += _enum(ctx, "edit_mode", job.edit_mode, [m.value for m in EditMode], job.location, "edit_mode")
    return out


def check_project(project, target) -> list[Diagnostic]:
    """Every job's rules, then the references between jobs (run-job tasks, job-completion triggers)."""
    out: list[Diagnostic] = []
    contexts = [JobContext(job, target, project.config) for job in project.jobs]
    for ctx in contexts:
        out += check(ctx)
    out += _job_references(contexts)
    return out


def tasks_with_paths(job: JobSpec) -> Iterator[tuple[TaskSpec, str]]:
    """Every task (nested for-each tasks right after their for-each task) with its path for diagnostics."""
    for task in job.tasks:
        yield from _with_paths(task)


def _with_paths(task: TaskSpec) -> Iterator[tuple[TaskSpec, str]]:
    """A top-level task and its nested for-each task, if any, with their paths."""
    path = f"tasks.{task.key}"
    yield task, path
    nested = getattr(task.kind, "task", None)
    if isinstance(nested, TaskSpec):
        yield nested, f"{path}.for_each_task.task"


# Exact kind types _kind has no rule for (none is a subclass of a kind it checks) and that hold no nested task:
# a task of one of them, without notifications, health or extra fields, has nothing for check()'s task rules.
_PLAIN_KINDS = frozenset({NotebookTask, FunctionTask, PythonFileTask, SqlFileTask, ConditionTask})


def enum_hint(value: Any, allowed) -> str:
    """``; write 'gitHub'`` for a mis-cased value, else a close match."""
    text = str(value)
    fold = {str(a).lower().replace("_", ""): a for a in allowed}
    right = fold.get(text.lower().replace("_", "").replace("-", "").replace(" ", ""))
    if right is not None:
        return f"; write {right!r}"
    close = difflib.get_close_matches(text, [str(a) for a in allowed], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _enum(ctx: JobContext, what: str, value: Any, allowed, location, path: str) -> list[Diagnostic]:
    if value in allowed:
        return []
    return [ctx.d(
        "FD513",
        f"{what} {value!r} is not one of {', '.join(map(str, allowed))}{enum_hint(value, allowed)} "
        "(the API spells enums exactly; the Databricks SDK silently drops any other spelling)",
        location, path,
    )]


def _join(path: str, leaf: str) -> str:
    return f"{path}.{leaf}" if path and leaf else path or leaf


# ----------------------------------------------------------------------------------------------------------------
# task kinds


def _kind(ctx: JobContext, task: TaskSpec, path: str) -> list[Diagnostic]:
    kind = task.kind
    loc = task.location
    out: list[Diagnostic] = []
    d = ctx.d
    if isinstance(kind, ForEachTask) and kind.task is None:
        out.append(d("FD510", f"for-each task {task.key!r} has no nested task; declare it on the handle, e.g. "
                     f"job.for_each({task.key!r}, inputs=...).notebook('process', 'nb/item.py', "
                     "params={'item': INPUT})", loc, f"{path}.for_each_task.task"))
    elif isinstance(kind, PythonWheelTask):
        if kind.parameters and kind.named_parameters:
            out.append(d("FD501", f"python wheel task {task.key!r} has both parameters and named_parameters; the "
                         "API takes one: pass params as a list (argv) or as a dict (--name=value)", loc,
                         f"{path}.python_wheel_task"))
        for field in ("package_name", "entry_point"):
            if not str(getattr(kind, field) or "").strip():
                out.append(d("FD501", f"python wheel task {task.key!r} needs a {field}", loc,
                             f"{path}.python_wheel_task.{field}"))
    elif isinstance(kind, SparkJarTask):
        if not str(kind.main_class_name or "").strip():
            out.append(d("FD501", f"Spark JAR task {task.key!r} needs main_class_name (e.g. 'com.acme.Main')", loc,
                         f"{path}.spark_jar_task.main_class_name"))
    elif isinstance(kind, DbtTask):
        out += _dbt(ctx, task, kind, path)
    elif isinstance(kind, PipelineTask):
        if (kind.pipeline_id is None) == (kind.pipeline_name is None):
            out.append(d("FD501", f"pipeline task {task.key!r} needs exactly one of a pipeline id or name=..., "
                         f"got {'both' if kind.pipeline_id is not None else 'neither'}", loc,
                         f"{path}.pipeline_task.pipeline_id"))
        elif not str(kind.pipeline_id or kind.pipeline_name).strip():
            out.append(d("FD501", f"pipeline task {task.key!r} has an empty pipeline id/name", loc,
                         f"{path}.pipeline_task.pipeline_id"))
    elif isinstance(kind, RunJobTask):
        if kind.job_id is not None and (isinstance(kind.job_id, bool) or not isinstance(kind.job_id, int)
                                        or kind.job_id <= 0):
            out.append(d("FD501", f"run-job task {task.key!r}: job id must be a positive integer, got "
                         f"{kind.job_id!r}", loc, f"{path}.run_job_task.job_id"))
        if (kind.job_id is None) == (kind.job_key is None):
            out.append(d("FD501", f"run-job task {task.key!r} needs exactly one of a job id or a flowdef job", loc,
                         f"{path}.run_job_task.job_id"))
    elif isinstance(kind, AlertTask):
        if (kind.alert_id is None) == (kind.workspace_path is None):
            out.append(d("FD501", f"alert task {task.key!r} needs exactly one of alert_id or workspace_path=, got "
                         f"{'both' if kind.alert_id is not None else 'neither'}", loc, f"{path}.alert_task"))
        out += _subscribers(ctx, task, kind.subscribers, f"{path}.alert_task.subscribers", MAX_ALERT_SUBSCRIBERS)
    elif isinstance(kind, (SqlQueryTask, SqlAlertTask, SqlDashboardTask, DashboardTask)):
        field, wire = {SqlQueryTask: ("query_id", "sql_task.query.query_id"),
                       SqlAlertTask: ("alert_id", "sql_task.alert.alert_id"),
                       SqlDashboardTask: ("dashboard_id", "sql_task.dashboard.dashboard_id"),
                       DashboardTask: ("dashboard_id", "dashboard_task.dashboard_id")}[type(kind)]
        if not str(getattr(kind, field) or "").strip():
            out.append(d("FD501", f"task {task.key!r} needs a {field}", loc, f"{path}.{wire}"))
        subs = getattr(kind, "subscriptions", None) or getattr(kind, "subscribers", ())
        out += _subscribers(ctx, task, subs, f"{path}.{wire.rsplit('.', 1)[0]}.subscriptions", None)
    elif isinstance(kind, PowerBiTask):
        if not str(kind.connection_resource_name or "").strip():
            out.append(d("FD501", f"Power BI task {task.key!r} needs connection= (a Unity Catalog connection to "
                         "Power BI)", loc, f"{path}.power_bi_task.connection_resource_name"))
        if kind.model is not None:
            m = kind.model
            if m.storage_mode is not None:
                out += _enum(ctx, "Power BI storage_mode", m.storage_mode, POWER_BI_STORAGE_MODES, loc,
                             f"{path}.power_bi_task.power_bi_model.storage_mode")
            if m.authentication_method is not None:
                out += _enum(ctx, "Power BI authentication_method", m.authentication_method, POWER_BI_AUTH, loc,
                             f"{path}.power_bi_task.power_bi_model.authentication_method")
        for i, t in enumerate(kind.tables):
            if t.storage_mode is not None:
                out += _enum(ctx, "Power BI storage_mode", t.storage_mode, POWER_BI_STORAGE_MODES, loc,
                             f"{path}.power_bi_task.tables[{i}].storage_mode")
    elif isinstance(kind, CleanRoomNotebookTask):
        for field in ("clean_room_name", "notebook_name"):
            if not str(getattr(kind, field) or "").strip():
                out.append(d("FD501", f"clean-room notebook task {task.key!r} needs a {field}", loc,
                             f"{path}.clean_rooms_notebook_task.{field}"))
    return out


def _dbt(ctx: JobContext, task: TaskSpec, kind: DbtTask, path: str) -> list[Diagnostic]:
    out = []
    loc = task.location
    where = f"{path}.dbt_task"
    commands = list(kind.commands)
    if not commands:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} has no commands; give 1 to {MAX_DBT_COMMANDS}, e.g. "
                         "['dbt deps', 'dbt build']", loc, f"{where}.commands"))
    elif len(commands) > MAX_DBT_COMMANDS:
        out.append(ctx.d("FD502", f"dbt task {task.key!r} has {len(commands)} commands; at most "
                         f"{MAX_DBT_COMMANDS} are allowed — split it into several dbt tasks", loc, f"{where}.commands"))
    for i, command in enumerate(commands):
        text = command.strip() if isinstance(command, str) else ""
        if not (text == "dbt" or text.startswith("dbt ")):
            fix = f"; write 'dbt {text}'" if text and not text.startswith("dbt") else ""
            out.append(ctx.d("FD501", f"dbt command {command!r} of task {task.key!r} must start with 'dbt'{fix}",
                             loc, f"{where}.commands[{i}]"))
    if kind.profiles_directory is not None and kind.warehouse_id is not None:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} sets both profiles_directory and warehouse; with a "
                         "warehouse Databricks generates the profile — drop one", loc, f"{where}.profiles_directory"))
    has_warehouse = kind.warehouse_id is not None or (kind.profiles_directory is None and ctx.target.warehouse_id)
    for field in ("catalog", "schema"):
        if getattr(kind, field) is not None and not has_warehouse:
            out.append(ctx.d("FD501", f"dbt task {task.key!r} sets {field} but runs without a SQL warehouse; set "
                             f"warehouse= (or warehouse_id in target {ctx.target.name!r})", loc, f"{where}.{field}"))
    directory = kind.project_directory
    if directory is None and ctx.job.git is None:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} needs project_directory= (a folder of the project, or "
                         "give the job a Git source and the repository root is used)", loc,
                         f"{where}.project_directory"))
    elif directory and not directory.startswith("/") and ctx.job.git is None:
        if not (ctx.config.root / directory / "dbt_project.yml").is_file():
            out.append(ctx.d("FD406", f"dbt project {directory!r} of task {task.key!r} has no dbt_project.yml (paths "
                             f"are relative to the project root {ctx.config.root})", loc, f"{where}.project_directory"))
    return out


def _subscribers(ctx, task, subs, path: str, limit: int | None) -> list[Diagnostic]:
    out = []
    if limit is not None and len(subs) > limit:
        out.append(ctx.d("FD502", f"task {task.key!r} has {len(subs)} subscribers; at most {limit} are allowed",
                         task.location, path))
    for i, s in enumerate(subs):
        if (getattr(s, "user_name", None) is None) == (getattr(s, "destination_id", None) is None):
            out.append(ctx.d("FD501", f"subscriber {i} of task {task.key!r} needs exactly one of a user name or a "
                             "destination id (Subscriber.user(...) / Subscriber.destination(...))",
                             task.location, f"{path}[{i}]"))
    return out


# ----------------------------------------------------------------------------------------------------------------
# raw fields


class _RawFields:
    """Checks names and values of raw settings against the API surface (schema if present, else the SDK's)."""

    def __init__(self, ctx: JobContext) -> None:
        from flowdef.jobsapi import schema as schema_mod
        self.ctx = ctx
        self.mod = schema_mod
        self._schema: Any = False

    @property
    def schema(self):
        if self._schema is False:  # loaded on first raw field only
            self._schema = self.mod.load()
        return self._schema

    def _known(self, field: str, level: str) -> bool:
        m = self.mod
        if level == "job":
            names = set(m.JOB_FIELDS) | set(m.JOB_SCHEMA_GAPS)
            if self.schema is not None:
                names |= set(self.schema.properties(m.JOB_DEF)) - m.BUNDLE_ONLY_JOB_FIELDS
        else:
            names = set(m.TASK_FIELDS) | set(m.TASK_SCHEMA_GAPS)
            if self.schema is not None:
                names |= set(self.schema.properties(m.TASK_DEF))
        return field in names

    def _value(self, field: str, value: Any, level: str, location, path: str) -> list[Diagnostic]:
        m = self.mod
        gaps = m.JOB_SCHEMA_GAPS if level == "job" else m.TASK_SCHEMA_GAPS
        if field in gaps or self.schema is None:
            return []
        definition = m.JOB_DEF if level == "job" else m.TASK_DEF
        out = []
        for problem in self.schema.check(value, definition, field):
            where = _join(path, problem.path)
            if problem.validator == "enum":
                hint = f"; write {problem.suggestion!r}" if problem.suggestion else ""
                out.append(self.ctx.d("FD513", f"{where}: {problem.message}{hint} (the Databricks SDK silently "
                                      "drops any other spelling)", location, where))
            else:
                out.append(self.ctx.d("FD512", f"{where}: {problem.message} (checked against the Jobs API schema)",
                                      location, where))
        return out

    def _unknown(self, field: str, level: str, location, path: str) -> Diagnostic:
        m = self.mod
        names = sorted((m.JOB_FIELDS if level == "job" else m.TASK_FIELDS) | (
            set(self.schema.properties(m.JOB_DEF if level == "job" else m.TASK_DEF)) if self.schema else set()))
        close = difflib.get_close_matches(field, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        what = "job setting" if level == "job" else "task field"
        return self.ctx.d("FD511", f"{field!r} is not a Jobs API {what}{hint}", location, path)

    def job_fields(self) -> list[Diagnostic]:
        job = self.ctx.job
        out: list[Diagnostic] = []
        loc = job.location
        for field, value in job.extra:
            path = f"extra.{field}"
            if field in TYPED_JOB_FIELDS:
                out.append(self.ctx.d("FD511", f"{field!r} is typed in flowdef: set it with {TYPED_JOB_FIELDS[field]} "
                                      "instead of extra=", loc, path))
            elif field in self.mod.BUNDLE_ONLY_JOB_FIELDS:
                fix = "Job(permissions=[Permission....])" if field == "permissions" else "nothing (flowdef deploys)"
                out.append(self.ctx.d("FD511", f"{field!r} is a bundle setting, not a Jobs API field; use {fix}",
                                      loc, path))
            elif field == "format":
                out.append(self.ctx.d("FD511", "'format' is ignored by the Jobs API (jobs are always MULTI_TASK); "
                                      "remove it", loc, path))
            elif not self._known(field, "job"):
                out.append(self._unknown(field, "job", loc, path))
            else:
                out += self._value(field, value, "job", loc, path)
                out += self._job_field_rules(field, value, path)
        return out

    def _job_field_rules(self, field: str, value: Any, path: str) -> list[Diagnostic]:
        job, d, loc = self.ctx.job, self.ctx.d, self.ctx.job.location
        if field == "triggers" and job.triggers:
            return [d("FD501", "extra 'triggers' (the multi-trigger preview) cannot be combined with Job(trigger=...)"
                      "; keep one", loc, path)]
        if field == "environment_variables":
            if not isinstance(value, list):
                return [d("FD512", "environment_variables must be a list of {environment_variables_key, spec}",
                          loc, path)]
            if len(value) > MAX_ENVIRONMENT_VARIABLES:
                return [d("FD502", f"{len(value)} environment_variables entries; at most "
                          f"{MAX_ENVIRONMENT_VARIABLES} are allowed", loc, path)]
        if field == "duration_target" and dict(job.extra).get("performance_target") != "COST_OPTIMIZED":
            return [d("FD501", "duration_target only applies with performance_target 'COST_OPTIMIZED'", loc, path)]
        return []

    def task_fields(self, task: TaskSpec, path: str) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        loc = task.location
        kind = task.kind
        raw = isinstance(kind, RawTask)
        fields = list(kind.fields) if isinstance(kind, RawTask) else []
        if raw:
            kinds = [f for f, _ in fields if f.endswith("_task") and self._known(f, "task")]
            if not kinds:
                out.append(self.ctx.d("FD510", f"raw task {task.key!r} has no task kind: give exactly one *_task "
                                      "field, e.g. {'ai_runtime_task': {...}}", loc, path))
            elif len(kinds) > 1:
                out.append(self.ctx.d("FD510", f"raw task {task.key!r} has {len(kinds)} task kinds "
                                      f"({', '.join(kinds)}); a task has exactly one", loc, path))
        for field, value in task.extra:
            if field.endswith("_task") and self._known(field, "task"):
                out.append(self.ctx.d("FD510", f"extra {field!r} would give task {task.key!r} a second kind; a task "
                                      "has exactly one (use job.raw_task(...) for an untyped kind)", loc,
                                      f"{path}.{field}"))
            else:
                fields.append((field, value))
        env_var_keys = self._environment_variable_keys()
        for field, value in fields:
            fpath = f"{path}.{field}"
            if field in TYPED_TASK_FIELDS:
                out.append(self.ctx.d("FD511", f"{field!r} is typed in flowdef: set it with "
                                      f"{TYPED_TASK_FIELDS[field]} on the task instead", loc, fpath))
            elif raw and field in TYPED_KINDS:
                out.append(self.ctx.d("FD511", f"{field!r} is typed in flowdef: declare the task with "
                                      f"{TYPED_KINDS[field]} instead of raw_task", loc, fpath))
            elif not self._known(field, "task"):
                out.append(self._unknown(field, "task", loc, fpath))
            else:
                out += self._value(field, value, "task", loc, fpath)
                if field == "environment_variables_key" and value not in env_var_keys:
                    known = ", ".join(sorted(map(str, env_var_keys))) or "none"
                    out.append(self.ctx.d("FD504", f"environment_variables_key {value!r} of task {task.key!r} is not "
                                          f"declared in Job(extra={{'environment_variables': [...]}}) (declared: "
                                          f"{known})", loc, fpath))
        return out

    def _environment_variable_keys(self) -> set:
        value = dict(self.ctx.job.extra).get("environment_variables")
        if not isinstance(value, list):
            return set()
        return {e.get("environment_variables_key") for e in value if isinstance(e, dict)}


# ----------------------------------------------------------------------------------------------------------------
# settings


def _notifications(ctx, n: Notifications | None, path: str, location, health, *, task_level: bool) -> list[Diagnostic]:
    if n is None:
        return []
    out = []
    loc = n.location or location
    for event in NOTIFICATION_EVENTS:
        recipients = getattr(n, event)
        hooks = [r for r in recipients if isinstance(r, Webhook)]
        if len(hooks) > MAX_WEBHOOKS_PER_EVENT:
            out.append(ctx.d("FD502", f"{len(hooks)} webhooks for {event}; at most {MAX_WEBHOOKS_PER_EVENT} "
                             "destinations per event are allowed", hooks[MAX_WEBHOOKS_PER_EVENT].location or loc,
                             _join(path, f"webhook_notifications.{event}")))
        seen: set = set()
        for i, r in enumerate(recipients):
            where = _join(path, f"{'webhook' if isinstance(r, Webhook) else 'email'}_notifications.{event}[{i}]")
            if isinstance(r, Webhook):
                if not isinstance(r.id, str) or not r.id.strip():
                    out.append(ctx.d("FD514", f"webhook in {event} has an empty destination id", r.location or loc,
                                     where))
            elif not isinstance(r, str):
                out.append(ctx.d("FD514", f"{event} recipient {r!r} must be an e-mail address or a Webhook(id)",
                                 loc, where))
            elif not EMAIL.match(r):
                hint = (" (for a notification destination write Webhook(" + repr(r) + "))" if "@" not in r else "")
                out.append(ctx.d("FD514", f"{r!r} in {event} is not an e-mail address{hint}", loc, where))
            key = r.id if isinstance(r, Webhook) else r
            if key in seen:
                out.append(ctx.d("FD514", f"{key!r} is listed twice in {event}", loc, where, severity="warning"))
            seen.add(key)
    if n.alert_on_last_attempt is not None and not task_level:
        out.append(ctx.d("FD514", "alert_on_last_attempt only exists on tasks (it holds start/failure notices until "
                         "the last retry); move it to the task's notifications=", loc,
                         "notification_settings.alert_on_last_attempt"))
    metrics = health.metrics() if health is not None else set()
    scope = "task" if task_level else "job"
    if n.on_duration_warning_threshold_exceeded and HealthMetric.RUN_DURATION_SECONDS.value not in metrics:
        out.append(ctx.d(
            "FD514", f"on_duration_warning_threshold_exceeded is never sent: the {scope} has no RUN_DURATION_SECONDS "
            f"health rule; add health=Health.over(run_duration_seconds=...) to the {scope}", loc,
            _join(path, _event_path(n, "on_duration_warning_threshold_exceeded")), severity="warning"))
    if n.on_streaming_backlog_exceeded and not any(m.startswith("STREAMING_BACKLOG") for m in metrics):
        out.append(ctx.d(
            "FD514", f"on_streaming_backlog_exceeded is never sent: the {scope} has no STREAMING_BACKLOG_* health "
            "rule; add e.g. health=Health.over(streaming_backlog_seconds=...)", loc,
            _join(path, _event_path(n, "on_streaming_backlog_exceeded")), severity="warning"))
    return out


def _event_path(n: Notifications, event: str) -> str:
    emails = any(not isinstance(r, Webhook) for r in getattr(n, event))
    return f"{'email' if emails else 'webhook'}_notifications.{event}"


def _health(ctx, health, path: str, location) -> list[Diagnostic]:
    if health is None:
        return []
    out = []
    loc = health.location or location
    seen = set()
    metrics = [m.value for m in HealthMetric]
    for i, rule in enumerate(health.rules):
        where = _join(path, f"health.rules[{i}]")
        out += _enum(ctx, "health metric", rule.metric, metrics, loc, f"{where}.metric")
        if rule.op != "GREATER_THAN":
            hint = "; it is the only operator" if str(rule.op).strip() in (">", "gt", "GT", "greater_than") else ""
            out.append(ctx.d("FD513", f"health rule op {rule.op!r} is not valid: the API knows only "
                             f"{HEALTH_OPS[0]!r}{hint} (a rule fires when the metric exceeds its value)", loc,
                             f"{where}.op"))
        if isinstance(rule.value, bool) or not isinstance(rule.value, int) or rule.value < 0:
            out.append(ctx.d("FD501", f"health rule value must be a non-negative integer, got {rule.value!r}", loc,
                             f"{where}.value"))
        if rule.metric in seen:
            out.append(ctx.d("FD501", f"health metric {rule.metric} has two rules; keep one", loc, where))
        seen.add(rule.metric)
    return out


def _git(ctx) -> list[Diagnostic]:
    git = ctx.job.git
    if git is None:
        return []
    out = []
    loc = git.location or ctx.job.location
    out += _enum(ctx, "git provider", git.provider, [p.value for p in GitProvider], loc, "git_source.git_provider")
    if not str(git.url or "").strip():
        out.append(ctx.d("FD501", "git source needs a repository url", loc, "git_source.git_url"))
    elif len(git.url) > MAX_GIT_URL:
        out.append(ctx.d("FD502", f"git url is {len(git.url)} characters; at most {MAX_GIT_URL}", loc,
                         "git_source.git_url"))
    refs = [(name, getattr(git, name)) for name in ("branch", "tag", "commit") if getattr(git, name) is not None]
    if len(refs) != 1:
        got = ", ".join(n for n, _ in refs) or "none"
        out.append(ctx.d("FD501", f"git source needs exactly one of branch=, tag= or commit= (got {got})", loc,
                         "git_source"))
    limits = {"branch": MAX_GIT_BRANCH, "tag": MAX_GIT_TAG, "commit": MAX_GIT_COMMIT}
    for name, value in refs:
        if not str(value).strip():
            out.append(ctx.d("FD501", f"git {name} is empty", loc, f"git_source.git_{name}"))
        elif len(value) > limits[name]:
            out.append(ctx.d("FD502", f"git {name} is {len(value)} characters; at most {limits[name]}", loc,
                             f"git_source.git_{name}"))
    for i, pattern in enumerate(git.sparse_checkout):
        if not isinstance(pattern, str) or not pattern.strip():
            out.append(ctx.d("FD501", f"sparse checkout pattern {pattern!r} must be a non-empty path", loc,
                             f"git_source.sparse_checkout.patterns[{i}]"))
    return out


def _run_as(ctx) -> list[Diagnostic]:
    run_as = ctx.job.run_as
    if run_as is None:
        return []
    loc = run_as.location or ctx.job.location
    principals = run_as.principals()
    if len(principals) != 1:
        got = ", ".join(f for f, _ in principals) or "none"
        return [ctx.d("FD501", f"run_as needs exactly one of a user, a service principal or a group (got {got}); use "
                      "RunAs.user(...), RunAs.service_principal(...) or RunAs.group(...)", loc, "run_as")]
    field, name = principals[0]
    if not isinstance(name, str) or not name.strip():
        return [ctx.d("FD501", f"run_as {field} is empty", loc, f"run_as.{field}")]
    return []


def _permissions(ctx) -> list[Diagnostic]:
    perms = ctx.job.permissions
    if not perms:
        return []
    out = []
    levels = [lv.value for lv in PermissionLevel]
    owners = []
    seen: dict[tuple, int] = {}
    for i, p in enumerate(perms):
        loc = p.location or ctx.job.location
        where = f"permissions[{i}]"
        if p.level not in levels:
            out.append(ctx.d("FD515", f"permission level {p.level!r} is not one of {', '.join(levels)}"
                             f"{enum_hint(p.level, levels)}", loc, f"{where}.permission_level"))
        principals = p.principals()
        if len(principals) != 1 or not str(principals[0][1]).strip():
            out.append(ctx.d("FD515", "a permission names exactly one user, group or service principal; use "
                             "Permission.user(...), Permission.group(...) or Permission.service_principal(...)",
                             loc, where))
            continue
        principal = principals[0]
        if principal in seen:
            out.append(ctx.d("FD515", f"{principal[0].replace('_name', '').replace('_', ' ')} {principal[1]!r} is "
                             f"granted twice (permissions[{seen[principal]}] and [{i}]); keep one level", loc, where))
        seen[principal] = i
        if p.level == "IS_OWNER":
            owners.append((i, p))
            if principal[0] == "group_name":
                out.append(ctx.d("FD515", f"group {principal[1]!r} cannot own a job: the owner is a user or a service "
                                 "principal", loc, where))
    if not owners:
        out.append(ctx.d("FD515", "permissions name no owner: the permissions API replaces every direct grant, so "
                         "include exactly one IS_OWNER, e.g. Permission.service_principal('<app-id>', 'IS_OWNER')",
                         perms[0].location or ctx.job.location, "permissions"))
    for i, p in owners[1:]:
        out.append(ctx.d("FD515", f"a job has exactly one owner; permissions[{owners[0][0]}] is already IS_OWNER",
                         p.location or ctx.job.location, f"permissions[{i}]"))
    return out


def _tags(ctx) -> list[Diagnostic]:
    out = []
    for source, tags, loc in (("job", ctx.job.tags, ctx.job.location), ("target", ctx.target.tags, None)):
        for name, _ in tags:
            if name in IDENTITY_TAGS:
                where = f" of target {ctx.target.name!r}" if source == "target" else ""
                out.append(ctx.d("FD501", f"tag {name!r}{where} is flowdef's identity tag (set by the compiler, used "
                                 "by deploy to find the job); rename yours", loc, f"tags.{name}"))
    return out


# ----------------------------------------------------------------------------------------------------------------
# references between jobs


def _job_references(contexts: list[JobContext]) -> list[Diagnostic]:
    keys = {ctx.job.key for ctx in contexts}
    out: list[Diagnostic] = []
    edges: dict[str, list[tuple[str, Any]]] = {}
    for ctx in contexts:
        job = ctx.job
        for top in job.tasks:
            if top.kind.__class__ in _FLAT_KINDS and not isinstance(top.kind, RunJobTask):
                continue  # neither a run-job task nor one holding a nested task
            for task, path in _with_paths(top):
                kind = task.kind
                if not isinstance(kind, RunJobTask) or kind.job_key is None:
                    continue
                where = f"{path}.run_job_task.job_id"
                if kind.job_key not in keys:
                    close = difflib.get_close_matches(kind.job_key, sorted(keys), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    out.append(ctx.d("FD516", f"run-job task {task.key!r} runs job {kind.job_key!r}, which is not a "
                                     f"job of this project{hint} (pass the Job object, or a numeric job id for "
                                     "other jobs)", task.location, where))
                elif kind.job_key == job.key:
                    out.append(ctx.d("FD516", f"run-job task {task.key!r} runs its own job {job.key!r}: every run "
                                     "would start another, without end", task.location, where))
                else:
                    edges.setdefault(job.key, []).append((kind.job_key, (ctx, task, where)))
        for trig in job.triggers:
            if isinstance(trig, JobCompletion):
                for j in trig.jobs:
                    key = getattr(j, "key", None)
                    if key is not None and hasattr(j, "to_model") and key not in keys:
                        out.append(ctx.d("FD516", f"JobCompletion watches job {key!r}, which is not a job of this "
                                         "project (load its module too, or give its numeric id)", trig.location,
                                         "trigger.job_completion.jobs"))
    out += _reference_cycles(edges)
    return out


def _reference_cycles(edges: dict[str, list]) -> list[Diagnostic]:
    """Run-job tasks that (transitively) run the job they belong to: reported once per cycle, at the task that
    closes it."""
    out = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(key: str) -> None:
        state[key] = 1
        path.append(key)
        for target, (ctx, task, where) in edges.get(key, ()):
            if state.get(target) == 1:
                loop = path[path.index(target):] + [target]
                out.append(ctx.d("FD516", "run-job tasks form a cycle of jobs: " + " -> ".join(loop) +
                                 "; each run would start the next forever — break the cycle", task.location, where))
            elif target not in state and target in edges:
                visit(target)
        path.pop()
        state[key] = 2

    for key in sorted(edges):
        if key not in state:
            visit(key)
    return out
