"""Task kinds: what a task runs.  Pure values; the compiler maps each kind to its ``*_task`` wire field.

Kinds are created by the :class:`flowdef.Job` DSL methods (``@job.task``, ``job.python_file``, ``job.notebook``,
``job.sql``, ``job.python_wheel``, ``job.condition``, ``job.for_each``, ...); users rarely build them directly.

Every kind has ``KIND``, a short name for listings and pictures.  Everything else about a kind (its wire field,
encoder and decoder, whether it needs compute, its artifacts and rules) is its entry in :mod:`flowdef.wire.kinds`.

``ForEachTask.task`` is a :class:`flowdef.model.spec.TaskSpec`.  ``model`` imports this module (for ``TaskKind``), so the
annotation is imported for type checkers only: attrs does not need it at run time, and no import cycle exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from flowdef._frozen import frozen

if TYPE_CHECKING:
    from flowdef.model.spec import TaskSpec


def _pairs(value) -> tuple[tuple[str, str], ...]:
    """Parameters keep the user's order (it is argv order for script tasks)."""
    if value.__class__ is tuple:  # already pairs (what the DSL passes): tuple(value) would return it as is
        return value
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(value.items()) if all(k.__class__ is str for k in value) else tuple(
            (str(k), v) for k, v in value.items())
    return tuple(value)


def _strs(value) -> tuple:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@frozen
class FunctionTask:
    """A Python function whose body is the task.  Runs on Databricks as a ``spark_python_task`` executing
    flowdef's entry script, which imports ``module`` and calls ``function`` with a :class:`TaskContext`."""

    module: str
    function: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    KIND = "function"


@frozen
class PythonFileTask:
    """A Python (PySpark) script.  ``path`` is relative to the project root (uploaded as a workspace file; with a
    Git source: relative to the repository) or an absolute workspace / cloud path used as is.  Parameters are
    argv; a dict ``{"catalog": x}`` becomes ``["--catalog", x]``."""

    path: str
    parameters: tuple = attrs.field(default=(), converter=lambda v: tuple(v) if v is not None else ())

    KIND = "python_file"


@frozen
class NotebookTask:
    """A notebook: a project file (uploaded as a notebook; with a Git source: a repository path) or an absolute
    workspace path."""

    path: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None

    KIND = "notebook"


@frozen
class SqlFileTask:
    """A SQL file rendered from a jinja2 template in ``sql_templates/`` for each target.

    Run-time values reach the SQL as named parameter markers (``:catalog``, ``IDENTIFIER(:catalog || '.x')``):
    job parameters are pushed down by the service; ``parameters`` adds task-level ones.
    ``template_vars`` are compile-time jinja variables."""

    template: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None
    template_vars: tuple[tuple[str, object], ...] = attrs.field(default=(), converter=_pairs)

    KIND = "sql"


@frozen
class PythonWheelTask:
    """An entry point of a Python wheel (installed through task libraries or the serverless environment).
    ``parameters`` (argv) and ``named_parameters`` (``--name=value``) are mutually exclusive."""

    package_name: str
    entry_point: str
    parameters: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    named_parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    KIND = "python_wheel"


@frozen
class SparkJarTask:
    """The ``main`` of a JVM class; the JAR comes from task libraries (``Library.jar``) or, on serverless, from
    ``Environment(java_dependencies=...)``."""

    main_class_name: str
    parameters: tuple[str, ...] = attrs.field(default=(), converter=_strs)

    KIND = "spark_jar"


@frozen
class Subscriber:
    """A recipient of a SQL alert / dashboard snapshot: a workspace user or a notification destination."""

    user_name: str | None = attrs.field(default=None, kw_only=True)
    destination_id: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        from flowdef._check import OPT_STR, check_fields
        check_fields(self, user_name=OPT_STR, destination_id=OPT_STR)

    @classmethod
    def user(cls, user_name: str) -> "Subscriber":
        return cls(user_name=user_name)

    @classmethod
    def destination(cls, destination_id: str) -> "Subscriber":
        return cls(destination_id=destination_id)


def _subscribers(value) -> tuple[Subscriber, ...]:
    """Strings with an ``@`` are users, other strings destination ids; ``Subscriber`` values pass through."""
    out = []
    for item in _strs(value):
        if isinstance(item, str):
            item = Subscriber(user_name=item) if "@" in item else Subscriber(destination_id=item)
        out.append(item)
    return tuple(out)


@frozen
class SqlQueryTask:
    """A saved Databricks SQL query by id (``sql_task.query``), on the target's warehouse by default."""

    query_id: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None

    KIND = "sql_query"


@frozen
class SqlAlertTask:
    """A Databricks SQL (legacy) alert by id (``sql_task.alert``)."""

    alert_id: str
    subscriptions: tuple[Subscriber, ...] = attrs.field(default=(), converter=_subscribers)
    pause_subscriptions: bool = False
    warehouse_id: str | None = None

    KIND = "sql_alert"


@frozen
class SqlDashboardTask:
    """A legacy Databricks SQL dashboard refresh by id (``sql_task.dashboard``)."""

    dashboard_id: str
    subscriptions: tuple[Subscriber, ...] = attrs.field(default=(), converter=_subscribers)
    custom_subject: str | None = None
    pause_subscriptions: bool = False
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None

    KIND = "sql_dashboard"


@frozen
class DbtTask:
    """dbt commands (1..10, each starting with ``dbt``) in ``project_directory`` (relative to the project root —
    uploaded — or to the Git repository; or an absolute workspace path).  With a warehouse (default: the
    target's, unless ``profiles_directory`` is given) Databricks generates the dbt profile."""

    commands: tuple[str, ...] = attrs.field(converter=_strs)
    project_directory: str | None = None
    profiles_directory: str | None = None
    warehouse_id: str | None = None
    catalog: str | None = None
    schema: str | None = None

    KIND = "dbt"


@frozen
class PipelineTask:
    """A Lakeflow Declarative Pipeline update, by ``pipeline_id`` or by ``pipeline_name`` (resolved to its id at
    deploy time: the compiled payload carries a ``${flowdef:pipeline:<name>}`` placeholder)."""

    pipeline_id: str | None = None
    pipeline_name: str | None = None
    full_refresh: bool = False

    KIND = "pipeline"


@frozen
class RunJobTask:
    """Run another job: by numeric ``job_id``, or by the ``job_key`` of a flowdef job of the same project (resolved
    at deploy time: the payload carries a ``${flowdef:job:<key>}`` placeholder).  ``job_parameters`` override the
    other job's parameters for that run."""

    job_id: int | None = None
    job_key: str | None = None
    job_parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    KIND = "run_job"


from flowdef.jobsapi.facts import CONDITION_OP_SYMBOLS as OP_ALIASES, CONDITION_OPS  # noqa: E402,F401


@frozen
class ConditionTask:
    """If/else: ``left op right`` (``EQUAL_TO``/``NOT_EQUAL`` compare strings, the others numbers).  Downstream
    tasks pick a branch with ``depends_on=[check.true]`` / ``[check.false]``."""

    op: str
    left: str
    right: str

    KIND = "condition"


@frozen
class ForEachTask:
    """Run ``task`` once per element of ``inputs`` (a JSON array literal or a reference to one), at most
    ``concurrency`` iterations at a time.  Inside ``task``, ``{{input}}`` is the element (``flowdef.INPUT``)."""

    inputs: str
    task: TaskSpec | None  # None only while (or if never) declared: reported by validation
    concurrency: int | None = None

    KIND = "for_each"


@frozen
class DashboardTask:
    """Refresh an AI/BI (Lakeview) dashboard and e-mail a snapshot to ``subscribers``."""

    dashboard_id: str
    warehouse_id: str | None = None
    subscribers: tuple[Subscriber, ...] = attrs.field(default=(), converter=_subscribers)
    custom_subject: str | None = None
    paused: bool = False

    KIND = "dashboard"


@frozen
class AlertTask:
    """Evaluate a (v2) Databricks SQL alert, by ``alert_id`` or ``workspace_path`` (exactly one)."""

    alert_id: str | None = None
    workspace_path: str | None = None
    warehouse_id: str | None = None
    subscribers: tuple[Subscriber, ...] = attrs.field(default=(), converter=_subscribers)

    KIND = "alert"


@frozen
class PowerBiModel:
    """The Power BI semantic model a Power BI task publishes to."""

    workspace_name: str
    model_name: str
    storage_mode: str | None = attrs.field(default=None, kw_only=True)
    authentication_method: str | None = attrs.field(default=None, kw_only=True)
    overwrite_existing: bool | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        from flowdef._check import OPT_BOOL, OPT_STR, STR, check_fields
        check_fields(self, {"workspace_name": "workspace", "model_name": "model"}, workspace_name=STR,
                     model_name=STR, storage_mode=OPT_STR, authentication_method=OPT_STR,
                     overwrite_existing=OPT_BOOL)


@frozen
class PowerBiTable:
    """A Unity Catalog table published to Power BI; ``PowerBiTable.of("main.sales.orders")``."""

    catalog: str
    schema: str
    name: str
    storage_mode: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        from flowdef._check import OPT_STR, STR, check_fields
        check_fields(self, {"catalog": "catalog", "schema": "schema", "name": "table"}, catalog=STR, schema=STR,
                     name=STR, storage_mode=OPT_STR)

    @classmethod
    def of(cls, full_name: str, *, storage_mode: str | None = None) -> "PowerBiTable":
        parts = full_name.split(".")
        if len(parts) != 3:
            raise ValueError(f"expected catalog.schema.table, got {full_name!r}")
        return cls(*parts, storage_mode=storage_mode)


def _tables(value) -> tuple[PowerBiTable, ...]:
    return tuple(PowerBiTable.of(t) if isinstance(t, str) else t for t in _strs(value))


@frozen
class PowerBiTask:
    """Publish Unity Catalog tables to a Power BI semantic model (Public Preview)."""

    connection_resource_name: str
    model: PowerBiModel | None = None
    tables: tuple[PowerBiTable, ...] = attrs.field(default=(), converter=_tables)
    warehouse_id: str | None = None
    refresh_after_update: bool | None = None

    KIND = "power_bi"


@frozen
class CleanRoomNotebookTask:
    """Run a notebook shared in a clean room."""

    clean_room_name: str
    notebook_name: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    etag: str | None = None

    KIND = "clean_room_notebook"


@frozen
class RawTask:
    """The escape hatch for task kinds flowdef does not type (preview kinds such as ``ai_runtime_task``): the
    fields are emitted verbatim, after ``flowdef validate`` checked that exactly one is a ``*_task`` kind and that
    each is a Jobs API field whose value matches the API schema."""

    fields: tuple[tuple[str, Any], ...] = attrs.field(hash=False)  # raw JSON: compared, not hashed

    KIND = "raw"

    @property
    def kind_fields(self) -> list[str]:
        return [k for k, _ in self.fields if k.endswith("_task")]


TaskKind = (
    FunctionTask | PythonFileTask | NotebookTask | SqlFileTask | PythonWheelTask | SparkJarTask | SqlQueryTask
    | SqlAlertTask | SqlDashboardTask | DbtTask | PipelineTask | RunJobTask | ConditionTask | ForEachTask
    | DashboardTask | AlertTask | PowerBiTask | CleanRoomNotebookTask | RawTask
)
KIND_TYPES = (
    FunctionTask, PythonFileTask, NotebookTask, SqlFileTask, PythonWheelTask, SparkJarTask, SqlQueryTask,
    SqlAlertTask, SqlDashboardTask, DbtTask, PipelineTask, RunJobTask, ConditionTask, ForEachTask, DashboardTask,
    AlertTask, PowerBiTask, CleanRoomNotebookTask, RawTask,
)
SQL_WAREHOUSE_KINDS = (SqlFileTask, SqlQueryTask, SqlAlertTask, SqlDashboardTask)  # sql_task needs a warehouse
