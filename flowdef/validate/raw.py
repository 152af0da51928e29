"""Raw settings: ``Job(extra=...)``, ``extra=`` on tasks and ``job.raw_task`` — the escape hatch for Jobs API
fields flowdef does not type.

* a raw task has exactly one ``*_task`` kind field, and ``extra`` adds none — FD510;
* every raw field is a Jobs API field flowdef does not type — FD511;
* its value has the API's type — FD512 — and enum values are spelled as the API spells them — FD513.
"""

from __future__ import annotations

import difflib
from typing import Any

from flowdef.diagnostics import Diagnostic
from flowdef.jobsapi import fields
from flowdef.model.spec import TaskSpec
from flowdef.model.tasks import RawTask
from flowdef.validate.context import JobContext
from flowdef.wire import kinds

from flowdef.jobsapi.facts import MAX_ENVIRONMENT_VARIABLES
BUNDLE_ONLY_JOB_FIELDS = frozenset({"permissions", "lifecycle"})  # bundle settings, not Jobs API fields


def value_problems(ctx: JobContext, problems: list[fields.Problem], location, path: str) -> list[Diagnostic]:
    """FD513 for enum spellings, FD512 for every other problem of a raw value (wrong type, unknown or missing
    field), each at its path inside the value."""
    out = []
    for problem in problems:
        where = _join(path, problem.path)
        if problem.validator == "enum":
            hint = f"; write {problem.suggestion!r}" if problem.suggestion else ""
            out.append(ctx.d("FD513", f"{where}: {problem.message}{hint} (the Databricks SDK silently drops any "
                             "other spelling)", location, where))
        else:
            out.append(ctx.d("FD512", f"{where}: {problem.message} (the Jobs API's field types, databricks-sdk "
                             f"{fields.SDK_VERSION})", location, where))
    return out

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

class RawFields:
    """Checks names and values of raw settings against the Jobs API field table shipped in the package
    (:mod:`flowdef.jobsapi.fields`, generated from databricks-sdk): the same result on every install."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    @staticmethod
    def _object(level: str) -> str:
        return fields.JOB if level == "job" else fields.TASK

    def _known(self, field: str, level: str) -> bool:
        return field in fields.field_names(self._object(level))

    def _value(self, field: str, value: Any, level: str, location, path: str) -> list[Diagnostic]:
        return value_problems(self.ctx, fields.check_field(value, self._object(level), field), location, path)

    def _unknown(self, field: str, level: str, location, path: str) -> Diagnostic:
        names = sorted(fields.field_names(self._object(level)) - BUNDLE_ONLY_JOB_FIELDS)
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
            elif field in BUNDLE_ONLY_JOB_FIELDS:
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
        if not task.extra and not isinstance(task.kind, RawTask):
            return []  # no raw field on this task
        out: list[Diagnostic] = []
        loc = task.location
        kind = task.kind
        raw = isinstance(kind, RawTask)
        fields = list(kind.fields) if isinstance(kind, RawTask) else []
        if raw:
            found = [f for f, _ in fields if f.endswith("_task") and self._known(f, "task")]
            if not found:
                out.append(self.ctx.d("FD510", f"raw task {task.key!r} has no task kind: give exactly one *_task "
                                      "field, e.g. {'ai_runtime_task': {...}}", loc, path))
            elif len(found) > 1:
                out.append(self.ctx.d("FD510", f"raw task {task.key!r} has {len(found)} task kinds "
                                      f"({', '.join(found)}); a task has exactly one", loc, path))
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
            elif raw and field in kinds.WIRE_FIELDS:
                out.append(self.ctx.d("FD511", f"{field!r} is typed in flowdef: declare the task with "
                                      f"{kinds.DSL_OF_FIELD[field]} instead of raw_task", loc, fpath))
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




def _join(path: str, leaf: str) -> str:
    return f"{path}.{leaf}" if path and leaf else path or leaf
