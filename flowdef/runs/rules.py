"""The rules of one run, as pure functions: edge classes, ``run_if``, conditions, retries, the run's result,
repair selection and ``only`` expansion.  :class:`flowdef.runs.machine.Run` applies them step by step.

Sources are the shared ``run-semantics.md`` sections ([R] run-if, [D] disabled tasks, [RP] repair, [SDK] the
result-state enums); the rules no source settles are read from :mod:`flowdef.runs.policy`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from flowdef.jobsapi.facts import CONDITION_OPS, RUN_IF_VALUES
from flowdef.runs.policy import flag

__all__ = [
    "CONDITION_OPS", "EDGE_CLASSES", "FINAL_STATES", "REPAIRABLE_STATES", "RUN", "RUN_IF_VALUES",
    "SKIPPED_STATES", "classify_edge", "compare", "decide", "expand_only", "max_attempts", "repair_selection",
    "retryable", "run_result",
]

RUN: Literal["RUN"] = "RUN"
SUCCESS_RULES = frozenset({"ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED"})
#: result states of a task that did not run
SKIPPED_STATES = frozenset({"EXCLUDED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "DISABLED"})
#: result states of a task attempt that ran
RAN_STATES = frozenset({"SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR"})
FINAL_STATES = SKIPPED_STATES | RAN_STATES
#: states ``rerun_all_failed_tasks`` selects (the UPSTREAM_* ones per policy REPAIR_ALL_FAILED_INCLUDES_SKIPPED)
_FAILED_RAN = frozenset({"FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR"})
REPAIRABLE_STATES = _FAILED_RAN | {"UPSTREAM_FAILED", "UPSTREAM_CANCELED"}

# Edge classes: what one dependency edge means to the dependent task [R].
SUCCEEDED, FAILED, CANCELED, EXCLUDED, DISABLED = "SUCCEEDED", "FAILED", "CANCELED", "EXCLUDED", "DISABLED"
NOT_RUN_FAILED, NOT_RUN_CANCELED = "NOT_RUN_FAILED", "NOT_RUN_CANCELED"
EDGE_CLASSES = (SUCCEEDED, FAILED, CANCELED, EXCLUDED, DISABLED, NOT_RUN_FAILED, NOT_RUN_CANCELED)


def classify_edge(parent_state: str, parent_outcome: str | None, wanted_outcome: str | None) -> str:
    """The class of the edge ``parent -> task`` once the parent is final.

    Only a condition task that *succeeded* with an outcome other than the edge's ``outcome`` makes the edge
    EXCLUDED (the branch not taken).  A condition that failed or was skipped has not succeeded: its edge is
    FAILED / NOT_RUN_* like any other task's [R].

    >>> classify_edge("SUCCESS", "false", "true"), classify_edge("FAILED", None, "true")
    ('EXCLUDED', 'FAILED')
    """
    if parent_state == "SUCCESS":
        if wanted_outcome is not None and parent_outcome != wanted_outcome:
            return EXCLUDED
        return SUCCEEDED
    if parent_state == "EXCLUDED":
        return EXCLUDED
    if parent_state == "DISABLED":
        return DISABLED
    if parent_state == "CANCELED":
        return CANCELED
    if parent_state == "UPSTREAM_FAILED":
        return NOT_RUN_FAILED
    if parent_state == "UPSTREAM_CANCELED":
        return NOT_RUN_CANCELED
    if parent_state in ("FAILED", "TIMEDOUT", "INTERNAL_ERROR"):
        return FAILED
    raise ValueError(f"{parent_state!r} is not a final task state")


def _handler_failure(edge: str) -> bool:
    if edge in (FAILED, CANCELED):
        return True
    return edge in (NOT_RUN_FAILED, NOT_RUN_CANCELED) and bool(flag("UPSTREAM_SKIPS_COUNT_AS_FAILED_FOR_HANDLERS"))


def _met(rule: str, edges: Sequence[str]) -> bool:
    """Is ``rule`` met by these edge classes (EXCLUDED counts as success [R])?"""
    ok = [e for e in edges if e in (SUCCEEDED, EXCLUDED)]
    if rule == "ALL_SUCCESS":
        return len(ok) == len(edges)
    if rule == "AT_LEAST_ONE_SUCCESS":
        return bool(ok)
    if rule == "NONE_FAILED":
        bad = {FAILED} | ({NOT_RUN_FAILED} if flag("NONE_FAILED_UPSTREAM_FAILED_IS_FAILURE") else set())
        # "none failed, and at least one ran": a parent that succeeded (an excluded branch alone is not a run)
        return not any(e in bad for e in edges) and SUCCEEDED in edges
    if rule == "ALL_DONE":
        return True
    if rule == "AT_LEAST_ONE_FAILED":
        return any(_handler_failure(e) for e in edges)
    return all(_handler_failure(e) for e in edges)  # ALL_FAILED


def decide(run_if: str | None, edges: Sequence[str]) -> str:
    """:data:`RUN`, or the state a task ends in without running, from the classes of its edges.

    ``run_if`` None is the default ALL_SUCCESS.  No edges: RUN.  Every edge EXCLUDED: EXCLUDED whatever the rule
    [R].  A rule unmet because of disabled parents: DISABLED [D] (policy DISABLED_WHEN_UNMET_BECAUSE_OF_DISABLED).
    Otherwise an unmet success rule gives UPSTREAM_FAILED (UPSTREAM_CANCELED when a parent was canceled), an unmet
    failure rule EXCLUDED [R].

    >>> decide("ALL_SUCCESS", ["SUCCEEDED", "FAILED"]), decide("ALL_DONE", ["DISABLED"])
    ('UPSTREAM_FAILED', 'RUN')
    >>> decide("ALL_SUCCESS", ["SUCCEEDED", "DISABLED"])
    'DISABLED'
    """
    rule = run_if or "ALL_SUCCESS"
    if rule not in RUN_IF_VALUES:
        raise ValueError(f"unknown run_if {rule!r}; expected one of {', '.join(RUN_IF_VALUES)}")
    for e in edges:
        if e not in EDGE_CLASSES:
            raise ValueError(f"unknown edge class {e!r}")
    if not edges:
        return RUN
    if all(e == EXCLUDED for e in edges):
        return EXCLUDED
    if _met(rule, edges):
        return RUN
    if DISABLED in edges and flag("DISABLED_WHEN_UNMET_BECAUSE_OF_DISABLED"):
        ideal = SUCCEEDED if rule in SUCCESS_RULES else FAILED
        if _met(rule, [ideal if e == DISABLED else e for e in edges]):
            return "DISABLED"
    if rule not in SUCCESS_RULES:
        return "EXCLUDED"
    canceled = any(e in (CANCELED, NOT_RUN_CANCELED) for e in edges)
    failed = any(e in (FAILED, NOT_RUN_FAILED) for e in edges)
    if canceled and (not failed or flag("CANCEL_WINS_OVER_FAILURE")):
        return "UPSTREAM_CANCELED"
    if not failed and all(e in (EXCLUDED, DISABLED) for e in edges):
        return "DISABLED"  # only disabled and excluded parents, and the policy above is off
    return "UPSTREAM_FAILED"


# ---------------------------------------------------------------------------- condition tasks [IE]


def _number(text: str) -> float:
    value = float(text.strip())
    if math.isnan(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def compare(op: str, left: Any, right: Any) -> bool:
    """A condition task's comparison: EQUAL_TO / NOT_EQUAL compare strings, the others numbers.

    Operands are strings after reference substitution (booleans render as ``true``/``false``).  ``ValueError`` for
    an unknown ``op`` or a non-numeric operand of an ordering operator: the service fails the condition task.

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
    try:
        a, b = _number(lhs), _number(rhs)
    except ValueError:
        raise ValueError(f"{op} needs numbers, got {lhs!r} and {rhs!r}") from None
    if op == "GREATER_THAN":
        return a > b
    if op == "GREATER_THAN_OR_EQUAL":
        return a >= b
    if op == "LESS_THAN":
        return a < b
    return a <= b


def _operand(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------- retries [SDK Task]


def max_attempts(task: Mapping[str, Any]) -> int:
    """Attempts a task gets: ``max_retries + 1``; -1 retries forever (policy INFINITE_RETRY_CAP); condition tasks
    and for-each parents are never retried (the nested task of a for-each retries per iteration)."""
    if "condition_task" in task or "for_each_task" in task:
        return 1
    retries = int(task.get("max_retries") or 0)
    return int(flag("INFINITE_RETRY_CAP")) if retries < 0 else retries + 1


def retryable(state: str, task: Mapping[str, Any]) -> bool:
    """Is an attempt that ended in ``state`` retried (attempts left permitting)?"""
    if state in ("FAILED", "INTERNAL_ERROR"):
        return True
    return state == "TIMEDOUT" and bool(task.get("retry_on_timeout"))


# ---------------------------------------------------------------------------- the run's result [SDK, R]


def run_result(states: Mapping[str, str], leaves: Iterable[str], *, canceled: bool = False,
               timed_out: bool = False) -> str:
    """The run's result state from its tasks' final states; the **leaf** tasks decide [R].

    SUCCESS when every leaf succeeded (or was excluded / disabled) and nothing failed; SUCCESS_WITH_FAILURES when a
    task failed but every leaf succeeded; FAILED when a leaf failed or was UPSTREAM_FAILED; TIMEDOUT when the
    failing leaves all timed out (policy LEAF_TIMEDOUT_RESULT).  A canceled run is CANCELED (policy
    CANCELED_RUN_RESULT), a run stopped by its job timeout TIMEDOUT.

    >>> run_result({"a": "FAILED", "b": "SUCCESS"}, ["b"])
    'SUCCESS_WITH_FAILURES'
    """
    if timed_out:
        return "TIMEDOUT"
    if canceled:
        return str(flag("CANCELED_RUN_RESULT"))
    leaf_states = [states[k] for k in leaves if k in states]
    good = {"SUCCESS", "EXCLUDED", "DISABLED"}
    bad = [s for s in leaf_states if s not in good]
    if not bad:
        return "SUCCESS" if all(s in good for s in states.values()) else "SUCCESS_WITH_FAILURES"
    if any(s in ("CANCELED", "UPSTREAM_CANCELED") for s in bad):
        return "CANCELED"
    if all(s == "TIMEDOUT" for s in bad):
        return str(flag("LEAF_TIMEDOUT_RESULT"))
    return "FAILED"


# ---------------------------------------------------------------------------- selection: repair [RP], only


def repair_selection(tasks: Sequence[Mapping[str, Any]], previous: Mapping[str, str],
                     rerun_tasks: Iterable[str] | None = None, rerun_all_failed: bool = False,
                     rerun_dependent: bool = False) -> set[str]:
    """Task keys a repair reruns: ``rerun_tasks`` xor ``rerun_all_failed``; ``rerun_dependent`` adds everything
    downstream.  ``previous`` maps task keys to their final states.  ``ValueError`` for a request the service
    rejects (both or neither mode, an unknown task key)."""
    from flowdef import graph

    explicit = list(rerun_tasks or ())
    if bool(explicit) == bool(rerun_all_failed):
        raise ValueError("exactly one of rerun_tasks and rerun_all_failed_tasks must be set")
    known = [t["task_key"] for t in tasks]
    if explicit:
        unknown = sorted(set(explicit) - set(known))
        if unknown:
            raise ValueError(f"unknown task key(s): {', '.join(unknown)}")
        selected = set(explicit)
    else:
        wanted = REPAIRABLE_STATES if flag("REPAIR_ALL_FAILED_INCLUDES_SKIPPED") else _FAILED_RAN
        selected = {k for k in known if previous.get(k) in wanted}
        if flag("REPAIR_RUNS_NEW_TASKS"):
            selected |= {k for k in known if k not in previous}
    if rerun_dependent and selected:
        selected |= graph.descendants(graph.of_payload(tasks), selected)
    return selected


def expand_only(tasks: Sequence[Mapping[str, Any]], only: Iterable[str]) -> set[str]:
    """A ``run-now`` ``only`` list: ``key``, ``+key`` (with its upstream), ``key+`` (with its downstream), ``+key+``.
    ``KeyError`` names an unknown task key."""
    from flowdef import graph

    g = graph.of_payload(tasks)
    selected: set[str] = set()
    for item in only:
        up, down = item.startswith("+"), item.endswith("+") and len(item) > 1
        key = item[1 if up else 0: len(item) - 1 if down else len(item)]
        if key not in g:
            raise KeyError(key)
        selected.add(key)
        if up:
            selected |= graph.ancestors(g, [key])
        if down:
            selected |= graph.descendants(g, [key])
    return selected
