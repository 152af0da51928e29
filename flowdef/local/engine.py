"""The local control plane: drives :class:`flowdef.runs.Run` (the one state machine) in real time, with each
attempt in its own process (:mod:`flowdef.local.isolation`) and every step recorded (:mod:`flowdef.local.records`).

No run-semantics rule is decided here: which tasks are ready, skipped, retried, timed out, canceled, repaired and
the run's result all come from ``flowdef.runs``.  This module starts and stops processes, keeps time, records.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Callable

from flowdef.local.attempt import AttemptRequest, AttemptResult
from flowdef.local.project import LocalJob
from flowdef.local.records import Records, now_ms

POLL_SECONDS = 0.25  # how often a driving process looks for a cancel request


class RunRefused(Exception):
    """The run was not started (``max_concurrent_runs`` reached without queueing), or a request is invalid."""


@dataclass
class _Flight:
    key: str
    iteration: int | None
    attempt: int
    pass_no: int
    proc: Any
    request: AttemptRequest
    start: int


@dataclass
class Engine:
    """A target's local engine.  ``jobs`` gives the :class:`LocalJob` of a job key (compiled on demand)."""

    data_dir: Path
    target: str
    jobs: Callable[[str], LocalJob]
    on_event: Callable[[str, dict[str, Any]], None] | None = None
    records: Records = field(init=False)

    def __post_init__(self) -> None:
        self.records = Records(Path(self.data_dir) / "runs.sqlite")
        self.reap()

    # -- starting ---------------------------------------------------------------------------------------------
    def start(self, job_key: str, params: dict[str, str] | None = None, only: list[str] | None = None,
              wait_for_slot: bool = True, token: str | None = None) -> int:
        """Create the run (admitted, queued or skipped by ``flowdef.runs.admit``); returns its id.

        ``token``: an idempotency token; a request repeating one returns the run the first request started (as
        the Jobs API's ``run-now`` does).  Requests are expected one after another (a client retrying): two
        processes racing with one token could both start a run."""
        from flowdef.runs import Run, admit

        if token:
            earlier = self.records.run_for_token(token)
            if earlier is not None and self.records.row(earlier) is not None:
                return earlier

        job = self.jobs(job_key)
        settings = job.payload
        params = {k: str(v) for k, v in (params or {}).items()}
        unknown = sorted(set(params) - set(job.defaults()))
        if unknown:
            raise RunRefused(f"job {job_key} has no parameter(s) {', '.join(unknown)}; parameters: "
                             f"{', '.join(sorted(job.defaults())) or '(none)'}")
        with self.records.transaction() as db:
            decision = admit(settings, self.records.active_runs(db, job_key))
        state = {"RUN": "RUNNING", "QUEUE": "QUEUED", "SKIP": "SKIPPED"}[decision]
        message = ("skipped: max_concurrent_runs reached and queueing is off" if decision == "SKIP" else None)
        run_id = self.records.create(job_key, self.target, params, settings, state, message)
        if token:
            self.records.remember_token(token, run_id)
        run = Run(settings, now=now_ms(), params=params, only=only, job_id=job_key, run_id=run_id, job_name=job_key)
        self.records.save(run_id, run, state=state)
        if decision == "SKIP":
            raise RunRefused(f"run {run_id} of {job_key} skipped: max_concurrent_runs "
                             f"({settings.get('max_concurrent_runs', 1)}) reached and queueing is off")
        return run_id

    def execute(self, run_id: int) -> str:
        """Drive an admitted (or queued) run to its end in this process; returns its result."""
        row = self.records.row(run_id)
        if row is None:
            raise RunRefused(f"no run {run_id}")
        while row["state"] == "QUEUED":
            with self.records.transaction() as db:
                free = self._slot_free(db, row)
                if free:
                    db.execute("UPDATE runs SET state = 'RUNNING' WHERE run_id = ?", (run_id,))
            if free:
                break
            if self.records.cancel_requested(run_id):
                run = self.records.load(run_id)
                run.cancel(now_ms())
                return self._drive(run_id, run)
            time.sleep(POLL_SECONDS)
        run = self.records.load(run_id)
        return self._drive(run_id, run)

    def _slot_free(self, db: Any, row: dict[str, Any]) -> bool:
        import json

        from flowdef.runs import admit

        ahead = db.execute("SELECT count(*) FROM runs WHERE job = ? AND state = 'QUEUED' AND run_id < ?",
                           (row["job"], row["run_id"])).fetchone()[0]
        return not ahead and admit(json.loads(row["settings"]), self.records.active_runs(db, row["job"],
                                                                                          exclude=row["run_id"])) == "RUN"

    def run(self, job_key: str, params: dict[str, str] | None = None, only: list[str] | None = None) -> tuple[int, str]:
        run_id = self.start(job_key, params, only)
        return run_id, self.execute(run_id)

    def repair(self, run_id: int, *, tasks: list[str] | None = None, failed: bool = False, dependents: bool = False,
               params: dict[str, str] | None = None) -> str:
        self.begin_repair(run_id, tasks=tasks, failed=failed, dependents=dependents, params=params)
        return self._drive(run_id, self.records.load(run_id))

    def begin_repair(self, run_id: int, *, tasks: list[str] | None = None, failed: bool = False,
                     dependents: bool = False, params: dict[str, str] | None = None) -> int:
        """Start a repair pass of a finished run (``flowdef.runs`` chooses what reruns); returns the repair id.
        :meth:`execute` drives it."""
        from flowdef.runs import RunStateError

        row = self.records.row(run_id)
        if row is None:
            raise RunRefused(f"no run {run_id}")
        run = self.records.snapshot(row)
        if run is None or row["state"] in ("QUEUED", "RUNNING"):
            raise RunRefused(f"run {run_id} is still active; repair it once it has ended")
        job = self.jobs(row["job"])
        try:
            run.repair(job.payload, now_ms(), rerun_tasks=tasks or None, all_failed=failed, dependents=dependents,
                       params=params, repair_id=len(run.history))
        except (RunStateError, ValueError) as exc:
            raise RunRefused(f"cannot repair run {run_id}: {exc}") from None
        self.records.claim(run_id)
        self.records.save(run_id, run, state="RUNNING")
        return len(run.history) - 1

    def cancel(self, run_id: int) -> None:
        row = self.records.row(run_id)
        if row is None:
            raise RunRefused(f"no run {run_id}")
        if row["state"] not in ("QUEUED", "RUNNING"):
            return
        self.records.request_cancel(run_id)
        self.reap()  # an owner that is gone cannot act on the request: record it here

    # -- driving ----------------------------------------------------------------------------------------------
    def _drive(self, run_id: int, run: Any) -> str:
        from flowdef.local.isolation import Running

        row = self.records.row(run_id) or {}
        job = self.jobs(row.get("job") or run.job_name)
        flights: dict[tuple[str, int | None], _Flight] = {}
        logs = Path(self.data_dir) / "logs" / str(run_id)
        canceled = False
        finished_rows: list[dict[str, Any]] = []
        try:
            while True:
                now = now_ms()
                if not canceled and self.records.cancel_requested(run_id):
                    canceled = True
                    self._stop(run.cancel(now), flights)
                self._stop(run.expire(now), flights)
                for work in run.ready(now):
                    folder = logs / (work.key if work.iteration is None else f"{work.key}[{work.iteration}]")
                    folder.mkdir(parents=True, exist_ok=True)
                    stem = folder / f"{run.pass_no}-{work.attempt}"
                    request = AttemptRequest(
                        task=work.task, job_params=dict(run.params), data_dir=job.data_dir,
                        project_root=job.project_root, root_path=job.root_path, job_key=job.key,
                        upstream_values={r.key: dict(r.values) for r in run.tasks if r.values},
                        sources=job.sources, templates=job.templates, stdout_path=f"{stem}.out",
                        stderr_path=f"{stem}.err",
                    )
                    flight = _Flight(work.key, work.iteration, work.attempt, run.pass_no, Running(request, spare=True),
                                     request, now)
                    flights[(work.key, work.iteration)] = flight
                    run.task_started(work.key, now, work.iteration)
                    self._event("started", {"task": work.key, "iteration": work.iteration, "attempt": work.attempt})
                # one transaction per step: the machine's snapshot, changed task rows, finished attempts
                self.records.save(run_id, run, attempts=finished_rows)
                finished_rows = []
                if run.terminated:
                    break
                deadline = run.next_deadline()
                timeout = POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, (deadline - now_ms()) / 1000))
                if flights:
                    handles = []
                    for f in flights.values():
                        handles += [f.proc.fileno(), f.proc.process.sentinel]
                    wait(handles, timeout=timeout)
                elif timeout:
                    time.sleep(timeout)
                for slot, f in list(flights.items()):
                    if not f.proc.done():
                        continue
                    del flights[slot]
                    result = f.proc.result()
                    end = now_ms()
                    run.attempt_finished(f.key, result.state, end, iteration=f.iteration, attempt=f.attempt,
                                         error=result.error, values=result.task_values)
                    finished_rows.append(self._attempt_row(f, result, end))
                    self._event("finished", {"task": f.key, "iteration": f.iteration, "attempt": f.attempt,
                                             "state": result.state, "error": result.error})
        except KeyboardInterrupt:
            self._stop(run.cancel(now_ms()), flights)
            self._drain(run)
            self.records.save(run_id, run, message="canceled: interrupted from the keyboard")
            raise
        finally:
            for f in flights.values():
                f.proc.kill("CANCELED", "stopped")
        self.records.save(run_id, run)
        return str(run.result)

    def _stop(self, works: list[Any], flights: dict[tuple[str, int | None], _Flight]) -> None:
        for work in works:
            flight = flights.pop((work.key, work.iteration), None)
            if flight is not None:
                flight.proc.kill("CANCELED", "stopped by the run")

    @staticmethod
    def _attempt_row(f: _Flight, result: AttemptResult, end: int) -> dict[str, Any]:
        return {
            "task_key": f.key, "iteration": -1 if f.iteration is None else f.iteration, "pass_no": f.pass_no,
            "attempt": f.attempt, "state": result.state, "start_ms": f.start, "end_ms": end, "error": result.error,
            "error_trace": result.error_trace, "task_values": result.task_values, "columns": result.columns,
            "rows": result.rows, "truncated": result.truncated, "notebook_output": result.notebook_output,
            "stdout_path": f.request.stdout_path, "stderr_path": f.request.stderr_path,
        }

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(kind, data)

    # -- interrupted runs --------------------------------------------------------------------------------------
    @staticmethod
    def _drain(run: Any) -> None:
        """After a cancel with nobody left to run work: answer whatever the machine still hands out."""
        for _ in range(10 * len(run.tasks) + 10):
            if run.terminated:
                return
            for work in run.ready(now_ms()):
                run.attempt_finished(work.key, "CANCELED", now_ms(), iteration=work.iteration, attempt=work.attempt,
                                     error="not run: the local engine was interrupted")

    def abandon(self, run_id: int, message: str) -> None:
        """The driver failed unexpectedly: end the run (canceled, with the reason) so nobody waits forever."""
        run = self.records.load(run_id)
        if run is None:
            return
        if not run.terminated:
            run.cancel(now_ms())
            self._drain(run)
        self.records.save(run_id, run, state="TERMINATED", message=message)

    def reap(self) -> list[int]:
        """Record the active runs whose driving process is gone as canceled (interrupted); they can be repaired."""
        reaped = []
        for run_id in self.records.orphaned():
            run = self.records.load(run_id)
            if run is None:
                continue
            now = now_ms()
            run.cancel(now)
            self._drain(run)
            self.records.save(run_id, run, state="TERMINATED",
                              message="interrupted: the process driving this run ended before the run did")
            reaped.append(run_id)
        return reaped

    # -- reading ----------------------------------------------------------------------------------------------
    def status(self, run_id: int) -> dict[str, Any]:
        row = self.records.row(run_id)
        if row is None:
            raise RunRefused(f"no run {run_id} in {self.data_dir}")
        run = self.records.snapshot(row)
        tasks = []
        for record in run.tasks if run is not None else []:
            tasks.append({
                "task_key": record.key, "state": record.state or _waiting(record.phase),
                "attempts": len(record.attempts), "start": _iso(record.start), "end": _iso(record.end),
                "error": record.error,
            })
        repairs = []
        for entry in (run.history if run is not None else [])[1:]:
            repairs.append({"repair_id": entry.id, "start": _iso(entry.start), "end": _iso(entry.end),
                            "result": entry.result, "tasks": list(entry.tasks)})
        return {
            "run_id": run_id, "job": row["job"], "target": row["target"], "state": row["state"],
            "result": row["result"] if row["state"] not in ("QUEUED", "RUNNING") else None,
            "message": row["message"], "start": _iso(row["start_ms"]), "end": _iso(row["end_ms"]),
            "params": run.params if run is not None else {}, "tasks": tasks, "repairs": repairs,
        }

    def runs(self, job: str | None = None, limit: int = 25) -> list[dict[str, Any]]:
        return [{"run_id": r["run_id"], "job": r["job"], "state": r["state"],
                 "result": r["result"] if r["state"] not in ("QUEUED", "RUNNING") else None,
                 "start": _iso(r["start_ms"]), "end": _iso(r["end_ms"]), "message": r["message"]}
                for r in self.records.recent(job, limit)]

    def logs(self, run_id: int, task_key: str, attempt: int | None = None) -> dict[str, Any]:
        import json

        rows = self.records.attempts(run_id, task_key)
        if not rows:
            raise RunRefused(f"run {run_id} has no attempt of task {task_key!r}")
        if attempt is None:
            chosen = rows[-1]
        else:
            matching = [r for r in rows if r["attempt"] == attempt]
            if not matching:
                raise RunRefused(f"task {task_key!r} of run {run_id} has no attempt {attempt}")
            chosen = matching[-1]

        def read(path: str | None) -> str:
            return Path(path).read_text(errors="replace") if path and os.path.exists(path) else ""

        return {
            "run_id": run_id, "task_key": task_key, "attempt": chosen["attempt"], "repair": chosen["pass_no"],
            "state": chosen["state"], "error": chosen["error"], "error_trace": chosen["error_trace"],
            "logs": read(chosen["stdout_path"]), "stderr": read(chosen["stderr_path"]),
            "notebook_output": chosen["notebook_output"], "columns": json.loads(chosen["columns"] or "[]"),
            "rows": json.loads(chosen["rows"] or "[]"), "truncated": bool(chosen["truncated"]),
            "task_values": json.loads(chosen["task_values"] or "{}"),
        }


def _waiting(phase: str) -> str:
    return {"RUNNING": "RUNNING", "PENDING": "PENDING", "RETRY": "WAITING_FOR_RETRY"}.get(phase, "BLOCKED")


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
