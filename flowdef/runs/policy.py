"""The rules of run semantics that no public source settles, in ONE table.

Every entry names a choice flowdef had to make where the service's documentation is silent
(``UNKNOWN`` in the shared ``run-semantics.md``).  Each is read through :func:`flag` by name, and each has a test
named ``test_policy_<name lower-case>`` in ``tests/test_runs_policy.py`` that fails if the behaviour changes, so a
check against a real workspace changes one value here and the test that says what it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["POLICY", "Policy", "flag"]


@dataclass(frozen=True)
class Policy:
    name: str
    value: Any
    rule: str
    why: str


_TABLE = (
    Policy("UPSTREAM_SKIPS_COUNT_AS_FAILED_FOR_HANDLERS", True,
           "AT_LEAST_ONE_FAILED / ALL_FAILED count an UPSTREAM_FAILED or UPSTREAM_CANCELED parent as failed",
           "a failure-handling task after a skipped branch should still see the failure further up; the docs say "
           "handlers run on cancellation, which only reaches most tasks as UPSTREAM_CANCELED"),
    Policy("NONE_FAILED_UPSTREAM_FAILED_IS_FAILURE", False,
           "NONE_FAILED ignores an UPSTREAM_FAILED parent when another parent ran successfully",
           "the parent did not fail, it was skipped; the docs' 'none failed and at least one ran' reads on states"),
    Policy("CANCEL_WINS_OVER_FAILURE", True,
           "a success rule left unmet by both a failed and a canceled parent gives UPSTREAM_CANCELED",
           "the run was stopped: the cancellation is what the user did last and is what a repair must undo"),
    Policy("DISABLED_WHEN_UNMET_BECAUSE_OF_DISABLED", True,
           "a task whose run_if would be met if its disabled parents had done what the rule needs "
           "(succeeded for success rules, failed for failure rules) is DISABLED; otherwise the usual skip state",
           "the docs say a dependent 'whose run_if cannot be met because of a disabled parent' is DISABLED; this is "
           "that sentence, made exact"),
    Policy("LEAF_TIMEDOUT_RESULT", "TIMEDOUT",
           "a run whose failing leaves all TIMEDOUT (none FAILED) ends TIMEDOUT, not FAILED",
           "RunResultState has TIMEDOUT; the task's own state is the most precise thing to report"),
    Policy("CANCELED_RUN_RESULT", "CANCELED",
           "a run canceled by the user ends CANCELED even when cleanup tasks succeed",
           "the SDK reports user_cancelled_or_timedout; the run did not do its work"),
    Policy("JOB_TIMEOUT_TASK_STATE", "CANCELED",
           "a job timeout ends running tasks CANCELED (the run itself TIMEDOUT); handlers still run",
           "the docs say a job timeout cancels what is running"),
    Policy("CANCELED_ROOT_STATE", "CANCELED",
           "after a cancel, a task with no dependencies that never started ends CANCELED (not UPSTREAM_CANCELED)",
           "it has no upstream to blame"),
    Policy("FOREACH_KEEP_GOING", True,
           "when one for-each iteration fails for good, the other iterations keep running and unstarted ones start; "
           "the for-each task ends FAILED once all have finished",
           "iterations are independent task runs; the stats count failed and succeeded iterations side by side"),
    Policy("FOREACH_REPAIR_RERUNS_ALL", False,
           "repairing a for-each task reruns only its iterations that did not succeed",
           "what 'retrying the failing iteration, not the whole loop' implies for a repair too"),
    Policy("REPAIR_ALL_FAILED_INCLUDES_SKIPPED", True,
           "rerun_all_failed_tasks selects UPSTREAM_FAILED and UPSTREAM_CANCELED tasks too",
           "they never ran, so a repair that leaves them out could never make the run succeed"),
    Policy("REPAIR_OF_ONLY_RUN_STAYS_INSIDE", True,
           "a repair of a run started with `only` considers only the tasks that run had",
           "the other tasks were never part of the run: 'all failed' must not start them"),
    Policy("REPAIR_RUNS_NEW_TASKS", True,
           "a task added to the job after the run started is run by a repair of all failed tasks",
           "the repair uses the job's current settings; a task that never ran has no result to keep"),
    Policy("MISSING_REFERENCE_IS_LITERAL", True,
           "a reference to a task value that does not exist (or a task that did not run) stays literal text",
           "the docs: non-existent dynamic value references are silently treated as literal strings"),
    Policy("VALUES_OF_LATEST_ATTEMPT", True,
           "a task's values are those set by its latest attempt, whatever that attempt's outcome",
           "taskValues.set writes at once, so a failing attempt's values exist; a retry starts afresh"),
    Policy("INFINITE_RETRY_CAP", 100,
           "max_retries = -1 ('forever') stops after this many attempts",
           "a simulation and a local run must end; no real workload retries 100 times"),
    Policy("NO_RETRY_WHILE_STOPPING", True,
           "once a run is canceled or timed out, a failed attempt (of a cleanup task that still runs) is not retried",
           "the user asked the run to stop; retries would keep it alive for minutes"),
    Policy("RETRY_WAIT_HOLDS_FOREACH_SLOT", False,
           "an iteration waiting for its retry interval does not count against the for-each concurrency",
           "a slot is a running task; nothing runs while it waits"),
)

POLICY: dict[str, Policy] = {p.name: p for p in _TABLE}


def flag(name: str) -> Any:
    """The value of a policy by name (``KeyError`` for a name not in the table)."""
    return POLICY[name].value
