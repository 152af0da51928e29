"""The one per-job validation context every rule module reads.

Created once per job by :func:`flowdef.validate.validate_project` and handed to each rule family in turn.  What
several rules need (tasks by key, the SQL file tasks, the task graph and its ancestry) is computed on first use
and cached here (``functools.cached_property``); no rule module writes into it.
"""

from __future__ import annotations

import functools
from typing import Iterator

from flowdef.diagnostics import Diagnostic, diag
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import SqlFileTask


class JobContext:
    """What the rules of one job share: the job, the target, the project config, and derived views of the job."""

    def __init__(self, job: JobSpec, target: Target, config: ProjectConfig) -> None:
        self.job = job
        self.target = target
        self.config = config

    @functools.cached_property
    def tasks_by_key(self) -> dict[str, TaskSpec]:
        """The top-level tasks by key, the first declaration of a key winning."""
        by_key: dict[str, TaskSpec] = {}
        for t in self.job.tasks:
            by_key.setdefault(t.key, t)
        return by_key

    @functools.cached_property
    def task_paths(self) -> list[tuple[TaskSpec, str]]:
        """Every task, nested for-each tasks right after their for-each task, with its path for diagnostics."""
        # what tasks_with_paths yields, in one plain loop (every rule family reads this list)
        found: list[tuple[TaskSpec, str]] = []
        for task in self.job.tasks:
            path = f"tasks.{task.key}"
            found.append((task, path))
            nested = getattr(task.kind, "task", None)
            if isinstance(nested, TaskSpec):
                found.append((nested, f"{path}.for_each_task.task"))
        return found

    @functools.cached_property
    def sql_tasks(self) -> list[TaskSpec]:
        """The SQL file tasks, nested ones included."""
        return [t for t in self.job.all_tasks() if type(t.kind) is SqlFileTask]

    @functools.cached_property
    def graph(self):
        from flowdef import graph
        return graph.build(self.job)

    @property
    def acyclic(self) -> bool:
        return self.graph.is_acyclic

    @functools.cached_property
    def ancestry(self):
        """Ancestor queries, or None when the graph has a cycle (FD101 is reported; ancestry is meaningless)."""
        return self.ancestry_of(None)

    def ancestry_of(self, sources):
        """Ancestor queries about ``sources`` only (None: every task), or None on a cyclic graph."""
        from flowdef import graph
        return graph.Ancestry(self.graph, sources) if self.acyclic else None

    def d(self, code: str, message: str, location=None, path: str = "", severity: str | None = None) -> Diagnostic:
        return diag(code, message, location or self.job.location, job=self.job.key, path=path, severity=severity)


def tasks_with_paths(job: JobSpec) -> Iterator[tuple[TaskSpec, str]]:
    """Every task (nested for-each tasks right after their for-each task) with its path for diagnostics."""
    for task in job.tasks:
        yield from with_paths(task)


def with_paths(task: TaskSpec) -> Iterator[tuple[TaskSpec, str]]:
    """A top-level task and its nested for-each task, if any, with their paths."""
    path = f"tasks.{task.key}"
    yield task, path
    nested = getattr(task.kind, "task", None)
    if isinstance(nested, TaskSpec):
        yield nested, f"{path}.for_each_task.task"
