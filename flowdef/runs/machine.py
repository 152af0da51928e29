"""One job run as an explicit state machine: :class:`Run`.  No I/O, no threads, no clock: every step is given
``now`` (milliseconds), so the fake workspace (virtual time, one step per poll) and the local engine (real time,
real processes) drive exactly the same rules.  See the package docstring for the protocol.
"""

from __future__ import annotations

import copy
import heapq
import json
from collections.abc import Iterable, Mapping
from typing import Any

import flowdef.runs.rules as rules
from flowdef.runs.policy import flag
from flowdef.runs.records import (
    BLOCKED, DONE, ITERATING, PENDING, READY, RETRY, RUNNING, Attempt, Iteration, RepairEntry, TaskRecord, Work,
    _DoneView,
)
from flowdef.runs.values import Context, check_values, resolve, resolve_operand, resolve_task

__all__ = ["Attempt", "Iteration", "RepairEntry", "Run", "RunStateError", "TaskRecord", "Work"]

_OUTCOMES = ("SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR")


class RunStateError(ValueError):
    """A request the run cannot take in its current state (repairing a run that is still active...)."""


class Run:
    """A job run (and its repairs) from the job's settings payload.

    ``settings`` is the Jobs API job settings dict (``tasks``, ``parameters``, ``timeout_seconds``...); ``params``
    overrides job parameter defaults; ``only`` limits the run to these task keys (edges to other tasks are
    dropped).  ``job_id``, ``run_id`` and ``job_name`` only feed references (``{{job.run_id}}``...).
    """

    def __init__(self, settings: Mapping[str, Any], *, now: int, params: Mapping[str, Any] | None = None,
                 only: Iterable[str] | None = None, job_id: Any = None, run_id: Any = None,
                 job_name: str | None = None) -> None:
        self.job_id, self.run_id = job_id, run_id
        self.job_name = job_name if job_name is not None else settings.get("name")
        self.start_time = now
        self.end_time: int | None = None
        self.defaults = {p["name"]: str(p.get("default", "")) for p in settings.get("parameters") or ()}
        self.params = dict(self.defaults, **{k: str(v) for k, v in (params or {}).items()})
        self.canceled = False
        self.timed_out = False
        self.started = False
        self.pass_no = 0
        self.result: str | None = None
        self.records: dict[str, TaskRecord] = {}
        tasks = list(settings.get("tasks") or ())
        self.only = None if only is None else set(only)
        tasks = self._restrict(tasks)
        self._load(settings, tasks, fresh=None)
        self.history: list[RepairEntry] = [RepairEntry("ORIGINAL", now, tuple(self.order))]

    # ------------------------------------------------------------------ structure

    def _restrict(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """An ``only`` run (and its repairs) holds only the chosen tasks; edges to the others are dropped."""
        if self.only is None:
            return tasks
        keep = self.only
        return [dict(t, depends_on=[d for d in t.get("depends_on") or () if d["task_key"] in keep])
                for t in tasks if t["task_key"] in keep]

    def _load(self, settings: Mapping[str, Any], tasks: list[dict[str, Any]], fresh: set[str] | None) -> None:
        from flowdef import graph

        self.timeout_ms = int(settings.get("timeout_seconds") or 0) * 1000
        g = graph.of_payload(tasks)
        if not g.is_acyclic:
            raise ValueError("the job's tasks form a cycle: " + " -> ".join(graph.cycles(g)[0]))
        known = set(g.nodes)
        for t in tasks:
            for d in t.get("depends_on") or ():
                if d["task_key"] not in known:
                    raise ValueError(f"task {t['task_key']!r} depends on unknown task {d['task_key']!r}")
        for t in tasks:
            key = t["task_key"]
            old = self.records.get(key)
            if old is None or (fresh is not None and key in fresh):
                record = TaskRecord(key, copy.deepcopy(t), repair=self.pass_no if old is None else self.pass_no)
                if old is not None:
                    record.history = old.history
                    record.iterations = old.iterations  # kept for FOREACH_REPAIR_RERUNS_ALL
                if t.get("disabled"):
                    record.phase, record.state = DONE, "DISABLED"
                elif not t.get("depends_on"):
                    record.phase = READY
                self.records[key] = record
        # current tasks in topological order, then tasks only the earlier passes had (kept, shown, never rerun)
        self.order = g.order + [k for k in self.records if k not in known]
        self.children: dict[str, list[str]] = {k: list(g.succ[k]) for k in g.nodes}
        # bookkeeping that keeps every step proportional to what changed (a 1,000-task chain stays linear):
        # _dirty: tasks to (re)decide, popped in topological order; _open: tasks handed out or to hand out
        self._index = {k: i for i, k in enumerate(self.order)}
        self._dirty: list[tuple[int, str]] = []
        self._queued: set[str] = set()
        self._open: set[str] = set()
        self._undone = 0
        #: blocked task -> how many of its parents are not final yet (decided when it reaches 0)
        self._waiting = {k: sum(1 for p, _ in r.deps if p in self.records and self.records[p].phase != DONE)
                         for k, r in self.records.items() if r.phase == BLOCKED}
        for key, record in self.records.items():
            if record.phase != DONE:
                self._undone += 1
                self._mark_dirty(key)
                if record.phase == READY:
                    self._open.add(key)

    def _mark_dirty(self, key: str) -> None:
        if key not in self._queued and key in self._index:
            self._queued.add(key)
            heapq.heappush(self._dirty, (self._index[key], key))

    @property
    def tasks(self) -> list[TaskRecord]:
        return [self.records[k] for k in self.order]

    @property
    def leaves(self) -> list[str]:
        return [k for k in self.order if not self.children.get(k)]

    @property
    def terminated(self) -> bool:
        return self.result is not None

    @property
    def life_cycle(self) -> str:
        """PENDING (nothing handed out yet), RUNNING, TERMINATING (canceled or timed out, cleanup still going),
        TERMINATED."""
        if self.result is not None:
            return "TERMINATED"
        if self.canceled or self.timed_out:
            return "TERMINATING"
        return "RUNNING" if self.started else "PENDING"

    def _context(self, task_key: str | None = None, execution_count: int = 0, input: Any = None,
                 has_input: bool = False) -> Context:
        records = self.records
        ctx = Context(
            params=self.params, values=_DoneView(records, lambda r: r.values),
            states=_DoneView(records, lambda r: r.state), execution_counts=_DoneView(records, lambda r: len(r.attempts)),
            job_id=self.job_id, job_name=self.job_name, run_id=self.run_id, repair_count=self.pass_no,
            start_time_ms=self.start_time, task_key=task_key, execution_count=execution_count)
        if has_input:
            ctx.input = input
        return ctx

    # ------------------------------------------------------------------ deciding

    def _settle(self, now: int) -> None:
        """Decide every blocked task whose parents are final, until nothing changes (a condition task settles at
        once, which may unblock more)."""
        while self._dirty:
            _, key = heapq.heappop(self._dirty)
            self._queued.discard(key)
            record = self.records[key]
            if record.phase in (BLOCKED, READY):
                self._decide(record, now)
        if self._undone == 0 and self.result is None and self.started:
            self._terminate(now)

    def _decide(self, record: TaskRecord, now: int) -> None:
        if record.phase == BLOCKED:
            if self._waiting.get(record.key, 0) > 0:
                return
            parents = [(self.records[p], outcome) for p, outcome in record.deps if p in self.records]
            edges = [rules.classify_edge(p.state or "", p.outcome, outcome) for p, outcome in parents]
            verdict = rules.decide(record.spec.get("run_if"), edges)
        else:
            verdict = rules.RUN
        if verdict == rules.RUN and (self.canceled or self.timed_out) \
                and (record.spec.get("run_if") or "ALL_SUCCESS") in rules.SUCCESS_RULES:
            verdict = "UPSTREAM_CANCELED" if record.deps else str(flag("CANCELED_ROOT_STATE"))
        if verdict != rules.RUN:
            self._finish(record, verdict, now)
        elif "condition_task" in record.spec:
            self._condition(record, now)
        elif "for_each_task" in record.spec:
            self._start_loop(record, now)
        elif record.phase == BLOCKED:
            record.phase = READY
            self._open.add(record.key)

    def _finish(self, record: TaskRecord, state: str, now: int, error: str | None = None) -> None:
        if record.phase != DONE:
            self._undone -= 1
            for child in self.children.get(record.key, ()):
                left = self._waiting.get(child)
                if left is not None:
                    self._waiting[child] = left - 1
                    if left <= 1:
                        self._mark_dirty(child)
        self._open.discard(record.key)
        record.phase, record.state, record.error = DONE, state, error
        if record.start is not None or state not in rules.SKIPPED_STATES:
            record.end = now
        if record.start is None and state not in rules.SKIPPED_STATES:
            record.start = now

    def _condition(self, record: TaskRecord, now: int) -> None:
        """Condition tasks run inside the machine: resolve the operands, compare, SUCCESS with outcome true/false,
        or FAILED (a non-numeric operand of an ordering op, a non-scalar operand) [IE]."""
        self.started = True
        cond = record.spec["condition_task"]
        ctx = self._context(record.key, 1)
        attempt = Attempt(0, self.pass_no, now, start=now, end=now)
        record.attempts, record.start = [attempt], now
        record.history.append(attempt)
        try:
            left = resolve_operand(cond.get("left", ""), ctx)
            right = resolve_operand(cond.get("right", ""), ctx)
            record.resolved = {"left": left, "right": right}
            value = rules.compare(cond.get("op", ""), left, right)
        except ValueError as exc:
            attempt.state, attempt.error = "FAILED", str(exc)
            record.outcome = None
            self._finish(record, "FAILED", now, str(exc))
            return
        attempt.state = "SUCCESS"
        record.outcome = "true" if value else "false"
        self._finish(record, "SUCCESS", now)

    def _start_loop(self, record: TaskRecord, now: int) -> None:
        self.started = True
        loop = record.spec["for_each_task"]
        raw = resolve(str(loop.get("inputs", "[]")), self._context(record.key, 1))
        record.resolved = {"inputs": raw}
        record.start, record.attempts = now, [Attempt(0, self.pass_no, now, start=now)]
        record.history.append(record.attempts[0])
        try:
            items = json.loads(raw)
        except ValueError:
            items = None
        if not isinstance(items, list):
            self._end_loop(record, now, f"for_each_task inputs must be a JSON array, got {raw!r}")
            return
        kept = {}
        if record.iterations and not flag("FOREACH_REPAIR_RERUNS_ALL"):
            kept = {it.index: it for it in record.iterations if it.state == "SUCCESS"}
        record.iterations = [kept[i] if i in kept and kept[i].input == item else Iteration(i, item)
                             for i, item in enumerate(items)]
        record.phase = ITERATING
        self._open.add(record.key)
        self._check_loop(record, now)

    def _check_loop(self, record: TaskRecord, now: int) -> None:
        its = record.iterations or []
        if not flag("FOREACH_KEEP_GOING") and any(it.phase == DONE and it.state != "SUCCESS" for it in its):
            for it in its:  # stop at the first failure: iterations not started yet never start
                if it.phase in (READY, RETRY):
                    it.phase, it.state = DONE, "CANCELED"
        if all(it.phase == DONE for it in its):
            failed = [it for it in its if it.state != "SUCCESS"]
            error = f"{len(failed)} of {len(its)} iterations did not succeed" if failed else None
            self._end_loop(record, now, error, canceled=self.canceled or self.timed_out)

    def _end_loop(self, record: TaskRecord, now: int, error: str | None, canceled: bool = False) -> None:
        state = "SUCCESS" if error is None else ("CANCELED" if canceled else "FAILED")
        attempt = record.attempts[-1]
        attempt.end, attempt.state, attempt.error = now, state, error
        self._finish(record, state, now, error)

    # ------------------------------------------------------------------ the driver's steps

    def ready(self, now: int) -> list[Work]:
        """Settle what can be decided, then hand out the work to start now (first attempts, retries whose interval
        has passed, for-each iterations within ``concurrency``).  Each item must be answered by
        :meth:`attempt_finished` (and may be announced by :meth:`task_started`)."""
        self.started = True
        self._settle(now)
        out: list[Work] = []
        for key in sorted(self._open, key=self._index.__getitem__):
            record = self.records[key]
            if record.phase == READY or (record.phase == RETRY and (record.retry_at or 0) <= now):
                number = len(record.attempts) if record.phase == RETRY else 0
                if record.phase == READY:
                    record.attempts = []
                attempt = Attempt(number, self.pass_no, now)
                record.attempts.append(attempt)
                record.history.append(attempt)
                record.phase, record.retry_at = PENDING, None
                if record.start is None:
                    record.start = now
                try:
                    task = resolve_task(record.spec, self._context(key, number + 1))
                except ValueError as exc:  # a reference that cannot be resolved fails the attempt at once
                    self.attempt_finished(key, "FAILED", now, error=str(exc))
                    continue
                out.append(Work(key, number, task))
            elif record.phase == ITERATING:
                out.extend(self._iterations_to_start(record, now))
        return out

    @staticmethod
    def _slots(record: TaskRecord) -> tuple[int, bool]:
        """Free for-each concurrency slots, and whether an iteration waiting for its retry holds its own slot
        (policy RETRY_WAIT_HOLDS_FOREACH_SLOT): such an iteration may always take its retry, whatever is free."""
        loop = record.spec["for_each_task"]
        limit = max(1, int(loop.get("concurrency") or 1))
        holds = bool(flag("RETRY_WAIT_HOLDS_FOREACH_SLOT"))
        busy = {PENDING, RUNNING} | ({RETRY} if holds else set())
        return limit - sum(1 for it in record.iterations or [] if it.phase in busy), holds

    def _iterations_to_start(self, record: TaskRecord, now: int) -> list[Work]:
        free, holds = self._slots(record)
        nested = record.spec["for_each_task"].get("task") or {}
        out = []
        for it in record.iterations or []:
            due_retry = it.phase == RETRY and (it.retry_at or 0) <= now
            if not (it.phase == READY or due_retry):
                continue
            own_slot = due_retry and holds
            if free <= 0 and not own_slot:
                if not holds:
                    break
                continue  # a later iteration may be a due retry that holds its own slot
            number = len(it.attempts)
            attempt = Attempt(number, self.pass_no, now)
            it.attempts.append(attempt)
            it.phase, it.retry_at = PENDING, None
            free -= not own_slot
            ctx = self._context(nested.get("task_key"), number + 1, it.input, has_input=True)
            try:
                task = resolve_task(nested, ctx)
            except ValueError as exc:
                self.attempt_finished(record.key, "FAILED", now, iteration=it.index, error=str(exc))
                continue
            out.append(Work(record.key, number, task, it.index, it.input))
        return out

    def _unit(self, key: str, iteration: int | None) -> tuple[TaskRecord, Any, dict[str, Any]]:
        record = self.records.get(key)
        if record is None:
            raise KeyError(f"no task {key!r} in this run")
        if iteration is None:
            return record, record, record.spec
        its = record.iterations or []
        if not 0 <= iteration < len(its):
            raise KeyError(f"task {key!r} has no iteration {iteration}")
        return record, its[iteration], record.spec["for_each_task"].get("task") or {}

    def task_started(self, key: str, now: int, iteration: int | None = None) -> None:
        """The driver really started the attempt handed out for ``key`` (its start time is ``now``)."""
        _, unit, _ = self._unit(key, iteration)
        if unit.phase == PENDING:
            unit.phase = RUNNING
            unit.attempt.start = now

    def attempt_finished(self, key: str, state: str, now: int, *, iteration: int | None = None,
                         attempt: int | None = None, error: str | None = None,
                         values: Mapping[str, Any] | None = None) -> bool:
        """The attempt ended in ``state`` (SUCCESS, FAILED, TIMEDOUT, CANCELED, INTERNAL_ERROR).  Values it set
        are checked (JSON, at most 48 KiB each; a bad one fails the attempt).  It is retried when the rules say
        so, after ``min_retry_interval_millis`` from its start.  Returns False for an answer the run no longer
        waits for (a stale attempt, one already timed out or canceled)."""
        if state not in _OUTCOMES:
            raise ValueError(f"unknown attempt outcome {state!r}; expected one of {', '.join(_OUTCOMES)}")
        record, unit, spec = self._unit(key, iteration)
        current = unit.attempt
        if unit.phase not in (PENDING, RUNNING) or current is None or (attempt is not None and
                                                                       attempt != current.number):
            return False
        vals = dict(values or {})
        problem = check_values(vals)
        if problem is not None:
            vals, state, error = {}, "FAILED", problem
        current.end, current.state, current.error, current.values = now, state, error, vals
        if current.start is None:
            current.start = now
        stopping = (self.canceled or self.timed_out) and flag("NO_RETRY_WHILE_STOPPING")
        if not stopping and rules.retryable(state, spec) and len(unit.attempts) < rules.max_attempts(spec):
            unit.phase = RETRY
            unit.retry_at = max(now, current.start + int(spec.get("min_retry_interval_millis") or 0))
            return True
        if iteration is None:
            record.values = vals if flag("VALUES_OF_LATEST_ATTEMPT") or state == "SUCCESS" else {}
            self._finish(record, state, now, error)
        else:
            unit.phase, unit.state = DONE, state
            self._check_loop(record, now)
        self._settle(now)
        return True

    def cancel(self, now: int) -> list[Work]:
        """Cancel the run: running attempts end CANCELED (returned: the driver must stop them), tasks not started
        spread UPSTREAM_CANCELED, failure-handling tasks (ALL_DONE, AT_LEAST_ONE_FAILED, ALL_FAILED) still run [R].
        The run ends CANCELED once they are done."""
        if self.result is not None:
            return []
        self.canceled = True
        return self._stop(now, "CANCELED", "Run was canceled")

    def _stop(self, now: int, state: str, why: str) -> list[Work]:
        self.started = True  # a run stopped before its first step ends now, not at the next ready()
        stopped: list[Work] = []
        for record in self.records.values():
            if record.phase in (PENDING, RUNNING, RETRY):
                if record.phase != RETRY:
                    stopped.append(Work(record.key, record.attempt.number if record.attempt else 0, record.spec))
                    if record.attempt is not None:
                        record.attempt.end, record.attempt.state = now, state
                self._finish(record, state, now, why)
            elif record.phase == READY and (record.spec.get("run_if") or "ALL_SUCCESS") in rules.SUCCESS_RULES:
                self._finish(record, "UPSTREAM_CANCELED" if record.deps else str(flag("CANCELED_ROOT_STATE")), now)
            elif record.phase == ITERATING:
                for it in record.iterations or []:
                    if it.phase in (PENDING, RUNNING) and it.attempt is not None:
                        stopped.append(Work(record.key, it.attempt.number, record.spec, it.index, it.input))
                        it.attempt.end, it.attempt.state = now, state
                    if it.phase != DONE:
                        it.phase, it.state = DONE, state
                self._end_loop(record, now, why, canceled=True)
        self._settle(now)
        return stopped

    def expire(self, now: int) -> list[Work]:
        """Apply task and job timeouts at ``now``: a task attempt over its ``timeout_seconds`` ends TIMEDOUT
        (retried only with ``retry_on_timeout``); a run over the job's ``timeout_seconds`` stops what runs (policy
        JOB_TIMEOUT_TASK_STATE) and ends TIMEDOUT.  Returns the work the driver must stop."""
        if self.result is not None:
            return []
        if self.timeout_ms and now >= self.start_time + self.timeout_ms and not (self.timed_out or self.canceled):
            self.timed_out = True
            return self._stop(now, str(flag("JOB_TIMEOUT_TASK_STATE")), "Run timed out")
        stopped: list[Work] = []
        for record in [self.records[k] for k in sorted(self._open, key=self._index.__getitem__)]:
            units: list[tuple[Any, dict[str, Any], int | None]] = []
            if record.phase in (PENDING, RUNNING):
                units.append((record, record.spec, None))
            elif record.phase == ITERATING:
                nested = record.spec["for_each_task"].get("task") or {}
                units += [(it, nested, it.index) for it in record.iterations or [] if it.phase in (PENDING, RUNNING)]
            for unit, spec, index in units:
                limit = int(spec.get("timeout_seconds") or 0) * 1000
                att = unit.attempt
                began = att.start if att.start is not None else att.handed_at
                if limit and now >= began + limit:
                    stopped.append(Work(record.key, att.number, spec, index, getattr(unit, "input", None)))
                    self.attempt_finished(record.key, "TIMEDOUT", now, iteration=index, attempt=att.number,
                                          error=f"Task timed out after {limit // 1000} seconds")
        return stopped

    def next_deadline(self) -> int | None:
        """The earliest time at which :meth:`ready` or :meth:`expire` has something new to do (a retry falls due,
        a timeout expires), or None."""
        times: list[int] = []
        if self.result is not None:
            return None
        if self.timeout_ms and not self.timed_out:
            times.append(self.start_time + self.timeout_ms)
        for record in (self.records[k] for k in self._open):
            units: list[tuple[Any, dict[str, Any]]] = [(record, record.spec)]
            retry_can_start = True
            if record.phase == ITERATING:
                nested = record.spec["for_each_task"].get("task") or {}
                units = [(it, nested) for it in record.iterations or []]
                # a retry that falls due while every slot is busy cannot start then: reporting its time (soon in
                # the past) made drivers that jump to the next deadline spin without moving their clock.  The
                # attempt that frees a slot ends through attempt_finished/expire, after which ready() starts it.
                free, holds = self._slots(record)
                retry_can_start = free > 0 or holds
            for unit, spec in units:
                if unit.phase == RETRY and unit.retry_at is not None and retry_can_start:
                    times.append(unit.retry_at)
                limit = int(spec.get("timeout_seconds") or 0) * 1000
                if unit.phase in (PENDING, RUNNING) and limit and unit.attempt is not None:
                    att = unit.attempt
                    times.append((att.start if att.start is not None else att.handed_at) + limit)
        return min(times) if times else None

    def _terminate(self, now: int) -> None:
        states = {k: r.state or "" for k, r in self.records.items()}
        self.result = rules.run_result(states, self.leaves, canceled=self.canceled, timed_out=self.timed_out)
        self.end_time = now
        entry = self.history[-1]
        entry.end, entry.result = now, self.result

    # ------------------------------------------------------------------ repair [RP]

    def repair(self, settings: Mapping[str, Any], now: int, *, rerun_tasks: Iterable[str] | None = None,
               all_failed: bool = False, dependents: bool = False, params: Mapping[str, Any] | None = None,
               repair_id: Any = None) -> set[str]:
        """Repair the finished run with the job's *current* ``settings``: rerun ``rerun_tasks`` xor every failed
        task (``all_failed``), plus everything downstream with ``dependents``; the other tasks keep their results
        and task values.  Returns the rerun task keys.  ``RunStateError`` while the run is active, ``ValueError``
        for a request the service rejects."""
        if self.result is None:
            raise RunStateError("the run is still active and cannot be repaired")
        tasks = list(settings.get("tasks") or ())
        if flag("REPAIR_OF_ONLY_RUN_STAYS_INSIDE"):
            tasks = self._restrict(tasks)
        else:
            self.only = None
        previous = {k: r.state or "" for k, r in self.records.items()}
        chosen = rules.repair_selection(tasks, previous, rerun_tasks, all_failed, dependents)
        if not chosen:
            raise RunStateError("the run has no failed tasks to repair")
        self.pass_no += 1
        self.params.update({k: str(v) for k, v in (params or {}).items()})
        self.canceled = self.timed_out = False
        self.result, self.end_time, self.started = None, None, False
        self._load(settings, tasks, fresh=chosen)
        self.history.append(RepairEntry("REPAIR", now, tuple(k for k in self.order if k in chosen), repair_id))
        return chosen

    @property
    def latest_repair_id(self) -> Any:
        return self.history[-1].id if len(self.history) > 1 else None
