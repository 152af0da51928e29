"""Tests for flowdef.runsem: run_if table, condition comparisons, branches, retries, repair."""

from __future__ import annotations

import doctest
import graphlib
import itertools

import pytest

from flowdef import runsem
from flowdef.runsem import (
    RUN,
    Outcome,
    TaskResult,
    compare,
    decide,
    repair_selection,
    simulate,
)


def test_module_is_light_and_doctests_pass():
    assert doctest.testmod(runsem).failed == 0
    # the module must stay light: standard library only
    with open(runsem.__file__, encoding="utf-8") as handle:
        source = handle.read()
    assert "networkx" not in source.replace("not networkx", "")
    assert "import graphlib" in source


# ---------------------------------------------------------------------------------------------
# decide(): the docs table (jobs-api.md 6.1), every run_if against every upstream combination
# ---------------------------------------------------------------------------------------------

S, F, X = ("SUCCESS", True), ("FAILED", True), ("EXCLUDED", True)
T = ("TIMEDOUT", True)
UF, UC, C = ("UPSTREAM_FAILED", True), ("UPSTREAM_CANCELED", True), ("CANCELED", True)
NOT_TAKEN = ("SUCCESS", False)  # condition branch whose outcome did not match

# (run_if, upstream, expected)
TABLE = [
    # ALL_SUCCESS
    ("ALL_SUCCESS", [S], RUN),
    ("ALL_SUCCESS", [S, S], RUN),
    ("ALL_SUCCESS", [S, F], "UPSTREAM_FAILED"),
    ("ALL_SUCCESS", [F, F], "UPSTREAM_FAILED"),
    ("ALL_SUCCESS", [S, UF], "UPSTREAM_FAILED"),
    ("ALL_SUCCESS", [S, T], "UPSTREAM_FAILED"),
    ("ALL_SUCCESS", [S, X], RUN),  # excluded counts as success
    ("ALL_SUCCESS", [S, C], "UPSTREAM_CANCELED"),
    ("ALL_SUCCESS", [S, UC], "UPSTREAM_CANCELED"),
    # AT_LEAST_ONE_SUCCESS
    ("AT_LEAST_ONE_SUCCESS", [S, F], RUN),
    ("AT_LEAST_ONE_SUCCESS", [F, F], "UPSTREAM_FAILED"),
    ("AT_LEAST_ONE_SUCCESS", [F, UF], "UPSTREAM_FAILED"),
    ("AT_LEAST_ONE_SUCCESS", [F, X], RUN),
    ("AT_LEAST_ONE_SUCCESS", [S, S], RUN),
    ("AT_LEAST_ONE_SUCCESS", [F, C], "UPSTREAM_CANCELED"),
    # NONE_FAILED: no dependency failed and at least one ran
    ("NONE_FAILED", [S, S], RUN),
    ("NONE_FAILED", [S, F], "UPSTREAM_FAILED"),
    ("NONE_FAILED", [S, T], "UPSTREAM_FAILED"),
    ("NONE_FAILED", [S, UF], RUN),  # skipped upstream is not a failure, and S ran
    ("NONE_FAILED", [UF], "UPSTREAM_FAILED"),  # nothing ran
    ("NONE_FAILED", [UF, X], "UPSTREAM_FAILED"),
    ("NONE_FAILED", [S, X], RUN),
    ("NONE_FAILED", [UC], "UPSTREAM_CANCELED"),
    # ALL_DONE
    ("ALL_DONE", [S, F], RUN),
    ("ALL_DONE", [F, F], RUN),
    ("ALL_DONE", [UF, C], RUN),
    ("ALL_DONE", [S, X], RUN),
    # AT_LEAST_ONE_FAILED
    ("AT_LEAST_ONE_FAILED", [S, F], RUN),
    ("AT_LEAST_ONE_FAILED", [S, S], "EXCLUDED"),
    ("AT_LEAST_ONE_FAILED", [S, T], RUN),
    ("AT_LEAST_ONE_FAILED", [S, UF], RUN),
    ("AT_LEAST_ONE_FAILED", [S, C], RUN),  # cleanup still runs on cancellation
    ("AT_LEAST_ONE_FAILED", [S, X], "EXCLUDED"),
    # ALL_FAILED
    ("ALL_FAILED", [F, F], RUN),
    ("ALL_FAILED", [F, UF], RUN),
    ("ALL_FAILED", [F, S], "EXCLUDED"),
    ("ALL_FAILED", [F, X], "EXCLUDED"),  # excluded counts as success
    ("ALL_FAILED", [S, S], "EXCLUDED"),
]


@pytest.mark.parametrize("run_if,upstream,expected", TABLE)
def test_decide_table(run_if, upstream, expected):
    assert decide(run_if, upstream) == expected


@pytest.mark.parametrize("run_if", runsem.RUN_IF_VALUES)
def test_all_excluded_upstream_excludes_whatever_run_if(run_if):
    assert decide(run_if, [X, X]) == "EXCLUDED"
    assert decide(run_if, [NOT_TAKEN]) == "EXCLUDED"
    assert decide(run_if, [("DISABLED", True)]) == "EXCLUDED"


@pytest.mark.parametrize("run_if", runsem.RUN_IF_VALUES)
def test_no_dependencies_always_runs(run_if):
    assert decide(run_if, []) == RUN


def test_default_run_if_is_all_success():
    assert decide(None, [S, F]) == decide("ALL_SUCCESS", [S, F])


def test_decide_rejects_unknown_run_if():
    with pytest.raises(ValueError, match="unknown run_if"):
        decide("all_done", [S])


STATES = ["SUCCESS", "FAILED", "TIMEDOUT", "EXCLUDED", "UPSTREAM_FAILED", "CANCELED",
          "UPSTREAM_CANCELED", "DISABLED"]


@pytest.mark.parametrize("run_if", runsem.RUN_IF_VALUES)
def test_decide_total_over_all_pairs(run_if):
    """Every combination yields RUN or a valid skip state, and the documented 'else' state."""
    skip_state = {"AT_LEAST_ONE_FAILED": "EXCLUDED", "ALL_FAILED": "EXCLUDED"}.get(run_if)
    for a, b in itertools.product(STATES, repeat=2):
        got = decide(run_if, [(a, True), (b, True)])
        if {a, b} <= {"EXCLUDED", "DISABLED"}:
            assert got == "EXCLUDED"
        elif skip_state:
            assert got in (RUN, skip_state)
        else:
            assert got in (RUN, "UPSTREAM_FAILED", "UPSTREAM_CANCELED")
        if run_if == "ALL_DONE":
            assert got in (RUN, "EXCLUDED")


# ---------------------------------------------------------------------------------------------
# compare()
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op,left,right,expected",
    [
        ("EQUAL_TO", "12.0", "12", False),  # string compare
        ("EQUAL_TO", "abc", "abc", True),
        ("NOT_EQUAL", "12.0", "12", True),
        ("NOT_EQUAL", "x", "x", False),
        ("GREATER_THAN_OR_EQUAL", "12.0", "12", True),  # numeric compare
        ("LESS_THAN_OR_EQUAL", "12.0", "12", True),
        ("GREATER_THAN", "12.0", "12", False),
        ("GREATER_THAN", "10", "9", True),  # numeric, not lexicographic ("10" < "9" as strings)
        ("LESS_THAN", "9", "10", True),
        ("LESS_THAN", "-1.5", "0", True),
        ("GREATER_THAN", " 3 ", "2", True),
        ("EQUAL_TO", True, "true", True),  # booleans serialise to "true"/"false"
        ("EQUAL_TO", 5, "5", True),
    ],
)
def test_compare(op, left, right, expected):
    assert compare(op, left, right) is expected


def test_compare_errors():
    with pytest.raises(ValueError):
        compare("GREATER_THAN", "abc", "1")
    with pytest.raises(ValueError):
        compare("EQUALS", "a", "a")
    with pytest.raises(ValueError):
        compare("LESS_THAN", "nan", "1")


# ---------------------------------------------------------------------------------------------
# simulate(): DAG walk, branches, retries, disabled, errors
# ---------------------------------------------------------------------------------------------


def t(key, *deps, **extra):
    task = {"task_key": key, "notebook_task": {"notebook_path": f"/nb/{key}"}}
    if deps:
        task["depends_on"] = [d if isinstance(d, dict) else {"task_key": d} for d in deps]
    task.update(extra)
    return task


def outcomes(fails=(), calls=None):
    def execute(key, attempt):
        if calls is not None:
            calls.append((key, attempt))
        return "FAILED" if key in fails else "SUCCESS"

    return execute


def states(results):
    return {k: r.state for k, r in results.items()}


def test_simulate_chain_failure_propagates():
    tasks = [t("c", "b"), t("a"), t("b", "a")]  # order given is not topological
    calls = []
    res = simulate(tasks, outcomes(fails={"a"}, calls=calls))
    assert states(res) == {"a": "FAILED", "b": "UPSTREAM_FAILED", "c": "UPSTREAM_FAILED"}
    assert calls == [("a", 0)]
    assert runsem.run_result(tasks, res) == "FAILED"


def test_simulate_cleanup_pattern():
    tasks = [t("a"), t("b", "a"), t("cleanup", "b", run_if="ALL_DONE"),
             t("alert", "b", run_if="AT_LEAST_ONE_FAILED")]
    res = simulate(tasks, outcomes(fails={"a"}))
    assert states(res) == {"a": "FAILED", "b": "UPSTREAM_FAILED", "cleanup": "SUCCESS",
                           "alert": "SUCCESS"}
    ok = simulate(tasks, outcomes())
    assert ok["alert"].state == "EXCLUDED" and not ok["alert"].executed


def test_simulate_condition_branches_and_join():
    tasks = [
        t("check", condition_task={"op": "GREATER_THAN", "left": "10", "right": "9"}),
        t("yes", {"task_key": "check", "outcome": "true"}),
        t("no", {"task_key": "check", "outcome": "false"}),
        t("after_no", "no"),
        t("join", "yes", "no"),
    ]
    for key in ("check",):
        tasks[0].pop("notebook_task")
    res = simulate(tasks, outcomes())
    assert res["check"].outcome == "true"
    assert states(res) == {"check": "SUCCESS", "yes": "SUCCESS", "no": "EXCLUDED",
                           "after_no": "EXCLUDED", "join": "SUCCESS"}
    assert runsem.run_result(tasks, res) == "SUCCESS"


def test_condition_compares_strings_for_equal_to():
    cond = {"task_key": "c", "condition_task": {"op": "EQUAL_TO", "left": "12.0", "right": "12"}}
    tasks = [cond, t("then", {"task_key": "c", "outcome": "true"}),
             t("else", {"task_key": "c", "outcome": "false"})]
    res = simulate(tasks, outcomes())
    assert res["c"].outcome == "false"
    assert res["then"].state == "EXCLUDED" and res["else"].state == "SUCCESS"


def test_condition_task_with_bad_operand_fails_and_is_not_retried():
    cond = {"task_key": "c", "max_retries": 3,
            "condition_task": {"op": "LESS_THAN", "left": "{{x}}", "right": "1"}}
    res = simulate([cond], outcomes())
    assert res["c"].state == "FAILED" and res["c"].attempts == 1 and res["c"].error


def test_executor_outcome_overrides_literal_condition():
    cond = {"task_key": "c", "condition_task": {"op": "EQUAL_TO", "left": "{{job.parameters.x}}",
                                                 "right": "a"}}
    res = simulate([cond], lambda key, attempt: Outcome("SUCCESS", outcome="true"))
    assert res["c"].outcome == "true"


def test_retries_until_success():
    tasks = [t("a", max_retries=3), t("b", "a")]
    calls = []

    def execute(key, attempt):
        calls.append((key, attempt))
        return "FAILED" if key == "a" and attempt < 2 else "SUCCESS"

    res = simulate(tasks, execute)
    assert res["a"].state == "SUCCESS" and res["a"].attempts == 3
    assert res["a"].history == ("FAILED", "FAILED", "SUCCESS")
    assert calls == [("a", 0), ("a", 1), ("a", 2), ("b", 0)]


def test_retries_exhausted():
    res = simulate([t("a", max_retries=2)], outcomes(fails={"a"}))
    assert res["a"].state == "FAILED" and res["a"].attempts == 3


def test_no_retry_by_default_and_timeout_needs_flag():
    assert simulate([t("a")], outcomes(fails={"a"}))["a"].attempts == 1
    timeout = lambda key, attempt: "TIMEDOUT"
    assert simulate([t("a", max_retries=2)], timeout)["a"].attempts == 1
    res = simulate([t("a", max_retries=2, retry_on_timeout=True)], timeout)
    assert res["a"].attempts == 3 and res["a"].state == "TIMEDOUT"


def test_infinite_retries_are_capped():
    res = simulate([t("a", max_retries=-1)], outcomes(fails={"a"}))
    assert res["a"].attempts == runsem.INFINITE_RETRY_CAP


def test_executor_exception_fails_the_attempt():
    def boom(key, attempt):
        raise RuntimeError("kaput")

    res = simulate([t("a")], boom)
    assert res["a"].state == "FAILED" and "kaput" in res["a"].error


def test_disabled_task_is_skipped_and_downstream_runs():
    tasks = [t("a", disabled=True), t("b", "a"), t("c")]
    calls = []
    res = simulate(tasks, outcomes(calls=calls))
    assert states(res) == {"a": "DISABLED", "b": "EXCLUDED", "c": "SUCCESS"}
    assert ("a", 0) not in calls


def test_cycle_raises():
    with pytest.raises(graphlib.CycleError):
        simulate([t("a", "b"), t("b", "a")], outcomes())


def test_topological_order_is_deterministic():
    tasks = [t("z"), t("y"), t("x", "z"), t("w", "y", "z")]
    assert runsem.topological_order(tasks) == ["z", "y", "x", "w"]


def test_simulate_selected_without_previous_is_an_only_run():
    tasks = [t("a"), t("b", "a"), t("c", "b")]
    res = simulate(tasks, outcomes(fails={"a"}), selected={"b", "c"})
    assert states(res) == {"b": "SUCCESS", "c": "SUCCESS"}


def test_expand_only():
    tasks = [t("a"), t("b", "a"), t("c", "b"), t("d")]
    assert runsem.expand_only(tasks, ["b"]) == {"b"}
    assert runsem.expand_only(tasks, ["+b"]) == {"a", "b"}
    assert runsem.expand_only(tasks, ["b+"]) == {"b", "c"}
    assert runsem.expand_only(tasks, ["+b+", "d"]) == {"a", "b", "c", "d"}
    with pytest.raises(KeyError):
        runsem.expand_only(tasks, ["nope"])


# ---------------------------------------------------------------------------------------------
# run_result / for_each_result
# ---------------------------------------------------------------------------------------------


def test_run_result_success_with_failures():
    tasks = [t("a"), t("handler", "a", run_if="AT_LEAST_ONE_FAILED")]
    res = simulate(tasks, outcomes(fails={"a"}))
    assert runsem.run_result(tasks, res) == "SUCCESS_WITH_FAILURES"


def test_run_result_variants():
    tasks = [t("a"), t("b")]
    assert runsem.run_result(tasks, {"a": "SUCCESS", "b": "EXCLUDED"}) == "SUCCESS"
    assert runsem.run_result(tasks, {"a": "SUCCESS", "b": "TIMEDOUT"}) == "TIMEDOUT"
    assert runsem.run_result(tasks, {"a": "CANCELED", "b": "SUCCESS"}) == "CANCELED"
    assert runsem.run_result(tasks, {}) == "SUCCESS"


def test_for_each_result():
    assert runsem.for_each_result([]) == "SUCCESS"
    assert runsem.for_each_result(["SUCCESS", "SUCCESS"]) == "SUCCESS"
    assert runsem.for_each_result(["SUCCESS", "FAILED"]) == "FAILED"
    assert runsem.for_each_result(["CANCELED", "SUCCESS"]) == "CANCELED"


# ---------------------------------------------------------------------------------------------
# repair_selection() and repair through simulate(previous=...)
# ---------------------------------------------------------------------------------------------

DAG = [t("a"), t("b", "a"), t("c", "b"), t("d"), t("e", "d")]
PREV = {"a": "SUCCESS", "b": "FAILED", "c": "UPSTREAM_FAILED", "d": "SUCCESS", "e": "SUCCESS"}


def test_repair_all_failed_includes_skipped():
    assert repair_selection(DAG, PREV, rerun_all_failed=True) == {"b", "c"}


def test_repair_explicit_tasks_and_dependents():
    assert repair_selection(DAG, PREV, rerun_tasks=["a"]) == {"a"}
    assert repair_selection(DAG, PREV, rerun_tasks=["a"], rerun_dependent=True) == {"a", "b", "c"}
    assert repair_selection(DAG, PREV, rerun_tasks=["d"], rerun_dependent=True) == {"d", "e"}


def test_repair_all_failed_with_dependents():
    prev = dict(PREV, b="SUCCESS", c="SUCCESS", d="FAILED", e="UPSTREAM_FAILED")
    assert repair_selection(DAG, prev, rerun_all_failed=True, rerun_dependent=True) == {"d", "e"}


@pytest.mark.parametrize("kwargs", [{}, {"rerun_tasks": ["a"], "rerun_all_failed": True},
                                    {"rerun_tasks": []}])
def test_repair_requires_exactly_one_mode(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        repair_selection(DAG, PREV, **kwargs)


def test_repair_unknown_task():
    with pytest.raises(ValueError, match="unknown task"):
        repair_selection(DAG, PREV, rerun_tasks=["zzz"])


def test_repair_simulation_keeps_untouched_results():
    first = simulate(DAG, outcomes(fails={"b"}))
    assert states(first) == PREV
    chosen = repair_selection(DAG, states(first), rerun_all_failed=True)
    calls = []
    second = simulate(DAG, outcomes(calls=calls), selected=chosen, previous=first)
    assert states(second) == {k: "SUCCESS" for k in PREV}
    assert sorted(calls) == [("b", 0), ("c", 0)]
    assert second["a"] is first["a"]


def test_task_result_executed_flag():
    assert not TaskResult("x", "EXCLUDED").executed
    assert TaskResult("x", "SUCCESS", attempts=1).executed

