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
``raw_task``), shared with the for-each builder; the handles they return are in :mod:`flowdef.dsl.handles`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, ParamSpec, TypeVar, overload


from flowdef._check import (
    BOOL, INT, STR, Expect, check, instance, list_of, register_job, report, wrong_type,
)
from flowdef.dsl.check import check_kind
from flowdef.dsl.declare import CodeOptions, TaskDeclarations, _params_map, _value, condition_op, given, raw_pairs
from flowdef.dsl.handles import (  # INPUT, InputRef: imported from here by flowdef/__init__.py and users
    INPUT, Branch, ConditionHandle, DependsOn, ForEachHandle, FunctionHandle, InputRef, TaskHandle,
    _function_location, check_task_function,
)

__all__ = ["INPUT", "Branch", "ConditionHandle", "DependsOn", "ForEachHandle", "FunctionHandle", "InputRef", "Job",
           "TaskHandle", "check_task_function"]
from flowdef._location import Location, caller_location
from flowdef.model.compute import COMPUTE_TYPES, Compute, Environment, JobCluster, Library
from flowdef.errors import DefinitionError
from flowdef.model.spec import Dependency, JobSpec, Param, Retry, RunIf, TaskSpec
from flowdef.dsl.refs import Params
from flowdef.model.settings import EditMode, GitSource, Health, Notifications, Permission, RunAs
from flowdef.model.tasks import ConditionTask, ForEachTask, FunctionTask, TaskKind
from flowdef.model.triggers import TRIGGER_TYPES, Trigger

if TYPE_CHECKING:
    from typing_extensions import Unpack

P = ParamSpec("P")
R = TypeVar("R")

_NOT_KEY = re.compile(r"[^\w.\-]+")


def _slug(name: str) -> str:
    return _NOT_KEY.sub("_", name).strip("_") or "job"


_DEPENDS_ON = Expect("task handles, condition branches (check.true) or task keys", lambda v: False)
_INPUTS = Expect("a list, a job parameter reference (job.params.x) or a task value reference (task.values.x)",
                 lambda v: False)
_COMPUTE = instance(COMPUTE_TYPES, "Environment, JobCluster, ExistingCluster or ClusterSpec")
_TRIGGER = instance(TRIGGER_TYPES, "Cron, FileArrival, TableUpdate, Periodic, Continuous or JobCompletion")
_NOTIFICATIONS = instance(Notifications, "Notifications(...)")
_HEALTH = instance(Health, "Health(...) or Health.over(...)")
_LIBRARIES = list_of(Library, "a list of Library values, e.g. [Library.pypi('x==1'), Library.whl(path)]")
_RETRY = Expect("Retry(...) or an int (max retries)", lambda v: isinstance(v, Retry) or (
    isinstance(v, int) and not isinstance(v, bool)))
_RUN_IF = Expect("a RunIf, e.g. RunIf.ALL_DONE", lambda v: isinstance(v, str))
_VALUES = Expect(
    "a dict of name -> type (e.g. {'rows': int}) or a list of names",
    lambda v: isinstance(v, str) or (isinstance(v, Mapping) and all(isinstance(k, str) for k in v)) or (
        isinstance(v, (list, tuple, set, frozenset)) and all(isinstance(x, str) for x in v)),
)
_EDIT_MODE = Expect("EditMode.UI_LOCKED or EditMode.EDITABLE", lambda v: isinstance(v, str))


def _opt(value: Any, expect: Expect, argument: str, default: Any = None) -> Any:
    """``None`` stays ``None`` (the argument was not given); anything else must match ``expect``."""
    return value if value is None else check(value, expect, argument, default)


def _items(value: Any, expect: Expect, argument: str) -> tuple:
    """A list argument (``environments=[...]``, ``permissions=[...]``): each item checked, wrong ones left out."""
    if value is None:
        return ()
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        wrong_type(argument, Expect(f"a list of {expect.what}", lambda v: False), value)
        return ()
    return tuple(item for i, item in enumerate(value) if check(item, expect, f"{argument}[{i}]") is not None)


def _tags_map(value: Any) -> dict[str, str]:
    """Tags are strings on the wire and in the API: no conversion at all."""
    return dict(check(value, STR_MAP_STRICT, "tags", {})) if value is not None else {}


STR_MAP_STRICT = Expect(
    "a dict of name -> string",
    lambda v: isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()),
)


def _raw(value: Any, argument: str) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    try:
        return raw_pairs(value, argument)
    except DefinitionError as exc:
        report("FD601", str(exc))
        return ()


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

    Every argument is checked here, where it is written: a value of the wrong type is an FD601 diagnostic at this
    line (while ``flowdef`` loads the module) and the job still loads without it.
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
        self.location = caller_location()
        register_job(self)
        if not isinstance(name, str):
            wrong_type("Job(name)", STR, name)
            name = f"job_at_line_{self.location.line if self.location else 0}"
        self.name = name
        key = _opt(key, STR, "Job(key=...)")
        self.key = key if key is not None else _slug(name)
        self._params = _params_map(params, "Job(params=...)")
        self.params = Params(self._params)
        self._tags = _tags_map(tags)
        self.description = _opt(description, STR, "Job(description=...)")
        self.max_concurrent_runs = _opt(max_concurrent_runs, INT, "Job(max_concurrent_runs=...)")
        self.timeout = _opt(timeout, INT, "Job(timeout=...)")
        if trigger is None:
            self.triggers: tuple = ()
        elif isinstance(trigger, TRIGGER_TYPES):
            self.triggers = (trigger,)
        elif isinstance(trigger, Iterable) and not isinstance(trigger, (str, Mapping)):
            self.triggers = _items(trigger, _TRIGGER, "Job(trigger=...)")
        else:
            self.triggers = check(trigger, _TRIGGER, "Job(trigger=...)", ())
        self.compute = _opt(compute, _COMPUTE, "Job(compute=...)")
        self.environments = _items(environments, instance(Environment, "Environment(...)"), "Job(environments=...)")
        self.job_clusters = _items(job_clusters, instance(JobCluster, "JobCluster(...)"), "Job(job_clusters=...)")
        self.queue = _opt(queue, BOOL, "Job(queue=...)")
        self.notifications = _opt(notifications, _NOTIFICATIONS, "Job(notifications=...)")
        self.health = _opt(health, _HEALTH, "Job(health=...)")
        self.git = _opt(git, instance(GitSource, "a GitSource, e.g. GitSource.github(url, branch=...)"),
                        "Job(git=...)")
        self.run_as = _opt(run_as, instance(RunAs, "RunAs.user(...), RunAs.service_principal(...) or "
                                            "RunAs.group(...)"), "Job(run_as=...)")
        self.permissions = _items(permissions, instance(Permission, "Permission.user/group/service_principal(...)"),
                                  "Job(permissions=...)")
        edit_mode = _opt(edit_mode, _EDIT_MODE, "Job(edit_mode=...)")
        self.edit_mode = edit_mode.value if isinstance(edit_mode, EditMode) else edit_mode
        self.extra = _raw(extra, "Job(extra=...)")
        self._tasks: list[TaskSpec] = []
        self._handles: list[TaskHandle] = []

    def __repr__(self) -> str:
        return f"<Job {self.key!r}: {len(self._tasks)} tasks>"

    # ----------------------------------------------------------------------------------------------------------
    # task declarations (the other kinds come from TaskDeclarations)

    @overload
    def task(self, fn: Callable[P, R], /) -> FunctionHandle[P, R]: ...

    @overload
    def task(self, fn: None = None, /, *, key: str | None = ..., params: Mapping[str, Any] | None = ...,
             **options: Unpack[CodeOptions]) -> Callable[[Callable[P, R]], FunctionHandle[P, R]]: ...

    def task(self, fn=None, /, *, key=None, params=None, **options: Unpack[CodeOptions]):
        """Declare a Python function task: the function body *is* the task; it receives a
        :class:`flowdef.runtime.TaskContext` (``ctx.params``, ``ctx.task_values``, ``ctx.spark``).

        ``values`` declares the task values the function publishes (``{"rows": int}``), so downstream
        references are checked; the other options are every task's (:class:`flowdef.dsl.declare.CodeOptions`).
        Use as ``@job.task`` or ``@job.task(depends_on=[...])``."""
        given(options, CodeOptions)

        def decorate(function: Callable[P, R]) -> FunctionHandle[P, R]:
            if not callable(function):
                raise DefinitionError(f"@job.task decorates a function, got {function!r}",
                                      location=caller_location())
            location = _function_location(function) or caller_location()
            task_key = key if key is not None else function.__name__
            check_task_function(function, location)
            kind = FunctionTask(function.__module__, function.__qualname__,
                                _params_map(params, "@job.task(params=...)"))
            handle: FunctionHandle[P, R] = FunctionHandle(task_key, self, location, function)
            self._add(handle, kind, **options)
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
        op = check(op, STR, "job.condition(op)", "==")
        kind = ConditionTask(condition_op(op), _operand(left, "left"), _operand(right, "right"))
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
        text = "[]"
        if isinstance(inputs, (list, tuple)):
            try:
                text = _value(list(inputs), "for_each inputs")
            except (DefinitionError, TypeError, ValueError):
                wrong_type("job.for_each(inputs=...)", _INPUTS, inputs, hint=" (the list must be JSON)")
        elif isinstance(inputs, str):
            text = inputs
        else:
            wrong_type("job.for_each(inputs=...)", _INPUTS, inputs)
        concurrency = _opt(concurrency, INT, "job.for_each(concurrency=...)")
        handle = ForEachHandle(key, self, caller_location(), len(self._tasks))
        self._add(handle, ForEachTask(text, None, concurrency), depends_on=depends_on, run_if=run_if,
                  timeout=timeout, notifications=notifications, health=health, description=description,
                  disabled=disabled, extra=extra)
        if task is not None:
            handle.task(task)
        return handle

    # ----------------------------------------------------------------------------------------------------------

    def _declare(self, key: str, kind: TaskKind, location: Location | None,
                 options: Mapping[str, Any]) -> TaskHandle:
        handle = TaskHandle(key, self, location)
        if key.__class__ is str and (not options or (len(options) == 1 and "depends_on" in options)):
            # the common case, no shared option but depends_on: what ``_spec`` builds, without its option checks,
            # which have nothing to check
            check_kind(kind, key, location)
            deps = self._dependencies(options["depends_on"], location) if options else ()
            self._tasks.append(TaskSpec(key, kind, deps, location=location))
        else:
            self._tasks.append(self._spec(handle, kind, **options))
        self._handles.append(handle)
        return handle

    def _dependencies(self, depends_on: Any, location: Location | None) -> tuple[Dependency, ...]:
        """``depends_on=`` as dependencies: task handles of this job, condition branches, or task keys.  Anything
        else is an FD601 and left out (the task still loads)."""
        if depends_on is None:
            return ()
        if depends_on.__class__ is list and len(depends_on) == 1:
            # the common case, one handle of this job: no list copy, no per-item dispatch
            item = depends_on[0]
            if item.__class__ is TaskHandle and item.job is self:
                return (Dependency(item.key, None, location),)
        if isinstance(depends_on, (TaskHandle, Branch, str)):
            items: list = [depends_on]
        elif isinstance(depends_on, (list, tuple)):
            items = list(depends_on)
        else:
            wrong_type("depends_on", _DEPENDS_ON, depends_on, location)
            return ()
        deps = []
        for item in items:
            if isinstance(item, TaskHandle):
                if item.job is not self:
                    raise DefinitionError(
                        f"depends_on: task {item.key!r} belongs to job {item.job.key!r}, not to {self.key!r}; "
                        "a task can only depend on tasks of its own job (use a run-job task to chain jobs)",
                        location=location,
                    )
                deps.append(Dependency(item.key, None, location))
            elif isinstance(item, Branch):
                deps.append(item._flowdef_dependency(self, location))
            elif isinstance(item, str):
                deps.append(Dependency(item, None, location))
            else:
                wrong_type("depends_on[...]", _DEPENDS_ON, item, location)
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
        """The frozen spec of one declared task.  Every shared option is checked here, once, for every task kind:
        a wrong type is an FD601 at the declaring line and the option is left at its default."""
        location = handle.location
        key = handle.key
        if not isinstance(key, str):
            wrong_type("task key", STR, key, location)
            key = handle.key = f"task_at_line_{location.line if location else 0}_{len(self._tasks)}"
        check_kind(kind, key, location)  # the kind's own arguments (path, warehouse, params, ...)
        if isinstance(retry, int) and not isinstance(retry, bool):
            retry = Retry(retry)
        if isinstance(libraries, Library):
            libraries = (libraries,)
        if isinstance(run_if, RunIf):
            run_if = run_if.value

        def wrong(name: str, expect: Expect, value: Any, default: Any = None) -> Any:
            wrong_type(f"task {key!r}: {name}=", expect, value, location)
            return default

        # each option given (not at its default) must have its type; most tasks give few, so test only those
        if run_if is not None and not _RUN_IF.test(run_if):
            run_if = wrong("run_if", _RUN_IF, run_if)
        if retry is not None and not _RETRY.test(retry):
            retry = wrong("retry", _RETRY, retry)
        if timeout is not None and not INT.test(timeout):
            timeout = wrong("timeout", INT, timeout)
        if compute is not None and not _COMPUTE.test(compute):
            compute = wrong("compute", _COMPUTE, compute)
        if description is not None and not STR.test(description):
            description = wrong("description", STR, description)
        if disabled is not False and not BOOL.test(disabled):
            disabled = wrong("disabled", BOOL, disabled, False)
        if values is not None and not _VALUES.test(values):
            values = wrong("values", _VALUES, values)
        if libraries and not _LIBRARIES.test(libraries):
            libraries = wrong("libraries", _LIBRARIES, libraries, ())
        if notifications is not None and not _NOTIFICATIONS.test(notifications):
            notifications = wrong("notifications", _NOTIFICATIONS, notifications)
        if health is not None and not _HEALTH.test(health):
            health = wrong("health", _HEALTH, health)
        return TaskSpec(
            key=key,
            kind=kind,
            depends_on=self._dependencies(depends_on, location) if depends_on is not None else (),
            run_if=run_if,
            retry=retry if isinstance(retry, Retry) else None,  # an int became Retry(n) above
            timeout_seconds=timeout,
            compute=compute,
            description=description,
            disabled=disabled,
            values=_declared_values(values) if values is not None else (),
            location=location,
            libraries=tuple(libraries) if libraries else (),
            notifications=notifications,
            health=health,
            extra=_raw(extra, f"task {key!r}: extra=") if extra is not None else (),
            in_for_each=in_for_each,
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
    return tuple((str(v), "object") for v in sorted(values) if isinstance(values, (set, frozenset))) or tuple(
        (str(v), "object") for v in values)


def _operand(value: Any, side: str) -> str:
    try:
        return _value(value, f"job.condition({side})")
    except DefinitionError as exc:
        report("FD601", str(exc))
        return "0"
