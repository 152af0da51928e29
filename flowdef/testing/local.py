"""Run a project's jobs (or one task) on the local engine from a test, and assert on what they did.

Example (the ``local_project`` fixture is registered with flowdef's pytest plugin)::

    def test_metrics_task(local_project):
        task = local_project.run_task(
            "smart_claims_bronze_to_silver", "join_tables_metrics",
            upstream_values={"deduplicate_claims": {"duplicate_rows_removed": 16}},
        )
        assert task.state == "SUCCESS"

:meth:`LocalProject.run_job` runs a whole job through the same control plane as ``python -m flowdef run
--target local`` (the shared run-semantics state machine, one process per attempt, records in SQLite);
:meth:`LocalProject.run_task` runs one task once, with chosen job parameters and the task values its upstream tasks
would have set.  Both return task states, task values, output rows and captured logs.  The data lives in a
temporary workspace (``data_dir``), never in the project's own.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JobResult", "LocalProject", "TaskResult"]


@dataclass
class TaskResult:
    key: str
    state: str
    attempts: int = 1
    error: str | None = None
    task_values: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    logs: str = ""
    stderr: str = ""
    notebook_output: str | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        """The output rows as dicts keyed by column."""
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass
class JobResult:
    run_id: int
    result: str
    tasks: dict[str, TaskResult]

    def __getitem__(self, key: str) -> TaskResult:
        return self.tasks[key]

    @property
    def states(self) -> dict[str, str]:
        return {k: t.state for k, t in self.tasks.items()}


class LocalProject:
    """A project opened on the local engine, with its data in ``data_dir`` (a temporary folder by default).

    ``target`` names an ``engine = "local"`` target of the project config; without one, the first local target,
    else the default target run locally.
    """

    def __init__(self, root: str | Path = ".", *, target: str | None = None, data_dir: str | Path | None = None) -> None:
        import attrs

        from flowdef.load.config import load_config
        from flowdef.load.loader import load

        self.root = Path(root).resolve()
        self.config = load_config(self.root)
        if target is None:
            local = [t for t in self.config.targets if getattr(t, "engine", "") == "local"]
            chosen = local[0] if local else self.config.target(None)
        else:
            chosen = self.config.target(target)
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="flowdef-local-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.target = attrs.evolve(chosen, engine="local", data_dir=str(self.data_dir))
        self.loaded = load(self.config)
        problems = [d for d in self.loaded.diagnostics if getattr(d, "is_error", False)]
        if problems:
            raise RuntimeError("the project does not load: " + "; ".join(str(d) for d in problems[:5]))
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from flowdef.local.backend import LocalBackend

            self._backend = LocalBackend(self.config, self.target, self.loaded)
        return self._backend

    def volume(self, catalog: str, schema: str, volume: str) -> Path:
        """The local folder behind ``/Volumes/<catalog>/<schema>/<volume>/`` (created): put input files there."""
        from flowdef.local.workspace import LocalWorkspace

        return LocalWorkspace(self.data_dir).volume(catalog, schema, volume)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Run a DuckDB query against the workspace's catalogs (e.g. to check a table a job wrote)."""
        from flowdef.local.workspace import LocalWorkspace

        conn = LocalWorkspace(self.data_dir).connect()
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    def run_job(self, job: str, params: dict[str, Any] | None = None, only: list[str] | None = None) -> JobResult:
        """Run a whole job (its run-semantics, retries and all) and return every task's result."""
        run_id, result = self.backend.run(job, {k: str(v) for k, v in (params or {}).items()}, only)
        status = self.backend.status(run_id)
        tasks = {}
        for t in status["tasks"]:
            task = TaskResult(t["task_key"], t["state"], t["attempts"], t["error"])
            if t["attempts"]:
                try:
                    logs = self.backend.logs(run_id, t["task_key"])
                except Exception:  # noqa: BLE001 - a task ended without an attempt record (canceled early)
                    logs = None
                if logs is not None:
                    task.task_values, task.columns, task.rows = logs["task_values"], logs["columns"], logs["rows"]
                    task.logs, task.stderr, task.notebook_output = logs["logs"], logs["stderr"], logs["notebook_output"]
            tasks[t["task_key"]] = task
        return JobResult(run_id, str(result), tasks)

    def run_task(self, job: str, task: str, *, params: dict[str, Any] | None = None,
                 upstream_values: dict[str, dict[str, Any]] | None = None, timeout: float | None = 300) -> TaskResult:
        """Run one task once, in its own process, as if its upstream tasks had set ``upstream_values``."""
        from flowdef.local.isolation import run_isolated
        from flowdef.local.project import attempt_request

        local_job = self.backend.job(job)
        if task not in local_job.tasks:
            raise KeyError(f"job {job} has no task {task!r}; tasks: {', '.join(local_job.tasks)}")
        job_params = {**local_job.defaults(), **{k: str(v) for k, v in (params or {}).items()}}
        logs = Path(tempfile.mkdtemp(prefix="attempt-", dir=self.data_dir))
        request = attempt_request(local_job, task, job_params, dict(upstream_values or {}),
                                  stdout_path=str(logs / "out"), stderr_path=str(logs / "err"))
        result = run_isolated(request, timeout=timeout)
        read = lambda name: (logs / name).read_text(errors="replace") if (logs / name).exists() else ""  # noqa: E731
        return TaskResult(task, result.state, 1, result.error, result.task_values, result.columns, result.rows,
                          read("out"), read("err"), result.notebook_output)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.engine.records.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "LocalProject":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
