"""Task kinds: what a task runs.  Pure values; the compiler maps each kind to its ``*_task`` wire field.

Kinds are created by the :class:`flowdef.Job` DSL methods (``@job.task``, ``job.python_file``,
``job.notebook``, ``job.sql``); users rarely build them directly.
"""

from __future__ import annotations

import attrs


def _pairs(value) -> tuple[tuple[str, str], ...]:
    """Parameters keep the user's order (it is argv order for script tasks)."""
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), v) for k, v in value.items())
    return tuple(value)


@attrs.frozen
class FunctionTask:
    """A Python function whose body is the task.  Runs on Databricks as a ``spark_python_task`` executing
    flowdef's entry script, which imports ``module`` and calls ``function`` with a :class:`TaskContext`."""

    module: str
    function: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    needs_compute = True


@attrs.frozen
class PythonFileTask:
    """A Python (PySpark) script.  ``path`` is relative to the project root (uploaded as a workspace file) or
    an absolute workspace / cloud path used as is.  Parameters are argv; a dict ``{"catalog": x}`` becomes
    ``["--catalog", x]``."""

    path: str
    parameters: tuple = attrs.field(default=(), converter=lambda v: tuple(v) if v is not None else ())

    needs_compute = True


@attrs.frozen
class NotebookTask:
    """A notebook: a project file (uploaded as a notebook) or an absolute workspace path."""

    path: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None

    needs_compute = False  # notebooks without compute run on serverless notebook compute


@attrs.frozen
class SqlFileTask:
    """A SQL file rendered from a jinja2 template in ``sql_templates/`` for each target.

    Run-time values reach the SQL as named parameter markers (``:catalog``, ``IDENTIFIER(:catalog || '.x')``):
    job parameters are pushed down by the service; ``parameters`` adds task-level ones.
    ``template_vars`` are compile-time jinja variables."""

    template: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    warehouse_id: str | None = None
    template_vars: tuple[tuple[str, object], ...] = attrs.field(default=(), converter=_pairs)

    needs_compute = False


TaskKind = FunctionTask | PythonFileTask | NotebookTask | SqlFileTask
