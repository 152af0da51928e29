"""The task-declaring methods shared by :class:`flowdef.Job` and a for-each task's builder.

Each method builds one task *kind* (a pure value of :mod:`flowdef.model.tasks`) and hands it, with the options every
task shares (``depends_on``, ``retry``, ``compute``, ``notifications``, ...), to ``self._declare``: the job records a
top-level task and returns its handle; a for-each handle records its nested task and returns itself.  So::

    job.notebook("process", "nb/region.py", params={"region": "eu"})
    job.for_each("per_region", inputs=["eu", "us"]).notebook("process", "nb/region.py", params={"region": INPUT})

take the same arguments.  Nested tasks have no ``depends_on`` / ``run_if`` (the for-each task has them).

A method spells out its kind's own arguments and takes the shared options as ``**options``, typed by the
TypedDict of the options that make sense for its kind (:class:`TaskOptions`, :class:`ComputeOptions`,
:class:`CodeOptions`): type checkers and IDEs list and check them, and ``given`` refuses another one at run time.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, Iterable, Mapping, TypedDict

from flowdef._check import STR, Expect, refuse_keywords, report, show, wrong_type
from flowdef._location import Location, caller_location
from flowdef.errors import DefinitionError
from flowdef.model.tasks import (
    OP_ALIASES, AlertTask, CleanRoomNotebookTask, DashboardTask, DbtTask, NotebookTask, PipelineTask,
    PowerBiModel, PowerBiTable, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask, RunJobTask, SparkJarTask,
    SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask, Subscriber, TaskKind,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack for **kwargs is Python 3.12's; only type checkers read it

    from flowdef.model.compute import Compute, Library
    from flowdef.dsl.job import DependsOn, Job, TaskHandle
    from flowdef.model.spec import Retry, RunIf
    from flowdef.model.settings import Health, Notifications

Values = Mapping[str, type] | Iterable[str] | None
Subscribers = Iterable[Subscriber | str]


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
    hint = ""
    if callable(value) and getattr(value, "__self__", None) is not None and isinstance(value.__self__, str):
        hint = (f" ({value.__name__!r} is a str method: for an input field of that name write "
                f"INPUT[{value.__name__!r}])")
    raise DefinitionError(
        f"{what}: expected a string, number, bool or JSON list/dict, got {type(value).__name__}{hint}", code="FD601"
    )


def _params_map(value: Any, argument: str) -> dict[str, str]:
    """``params={...}``: string names; values are strings, numbers, bools or JSON lists/dicts (converted the one
    documented way).  A list, a string, a name that is not a string or a value of another type is an FD601 at the
    user's line, and is left out (the task still loads)."""
    if value is None:
        return {}
    if value.__class__ is dict:
        for name, item in value.items():
            if name.__class__ is not str or item.__class__ is not str:
                break
        else:  # the common case, plain strings: nothing to convert
            return dict(value)
    if not isinstance(value, Mapping):
        wrong_type(argument, Expect("a dict of name -> value", lambda v: False), value)
        return {}
    out = {}
    for name, item in value.items():
        if not isinstance(name, str):
            wrong_type(f"{argument} names", STR, name)
            continue
        try:
            out[name] = _value(item, f"{argument}[{name!r}]")
        except DefinitionError as exc:
            report("FD601", str(exc))
    return out


def _str_pairs(values: Mapping[str, Any] | None, what: str) -> tuple[tuple[str, str], ...]:
    """``_params_map`` as the ``(name, value)`` pairs a task kind stores, in the user's order."""
    return tuple(_params_map(values, what).items())


def _argv(params: Mapping[str, Any] | Iterable[Any] | None, what: str = "params") -> list[str]:
    """A dict becomes ``--name value`` pairs, a list is argv as given."""
    if isinstance(params, Mapping):
        argv: list[str] = []
        for name, value in _params_map(params, what).items():
            argv += [f"--{name}", value]
        return argv
    if params is None:
        return []
    if not isinstance(params, (list, tuple)):
        report("FD601", f"{what}: expected a list of arguments or a dict, got {show(params)}")
        return []
    argv = []
    for v in params:
        try:
            argv.append(_value(v, what))
        except DefinitionError as exc:
            report("FD601", str(exc))
    return argv


def _strings(value: Any, what: str) -> tuple[str, ...]:
    """One string or a list of them; anything else is an FD601 (and an empty list)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    report("FD601", f"{what} must be a string or a list of strings, got {show(value)}")
    return ()


def _items(value: Any, types: tuple[type, ...], what: str) -> tuple:
    """One item or a list of items of ``types`` (subscribers, tables); anything else is an FD601."""
    if isinstance(value, types):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, types) for v in value):
        return tuple(value)
    names = " or ".join(t.__name__ for t in types)
    report("FD601", f"{what} must be a list of {names} values, got {show(value)}")
    return ()


def _vars(value: Any) -> dict[str, Any]:
    """Template variables: a dict with string names (the values may be anything jinja2 renders)."""
    if value is None:
        return {}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return dict(value)
    report("FD601", f"job.sql(vars=...) must be a dict of name -> value, got {show(value)}")
    return {}


def json_copy(value: Any, what: str) -> Any:
    """A detached, JSON-only copy of a raw value (raw settings are emitted verbatim, so they must be JSON: NaN
    and infinities, which json would write as the non-JSON words ``NaN`` / ``Infinity``, are refused)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"{what} must be JSON (dicts, lists, strings, numbers, booleans): {exc}",
                              code="FD601") from None


def raw_pairs(fields: Mapping[str, Any] | None, what: str) -> tuple[tuple[str, Any], ...]:
    if fields is None:
        return ()
    if not isinstance(fields, Mapping):
        raise DefinitionError(f"{what} must be a dict of Jobs API field -> value, got {type(fields).__name__}",
                              code="FD601")
    return tuple((str(k), json_copy(v, f"{what}[{k!r}]")) for k, v in fields.items())


class TaskOptions(TypedDict, total=False):
    """The options every task method takes, by keyword, besides its kind's own arguments; each is checked where it
    is written (``Job._spec``: a wrong type is an FD601 at that line).

    ``depends_on``: the tasks this one runs after (task handles, condition branches such as ``check.true``, or task
    keys); ``run_if``: when it runs given how they ended (:class:`RunIf`, default ``ALL_SUCCESS``); ``retry``:
    ``Retry(...)`` or a number of retries; ``timeout``: seconds (0 = none); ``notifications``, ``health``: as for
    the job; ``description``; ``disabled``: kept in the job but never run; ``extra``: Jobs API task fields flowdef
    does not type (``{"environment_variables_key": ...}``), checked against the API schema."""

    depends_on: DependsOn
    run_if: RunIf | str | None
    retry: Retry | int | None
    timeout: int | None
    notifications: Notifications | None
    health: Health | None
    description: str | None
    disabled: bool
    extra: Mapping[str, Any] | None


class ComputeOptions(TaskOptions, total=False):
    """:class:`TaskOptions` and what a task that runs code on Spark compute takes: ``compute`` (an
    ``Environment``, ``JobCluster``, ``ExistingCluster`` or ``ClusterSpec``; default: the job's) and
    ``libraries`` (``[Library.pypi("x==1"), Library.whl(path)]``)."""

    compute: Compute | None
    libraries: Iterable[Library]


class CodeOptions(ComputeOptions, total=False):
    """:class:`ComputeOptions` and ``values``: the task values the code publishes (``{"rows": int}`` or a list of
    names), so that references to them are checked."""

    values: Values


_TAKES: dict[type, frozenset[str]] = {
    options: options.__optional_keys__ for options in (TaskOptions, ComputeOptions, CodeOptions)
}


def given(options: Mapping[str, Any], takes: type) -> Mapping[str, Any]:
    """The options a task method was given (its ``**options``), each one it ``takes`` (its options' TypedDict).
    Type checkers refuse another keyword where it is written; at run time it is an FD602, as Python refuses an
    unknown keyword argument."""
    allowed = _TAKES[takes]
    if not options.keys() <= allowed:
        caller = sys._getframe(1)  # the task method: named as Python names it in its own complaint
        method = f"{type(caller.f_locals.get('self')).__name__}.{caller.f_code.co_name}()"
        refuse_keywords(method, {n: v for n, v in options.items() if n not in allowed}, {})
    return options


def options_of(method: Any) -> frozenset[str]:
    """The shared options a task method of :class:`flowdef.Job` takes (what generated code may pass it): the keys
    of its ``**options`` TypedDict, or the options it spells out (``condition``, ``for_each``, ``raw_task``)."""
    import inspect

    found: set[str] = set()
    for p in inspect.signature(method).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            found |= _TAKES[_TYPED[str(p.annotation).removeprefix("Unpack[").removesuffix("]")]]
        elif p.kind is p.KEYWORD_ONLY and p.name in _TAKES[CodeOptions]:
            found.add(p.name)
    return frozenset(found)


_TYPED = {options.__name__: options for options in _TAKES}


class TaskDeclarations:
    """Mixin: one method per task kind.  Subclasses implement ``_declare``.

    Each method takes its kind's own arguments explicitly and the shared options as ``**options``, typed by one of
    :class:`TaskOptions`, :class:`ComputeOptions` and :class:`CodeOptions` (type checkers and IDEs list and check
    them); ``given`` refuses, at run time, an option the method does not take."""

    def _declare(self, key: str, kind: TaskKind, location: Location | None,
                 options: Mapping[str, Any]) -> "TaskHandle":
        """Record one task with the shared options it was given (``TaskOptions`` keys)."""
        raise NotImplementedError

    # -- code on clusters or serverless -------------------------------------------------------------------------

    def python_file(self, key: str, path: str, /, *, params: Mapping[str, Any] | Iterable[str] | None = None,
                    **options: Unpack[CodeOptions]) -> "TaskHandle":
        """A Python (PySpark) script task.  ``path`` is relative to the project root (uploaded; with a Git
        source: relative to the repository) or an absolute workspace path.  ``params`` as a dict become
        ``--name value`` arguments, as a list they are argv."""
        kind = PythonFileTask(path, tuple(_argv(params)))
        return self._declare(key, kind, caller_location(), given(options, CodeOptions))

    def notebook(self, key: str, path: str, /, *, params: Mapping[str, Any] | None = None,
                 warehouse: str | None = None, **options: Unpack[CodeOptions]) -> "TaskHandle":
        """A notebook task (``params`` are widgets, ``base_parameters``).  Without compute it runs on serverless
        notebook compute; ``warehouse`` runs a SQL notebook on a SQL warehouse."""
        kind = NotebookTask(path, _str_pairs(params, "params"), warehouse)
        return self._declare(key, kind, caller_location(), given(options, CodeOptions))

    def python_wheel(self, key: str, package: str, entry_point: str, /, *,
                     params: Mapping[str, Any] | Iterable[str] | None = None,
                     **options: Unpack[CodeOptions]) -> "TaskHandle":
        """Call ``entry_point`` of the wheel package ``package`` (install the wheel with
        ``libraries=[Library.whl(...)]`` or the serverless ``Environment(dependencies=...)``).

        ``params`` as a list are positional ``parameters``; as a dict they are ``named_parameters``
        (``--name=value``, and job parameters are pushed down to them)."""
        if isinstance(params, Mapping):
            kind = PythonWheelTask(package, entry_point, named_parameters=_str_pairs(params, "params"))
        else:
            kind = PythonWheelTask(package, entry_point, parameters=tuple(_argv(params)))
        return self._declare(key, kind, caller_location(), given(options, CodeOptions))

    def spark_jar(self, key: str, main_class: str, /, *, params: Mapping[str, Any] | Iterable[str] | None = None,
                  **options: Unpack[CodeOptions]) -> "TaskHandle":
        """Run ``main_class``'s ``main`` (the JAR comes from ``libraries=[Library.jar(...)]``).  ``params`` as a
        list are argv; a dict becomes ``--name value`` pairs."""
        kind = SparkJarTask(main_class, tuple(_argv(params)))
        return self._declare(key, kind, caller_location(), given(options, CodeOptions))

    def dbt(self, key: str, /, commands: Iterable[str] | str, *, project_directory: str | None = None,
            profiles_directory: str | None = None, warehouse: str | None = None, catalog: str | None = None,
            schema: str | None = None, **options: Unpack[ComputeOptions]) -> "TaskHandle":
        """dbt ``commands`` (1..10, each starting with ``dbt``) in ``project_directory``.  With a warehouse (default:
        the target's, unless ``profiles_directory`` is given) Databricks generates the profile; ``catalog`` and
        ``schema`` then pick where models land.  Needs compute for the dbt CLI (e.g. a serverless
        ``Environment(dependencies=["dbt-databricks>=1.8"])``)."""
        kind = DbtTask(_strings(commands, "job.dbt(commands)"), project_directory,
                       profiles_directory, warehouse, catalog, schema)
        return self._declare(key, kind, caller_location(), given(options, ComputeOptions))

    # -- SQL warehouse tasks ------------------------------------------------------------------------------------

    def sql(self, key: str, template: str, /, *, params: Mapping[str, Any] | None = None,
            vars: Mapping[str, Any] | None = None, warehouse: str | None = None,
            **options: Unpack[TaskOptions]) -> "TaskHandle":
        """A SQL file task from a jinja2 template under ``sql_templates/``, rendered per target at compile time.

        Job parameters reach the SQL at run time as ``:name`` markers (``IDENTIFIER(:catalog || '.t')``);
        ``params`` adds task-level ones; ``vars`` are compile-time template variables; ``warehouse``
        overrides the target's SQL warehouse id."""
        kind = SqlFileTask(template, _str_pairs(params, "params"), warehouse, _vars(vars))
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def sql_query(self, key: str, /, query_id: str, *, params: Mapping[str, Any] | None = None,
                  warehouse: str | None = None, **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Run a saved Databricks SQL query by id, on ``warehouse`` (default: the target's)."""
        kind = SqlQueryTask(query_id, _str_pairs(params, "params"), warehouse)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def sql_alert(self, key: str, /, alert_id: str, *, subscribers: Subscribers = (),
                  pause_subscriptions: bool = False, warehouse: str | None = None,
                  **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Evaluate a legacy Databricks SQL alert by id.  ``subscribers``: user names (with ``@``), notification
        destination ids, or :class:`Subscriber` values."""
        kind = SqlAlertTask(alert_id, _items(subscribers, (str, Subscriber), "subscribers"), pause_subscriptions,
                            warehouse)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def sql_dashboard(self, key: str, /, dashboard_id: str, *, subscribers: Subscribers = (),
                      custom_subject: str | None = None, pause_subscriptions: bool = False,
                      params: Mapping[str, Any] | None = None, warehouse: str | None = None,
                      **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Refresh a legacy Databricks SQL dashboard by id (for AI/BI dashboards use :meth:`dashboard`)."""
        kind = SqlDashboardTask(dashboard_id, _items(subscribers, (str, Subscriber), "subscribers"), custom_subject,
                                pause_subscriptions, _str_pairs(params, "params"), warehouse)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def dashboard(self, key: str, /, dashboard_id: str, *, warehouse: str | None = None,
                  subscribers: Subscribers = (), custom_subject: str | None = None, paused: bool = False,
                  **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Refresh an AI/BI (Lakeview) dashboard and send a snapshot to ``subscribers`` (``paused=True`` keeps
        the subscription but sends nothing).  ``warehouse`` defaults to the dashboard's own."""
        kind = DashboardTask(dashboard_id, warehouse, _items(subscribers, (str, Subscriber), "subscribers"),
                             custom_subject, paused)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def alert(self, key: str, /, alert_id: str | None = None, *, workspace_path: str | None = None,
              warehouse: str | None = None, subscribers: Subscribers = (),
              **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Evaluate a Databricks SQL alert (v2) by ``alert_id`` or by ``workspace_path`` (exactly one)."""
        kind = AlertTask(alert_id, workspace_path, warehouse, _items(subscribers, (str, Subscriber), "subscribers"))
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def power_bi(self, key: str, /, *, connection: str, model: PowerBiModel | None = None,
                 tables: Iterable[Any] = (), warehouse: str | None = None, refresh_after_update: bool | None = None,
                 **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Publish Unity Catalog ``tables`` (``"catalog.schema.table"`` or :class:`PowerBiTable`) to a Power BI
        semantic ``model`` through the Unity Catalog ``connection`` (Public Preview)."""
        kind = PowerBiTask(connection, model, _items(tables, (str, PowerBiTable), "job.power_bi(tables)"), warehouse,
                           refresh_after_update)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    # -- orchestration ------------------------------------------------------------------------------------------

    def pipeline(self, key: str, /, pipeline_id: str | None = None, *, name: str | None = None,
                 full_refresh: bool = False, **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Update a Lakeflow Declarative Pipeline by id, or by ``name`` (looked up when deploying, so the same
        code works in every workspace).  ``full_refresh=True`` recomputes every table."""
        kind = PipelineTask(pipeline_id, name, full_refresh)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def run_job(self, key: str, job: "Job | int | str", /, *, params: Mapping[str, Any] | None = None,
                **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Run another job and wait for it: a flowdef :class:`Job` of this project (or its key, as a string),
        whose id is looked up at deploy time, or a numeric job id.  ``params`` are that job's parameters."""
        from flowdef.dsl.job import Job

        parameters = _str_pairs(params, "params")
        if isinstance(job, Job):
            kind = RunJobTask(job_key=job.key, job_parameters=parameters)
        elif isinstance(job, int) and not isinstance(job, bool):
            kind = RunJobTask(job_id=job, job_parameters=parameters)
        elif isinstance(job, str):
            kind = RunJobTask(job_key=job, job_parameters=parameters)
        else:
            report("FD601", f"run_job: expected a Job, a job key or a job id, got {show(job)}")
            kind = RunJobTask(job_key="", job_parameters=parameters)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    def clean_room_notebook(self, key: str, /, clean_room: str, notebook: str, *,
                            params: Mapping[str, Any] | None = None, etag: str | None = None,
                            **options: Unpack[TaskOptions]) -> "TaskHandle":
        """Run the notebook ``notebook`` shared in the clean room ``clean_room`` (``etag`` pins a version)."""
        kind = CleanRoomNotebookTask(clean_room, notebook, _str_pairs(params, "params"), etag)
        return self._declare(key, kind, caller_location(), given(options, TaskOptions))

    # -- the escape hatch ---------------------------------------------------------------------------------------

    def raw_task(
        self,
        key: str,
        fields: Mapping[str, Any],
        /,
        *,
        depends_on: "DependsOn" = None,
        run_if: "RunIf | str | None" = None,
        retry: "Retry | int | None" = None,
        timeout: int | None = None,
        compute: "Compute | None" = None,
        libraries: "Iterable[Library]" = (),
        notifications: "Notifications | None" = None,
        health: "Health | None" = None,
        values: Values = None,
        description: str | None = None,
        disabled: bool = False,
    ) -> "TaskHandle":
        """A task kind flowdef does not type yet (preview kinds), emitted verbatim::

            job.raw_task("train", {"ai_runtime_task": {"experiment": "/Users/a@b.c/exp", "deployments": [...]}},
                         depends_on=[prepare])

        ``fields`` hold exactly one ``*_task`` kind plus, optionally, other task fields flowdef does not type
        (``compute``, ``environment_variables_key``, ``disable_auto_optimization``).  ``flowdef validate``
        checks every field name and value against the Jobs API schema; typed options (dependencies, retries,
        compute, ...) keep their keyword arguments (the options of :class:`CodeOptions` but ``extra``: the
        fields are raw already)."""
        kind = RawTask(raw_pairs(fields, "raw_task fields"))
        options = dict(depends_on=depends_on, run_if=run_if, retry=retry, timeout=timeout, compute=compute,
                       libraries=libraries, notifications=notifications, health=health, values=values,
                       description=description, disabled=disabled)
        return self._declare(key, kind, caller_location(), options)


def condition_op(op: str) -> str:
    """``"=="`` and friends are spelled as the API's names; anything else is kept for validation to report."""
    if hasattr(op, "value"):
        op = op.value
    return OP_ALIASES.get(op, op) if isinstance(op, str) else op

