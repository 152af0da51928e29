"""Task values and dynamic value references at run time [TV, IE, jobs-api.md section 8].

Task values are kept per run and per task: JSON values, at most 48 KiB each once serialised; a task that did
not run has none.  References (``{{job.parameters.p}}``, ``{{tasks.t.values.v}}``, ``{{input}}``...) are found by
the project's one reference grammar (:func:`find_refs`) and replaced by what the run knows; anything else stays
literal text, as on the service (policy MISSING_REFERENCE_IS_LITERAL).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdef.jobsapi.facts import MAX_TASK_VALUE_BYTES as MAX_VALUE_BYTES
from flowdef.jobsapi.refs import find_refs, substitute  # the one reference grammar
from flowdef.runs.policy import flag

__all__ = ["MAX_VALUE_BYTES", "Context", "check_values", "render", "resolve", "resolve_operand", "resolve_task"]

_MISSING = object()


def check_values(values: Mapping[str, Any]) -> str | None:
    """Why these task values cannot be set (the message the failing ``taskValues.set`` gives), or None."""
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            return f"task value keys must be non-empty strings, got {key!r}"
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return f"task value {key!r} is not JSON-serializable: {exc}"
        size = len(text.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            return f"task value {key!r} is {size} bytes as JSON; the limit is {MAX_VALUE_BYTES} (48 KiB)"
    return None


def render(value: Any) -> str:
    """A value as the text that replaces its reference: strings as they are, booleans ``true``/``false``, the
    rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Context:
    """What references can see while one task is being started."""

    params: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # task key -> its values
    states: Mapping[str, str] = field(default_factory=dict)  # task key -> final result state
    execution_counts: Mapping[str, int] = field(default_factory=dict)
    job_id: Any = None
    job_name: str | None = None
    run_id: Any = None
    repair_count: int = 0
    start_time_ms: int | None = None
    task_key: str | None = None
    execution_count: int = 0
    input: Any = _MISSING

    def lookup(self, kind: str, parts: tuple[str, ...]) -> Any:
        """The value of one well-formed reference, or ``_MISSING``."""
        if kind == "job.parameters":
            return self.params.get(parts[2], _MISSING)
        if kind == "tasks.values":
            return self.values.get(parts[1], {}).get(parts[3], _MISSING)
        if kind == "tasks":
            if parts[2] == "result_state" and parts[1] in self.states:
                return self.states[parts[1]]
            if parts[2] == "execution_count" and parts[1] in self.execution_counts:
                return self.execution_counts[parts[1]]
            return _MISSING
        if kind == "input":
            if self.input is _MISSING:
                return _MISSING
            if len(parts) == 1:
                return self.input
            return self.input.get(parts[1], _MISSING) if isinstance(self.input, dict) else _MISSING
        if kind == "task":
            simple = {"name": self.task_key, "execution_count": self.execution_count}
            got = simple.get(parts[1])
            return _MISSING if got is None else got
        if kind == "job":
            return self._job(parts)
        return _MISSING

    def _job(self, parts: tuple[str, ...]) -> Any:
        simple = {"id": self.job_id, "name": self.job_name, "run_id": self.run_id, "repair_count": self.repair_count}
        if len(parts) == 2 and parts[1] in simple:
            got = simple[parts[1]]
            return _MISSING if got is None else got
        if len(parts) == 3 and parts[1] == "start_time" and self.start_time_ms is not None:
            return _time_arg(self.start_time_ms, parts[2])
        return _MISSING


def _time_arg(ms: int, arg: str) -> Any:
    t = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    table = {
        "iso_date": t.date().isoformat(), "iso_datetime": t.strftime("%Y-%m-%dT%H:%M:%S"), "year": t.year,
        "month": t.month, "day": t.day, "hour": t.hour, "minute": t.minute, "second": t.second,
        "timestamp_ms": ms, "iso_weekday": t.isoweekday(), "is_weekday": t.isoweekday() <= 5,
    }
    return table.get(arg, _MISSING)


def resolve(text: str, ctx: Context) -> str:
    """``text`` with every reference the run can answer replaced; the others left as they are.

    >>> resolve("run {{job.run_id}}: {{job.parameters.day}} {{nope}}", Context(params={"day": "mon"}, run_id=7))
    'run 7: mon {{nope}}'
    """
    def value_of(ref) -> str | None:
        value = ctx.lookup(ref.kind, ref.parts)
        if value is not _MISSING:
            return render(value)
        if ref.kind == "tasks.values" and not flag("MISSING_REFERENCE_IS_LITERAL"):
            raise ValueError(f"{ref.text}: task {ref.parts[1]!r} set no value {ref.parts[3]!r} in this run")
        return None

    return substitute(text, value_of)


def resolve_operand(text: str, ctx: Context) -> str:
    """A condition operand.  ``ValueError`` when it is a reference to a non-scalar value: the service fails the
    condition task [IE]."""
    text = str(text)
    refs = find_refs(text)
    if len(refs) == 1 and refs[0].text == text.strip():
        value = ctx.lookup(refs[0].kind, refs[0].parts)
        if isinstance(value, (dict, list)):
            raise ValueError(f"{text.strip()} is not a scalar value ({type(value).__name__}); condition operands "
                             "must be strings, numbers or booleans")
    return resolve(text, ctx)


def resolve_task(task: Any, ctx: Context) -> Any:
    """A deep copy of a task payload with every string resolved (a for-each task's nested task is left for its
    iterations, which see ``{{input}}``)."""
    if isinstance(task, str):
        return resolve(task, ctx)
    if isinstance(task, list):
        return [resolve_task(v, ctx) for v in task]
    if isinstance(task, dict):
        out = {}
        for k, v in task.items():
            if k == "for_each_task" and isinstance(v, dict):
                out[k] = {kk: (vv if kk == "task" else resolve_task(vv, ctx)) for kk, vv in v.items()}
            else:
                out[k] = resolve_task(v, ctx)
        return out
    return task
