"""SQL task rules: the template exists, parses, declares its variables, and its ``:markers`` are parameters."""

from __future__ import annotations

from flowdef.diagnostics import Diagnostic
from flowdef.model.tasks import SqlFileTask
from flowdef.validate.structure import JobContext


def check(ctx: JobContext) -> list[Diagnostic]:
    """Every SQL file task, the nested task of a for-each task included (compile renders those too)."""
    out: list[Diagnostic] = []
    sql_tasks = ctx.sql_tasks
    if not sql_tasks:
        return out
    from flowdef.compile import templates
    for task in sql_tasks:
        path = f"tasks.{task.key}.sql_task"
        kind = task.kind
        assert isinstance(kind, SqlFileTask)
        # (a nested task's warehouse is checked with the other compute rules, validation/compute.py)
        if not task.in_for_each and not (kind.warehouse_id or ctx.target.warehouse_id):
            out.append(ctx.d(
                "FD405",
                f"SQL task {task.key!r} has no SQL warehouse: set warehouse_id in target {ctx.target.name!r} "
                "or pass job.sql(..., warehouse='<id>')",
                task.location, f"{path}.warehouse_id",
            ))
        for problem in templates.check(ctx.config, ctx.job, task, ctx.target):
            out.append(ctx.d(problem.code, problem.message, problem.location, f"{path}.file"))
    return out
