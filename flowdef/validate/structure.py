"""Structural rules: task keys, dependencies and branch outcomes, run_if, control-flow tasks (condition,
for-each), the graph (cycles), parameters, and the documented size and count limits of the Jobs API.

Every rule is linear in the size of the job: one pass over the tasks plus the graph (:mod:`flowdef.graph`).
"""

from __future__ import annotations

from flowdef.diagnostics import Diagnostic
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import ConditionTask, ForEachTask
from flowdef.validate.context import JobContext
from flowdef.wire import kinds
from flowdef.wire.kind_rules import suggest as _suggest
from flowdef.jobsapi.facts import (  # the Jobs API's limits and enums, written once
    FAILURE_RUN_IF, INT32_MAX, MAX_CONCURRENT_RUNS, MAX_ENVIRONMENTS, MAX_JOB_CLUSTERS, MAX_JOB_DESCRIPTION,
    MAX_NAME_BYTES, MAX_TAGS, MAX_TASK_DESCRIPTION, MAX_TASKS, PARAM_NAME, RUN_IF_VALUES, STRING_CONDITION_OPS,
    TASK_KEY,
)
from flowdef.jobsapi.facts import IDENTITY_TAGS as _IDENTITY_TAG_NAMES

__all__ = ["JobContext", "check", "is_condition", "is_for_each"]  # JobContext: re-exported for the rule modules

IDENTITY_TAGS = len(_IDENTITY_TAG_NAMES)  # added by the compiler: they count against MAX_TAGS
RUN_IF = set(RUN_IF_VALUES)


def is_condition(kind) -> bool:
    """A condition (if/else) task kind."""
    return isinstance(kind, ConditionTask)


def is_for_each(kind) -> bool:
    return isinstance(kind, ForEachTask)


def check(ctx: JobContext) -> list[Diagnostic]:
    job = ctx.job
    out: list[Diagnostic] = []
    if not job.tasks:
        out.append(ctx.d("FD109", f"job {job.key!r} has no tasks; declare at least one with @job.task or job.sql(...)"))
    if len(job.tasks) > MAX_TASKS:
        out.append(ctx.d(
            "FD106",
            f"job {job.key!r} has {len(job.tasks)} tasks; the Jobs API allows at most {MAX_TASKS} — split it into "
            "several jobs chained with run-job tasks (or a JobCompletion trigger)",
        ))
    first: dict[str, TaskSpec] = {}  # every key declared so far, nested tasks' too (unique in the job)
    for task in job.tasks:
        _key_rules(ctx, task, None, first, out)
        nested = getattr(task.kind, "task", None)
        while isinstance(nested, TaskSpec):  # a for-each task's nested task (nesting deeper is FD111)
            _key_rules(ctx, nested, task, first, out)
            nested = getattr(nested.kind, "task", None)
    tasks = ctx.tasks_by_key
    handlers = []
    computes: dict[str, set] = {"JobCluster": set(), "Environment": set()}
    for task in job.tasks:
        _task_rules(ctx, task, tasks, out)
        run_if = task.run_if
        if run_if is not None and run_if in FAILURE_RUN_IF and task.depends_on:
            handlers.append(task)
        _collect_compute(job, task, computes)
        nested = getattr(task.kind, "task", None)  # a for-each task's nested task runs on compute too
        if isinstance(nested, TaskSpec):
            _collect_compute(job, nested, computes)
    from flowdef import graph
    cyclic = graph.cycles(ctx.graph)
    for cycle in cyclic:
        start = tasks.get(cycle[0])
        out.append(ctx.d(
            "FD101",
            "dependency cycle: " + " -> ".join(cycle) + "; remove one of these dependencies",
            start.location if start else None, f"tasks.{cycle[0]}.depends_on",
        ))
    if not cyclic and handlers:
        out += _run_if_reachability(ctx, tasks, handlers)
    out += _job_rules(ctx, computes)
    return out


def _key_rules(ctx: JobContext, task: TaskSpec, parent: TaskSpec | None, first: dict, out: list) -> None:
    key = task.key
    if key in first:
        location = task.location or (parent.location if parent else None)
        path = f"tasks.{parent.key}.for_each_task.task" if parent else f"tasks.{key}"
        out.append(ctx.d(
            "FD104",
            f"duplicate task key {key!r} (first declared at {first[key].location}); task keys must be unique in a "
            "job, including the tasks inside for-each tasks — rename one (for function tasks pass key=...)",
            location, path,
        ))
    else:
        first[key] = task
    if not isinstance(key, str) or not TASK_KEY.match(key):
        location = task.location or (parent.location if parent else None)
        path = f"tasks.{parent.key}.for_each_task.task" if parent else f"tasks.{key}"
        out.append(ctx.d(
            "FD105",
            f"task key {key!r} is invalid: use 1-100 letters, digits, '_' or '-'"
            + (f" ({len(key)} characters)" if isinstance(key, str) and len(key) > 100 else ""),
            location, path,
        ))


def _collect_compute(job: JobSpec, task: TaskSpec, computes: dict[str, set]) -> None:
    """The job clusters and environments the payload will hold (declared ones are added by ``_job_rules``)."""
    compute = task.compute
    if compute is None:
        if not kinds.needs_compute(task.kind):
            return
        compute = job.compute
        if compute is None:
            return
    found = computes.get(type(compute).__name__)
    if found is not None:
        found.add(getattr(compute, "key", ""))


# ----------------------------------------------------------------------------------------------------------------
# tasks


def _both_branches(task: TaskSpec, up_key: str) -> bool:
    """``depends_on=[check.true, check.false]`` under ALL_SUCCESS: one of the two is always excluded."""
    outcomes = {d.outcome for d in task.depends_on if d.task_key == up_key}
    return {"true", "false"} <= outcomes and task.run_if in (None, "ALL_SUCCESS")


def _task_rules(ctx: JobContext, task: TaskSpec, tasks: dict[str, TaskSpec], out: list[Diagnostic]) -> None:
    deps = task.depends_on
    if deps and len(deps) == 1:  # the common case, without the loop's set: a known task, not itself, no outcome
        dep = deps[0]
        if dep.outcome is None and dep.task_key != task.key and dep.task_key in tasks:
            deps = ()
    if deps:
        seen_deps: set[str] = set()
        for i, dep in enumerate(deps):
            up_key = dep.task_key
            upstream = tasks.get(up_key)
            if upstream is not None and up_key != task.key and up_key not in seen_deps and dep.outcome is None:
                seen_deps.add(up_key)
                continue  # the common case: nothing to report
            dpath = f"tasks.{task.key}.depends_on[{i}]"
            where = dep.location or task.location
            if up_key == task.key:
                out.append(ctx.d("FD102", f"task {task.key!r} depends on itself; remove it from depends_on",
                                 where, dpath))
            elif upstream is None:
                out.append(ctx.d(
                    "FD103",
                    f"task {task.key!r} depends on unknown task {up_key!r}{_suggest(up_key, tasks)}",
                    where, dpath,
                ))
            if up_key in seen_deps and _both_branches(task, up_key):
                out.append(ctx.d(
                    "FD604",
                    f"task {task.key!r} depends on both branches of condition {up_key!r} (.true and .false) under "
                    f"run_if {task.run_if or 'ALL_SUCCESS'}: one branch is always excluded, so the task can never "
                    f"run; to run after {up_key!r} whatever its outcome, depend on the condition itself "
                    f"(depends_on=[{up_key}])", where, dpath))
            elif up_key in seen_deps:
                out.append(ctx.d("FD108", f"task {task.key!r} lists {up_key!r} twice in depends_on",
                                 where, dpath))
            seen_deps.add(up_key)
            if dep.outcome is not None:
                out += _outcome_rules(ctx, task, dep, upstream, where, dpath)
    if task.run_if is not None:
        path = "tasks." + task.key
        if task.run_if not in RUN_IF:
            text = str(task.run_if)
            hint = (f"; did you mean {text.upper()!r}?" if text.upper() in RUN_IF else _suggest(text, RUN_IF))
            out.append(ctx.d(
                "FD107",
                f"run_if {task.run_if!r} is not a valid value (one of {', '.join(sorted(RUN_IF))}){hint}",
                task.location, f"{path}.run_if",
            ))
        elif not task.depends_on and task.run_if in FAILURE_RUN_IF:
            out.append(ctx.d(
                "FD114",
                f"run_if {task.run_if} on task {task.key!r}, which has no dependencies: there is no upstream "
                "failure for it to react to; add depends_on=[...] with the tasks whose failure it handles",
                task.location, f"{path}.run_if",
            ))
        elif not task.depends_on and task.run_if != "ALL_SUCCESS":
            out.append(ctx.d(
                "FD115",
                f"run_if {task.run_if} on task {task.key!r}, which has no dependencies, has no effect; "
                "add depends_on or drop run_if",
                task.location, f"{path}.run_if",
            ))
    out += _kind_rules(ctx, task, "tasks." + task.key, task.location)


def _outcome_rules(ctx, task, dep, upstream, where, dpath) -> list[Diagnostic]:
    out = []
    if upstream is not None and not is_condition(upstream.kind):
        out.append(ctx.d(
            "FD110",
            f"task {task.key!r} depends on outcome {dep.outcome!r} of {dep.task_key!r}, which is not a condition "
            "task; an outcome can only follow a condition task (depends_on=[check.true]) — depend on the task "
            "itself and use run_if instead",
            where, f"{dpath}.outcome",
        ))
    elif dep.outcome not in ("true", "false"):
        hint = ""
        if isinstance(dep.outcome, bool) or str(dep.outcome).lower() in ("true", "false"):
            hint = f'; write "{str(dep.outcome).lower()}" (or depends_on=[{dep.task_key}.{str(dep.outcome).lower()}])'
        out.append(ctx.d(
            "FD110",
            f"outcome {dep.outcome!r} in the dependency of {task.key!r} on {dep.task_key!r} is invalid: it must be "
            f'the string "true" or "false"{hint}',
            where, f"{dpath}.outcome",
        ))
    return out


def _kind_rules(ctx: JobContext, task: TaskSpec, path: str, location) -> list[Diagnostic]:
    """The rules every task shares (compute, retries, timeout, description), then its kind's own rules (the
    kind's entry in :mod:`flowdef.wire.kinds`), then the same for a nested task."""
    out = []
    kind = task.kind
    if kinds.needs_compute(kind) and task.compute is None and ctx.job.compute is None:
        what = {"FunctionTask": "function", "PythonFileTask": "Python file"}.get(type(kind).__name__,
                                                                                 type(kind).__name__)
        out.append(ctx.d(
            "FD503",
            f"{what} task {task.key!r} needs compute: pass compute=Environment(...) (serverless), a JobCluster or "
            "an ExistingCluster, on the task or as the job's default Job(compute=...)",
            location, path,
        ))
    entry = kinds.BY_MODEL.get(type(kind))
    if entry is not None:
        out += entry.rules(ctx, task, kind, path, location)
    if task.retry is not None:
        r = task.retry
        if r.max_retries < -1:
            out.append(ctx.d("FD501", "retry: max_retries must be -1 (forever) or >= 0", location, path))
        elif r.max_retries > INT32_MAX:
            out.append(ctx.d("FD502", f"retry: max_retries must be at most {INT32_MAX}", location, path))
        if r.interval is not None and r.interval < 0:
            out.append(ctx.d("FD501", "retry: interval must be >= 0 seconds", location, path))
        elif r.interval is not None and r.interval * 1000 > INT32_MAX:
            out.append(ctx.d("FD502", f"retry: interval must be at most {INT32_MAX // 1000:,} seconds "
                             "(min_retry_interval_millis is a 32-bit integer)", location, path))
    if task.timeout_seconds is not None:
        if task.timeout_seconds < 0:
            out.append(ctx.d("FD501", "timeout must be >= 0 seconds (0 = none)", location, path))
        elif task.timeout_seconds > INT32_MAX:
            out.append(ctx.d("FD502", f"timeout must be at most {INT32_MAX:,} seconds", location, path))
    if task.description is not None and len(task.description) > MAX_TASK_DESCRIPTION:
        out.append(ctx.d(
            "FD502",
            f"task description is {len(task.description):,} characters; at most {MAX_TASK_DESCRIPTION} are allowed",
            location, f"{path}.description",
        ))
    nested = getattr(kind, "task", None)
    if isinstance(nested, TaskSpec):
        out += _kind_rules(ctx, nested, f"{path}.for_each_task.task", nested.location or location)
    return out


# ----------------------------------------------------------------------------------------------------------------
# run_if that can never fire


def _run_if_reachability(ctx: JobContext, tasks: dict[str, TaskSpec], handlers: list[TaskSpec]) -> list[Diagnostic]:
    """A failure handler (``AT_LEAST_ONE_FAILED``/``ALL_FAILED``) downstream of tasks that cannot fail never runs:
    a disabled task never fails, and neither does a string comparison of job parameters (a condition task whose
    own upstream cannot fail either).  ``ALL_FAILED`` needs *every* upstream to fail, so one that cannot is enough.
    """
    out: list[Diagnostic] = []
    memo: dict[str, bool] = {}
    for key in ctx.graph.order:  # acyclic here: every task is in it
        memo[key] = _cannot_fail(tasks[key], memo)
    for task in handlers:
        ups = [d.task_key for d in task.depends_on if d.task_key in tasks and d.task_key != task.key]
        if not ups:
            continue
        safe = [k for k in ups if memo.get(k)]
        if task.run_if == "AT_LEAST_ONE_FAILED" and len(safe) == len(ups) or task.run_if == "ALL_FAILED" and safe:
            names = ", ".join(repr(k) for k in dict.fromkeys(safe))
            reason = " and ".join(sorted({_why_safe(tasks[k]) for k in safe}))
            out.append(ctx.d(
                "FD114",
                f"run_if {task.run_if} on task {task.key!r} can never be met: upstream {names} cannot fail "
                f"({reason}), so {task.key!r} is always excluded; depend on the tasks whose failure it handles",
                task.location, f"tasks.{task.key}.run_if",
            ))
    return out


def _cannot_fail(t: TaskSpec, memo: dict[str, bool]) -> bool:
    if t.disabled:
        return True
    kind = t.kind
    if not is_condition(kind):
        return False
    op = getattr(kind, "op", None)
    if getattr(op, "value", op) not in STRING_CONDITION_OPS:
        return False  # a numeric comparison fails on a non-number
    for side in (getattr(kind, "left", ""), getattr(kind, "right", "")):
        if isinstance(side, str) and "tasks." in side:
            return False  # a task value of the wrong JSON type fails the condition
    return all(memo.get(d.task_key, False) for d in t.depends_on)


def _why_safe(t: TaskSpec) -> str:
    return "a disabled task never fails" if t.disabled else "a string comparison never fails"


# ----------------------------------------------------------------------------------------------------------------
# the job


def _job_rules(ctx: JobContext, computes: dict[str, set]) -> list[Diagnostic]:
    job = ctx.job
    out = []
    for i, p in enumerate(job.params):
        if not isinstance(p.name, str) or not PARAM_NAME.match(p.name):
            out.append(ctx.d(
                "FD206",
                f"job parameter name {p.name!r} is invalid: use letters, digits, '_', '-' or '.' (no spaces)",
                p.location, f"parameters[{i}]",
            ))
    mcr = job.max_concurrent_runs
    if mcr is not None:
        if isinstance(mcr, bool) or not isinstance(mcr, int) or not 0 <= mcr <= MAX_CONCURRENT_RUNS:
            out.append(ctx.d("FD502", f"max_concurrent_runs must be 0..{MAX_CONCURRENT_RUNS}, got {mcr!r}",
                             path="max_concurrent_runs"))
        elif mcr == 0:
            out.append(ctx.d(
                "FD506",
                "max_concurrent_runs=0 makes the service skip every new run of this job (scheduled, triggered and "
                "run-now alike); use 1 or more, or pause the trigger instead",
                path="max_concurrent_runs",
            ))
    if job.timeout_seconds is not None:
        if job.timeout_seconds < 0:
            out.append(ctx.d("FD501", f"timeout must be >= 0 seconds (0 = none), got {job.timeout_seconds}",
                             path="timeout_seconds"))
        elif job.timeout_seconds > INT32_MAX:
            out.append(ctx.d("FD502", f"timeout must be at most {INT32_MAX:,} seconds", path="timeout_seconds"))
    full_name = ctx.target.name_prefix + job.name
    size = len(full_name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        prefix = f" (with the target's prefix {ctx.target.name_prefix!r})" if ctx.target.name_prefix else ""
        out.append(ctx.d("FD006", f"job name is {size:,} bytes in UTF-8{prefix}; at most {MAX_NAME_BYTES} are allowed",
                         path="name"))
    elif not job.name.strip():
        out.append(ctx.d("FD006", "job name is empty; give the job a name", path="name"))
    if job.description is not None and len(job.description) > MAX_JOB_DESCRIPTION:
        out.append(ctx.d(
            "FD502",
            f"job description is {len(job.description):,} characters; at most {MAX_JOB_DESCRIPTION:,} are allowed",
            path="description",
        ))
    tags = dict(job.tags)
    tags.update(dict(ctx.target.tags))
    count = len(tags) + IDENTITY_TAGS
    if count > MAX_TAGS:
        out.append(ctx.d(
            "FD502",
            f"job has {len(tags)} tags (with the target's); at most {MAX_TAGS - IDENTITY_TAGS} are allowed "
            f"({MAX_TAGS} minus flowdef's {IDENTITY_TAGS} identity tags)",
            path="tags",
        ))
    clusters = computes["JobCluster"] | {c.key for c in job.job_clusters}
    envs = computes["Environment"] | {e.key for e in job.environments}
    if len(clusters) > MAX_JOB_CLUSTERS:
        out.append(ctx.d("FD502", f"job uses {len(clusters)} job clusters; at most {MAX_JOB_CLUSTERS} are allowed "
                         "— share clusters between tasks", path="job_clusters"))
    if len(envs) > MAX_ENVIRONMENTS:
        out.append(ctx.d("FD502", f"job uses {len(envs)} environments; at most {MAX_ENVIRONMENTS} are allowed "
                         "— share environments between tasks", path="environments"))
    return out
