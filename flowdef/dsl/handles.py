"""What the DSL's task declarations return: task handles (for ``depends_on=`` and ``.values.<name>``), condition
branches, the for-each handle that declares its nested task, ``flowdef.INPUT``, and the check of a function task's
signature that ``@job.task`` and a for-each task's ``.task`` share.  :mod:`flowdef.dsl.job` builds on them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Mapping, NoReturn, ParamSpec, TypeVar

import attrs

from flowdef._check import report
from flowdef._location import Location, caller_location
from flowdef.dsl.declare import CodeOptions, TaskDeclarations, _params_map, given
from flowdef.dsl.refs import Ref, Values, quote_name
from flowdef.errors import DefinitionError
from flowdef.model.spec import Dependency
from flowdef.model.tasks import ForEachTask, FunctionTask, TaskKind

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from flowdef.dsl.job import Job

P = ParamSpec("P")
R = TypeVar("R")


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

    def __getattr__(self, name: str) -> Any:
        if name in ("true", "false"):  # the branches of a condition task, asked of another kind of task
            raise DefinitionError(
                f"task {self.key!r} has no .{name} branch: only a condition task (job.condition(...)) has .true and "
                f".false; to run after {self.key!r} whatever happened, depend on it: depends_on=[{self.key}]",
                location=caller_location())
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


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

    def _declare(self, key: str, kind: TaskKind, location: Location | None, options: Mapping[str, Any],
                 function: Callable | None = None) -> "ForEachHandle":
        if self.nested is not None:
            raise DefinitionError(
                f"for-each task {self.key!r} already runs task {self.nested.key!r}; a for-each task has exactly "
                "one nested task (to run several steps per element, run a job per element with .run_job(...))",
                location=location,
            )
        for name in ("depends_on", "run_if"):
            if options.get(name) is not None:
                raise DefinitionError(
                    f"the nested task {key!r} of for-each task {self.key!r} cannot take {name}=: put it on "
                    f"job.for_each({self.key!r}, ...)", location=location,
                )
        handle = (FunctionHandle(key, self.job, location, function) if function is not None
                  else TaskHandle(key, self.job, location))
        spec = self.job._spec(handle, kind, in_for_each=True, **options)
        outer = self.job._tasks[self._index]
        for_each = outer.kind
        assert isinstance(for_each, ForEachTask)
        self.job._tasks[self._index] = attrs.evolve(outer, kind=attrs.evolve(for_each, task=spec))
        self.nested = handle
        return self

    def task(self, fn: Callable | None = None, /, *, key: str | None = None,
             params: Mapping[str, Any] | None = None, **options: Unpack[CodeOptions]):
        """Run a Python function per element (``@job.for_each(...).task`` or ``.task(fn)``); it reads the element
        from its parameters, e.g. ``.task(process, params={"region": INPUT})``.  Returns this handle."""
        given(options, CodeOptions)

        def decorate(function: Callable) -> "ForEachHandle":
            if not callable(function):
                raise DefinitionError(f".task takes a function, got {function!r}", location=caller_location())
            location = _function_location(function) or caller_location()
            check_task_function(function, location)
            kind = FunctionTask(function.__module__, function.__qualname__, _params_map(params, ".task(params=...)"))
            return self._declare(key or function.__name__, kind, location, options, function)

        if fn is not None:
            return decorate(fn)
        return decorate

    def for_each(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not allowed: a for-each task runs exactly one nested task, and that task cannot be a for-each task."""
        raise DefinitionError(
            f"for-each tasks cannot be nested: for-each task {self.key!r} cannot run another for-each task; "
            "run a job per element instead (.run_job(...) on a job that has the inner for_each)",
            location=caller_location())


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


def _function_location(function: Callable) -> Location | None:
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return Location(code.co_filename, code.co_firstlineno)




def check_task_function(function: Callable, location: Location | None) -> None:
    """A function task is called as ``function(ctx)`` on the cluster: one positional argument, the
    :class:`~flowdef.runtime.TaskContext`.  A function that cannot take it (or needs more) would fail there with a
    TypeError; say so now, at the ``def``."""
    import inspect

    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin or C callable: nothing to read
        return
    try:
        signature.bind(None)
    except TypeError:
        name = getattr(function, "__name__", repr(function))
        params = [p for p in signature.parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is p.empty]
        needs = ("it takes no argument" if not signature.parameters else
                 f"it needs {', '.join(p.name for p in params)}" if len(params) > 1 or any(
                     p.kind is p.KEYWORD_ONLY for p in params) else f"its signature is {name}{signature}")
        report("FD603", f"function task {name!r} cannot be called with the task context: the job runs "
                        f"{name}(ctx) with one TaskContext argument, but {needs}; write def {name}(ctx): ... "
                        "and read parameters from ctx.params", _def_line(function, location))


def _def_line(function: Callable, location: Location | None) -> Location | None:
    """The ``def`` line itself: a decorated function's code starts at its first decorator."""
    import linecache

    if location is None:
        return None
    pattern = re.compile(r"\s*(async\s+)?def\s+" + re.escape(getattr(function, "__name__", "")) + r"\b")
    for line in range(location.line, location.line + 50):
        text = linecache.getline(location.file, line)
        if not text:
            break
        if pattern.match(text):
            return Location(location.file, line)
    return location
