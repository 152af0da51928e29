"""What a function task receives at run time, and the entry point Databricks runs.

On Databricks a function task is a ``spark_python_task`` running ``<root>/lib/flowdef_entry.py`` with
``--job/--task/--module/--function/--param`` arguments.  The entry script imports the user's module, finds the
function and calls it with a :class:`TaskContext`.  Example task::

    @job.task(values={"rows": int})
    def count(ctx: TaskContext) -> None:
        n = ctx.spark.table(f"{ctx.params['catalog']}.silver.claims").count()
        ctx.task_values.set("rows", n)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from flowdef.jobsapi.facts import MAX_TASK_VALUE_BYTES  # noqa: E402


class TaskValueError(ValueError):
    pass


def json_task_value(key: str, value: Any) -> str:
    """``value`` as the JSON text a task value is kept as; :class:`TaskValueError` when it cannot be one (not
    JSON-serialisable, or over the service's 48 KiB)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TaskValueError(f"task value {key!r} must be JSON-serialisable: {exc}") from None
    if len(text.encode("utf-8")) > MAX_TASK_VALUE_BYTES:
        raise TaskValueError(f"task value {key!r} is larger than 48 KiB once JSON-encoded")
    return text


class _Store:
    """Where task values live: dbutils on Databricks, a JSON folder locally, memory otherwise."""

    def __init__(self) -> None:
        self._memory: dict[tuple[str, str], Any] = {}
        self._folder = os.environ.get("FLOWDEF_TASK_VALUES_DIR")
        self._dbutils = None
        if os.environ.get("DATABRICKS_RUNTIME_VERSION") and not self._folder:
            try:  # pragma: no cover - only on a Databricks cluster
                from databricks.sdk.runtime import dbutils

                self._dbutils = dbutils
            except Exception:
                self._dbutils = None

    def _file(self, task: str) -> Path:
        return Path(self._folder) / f"{task}.json"  # type: ignore[arg-type]

    def set(self, task: str, key: str, value: Any) -> None:
        if self._dbutils is not None:  # pragma: no cover
            self._dbutils.jobs.taskValues.set(key=key, value=value)
        elif self._folder:
            path = self._file(task)
            data = json.loads(path.read_text()) if path.exists() else {}
            data[key] = value
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, sort_keys=True))
        else:
            self._memory[(task, key)] = value

    def get(self, task: str, key: str, default: Any, debug_value: Any) -> Any:
        if self._dbutils is not None:  # pragma: no cover
            return self._dbutils.jobs.taskValues.get(taskKey=task, key=key, default=default, debugValue=debug_value)
        if self._folder:
            path = self._file(task)
            data = json.loads(path.read_text()) if path.exists() else {}
            return data.get(key, default if default is not None else debug_value)
        return self._memory.get((task, key), default if default is not None else debug_value)


class TaskValues:
    """``ctx.task_values.set(key, value)`` / ``get(task_key, key, default)`` — Databricks task values."""

    def __init__(self, task: str, declared: dict[str, str] | None = None, store: _Store | None = None) -> None:
        self._task = task
        self._declared = declared or {}
        self._store = store or _Store()

    def set(self, key: str, value: Any) -> None:
        if self._declared and key not in self._declared:
            raise TaskValueError(
                f"task {self._task!r} sets undeclared task value {key!r}; declare it in "
                f"@job.task(values={{...}}) (declared: {', '.join(sorted(self._declared))})"
            )
        expected = self._declared.get(key)
        if expected in ("int", "float", "str", "bool") and not _is_type(value, expected):
            raise TaskValueError(f"task value {key!r} is declared {expected}, got {type(value).__name__}: {value!r}")
        json_task_value(key, value)  # refused here, at the user's call, not when the store writes it
        self._store.set(self._task, key, value)

    def get(self, task_key: str, key: str, default: Any = None, debug_value: Any = None) -> Any:
        return self._store.get(task_key, key, default, debug_value)


def _is_type(value: Any, name: str) -> bool:
    if name == "bool":
        return isinstance(value, bool)
    if name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


class TaskContext:
    """Handed to a function task: ``params`` (job + task parameters, strings), ``task_values``, ``spark``."""

    def __init__(
        self,
        *,
        job: str,
        task: str,
        params: dict[str, str] | None = None,
        task_values: TaskValues | None = None,
        spark: Any = None,
    ) -> None:
        self.job = job
        self.task = task
        self.params = dict(params or {})
        self.task_values = task_values or TaskValues(task)
        self._spark = spark

    @property
    def spark(self) -> Any:
        """The SparkSession (created on first use on Databricks; injected by local runs and tests)."""
        if self._spark is None:
            from pyspark.sql import SparkSession  # pragma: no cover - Databricks only

            self._spark = SparkSession.builder.getOrCreate()
        return self._spark

    def __repr__(self) -> str:
        return f"TaskContext(job={self.job!r}, task={self.task!r}, params={self.params!r})"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowdef_entry", description="Run one flowdef function task.")
    p.add_argument("--job", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--module", required=True)
    p.add_argument("--function", required=True)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    return p


def resolve(module_name: str, qualname: str):
    """The handle (or plain function) ``qualname`` in ``module_name``."""
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    params: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"flowdef: --param expects NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        params[name] = value
    target = resolve(args.module, args.function)
    function = getattr(target, "function", target)
    declared: dict[str, str] = {}
    job = getattr(target, "job", None)
    if job is not None:
        for spec in job._tasks:
            if spec.key == args.task:
                declared = dict(spec.values)
    ctx = TaskContext(job=args.job, task=args.task, params=params, task_values=TaskValues(args.task, declared))
    print(f"flowdef: job {args.job!r} task {args.task!r}: {args.module}.{args.function}", flush=True)
    function(ctx)
    return 0


__all__ = ["TaskContext", "TaskValues", "TaskValueError", "main"]
