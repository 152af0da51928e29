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

    check = job.condition("any_dups", dedup.values.duplicate_rows_removed, ">", 0, depends_on=[dedup])
    job.notebook("report", "nb/report.py", depends_on=[check.true])

    job.for_each("per_region", inputs=["eu", "us"], concurrency=2, depends_on=[create]).notebook(
        "process_region", "nb/region.py", params={"region": INPUT})

The task kinds other than functions are declared by the methods of :class:`flowdef.dsl.declare.TaskDeclarations`
(``python_file``, ``notebook``, ``sql``, ``python_wheel``, ``spark_jar``, ``dbt``, ``sql_query``, ``sql_alert``,
``sql_dashboard``, ``dashboard``, ``alert``, ``power_bi``, ``pipeline``, ``run_job``, ``clean_room_notebook``,
``raw_task``), shared with the for-each builder.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Generic, Iterable, Mapping, ParamSpec, TypeVar, overload

import attrs

from flowdef.dsl.declare import TASK_OPTIONS, TaskDeclarations, _str_map, _value, condition_op, raw_pairs
from flowdef._location import Location, caller_location
from flowdef.model.compute import COMPUTE_TYPES, Compute, Environment, JobCluster, Library
from flowdef.errors import DefinitionError
from flowdef.model.spec import Dependency, JobSpec, Param, Retry, RunIf, TaskSpec
from flowdef.dsl.refs import Params, Ref, Values, quote_name
from flowdef.model.settings import EditMode, GitSource, Health, Notifications, Permission, RunAs
from flowdef.model.tasks import ConditionTask, ForEachTask, FunctionTask, TaskKind
from flowdef.model.triggers import TRIGGER_TYPES, Trigger

P = ParamSpec("P")
R = TypeVar("R")

_NOT_KEY = re.compile(r"[^\w.\-]+")


def _slug(name: str) -> str:
    return _NOT_KEY.sub("_", name).strip("_") or "job"


class TaskHandle:
    """What a task declaration returns: pass it to ``depends_on=``; ``.values.<name>`` is a task-value reference."""

    __slots__ = ("key", "job", "location", "_values")

    def __init__(self, key: str, job: "Job", location: Location | None) -> None:
        self.key = key
        self.job = job
        self.location = location
        self._values: Values | None = None

    @property
    def values(self) -> Values:
        """``handle.values.<name>`` renders ``{{tasks.<key>.values.<name>}}`` (created on first use)."""
        if self._values is None:
            self._values = Values(self.key)
        return self._values

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


class Branch:
    """One outcome of a condition task: ``depends_on=[check.true]`` compiles to
    ``{"task_key": "check", "outcome": "true"}`` (the task runs only when the condition held)."""

    __slots__ = ("handle", "outcome")

    def __init__(self, handle: "ConditionHandle", outcome: str) -> None:
        self.handle = handle
        self.outcome = outcome

    def _flowdef_dependency(self, job: "Job", location: Location | None) -> Dependency:
        if self.handle.job is not job:
            raise DefinitionError(
                f"depends_on: condition {self.handle.key!r} belongs to job {self.handle.job.key!r}, not to "
                f"{job.key!r}; a task can only depend on tasks of its own job"
            )
        return Dependency(self.handle.key, self.outcome, location)

    def __repr__(self) -> str:
        return f"<branch {self.outcome} of condition {self.handle.key!r}>"


class ConditionHandle(TaskHandle):
    """A condition task's handle: ``.true`` / ``.false`` are its branches for ``depends_on``.  Depending on the
    handle itself waits for the condition whatever its outcome."""

    __slots__ = ()

    @property
    def true(self) -> Branch:
        return Branch(self, "true")

    @property
    def false(self) -> Branch:
        return Branch(self, "false")


class ForEachHandle(TaskHandle, TaskDeclarations):
    """A for-each task's handle.  Declare its one nested task with any task method (``.notebook(...)``,
    ``.python_file(...)``, ``.sql(...)``, ``.task`` for a function, ...): the method returns this handle, so
    ``job.for_each(...).notebook(...)`` reads as one declaration and is what ``depends_on=`` takes.
    ``.nested`` is the nested task's handle (``None`` until declared)."""

    __slots__ = ("nested", "_index")

    def __init__(self, key: str, job: "Job", location: Location | None, index: int) -> None:
        super().__init__(key, job, location)
        self.nested: TaskHandle | None = None
        self._index = index

    def _declare(self, key: str, kind: TaskKind, location: Location | None, *args: Any,  # type: ignore[override]
                 **options: Any) -> "ForEachHandle":
        if args:  # the shared options, positionally (TASK_OPTIONS order)
            options.update(zip(TASK_OPTIONS, args))
        if self.nested is not None:
            raise DefinitionError(
                f"for-each task {self.key!r} already runs task {self.nested.key!r}; a for-each task has exactly "
                "one nested task (to run several steps per element, run a job per element with .run_job(...))"
            )
        for name in ("depends_on", "run_if"):
            if options.get(name) is not None:
                raise DefinitionError(
                    f"the nested task {key!r} of for-each task {self.key!r} cannot take {name}=: put it on "
                    f"job.for_each({self.key!r}, ...)"
                )
        if isinstance(kind, ForEachTask):  # pragma: no cover - the builder offers no for_each
            raise DefinitionError("a for-each task cannot contain another for-each task")
        handle_cls = options.pop("handle_cls", TaskHandle)
        function = options.pop("function", None)
        handle = (FunctionHandle(key, self.job, location, function) if function is not None
                  else handle_cls(key, self.job, location))
        spec = self.job._spec(handle, kind, in_for_each=True, **options)
        outer = self.job._tasks[self._index]
        for_each = outer.kind
        assert isinstance(for_each, ForEachTask)
        self.job._tasks[self._index] = attrs.evolve(outer, kind=attrs.evolve(for_each, task=spec))
        self.nested = handle
        return self

    def task(self, fn: Callable | None = None, /, *, key: str | None = None, **options: Any):
        """Run a Python function per element (``@job.for_each(...).task`` or ``.task(fn)``); it reads the element
        from its parameters, e.g. ``.task(process, params={"region": INPUT})``.  Returns this handle."""

        def decorate(function: Callable) -> "ForEachHandle":
            if not callable(function):
                raise DefinitionError(f".task takes a function, got {function!r}")
            location = _function_location(function) or caller_location()
            kind = FunctionTask(function.__module__, function.__qualname__,
                                _str_map(options.pop("params", None), "params"))
            return self._declare(key or function.__name__, kind, location, function=function, **options)

        if fn is not None:
            return decorate(fn)
        return decorate


class InputRef(Ref):
    """``flowdef.INPUT``: the current element inside a for-each task's nested task (``{{input}}``).
    ``INPUT.region`` / ``INPUT["region"]`` is a field of an object element (``{{input.region}}``); use the
    item form for field names that are ``str`` methods (``INPUT["count"]``)."""

    path: tuple[str, ...]

    def __new__(cls, path: tuple[str, ...] = (), location: Location | None = None) -> "InputRef":
        text = "{{" + ".".join(["input", *(quote_name(p) for p in path)]) + "}}"
        self = super().__new__(cls, text)
        self.path = tuple(path)
        self.location = location
        return self

    def __getnewargs__(self):  # copy/pickle rebuild from the path, not from the text
        return (self.path,)

    def __getattr__(self, name: str) -> "InputRef":
        if name.startswith("_"):
            raise AttributeError(name)
        return InputRef((*self.path, name), caller_location())

    def __getitem__(self, name):  # type: ignore[override]
        if isinstance(name, str):
            return InputRef((*self.path, name), caller_location())
        return str.__getitem__(self, name)  # slicing the text still works


INPUT = InputRef()

DependsOn = TaskHandle | Branch | str | Iterable[TaskHandle | Branch | str] | None


def _check_type(value: Any, types: type | tuple, what: str, hint: str) -> Any:
    if value is not None and not isinstance(value, types):
        raise DefinitionError(f"{what} must be {hint}, got {value!r}")
    return value


class Job(TaskDeclarations):
    """A Lakeflow job: name first, everything else keyword-only.

    ``params`` are job parameters (name -> default; targets may override defaults).  ``trigger`` is one of
    ``Cron``, ``FileArrival``, ``TableUpdate``, ``Periodic``, ``Continuous``, ``JobCompletion``.  ``compute`` is
    the default compute for tasks that need one (Python files, wheels, JARs, dbt and functions); ``environments``
    and ``job_clusters`` declare compute explicitly (tasks' compute is added automatically).  ``key`` is the job's
    identity in the project (file names, deploy identity); it defaults to the name, so set it before renaming.

    Settings are grouped in values of :mod:`flowdef.model.settings`: ``notifications=Notifications(...)``,
    ``health=Health.over(...)``, ``git=GitSource.github(...)``, ``run_as=RunAs.service_principal(...)``,
    ``permissions=[Permission.group(...), ...]`` (applied after deploy, not part of the payload),
    ``edit_mode=EditMode.UI_LOCKED``.  ``extra`` is the escape hatch for Jobs API settings flowdef does not type
    (``{"performance_target": "STANDARD", "budget_policy_id": "..."}``), checked against the API schema.
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
        trigger: Trigger | Iterable[Trigger] | None = None,
        compute: Compute | None = None,
        environments: Iterable[Environment] = (),
        job_clusters: Iterable[JobCluster] = (),
        max_concurrent_runs: int | None = None,
        timeout: int | None = None,
        queue: bool | None = None,
        notifications: Notifications | None = None,
        health: Health | None = None,
        git: GitSource | None = None,
        run_as: RunAs | None = None,
        permissions: Iterable[Permission] = (),
        edit_mode: EditMode | str | None = None,
        extra: Mapping[str, Any] | None = None,
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
        self.compute = _check_type(compute, COMPUTE_TYPES, "compute",
                                   "Environment, JobCluster, ExistingCluster or ClusterSpec")
        self.environments = tuple(_check_type(e, Environment, "environments[]", "an Environment(...)")
                                  for e in environments)
        self.job_clusters = tuple(_check_type(c, JobCluster, "job_clusters[]", "a JobCluster(...)")
                                  for c in job_clusters)
        self.queue = queue
        self.notifications = _check_type(notifications, Notifications, "notifications", "Notifications(...)")
        self.health = _check_type(health, Health, "health", "Health(...) or Health.over(...)")
        self.git = _check_type(git, GitSource, "git", "a GitSource, e.g. GitSource.github(url, branch=...)")
        self.run_as = _check_type(run_as, RunAs, "run_as", "RunAs.user(...), RunAs.service_principal(...) or "
                                  "RunAs.group(...)")
        self.permissions = tuple(_check_type(p, Permission, "permissions[]", "Permission.user/group/"
                                             "service_principal(...)") for p in permissions)
        self.edit_mode = edit_mode.value if isinstance(edit_mode, EditMode) else edit_mode
        self.extra = raw_pairs(extra, "extra")
        self._tasks: list[TaskSpec] = []
        self._handles: list[TaskHandle] = []

    def __repr__(self) -> str:
        return f"<Job {self.key!r}: {len(self._tasks)} tasks>"

    # ----------------------------------------------------------------------------------------------------------
    # task declarations (the other kinds come from TaskDeclarations)

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
        libraries: Iterable[Library] = ...,
        params: Mapping[str, Any] | None = ...,
        values: Mapping[str, type] | Iterable[str] | None = ...,
        notifications: Notifications | None = ...,
        health: Health | None = ...,
        description: str | None = ...,
        disabled: bool = ...,
        extra: Mapping[str, Any] | None = ...,
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
        libraries=(),
        params=None,
        values=None,
        notifications=None,
        health=None,
        description=None,
        disabled=False,
        extra=None,
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
                handle, kind, depends_on=depends_on, run_if=run_if, retry=retry, timeout=timeout, compute=compute,
                libraries=libraries, notifications=notifications, health=health, values=values,
                description=description, disabled=disabled, extra=extra,
            )
            return handle

        if fn is not None:
            return decorate(fn)
        return decorate

    def condition(
        self,
        key: str,
        left: Any,
        op: str,
        right: Any,
        /,
        *,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        description: str | None = None,
        disabled: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> ConditionHandle:
        """An if/else task: ``left op right``, where ``op`` is ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` or the
        API's ``EQUAL_TO``, ``NOT_EQUAL``, ``GREATER_THAN``, ... (``==``/``!=`` compare strings, the others
        numbers).  Operands are strings (numbers and booleans are converted) and usually references::

            check = job.condition("has_rows", load.values.rows, ">", 0, depends_on=[load])
            job.notebook("publish", "nb/publish.py", depends_on=[check.true])
            job.notebook("alert", "nb/alert.py", depends_on=[check.false])

        A condition task needs no compute and takes no retries or notifications."""
        kind = ConditionTask(condition_op(op), _value(left, "condition left"), _value(right, "condition right"))
        handle = ConditionHandle(key, self, caller_location())
        self._add(handle, kind, depends_on=depends_on, run_if=run_if, description=description, disabled=disabled,
                  extra=extra)
        return handle

    def for_each(
        self,
        key: str,
        /,
        *,
        inputs: Any,
        concurrency: int | None = None,
        task: Callable | None = None,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        timeout: int | None = None,
        notifications: Notifications | None = None,
        health: Health | None = None,
        description: str | None = None,
        disabled: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> ForEachHandle:
        """Run one nested task per element of ``inputs``: a Python list (compiled to a compact JSON array), a job
        parameter reference (``job.params.regions``) or a task-value reference (``lister.values.ids``) holding a
        JSON array.  ``concurrency`` iterations run at a time (default 1).  Declare the nested task on the
        returned handle; inside it ``flowdef.INPUT`` is the element::

            job.for_each("per_region", inputs=["eu", "us"], concurrency=2).notebook(
                "process_region", "nb/region.py", params={"region": INPUT})

        ``task=fn`` is a shortcut for a function nested task.  The nested task's key must be unique in the job."""
        if isinstance(inputs, (list, tuple)):
            text = _value(list(inputs), "for_each inputs")
        elif isinstance(inputs, str):
            text = inputs
        else:
            raise DefinitionError(
                "for_each inputs must be a list, a job parameter reference (job.params.x) or a task value "
                f"reference (task.values.x), got {type(inputs).__name__}"
            )
        handle = ForEachHandle(key, self, caller_location(), len(self._tasks))
        self._add(handle, ForEachTask(text, None, concurrency), depends_on=depends_on, run_if=run_if,
                  timeout=timeout, notifications=notifications, health=health, description=description,
                  disabled=disabled, extra=extra)
        if task is not None:
            handle.task(task)
        return handle

    # ----------------------------------------------------------------------------------------------------------

    def _declare(  # type: ignore[override]
        self,
        key: str,
        kind: TaskKind,
        location: Location | None,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        retry: Retry | int | None = None,
        timeout: int | None = None,
        compute: Compute | None = None,
        libraries: Iterable[Library] = (),
        notifications: Notifications | None = None,
        health: Health | None = None,
        values: Mapping[str, type] | Iterable[str] | None = None,
        description: str | None = None,
        disabled: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> TaskHandle:
        handle = TaskHandle(key, self, location)
        if (key.__class__ is str and run_if is None and retry is None and timeout is None and compute is None
                and not libraries and notifications is None and health is None and values is None
                and description is None and disabled is False and extra is None):
            # nothing to check or convert but the dependencies: what _spec would build, without the call
            # (and, for one handle of this job, what _dependencies would)
            if depends_on.__class__ is list and len(depends_on) == 1 and (
                    (item := depends_on[0]).__class__ is TaskHandle and item.job is self):
                deps: tuple[Dependency, ...] = (Dependency(item.key, None, location),)
            else:
                deps = self._dependencies(depends_on, location)
            spec = TaskSpec(key, kind, deps, location=location)
        else:
            spec = self._spec(handle, kind, depends_on, run_if, retry, timeout, compute, libraries, notifications,
                              health, values, description, disabled, extra)
        self._tasks.append(spec)
        self._handles.append(handle)
        return handle

    def _dependencies(self, depends_on: DependsOn, location: Location | None) -> tuple[Dependency, ...]:
        if depends_on is None:
            return ()
        if depends_on.__class__ is list and len(depends_on) == 1:  # the common case: one handle of this job
            item = depends_on[0]  # type: ignore[index]
            if item.__class__ is TaskHandle and item.job is self:
                return (Dependency(item.key, None, location),)
        items = [depends_on] if isinstance(depends_on, (TaskHandle, Branch, str)) else depends_on
        try:
            items = list(items)  # type: ignore[arg-type]
        except TypeError:
            raise DefinitionError(
                f"depends_on takes task handles (or task keys), got {type(depends_on).__name__}"
            ) from None
        deps = []
        for item in items:
            if item.__class__ is TaskHandle and item.job is self:  # the common case, first
                deps.append(Dependency(item.key, None, location))
            elif isinstance(item, TaskHandle):
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

    def _spec(
        self,
        handle: TaskHandle,
        kind: TaskKind,
        depends_on: DependsOn = None,
        run_if: RunIf | str | None = None,
        retry: Retry | int | None = None,
        timeout: int | None = None,
        compute: Compute | None = None,
        libraries: Iterable[Library] = (),
        notifications: Notifications | None = None,
        health: Health | None = None,
        values: Mapping[str, type] | Iterable[str] | None = None,
        description: str | None = None,
        disabled: bool = False,
        extra: Mapping[str, Any] | None = None,
        in_for_each: bool = False,
    ) -> TaskSpec:
        """The frozen spec of one declared task; raises only for values that cannot even be recorded."""
        key = handle.key
        if key.__class__ is not str and not isinstance(key, str):
            raise DefinitionError(f"task key must be a string, got {key!r}")
        if compute is not None:
            _check_type(compute, COMPUTE_TYPES, "compute", "Environment, JobCluster, ExistingCluster or ClusterSpec")
        if retry is not None:
            if isinstance(retry, int) and not isinstance(retry, bool):
                retry = Retry(retry)
            elif not isinstance(retry, Retry):
                raise DefinitionError(f"retry must be a Retry(...) or an int (max retries), got {retry!r}")
        libs: tuple = ()
        if libraries:
            if isinstance(libraries, (Library, str)):
                libraries = (libraries,)  # type: ignore[assignment]
            libs = tuple(libraries)
            for lib in libs:
                _check_type(lib, Library, "libraries[]", "a Library, e.g. Library.pypi('x==1') or Library.whl(path)")
        if notifications is not None:
            _check_type(notifications, Notifications, "notifications", "Notifications(...)")
        if health is not None:
            _check_type(health, Health, "health", "Health(...) or Health.over(...)")
        location = handle.location
        return TaskSpec(  # positional, in TaskSpec's field order (the fields are evaluated in this order)
            key,
            kind,
            self._dependencies(depends_on, location) if depends_on is not None else (),
            run_if.value if run_if is not None and isinstance(run_if, RunIf) else run_if,
            retry,
            timeout,  # timeout_seconds
            compute,
            description,
            disabled,
            _declared_values(values) if values is not None else (),
            location,
            libs,
            notifications,
            health,
            raw_pairs(extra, "extra") if extra is not None else (),
            in_for_each,
        )

    def _add(self, handle: TaskHandle, kind: TaskKind, **options: Any) -> None:
        self._tasks.append(self._spec(handle, kind, **options))
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
            extra=self.extra,
            notifications=self.notifications,
            health=self.health,
            git=self.git,
            run_as=self.run_as,
            permissions=self.permissions,
            edit_mode=self.edit_mode,
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
