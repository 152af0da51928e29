"""Run semantics of Lakeflow Jobs: one pure, step-by-step state machine that the fake workspace and the local
engine both drive, so the service's rules live in exactly one place.

No I/O, no threads, no clock reads: every step takes ``now`` (milliseconds).  The input is the Jobs API job
settings payload (what ``compile`` produces and the fake stores: ``tasks`` with ``task_key``, ``depends_on``
``[{task_key, outcome}]``, ``run_if``, ``condition_task``, ``for_each_task``, ``max_retries``,
``min_retry_interval_millis``, ``retry_on_timeout``, ``timeout_seconds``, ``disabled``; the job's
``timeout_seconds``, ``parameters``, ``max_concurrent_runs``, ``queue``) and the run's parameters.

The protocol (see :func:`flowdef.runs.drive.drive` for the shortest complete driver)::

    run = Run(settings, now=t, params={"catalog": "dev"}, only=None, job_id=..., run_id=...)
    while not run.terminated:
        for work in run.ready(now):           # settles skipped tasks (EXCLUDED, UPSTREAM_FAILED, DISABLED...),
            start(work)                        #   evaluates condition tasks itself, hands out attempts and
            run.task_started(work.key, now, work.iteration)   #   for-each iterations (work.task is resolved)
        ...
        run.attempt_finished(work.key, "FAILED", now, iteration=work.iteration, attempt=work.attempt,
                             error="...", values={"rows": 3})  # retried after min_retry_interval_millis, or final
        for work in run.expire(now):           # task and job timeouts: stop these
            stop(work)
        sleep_until(run.next_deadline())       # the next retry or timeout, or None
    run.result                                  # SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT, CANCELED
    run.cancel(now)                             # -> work to stop; cleanup (ALL_DONE...) tasks still run
    run.repair(current_settings, now, all_failed=True, dependents=True, repair_id=...)   # same run, next pass

What a driver reads: ``run.tasks`` (:class:`TaskRecord` in topological order: ``state``, ``attempts``,
``start``/``end``, ``error``, ``outcome`` of a condition, ``values``, ``iterations`` of a for-each, ``resolved``
operands / inputs), ``run.life_cycle`` (PENDING, RUNNING, TERMINATING, TERMINATED; QUEUED is the driver's, decided
by :func:`admit`), ``run.result``, ``run.history`` (``repair_history``: the original run, then each repair).

Modules: :mod:`~flowdef.runs.rules` (edge classes, ``run_if``, conditions, retries, the run's result, repair and
``only`` selection), :mod:`~flowdef.runs.values` (task values, reference resolution through the project's one
reference grammar), :mod:`~flowdef.runs.machine` (the :class:`Run`), :mod:`~flowdef.runs.admission`
(``max_concurrent_runs`` and queueing), :mod:`~flowdef.runs.policy` (the rules no public source settles, each
flagged by name and tested by name), :mod:`~flowdef.runs.drive` (virtual-time driver).

Example::

    >>> from flowdef.runs import Run, drive
    >>> settings = {"tasks": [{"task_key": "a"}, {"task_key": "b", "depends_on": [{"task_key": "a"}]},
    ...                       {"task_key": "cleanup", "depends_on": [{"task_key": "b"}], "run_if": "ALL_DONE"}]}
    >>> run = Run(settings, now=0)
    >>> end = drive(run, lambda work: "FAILED" if work.key == "a" else "SUCCESS")
    >>> [(t.key, t.state) for t in run.tasks], run.result
    ([('a', 'FAILED'), ('b', 'UPSTREAM_FAILED'), ('cleanup', 'SUCCESS')], 'SUCCESS_WITH_FAILURES')
"""

from __future__ import annotations

from flowdef.runs.admission import admit
from flowdef.runs.drive import Outcome, drive
from flowdef.runs.machine import Attempt, Iteration, RepairEntry, Run, RunStateError, TaskRecord, Work
from flowdef.runs.policy import POLICY, flag
from flowdef.runs.rules import compare, decide, run_result

__all__ = [
    "POLICY", "Attempt", "Iteration", "Outcome", "RepairEntry", "Run", "RunStateError", "TaskRecord", "Work",
    "admit", "compare", "decide", "drive", "flag", "run_result",
]
