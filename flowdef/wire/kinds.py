"""One entry per task kind: everything flowdef knows about a kind beyond its model class, in one table.

An entry says which ``*_task`` field the kind writes, how the model encodes to that JSON
(:mod:`flowdef.wire.tasks`) and decodes back from it (:mod:`flowdef.wire.decode`), whether the task needs
compute, which files it makes the payload refer to (:mod:`flowdef.wire.artifacts`), the rules of its own fields
(:mod:`flowdef.wire.kind_rules`), where its strings sit (searched for references and credentials by
:mod:`flowdef.validate.references`) and the DSL methods that declare it.  Compile, decode, validation and the
artifact list all read this table; tests/test_kind_registry.py fails when a kind lacks an entry, an entry
lacks a part, or a field of a kind is neither among its strings nor said to be something else.

Adding a kind: its model class in :mod:`flowdef.model.tasks` (and the ``TaskKind`` union), one entry here (with
its encoder, decoder, rules), the DSL method in :mod:`flowdef.dsl.declare`, a job in tests/fixtures/kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flowdef.model import tasks as m
from flowdef.wire import artifacts as a
from flowdef.wire import decode as d
from flowdef.wire import kind_rules as r
from flowdef.wire import tasks as e

# encode(job, task, kind, target, encode_task) -> the task-level fields the kind writes ({field: body})
Encode = Callable[..., dict]
# decode(body of the *_task field, DecodeContext) -> kind, or None when this kind does not describe the body
Decode = Callable[[dict, Any], Any]

# The shapes of a kind's strings (``KindEntry.strings``: model field, shape, path of the value in the task's JSON).
TEXT = "text"  # one string, or None
NAMED = "named"  # (name, value) pairs, an object on the wire: each value judged under its name too
ARGV = "argv"  # a script's arguments: each value judged under the name of its ``--name`` too
LIST = "list"  # a list of strings
NESTED = "nested"  # values of their own (subscribers, tables): every string inside them
VARS = "vars"  # compile-time template variables: searched for credentials only (never substituted by the service)
RAW = "raw"  # raw task fields: every string inside them, at its own path
Strings = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class KindEntry:
    model: type
    field: str | None  # the *_task field; None: RawTask, whose fields are emitted verbatim
    dsl: tuple[str, ...]  # the methods of flowdef.Job that declare the kind
    needs_compute: bool  # must name compute (or get the job's default); False: runs without a cluster
    encode: Encode
    decode: Decode | None  # None only for RawTask (anything no typed kind decodes becomes one)
    artifacts: a.KindArtifacts
    rules: r.KindRules
    strings: Strings  # every field that holds the user's strings: (field, shape, path in the task's JSON)
    # fields that hold strings flowdef turns into something else (a template name, a function's module, a job key
    # resolved at deploy time, an operator checked by its rule): not searched as they are
    internal: tuple[str, ...] = ()


def _body(field: str, encode_body: Callable[..., dict]) -> Encode:
    def encode(job, task, kind, target, encode_task) -> dict:
        return {field: encode_body(job, task, kind, target)}

    return encode


def _for_each(job, task, kind: m.ForEachTask, target, encode_task) -> dict:
    body: dict = {"inputs": kind.inputs}
    if kind.task is not None:
        body["task"] = encode_task(job, kind.task, target)
    e.put(body, "concurrency", kind.concurrency)
    return {"for_each_task": body}


def _raw(job, task, kind: m.RawTask, target, encode_task) -> dict:
    return dict(kind.fields)


def _entry(model: type, field: str, dsl: str, encode_body, decode, *, needs_compute: bool = False,
           artifacts: a.KindArtifacts = a.no_artifacts, rules: r.KindRules = r.no_rules, strings: Strings,
           internal: tuple[str, ...] = ()) -> KindEntry:
    return KindEntry(model, field, (dsl,), needs_compute, _body(field, encode_body), decode, artifacts, rules,
                     strings, internal)


# Order matters where kinds share a field: decoding tries them in this order (a function task is a
# spark_python_task running flowdef's entry script, so it is tried before a plain Python file).
ENTRIES: tuple[KindEntry, ...] = (
    _entry(m.FunctionTask, "spark_python_task", "task", e.encode_function, d.decode_function, needs_compute=True,
           artifacts=a.function_artifacts, rules=r.function_rules,
           strings=(("parameters", NAMED, "spark_python_task.parameters"),), internal=("module", "function")),
    _entry(m.PythonFileTask, "spark_python_task", "python_file", e.encode_python_file, d.decode_python_file,
           needs_compute=True, artifacts=a.python_file_artifacts, rules=r.python_file_rules,
           strings=(("path", TEXT, "spark_python_task.python_file"),
                    ("parameters", ARGV, "spark_python_task.parameters"))),
    # notebooks without compute run on serverless notebook compute
    _entry(m.NotebookTask, "notebook_task", "notebook", e.encode_notebook, d.decode_notebook,
           artifacts=a.notebook_artifacts, rules=r.notebook_rules,
           strings=(("path", TEXT, "notebook_task.notebook_path"),
                    ("parameters", NAMED, "notebook_task.base_parameters"),
                    ("warehouse_id", TEXT, "notebook_task.warehouse_id"))),
    _entry(m.SqlFileTask, "sql_task", "sql", e.encode_sql_file, d.decode_sql_file, artifacts=a.sql_file_artifacts,
           rules=r.sql_file_rules,
           strings=(("parameters", NAMED, "sql_task.parameters"), ("warehouse_id", TEXT, "sql_task.warehouse_id"),
                    ("template_vars", VARS, "sql_task.vars")), internal=("template",)),
    _entry(m.SqlQueryTask, "sql_task", "sql_query", e.encode_sql_query, d.decode_sql_query,
           rules=r.sql_query_rules,
           strings=(("query_id", TEXT, "sql_task.query.query_id"), ("parameters", NAMED, "sql_task.parameters"),
                    ("warehouse_id", TEXT, "sql_task.warehouse_id"))),
    _entry(m.SqlAlertTask, "sql_task", "sql_alert", e.encode_sql_alert, d.decode_sql_alert,
           rules=r.sql_alert_rules,
           strings=(("alert_id", TEXT, "sql_task.alert.alert_id"),
                    ("subscriptions", NESTED, "sql_task.alert.subscriptions"),
                    ("warehouse_id", TEXT, "sql_task.warehouse_id"))),
    _entry(m.SqlDashboardTask, "sql_task", "sql_dashboard", e.encode_sql_dashboard, d.decode_sql_dashboard,
           rules=r.sql_dashboard_rules,
           strings=(("dashboard_id", TEXT, "sql_task.dashboard.dashboard_id"),
                    ("subscriptions", NESTED, "sql_task.dashboard.subscriptions"),
                    ("custom_subject", TEXT, "sql_task.dashboard.custom_subject"),
                    ("parameters", NAMED, "sql_task.parameters"), ("warehouse_id", TEXT, "sql_task.warehouse_id"))),
    _entry(m.PythonWheelTask, "python_wheel_task", "python_wheel", e.encode_python_wheel, d.decode_python_wheel,
           needs_compute=True, rules=r.python_wheel_rules,
           strings=(("package_name", TEXT, "python_wheel_task.package_name"),
                    ("entry_point", TEXT, "python_wheel_task.entry_point"),
                    ("parameters", ARGV, "python_wheel_task.parameters"),
                    ("named_parameters", NAMED, "python_wheel_task.named_parameters"))),
    _entry(m.SparkJarTask, "spark_jar_task", "spark_jar", e.encode_spark_jar, d.decode_spark_jar,
           needs_compute=True, rules=r.spark_jar_rules,
           strings=(("main_class_name", TEXT, "spark_jar_task.main_class_name"),
                    ("parameters", ARGV, "spark_jar_task.parameters"))),
    _entry(m.DbtTask, "dbt_task", "dbt", e.encode_dbt, d.decode_dbt, needs_compute=True,
           artifacts=a.dbt_artifacts, rules=r.dbt_rules,
           strings=(("commands", LIST, "dbt_task.commands"), ("project_directory", TEXT, "dbt_task.project_directory"),
                    ("profiles_directory", TEXT, "dbt_task.profiles_directory"),
                    ("warehouse_id", TEXT, "dbt_task.warehouse_id"), ("catalog", TEXT, "dbt_task.catalog"),
                    ("schema", TEXT, "dbt_task.schema"))),
    _entry(m.PipelineTask, "pipeline_task", "pipeline", e.encode_pipeline, d.decode_pipeline,
           rules=r.pipeline_rules, strings=(("pipeline_id", TEXT, "pipeline_task.pipeline_id"),),
           internal=("pipeline_name",)),
    _entry(m.RunJobTask, "run_job_task", "run_job", e.encode_run_job, d.decode_run_job, rules=r.run_job_rules,
           strings=(("job_parameters", NAMED, "run_job_task.job_parameters"),), internal=("job_key",)),
    _entry(m.ConditionTask, "condition_task", "condition", e.encode_condition, d.decode_condition,
           rules=r.condition_rules,
           strings=(("left", TEXT, "condition_task.left"), ("right", TEXT, "condition_task.right")),
           internal=("op",)),
    # the nested task's strings are its own kind's (the reference rules walk it as a task)
    KindEntry(m.ForEachTask, "for_each_task", ("for_each",), False, _for_each, d.decode_for_each, a.no_artifacts,
              r.for_each_rules, (("inputs", TEXT, "for_each_task.inputs"),)),
    _entry(m.DashboardTask, "dashboard_task", "dashboard", e.encode_dashboard, d.decode_dashboard,
           rules=r.dashboard_rules,
           strings=(("dashboard_id", TEXT, "dashboard_task.dashboard_id"),
                    ("warehouse_id", TEXT, "dashboard_task.warehouse_id"),
                    ("subscribers", NESTED, "dashboard_task.subscription.subscribers"),
                    ("custom_subject", TEXT, "dashboard_task.subscription.custom_subject"))),
    _entry(m.AlertTask, "alert_task", "alert", e.encode_alert, d.decode_alert, rules=r.alert_rules,
           strings=(("alert_id", TEXT, "alert_task.alert_id"), ("workspace_path", TEXT, "alert_task.workspace_path"),
                    ("warehouse_id", TEXT, "alert_task.warehouse_id"),
                    ("subscribers", NESTED, "alert_task.subscribers"))),
    _entry(m.PowerBiTask, "power_bi_task", "power_bi", e.encode_power_bi, d.decode_power_bi,
           rules=r.power_bi_rules,
           strings=(("connection_resource_name", TEXT, "power_bi_task.connection_resource_name"),
                    ("model", NESTED, "power_bi_task.power_bi_model"), ("tables", NESTED, "power_bi_task.tables"),
                    ("warehouse_id", TEXT, "power_bi_task.warehouse_id"))),
    _entry(m.CleanRoomNotebookTask, "clean_rooms_notebook_task", "clean_room_notebook", e.encode_clean_room_notebook,
           d.decode_clean_room_notebook, rules=r.clean_room_notebook_rules,
           strings=(("clean_room_name", TEXT, "clean_rooms_notebook_task.clean_room_name"),
                    ("notebook_name", TEXT, "clean_rooms_notebook_task.notebook_name"),
                    ("parameters", NAMED, "clean_rooms_notebook_task.notebook_base_parameters"),
                    ("etag", TEXT, "clean_rooms_notebook_task.etag"))),
    # raw task fields are checked against the API's field table by flowdef.validate.raw
    KindEntry(m.RawTask, None, ("raw_task",), False, _raw, None, a.no_artifacts, r.no_rules, (("fields", RAW, ""),)),
)

BY_MODEL: dict[type, KindEntry] = {entry.model: entry for entry in ENTRIES}
BY_FIELD: dict[str, tuple[KindEntry, ...]] = {}
for _e in ENTRIES:
    if _e.field is not None:
        BY_FIELD[_e.field] = BY_FIELD.get(_e.field, ()) + (_e,)
WIRE_FIELDS = frozenset(BY_FIELD)
# The typed kinds' fields, with the DSL methods to use instead of a raw task (FD511).
DSL_OF_FIELD: dict[str, str] = {
    field: " or ".join("@job.task" if x.dsl[0] == "task" else f"job.{x.dsl[0]}(...)" for x in entries)
    for field, entries in BY_FIELD.items()
}


def entry(kind: Any) -> KindEntry:
    """The entry of a kind value, by exact type (a subclass of a kind is not that kind)."""
    found = BY_MODEL.get(type(kind))
    if found is None:
        raise TypeError(f"unknown task kind {kind!r}")
    return found


_NEEDS_COMPUTE = frozenset(e.model for e in ENTRIES if e.needs_compute)  # derived from the entries, for speed


def needs_compute(kind: Any) -> bool:
    """Must a task of this kind name compute (or get the job's default)?  From the kind's entry."""
    return type(kind) in _NEEDS_COMPUTE
