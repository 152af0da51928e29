"""The records a :class:`~flowdef.runs.machine.Run` keeps: tasks, attempts, for-each iterations, work handed to the
driver, the repair history.  Plain data (a driver may pickle a run, as the local engine does)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Attempt", "Iteration", "RepairEntry", "TaskRecord", "Work"]

# phases of a task (or an iteration) inside the machine
BLOCKED, READY, PENDING, RUNNING, RETRY, ITERATING, DONE = (
    "BLOCKED", "READY", "PENDING", "RUNNING", "RETRY", "ITERATING", "DONE")


class _DoneView(Mapping[str, Any]):
    """``task key -> fn(record)`` for the finished tasks only, computed on lookup (references read a few keys;
    copying every task's values at each step would make a long chain quadratic)."""

    def __init__(self, records: Mapping[str, TaskRecord], fn: Callable[[TaskRecord], Any]) -> None:
        self._records, self._fn = records, fn

    def __getitem__(self, key: str) -> Any:
        record = self._records[key]
        if record.phase != DONE:
            raise KeyError(key)
        return self._fn(record)

    def __iter__(self) -> Iterator[str]:
        return (k for k, r in self._records.items() if r.phase == DONE)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Attempt:
    """One execution of a task (or of one for-each iteration).  ``number`` counts from 0 within a repair pass."""

    number: int
    repair: int
    handed_at: int
    start: int | None = None
    end: int | None = None
    state: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Iteration:
    index: int
    input: Any
    phase: str = READY
    state: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    retry_at: int | None = None

    @property
    def attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


@dataclass
class TaskRecord:
    """A task of the run.  ``state`` is its result state once ``phase`` is DONE; ``attempts`` are those of the
    latest repair pass that ran it, ``history`` all of them."""

    key: str
    spec: dict[str, Any]
    phase: str = BLOCKED
    state: str | None = None
    outcome: str | None = None
    error: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    history: list[Attempt] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    retry_at: int | None = None
    iterations: list[Iteration] | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    repair: int = 0

    @property
    def attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def deps(self) -> list[tuple[str, str | None]]:
        return [(d["task_key"], d.get("outcome")) for d in self.spec.get("depends_on") or ()]


@dataclass(frozen=True)
class Work:
    """Something the driver must execute now: attempt ``attempt`` of task ``key`` (of iteration ``iteration`` of a
    for-each task), with ``task`` the payload whose references are resolved (the nested task for an iteration)."""

    key: str
    attempt: int
    task: dict[str, Any]
    iteration: int | None = None
    input: Any = None


@dataclass
class RepairEntry:
    """``repair_history``: the original run first (``kind`` ORIGINAL, no id), then one per repair."""

    kind: str
    start: int
    tasks: tuple[str, ...]
    id: Any = None
    end: int | None = None
    result: str | None = None
