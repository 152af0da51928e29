"""The rules of each task kind's own fields, next to the kind entries of :mod:`flowdef.wire.kinds`.

Every rule has the signature ``rules(ctx, task, kind, path, location) -> list[Diagnostic]``: ``ctx`` is the job's
validation context (:class:`flowdef.validate.context.JobContext`: ``job``, ``target``, ``config``, ``d(...)``),
``path`` the task's path in the payload (``tasks.<key>`` or ``tasks.<key>.for_each_task.task``) and ``location``
the user's line.  Rules every task shares (dependencies, run_if, retries, compute) live in
:mod:`flowdef.validate.structure` and :mod:`flowdef.validate.compute`; a kind without rules of its own uses
:func:`no_rules` (there is no list of "quiet" kinds to keep in step: every kind's rules always run).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Callable, Protocol

from flowdef.diagnostics import Diagnostic
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.compute import CLASSIC_TYPES, Environment
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import (
    AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask, NotebookTask,
    PipelineTask, PowerBiTask, PythonFileTask, PythonWheelTask, RunJobTask, SparkJarTask, SqlAlertTask,
    SqlDashboardTask, SqlQueryTask,
)
from flowdef.jobsapi.facts import (  # the Jobs API's limits and enums, written once
    CONDITION_OP_LOOKALIKES as _OP_SYMBOLS, CONDITION_OPS, MAX_ALERT_SUBSCRIBERS, MAX_BASE_PARAMETERS_BYTES,
    MAX_DBT_COMMANDS, MAX_FOR_EACH_CONCURRENCY, STRING_CONDITION_OPS, is_external_path,
)

POWER_BI_STORAGE_MODES = ("DIRECT_QUERY", "DUAL", "IMPORT")
POWER_BI_AUTH = ("OAUTH", "PAT")
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z")
_NUMERIC_TYPES = {"int", "float", "Decimal", "decimal"}


class RuleContext(Protocol):
    job: JobSpec
    target: Target
    config: ProjectConfig

    def d(self, code: str, message: str, location=None, path: str = "",
          severity: str | None = None) -> Diagnostic: ...


KindRules = Callable[[RuleContext, TaskSpec, Any, str, Any], list[Diagnostic]]


def suggest(word: Any, options) -> str:
    """``; did you mean 'x'?`` for a close match, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def enum_hint(value: Any, allowed) -> str:
    """``; write 'gitHub'`` for a mis-cased value, else a close match."""
    text = str(value)
    fold = {str(a).lower().replace("_", ""): a for a in allowed}
    right = fold.get(text.lower().replace("_", "").replace("-", "").replace(" ", ""))
    if right is not None:
        return f"; write {right!r}"
    close = difflib.get_close_matches(text, [str(a) for a in allowed], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_enum(ctx: RuleContext, what: str, value: Any, allowed, location, path: str) -> list[Diagnostic]:
    """FD513 unless ``value`` is one of ``allowed`` exactly."""
    if value in allowed:
        return []
    return [ctx.d(
        "FD513",
        f"{what} {value!r} is not one of {', '.join(map(str, allowed))}{enum_hint(value, allowed)} "
        "(the API spells enums exactly; the Databricks SDK silently drops any other spelling)",
        location, path,
    )]


def no_rules(ctx, task, kind, path, location) -> list[Diagnostic]:
    return []


def _blank(value: Any) -> bool:
    return not str(value or "").strip()


# ----------------------------------------------------------------------------------------------------------------
# code


def function_rules(ctx, task: TaskSpec, kind: FunctionTask, path: str, location) -> list[Diagnostic]:
    if "<locals>" not in kind.function:
        return []
    return [ctx.d(
        "FD501",
        f"function task {task.key!r} is defined inside another function ({kind.function}); Databricks imports "
        "it by module and name, so define it at module level",
        location, path,
    )]


def python_file_rules(ctx, task: TaskSpec, kind: PythonFileTask, path: str, location) -> list[Diagnostic]:
    if is_external_path(kind.path) or "{{" in kind.path or (ctx.config.root / kind.path).is_file():
        return []
    return [ctx.d(
        "FD406",
        f"Python file {kind.path!r} of task {task.key!r} does not exist (paths are relative to the project "
        f"root {ctx.config.root})",
        location, f"{path}.spark_python_task.python_file",
    )]


def notebook_rules(ctx, task: TaskSpec, kind: NotebookTask, path: str, location) -> list[Diagnostic]:
    # An upper bound first, so typical parameters are never serialised just to be measured: every character of
    # the JSON is at most 6 bytes (4 in UTF-8, 6 as a \uXXXX escape) and the pairs' repr has at least as many
    # characters as the JSON has (each string character, and more punctuation).
    # For plain string pairs the bound is counted without the repr: each character at most 6 bytes, plus the
    # two quotes of each string, the ':' and ',' of each pair, and the braces.
    bound = 2
    for name, value in kind.parameters:
        if name.__class__ is not str or value.__class__ is not str:
            bound = len(repr(kind.parameters)) * 6
            break
        bound += (len(name) + len(value)) * 6 + 6
    if bound <= MAX_BASE_PARAMETERS_BYTES:
        return []
    size = len(json.dumps(dict(kind.parameters), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size <= MAX_BASE_PARAMETERS_BYTES:
        return []
    return [ctx.d(
        "FD502",
        f"notebook parameters of task {task.key!r} are {size:,} bytes as JSON; the Jobs API allows at most "
        f"1 MB — pass large data through a table or a volume file and give the notebook its path",
        location, f"{path}.notebook_task.base_parameters",
    )]


def python_wheel_rules(ctx, task: TaskSpec, kind: PythonWheelTask, path: str, location) -> list[Diagnostic]:
    out = []
    if kind.parameters and kind.named_parameters:
        out.append(ctx.d("FD501", f"python wheel task {task.key!r} has both parameters and named_parameters; the "
                         "API takes one: pass params as a list (argv) or as a dict (--name=value)", location,
                         f"{path}.python_wheel_task"))
    for field in ("package_name", "entry_point"):
        if _blank(getattr(kind, field)):
            out.append(ctx.d("FD501", f"python wheel task {task.key!r} needs a {field}", location,
                             f"{path}.python_wheel_task.{field}"))
    return out


def spark_jar_rules(ctx, task: TaskSpec, kind: SparkJarTask, path: str, location) -> list[Diagnostic]:
    out = []
    if _blank(kind.main_class_name):
        out.append(ctx.d("FD501", f"Spark JAR task {task.key!r} needs main_class_name (e.g. 'com.acme.Main')",
                         location, f"{path}.spark_jar_task.main_class_name"))
    compute = task.compute if task.compute is not None else ctx.job.compute  # the JAR must reach the compute
    if isinstance(compute, Environment) and not compute.java_dependencies:
        out.append(ctx.d("FD503", f"Spark JAR task {task.key!r} runs on serverless environment {compute.key!r}, "
                         "which has no java_dependencies: add the JAR with Environment(java_dependencies=[...])",
                         location, f"{path}.spark_jar_task"))
    elif isinstance(compute, CLASSIC_TYPES) and not any(lib.kind in ("jar", "maven") for lib in task.libraries):
        out.append(ctx.d("FD503", f"Spark JAR task {task.key!r} installs no JAR: add libraries=[Library.jar(...)] "
                         "(or Library.maven(...)) holding its main class", location, f"{path}.libraries",
                         severity="warning"))
    return out


def dbt_rules(ctx, task: TaskSpec, kind: DbtTask, path: str, location) -> list[Diagnostic]:
    out = []
    where = f"{path}.dbt_task"
    commands = list(kind.commands)
    if not commands:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} has no commands; give 1 to {MAX_DBT_COMMANDS}, e.g. "
                         "['dbt deps', 'dbt build']", location, f"{where}.commands"))
    elif len(commands) > MAX_DBT_COMMANDS:
        out.append(ctx.d("FD502", f"dbt task {task.key!r} has {len(commands)} commands; at most "
                         f"{MAX_DBT_COMMANDS} are allowed — split it into several dbt tasks", location,
                         f"{where}.commands"))
    for i, command in enumerate(commands):
        text = command.strip() if isinstance(command, str) else ""
        if not (text == "dbt" or text.startswith("dbt ")):
            fix = f"; write 'dbt {text}'" if text and not text.startswith("dbt") else ""
            out.append(ctx.d("FD501", f"dbt command {command!r} of task {task.key!r} must start with 'dbt'{fix}",
                             location, f"{where}.commands[{i}]"))
    if kind.profiles_directory is not None and kind.warehouse_id is not None:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} sets both profiles_directory and warehouse; with a "
                         "warehouse Databricks generates the profile — drop one", location,
                         f"{where}.profiles_directory"))
    has_warehouse = kind.warehouse_id is not None or (kind.profiles_directory is None and ctx.target.warehouse_id)
    for field in ("catalog", "schema"):
        if getattr(kind, field) is not None and not has_warehouse:
            out.append(ctx.d("FD501", f"dbt task {task.key!r} sets {field} but runs without a SQL warehouse; set "
                             f"warehouse= (or warehouse_id in target {ctx.target.name!r})", location,
                             f"{where}.{field}"))
    directory = kind.project_directory
    if directory is None and ctx.job.git is None:
        out.append(ctx.d("FD501", f"dbt task {task.key!r} needs project_directory= (a folder of the project, or "
                         "give the job a Git source and the repository root is used)", location,
                         f"{where}.project_directory"))
    elif directory and not directory.startswith("/") and ctx.job.git is None:
        if not (ctx.config.root / directory / "dbt_project.yml").is_file():
            out.append(ctx.d("FD406", f"dbt project {directory!r} of task {task.key!r} has no dbt_project.yml "
                             f"(paths are relative to the project root {ctx.config.root})", location,
                             f"{where}.project_directory"))
    return out


# ----------------------------------------------------------------------------------------------------------------
# other services


def pipeline_rules(ctx, task: TaskSpec, kind: PipelineTask, path: str, location) -> list[Diagnostic]:
    if (kind.pipeline_id is None) == (kind.pipeline_name is None):
        return [ctx.d("FD501", f"pipeline task {task.key!r} needs exactly one of a pipeline id or name=..., "
                      f"got {'both' if kind.pipeline_id is not None else 'neither'}", location,
                      f"{path}.pipeline_task.pipeline_id")]
    if _blank(kind.pipeline_id or kind.pipeline_name):
        return [ctx.d("FD501", f"pipeline task {task.key!r} has an empty pipeline id/name", location,
                      f"{path}.pipeline_task.pipeline_id")]
    return []


def run_job_rules(ctx, task: TaskSpec, kind: RunJobTask, path: str, location) -> list[Diagnostic]:
    out = []
    if kind.job_id is not None and (isinstance(kind.job_id, bool) or not isinstance(kind.job_id, int)
                                    or kind.job_id <= 0):
        out.append(ctx.d("FD501", f"run-job task {task.key!r}: job id must be a positive integer, got "
                         f"{kind.job_id!r}", location, f"{path}.run_job_task.job_id"))
    if (kind.job_id is None) == (kind.job_key is None):
        out.append(ctx.d("FD501", f"run-job task {task.key!r} needs exactly one of a job id or a flowdef job",
                         location, f"{path}.run_job_task.job_id"))
    return out  # references to other jobs of the project: flowdef.validate.jobrefs


def _subscribers(ctx, task, subs, path: str, limit: int | None, location) -> list[Diagnostic]:
    out = []
    if limit is not None and len(subs) > limit:
        out.append(ctx.d("FD502", f"task {task.key!r} has {len(subs)} subscribers; at most {limit} are allowed",
                         location, path))
    for i, s in enumerate(subs):
        if (getattr(s, "user_name", None) is None) == (getattr(s, "destination_id", None) is None):
            out.append(ctx.d("FD501", f"subscriber {i} of task {task.key!r} needs exactly one of a user name or a "
                             "destination id (Subscriber.user(...) / Subscriber.destination(...))",
                             location, f"{path}[{i}]"))
    return out


def alert_rules(ctx, task: TaskSpec, kind: AlertTask, path: str, location) -> list[Diagnostic]:
    out = []
    if (kind.alert_id is None) == (kind.workspace_path is None):
        out.append(ctx.d("FD501", f"alert task {task.key!r} needs exactly one of alert_id or workspace_path=, got "
                         f"{'both' if kind.alert_id is not None else 'neither'}", location, f"{path}.alert_task"))
    out += _subscribers(ctx, task, kind.subscribers, f"{path}.alert_task.subscribers", MAX_ALERT_SUBSCRIBERS,
                        location)
    return out


def _warehouse(ctx, task: TaskSpec, kind, path: str, location) -> list[Diagnostic]:
    """FD405: a ``sql_task`` runs on a SQL warehouse, the task's or the target's."""
    if kind.warehouse_id or ctx.target.warehouse_id:
        return []
    return [ctx.d(
        "FD405",
        f"SQL task {task.key!r} has no SQL warehouse: set warehouse_id in target {ctx.target.name!r} or pass "
        "warehouse='<id>'",
        location, f"{path}.sql_task.warehouse_id",
    )]


def sql_file_rules(ctx, task: TaskSpec, kind, path: str, location) -> list[Diagnostic]:
    # a top-level SQL file task's warehouse is checked with its template (flowdef.validate.sql)
    return _warehouse(ctx, task, kind, path, location) if task.in_for_each else []


def _id_and_subscribers(field: str, wire: str) -> KindRules:
    """The rules of the SQL query / alert / dashboard and AI/BI dashboard kinds: an id, well-formed subscribers
    (and a SQL warehouse for the ``sql_task`` ones)."""

    def rules(ctx, task: TaskSpec, kind, path: str, location) -> list[Diagnostic]:
        out = _warehouse(ctx, task, kind, path, location) if wire.startswith("sql_task.") else []
        if _blank(getattr(kind, field)):
            out.append(ctx.d("FD501", f"task {task.key!r} needs a {field}", location, f"{path}.{wire}"))
        subs = getattr(kind, "subscriptions", None) or getattr(kind, "subscribers", ())
        out += _subscribers(ctx, task, subs, f"{path}.{wire.rsplit('.', 1)[0]}.subscriptions", None, location)
        return out

    return rules


sql_query_rules = _id_and_subscribers("query_id", "sql_task.query.query_id")
sql_alert_rules = _id_and_subscribers("alert_id", "sql_task.alert.alert_id")
sql_dashboard_rules = _id_and_subscribers("dashboard_id", "sql_task.dashboard.dashboard_id")
dashboard_rules = _id_and_subscribers("dashboard_id", "dashboard_task.dashboard_id")


def power_bi_rules(ctx, task: TaskSpec, kind: PowerBiTask, path: str, location) -> list[Diagnostic]:
    out = []
    if _blank(kind.connection_resource_name):
        out.append(ctx.d("FD501", f"Power BI task {task.key!r} needs connection= (a Unity Catalog connection to "
                         "Power BI)", location, f"{path}.power_bi_task.connection_resource_name"))
    if kind.model is not None:
        m = kind.model
        if m.storage_mode is not None:
            out += check_enum(ctx, "Power BI storage_mode", m.storage_mode, POWER_BI_STORAGE_MODES, location,
                              f"{path}.power_bi_task.power_bi_model.storage_mode")
        if m.authentication_method is not None:
            out += check_enum(ctx, "Power BI authentication_method", m.authentication_method, POWER_BI_AUTH,
                              location, f"{path}.power_bi_task.power_bi_model.authentication_method")
    for i, t in enumerate(kind.tables):
        if t.storage_mode is not None:
            out += check_enum(ctx, "Power BI storage_mode", t.storage_mode, POWER_BI_STORAGE_MODES, location,
                              f"{path}.power_bi_task.tables[{i}].storage_mode")
    return out


def clean_room_notebook_rules(ctx, task: TaskSpec, kind: CleanRoomNotebookTask, path: str,
                              location) -> list[Diagnostic]:
    return [ctx.d("FD501", f"clean-room notebook task {task.key!r} needs a {field}", location,
                  f"{path}.clean_rooms_notebook_task.{field}")
            for field in ("clean_room_name", "notebook_name") if _blank(getattr(kind, field))]


# ----------------------------------------------------------------------------------------------------------------
# control flow


def condition_rules(ctx, task: TaskSpec, kind: ConditionTask, path: str, location) -> list[Diagnostic]:
    out = []
    op = getattr(kind, "op", None)
    op_text = getattr(op, "value", op)
    if op_text not in CONDITION_OPS:
        text = str(op_text)
        guess = _OP_SYMBOLS.get(text.strip().upper()) or (text.upper() if text.upper() in CONDITION_OPS else None)
        hint = f"; did you mean {guess!r}?" if guess else suggest(text, CONDITION_OPS)
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
            why = _numeric_operand(ctx.job, value)
            if why:
                where = getattr(value, "location", None) or location
                out.append(ctx.d(
                    "FD113",
                    f"condition {op_text} of task {task.key!r} compares strings, and its {side} operand {why}: "
                    f"\"12.0\" is not equal to \"12\" here — compare numbers with GREATER_THAN_OR_EQUAL / "
                    "LESS_THAN_OR_EQUAL (numeric), or publish a string or boolean value",
                    where, f"{path}.condition_task.{side}",
                ))
    if task.retry is not None:
        out.append(ctx.d("FD501", f"condition task {task.key!r} cannot retry (the Jobs API does not support "
                         "retries on condition tasks); remove retry=", location, path))
    return out


def _numeric_operand(job: JobSpec, value) -> str:
    if not isinstance(value, str) or not value:
        return ""
    if "{{" not in value:
        return f"{value!r} looks like a number" if _NUMBER.match(value) else ""
    from flowdef.jobsapi.refs import find_refs

    refs = find_refs(value)
    if len(refs) != 1 or refs[0].kind != "tasks.values" or len(refs[0].text) != len(value.strip()):
        return ""
    producer_key, name = refs[0].parts[1], refs[0].parts[3]
    for t in job.tasks:
        if t.key == producer_key:
            declared = dict(t.values).get(name)
            if declared in _NUMERIC_TYPES:
                return f"is task value {producer_key}.{name}, declared {declared}"
            return ""
    return ""


def for_each_rules(ctx, task: TaskSpec, kind: ForEachTask, path: str, location) -> list[Diagnostic]:
    """The for-each task's own fields; its nested task gets every task's rules (flowdef.validate.structure)."""
    out = []
    where = f"{path}.for_each_task"
    inner = kind.task
    if inner is None:
        out.append(ctx.d("FD510", f"for-each task {task.key!r} has no nested task; declare it on the handle, e.g. "
                         f"job.for_each({task.key!r}, inputs=...).notebook('process', 'nb/item.py', "
                         "params={'item': INPUT})", location, f"{where}.task"))
    concurrency = kind.concurrency
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            out.append(ctx.d("FD501", f"for-each concurrency must be a positive integer, got {concurrency!r}",
                             location, f"{where}.concurrency"))
        elif concurrency > MAX_FOR_EACH_CONCURRENCY:
            out.append(ctx.d(
                "FD502",
                f"for-each concurrency {concurrency} is above {MAX_FOR_EACH_CONCURRENCY}, the documented maximum "
                "number of concurrent iterations; the service may reject or cap it",
                location, f"{where}.concurrency", severity="warning",
            ))
    if inner is not None and isinstance(inner.kind, ForEachTask):
        out.append(ctx.d(
            "FD111",
            f"for-each task {task.key!r} runs another for-each task ({inner.key!r}); the Jobs API does not allow "
            "nesting — iterate over the combined list in one for-each, or run a job (run-job task) per element",
            inner.location or location, f"{where}.task",
        ))
    return out
