"""Run semantics of Lakeflow Jobs, as one pure module (no I/O, standard library only).

Both the fake workspace (:mod:`flowdef.testing`) and the local engine decide task outcomes here, so
the rules live in exactly one place.  Everything works on plain Jobs API payload dicts
(``{"task_key": ..., "depends_on": [...], "run_if": ..., "condition_task": {...}, ...}``) and on
result-state strings (``"SUCCESS"``, ``"FAILED"``, ``"EXCLUDED"``...), never on SDK objects.

The building blocks, from small to large:

``compare(op, left, right)``
    condition-task comparison (``EQUAL_TO``/``NOT_EQUAL`` compare strings, the other four numbers).
``decide(run_if, upstream)``
    given a task's ``run_if`` and the final states of its dependencies, either ``"RUN"`` or the
    result state the task ends in without running (``UPSTREAM_FAILED``, ``EXCLUDED``...).
``repair_selection(...)``
    which tasks ``runs/repair`` re-runs.
``simulate(tasks, execute)``
    walk the DAG in topological order, call ``execute(task_key, attempt)`` for every task that runs,
    apply retries, and return a :class:`TaskResult` per task.
``run_result(tasks, results)``
    the job run's own result state from its tasks' results.

Rules and their sources (``docs/jobs-api.md`` sections 6.1-6.3, 12, 14.3 of the shared docs):

* run_if table (6.1)::

      ALL_SUCCESS           every dependency succeeded                   else UPSTREAM_FAILED
      AT_LEAST_ONE_SUCCESS  >= 1 dependency succeeded                    else UPSTREAM_FAILED
      NONE_FAILED           no dependency failed and >= 1 of them ran    else UPSTREAM_FAILED
      ALL_DONE              always (once every dependency finished)
      AT_LEAST_ONE_FAILED   >= 1 dependency failed                       else EXCLUDED
      ALL_FAILED            every dependency failed                      else EXCLUDED

* ``EXCLUDED`` upstream counts as success; when *all* dependencies are excluded the task is
  excluded whatever its ``run_if``.  A dependency on a condition task whose ``outcome`` does not match
  the condition's result counts as excluded (the branch not taken).  ``DISABLED`` upstream is treated
  like ``EXCLUDED`` (inferred: a disabled task is skipped without failing the run).
* Not-executed upstream states (``UPSTREAM_FAILED``, ``UPSTREAM_CANCELED``) are not "runs" for
  ``NONE_FAILED``: ``NONE_FAILED`` runs when no dependency FAILED/TIMEDOUT and at least one SUCCEEDED.
* For the failure-handling rules (``AT_LEAST_ONE_FAILED``, ``ALL_FAILED``) we count ``FAILED``,
  ``TIMEDOUT``, ``CANCELED``, ``UPSTREAM_FAILED`` and ``UPSTREAM_CANCELED`` as failures, so a cleanup
  task still runs when a failure happened further upstream or the run was cancelled (the docs say
  failure-handling tasks still run on cancellation; the treatment of ``UPSTREAM_*`` is inferred).
* A success rule that is not met because of a cancellation yields ``UPSTREAM_CANCELED``.
* Retries (3, 12): a task is retried while its attempt ends ``FAILED`` (or ``TIMEDOUT`` with
  ``retry_on_timeout``), at most ``max_retries`` times; ``-1`` means "forever", which the simulation
  caps at :data:`INFINITE_RETRY_CAP` attempts.  Condition tasks are never retried.
* Repair (14.3): ``rerun_tasks`` xor ``rerun_all_failed_tasks``; ``rerun_dependent_tasks`` adds
  everything downstream.  "Failed" for repair means any unsuccessful state, including the skipped
  ``UPSTREAM_FAILED``/``UPSTREAM_CANCELED`` ones (they never ran, so a repair must run them).

Example::

    >>> tasks = [{"task_key": "a"}, {"task_key": "b", "depends_on": [{"task_key": "a"}]}]
    >>> res = simulate(tasks, lambda key, attempt: "FAILED" if key == "a" else "SUCCESS")
    >>> res["a"].state, res["b"].state
    ('FAILED', 'UPSTREAM_FAILED')
"""

from __future__ import annotations

import graphlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CONDITION_OPS",
    "INFINITE_RETRY_CAP",
    "REPAIRABLE_STATES",
    "RUN",
    "RUN_IF_VALUES",
    "Outcome",
    "TaskResult",
    "compare",
    "decide",
    "dependencies",
    "downstream_of",
    "expand_only",
    "for_each_result",
    "is_success",
    "repair_selection",
    "run_result",
    "simulate",
    "topological_order",
    "upstream_of",
]

RUN: Literal["RUN"] = "RUN"

from flowdef.jobsapi.facts import CONDITION_OPS, RUN_IF_VALUES  # noqa: E402
#: ``max_retries: -1`` ("retry forever") is capped at this many attempts in a simulation.
INFINITE_RETRY_CAP = 100

# Upstream state classes.
_SUCCESS_LIKE = frozenset({"SUCCESS", "SUCCESS_WITH_FAILURES"})
_EXCLUDED_LIKE = frozenset({"EXCLUDED", "DISABLED"})
_FAILED = frozenset({"FAILED", "TIMEDOUT", "INTERNAL_ERROR"})
_CANCELED = frozenset({"CANCELED", "UPSTREAM_CANCELED"})
_FAILURE_FOR_HANDLERS = _FAILED | _CANCELED | {"UPSTREAM_FAILED"}
#: States a ``rerun_all_failed_tasks`` repair selects.
REPAIRABLE_STATES = frozenset(
    {"FAILED", "TIMEDOUT", "CANCELED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "INTERNAL_ERROR",
     "MAXIMUM_CONCURRENT_RUNS_REACHED"}
)


def is_success(state: str) -> bool:
    """True for states that count as success downstream (SUCCESS, EXCLUDED, DISABLED...)."""
    return state in _SUCCESS_LIKE or state in _EXCLUDED_LIKE


# --------------------------------------------------------------------------------------------
# Condition tasks (6.2)
# --------------------------------------------------------------------------------------------


def _number(text: str) -> float:
    value = float(str(text).strip())
    if math.isnan(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def compare(op: str, left: Any, right: Any) -> bool:
    """Evaluate a condition task: ``EQUAL_TO``/``NOT_EQUAL`` compare the operands as strings
    (``"12.0" == "12"`` is false); the ordering operators compare them as numbers
    (``"12.0" >= "12"`` is true).

    Operands are stringified first (booleans as ``"true"``/``"false"`` like task values are).
    Raises ``ValueError`` for an unknown ``op`` or a non-numeric operand of an ordering operator -
    the service fails the condition task in that case.

    >>> compare("EQUAL_TO", "12.0", "12"), compare("GREATER_THAN_OR_EQUAL", "12.0", "12")
    (False, True)
    """
    lhs, rhs = _operand(left), _operand(right)
    if op == "EQUAL_TO":
        return lhs == rhs
    if op == "NOT_EQUAL":
        return lhs != rhs
    if op not in CONDITION_OPS:
        raise ValueError(f"unknown condition op {op!r}; expected one of {', '.join(CONDITION_OPS)}")
    a, b = _number(lhs), _number(rhs)
    if op == "GREATER_THAN":
        return a > b
    if op == "GREATER_THAN_OR_EQUAL":
        return a >= b
    if op == "LESS_THAN":
        return a < b
    return a <= b  # LESS_THAN_OR_EQUAL


def _operand(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------------------------
# run_if (6.1)
# --------------------------------------------------------------------------------------------


def decide(run_if: str | None, upstream: Sequence[tuple[str, bool]]) -> str:
    """Decide whether a task runs once all its dependencies have finished.

    ``upstream`` holds one ``(result_state, outcome_matched)`` pair per dependency;
    ``outcome_matched`` is False when the dependency names an ``outcome`` of a condition task that
    the condition did not produce (that edge then counts as ``EXCLUDED``).  ``run_if`` ``None``
    means the default ``ALL_SUCCESS``.

    Returns :data:`RUN` or the result state the task ends in without running.

    >>> decide("ALL_SUCCESS", [("SUCCESS", True), ("FAILED", True)])
    'UPSTREAM_FAILED'
    >>> decide("AT_LEAST_ONE_FAILED", [("SUCCESS", True)])
    'EXCLUDED'
    """
    rule = run_if or "ALL_SUCCESS"
    if rule not in RUN_IF_VALUES:
        raise ValueError(f"unknown run_if {rule!r}; expected one of {', '.join(RUN_IF_VALUES)}")
    if not upstream:
        return RUN
    states = [state if matched else "EXCLUDED" for state, matched in upstream]
    if all(s in _EXCLUDED_LIKE for s in states):
        return "EXCLUDED"

    succeeded = [s for s in states if is_success(s)]
    canceled = any(s in _CANCELED for s in states)
    not_met = "UPSTREAM_CANCELED" if canceled else "UPSTREAM_FAILED"

    if rule == "ALL_SUCCESS":
        return RUN if len(succeeded) == len(states) else not_met
    if rule == "AT_LEAST_ONE_SUCCESS":
        return RUN if succeeded else not_met
    if rule == "NONE_FAILED":
        if any(s in _FAILED for s in states):
            return "UPSTREAM_FAILED"
        ran = any(s in _SUCCESS_LIKE for s in states)
        return RUN if ran else not_met
    if rule == "ALL_DONE":
        return RUN
    failures = [s for s in states if s in _FAILURE_FOR_HANDLERS]
    if rule == "AT_LEAST_ONE_FAILED":
        return RUN if failures else "EXCLUDED"
    # ALL_FAILED
    return RUN if len(failures) == len(states) else "EXCLUDED"


# --------------------------------------------------------------------------------------------
# Graph helpers (tasks are Jobs API task dicts)
# --------------------------------------------------------------------------------------------


def dependencies(task: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """``[(upstream_task_key, outcome_or_None), ...]`` of a task payload."""
    return [(d["task_key"], d.get("outcome")) for d in task.get("depends_on") or ()]


def _by_key(tasks: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {t["task_key"]: t for t in tasks}


def topological_order(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """Task keys in a deterministic topological order (ties broken by the order given).

    Raises ``graphlib.CycleError`` for a cycle.  Dependencies on keys that are not in ``tasks`` are
    ignored (callers validate references separately).
    """
    by_key = _by_key(tasks)
    position = {key: i for i, key in enumerate(by_key)}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for key, task in by_key.items():
        sorter.add(key, *(up for up, _ in dependencies(task) if up in by_key))
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def _downstream_map(tasks: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    children: dict[str, set[str]] = {}
    for task in tasks:
        children.setdefault(task["task_key"], set())
        for up, _ in dependencies(task):
            children.setdefault(up, set()).add(task["task_key"])
    return children


def _closure(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        key = stack.pop()
        for nxt in edges.get(key, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def downstream_of(tasks: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> set[str]:
    """All tasks transitively depending on any of ``keys`` (the keys themselves excluded)."""
    return _closure(keys, _downstream_map(tasks))


def upstream_of(tasks: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> set[str]:
    """All tasks that any of ``keys`` transitively depends on (the keys themselves excluded)."""
    parents = {t["task_key"]: [up for up, _ in dependencies(t)] for t in tasks}
    return _closure(keys, parents)


def expand_only(tasks: Sequence[Mapping[str, Any]], only: Iterable[str]) -> set[str]:
    """Expand a ``run-now`` ``only`` list: ``key``, ``+key`` (with upstream), ``key+`` (with
    downstream), ``+key+`` (both).  Raises ``KeyError`` naming an unknown task key."""
    known = {t["task_key"] for t in tasks}
    selected: set[str] = set()
    for item in only:
        up, down = item.startswith("+"), item.endswith("+") and len(item) > 1
        key = item[1 if up else 0: len(item) - 1 if down else len(item)]
        if key not in known:
            raise KeyError(key)
        selected.add(key)
        if up:
            selected |= upstream_of(tasks, [key])
        if down:
            selected |= downstream_of(tasks, [key])
    return selected


# --------------------------------------------------------------------------------------------
# Repair selection (14.3)
# --------------------------------------------------------------------------------------------


def repair_selection(
    tasks: Sequence[Mapping[str, Any]],
    previous_states: Mapping[str, str],
    rerun_tasks: Iterable[str] | None = None,
    rerun_all_failed: bool = False,
    rerun_dependent: bool = False,
) -> set[str]:
    """Task keys a ``runs/repair`` request re-runs.

    Exactly one of ``rerun_tasks`` (non-empty) and ``rerun_all_failed`` must be given
    (``ValueError`` otherwise, or for an unknown task key).  ``rerun_all_failed`` picks every task
    whose previous state is in :data:`REPAIRABLE_STATES`; ``rerun_dependent`` adds everything
    downstream of the selection.
    """
    explicit = list(rerun_tasks or ())
    if bool(explicit) == bool(rerun_all_failed):
        raise ValueError("exactly one of rerun_tasks and rerun_all_failed_tasks must be set")
    known = {t["task_key"] for t in tasks}
    if explicit:
        unknown = sorted(set(explicit) - known)
        if unknown:
            raise ValueError(f"unknown task key(s): {', '.join(unknown)}")
        selected = set(explicit)
    else:
        selected = {k for k in known if previous_states.get(k) in REPAIRABLE_STATES}
    if rerun_dependent:
        selected |= downstream_of(tasks, selected)
    return selected


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one execution attempt of a task produced.

    ``execute`` callbacks may return a bare state string instead; use :class:`Outcome` to report a
    condition result (``outcome`` ``"true"``/``"false"``) or an error message.
    """

    state: str
    outcome: str | None = None
    error: str | None = None


ExecuteResult = str | Outcome


@dataclass(frozen=True)
class TaskResult:
    """Final result of one task in a (simulated) run.

    ``state`` is a result state (``SUCCESS``, ``FAILED``, ``EXCLUDED``, ``UPSTREAM_FAILED``...);
    ``attempts`` is how many times the task was executed in this pass (0 if it did not run);
    ``outcome`` is ``"true"``/``"false"`` for a condition task that ran; ``error`` the last error.
    """

    task_key: str
    state: str
    attempts: int = 0
    outcome: str | None = None
    error: str | None = None
    history: tuple[str, ...] = field(default=())

    @property
    def executed(self) -> bool:
        return self.attempts > 0


def _retryable(state: str, task: Mapping[str, Any]) -> bool:
    if state == "FAILED" or state == "INTERNAL_ERROR":
        return True
    return state == "TIMEDOUT" and bool(task.get("retry_on_timeout"))


def _max_attempts(task: Mapping[str, Any]) -> int:
    if "condition_task" in task:
        return 1
    retries = int(task.get("max_retries") or 0)
    if retries < 0:
        return INFINITE_RETRY_CAP
    return retries + 1


def simulate(
    tasks: Sequence[Mapping[str, Any]],
    execute: Callable[[str, int], ExecuteResult],
    *,
    selected: Iterable[str] | None = None,
    previous: Mapping[str, TaskResult] | None = None,
) -> dict[str, TaskResult]:
    """Run a job's tasks in topological order and return every task's :class:`TaskResult`.

    ``execute(task_key, attempt)`` is called for each attempt of each task that runs (attempt 0 is
    the first try) and returns a result state string or an :class:`Outcome`.  It is *not* called
    for disabled tasks or tasks whose ``run_if`` is not met.  A condition task may return a bare
    ``"SUCCESS"``; its ``outcome`` is then computed here with :func:`compare` on the literal
    operands (callers that substitute ``{{...}}`` references return an :class:`Outcome` instead).
    An exception raised by ``execute`` fails that attempt with the exception text as ``error``.

    ``selected`` restricts which tasks run (a repair or an ``only`` run); tasks outside it keep the
    result from ``previous`` (repair) or are left out of the result (``only`` without previous).

    Raises ``graphlib.CycleError`` for a cyclic graph.
    """
    by_key = _by_key(tasks)
    chosen = set(by_key) if selected is None else set(selected)
    previous = dict(previous or {})
    results: dict[str, TaskResult] = {}

    for key in topological_order(tasks):
        task = by_key[key]
        if key not in chosen:
            if key in previous:
                results[key] = previous[key]
            continue
        upstream: list[tuple[str, bool]] = []
        for up, wanted in dependencies(task):
            res = results.get(up) or previous.get(up)
            if res is None:  # dependency outside an `only` selection: treated as not part of the run
                continue
            matched = wanted is None or res.outcome == wanted
            upstream.append((res.state, matched))
        if task.get("disabled"):
            results[key] = TaskResult(key, "DISABLED")
            continue
        verdict = decide(task.get("run_if"), upstream)
        if verdict != RUN:
            results[key] = TaskResult(key, verdict)
            continue
        results[key] = _execute_with_retries(key, task, execute)
    return results


def _execute_with_retries(
    key: str, task: Mapping[str, Any], execute: Callable[[str, int], ExecuteResult]
) -> TaskResult:
    limit = _max_attempts(task)
    history: list[str] = []
    outcome: Outcome = Outcome("FAILED")
    for attempt in range(limit):
        try:
            raw = execute(key, attempt)
        except Exception as exc:  # noqa: BLE001 - a crashing executor fails the attempt, like a task error
            raw = Outcome("FAILED", error=f"{type(exc).__name__}: {exc}")
        outcome = raw if isinstance(raw, Outcome) else Outcome(str(raw))
        if "condition_task" in task and outcome.state == "SUCCESS" and outcome.outcome is None:
            cond = task["condition_task"]
            try:
                value = compare(cond.get("op", ""), cond.get("left", ""), cond.get("right", ""))
                outcome = Outcome("SUCCESS", "true" if value else "false")
            except ValueError as exc:
                outcome = Outcome("FAILED", error=str(exc))
        history.append(outcome.state)
        if not _retryable(outcome.state, task):
            break
    return TaskResult(
        key, outcome.state, attempts=len(history), outcome=outcome.outcome, error=outcome.error,
        history=tuple(history),
    )


def for_each_result(iteration_states: Iterable[str]) -> str:
    """Result of a ``for_each_task`` from its iterations' final states (6.3): ``SUCCESS`` when every
    iteration succeeded (an empty input list succeeds), ``CANCELED`` if one was cancelled, else
    ``FAILED``."""
    states = list(iteration_states)
    if all(is_success(s) for s in states):
        return "SUCCESS"
    if any(s in _CANCELED for s in states):
        return "CANCELED"
    return "FAILED"


def run_result(tasks: Sequence[Mapping[str, Any]], results: Mapping[str, TaskResult | str]) -> str:
    """The job run's result state from its tasks' results.

    * any task ``CANCELED``/``UPSTREAM_CANCELED`` -> ``CANCELED``;
    * otherwise the *leaf* tasks (no task in the run depends on them) decide: all leaves successful
      (SUCCESS/EXCLUDED/DISABLED) -> ``SUCCESS``, or ``SUCCESS_WITH_FAILURES`` when a non-leaf task
      failed; any leaf ``TIMEDOUT`` (and none failed) -> ``TIMEDOUT``; else ``FAILED``.
    """
    states = {k: (v if isinstance(v, str) else v.state) for k, v in results.items()}
    if not states:
        return "SUCCESS"
    if any(s in _CANCELED for s in states.values()):
        return "CANCELED"
    in_run = [t for t in tasks if t["task_key"] in states]
    has_children = {up for t in in_run for up, _ in dependencies(t) if up in states}
    leaves = [k for k in states if k not in has_children]
    bad_leaves = [states[k] for k in leaves if not is_success(states[k])]
    if not bad_leaves:
        if any(not is_success(s) for s in states.values()):
            return "SUCCESS_WITH_FAILURES"
        return "SUCCESS"
    if all(s == "TIMEDOUT" for s in bad_leaves):
        return "TIMEDOUT"
    return "FAILED"
