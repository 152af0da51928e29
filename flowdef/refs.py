"""Typed dynamic value references (``{{job.parameters.x}}``, ``{{tasks.t.values.k}}``) and their parser.

A reference *is* a ``str`` holding exactly the text Databricks substitutes at run time, so it can be used
wherever a string is expected (parameters, f-strings, condition operands).  It also remembers what it points
at and the user's line, so validation can say "``dedup`` is not upstream of ``join``" at that line.

The parser finds every ``{{...}}`` in any string of a job and classifies it against the real namespaces; the
service silently leaves malformed or unknown references as literal text, flowdef reports them.
"""

from __future__ import annotations

import re
from typing import Iterator

import attrs

from flowdef._location import Location, caller_location

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


def quote_name(name: str) -> str:
    """Databricks requires backticks around names with characters other than letters, digits and ``_``."""
    return name if _PLAIN_NAME.match(name) else f"`{name}`"


class Ref(str):
    """Base class of typed references; the string value is the ``{{...}}`` text."""

    location: Location | None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__str__(self)!r})"


class JobParamRef(Ref):
    """``{{job.parameters.<name>}}``"""

    name: str

    def __new__(cls, name: str, location: Location | None = None) -> "JobParamRef":
        self = super().__new__(cls, "{{job.parameters." + quote_name(name) + "}}")
        self.name = name
        self.location = location
        return self


class TaskValueRef(Ref):
    """``{{tasks.<task>.values.<name>}}``"""

    task_key: str
    name: str

    def __new__(cls, task_key: str, name: str, location: Location | None = None) -> "TaskValueRef":
        self = super().__new__(cls, "{{tasks." + quote_name(task_key) + ".values." + quote_name(name) + "}}")
        self.task_key = task_key
        self.name = name
        self.location = location
        return self


class Params:
    """``job.params``: attribute (or item) access gives a :class:`JobParamRef` and records the user's line.

    Access to an undeclared name is not an error here: validation reports it with the line, together with
    every other problem (FD202).
    """

    __slots__ = ("_names",)

    def __init__(self, names: dict[str, object]) -> None:
        self._names = names

    def __getattr__(self, name: str) -> JobParamRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return JobParamRef(name, caller_location())

    def __getitem__(self, name: str) -> JobParamRef:
        return JobParamRef(name, caller_location())

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __repr__(self) -> str:
        return f"Params({list(self._names)})"


class Values:
    """``task.values``: ``dedup.values.duplicate_rows_removed`` renders ``{{tasks.dedup.values.duplicate_rows_removed}}``."""

    __slots__ = ("_task_key",)

    def __init__(self, task_key: str) -> None:
        self._task_key = task_key

    def __getattr__(self, name: str) -> TaskValueRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return TaskValueRef(self._task_key, name, caller_location())

    def __getitem__(self, name: str) -> TaskValueRef:
        return TaskValueRef(self._task_key, name, caller_location())


# --------------------------------------------------------------------------------------------------------------
# Parsing references found in strings


@attrs.frozen
class ParsedRef:
    """One ``{{...}}`` occurrence.  ``kind`` is one of the namespaces below or ``"malformed"``/``"unknown"``."""

    text: str
    kind: str
    parts: tuple[str, ...] = ()
    problem: str = ""


_SEGMENT = re.compile(r"`([^`]*)`|([A-Za-z0-9_\-]+)")
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.S)

_JOB_SIMPLE = {"id", "name", "run_id", "repair_count"}
_TIME_ARGS = {
    "iso_date", "iso_datetime", "year", "month", "day", "hour", "minute", "second",
    "timestamp_ms", "iso_weekday", "is_weekday",
}
_TASK_SIMPLE = {"name", "run_id", "execution_count", "notebook_path"}
_TASKS_FIELDS = {"run_id", "result_state", "error_code", "execution_count"}
_WORKSPACE = {"id", "url"}
_DEPRECATED = {
    "job_id": "{{job.id}}", "run_id": "{{job.run_id}}", "start_date": "{{job.start_time.iso_date}}",
    "start_time": "{{job.start_time.timestamp_ms}}", "task_retry_count": "{{task.execution_count}}",
    "parent_run_id": "{{job.run_id}}", "task_key": "{{task.name}}",
}


def _split(expr: str) -> tuple[str, ...] | None:
    parts = []
    pos = 0
    while pos <= len(expr):
        m = _SEGMENT.match(expr, pos)
        if not m:
            return None
        parts.append(m.group(1) if m.group(1) is not None else m.group(2))
        pos = m.end()
        if pos == len(expr):
            return tuple(parts)
        if expr[pos] != ".":
            return None
        pos += 1
    return None


def classify(inner: str) -> ParsedRef:
    """Classify the text between ``{{`` and ``}}``."""
    text = "{{" + inner + "}}"
    expr = inner.strip()
    if expr.startswith("secrets/"):
        bits = expr.split("/")
        if len(bits) == 3 and all(bits[1:]):
            return ParsedRef(text, "secret", tuple(bits[1:]))
        return ParsedRef(text, "malformed", problem="a secret reference is {{secrets/<scope>/<key>}}")
    parts = _split(expr)
    if not parts:
        return ParsedRef(
            text, "malformed",
            problem="not a valid reference: names may use letters, digits and '_' (wrap others in backticks), "
            "separated by dots, with no spaces or expressions",
        )
    head = parts[0]
    n = len(parts)
    if head == "job":
        if n == 2 and parts[1] in _JOB_SIMPLE:
            return ParsedRef(text, "job", parts)
        if n == 3 and parts[1] == "parameters":
            return ParsedRef(text, "job.parameters", parts)
        if n == 3 and parts[1] == "start_time" and parts[2] in _TIME_ARGS:
            return ParsedRef(text, "job", parts)
        if n == 4 and parts[1:3] == ("trigger", "time") and parts[3] in _TIME_ARGS:
            return ParsedRef(text, "job", parts)
        if parts[1:] == ("trigger", "type") or parts[1:] == ("trigger", "file_arrival", "location"):
            return ParsedRef(text, "job", parts)
        if n >= 3 and parts[1:3] == ("trigger", "table_update"):
            return ParsedRef(text, "job", parts)
        return ParsedRef(
            text, "unknown", parts,
            "unknown job reference; valid: job.id, job.name, job.run_id, job.repair_count, job.parameters.<name>, "
            "job.start_time.<arg>, job.trigger.time.<arg>, job.trigger.type, job.trigger.file_arrival.location "
            f"(<arg>: {', '.join(sorted(_TIME_ARGS))})",
        )
    if head == "task":
        if n == 2 and parts[1] in _TASK_SIMPLE:
            return ParsedRef(text, "task", parts)
        return ParsedRef(text, "unknown", parts, "unknown task reference; valid: " + ", ".join(
            "task." + s for s in sorted(_TASK_SIMPLE)))
    if head == "tasks":
        if n == 3 and parts[2] in _TASKS_FIELDS:
            return ParsedRef(text, "tasks", parts)
        if n == 4 and parts[2] == "values":
            return ParsedRef(text, "tasks.values", parts)
        if n >= 3 and parts[2] == "output":
            return ParsedRef(text, "tasks", parts)
        return ParsedRef(
            text, "unknown", parts,
            "unknown task reference; valid: tasks.<task>.values.<key>, tasks.<task>.run_id, "
            "tasks.<task>.result_state, tasks.<task>.error_code, tasks.<task>.execution_count",
        )
    if head == "workspace":
        if n == 2 and parts[1] in _WORKSPACE:
            return ParsedRef(text, "workspace", parts)
        return ParsedRef(text, "unknown", parts, "unknown workspace reference; valid: workspace.id, workspace.url")
    if head == "input":
        return ParsedRef(text, "input", parts)
    if n == 1 and head in _DEPRECATED:
        return ParsedRef(text, "deprecated", parts, f"deprecated reference; use {_DEPRECATED[head]}")
    return ParsedRef(
        text, "unknown", parts,
        "unknown namespace; references start with job., task., tasks.<task>., workspace., input or secrets/",
    )


def find_refs(value: str) -> list[ParsedRef]:
    """Every reference in ``value``, plus ``malformed`` entries for stray or unbalanced braces."""
    if "{{" not in value and "}}" not in value:
        return []
    found: list[ParsedRef] = []
    last = 0
    for m in _BRACES.finditer(value):
        gap = value[last:m.start()]
        if "}}" in gap:
            found.append(ParsedRef(gap, "malformed", problem="'}}' without a matching '{{'"))
        inner = m.group(1)
        if "{{" in inner:  # "{{ {{x}}": an unclosed reference swallowed the next one
            found.append(ParsedRef("{{" + inner + "}}", "malformed", problem="'{{' without a matching '}}'"))
            inner = inner[inner.rfind("{{") + 2:]
        found.append(classify(inner))
        last = m.end()
    rest = value[last:]
    if "{{" in rest:
        found.append(ParsedRef(rest, "malformed", problem="'{{' without a matching '}}'"))
    elif "}}" in rest:
        found.append(ParsedRef(rest, "malformed", problem="'}}' without a matching '{{'"))
    return found
