"""One entry per task kind: everything flowdef knows about a kind beyond its model class, in one table.

An entry says which ``*_task`` field the kind writes, how the model encodes to that JSON
(:mod:`flowdef.wire.tasks`) and decodes back from it (:mod:`flowdef.wire.decode`), whether the task needs
compute, which files it makes the payload refer to (:mod:`flowdef.wire.artifacts`), the rules of its own fields
(:mod:`flowdef.wire.kind_rules`) and the DSL methods that declare it.  Compile, decode, validation and the
artifact list all read this table; tests/test_kind_registry.py fails when a kind lacks an entry or an entry
lacks a part.

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
           artifacts: a.KindArtifacts = a.no_artifacts, rules: r.KindRules = r.no_rules) -> KindEntry:
    return KindEntry(model, field, (dsl,), needs_compute, _body(field, encode_body), decode, artifacts, rules)


# Order matters where kinds share a field: decoding tries them in this order (a function task is a
# spark_python_task running flowdef's entry script, so it is tried before a plain Python file).
ENTRIES: tuple[KindEntry, ...] = (
    _entry(m.FunctionTask, "spark_python_task", "task", e.encode_function, d.decode_function, needs_compute=True,
           artifacts=a.function_artifacts, rules=r.function_rules),
    _entry(m.PythonFileTask, "spark_python_task", "python_file", e.encode_python_file, d.decode_python_file,
           needs_compute=True, artifacts=a.python_file_artifacts, rules=r.python_file_rules),
    # notebooks without compute run on serverless notebook compute
    _entry(m.NotebookTask, "notebook_task", "notebook", e.encode_notebook, d.decode_notebook,
           artifacts=a.notebook_artifacts, rules=r.notebook_rules),
    _entry(m.SqlFileTask, "sql_task", "sql", e.encode_sql_file, d.decode_sql_file, artifacts=a.sql_file_artifacts,
           rules=r.sql_file_rules),
    _entry(m.SqlQueryTask, "sql_task", "sql_query", e.encode_sql_query, d.decode_sql_query,
           rules=r.sql_query_rules),
    _entry(m.SqlAlertTask, "sql_task", "sql_alert", e.encode_sql_alert, d.decode_sql_alert,
           rules=r.sql_alert_rules),
    _entry(m.SqlDashboardTask, "sql_task", "sql_dashboard", e.encode_sql_dashboard, d.decode_sql_dashboard,
           rules=r.sql_dashboard_rules),
    _entry(m.PythonWheelTask, "python_wheel_task", "python_wheel", e.encode_python_wheel, d.decode_python_wheel,
           needs_compute=True, rules=r.python_wheel_rules),
    _entry(m.SparkJarTask, "spark_jar_task", "spark_jar", e.encode_spark_jar, d.decode_spark_jar,
           needs_compute=True, rules=r.spark_jar_rules),
    _entry(m.DbtTask, "dbt_task", "dbt", e.encode_dbt, d.decode_dbt, needs_compute=True,
           artifacts=a.dbt_artifacts, rules=r.dbt_rules),
    _entry(m.PipelineTask, "pipeline_task", "pipeline", e.encode_pipeline, d.decode_pipeline,
           rules=r.pipeline_rules),
    _entry(m.RunJobTask, "run_job_task", "run_job", e.encode_run_job, d.decode_run_job, rules=r.run_job_rules),
    _entry(m.ConditionTask, "condition_task", "condition", e.encode_condition, d.decode_condition,
           rules=r.condition_rules),
    KindEntry(m.ForEachTask, "for_each_task", ("for_each",), False, _for_each, d.decode_for_each, a.no_artifacts,
              r.for_each_rules),
    _entry(m.DashboardTask, "dashboard_task", "dashboard", e.encode_dashboard, d.decode_dashboard,
           rules=r.dashboard_rules),
    _entry(m.AlertTask, "alert_task", "alert", e.encode_alert, d.decode_alert, rules=r.alert_rules),
    _entry(m.PowerBiTask, "power_bi_task", "power_bi", e.encode_power_bi, d.decode_power_bi,
           rules=r.power_bi_rules),
    _entry(m.CleanRoomNotebookTask, "clean_rooms_notebook_task", "clean_room_notebook", e.encode_clean_room_notebook,
           d.decode_clean_room_notebook, rules=r.clean_room_notebook_rules),
    # raw task fields are checked against the API's field table by flowdef.validate.raw
    KindEntry(m.RawTask, None, ("raw_task",), False, _raw, None, a.no_artifacts, r.no_rules),
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
