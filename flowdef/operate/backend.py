"""The seam between the operate commands and what runs the jobs: a :class:`Backend` per target engine.

``run`` / ``status`` / ``runs`` / ``logs`` / ``repair`` / ``cancel`` talk only to this protocol.  Which backend
serves a target is decided by the target's ``engine`` (``[tool.flowdef.targets.<name>] engine = "local"``) through
a small registry: ``databricks`` (the default) is :class:`flowdef.operate.workspace.WorkspaceBackend`; ``local``
is the local engine's.  A backend factory takes the opened :class:`~flowdef.load.project.Project` and returns a
:class:`Backend`; factories are named as ``"module:attribute"`` and imported only when chosen, so the workspace
backend's databricks-sdk and the local engine's DuckDB are never both loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from flowdef.errors import FlowdefError
from flowdef.operate.view import RunView, TaskOutput

__all__ = ["BACKENDS", "Backend", "BackendError", "backend_for", "register"]


class BackendError(FlowdefError):
    """A run request the backend refuses (unknown run, job not deployed, run still active...): one line, exit 1."""


class Backend(Protocol):
    """What runs a target's jobs.  Run ids are strings on this side (a workspace's are numbers)."""

    #: seconds between two polls while following a run (``FLOWDEF_POLL_INTERVAL`` overrides it)
    poll_interval: float
    #: True when this process itself runs the jobs (the local engine): a run cannot outlive the command, so
    #: stopping to follow it cancels it (a workspace's runs go on)
    runs_here: bool

    def start_run(self, job_key: str, params: Mapping[str, str], only: Sequence[str] | None,
                  idempotency_token: str) -> str:
        """Start a run of the job (a retried request with the same token never starts two runs)."""
        ...

    def get_run(self, run_id: str) -> RunView: ...

    def list_runs(self, job_key: str | None, limit: int) -> list[RunView]:
        """Recent runs (of one job, or of every job of the target), newest first."""
        ...

    def task_output(self, run_id: str, task_key: str, attempt: int | None) -> TaskOutput:
        """The output of a task's latest attempt, or of attempt ``attempt`` (0-based)."""
        ...

    def repair(self, run_id: str, tasks: Sequence[str] | None, dependents: bool,
               params: Mapping[str, str]) -> Any:
        """Repair a finished run: ``tasks`` None reruns every failed task.  Returns the repair id."""
        ...

    def cancel(self, run_id: str) -> None: ...

    def run_url(self, run_id: str) -> str | None: ...


#: engine name -> "module:factory"; the factory takes the opened project and returns a Backend
BACKENDS: dict[str, str] = {
    "databricks": "flowdef.operate.workspace:WorkspaceBackend.open",
    "local": "flowdef.local.backend:open_backend",
}


def register(engine: str, factory: str) -> None:
    """Name the factory (``"module:attribute"``) that serves targets with ``engine = <engine>``."""
    BACKENDS[engine] = factory


def _load(spec: str) -> Callable[[Any], Backend]:
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def backend_for(project: Any) -> Backend:
    """The backend for the project's chosen target."""
    engine = str(getattr(project.target, "engine", None) or "databricks")
    spec = BACKENDS.get(engine)
    if spec is None:
        raise BackendError(f"target {project.target.name!r}: no backend runs engine {engine!r} "
                           f"(known: {', '.join(sorted(BACKENDS))})")
    try:
        factory = _load(spec)
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"target {project.target.name!r}: the {engine} engine is not available ({spec}: "
                           f"{exc})") from None
    return factory(project)
