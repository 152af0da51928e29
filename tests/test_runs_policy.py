"""Every rule of flowdef.runs.policy, tested by name: the behaviour it gives, and that flipping it changes it
(so the table really is the one place to change when a real workspace says otherwise)."""

from __future__ import annotations

import sys

import pytest

from flowdef.runs import POLICY, Outcome, Run, decide, drive, run_result
from flowdef.runs import policy as policy_module
from flowdef.runs.rules import repair_selection

S, F, C, D, UF, UC = "SUCCEEDED", "FAILED", "CANCELED", "DISABLED", "NOT_RUN_FAILED", "NOT_RUN_CANCELED"


def t(key, *deps, **extra):
    task = {"task_key": key}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    task.update(extra)
    return task


@pytest.fixture
def flip(monkeypatch):
    def set_(name, value):
        monkeypatch.setitem(POLICY, name, policy_module.Policy(name, value, "", ""))
    return set_


def test_every_policy_has_a_test_named_after_it():
    here = sys.modules[__name__]
    missing = [n for n in POLICY if not hasattr(here, f"test_policy_{n.lower()}")]
    assert not missing, missing
    for p in POLICY.values():
        assert p.rule and p.why, p.name


def test_policy_upstream_skips_count_as_failed_for_handlers(flip):
    assert decide("AT_LEAST_ONE_FAILED", [S, UF]) == "RUN" and decide("ALL_FAILED", [F, UC]) == "RUN"
    flip("UPSTREAM_SKIPS_COUNT_AS_FAILED_FOR_HANDLERS", False)
    assert decide("AT_LEAST_ONE_FAILED", [S, UF]) == "EXCLUDED"


def test_policy_none_failed_upstream_failed_is_failure(flip):
    assert decide("NONE_FAILED", [S, UF]) == "RUN"
    flip("NONE_FAILED_UPSTREAM_FAILED_IS_FAILURE", True)
    assert decide("NONE_FAILED", [S, UF]) == "UPSTREAM_FAILED"


def test_policy_cancel_wins_over_failure(flip):
    assert decide("ALL_SUCCESS", [F, C]) == "UPSTREAM_CANCELED"
    flip("CANCEL_WINS_OVER_FAILURE", False)
    assert decide("ALL_SUCCESS", [F, C]) == "UPSTREAM_FAILED"


def test_policy_disabled_when_unmet_because_of_disabled(flip):
    assert decide("ALL_SUCCESS", [S, D]) == "DISABLED" and decide("ALL_FAILED", [F, D]) == "DISABLED"
    assert decide("ALL_SUCCESS", [F, D]) == "UPSTREAM_FAILED"  # unmet anyway: the failure is the reason
    flip("DISABLED_WHEN_UNMET_BECAUSE_OF_DISABLED", False)
    assert decide("ALL_SUCCESS", [S, D]) == "UPSTREAM_FAILED"


def test_policy_leaf_timedout_result(flip):
    assert run_result({"a": "TIMEDOUT"}, ["a"]) == "TIMEDOUT"
    flip("LEAF_TIMEDOUT_RESULT", "FAILED")
    assert run_result({"a": "TIMEDOUT"}, ["a"]) == "FAILED"


def test_policy_canceled_run_result(flip):
    run = Run({"tasks": [t("a"), t("cleanup", "a", run_if="ALL_DONE")]}, now=0)
    run.ready(0)
    run.cancel(1)
    drive(run, lambda w: "SUCCESS", now=1)
    assert run.records["cleanup"].state == "SUCCESS" and run.result == "CANCELED"
    flip("CANCELED_RUN_RESULT", "FAILED")
    assert run_result({"a": "SUCCESS"}, ["a"], canceled=True) == "FAILED"


def test_policy_job_timeout_task_state(flip):
    def timed(state):
        run = Run({"timeout_seconds": 1, "tasks": [t("a")]}, now=0)
        run.ready(0)
        run.expire(1000)
        return run.records["a"].state, run.result
    assert timed("CANCELED") == ("CANCELED", "TIMEDOUT")
    flip("JOB_TIMEOUT_TASK_STATE", "TIMEDOUT")
    assert timed("TIMEDOUT") == ("TIMEDOUT", "TIMEDOUT")


def test_policy_canceled_root_state(flip):
    run = Run({"tasks": [t("a"), t("b", "a")]}, now=0)
    run.cancel(0)
    assert run.records["a"].state == "CANCELED" and run.records["b"].state == "UPSTREAM_CANCELED"
    flip("CANCELED_ROOT_STATE", "UPSTREAM_CANCELED")
    run = Run({"tasks": [t("a")]}, now=0)
    run.cancel(0)
    assert run.records["a"].state == "UPSTREAM_CANCELED"


def _loop(concurrency=1):
    return {"task_key": "loop", "for_each_task": {"inputs": "[1, 2, 3]", "concurrency": concurrency,
                                                  "task": t("body")}}


def test_policy_foreach_keep_going(flip):
    run = Run({"tasks": [_loop()]}, now=0)
    started = []
    drive(run, lambda w: started.append(w.input) or ("FAILED" if w.input == 1 else "SUCCESS"))
    assert started == [1, 2, 3] and run.records["loop"].state == "FAILED"
    flip("FOREACH_KEEP_GOING", False)
    run = Run({"tasks": [_loop()]}, now=0)
    started = []
    drive(run, lambda w: started.append(w.input) or ("FAILED" if w.input == 1 else "SUCCESS"))
    assert started == [1] and run.records["loop"].state == "FAILED"
    assert [i.state for i in run.records["loop"].iterations] == ["FAILED", "CANCELED", "CANCELED"]


def test_policy_foreach_repair_reruns_all(flip):
    settings = {"tasks": [_loop()]}

    def rerun():
        run = Run(settings, now=0)
        drive(run, lambda w: "FAILED" if w.input == 2 else "SUCCESS")
        run.repair(settings, 10, all_failed=True)
        seen = []
        drive(run, lambda w: seen.append(w.input) or "SUCCESS", now=10)
        assert run.result == "SUCCESS"
        return seen
    assert rerun() == [2]
    flip("FOREACH_REPAIR_RERUNS_ALL", True)
    assert rerun() == [1, 2, 3]


def test_policy_repair_all_failed_includes_skipped(flip):
    tasks = [t("a"), t("b", "a")]
    assert repair_selection(tasks, {"a": "FAILED", "b": "UPSTREAM_FAILED"}, rerun_all_failed=True) == {"a", "b"}
    flip("REPAIR_ALL_FAILED_INCLUDES_SKIPPED", False)
    assert repair_selection(tasks, {"a": "FAILED", "b": "UPSTREAM_FAILED"}, rerun_all_failed=True) == {"a"}


def test_policy_repair_runs_new_tasks(flip):
    tasks = [t("a"), t("new")]
    assert repair_selection(tasks, {"a": "FAILED"}, rerun_all_failed=True) == {"a", "new"}
    flip("REPAIR_RUNS_NEW_TASKS", False)
    assert repair_selection(tasks, {"a": "FAILED"}, rerun_all_failed=True) == {"a"}


def test_policy_missing_reference_is_literal(flip):
    seen = []
    b = t("b", "a", notebook_task={"base_parameters": {"v": "{{tasks.a.values.nope}}"}})
    drive(Run({"tasks": [t("a"), b]}, now=0), lambda w: seen.append(w.task) or "SUCCESS")
    assert seen[1]["notebook_task"]["base_parameters"]["v"] == "{{tasks.a.values.nope}}"
    flip("MISSING_REFERENCE_IS_LITERAL", False)
    run = Run({"tasks": [t("a"), b]}, now=0)
    drive(run, lambda w: "SUCCESS")
    assert run.records["b"].state == "FAILED" and "set no value 'nope'" in run.records["b"].error


def test_policy_values_of_latest_attempt(flip):
    def final_values():
        run = Run({"tasks": [t("a", max_retries=1)]}, now=0)
        drive(run, lambda w: Outcome("FAILED", values={"attempt": w.attempt}))
        return run.records["a"].values
    assert final_values() == {"attempt": 1}
    flip("VALUES_OF_LATEST_ATTEMPT", False)
    assert final_values() == {}


def test_policy_infinite_retry_cap(flip):
    run = Run({"tasks": [t("a", max_retries=-1)]}, now=0)
    drive(run, lambda w: "FAILED")
    assert len(run.records["a"].attempts) == 100
    flip("INFINITE_RETRY_CAP", 4)
    run = Run({"tasks": [t("a", max_retries=-1)]}, now=0)
    drive(run, lambda w: "FAILED")
    assert len(run.records["a"].attempts) == 4


def test_policy_retry_wait_holds_foreach_slot(flip):
    def second_wave():
        loop = _loop(concurrency=1)
        loop["for_each_task"]["task"] = t("body", max_retries=1, min_retry_interval_millis=1000)
        run = Run({"tasks": [loop]}, now=0)
        [first] = run.ready(0)
        run.attempt_finished("loop", "FAILED", 10, iteration=first.iteration)
        return [w.iteration for w in run.ready(10)]
    assert second_wave() == [1]  # the waiting iteration frees its slot
    flip("RETRY_WAIT_HOLDS_FOREACH_SLOT", True)
    assert second_wave() == []
    # the slot it holds is its own: the retry takes it when due (it used to block itself, and drive() spun)
    loop = _loop(concurrency=1)
    loop["for_each_task"]["task"] = t("body", max_retries=1, min_retry_interval_millis=1000)
    run = Run({"tasks": [loop]}, now=0)
    drive(run, lambda w: "FAILED" if (w.iteration, w.attempt) == (0, 0) else "SUCCESS", max_events=100)
    assert run.result == "SUCCESS"
    assert [len(it.attempts) for it in run.records["loop"].iterations] == [2, 1, 1]


def test_policy_no_retry_while_stopping(flip):
    def cleanup_attempts():
        run = Run({"tasks": [t("a"), t("cleanup", "a", run_if="ALL_DONE", max_retries=2)]}, now=0)
        run.ready(0)
        run.cancel(1)
        drive(run, lambda w: "FAILED", now=1)
        return len(run.records["cleanup"].attempts), run.result
    assert cleanup_attempts() == (1, "CANCELED")
    flip("NO_RETRY_WHILE_STOPPING", False)
    assert cleanup_attempts() == (3, "CANCELED")


def test_policy_repair_of_only_run_stays_inside(flip):
    tasks = [t("a"), t("b", "a"), t("c", "b")]

    def repaired():
        run = Run({"tasks": tasks}, now=0, only={"b"})
        drive(run, lambda w: "FAILED")
        run.repair({"tasks": tasks}, 5, all_failed=True)
        drive(run, lambda w: "SUCCESS", now=5)
        return {r.key: r.state for r in run.tasks}
    assert repaired() == {"b": "SUCCESS"}
    flip("REPAIR_OF_ONLY_RUN_STAYS_INSIDE", False)
    assert repaired() == {"a": "SUCCESS", "b": "SUCCESS", "c": "SUCCESS"}
