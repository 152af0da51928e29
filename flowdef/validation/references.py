"""Reference rules: every ``{{...}}`` in a job is parsed and checked against the real namespaces.

Typed references (``job.params.x``, ``handle.values.y``) carry the user's line; references written inside plain
strings are reported at the task's line.  A task-value reference must point at an *ancestor* (a task that has
finished before this one starts), and, when the producer declares its values, at a declared name.
"""

from __future__ import annotations

from typing import Iterator

import attrs

from flowdef.diagnostics import Diagnostic
from flowdef.refs import JobParamRef, Ref, TaskValueRef, find_refs
from flowdef.validation.structure import JobContext, _suggest


def strings(value, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a model value (attrs instances, tuples, dicts), with a path for messages."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):  # (name, value) pairs
                yield from strings(item[1], f"{path}.{item[0]}")
            else:
                yield from strings(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, f"{path}.{k}")
    elif attrs.has(type(value)):
        for f in attrs.fields(type(value)):
            if f.name == "location" or not f.eq:
                continue
            yield from strings(getattr(value, f.name), f"{path}.{f.name}")


def check(ctx: JobContext) -> list[Diagnostic]:
    job = ctx.job
    out: list[Diagnostic] = []
    params = job.param_names()
    tasks = {t.key: t for t in job.tasks}
    for p in job.params:
        out += _check_string(ctx, p.default, f"parameters.{p.name}", p.location, None, params, tasks)
    for trig in job.triggers:
        for path, value in strings(trig, "trigger"):
            for ref in find_refs(value):
                if ref.kind != "job.parameters":
                    out.append(ctx.d(
                        "FD205",
                        f"{ref.text} cannot be used in a trigger: only job parameters are allowed there "
                        "(replaced by their default for the target at compile time)",
                        trig.location, path,
                    ))
            out += [d for d in _check_string(ctx, value, path, trig.location, None, params, tasks)
                    if d.code != "FD201"]
    for task in job.tasks:
        base = f"tasks.{task.key}"
        for path, value in strings(task.kind, base):
            out += _check_string(ctx, value, path, task.location, task, params, tasks)
    return out


def _check_string(ctx, value: str, path: str, location, task, params: set, tasks: dict) -> list[Diagnostic]:
    refs = find_refs(value)
    if not refs:
        return []
    out = []
    where = value.location if isinstance(value, Ref) and value.location else location
    for ref in refs:
        if ref.kind == "malformed":
            out.append(ctx.d(
                "FD204",
                f"malformed reference {ref.text!r}: {ref.problem} (Databricks would leave it as literal text)",
                where, path,
            ))
        elif ref.kind in ("unknown", "deprecated"):
            out.append(ctx.d("FD205", f"{ref.text}: {ref.problem}", where, path,
                             severity="warning" if ref.kind == "deprecated" else None))
        elif ref.kind == "job.parameters":
            name = ref.parts[2]
            if name not in params:
                declared = ", ".join(sorted(params)) or "none"
                out.append(ctx.d(
                    "FD202",
                    f"reference to undeclared job parameter {name!r}{_suggest(name, params)} "
                    f"(declared: {declared}); add it to Job(params=...)",
                    where, path,
                ))
        elif ref.kind in ("tasks", "tasks.values"):
            out += _check_task_ref(ctx, ref, value, where, path, task, tasks)
        elif ref.kind == "input" and task is not None and not getattr(task, "in_for_each", False):
            out.append(ctx.d(
                "FD209",
                f"{ref.text} is only defined inside the task of a for-each task",
                where, path,
            ))
    return out


def _check_task_ref(ctx, ref, value, where, path, task, tasks) -> list[Diagnostic]:
    producer_key = ref.parts[1]
    if isinstance(value, TaskValueRef) and value.location:
        where = value.location
    producer = tasks.get(producer_key)
    if producer is None:
        return [ctx.d(
            "FD201",
            f"{ref.text} refers to unknown task {producer_key!r}{_suggest(producer_key, tasks)}",
            where, path,
        )]
    out = []
    if task is None:
        out.append(ctx.d(
            "FD201", f"{ref.text}: task values are not available in job parameters (no task has run yet)", where, path,
        ))
        return out
    if producer_key == task.key:
        if ref.kind == "tasks.values":
            out.append(ctx.d(
                "FD201",
                f"task {task.key!r} reads its own task value {ref.text}; read it from a downstream task",
                where, path,
            ))
        return out
    ancestry = ctx.ancestry
    if ancestry is not None and not ancestry.is_ancestor(producer_key, task.key):
        out.append(ctx.d(
            "FD201",
            f"task {task.key!r} reads {ref.text}, but {producer_key!r} is not upstream of {task.key!r} "
            f"(it may not have run yet); add depends_on=[{producer_key}] to {task.key!r}",
            where, path,
        ))
    if ref.kind == "tasks.values" and producer.values:
        name = ref.parts[3]
        declared = {n for n, _ in producer.values}
        if name not in declared:
            out.append(ctx.d(
                "FD203",
                f"task {producer_key!r} does not declare a task value {name!r}{_suggest(name, declared)} "
                f"(declared: {', '.join(sorted(declared))})",
                where, path,
            ))
    return out


_ = (JobParamRef,)
