"""The frozen model: the only truth every phase after loading reads (validate, compile, graph, deploy).

Values are attrs ``@frozen`` with tuples instead of lists; changes go through ``attrs.evolve``.  The model
expresses intent (a ``Retry``, a ``Cron``, a compute object); only :mod:`flowdef.compile.compiler` knows the wire shape.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from flowdef._check import BOOL, INT, OPT_NUMBER, check_fields
from flowdef._frozen import frozen
from flowdef._location import Location
from flowdef.model.compute import Compute, Environment, JobCluster, Library
from flowdef.model.settings import GitSource, Health, Notifications, Permission, RunAs
from flowdef.model.tasks import KIND_TYPES, ForEachTask, TaskKind
from flowdef.model.triggers import Trigger


class RunIf(str, enum.Enum):
    """When a task runs, given how its dependencies ended (evaluated after all of them finished)."""

    ALL_SUCCESS = "ALL_SUCCESS"
    AT_LEAST_ONE_SUCCESS = "AT_LEAST_ONE_SUCCESS"
    NONE_FAILED = "NONE_FAILED"
    ALL_DONE = "ALL_DONE"
    AT_LEAST_ONE_FAILED = "AT_LEAST_ONE_FAILED"
    ALL_FAILED = "ALL_FAILED"

    def __str__(self) -> str:
        return self.value


@frozen
class Retry:
    """Task retries: ``max_retries`` (``-1`` = forever), ``interval`` seconds between attempts' starts."""

    max_retries: int = 1
    interval: float | None = attrs.field(default=None, kw_only=True)
    on_timeout: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_fields(self, max_retries=INT, interval=OPT_NUMBER, on_timeout=BOOL)


@frozen
class Dependency:
    task_key: str
    outcome: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)


@frozen
class Param:
    name: str
    default: str
    location: Location | None = attrs.field(default=None, eq=False)


@frozen
class TaskSpec:
    key: str
    kind: TaskKind
    depends_on: tuple[Dependency, ...] = ()
    run_if: str | None = None
    retry: Retry | None = None
    timeout_seconds: int | None = None
    compute: Compute | None = None
    description: str | None = None
    disabled: bool = False
    values: tuple[tuple[str, str], ...] = ()  # declared task values: (name, type name)
    location: Location | None = attrs.field(default=None, eq=False)
    libraries: tuple[Library, ...] = ()
    notifications: Notifications | None = None
    health: Health | None = None
    # raw Jobs API task fields not modelled (validated, emitted verbatim); JSON values: compared, not hashed
    extra: tuple[tuple[str, Any], ...] = attrs.field(default=(), hash=False)
    in_for_each: bool = False  # the nested task of a for-each task ({{input}} is defined)


# The task kinds that hold no nested task (every kind but ForEachTask), by exact type.
_FLAT_KINDS = frozenset(k for k in KIND_TYPES if k is not ForEachTask and not hasattr(k, "task"))


@frozen
class JobSpec:
    key: str
    name: str
    tasks: tuple[TaskSpec, ...] = ()
    params: tuple[Param, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    max_concurrent_runs: int | None = None
    timeout_seconds: int | None = None
    triggers: tuple[Trigger, ...] = ()
    compute: Compute | None = None  # default for tasks that need compute and name none
    environments: tuple[Environment, ...] = ()  # declared explicitly (tasks' environments are added)
    job_clusters: tuple[JobCluster, ...] = ()
    queue: bool | None = None
    module: str = ""
    location: Location | None = attrs.field(default=None, eq=False)
    extra: tuple[tuple[str, Any], ...] = attrs.field(default=(), hash=False)  # raw Jobs API settings (validated)
    notifications: Notifications | None = None
    health: Health | None = None
    git: GitSource | None = None
    run_as: RunAs | None = None
    permissions: tuple[Permission, ...] = ()  # not part of the payload: compiler.permissions(job)
    edit_mode: str | None = None

    def task(self, key: str) -> TaskSpec | None:
        for t in self.tasks:
            if t.key == key:
                return t
        return None

    def all_tasks(self) -> list[TaskSpec]:
        """Every task, with the nested task of each for-each task right after it."""
        out = []
        for t in self.tasks:
            out.append(t)
            if t.kind.__class__ in _FLAT_KINDS:
                continue  # a kind without a nested task (no ``task`` attribute): no getattr needed
            nested = getattr(t.kind, "task", None)
            if isinstance(nested, TaskSpec):
                out.append(nested)
        return out

    def param_names(self) -> set[str]:
        return {p.name for p in self.params}
