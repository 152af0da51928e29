"""Structural rules: task keys, dependencies and branch outcomes, run_if, control-flow tasks (condition,
for-each), the graph (cycles), parameters, and the documented size and count limits of the Jobs API.

Every rule is linear in the size of the job: one pass over the tasks plus the graph (:mod:`flowdef.graph`).
"""

from __future__ import annotations

import json
import re

import attrs

from flowdef.load.config import ProjectConfig, Target
from flowdef.diagnostics import Diagnostic, diag
from flowdef.model.spec import JobSpec, RunIf, TaskSpec
from flowdef.model.tasks import (
    AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask, NotebookTask,
    PipelineTask, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask, RunJobTask, SparkJarTask, SqlAlertTask,
    SqlDashboardTask, SqlFileTask, SqlQueryTask,
)

from flowdef.jobsapi.facts import (  # noqa: E402 - the Jobs API's limits and enums, written once
    CONDITION_OP_LOOKALIKES as _OP_SYMBOLS, CONDITION_OPS, FAILURE_RUN_IF, INT32_MAX, MAX_BASE_PARAMETERS_BYTES,
    MAX_CONCURRENT_RUNS, MAX_ENVIRONMENTS, MAX_FOR_EACH_CONCURRENCY, MAX_JOB_CLUSTERS, MAX_JOB_DESCRIPTION,
    MAX_NAME_BYTES, MAX_TAGS, MAX_TASK_DESCRIPTION, MAX_TASKS, PARAM_NAME, RUN_IF_VALUES, STRING_CONDITION_OPS,
    TASK_KEY, is_external_path,
)
from flowdef.jobsapi.facts import IDENTITY_TAGS as _IDENTITY_TAG_NAMES  # noqa: E402

IDENTITY_TAGS = len(_IDENTITY_TAG_NAMES)  # added by the compiler: they count against MAX_TAGS
RUN_IF = set(RUN_IF_VALUES)
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z")
_NUMERIC_TYPES = {"int", "float", "Decimal", "decimal"}


def is_condition(kind) -> bool:
    """A condition (if/else) task kind."""
    return isinstance(kind, ConditionTask)


def is_for_each(kind) -> bool:
    return isinstance(kind, ForEachTask)


@attrs.define
class JobContext:
    """What the rules of one job share: the job, the target, and lazily the graph."""

    job: JobSpec
    target: Target
    config: ProjectConfig
    _graph: object = None
    _ancestry: object = None
    acyclic: bool = True
    _by_key: dict | None = None
    _sql_tasks: list | None = None

    @property
    def sql_tasks(self) -> list[TaskSpec]:
        """The SQL file tasks, nested ones included (the structure rules note them in their pass over the
        tasks, so the SQL rules need no pass of their own)."""
        if self._sql_tasks is None:
            self._sql_tasks = [t for t in self.job.all_tasks() if type(t.kind) is SqlFileTask]
        return self._sql_tasks

    @property
    def tasks_by_key(self) -> dict[str, TaskSpec]:
        """The top-level tasks by key, the first declaration of a key winning (computed once per job: the
        structure rules make it in their pass over the keys, the reference rules reuse it)."""
        if self._by_key is None:
            by_key: dict[str, TaskSpec] = {}
            for t in self.job.tasks:
                if t.key not in by_key:
                    by_key[t.key] = t
            self._by_key = by_key
        return self._by_key

    @property
    def graph(self):
        if self._graph is None:
            from flowdef import graph
            self._graph = graph.build(self.job)
        return self._graph

    @property
    def ancestry(self):
        """Ancestor queries, or None when the graph has a cycle (FD101 is reported; ancestry is meaningless)."""
        if self._ancestry is None:
            self._ancestry = self.ancestry_of(None) or False
        return self._ancestry or None

    def ancestry_of(self, sources):
        """Ancestor queries about ``sources`` only (None: every task), or None on a cyclic graph."""
        from flowdef import graph
        g = self.graph
        self.acyclic = g.is_acyclic
        return graph.Ancestry(g, sources) if self.acyclic else None

    def d(self, code: str, message: str, location=None, path: str = "", severity: str | None = None) -> Diagnostic:
        return diag(code, message, location or self.job.location, job=self.job.key, path=path, severity=severity)


def _suggest(word: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
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
            "several jobs chained with run-job tasks (or a JobCompletion trigger)",
        ))
    # One pass for the keys (FD103 needs them all), one for the rules of each task: a 10,000-task job is touched
    # as few times as possible (each pass over it costs cache misses, not just instructions).  The common case
    # of each rule (nothing to report) is decided inline; the rule functions run when it may not be.
    first: dict[str, TaskSpec] = {}
    nested = False  # a nested task's key may be in `first`, which then is not `tasks` (top-level keys only)
    valid_key = TASK_KEY.match
    sql_tasks: list[TaskSpec] = []
    for task in job.tasks:
        key = task.key
        if key not in first and key.__class__ is str and valid_key(key):
            first[key] = task  # unique so far and well-formed: what _key_rules would conclude
        else:
            _key_rules(ctx, task, None, first, out)
        kind = task.kind
        if type(kind) is SqlFileTask:
            sql_tasks.append(task)
        elif type(kind) is ForEachTask:
            nested = True
            parent = task
            while isinstance(kind, ForEachTask) and isinstance(kind.task, TaskSpec):
                _key_rules(ctx, kind.task, parent, first, out)
                if type(kind.task.kind) is SqlFileTask:
                    sql_tasks.append(kind.task)
                kind = kind.task.kind
    if ctx._sql_tasks is None:
        ctx._sql_tasks = sql_tasks
    tasks: dict[str, TaskSpec]  # top-level tasks, the first declaration of a key wins
    if not nested:
        tasks = first  # the same keys, tasks and order: only top-level tasks were recorded
    else:
        tasks = {}
        for task in job.tasks:
            if task.key not in tasks:
                tasks[task.key] = task
    if ctx._by_key is None:
        ctx._by_key = tasks
    handlers = []
    computes: dict[str, set] = {"JobCluster": set(), "Environment": set()}
    for task in job.tasks:
        _task_rules(ctx, task, tasks, out)
        run_if = task.run_if
        if run_if is not None and run_if in FAILURE_RUN_IF and task.depends_on:
            handlers.append(task)
        kind = task.kind
        if task.compute is not None or getattr(kind, "needs_compute", False):
            _collect_compute(job, task, computes)
        if type(kind) is ForEachTask:
            out += _for_each_rules(ctx, task, kind)
            if isinstance(kind.task, TaskSpec):
                _collect_compute(job, kind.task, computes)
    if len(job.tasks) <= 100_000:
        from flowdef import graph
        cyclic = graph.cycles(ctx.graph)
        for cycle in cyclic:
            ctx.acyclic = False
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
        if not getattr(task.kind, "needs_compute", False):
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
    # _kind_rules provably reports nothing for a task of a quiet kind (below) that needs no compute it lacks, with
    # no retry, timeout or description, and notebook parameters far below the size limit: no call for it
    kind = task.kind
    needs_compute = _QUIET_KINDS.get(type(kind))
    if (needs_compute is None  # a kind with rules of its own (or a subclass)
            or needs_compute and task.compute is None and ctx.job.compute is None  # FD503
            or task.retry is not None or task.timeout_seconds is not None or task.description is not None
            or type(kind) is NotebookTask and kind.parameters
            and _json_may_exceed(kind.parameters, MAX_BASE_PARAMETERS_BYTES)):
        out += _kind_rules(ctx, task, "tasks." + task.key, task.location)


# Exact kind types that none of _kind_rules' per-kind rules (FunctionTask, PythonFileTask, ConditionTask) concern,
# with their needs_compute.  NotebookTask is among them: its one rule (parameter size) is checked in _task_rules.
_QUIET_KINDS: dict[type, bool] = {
    k: k.needs_compute for k in (
        NotebookTask, SqlFileTask, SqlQueryTask, SqlAlertTask, SqlDashboardTask, PythonWheelTask, SparkJarTask, DbtTask,
        PipelineTask, RunJobTask, ForEachTask, DashboardTask, AlertTask, PowerBiTask, CleanRoomNotebookTask, RawTask,
    )
}


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


def _kind_rules(ctx: JobContext, task: TaskSpec, path: str, location, nested: bool = False) -> list[Diagnostic]:
    out = []
    kind = task.kind
    if isinstance(kind, FunctionTask) and "<locals>" in kind.function:
        out.append(ctx.d(
            "FD501",
            f"function task {task.key!r} is defined inside another function ({kind.function}); Databricks imports "
            "it by module and name, so define it at module level",
            location, path,
        ))
    if getattr(kind, "needs_compute", False) and task.compute is None and ctx.job.compute is None:
        what = "function" if isinstance(kind, FunctionTask) else "Python file" if isinstance(
            kind, PythonFileTask) else type(kind).__name__
        out.append(ctx.d(
            "FD503",
            f"{what} task {task.key!r} needs compute: pass compute=Environment(...) (serverless), a JobCluster or "
            "an ExistingCluster, on the task or as the job's default Job(compute=...)",
            location, path,
        ))
    if isinstance(kind, PythonFileTask) and not is_external_path(kind.path):
        if "{{" not in kind.path and not (ctx.config.root / kind.path).is_file():
            out.append(ctx.d(
                "FD406",
                f"Python file {kind.path!r} of task {task.key!r} does not exist (paths are relative to the project "
                f"root {ctx.config.root})",
                location, f"{path}.spark_python_task.python_file",
            ))
    if isinstance(kind, NotebookTask) and kind.parameters and _json_may_exceed(kind.parameters,
                                                                               MAX_BASE_PARAMETERS_BYTES):
        size = len(json.dumps(dict(kind.parameters), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > MAX_BASE_PARAMETERS_BYTES:
            out.append(ctx.d(
                "FD502",
                f"notebook parameters of task {task.key!r} are {size:,} bytes as JSON; the Jobs API allows at most "
                f"1 MB — pass large data through a table or a volume file and give the notebook its path",
                location, f"{path}.notebook_task.base_parameters",
            ))
    if is_condition(kind):
        out += _condition_rules(ctx, task, kind, path, location)
    if task.retry is not None:
        r = task.retry
        if is_condition(kind):
            out.append(ctx.d("FD501", f"condition task {task.key!r} cannot retry (the Jobs API does not support "
                             "retries on condition tasks); remove retry=", location, path))
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
    return out


def _json_may_exceed(pairs, limit: int) -> bool:
    """A cheap upper bound first: a character is at most 6 bytes in UTF-8 JSON (4 bytes, or a ``\\uXXXX``
    escape for control characters).  For string pairs, ``{"n":"v",...}`` is at most 6 bytes per character of
    the names and values plus 6 per pair (quotes, colon, comma) plus 2 (braces); otherwise the tuple's repr has
    at least as many characters as the JSON holds."""
    chars = 2
    for pair in pairs:
        if pair.__class__ is not tuple or len(pair) != 2:
            return len(repr(pairs)) * 6 > limit
        name, value = pair
        if not isinstance(name, str) or not isinstance(value, str):  # references are strings too
            return len(repr(pairs)) * 6 > limit
        chars += len(name) + len(value) + 1
    return chars * 6 > limit


def _condition_rules(ctx: JobContext, task: TaskSpec, kind, path: str, location) -> list[Diagnostic]:
    out = []
    op = getattr(kind, "op", None)
    op_text = getattr(op, "value", op)
    if op_text not in CONDITION_OPS:
        text = str(op_text)
        guess = _OP_SYMBOLS.get(text.strip().upper()) or (text.upper() if text.upper() in CONDITION_OPS else None)
        hint = f"; did you mean {guess!r}?" if guess else _suggest(text, CONDITION_OPS)
        out.append(ctx.d(
            "FD112",
            f"condition op {op_text!r} of task {task.key!r} is not valid (one of {', '.join(CONDITION_OPS)}){hint}",
            location, f"{path}.condition_task.op",
        ))
    for side in ("left", "right"):
        value = getattr(kind, side, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(ctx.d(
                "FD112",
                f"condition task {task.key!r} has an empty {side} operand; both operands are required",
                location, f"{path}.condition_task.{side}",
            ))
    if op_text in STRING_CONDITION_OPS:
        for side in ("left", "right"):
            value = getattr(kind, side, None)
            why = _numeric_operand(ctx, value)
            if why:
                where = getattr(value, "location", None) or location
                out.append(ctx.d(
                    "FD113",
                    f"condition {op_text} of task {task.key!r} compares strings, and its {side} operand {why}: "
                    f"\"12.0\" is not equal to \"12\" here — compare numbers with GREATER_THAN_OR_EQUAL / "
                    "LESS_THAN_OR_EQUAL (numeric), or publish a string or boolean value",
                    where, f"{path}.condition_task.{side}",
                ))
    return out


def _numeric_operand(ctx: JobContext, value) -> str:
    if not isinstance(value, str) or not value:
        return ""
    if "{{" not in value:
        return f"{value!r} looks like a number" if _NUMBER.match(value) else ""
    from flowdef.jobsapi.refs import find_refs

    refs = find_refs(value)
    if len(refs) != 1 or refs[0].kind != "tasks.values" or len(refs[0].text) != len(value.strip()):
        return ""
    producer_key, name = refs[0].parts[1], refs[0].parts[3]
    for t in ctx.job.tasks:
        if t.key == producer_key:
            declared = dict(t.values).get(name)
            if declared in _NUMERIC_TYPES:
                return f"is task value {producer_key}.{name}, declared {declared}"
            return ""
    return ""


def _for_each_rules(ctx: JobContext, task: TaskSpec, kind) -> list[Diagnostic]:
    out = []
    path = f"tasks.{task.key}.for_each_task"
    inner = getattr(kind, "task", None)
    concurrency = getattr(kind, "concurrency", None)
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            out.append(ctx.d("FD501", f"for-each concurrency must be a positive integer, got {concurrency!r}",
                             task.location, f"{path}.concurrency"))
        elif concurrency > MAX_FOR_EACH_CONCURRENCY:
            out.append(ctx.d(
                "FD502",
                f"for-each concurrency {concurrency} is above {MAX_FOR_EACH_CONCURRENCY}, the documented maximum "
                "number of concurrent iterations; the service may reject or cap it",
                task.location, f"{path}.concurrency", severity="warning",
            ))
    if inner is None or not hasattr(inner, "kind"):
        return out
    location = inner.location or task.location
    if is_for_each(inner.kind):
        out.append(ctx.d(
            "FD111",
            f"for-each task {task.key!r} runs another for-each task ({inner.key!r}); the Jobs API does not allow "
            "nesting — iterate over the combined list in one for-each, or run a job (run-job task) per element",
            location, f"{path}.task",
        ))
    out += _kind_rules(ctx, inner, f"{path}.task", location, nested=True)
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
