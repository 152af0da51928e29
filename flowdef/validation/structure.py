"""Structural rules: task keys, dependencies, run_if, limits, the graph (cycles), compute, parameters."""

from __future__ import annotations

import re

import attrs

from flowdef.config import ProjectConfig, Target
from flowdef.diagnostics import Diagnostic, diag
from flowdef.model import JobSpec, RunIf, TaskSpec
from flowdef.tasks import FunctionTask, PythonFileTask

MAX_TASKS = 1000
TASK_KEY = re.compile(r"[\w\-]{1,100}\Z")
PARAM_NAME = re.compile(r"[\w\-.]+\Z")
RUN_IF = {r.value for r in RunIf}


@attrs.define
class JobContext:
    """What the rules of one job share: the job, the target, and lazily the graph."""

    job: JobSpec
    target: Target
    config: ProjectConfig
    _graph: object = None
    _ancestry: object = None
    acyclic: bool = True

    @property
    def graph(self):
        if self._graph is None:
            from flowdef import graph

            self._graph = graph.build(self.job)
        return self._graph

    @property
    def ancestry(self):
        if self._ancestry is None:
            from flowdef import graph

            self._ancestry = graph.Ancestry(self.graph) if self.acyclic else None
        return self._ancestry

    def d(self, code: str, message: str, location=None, path: str = "", severity: str | None = None) -> Diagnostic:
        return diag(code, message, location or self.job.location, job=self.job.key, path=path, severity=severity)


def _suggest(word: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check(ctx: JobContext) -> list[Diagnostic]:
    job = ctx.job
    out: list[Diagnostic] = []
    if not job.tasks:
        out.append(ctx.d("FD109", f"job {job.key!r} has no tasks; declare at least one with @job.task or job.sql(...)"))
    if len(job.tasks) > MAX_TASKS:
        out.append(ctx.d(
            "FD106",
            f"job {job.key!r} has {len(job.tasks)} tasks; the Jobs API allows at most {MAX_TASKS} — split it into "
            "several jobs chained with run-job tasks",
        ))
    first: dict[str, TaskSpec] = {}
    for i, task in enumerate(job.tasks):
        path = f"tasks.{task.key}"
        if task.key in first:
            other = first[task.key].location
            out.append(ctx.d(
                "FD104",
                f"duplicate task key {task.key!r} (first declared at {other}); task keys must be unique in a job — "
                "rename one (for function tasks pass key=...)",
                task.location, path,
            ))
        else:
            first[task.key] = task
        if not isinstance(task.key, str) or not TASK_KEY.match(task.key):
            out.append(ctx.d(
                "FD105",
                f"task key {task.key!r} is invalid: use 1-100 letters, digits, '_' or '-'",
                task.location, path,
            ))
    keys = set(first)
    for task in job.tasks:
        out += _task_rules(ctx, task, keys)
    if len(job.tasks) <= 100_000:
        from flowdef import graph

        for cycle in graph.cycles(ctx.graph):
            ctx.acyclic = False
            task = job.task(cycle[0])
            out.append(ctx.d(
                "FD101",
                "dependency cycle: " + " -> ".join(cycle) + "; remove one of these dependencies",
                task.location if task else None, f"tasks.{cycle[0]}.depends_on",
            ))
    for i, p in enumerate(job.params):
        if not PARAM_NAME.match(p.name):
            out.append(ctx.d(
                "FD206",
                f"job parameter name {p.name!r} is invalid: use letters, digits, '_', '-' or '.'",
                p.location, f"parameters[{i}]",
            ))
    if job.max_concurrent_runs is not None and not (0 <= job.max_concurrent_runs <= 1000):
        out.append(ctx.d("FD502", f"max_concurrent_runs must be 0..1000, got {job.max_concurrent_runs}"))
    if job.timeout_seconds is not None and job.timeout_seconds < 0:
        out.append(ctx.d("FD501", f"timeout must be >= 0 seconds (0 = none), got {job.timeout_seconds}"))
    if len(job.name.encode("utf-8")) > 4096:
        out.append(ctx.d("FD006", "job name is longer than 4096 bytes"))
    elif not job.name.strip():
        out.append(ctx.d("FD006", "job name is empty; give the job a name"))
    if len(job.tags) + 3 > 25:
        out.append(ctx.d(
            "FD502", f"job has {len(job.tags)} tags; at most 22 (25 minus flowdef's 3 identity tags) are allowed",
        ))
    return out


def _task_rules(ctx: JobContext, task: TaskSpec, keys: set[str]) -> list[Diagnostic]:
    out = []
    path = f"tasks.{task.key}"
    seen_deps: set[str] = set()
    for i, dep in enumerate(task.depends_on):
        dpath = f"{path}.depends_on[{i}]"
        if dep.task_key == task.key:
            out.append(ctx.d("FD102", f"task {task.key!r} depends on itself; remove it from depends_on",
                             dep.location or task.location, dpath))
        elif dep.task_key not in keys:
            out.append(ctx.d(
                "FD103",
                f"task {task.key!r} depends on unknown task {dep.task_key!r}{_suggest(dep.task_key, keys)}",
                dep.location or task.location, dpath,
            ))
        if dep.task_key in seen_deps:
            out.append(ctx.d("FD108", f"task {task.key!r} lists {dep.task_key!r} twice in depends_on",
                             task.location, dpath))
        seen_deps.add(dep.task_key)
    if task.run_if is not None:
        if task.run_if not in RUN_IF:
            hint = (f"; did you mean {task.run_if.upper()!r}?" if task.run_if.upper() in RUN_IF
                    else _suggest(task.run_if, RUN_IF))
            out.append(ctx.d(
                "FD107",
                f"run_if {task.run_if!r} is not a valid value (one of {', '.join(sorted(RUN_IF))}){hint}",
                task.location, f"{path}.run_if",
            ))
        elif not task.depends_on and task.run_if != "ALL_SUCCESS":
            out.append(ctx.d(
                "FD107",
                f"run_if {task.run_if} on task {task.key!r}, which has no dependencies, has no effect; "
                "add depends_on or drop run_if",
                task.location, f"{path}.run_if", severity="warning",
            ))
    kind = task.kind
    if isinstance(kind, FunctionTask) and "<locals>" in kind.function:
        out.append(ctx.d(
            "FD501",
            f"function task {task.key!r} is defined inside another function ({kind.function}); Databricks imports "
            "it by module and name, so define it at module level",
            task.location, path,
        ))
    if getattr(kind, "needs_compute", False) and task.compute is None and ctx.job.compute is None:
        what = "function" if isinstance(kind, FunctionTask) else "Python file"
        out.append(ctx.d(
            "FD503",
            f"{what} task {task.key!r} needs compute: pass compute=Environment(...) (serverless), a JobCluster or "
            "an ExistingCluster, on the task or as the job's default Job(compute=...)",
            task.location, path,
        ))
    if isinstance(kind, PythonFileTask) and not kind.path.startswith(("/", "dbfs:", "s3:", "abfss:", "gs:")):
        if not (ctx.config.root / kind.path).is_file():
            out.append(ctx.d(
                "FD406",
                f"Python file {kind.path!r} of task {task.key!r} does not exist (paths are relative to the project "
                f"root {ctx.config.root})",
                task.location, f"{path}.spark_python_task.python_file",
            ))
    if task.retry is not None:
        r = task.retry
        if r.max_retries < -1:
            out.append(ctx.d("FD501", "retry: max_retries must be -1 (forever) or >= 0", task.location, path))
        if r.interval is not None and r.interval < 0:
            out.append(ctx.d("FD501", "retry: interval must be >= 0 seconds", task.location, path))
    if task.timeout_seconds is not None and task.timeout_seconds < 0:
        out.append(ctx.d("FD501", "timeout must be >= 0 seconds (0 = none)", task.location, path))
    if task.description is not None and len(task.description) > 1000:
        out.append(ctx.d("FD502", "task description is longer than 1000 characters", task.location, path))
    return out
