"""Neutral views of a run, the same whatever backend produced them (a workspace, the local engine).

:meth:`RunView.to_json` is the documented ``status --format json`` contract (README, "Operating runs"):

.. code-block:: text

    {"run_id": "7001", "job": "<flowdef job key>", "job_id": 1001 | null,
     "state": "QUEUED|PENDING|RUNNING|TERMINATING|TERMINATED|SKIPPED",
     "result": "SUCCESS|SUCCESS_WITH_FAILURES|FAILED|TIMEDOUT|CANCELED|..." | null (while running),
     "message": "...", "start": <epoch ms> | null, "end": <epoch ms> | null, "url": "..." | null,
     "params": {"name": "value"},
     "tasks": [{"task_key": "...", "state": "<result state, or the life-cycle state while not finished>",
                "attempts": <attempts made, 0 for a task that did not run>, "start": ms | null, "end": ms | null,
                "error": "..." | null, "depends_on": ["..."], "outcome": "true|false" | null,
                "iterations": [{"index": 0, "state": "...", "attempts": 1, "start": ..., "end": ..., "error": ...}]
                              (for-each tasks only)}],
     "repairs": [{"id": 9001 | null (the original run), "type": "ORIGINAL|REPAIR", "start": ms, "end": ms | null,
                  "result": "..." | null, "tasks": ["task keys (re)run"]}]}

Times are epoch milliseconds.  Keys are never removed from this contract; new ones may be added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FINISHED_LIFE", "IterationView", "RepairView", "RunView", "TaskOutput", "TaskView"]

FINISHED_LIFE = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
#: task states that mean "ran and did not succeed"
FAILED_STATES = frozenset({"FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR"})


@dataclass
class IterationView:
    index: int
    state: str
    attempts: int = 0
    start: int | None = None
    end: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "state": self.state, "attempts": self.attempts, "start": self.start,
                "end": self.end, "error": self.error}


@dataclass
class TaskView:
    task_key: str
    state: str
    attempts: int = 0
    start: int | None = None
    end: int | None = None
    error: str | None = None
    depends_on: list[str] = field(default_factory=list)
    outcome: str | None = None
    iterations: list[IterationView] | None = None
    task_run_id: Any = None

    @property
    def finished(self) -> bool:
        from flowdef.runs.rules import FINAL_STATES

        return self.state in FINAL_STATES or self.state == "SUCCESS_WITH_FAILURES"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task_key": self.task_key, "state": self.state, "attempts": self.attempts,
                               "start": self.start, "end": self.end, "error": self.error,
                               "depends_on": list(self.depends_on), "outcome": self.outcome}
        if self.iterations is not None:
            out["iterations"] = [i.to_json() for i in self.iterations]
        return out


@dataclass
class RepairView:
    id: Any
    type: str
    start: int | None = None
    end: int | None = None
    result: str | None = None
    tasks: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "start": self.start, "end": self.end, "result": self.result,
                "tasks": list(self.tasks)}


@dataclass
class RunView:
    run_id: str
    job: str | None
    state: str
    result: str | None = None
    job_id: Any = None
    message: str = ""
    start: int | None = None
    end: int | None = None
    url: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tasks: list[TaskView] = field(default_factory=list)
    repairs: list[RepairView] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_LIFE

    def task(self, key: str) -> TaskView | None:
        return next((t for t in self.tasks if t.task_key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "job": self.job, "job_id": self.job_id, "state": self.state,
                "result": self.result, "message": self.message, "start": self.start, "end": self.end,
                "url": self.url, "params": dict(self.params), "tasks": [t.to_json() for t in self.tasks],
                "repairs": [r.to_json() for r in self.repairs]}


@dataclass
class TaskOutput:
    """``logs RUN TASK``: what one attempt of a task produced."""

    task_key: str
    attempt: int
    state: str
    error: str | None = None
    error_trace: str | None = None
    logs: str | None = None
    notebook_result: str | None = None
    sql: Any = None  # SQL output: result rows (list of rows) or the service's sql_output object
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"task_key": self.task_key, "attempt": self.attempt, "state": self.state, "error": self.error,
                "error_trace": self.error_trace, "logs": self.logs, "notebook_result": self.notebook_result,
                "sql": self.sql, "truncated": self.truncated}
