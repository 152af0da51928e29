"""Typed dynamic value references (``{{job.parameters.x}}``, ``{{tasks.t.values.k}}``) for the builder.

A reference *is* a ``str`` holding exactly the text Databricks substitutes at run time, so it can be used
wherever a string is expected (parameters, f-strings, condition operands).  It also remembers what it points
at and the user's line, so validation can say "``dedup`` is not upstream of ``join``" at that line.

The grammar itself (finding and classifying every ``{{...}}`` in a string, filling references in) is the Jobs
API's and lives in :mod:`flowdef.jobsapi.refs`.
"""

from __future__ import annotations

from typing import Iterator, Mapping

from flowdef._location import Location, caller_location
from flowdef.jobsapi.refs import quote_name


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

    def __init__(self, names: Mapping[str, object]) -> None:
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
    """``task.values``: ``dedup.values.duplicate_rows_removed`` renders
    ``{{tasks.dedup.values.duplicate_rows_removed}}``."""

    __slots__ = ("_task_key",)

    def __init__(self, task_key: str) -> None:
        self._task_key = task_key

    def __getattr__(self, name: str) -> TaskValueRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return TaskValueRef(self._task_key, name, caller_location())

    def __getitem__(self, name: str) -> TaskValueRef:
        return TaskValueRef(self._task_key, name, caller_location())
