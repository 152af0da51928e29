"""Job runs of the fake workspace: run-now, runs/get, runs/list, runs/cancel, runs/repair, runs/get-output.

Every run is a :class:`flowdef.runs.Run` (the same state machine the local engine drives) on a virtual clock.
With ``run_polls=0`` (the default) a run is driven to its end inside ``run-now`` / ``runs/repair``.  With
``run_polls=N`` a run moves one step per ``runs/get`` poll: QUEUED (over ``max_concurrent_runs``, queueing on) ->
PENDING -> RUNNING (each task attempt lasts N polls) -> TERMINATING (canceled, cleanup still running) ->
TERMINATED; a run over the limit with queueing off is SKIPPED.

Outcomes are scripted per job and task key (for a for-each, the nested task's key, one entry per iteration run):
``ws.script_task(job_id, key, "FAILED", Outcome("SUCCESS", values={...}))`` (one entry per execution, then
success), ``ws.fail_task`` (the next N executions fail), ``ws.set_task_values`` (values a task sets whenever it
runs), ``ws.set_task_output`` (logs, notebook result, error trace, SQL output of ``runs/get-output``).  Task values
live in the run: a task that did not run has none, and another run never sees them.

Run-level state mirrors the service: a failed run reports ``life_cycle_state`` INTERNAL_ERROR with ``result_state``
FAILED and "Task <key> failed with message: <error>." (so the SDK waiter ``run_now(...).result()`` raises
``OperationFailed``, as against a real workspace); skipped tasks have ``life_cycle_state`` SKIPPED.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from flowdef.runs import Outcome, Run, RunStateError, Work, admit
from flowdef.runs.rules import expand_only
from flowdef.testing._wire import Request, Response, body_dict, decode_token, encode_token, need_int, opt_bool, opt_int
from flowdef.testing.runs_render import DEFAULT_TASK_ERROR, Renderer
from flowdef.testing.state import Options, WorkspaceState, invalid, not_found, now_ms

__all__ = ["DEFAULT_TASK_ERROR", "FakeRun", "RunsApi"]

PAGE_SIZE = 100
ACTIVE = ("QUEUED", "PENDING", "RUNNING", "TERMINATING")


@dataclass
class Running:
    work: Work
    outcome: Outcome
    polls_left: int
    run_id: int
    ends_at: int


@dataclass
class FakeRun:
    """A job run of the fake: the state machine, its virtual clock, and what only the service knows (ids)."""

    run_id: int
    job_id: int
    number_in_job: int
    run_name: str
    creator_user_name: str
    start_time: int
    machine: Run
    clock: int
    life: str = "PENDING"  # QUEUED | PENDING | RUNNING | TERMINATING | TERMINATED | SKIPPED
    running: list[Running] = field(default_factory=list)
    #: (task key, repair pass, iteration or -1, attempt or -1) -> task run id
    ids: dict[tuple[str, int, int, int], int] = field(default_factory=dict)
    outputs: dict[int, dict[str, Any]] = field(default_factory=dict)  # task run id -> get-output extras
    job_clusters: list[dict[str, Any]] = field(default_factory=list)
    overriding_parameters: dict[str, Any] = field(default_factory=dict)
    repair_ids: list[int] = field(default_factory=list)
    trigger: str = "ONE_TIME"
    skip_message: str = ""
    #: polls that still show PENDING (a run just admitted from the queue waits one poll for its compute)
    pending_polls: int = 0

    @property
    def finished(self) -> bool:
        return self.life in ("TERMINATED", "SKIPPED")


class RunsApi:
    def __init__(self, state: WorkspaceState, options: Options) -> None:
        self.state = state
        self.options = options
        self.runs: dict[int, FakeRun] = {}
        self.task_runs: dict[int, tuple[int, tuple[str, int, int, int]]] = {}  # task run id -> (run id, key)
        #: (job_id, task key) -> outcomes for the next executions, in order
        self.scripts: dict[tuple[int, str], list[Outcome]] = {}
        self.render = Renderer(self)

    @property
    def host(self) -> str:
        return self.render.host

    @host.setter
    def host(self, value: str) -> None:
        self.render.host = value

    # ---------------------------------------------------------------- scripted outcomes

    def script(self, job_id: int, task_key: str, outcomes: list[Outcome]) -> None:
        self.scripts.setdefault((job_id, task_key), []).extend(outcomes)

    def _outcome(self, fr: FakeRun, work: Work) -> Outcome:
        key = work.task.get("task_key", work.key)
        queue = self.scripts.get((fr.job_id, key))
        outcome = queue.pop(0) if queue else Outcome("SUCCESS")
        failure = self._forced_failure(fr.job_id, key)
        if failure is not None and outcome.state == "SUCCESS":
            outcome = Outcome("FAILED", failure, outcome.values, outcome.duration_ms)
        values = dict(self.state.task_values.get((fr.job_id, key), {}))
        values.update(outcome.values)
        return Outcome(outcome.state, outcome.error, values, outcome.duration_ms)

    def _forced_failure(self, job_id: int, task_key: str) -> str | None:
        entry = self.state.task_failures.get((job_id, task_key))
        if entry is None:
            return None
        remaining, message = entry
        if remaining is not None:
            if remaining <= 0:
                return None
            entry[0] = remaining - 1
        return message or DEFAULT_TASK_ERROR

    # ---------------------------------------------------------------- stepping

    def task_run_id(self, fr: FakeRun, key: str, pass_no: int, iteration: int | None, attempt: int | None) -> int:
        ident = (key, pass_no, -1 if iteration is None else iteration, -1 if attempt is None else attempt)
        run_id = fr.ids.get(ident)
        if run_id is None:
            run_id = fr.ids[ident] = self.state.next_run_id()
            self.task_runs[run_id] = (fr.run_id, ident)
        return run_id

    def _start(self, fr: FakeRun) -> None:
        m = fr.machine
        for work in m.ready(fr.clock):
            m.task_started(work.key, fr.clock, work.iteration)
            outcome = self._outcome(fr, work)
            run_id = self.task_run_id(fr, work.key, m.pass_no, work.iteration, work.attempt)
            extras = dict(self.state.task_outputs.get((fr.job_id, work.task.get("task_key", work.key)), {}))
            fr.outputs[run_id] = extras
            fr.running.append(Running(work, outcome, max(1, self.options.run_polls), run_id,
                                      fr.clock + max(0, outcome.duration_ms)))

    def _finish(self, fr: FakeRun, item: Running) -> None:
        fr.machine.attempt_finished(item.work.key, item.outcome.state, fr.clock, iteration=item.work.iteration,
                                    attempt=item.work.attempt, error=item.outcome.error, values=item.outcome.values)

    def step(self, fr: FakeRun) -> None:
        """One poll's worth of progress: each attempt lasts ``run_polls`` polls (a virtual second each)."""
        if fr.finished or fr.life == "QUEUED":
            return
        if fr.life == "PENDING" and fr.pending_polls > 0:
            fr.pending_polls -= 1
            return
        m = fr.machine
        if fr.life != "PENDING":
            fr.clock += 1000
            for item in list(fr.running):
                item.polls_left -= 1
                if item.polls_left <= 0:
                    fr.running.remove(item)
                    self._finish(fr, item)
            self._expire(fr)
        self._start(fr)
        if not fr.running and not m.terminated:
            deadline = m.next_deadline()  # waiting for a retry interval: jump to it
            if deadline is not None:
                fr.clock = max(fr.clock, deadline)
                self._expire(fr)
                self._start(fr)
        self._sync_life(fr)

    def _expire(self, fr: FakeRun) -> None:
        stopped = {(w.key, w.iteration, w.attempt) for w in fr.machine.expire(fr.clock)}
        fr.running = [r for r in fr.running if (r.work.key, r.work.iteration, r.work.attempt) not in stopped]

    def _sync_life(self, fr: FakeRun) -> None:
        life = fr.machine.life_cycle
        fr.life = "RUNNING" if life == "PENDING" and fr.life == "RUNNING" else life
        if fr.finished:
            fr.running.clear()
            self._promote(fr.job_id)

    def drive(self, fr: FakeRun) -> None:
        """Run to the end at once (``run_polls=0``), each attempt lasting its outcome's virtual duration."""
        m = fr.machine
        for _ in range(100_000):
            self._start(fr)
            if m.terminated:
                break
            times = [r.ends_at for r in fr.running]
            deadline = m.next_deadline()
            if deadline is not None:
                times.append(deadline)
            if not times:
                raise RuntimeError(f"run {fr.run_id} is stuck (a flowdef.runs bug)")
            fr.clock = max(fr.clock, min(times))
            self._expire(fr)
            for item in sorted(fr.running, key=lambda r: r.ends_at):
                if item.ends_at <= fr.clock:
                    fr.running.remove(item)
                    self._finish(fr, item)
        self._sync_life(fr)

    def _advance(self, fr: FakeRun) -> None:
        if self.options.run_polls <= 0:
            if not fr.finished and fr.life != "QUEUED":
                self.drive(fr)
        else:
            self.step(fr)

    def _promote(self, job_id: int) -> None:
        settings = self.state.jobs.get(job_id)
        if settings is None:
            return
        queued = sorted((r for r in self.runs.values() if r.job_id == job_id and r.life == "QUEUED"),
                        key=lambda r: r.run_id)
        for fr in queued:
            active = sum(1 for r in self.runs.values() if r.job_id == job_id and r.life in ACTIVE[1:])
            if admit(settings, active) != "RUN":
                break
            fr.life, fr.pending_polls = "PENDING", 1
            if self.options.run_polls <= 0:
                self.drive(fr)

    # ---------------------------------------------------------------- endpoints

    def run_now(self, req: Request, jobs_api) -> Response:
        body = body_dict(req)
        job_id = need_int(body, "job_id")
        token = body.get("idempotency_token")
        with self.state.lock:
            settings = copy.deepcopy(jobs_api.settings_of(job_id))
            if token and token in self.state.idempotency:
                run_id = self.state.idempotency[token]
                return Response(body={"run_id": run_id, "number_in_job": self.runs[run_id].number_in_job})
            only = None
            if body.get("only"):
                try:
                    only = expand_only(settings.get("tasks") or [], body["only"])
                except KeyError as exc:
                    raise invalid(f"Task {exc.args[0]} in 'only' does not exist in job {job_id}.") from None
            run_id = self.state.next_run_id()
            start = now_ms()
            machine = Run(settings, now=start, params=body.get("job_parameters") or {}, only=only, job_id=job_id,
                          run_id=run_id)
            fr = FakeRun(run_id=run_id, job_id=job_id,
                         number_in_job=1 + sum(1 for r in self.runs.values() if r.job_id == job_id),
                         run_name=str(settings.get("name", "Untitled")), creator_user_name=self.state.user_name,
                         start_time=start, machine=machine, clock=start,
                         job_clusters=copy.deepcopy(settings.get("job_clusters") or []),
                         overriding_parameters={k: body[k] for k in ("notebook_params", "python_params",
                                                                     "jar_params", "sql_params",
                                                                     "python_named_params") if body.get(k)})
            active = sum(1 for r in self.runs.values() if r.job_id == job_id and r.life in ACTIVE)
            verdict = admit(settings, active)
            self.runs[run_id] = fr
            if token:
                self.state.idempotency[token] = run_id
            if verdict == "SKIP":
                fr.life = "SKIPPED"
                fr.skip_message = ("Skipping this run because the limit of "
                                   f"{settings.get('max_concurrent_runs', 1)} maximum concurrent runs has been "
                                   "reached.")
            elif verdict == "QUEUE":
                fr.life = "QUEUED"
            elif self.options.run_polls <= 0:
                self.drive(fr)
        return Response(body={"run_id": run_id, "number_in_job": fr.number_in_job})

    def _run(self, run_id: int) -> FakeRun:
        fr = self.runs.get(run_id)
        if fr is None:
            raise not_found("Run", run_id, self.options)
        return fr

    def get_run(self, req: Request) -> Response:
        run_id = need_int(req.query, "run_id")
        page = decode_token(req.query["page_token"]) if req.query.get("page_token") else 0
        with self.state.lock:
            if run_id in self.task_runs and run_id not in self.runs:  # a task run (a for-each's: iterations)
                owner, ident = self.task_runs[run_id]
                body = self.render.task_as_run(self.runs[owner], ident, iterations=True)
            else:
                fr = self._run(run_id)
                if page == 0:
                    self._advance(fr)
                body = self.render.run(fr, expand=True, history=opt_bool(req.query, "include_history"))
        if req.api_version == "2.1":
            return Response(body=body)
        more = False
        for name in ("tasks", "job_clusters", "job_parameters", "repair_history", "iterations"):
            items = body.pop(name, None)
            if items is None:
                continue
            chunk = items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            if chunk or page == 0:
                body[name] = chunk
            more = more or len(items) > (page + 1) * PAGE_SIZE
        if more:
            body["next_page_token"] = encode_token(page + 1)
        return Response(body=body)

    def list_runs(self, req: Request) -> Response:
        q = req.query
        if opt_bool(q, "active_only") and opt_bool(q, "completed_only"):
            raise invalid("active_only and completed_only cannot both be true.")
        limit = opt_int(q, "limit", 20)
        if limit == 0:
            limit = 25
        if limit is None or not 1 <= limit <= 25:
            raise invalid(f"Invalid limit {q.get('limit')}: limit must be greater than 0 and at most 25.")
        start = decode_token(q["page_token"]) if q.get("page_token") else (opt_int(q, "offset", 0) or 0)
        job_id = opt_int(q, "job_id")
        expand = opt_bool(q, "expand_tasks")
        with self.state.lock:
            runs = [r for r in sorted(self.runs.values(), key=lambda r: -r.run_id)
                    if job_id is None or r.job_id == job_id]
            if opt_bool(q, "active_only"):
                runs = [r for r in runs if not r.finished]
            if opt_bool(q, "completed_only"):
                runs = [r for r in runs if r.finished]
            if q.get("run_type") and q["run_type"] != "JOB_RUN":
                runs = []
            lo, hi = opt_int(q, "start_time_from"), opt_int(q, "start_time_to")
            runs = [r for r in runs if (lo is None or r.start_time >= lo) and (hi is None or r.start_time <= hi)]
            rendered = []
            for fr in runs[start:start + limit]:
                item = self.render.run(fr, expand=expand, history=False)
                if expand:
                    item["has_more"] = len(item.get("tasks", [])) > PAGE_SIZE
                    item["tasks"] = item.get("tasks", [])[:PAGE_SIZE]
                rendered.append(item)
        out: dict[str, Any] = {"has_more": start + limit < len(runs)}
        if rendered:
            out["runs"] = rendered
        if out["has_more"]:
            out["next_page_token"] = encode_token(start + limit)
        if start > 0:
            out["prev_page_token"] = encode_token(max(0, start - limit))
        return Response(body=out)

    def cancel_run(self, req: Request) -> Response:
        run_id = need_int(body_dict(req), "run_id")
        with self.state.lock:
            fr = self._run(run_id)
            if fr.finished:
                return Response(body={})
            stopped = {(w.key, w.iteration, w.attempt) for w in fr.machine.cancel(fr.clock)}
            fr.running = [r for r in fr.running if (r.work.key, r.work.iteration, r.work.attempt) not in stopped]
            if fr.life == "QUEUED":
                fr.life = "PENDING"  # a queued run ends CANCELED without starting anything
            if self.options.run_polls <= 0 or fr.machine.terminated:
                self.drive(fr)
            else:
                self._sync_life(fr)
        return Response(body={})

    def repair_run(self, req: Request, jobs_api) -> Response:
        body = body_dict(req)
        run_id = need_int(body, "run_id")
        with self.state.lock:
            fr = self._run(run_id)
            if not fr.finished:
                raise invalid(f"Run {run_id} is still active and cannot be repaired.")  # INVALID_PARAMETER_VALUE
            latest, given = fr.machine.latest_repair_id, body.get("latest_repair_id")
            if latest is not None and given is None:
                raise invalid("The latest repair ID needs to be provided in the request when a run has "
                              f"been repaired before (latest repair ID: {latest}).")
            if given is not None and int(given) != latest:
                raise invalid(f"The latest repair ID {given} does not match the latest repair of run "
                              f"{run_id} ({latest}).")
            settings = copy.deepcopy(jobs_api.settings_of(fr.job_id))  # repairs use the *current* job definition
            repair_id = self.state.next_repair_id()
            fr.clock = max(fr.clock, now_ms())
            try:
                fr.machine.repair(settings, fr.clock, rerun_tasks=body.get("rerun_tasks"),
                                  all_failed=bool(body.get("rerun_all_failed_tasks")),
                                  dependents=bool(body.get("rerun_dependent_tasks")),
                                  params=body.get("job_parameters") or {}, repair_id=repair_id)
            except RunStateError as exc:
                raise invalid(f"Run {run_id} cannot be repaired: {exc}.") from None
            except ValueError as exc:
                raise invalid(f"Invalid repair request: {exc}.") from None
            fr.life = "PENDING"
            if self.options.run_polls <= 0:
                self.drive(fr)
        return Response(body={"repair_id": repair_id})

    def get_output(self, req: Request) -> Response:
        run_id = need_int(req.query, "run_id")
        with self.state.lock:
            if run_id in self.runs:
                fr = self.runs[run_id]
                if len(fr.machine.records) != 1:
                    raise invalid("Retrieving the output of runs with multiple tasks is not supported. "
                                  "Please retrieve the output of each individual task run instead.")
                record = next(iter(fr.machine.records.values()))
                run_id = self.render.latest_task_run_id(fr, record)
            if run_id not in self.task_runs:
                raise not_found("Run", run_id, self.options)
            owner, ident = self.task_runs[run_id]
            return Response(body=self.render.output(self.runs[owner], ident, run_id))
