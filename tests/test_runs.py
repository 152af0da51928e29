"""flowdef.runs: the run-semantics state machine, rule by rule (run-semantics.md sections 1-8)."""

from __future__ import annotations

import doctest
import itertools

import pytest

import flowdef.runs
from flowdef.runs import Outcome, Run, RunStateError, admit, compare, decide, drive, rules, values
from flowdef.runs import admission, machine, policy
from flowdef.runs.rules import RUN, classify_edge, expand_only, repair_selection, run_result


@pytest.mark.parametrize("module", [flowdef.runs, rules, values, admission, machine, policy])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_pure_no_clock_no_io():
    """The machine never reads a clock or touches files: time is passed in."""
    import inspect

    for module in (rules, values, machine, admission, flowdef.runs.drive, flowdef.runs.records):
        source = inspect.getsource(module)
        for banned in ("time.time", "time.monotonic", "datetime.now", "open(", "threading", "subprocess"):
            assert banned not in source, (module.__name__, banned)


# ---------------------------------------------------------------------------------------------- helpers


def t(key, *deps, **extra):
    task = {"task_key": key, "notebook_task": {"notebook_path": f"/nb/{key}"}}
    if deps:
        task["depends_on"] = [d if isinstance(d, dict) else {"task_key": d} for d in deps]
    task.update(extra)
    return task


def cond(key, op, left, right, *deps, **extra):
    task = {"task_key": key, "condition_task": {"op": op, "left": left, "right": right}}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    task.update(extra)
    return task


def branch(key, parent, outcome, **extra):
    return t(key, {"task_key": parent, "outcome": outcome}, **extra)


def run_job(tasks, fails=(), calls=None, script=None, **settings):
    run = Run({"tasks": tasks, **settings}, now=0, params=settings.pop("params", None))

    def execute(work):
        key = work.task["task_key"] if work.iteration is not None else work.key
        if calls is not None:
            calls.append((key, work.attempt) if work.iteration is None else (key, work.iteration, work.attempt))
        if script is not None:
            return script(work)
        return "FAILED" if key in fails else "SUCCESS"

    drive(run, execute)
    return run


def states(run):
    return {r.key: r.state for r in run.tasks}


# ---------------------------------------------------------------------------------------------- 1. run_if table [R]

S, F, C, X, D, UF, UC = ("SUCCEEDED", "FAILED", "CANCELED", "EXCLUDED", "DISABLED", "NOT_RUN_FAILED",
                         "NOT_RUN_CANCELED")

TABLE = [
    ("ALL_SUCCESS", [S], RUN), ("ALL_SUCCESS", [S, S], RUN), ("ALL_SUCCESS", [S, F], "UPSTREAM_FAILED"),
    ("ALL_SUCCESS", [S, UF], "UPSTREAM_FAILED"), ("ALL_SUCCESS", [S, X], RUN),
    ("ALL_SUCCESS", [S, C], "UPSTREAM_CANCELED"), ("ALL_SUCCESS", [S, UC], "UPSTREAM_CANCELED"),
    ("ALL_SUCCESS", [S, D], "DISABLED"), ("ALL_SUCCESS", [F, D], "UPSTREAM_FAILED"),
    ("AT_LEAST_ONE_SUCCESS", [S, F], RUN), ("AT_LEAST_ONE_SUCCESS", [F, F], "UPSTREAM_FAILED"),
    ("AT_LEAST_ONE_SUCCESS", [F, X], RUN), ("AT_LEAST_ONE_SUCCESS", [F, C], "UPSTREAM_CANCELED"),
    ("AT_LEAST_ONE_SUCCESS", [F, D], "DISABLED"), ("AT_LEAST_ONE_SUCCESS", [S, D], RUN),
    ("NONE_FAILED", [S, S], RUN), ("NONE_FAILED", [S, F], "UPSTREAM_FAILED"), ("NONE_FAILED", [S, UF], RUN),
    ("NONE_FAILED", [UF], "UPSTREAM_FAILED"), ("NONE_FAILED", [UF, X], "UPSTREAM_FAILED"),
    ("NONE_FAILED", [S, X], RUN), ("NONE_FAILED", [UC], "UPSTREAM_CANCELED"), ("NONE_FAILED", [D, X], "DISABLED"),
    ("ALL_DONE", [S, F], RUN), ("ALL_DONE", [F, F], RUN), ("ALL_DONE", [UF, C], RUN), ("ALL_DONE", [D], RUN),
    ("ALL_DONE", [S, D], RUN),
    ("AT_LEAST_ONE_FAILED", [S, F], RUN), ("AT_LEAST_ONE_FAILED", [S, S], "EXCLUDED"),
    ("AT_LEAST_ONE_FAILED", [S, UF], RUN), ("AT_LEAST_ONE_FAILED", [S, C], RUN),
    ("AT_LEAST_ONE_FAILED", [S, X], "EXCLUDED"), ("AT_LEAST_ONE_FAILED", [S, D], "DISABLED"),
    ("ALL_FAILED", [F, F], RUN), ("ALL_FAILED", [F, UF], RUN), ("ALL_FAILED", [F, S], "EXCLUDED"),
    ("ALL_FAILED", [F, X], "EXCLUDED"), ("ALL_FAILED", [F, D], "DISABLED"), ("ALL_FAILED", [S, D], "EXCLUDED"),
]


@pytest.mark.parametrize("run_if,edges,expected", TABLE)
def test_decide_table(run_if, edges, expected):
    assert decide(run_if, edges) == expected


@pytest.mark.parametrize("run_if", rules.RUN_IF_VALUES)
def test_every_edge_excluded_excludes_whatever_run_if(run_if):
    assert decide(run_if, [X, X]) == "EXCLUDED" and decide(run_if, [X]) == "EXCLUDED"


@pytest.mark.parametrize("run_if", rules.RUN_IF_VALUES)
def test_decide_is_total_and_stays_in_its_rules_states(run_if):
    """Every pair of edge classes gives RUN or the rule's documented 'otherwise' state (or DISABLED/EXCLUDED)."""
    for a, b in itertools.product(rules.EDGE_CLASSES, repeat=2):
        got = decide(run_if, [a, b])
        if {a, b} == {X}:
            assert got == "EXCLUDED"
        elif run_if == "ALL_DONE":
            assert got == RUN
        elif run_if in ("AT_LEAST_ONE_FAILED", "ALL_FAILED"):
            assert got in (RUN, "EXCLUDED", "DISABLED")
        else:
            assert got in (RUN, "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "DISABLED")
        if got == "DISABLED":
            assert D in (a, b)


def test_decide_rejects_unknown_values():
    with pytest.raises(ValueError, match="unknown run_if"):
        decide("all_done", [S])
    with pytest.raises(ValueError, match="unknown edge"):
        decide("ALL_DONE", ["SUCCESS"])
    assert decide(None, [S, F]) == decide("ALL_SUCCESS", [S, F])


@pytest.mark.parametrize("state,outcome,wanted,expected", [
    ("SUCCESS", "true", "true", S), ("SUCCESS", "false", "true", X), ("SUCCESS", None, None, S),
    ("FAILED", None, "true", F),  # a failed condition is no branch not taken: the bug of the review
    ("UPSTREAM_FAILED", None, "false", UF), ("EXCLUDED", None, "true", X), ("DISABLED", None, None, D),
    ("TIMEDOUT", None, None, F), ("CANCELED", None, None, C), ("UPSTREAM_CANCELED", None, None, UC),
])
def test_classify_edge(state, outcome, wanted, expected):
    assert classify_edge(state, outcome, wanted) == expected


# ---------------------------------------------------------------------------------------------- conditions [IE]


@pytest.mark.parametrize("op,left,right,expected", [
    ("EQUAL_TO", "12.0", "12", False), ("NOT_EQUAL", "12.0", "12", True), ("GREATER_THAN_OR_EQUAL", "12.0", "12", True),
    ("GREATER_THAN", "10", "9", True), ("LESS_THAN", "-1.5", "0", True), ("EQUAL_TO", True, "true", True),
    ("LESS_THAN_OR_EQUAL", "2", "2", True),
])
def test_compare(op, left, right, expected):
    assert compare(op, left, right) is expected


def test_compare_errors():
    for args in (("GREATER_THAN", "abc", "1"), ("EQUALS", "a", "a"), ("LESS_THAN", "nan", "1")):
        with pytest.raises(ValueError):
            compare(*args)


def test_branch_not_taken_is_excluded_and_join_runs():
    run = run_job([cond("check", "GREATER_THAN", "10", "9"), branch("yes", "check", "true"),
                   branch("no", "check", "false"), t("after_no", "no"), t("join", "yes", "no")])
    assert states(run) == {"check": "SUCCESS", "yes": "SUCCESS", "no": "EXCLUDED", "after_no": "EXCLUDED",
                           "join": "SUCCESS"}
    assert run.records["check"].outcome == "true" and run.result == "SUCCESS"


def test_failed_condition_fails_its_branches_and_the_run():
    """Review bug 1: a condition task that failed must make its branches UPSTREAM_FAILED (not EXCLUDED), and the
    run FAILED (not SUCCESS_WITH_FAILURES)."""
    run = run_job([cond("check", "GREATER_THAN", "{{job.parameters.rows}}", "0"), branch("yes", "check", "true"),
                   branch("no", "check", "false")], params={"rows": "many"})
    assert states(run) == {"check": "FAILED", "yes": "UPSTREAM_FAILED", "no": "UPSTREAM_FAILED"}
    assert "needs numbers" in run.records["check"].error
    assert run.result == "FAILED"


def test_condition_after_failed_parent_is_upstream_failed_and_so_are_its_branches():
    run = run_job([t("a"), cond("check", "EQUAL_TO", "1", "1", "a"), branch("yes", "check", "true")], fails={"a"})
    assert states(run) == {"a": "FAILED", "check": "UPSTREAM_FAILED", "yes": "UPSTREAM_FAILED"}
    assert run.result == "FAILED"


def test_non_scalar_task_value_fails_the_condition():
    def script(work):
        return Outcome(values={"ids": [1, 2], "n": 2})

    run = run_job([t("a"), cond("c1", "EQUAL_TO", "{{tasks.a.values.ids}}", "x", "a"),
                   cond("c2", "EQUAL_TO", "{{tasks.a.values.n}}", "2", "a")], script=script)
    assert states(run)["c1"] == "FAILED" and "not a scalar" in run.records["c1"].error
    assert run.records["c2"].outcome == "true"


def test_conditions_are_never_retried():
    run = run_job([cond("c", "LESS_THAN", "x", "1", max_retries=3)])
    assert run.records["c"].state == "FAILED" and len(run.records["c"].attempts) == 1


# ---------------------------------------------------------------------------------------------- disabled [D]


def test_disabled_task_and_its_dependents():
    """Review bug 2: DISABLED, not EXCLUDED; ALL_DONE cleanup after it runs; ALL_SUCCESS child is DISABLED."""
    calls = []
    run = run_job([t("a", disabled=True), t("b", "a"), t("cleanup", "a", run_if="ALL_DONE"), t("c"),
                   t("d", "a", "c", run_if="AT_LEAST_ONE_SUCCESS")], calls=calls)
    assert states(run) == {"a": "DISABLED", "c": "SUCCESS", "b": "DISABLED", "cleanup": "SUCCESS", "d": "SUCCESS"}
    assert ("a", 0) not in calls and ("b", 0) not in calls
    assert run.result == "SUCCESS"
    assert run.records["a"].attempts == [] and run.records["a"].start is None


# ---------------------------------------------------------------------------------------------- result [SDK]


def test_run_result_variants():
    assert run_result({"a": "FAILED", "b": "SUCCESS"}, ["b"]) == "SUCCESS_WITH_FAILURES"
    assert run_result({"a": "SUCCESS", "b": "EXCLUDED"}, ["b"]) == "SUCCESS"
    assert run_result({"a": "SUCCESS", "b": "TIMEDOUT"}, ["a", "b"]) == "TIMEDOUT"
    assert run_result({"a": "FAILED", "b": "UPSTREAM_FAILED"}, ["b"]) == "FAILED"
    assert run_result({"a": "SUCCESS"}, ["a"], canceled=True) == "CANCELED"
    assert run_result({"a": "SUCCESS"}, ["a"], timed_out=True) == "TIMEDOUT"
    assert run_result({}, []) == "SUCCESS"


def test_cleanup_pattern_and_chain():
    tasks = [t("c", "b"), t("a"), t("b", "a"), t("cleanup", "c", run_if="ALL_DONE"),
             t("alert", "c", run_if="AT_LEAST_ONE_FAILED")]
    calls = []
    run = run_job(tasks, fails={"a"}, calls=calls)
    assert states(run) == {"a": "FAILED", "b": "UPSTREAM_FAILED", "c": "UPSTREAM_FAILED", "cleanup": "SUCCESS",
                           "alert": "SUCCESS"}
    assert [k for k, _ in calls] == ["a", "cleanup", "alert"]
    assert run.result == "SUCCESS_WITH_FAILURES"  # the leaves succeeded
    ok = run_job(tasks)
    assert states(ok)["alert"] == "EXCLUDED" and ok.result == "SUCCESS"


# ---------------------------------------------------------------------------------------------- retries, time [SDK]


def test_retries_wait_their_interval_from_the_attempts_start():
    seen = []

    def script(work):
        seen.append(work.attempt)
        return Outcome("FAILED" if work.attempt < 2 else "SUCCESS", duration_ms=1000)

    run = Run({"tasks": [t("a", max_retries=3, min_retry_interval_millis=5000), t("b", "a")]}, now=0)
    drive(run, script)
    a = run.records["a"]
    assert a.state == "SUCCESS" and [x.state for x in a.attempts] == ["FAILED", "FAILED", "SUCCESS"]
    assert [x.start for x in a.attempts] == [0, 5000, 10000]  # 5 s after each failed attempt *started*
    assert run.records["b"].start == 11000


def test_retries_exhausted_and_timeout_needs_flag():
    assert len(run_job([t("a", max_retries=2)], fails={"a"}).records["a"].attempts) == 3
    assert len(run_job([t("a")], fails={"a"}).records["a"].attempts) == 1
    timeout = lambda work: "TIMEDOUT"  # noqa: E731
    assert len(run_job([t("a", max_retries=2)], script=timeout).records["a"].attempts) == 1
    run = run_job([t("a", max_retries=2, retry_on_timeout=True)], script=timeout)
    assert len(run.records["a"].attempts) == 3 and run.records["a"].state == "TIMEDOUT"
    assert run.result == "TIMEDOUT"


def test_task_timeout_expires_the_attempt():
    run = Run({"tasks": [t("slow", timeout_seconds=2, max_retries=1, retry_on_timeout=True), t("next", "slow")]},
              now=0)
    [work] = run.ready(0)
    run.task_started("slow", 100)
    assert run.next_deadline() == 2100
    assert run.expire(2099) == []
    stopped = run.expire(2100)
    assert [w.key for w in stopped] == ["slow"] and run.records["slow"].attempts[0].state == "TIMEDOUT"
    assert run.attempt_finished("slow", "SUCCESS", 2200, attempt=0) is False  # stale: already timed out
    [again] = run.ready(2200)
    assert again.attempt == 1
    run.attempt_finished("slow", "SUCCESS", 2300, attempt=1)
    [nxt] = run.ready(2300)
    run.attempt_finished(nxt.key, "SUCCESS", 2400)
    assert run.result == "SUCCESS"


def test_job_timeout_cancels_running_work_and_times_the_run_out():
    run = Run({"timeout_seconds": 10, "tasks": [t("a"), t("b", "a"), t("cleanup", "b", run_if="ALL_DONE")]}, now=0)
    run.ready(0)
    assert run.next_deadline() == 10_000
    stopped = run.expire(10_000)
    assert [w.key for w in stopped] == ["a"]
    assert states(run)["a"] == "CANCELED" and states(run)["b"] == "UPSTREAM_CANCELED"
    assert run.life_cycle == "TERMINATING"
    [cleanup] = run.ready(10_000)
    assert cleanup.key == "cleanup"
    run.attempt_finished("cleanup", "SUCCESS", 10_500)
    assert run.result == "TIMEDOUT" and run.life_cycle == "TERMINATED" and run.end_time == 10_500


# ---------------------------------------------------------------------------------------------- cancel [R]


def test_cancel_spreads_upstream_canceled_and_cleanup_still_runs():
    run = Run({"tasks": [t("a"), t("side"), t("b", "a"), t("c", "b"), t("cleanup", "c", run_if="ALL_DONE"),
                         t("alert", "c", run_if="AT_LEAST_ONE_FAILED")]}, now=0)
    first = run.ready(0)
    assert {w.key for w in first} == {"a", "side"}
    run.attempt_finished("side", "SUCCESS", 50)
    stopped = run.cancel(100)
    assert [w.key for w in stopped] == ["a"]
    assert states(run) == {"a": "CANCELED", "side": "SUCCESS", "b": "UPSTREAM_CANCELED", "c": "UPSTREAM_CANCELED",
                           "cleanup": None, "alert": None}
    assert run.life_cycle == "TERMINATING" and run.result is None
    handlers = run.ready(100)
    assert sorted(w.key for w in handlers) == ["alert", "cleanup"]
    for w in handlers:
        run.attempt_finished(w.key, "SUCCESS", 200)
    assert run.result == "CANCELED" and states(run)["cleanup"] == "SUCCESS"
    assert run.cancel(300) == []  # a finished run stays as it is


def test_cancel_before_anything_started():
    run = Run({"tasks": [t("a"), t("b", "a")]}, now=0)
    run.cancel(5)
    assert states(run) == {"a": "CANCELED", "b": "UPSTREAM_CANCELED"} and run.result == "CANCELED"
    assert run.ready(6) == [] and run.end_time == 5


# ---------------------------------------------------------------------------------------------- values [TV]


def test_task_values_flow_to_references_and_are_checked():
    seen = {}

    def script(work):
        if work.key == "a":
            return Outcome(values={"rows": 10, "flag": True, "name": "x"})
        seen[work.key] = work.task["notebook_task"]["base_parameters"]
        return "SUCCESS"

    params = {"rows": "{{tasks.a.values.rows}}", "flag": "{{tasks.a.values.flag}}", "p": "{{job.parameters.day}}",
              "missing": "{{tasks.a.values.nope}}", "state": "{{tasks.a.result_state}}", "me": "{{task.name}}"}
    b = t("b", "a")
    b["notebook_task"]["base_parameters"] = params
    run = Run({"tasks": [t("a"), b], "parameters": [{"name": "day", "default": "mon"}]}, now=0,
              params={"day": "tue"})
    drive(run, script)
    assert seen["b"] == {"rows": "10", "flag": "true", "p": "tue", "missing": "{{tasks.a.values.nope}}",
                         "state": "SUCCESS", "me": "b"}
    assert run.records["a"].values == {"rows": 10, "flag": True, "name": "x"}
    assert run.records["b"].values == {}


def test_oversized_or_non_json_values_fail_the_attempt():
    big = "x" * (48 * 1024)
    run = run_job([t("a"), t("b")], script=lambda w: Outcome(values={"v": big} if w.key == "a" else {"v": {1, 2}}))
    assert states(run) == {"a": "FAILED", "b": "FAILED"}
    assert "48 KiB" in run.records["a"].error and "JSON" in run.records["b"].error
    assert values.check_values({"v": "x" * (48 * 1024 - 2)}) is None  # exactly 48 KiB with its quotes


def test_values_are_per_run():
    settings = {"tasks": [t("a"), cond("c", "EQUAL_TO", "{{tasks.a.values.v}}", "1", "a")]}
    first = Run(settings, now=0)
    drive(first, lambda w: Outcome(values={"v": 1}))
    second = Run(settings, now=0)
    drive(second, lambda w: "SUCCESS")  # sets nothing: the first run's value must not leak
    assert first.records["c"].outcome == "true" and second.records["c"].outcome == "false"
    assert second.records["c"].resolved["left"] == "{{tasks.a.values.v}}"


# ---------------------------------------------------------------------------------------------- for each [F]


def test_for_each_schedules_iterations_with_concurrency_and_retries_the_failing_one():
    loop = {"task_key": "loop", "for_each_task": {
        "inputs": "{{job.parameters.ids}}", "concurrency": 2,
        "task": t("body", max_retries=1, notebook_task={"notebook_path": "/nb", "base_parameters": {"id": "{{input}}"}})}}
    run = Run({"tasks": [loop, t("after", "loop")], "parameters": [{"name": "ids", "default": "[1, 2, 3]"}]}, now=0)
    wave = run.ready(0)
    assert [(w.iteration, w.task["notebook_task"]["base_parameters"]["id"]) for w in wave] == [(0, "1"), (1, "2")]
    assert run.ready(0) == []  # concurrency 2: both slots busy
    run.attempt_finished("loop", "FAILED", 10, iteration=1, error="boom")
    run.attempt_finished("loop", "SUCCESS", 10, iteration=0)
    wave = run.ready(10)
    assert sorted((w.iteration, w.attempt) for w in wave) == [(1, 1), (2, 0)]  # retry of the failing iteration only
    for w in wave:
        run.attempt_finished("loop", "SUCCESS", 20, iteration=w.iteration)
    [after] = run.ready(20)
    assert after.key == "after"
    its = run.records["loop"].iterations
    assert [(i.input, i.state, len(i.attempts)) for i in its] == [(1, "SUCCESS", 1), (2, "SUCCESS", 2),
                                                                  (3, "SUCCESS", 1)]


def test_for_each_retry_due_while_every_slot_is_busy_is_no_deadline():
    """Regression (a livelock found by test_runs_properties): an iteration's retry fell due while the other
    iterations filled every concurrency slot.  ``ready`` rightly could not start it, but ``next_deadline`` kept
    answering the (past) retry time, so a driver jumping to the next deadline never moved its clock and
    ``drive`` spun until its event limit.  The retry is not a deadline until a slot frees; the run then ends."""
    body = t("body", max_retries=1, min_retry_interval_millis=30)
    loop = {"task_key": "loop", "for_each_task": {"inputs": "[1, 2, 3]", "concurrency": 2, "task": body}}
    run = Run({"tasks": [loop]}, now=0)
    assert [w.iteration for w in run.ready(0)] == [0, 1]
    for w in (0, 1):
        run.task_started("loop", 0, w)
    run.attempt_finished("loop", "FAILED", 1, iteration=1)  # retry due at 30; its slot goes to iteration 2
    assert run.next_deadline() == 30  # a slot is free right now
    assert [w.iteration for w in run.ready(1)] == [2]
    assert run.next_deadline() is None  # both slots busy: nothing falls due until an attempt ends and frees one
    assert run.ready(30) == []  # the due retry waits for a slot
    run.attempt_finished("loop", "SUCCESS", 100, iteration=2)
    [retry] = run.ready(100)
    assert (retry.iteration, retry.attempt) == (1, 1)

    durations = {(0, 0): 3214, (1, 0): 1, (2, 0): 100}  # the falsifying example's shape, through drive()
    run = Run({"tasks": [loop]}, now=0)
    end = drive(run, lambda w: Outcome("FAILED" if (w.iteration, w.attempt) == (1, 0) else "SUCCESS",
                                       duration_ms=durations.get((w.iteration, w.attempt), 10)), max_events=1000)
    its = run.records["loop"].iterations
    assert run.result == "SUCCESS" and end == 3214
    assert [a.start for a in its[1].attempts] == [0, 101]  # retried when iteration 2 (1 ms + 100 ms) freed its slot


def test_for_each_with_a_failing_iteration_fails_after_all_finished():
    loop = {"task_key": "loop", "for_each_task": {"inputs": '["a", "b", "c"]', "concurrency": 1, "task": t("body")}}
    run = run_job([loop, t("after", "loop")], script=lambda w: "FAILED" if w.input == "b" else "SUCCESS")
    rec = run.records["loop"]
    assert [i.state for i in rec.iterations] == ["SUCCESS", "FAILED", "SUCCESS"]  # policy FOREACH_KEEP_GOING
    assert states(run) == {"loop": "FAILED", "after": "UPSTREAM_FAILED"} and "1 of 3" in rec.error
    assert run.result == "FAILED"


def test_for_each_bad_inputs_and_empty_inputs():
    bad = {"task_key": "loop", "for_each_task": {"inputs": "{{job.parameters.x}}", "task": t("body")}}
    run = run_job([bad])
    assert run.records["loop"].state == "FAILED" and "JSON array" in run.records["loop"].error
    empty = {"task_key": "loop", "for_each_task": {"inputs": "[]", "task": t("body")}}
    assert run_job([empty]).records["loop"].state == "SUCCESS"


def test_for_each_input_fields():
    loop = {"task_key": "loop", "for_each_task": {"inputs": '[{"id": 7}]', "task": t(
        "body", notebook_task={"notebook_path": "/nb", "base_parameters": {"id": "{{input.id}}", "all": "{{input}}"}})}}
    seen = []
    run_job([loop], script=lambda w: seen.append(w.task["notebook_task"]["base_parameters"]) or "SUCCESS")
    assert seen == [{"id": "7", "all": '{"id":7}'}]


# ---------------------------------------------------------------------------------------------- repair [RP]

DAG = [t("a"), t("b", "a"), t("c", "b"), t("d"), t("e", "d")]
PREV = {"a": "SUCCESS", "b": "FAILED", "c": "UPSTREAM_FAILED", "d": "SUCCESS", "e": "SUCCESS"}


def test_repair_selection():
    assert repair_selection(DAG, PREV, rerun_all_failed=True) == {"b", "c"}
    assert repair_selection(DAG, PREV, rerun_tasks=["a"]) == {"a"}
    assert repair_selection(DAG, PREV, rerun_tasks=["a"], rerun_dependent=True) == {"a", "b", "c"}
    for kwargs in ({}, {"rerun_tasks": ["a"], "rerun_all_failed": True}):
        with pytest.raises(ValueError, match="exactly one"):
            repair_selection(DAG, PREV, **kwargs)
    with pytest.raises(ValueError, match="unknown task"):
        repair_selection(DAG, PREV, rerun_tasks=["zzz"])


def test_repair_keeps_untouched_results_and_values():
    settings = {"tasks": DAG}
    run = Run(settings, now=0, run_id=1)
    drive(run, lambda w: Outcome("FAILED" if w.key == "b" else "SUCCESS", values={"who": w.key}))
    assert states(run) == PREV and run.result == "FAILED"
    with pytest.raises(RunStateError):
        Run(settings, now=0).repair(settings, 0, all_failed=True)  # still active
    kept_a = run.records["a"]
    chosen = run.repair(settings, 50_000, all_failed=True, repair_id=9001)
    assert chosen == {"b", "c"} and run.life_cycle == "PENDING" and run.result is None
    calls = []
    drive(run, lambda w: calls.append(w.key) or Outcome(values={"again": w.key}), now=50_000)
    assert calls == ["b", "c"] and run.result == "SUCCESS"
    assert run.records["a"] is kept_a and run.records["a"].values == {"who": "a"}
    assert run.records["b"].values == {"again": "b"}
    assert [(h.kind, h.id, h.tasks, h.result) for h in run.history] == [
        ("ORIGINAL", None, ("a", "d", "b", "e", "c"), "FAILED"), ("REPAIR", 9001, ("b", "c"), "SUCCESS")]
    assert run.latest_repair_id == 9001
    assert [x.state for x in run.records["b"].history] == ["FAILED", "SUCCESS"]
    with pytest.raises(RunStateError, match="no failed tasks"):
        run.repair(settings, 60_000, all_failed=True)


def test_repair_of_all_failed_selects_a_failed_conditions_branch():
    """Review bug 1, second half: after a failed condition, 'all failed' selects the branch too."""
    settings = {"parameters": [{"name": "rows", "default": "x"}],
                "tasks": [cond("check", "GREATER_THAN", "{{job.parameters.rows}}", "0"),
                          branch("load", "check", "true"), branch("skip", "check", "false")]}
    run = Run(settings, now=0)
    drive(run, lambda w: "SUCCESS")
    assert run.result == "FAILED"
    assert run.repair(settings, 10, all_failed=True, params={"rows": "5"}) == {"check", "load", "skip"}
    drive(run, lambda w: "SUCCESS", now=10)
    assert states(run) == {"check": "SUCCESS", "load": "SUCCESS", "skip": "EXCLUDED"} and run.result == "SUCCESS"
    assert run.params["rows"] == "5"


def test_repair_uses_current_settings():
    run = Run({"tasks": [t("a")]}, now=0)
    drive(run, lambda w: "FAILED")
    new = {"tasks": [t("a"), t("b", "a")]}
    assert run.repair(new, 5, all_failed=True) == {"a", "b"}  # policy REPAIR_RUNS_NEW_TASKS
    drive(run, lambda w: "SUCCESS", now=5)
    assert states(run) == {"a": "SUCCESS", "b": "SUCCESS"}


# ---------------------------------------------------------------------------------------------- only, admission


def test_only_runs_a_subset_without_the_others():
    assert expand_only(DAG, ["b"]) == {"b"} and expand_only(DAG, ["+b"]) == {"a", "b"}
    assert expand_only(DAG, ["b+"]) == {"b", "c"} and expand_only(DAG, ["+b+", "d"]) == {"a", "b", "c", "d"}
    with pytest.raises(KeyError):
        expand_only(DAG, ["nope"])
    run = Run({"tasks": DAG}, now=0, only={"b", "c"})
    drive(run, lambda w: "SUCCESS")
    assert states(run) == {"b": "SUCCESS", "c": "SUCCESS"}


def test_admission():
    assert admit({}, 0) == "RUN" and admit({}, 1) == "QUEUE"
    assert admit({"max_concurrent_runs": 3}, 2) == "RUN" and admit({"max_concurrent_runs": 0}, 0) == "SKIP"
    assert admit({"max_concurrent_runs": 1, "queue": {"enabled": False}}, 1) == "SKIP"


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="cycle"):
        Run({"tasks": [t("a", "b"), t("b", "a")]}, now=0)
    with pytest.raises(ValueError, match="unknown task"):
        Run({"tasks": [t("a", "zzz")]}, now=0)
    run = Run({"tasks": [t("a")]}, now=0)
    run.ready(0)
    with pytest.raises(ValueError, match="unknown attempt outcome"):
        run.attempt_finished("a", "GREAT", 1)
    with pytest.raises(KeyError):
        run.attempt_finished("zzz", "SUCCESS", 1)


def test_repair_of_an_only_run_stays_inside_it():
    run = Run({"tasks": DAG}, now=0, only={"b", "c"})
    drive(run, lambda w: "FAILED" if w.key == "b" else "SUCCESS")
    assert states(run) == {"b": "FAILED", "c": "UPSTREAM_FAILED"}
    assert run.repair({"tasks": DAG}, 10, all_failed=True) == {"b", "c"}  # never a, d, e
    drive(run, lambda w: "SUCCESS", now=10)
    assert states(run) == {"b": "SUCCESS", "c": "SUCCESS"}
