"""The local engine behind the operate commands: open it for a project's ``engine = "local"`` target.

:class:`LocalBackend` offers ``run``/``status``/``runs``/``logs``/``repair``/``cancel`` with the same JSON shapes
the workspace backend prints (``status``: ``run_id``, ``job``, ``result``, ``tasks`` of
``{task_key, state, attempts, start, end, error}``, ``repairs``).
"""

from __future__ import annotations

from typing import Any, Callable

from flowdef.local.engine import Engine, RunRefused
from flowdef.local.project import LocalJob, data_dir_of, prepare

__all__ = ["LocalBackend", "RunRefused", "is_local"]


def is_local(target: Any) -> bool:
    return getattr(target, "engine", "databricks") == "local"


class LocalBackend:
    def __init__(self, config: Any, target: Any, loaded: Any,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.config, self.target, self.loaded = config, target, loaded
        self._jobs: dict[str, LocalJob] = {}
        self.engine = Engine(data_dir_of(config, target), target.name, self.job, on_event)

    def job(self, key: str) -> LocalJob:
        if key not in self._jobs:
            spec = self.loaded.job(key)
            if spec is None:
                known = ", ".join(sorted(j.key for j in self.loaded.jobs)) or "(none)"
                raise RunRefused(f"no job {key!r} in this project; jobs: {known}")
            self._jobs[key] = prepare(self.config, self.target, spec)
        return self._jobs[key]

    def run(self, job: str, params: dict[str, str] | None = None, only: list[str] | None = None,
            wait: bool = True) -> tuple[int, str | None]:
        run_id = self.engine.start(job, params, only)
        if not wait:
            return run_id, None
        return run_id, self.engine.execute(run_id)

    def status(self, run_id: int) -> dict[str, Any]:
        return self.engine.status(run_id)

    def runs(self, job: str | None = None, limit: int = 25) -> list[dict[str, Any]]:
        return self.engine.runs(job, limit)

    def logs(self, run_id: int, task: str, attempt: int | None = None) -> dict[str, Any]:
        return self.engine.logs(run_id, task, attempt)

    def repair(self, run_id: int, *, tasks: list[str] | None = None, failed: bool = False, dependents: bool = False,
               params: dict[str, str] | None = None) -> str:
        return self.engine.repair(run_id, tasks=tasks, failed=failed, dependents=dependents, params=params)

    def cancel(self, run_id: int) -> None:
        self.engine.cancel(run_id)
