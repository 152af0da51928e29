"""The DSL call of each task kind, for :mod:`flowdef.convert.codegen` (split out so each file stays small).

``kind_call(writer, task)`` gives ``(method, positional arguments, kind-specific keywords)``: the shared options
(dependencies, retries, compute, ...) are the writer's.
"""

from __future__ import annotations

from typing import Any

from flowdef.convert.codegen_parts import _argv_node, _inputs, _map, _operand, _opt_str, _subs, _true
from flowdef.convert.pysource import Atom, Group, Kw, Node, Pair, Str
from flowdef.model.spec import TaskSpec
from flowdef.model.tasks import (
    OP_ALIASES, AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask,
    NotebookTask, PipelineTask, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask, RunJobTask, SparkJarTask,
    SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask,
)

_SYMBOL = {v: k for k, v in OP_ALIASES.items()}


class KindError(ValueError):
    """The kind holds something its DSL method cannot say."""


def kind_call(self: Any, task: TaskSpec) -> tuple[str, list[Node], list[Node]]:
    """The DSL method of a task's kind, its positional arguments and its kind-specific keywords."""
    k = task.kind
    key = Str(task.key)
    v = self.value
    if isinstance(k, FunctionTask):
        return "task", [], []
    if isinstance(k, PythonFileTask):
        return "python_file", [key, Str(k.path)], self._kws(params=_argv_node(self, list(k.parameters)))
    if isinstance(k, NotebookTask):
        return "notebook", [key, Str(k.path)], self._kws(params=_map(self, k.parameters),
                                                         warehouse=_opt_str(k.warehouse_id))
    if isinstance(k, SqlFileTask):
        return "sql", [key, Str(k.template)], self._kws(params=_map(self, k.parameters),
                                                        vars=_map(self, k.template_vars),
                                                        warehouse=_opt_str(k.warehouse_id))
    if isinstance(k, PythonWheelTask):
        if k.parameters and k.named_parameters:
            raise KindError(f"task {task.key}: a wheel task with both parameters and named_parameters")
        params = _map(self, k.named_parameters) if k.named_parameters else \
            (v(list(k.parameters)) if k.parameters else None)
        return "python_wheel", [key, Str(k.package_name), Str(k.entry_point)], self._kws(params=params)
    if isinstance(k, SparkJarTask):
        return "spark_jar", [key, Str(k.main_class_name)], self._kws(
            params=v(list(k.parameters)) if k.parameters else None)
    if isinstance(k, SqlQueryTask):
        return "sql_query", [key, Str(k.query_id)], self._kws(params=_map(self, k.parameters),
                                                              warehouse=_opt_str(k.warehouse_id))
    if isinstance(k, SqlAlertTask):
        return "sql_alert", [key, Str(k.alert_id)], self._kws(
            subscribers=_subs(self, k.subscriptions), pause_subscriptions=_true(k.pause_subscriptions),
            warehouse=_opt_str(k.warehouse_id))
    if isinstance(k, SqlDashboardTask):
        return "sql_dashboard", [key, Str(k.dashboard_id)], self._kws(
            subscribers=_subs(self, k.subscriptions), custom_subject=_opt_str(k.custom_subject),
            pause_subscriptions=_true(k.pause_subscriptions), params=_map(self, k.parameters),
            warehouse=_opt_str(k.warehouse_id))
    if isinstance(k, DbtTask):
        return "dbt", [key, v(list(k.commands))], self._kws(
            project_directory=_opt_str(k.project_directory), profiles_directory=_opt_str(k.profiles_directory),
            warehouse=_opt_str(k.warehouse_id), catalog=_opt_str(k.catalog), schema=_opt_str(k.schema))
    if isinstance(k, PipelineTask):
        first = [Str(k.pipeline_id)] if k.pipeline_id is not None else []
        return "pipeline", [key, *first], self._kws(name=_opt_str(k.pipeline_name),
                                                    full_refresh=_true(k.full_refresh))
    if isinstance(k, RunJobTask):
        target: Node = Atom(repr(k.job_id)) if k.job_id is not None else Str(k.job_key or "")
        if isinstance(k.job_id, str):
            target = Str(k.job_id)
        return "run_job", [key, target], self._kws(params=_map(self, k.job_parameters))
    if isinstance(k, ConditionTask):
        op = Str(_SYMBOL.get(k.op, k.op))
        return "condition", [key, _operand(self, k.left), op, _operand(self, k.right)], []
    if isinstance(k, ForEachTask):
        inputs = _inputs(self, k.inputs)
        return "for_each", [key], [Kw("inputs", inputs)] + self._kws(
            concurrency=Atom(repr(k.concurrency)) if k.concurrency is not None else None)
    if isinstance(k, DashboardTask):
        return "dashboard", [key, Str(k.dashboard_id)], self._kws(
            warehouse=_opt_str(k.warehouse_id), subscribers=_subs(self, k.subscribers),
            custom_subject=_opt_str(k.custom_subject), paused=_true(k.paused))
    if isinstance(k, AlertTask):
        first = [Str(k.alert_id)] if k.alert_id is not None else []
        return "alert", [key, *first], self._kws(workspace_path=_opt_str(k.workspace_path),
                                                 warehouse=_opt_str(k.warehouse_id),
                                                 subscribers=_subs(self, k.subscribers))
    if isinstance(k, PowerBiTask):
        tables = Group("[", [Str(f"{t.catalog}.{t.schema}.{t.name}") if t.storage_mode is None
                             else self.model(t) for t in k.tables], "]") if k.tables else None
        return "power_bi", [key], self._kws(
            connection=Str(k.connection_resource_name), model=self.model(k.model) if k.model else None,
            tables=tables, warehouse=_opt_str(k.warehouse_id),
            refresh_after_update=Atom(repr(k.refresh_after_update)) if k.refresh_after_update is not None
            else None)
    if isinstance(k, CleanRoomNotebookTask):
        return "clean_room_notebook", [key, Str(k.clean_room_name), Str(k.notebook_name)], self._kws(
            params=_map(self, k.parameters), etag=_opt_str(k.etag))
    if isinstance(k, RawTask):  # its other raw fields (extra) go into the same dict: raw_task takes no extra=
        fields = [*k.fields, *task.extra]
        return "raw_task", [key, Group("{", [Pair(Str(f), v(x)) for f, x in fields], "}")], []
    raise KindError(f"task {task.key}: no DSL method for {type(k).__name__}")
