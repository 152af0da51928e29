"""The DSL: a :class:`Job` collects tasks declared with decorators and methods, each returning a handle.

Decorators collect; they never act: no I/O, no rendering, no network, no global registry.  Problems in what
was declared are reported by ``flowdef validate`` (all at once, with the user's line); only misuse that cannot
even be recorded (``depends_on=42``) raises :class:`~flowdef.errors.DefinitionError` right away.

Example::

    job = Job("bronze_to_silver", params={"catalog": "smart_claims_dev"})

    @job.task(values={"duplicate_rows_removed": int})
    def dedup(ctx):
        ctx.task_values.set("duplicate_rows_removed", 12)

    create = job.sql("create", "silver/create.sql", depends_on=[dedup])
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Generic, Iterable, Mapping, ParamSpec, TypeVar, overload

from flowdef._location import Location, caller_location
from flowdef.compute import COMPUTE_TYPES, Compute, Environment, JobCluster
from flowdef.errors import DefinitionError
from flowdef.model import Dependency, JobSpec, Param, Retry, RunIf, TaskSpec
from flowdef.refs import Params, Values
from flowdef.tasks import FunctionTask, NotebookTask, PythonFileTask, SqlFileTask, TaskKind
from flowdef.triggers import TRIGGER_TYPES, Trigger

P = ParamSpec("P")
R = TypeVar("R")

_NOT_KEY = re.compile(r"[^\w.\-]+")


def _slug(name: str) -> str:
    return _NOT_KEY.sub("_", name).strip("_") or "job"


class TaskHandle:
    """What a task declaration returns: pass it to ``depends_on=``; ``.values.<name>`` is a task-value reference."""

    __slots__ = ("key", "job", "values", "location")

    def __init__(self, key: str, job: "Job", location: Location | None) -> None:
        self.key = key
        self.job = job
        self.values = Values(key)
        self.location = location

    def __repr__(self) -> str:
        return f"<task {self.key!r} of job {self.job.key!r}>"


class FunctionHandle(TaskHandle, Generic[P, R]):
    """A function task's handle; still callable like the original function (handy in unit tests)."""

    __slots__ = ("function",)

    def __init__(self, key: str, job: "Job", location: Location | None, function: Callable[P, R]) -> None:
        super().__init__(key, job, location)
        self.function = function

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)


DependsOn = TaskHandle | str | Iterable[TaskHandle | str] | None


def _value(value: Any, what: str) -> str:
    """Parameter values are strings on the wire; numbers/bools/lists are converted deterministically."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    raise DefinitionError(f"{what}: expected a string, number, bool or JSON list/dict, got {type(value).__name__}")


def _str_map(values: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise DefinitionError(f"{what} must be a dict of name -> value, got {type(values).__name__}")
    return {str(k): _value(v, f"{what}[{k!r}]") for k, v in values.items()}


class Job:
    """A Lakeflow job: name first, everything else keyword-only.

    ``params`` are job parameters (name -> default; targets may override defaults).  ``trigger`` is one of
    ``Cron``, ``FileArrival``, ``TableUpdate``, ``Periodic``, ``Continuous``, ``JobCompletion``.  ``compute`` is
    the default compute for tasks that need one (Python files and functions).  ``key`` is the job's identity in
    the project (file names, deploy identity); it defaults to the name, so set it before renaming a job.
    """

    def __init__(
        self,
        name: str,
        /,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        max_concurrent_runs: int | None = None,
        timeout: int | None = None,
        trigger: Trigger | Iterable[Trigger] | None = None,
        compute: Compute | None = None,
        environments: Iterable[Environment] = (),
        job_clusters: Iterable[JobCluster] = (),
        queue: bool | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise DefinitionError(f"Job name must be a string, got {type(name).__name__}")
        self.name = name
        self.key = key if key is not None else _slug(name)
        self.location = caller_location()
        self._params = _str_map(params, "params")
        self.params = Params(self._params)
        self._tags = _str_map(tags, "tags")
        self.description = description
        self.max_concurrent_runs = max_concurrent_runs
        self.timeout = timeout
        if trigger is None:
            triggers: tuple = ()
        elif isinstance(trigger, TRIGGER_TYPES):
            triggers = (trigger,)
        else:
            triggers = tuple(trigger)
        for t in triggers:
            if not isinstance(t, TRIGGER_TYPES):
                raise DefinitionError(
                    f"trigger must be Cron, FileArrival, TableUpdate, Periodic, Continuous or JobCompletion, "
                    f"got {type(t).__name__}"
                )
        self.triggers = triggers
        if compute is not None and not isinstance(compute, COMPUTE_TYPES):
            raise DefinitionError(f"compute must be Environment, JobCluster or ExistingCluster, got {compute!r}")
        self.compute = compute
        self.environments = tuple(environments)
        self.job_clusters = tuple(job_clusters)
        self.queue = queue
        self._tasks: list[TaskSpec] = []
        self._handles: list[TaskHandle] = []

    def __repr__(self) -> str:
        return f"<Job {self.key!r}: {len(self._tasks)} tasks>"

    # ----------------------------------------------------------------------------------------------------------
    # task declarations

    @overload
    def task(self, fn: Callable[P, R], /) -> FunctionHandle[P, R]: ...

    @overload
    def task(
        self,
        fn: None = None,
        /,
        *,
        key: str | None = ...,
        depends_on: DependsOn = ...,
        run_if: RunIf | str | None = ...,
        retry: Retry | int | None = ...,
        timeout: int | None = ...,
        compute: Compute | None = ...,
        params: Mapping[str, Any] | None = ...,
        values: Mapping[str, type] | Iterable[str] | None = ...,
        description: str | None = ...,
        disabled: bool = ...,
    ) -> Callable[[Callable[P, R]], FunctionHandle[P, R]]: ...

    def task(
        self,
        fn=None,
        /,
        *,
        key=None,
        depends_on=None,
        run_if=None,
        retry=None,
        timeout=None,
        compute=None,
        params=None,
        values=None,
        description=None,
        disabled=False,
    ):
        """Declare a Python function task: the function body *is* the task; it receives a
        :class:`flowdef.runtime.TaskContext` (``ctx.params``, ``ctx.task_values``, ``ctx.spark``).

        ``values`` declares the task values the function publishes (``{"rows": int}``), so downstream
        references are checked.  Use as ``@job.task`` or ``@job.task(depends_on=[...])``."""

        def decorate(function: Callable[P, R]) -> FunctionHandle[P, R]:
            if not callable(function):
                raise DefinitionError(f"@job.task decorates a function, got {function!r}")
            location = _function_location(function) or caller_location()
            task_key = key if key is not None else function.__name__
            kind = FunctionTask(function.__module__, function.__qualname__, _str_map(params, "params"))
            handle: FunctionHandle[P, R] = FunctionHandle(task_key, self, location, function)
            self._add(
                handle, kind, depends_on, run_if, retry, timeout, compute, description, disabled,
                _declared_values(values),
            )
            return handle

        if fn is not None:
            return decorate(fn)
        return decorate

    def python_file(
        self,
        key: str,
        path: str,
        /,
        *,
        params: Mapping[str, Any] | Iterable[str] | None = None,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        retry: Retry | int | None = None,
        timeout: int | None = None,
        compute: Compute | None = None,
        values: Mapping[str, type] | Iterable[str] | None = None,
        description: str | None = None,
        disabled: bool = False,
    ) -> TaskHandle:
        """A Python (PySpark) script task.  ``path`` is relative to the project root (uploaded) or an absolute
        workspace path.  ``params`` as a dict become ``--name value`` arguments, as a list they are argv."""
        if isinstance(params, Mapping):
            argv: list[str] = []
            for name, value in _str_map(params, "params").items():
                argv += [f"--{name}", value]
        else:
            argv = [_value(v, "params") for v in (params or ())]
        handle = TaskHandle(key, self, caller_location())
        self._add(
            handle, PythonFileTask(path, tuple(argv)), depends_on, run_if, retry, timeout, compute,
            description, disabled, _declared_values(values),
        )
        return handle

    def notebook(
        self,
        key: str,
        path: str,
        /,
        *,
        params: Mapping[str, Any] | None = None,
        warehouse: str | None = None,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        retry: Retry | int | None = None,
        timeout: int | None = None,
        compute: Compute | None = None,
        values: Mapping[str, type] | Iterable[str] | None = None,
        description: str | None = None,
        disabled: bool = False,
    ) -> TaskHandle:
        """A notebook task (``params`` are widgets, ``base_parameters``)."""
        handle = TaskHandle(key, self, caller_location())
        self._add(
            handle, NotebookTask(path, _str_map(params, "params"), warehouse), depends_on, run_if, retry,
            timeout, compute, description, disabled, _declared_values(values),
        )
        return handle

    def sql(
        self,
        key: str,
        template: str,
        /,
        *,
        params: Mapping[str, Any] | None = None,
        vars: Mapping[str, Any] | None = None,
        warehouse: str | None = None,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        retry: Retry | int | None = None,
        timeout: int | None = None,
        description: str | None = None,
        disabled: bool = False,
    ) -> TaskHandle:
        """A SQL file task from a jinja2 template under ``sql_templates/``, rendered per target at compile time.

        Job parameters reach the SQL at run time as ``:name`` markers (``IDENTIFIER(:catalog || '.t')``);
        ``params`` adds task-level ones; ``vars`` are compile-time template variables; ``warehouse``
        overrides the target's SQL warehouse id."""
        handle = TaskHandle(key, self, caller_location())
        kind = SqlFileTask(template, _str_map(params, "params"), warehouse, dict(vars or {}))
        self._add(handle, kind, depends_on, run_if, retry, timeout, None, description, disabled, ())
        return handle

    # ----------------------------------------------------------------------------------------------------------

    def _dependencies(self, depends_on: DependsOn, location: Location | None) -> tuple[Dependency, ...]:
        if depends_on is None:
            return ()
        items = [depends_on] if isinstance(depends_on, (TaskHandle, str)) else depends_on
        try:
            items = list(items)  # type: ignore[arg-type]
        except TypeError:
            raise DefinitionError(
                f"depends_on takes task handles (or task keys), got {type(depends_on).__name__}"
            ) from None
        deps = []
        for item in items:
            if isinstance(item, TaskHandle):
                if item.job is not self:
                    raise DefinitionError(
                        f"depends_on: task {item.key!r} belongs to job {item.job.key!r}, not to {self.key!r}; "
                        "a task can only depend on tasks of its own job (use a run-job task to chain jobs)"
                    )
                deps.append(Dependency(item.key, None, location))
            elif hasattr(item, "_flowdef_dependency"):
                deps.append(item._flowdef_dependency(self, location))
            elif isinstance(item, str):
                deps.append(Dependency(item, None, location))
            else:
                raise DefinitionError(f"depends_on takes task handles (or task keys), got {item!r}")
        return tuple(deps)

    def _add(
        self,
        handle: TaskHandle,
        kind: TaskKind,
        depends_on: DependsOn,
        run_if: RunIf | str | None,
        retry: Retry | int | None,
        timeout: int | None,
        compute: Compute | None,
        description: str | None,
        disabled: bool,
        values: tuple[tuple[str, str], ...],
    ) -> None:
        if not isinstance(handle.key, str):
            raise DefinitionError(f"task key must be a string, got {handle.key!r}")
        if compute is not None and not isinstance(compute, COMPUTE_TYPES):
            raise DefinitionError(f"compute must be Environment, JobCluster or ExistingCluster, got {compute!r}")
        if isinstance(retry, int) and not isinstance(retry, bool):
            retry = Retry(retry)
        elif retry is not None and not isinstance(retry, Retry):
            raise DefinitionError(f"retry must be a Retry(...) or an int (max retries), got {retry!r}")
        spec = TaskSpec(
            key=handle.key,
            kind=kind,
            depends_on=self._dependencies(depends_on, handle.location),
            run_if=run_if.value if isinstance(run_if, RunIf) else run_if,
            retry=retry,
            timeout_seconds=timeout,
            compute=compute,
            description=description,
            disabled=disabled,
            values=values,
            location=handle.location,
        )
        self._tasks.append(spec)
        self._handles.append(handle)

    @property
    def tasks(self) -> tuple[TaskHandle, ...]:
        return tuple(self._handles)

    def to_model(self, module: str = "") -> JobSpec:
        """Freeze what was declared."""
        param_loc = self.location
        return JobSpec(
            key=self.key,
            name=self.name,
            tasks=tuple(self._tasks),
            params=tuple(Param(n, v, param_loc) for n, v in self._params.items()),
            tags=tuple(self._tags.items()),
            description=self.description,
            max_concurrent_runs=self.max_concurrent_runs,
            timeout_seconds=self.timeout,
            triggers=self.triggers,
            compute=self.compute,
            environments=self.environments,
            job_clusters=self.job_clusters,
            queue=self.queue,
            module=module,
            location=self.location,
        )


def _declared_values(values) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    if isinstance(values, Mapping):
        return tuple((str(k), getattr(v, "__name__", str(v))) for k, v in values.items())
    if isinstance(values, str):
        return ((values, "object"),)
    return tuple((str(v), "object") for v in values)


def _function_location(function: Callable) -> Location | None:
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return Location(code.co_filename, code.co_firstlineno)
