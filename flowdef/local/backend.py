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


# ----------------------------------------------------------------------------------------------------------------
# The operate commands' Backend protocol (flowdef.operate.backend): `python -m flowdef run ... --target local`.


class OperateLocalBackend:
    """:class:`flowdef.operate.backend.Backend` for ``engine = "local"`` targets.

    ``start_run`` records the run; the first ``get_run`` (the CLI following it) drives it in a thread of this
    process, so ``run`` costs one process.  A run nobody follows (``--no-wait``) is handed at exit to a detached
    ``python -m flowdef.local _drive RUN`` process.  Ctrl-C while following cancels the run (its cleanup tasks
    still run); a process killed while its thread drives a run leaves it interrupted (recorded as such by the
    next command; repairable).
    """

    poll_interval = 0.05
    runs_here = True  # the runs this command starts are driven by its own threads

    def __init__(self, project: Any) -> None:
        from flowdef.local.isolation import warm_up

        warm_up()  # the attempts' fork server imports DuckDB & co. while the job compiles
        self.project = project
        self.local = LocalBackend(project.config, project.target, project.loaded)
        self._undriven: set[int] = set()
        self._threads: dict[int, Any] = {}

    @classmethod
    def open(cls, project: Any) -> "OperateLocalBackend":
        return cls(project)

    # -- driving ----------------------------------------------------------------------------------------------
    def _drive(self, run_id: int) -> None:
        import threading

        if run_id not in self._undriven:
            return
        self._undriven.discard(run_id)
        engine = Engine(self.local.engine.data_dir, self.local.engine.target, self.local.job)

        def drive() -> None:
            try:
                engine.execute(run_id)
            except BaseException as exc:  # noqa: BLE001 - recorded on the run, never lost in a thread
                engine.abandon(run_id, f"engine error: {type(exc).__name__}: {exc}")
            finally:
                engine.records.close()

        thread = threading.Thread(target=drive, name=f"flowdef-local-run-{run_id}", daemon=True)
        self._threads[run_id] = thread
        thread.start()

    def _at_exit(self) -> None:
        import subprocess
        import sys

        for run_id in sorted(self._undriven):
            cmd = [sys.executable, "-m", "flowdef.local", "_drive", str(run_id), "--target", self.project.target.name]
            child = subprocess.Popen(cmd, cwd=str(self.project.config.root), start_new_session=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.local.engine.records.hand_over(run_id, child.pid)
        self._undriven.clear()

    def _pending(self, run_id: int) -> None:
        import atexit

        if not self._undriven and not self._threads:
            atexit.register(self._at_exit)
        self._undriven.add(run_id)

    # -- the protocol -----------------------------------------------------------------------------------------
    def start_run(self, job_key: str, params: Any, only: Any, idempotency_token: str) -> str:
        known = bool(idempotency_token) and self.local.engine.records.run_for_token(idempotency_token) is not None
        try:
            run_id = self.local.engine.start(job_key, dict(params or {}), list(only) if only else None,
                                             token=idempotency_token or None)
        except RunRefused as exc:
            raise _backend_error(str(exc)) from None
        if not known:  # a repeated request: the first one's process (or this one) already drives the run
            self._pending(run_id)
        return str(run_id)

    def get_run(self, run_id: str) -> Any:
        rid = _run_id(run_id)
        self._drive(rid)
        return run_view(self.local.engine, rid)

    def list_runs(self, job_key: str | None, limit: int) -> list[Any]:
        return [run_view(self.local.engine, r["run_id"]) for r in self.local.engine.runs(job_key, limit)]

    def task_output(self, run_id: str, task_key: str, attempt: int | None) -> Any:
        from flowdef.operate.view import TaskOutput

        try:
            out = self.local.engine.logs(_run_id(run_id), task_key, attempt)
        except RunRefused as exc:
            raise _backend_error(str(exc)) from None
        logs = out["logs"] + (("\n--- stderr\n" + out["stderr"]) if out["stderr"] else "")
        sql = [out["columns"], *out["rows"]] if out["columns"] else None
        return TaskOutput(task_key=task_key, attempt=out["attempt"], state=out["state"], error=out["error"],
                          error_trace=out["error_trace"], logs=logs or None, notebook_result=out["notebook_output"],
                          sql=sql, truncated=out["truncated"])

    def repair(self, run_id: str, tasks: Any, dependents: bool, params: Any) -> Any:
        rid = _run_id(run_id)
        try:
            repair_id = self.local.engine.begin_repair(rid, tasks=list(tasks) if tasks else None, failed=not tasks,
                                                      dependents=dependents, params=dict(params or {}))
        except RunRefused as exc:
            raise _backend_error(str(exc)) from None
        self._pending(rid)
        return repair_id

    def cancel(self, run_id: str) -> None:
        try:
            self.local.engine.cancel(_run_id(run_id))
        except RunRefused as exc:
            raise _backend_error(str(exc)) from None

    def run_url(self, run_id: str) -> str | None:
        return None


def open_backend(project: Any) -> OperateLocalBackend:
    """The factory flowdef.operate.backend names for ``engine = "local"``."""
    return OperateLocalBackend(project)


def _backend_error(text: str) -> Exception:
    from flowdef.operate.backend import BackendError

    return BackendError(text)


def _run_id(text: Any) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise _backend_error(f"run ids of a local target are numbers, got {text!r}") from None


def run_view(engine: Engine, run_id: int) -> Any:
    """The neutral :class:`flowdef.operate.view.RunView` of a local run (times in epoch ms)."""
    from flowdef.operate.view import IterationView, RepairView, RunView, TaskView

    row = engine.records.row(run_id)
    if row is None:
        raise _backend_error(f"no run {run_id} in {engine.data_dir}")
    run = engine.records.snapshot(row)  # the same moment as the row's state and result
    active = row["state"] in ("QUEUED", "RUNNING")
    tasks = []
    for record in run.tasks if run is not None else []:
        iterations = None
        if record.iterations is not None:
            iterations = [IterationView(it.index, it.state or it.phase, len(it.attempts),
                                        it.attempts[0].start if it.attempts else None,
                                        it.attempts[-1].end if it.attempts else None,
                                        it.attempts[-1].error if it.attempts else None) for it in record.iterations]
        tasks.append(TaskView(task_key=record.key, state=record.state or _life(record.phase),
                              attempts=len(record.attempts), start=record.start, end=record.end, error=record.error,
                              depends_on=[k for k, _ in record.deps], outcome=record.outcome, iterations=iterations))
    repairs = [RepairView(id=e.id, type=e.kind, start=e.start, end=e.end, result=e.result, tasks=list(e.tasks))
               for e in (run.history if run is not None else [])]
    state = row["state"]
    if state == "RUNNING" and run is not None:
        state = run.life_cycle
    return RunView(run_id=str(run_id), job=row["job"], state=state, result=None if active else row["result"],
                   message=row["message"] or "", start=row["start_ms"], end=row["end_ms"],
                   params=dict(run.params) if run is not None else {}, tasks=tasks, repairs=repairs)


def _life(phase: str) -> str:
    return {"RUNNING": "RUNNING", "PENDING": "PENDING", "RETRY": "WAITING_FOR_RETRY"}.get(phase, "BLOCKED")
