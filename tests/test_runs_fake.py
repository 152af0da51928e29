"""The fake workspace runs jobs for real: the run-semantics state machine behind run-now, runs/get, runs/list,
runs/get-output, runs/repair and runs/cancel, through the real databricks-sdk client."""

from __future__ import annotations

import pytest
from databricks.sdk import errors
from databricks.sdk.service import jobs

from flowdef.runs import Outcome
from flowdef.testing import FakeWorkspace


def task(key, *deps, **extra):
    out = {"task_key": key, "notebook_task": {"notebook_path": f"/Shared/{key}"}}
    if deps:
        out["depends_on"] = [d if isinstance(d, dict) else {"task_key": d} for d in deps]
    out.update(extra)
    return out


def states(run):
    return {t.task_key: t.state.result_state.value if t.state.result_state else t.state.life_cycle_state.value
            for t in run.tasks}


@pytest.fixture
def ws():
    with FakeWorkspace() as fake:
        yield fake


@pytest.fixture
def stepping():
    with FakeWorkspace(run_polls=1) as fake:
        yield fake


def test_life_cycle_over_polls_with_queueing(stepping):
    w = stepping.client()
    job_id = stepping.add_job({"name": "q", "max_concurrent_runs": 1, "tasks": [task("a"), task("b", "a")]})
    first = w.jobs.run_now(job_id).response.run_id
    assert [r.state.life_cycle_state.value for r in w.jobs.list_runs(job_id=job_id)] == ["PENDING"]
    second = w.jobs.run_now(job_id).response.run_id
    life = lambda run_id: w.jobs.get_run(run_id).state.life_cycle_state.value  # noqa: E731
    assert life(second) == "QUEUED"
    seen = [life(first) for _ in range(4)]
    assert seen == ["RUNNING", "RUNNING", "TERMINATED", "TERMINATED"]
    run = w.jobs.get_run(first)
    assert states(run) == {"a": "SUCCESS", "b": "SUCCESS"} and run.state.result_state.value == "SUCCESS"
    a, b = run.tasks
    assert a.end_time <= b.start_time < b.end_time
    # the first run ended: the queued one is admitted, waits one poll PENDING, then runs like the first
    assert [life(second) for _ in range(4)] == ["PENDING", "RUNNING", "RUNNING", "TERMINATED"]
    assert [r.run_id for r in w.jobs.list_runs(job_id=job_id)] == [second, first]


def test_over_the_limit_without_queue_is_skipped(stepping):
    w = stepping.client()
    job_id = stepping.add_job({"name": "s", "max_concurrent_runs": 1, "queue": {"enabled": False},
                               "tasks": [task("a")]})
    w.jobs.run_now(job_id)
    skipped = w.jobs.get_run(w.jobs.run_now(job_id).response.run_id)
    assert skipped.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert skipped.status.termination_details.code == jobs.TerminationCodeCode.MAX_CONCURRENT_RUNS_EXCEEDED


def test_cancel_spreads_and_the_cleanup_task_still_runs(stepping):
    w = stepping.client()
    job_id = stepping.add_job({"name": "c", "tasks": [
        task("a"), task("b", "a"), task("cleanup", "b", run_if="ALL_DONE")]})
    run_id = w.jobs.run_now(job_id).response.run_id
    assert w.jobs.get_run(run_id).state.life_cycle_state == jobs.RunLifeCycleState.RUNNING
    w.jobs.cancel_run(run_id)
    run = w.jobs.get_run(run_id)
    assert states(run) == {"a": "CANCELED", "b": "UPSTREAM_CANCELED", "cleanup": "RUNNING"}
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATING
    run = w.jobs.get_run(run_id)
    assert states(run)["cleanup"] == "SUCCESS" and run.state.result_state == jobs.RunResultState.CANCELED


def test_failed_condition_fails_its_branch_and_repair_of_all_failed_selects_it(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "cond", "parameters": [{"name": "rows", "default": "many"}], "tasks": [
        {"task_key": "check", "condition_task": {"op": "GREATER_THAN", "left": "{{job.parameters.rows}}",
                                                 "right": "0"}},
        task("load", {"task_key": "check", "outcome": "true"}),
        task("nothing", {"task_key": "check", "outcome": "false"})]})
    with pytest.raises(errors.OperationFailed, match="Task check failed"):
        w.jobs.run_now(job_id).result()
    run_id = next(iter(w.jobs.list_runs(job_id=job_id))).run_id
    run = w.jobs.get_run(run_id)
    assert states(run) == {"check": "FAILED", "load": "UPSTREAM_FAILED", "nothing": "UPSTREAM_FAILED"}
    repaired = w.jobs.repair_run(run_id, rerun_all_failed_tasks=True, job_parameters={"rows": "3"}).result()
    assert states(repaired) == {"check": "SUCCESS", "load": "SUCCESS", "nothing": "EXCLUDED"}
    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    check = next(t for t in repaired.tasks if t.task_key == "check")
    assert check.resolved_values.condition_task.left == "3"


def test_for_each_with_one_failing_iteration_retries_only_it_and_exposes_iterations(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "loop", "tasks": [
        {"task_key": "loop", "for_each_task": {"inputs": "[10, 20, 30]", "concurrency": 2,
                                               "task": task("body", max_retries=1)}},
        task("after", "loop")]})
    # executions in start order: iterations 0 and 1, then iteration 1's retry and iteration 2
    ws.script_task(job_id, "body", "SUCCESS", "FAILED", "FAILED", "SUCCESS")
    with pytest.raises(errors.OperationFailed):
        w.jobs.run_now(job_id).result()
    run = w.jobs.get_run(next(iter(w.jobs.list_runs(job_id=job_id))).run_id)
    assert states(run) == {"loop": "FAILED", "after": "UPSTREAM_FAILED"}
    loop = next(t for t in run.tasks if t.task_key == "loop")
    stats = loop.for_each_task.stats.task_run_stats
    assert (stats.total_iterations, stats.succeeded_iterations, stats.failed_iterations) == (3, 2, 1)
    detail = w.jobs.get_run(loop.run_id)
    assert [(i.state.result_state.value, i.attempt_number) for i in detail.iterations] == [
        ("SUCCESS", 0), ("FAILED", 1), ("SUCCESS", 0)]
    failed = detail.iterations[1]
    assert w.jobs.get_run_output(failed.run_id).error == "Workload failed, see run output for details"


def test_task_values_stay_in_their_run(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "values", "tasks": [
        task("count"),
        {"task_key": "gate", "depends_on": [{"task_key": "count"}],
         "condition_task": {"op": "EQUAL_TO", "left": "{{tasks.count.values.rows}}", "right": "7"}}]})
    ws.script_task(job_id, "count", Outcome(values={"rows": 7}))
    first = w.jobs.run_now(job_id).result()
    second = w.jobs.run_now(job_id).result()  # count sets nothing this time
    outcome = lambda run: next(t for t in run.tasks if t.task_key == "gate").condition_task.outcome  # noqa: E731
    assert outcome(first) == "true" and outcome(second) == "false"


def test_each_attempt_has_its_own_task_run_and_output(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "retry", "tasks": [task("flaky", max_retries=2)]})
    ws.script_task(job_id, "flaky", Outcome("FAILED", "first: boom"), Outcome("FAILED", "second: boom"))
    ws.set_task_output(job_id, "flaky", notebook_result="done", error_trace="Traceback ...")
    run = w.jobs.run_now(job_id).result()
    [flaky] = run.tasks
    assert flaky.attempt_number == 2 and flaky.state.result_state == jobs.RunResultState.SUCCESS
    assert w.jobs.get_run_output(flaky.run_id).notebook_output.result == "done"
    ids = sorted(i for i, (owner, ident) in ws._runs.task_runs.items() if ident[0] == "flaky")
    errors_seen = [w.jobs.get_run_output(i).error for i in ids[:2]]
    assert errors_seen == ["first: boom", "second: boom"]
    assert w.jobs.get_run_output(run.run_id).notebook_output.result == "done"  # single-task run: allowed


def test_task_timeout_from_a_slow_attempt(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "slow", "tasks": [task("slow", timeout_seconds=5), task("next", "slow")]})
    ws.script_task(job_id, "slow", Outcome(duration_ms=60_000))
    with pytest.raises(errors.OperationFailed):
        w.jobs.run_now(job_id).result()
    run = w.jobs.get_run(next(iter(w.jobs.list_runs(job_id=job_id))).run_id)
    assert states(run) == {"slow": "TIMEDOUT", "next": "UPSTREAM_FAILED"}
    slow = run.tasks[0]
    assert slow.end_time - slow.start_time == 5000


def test_repair_history_ids_and_latest_repair_id(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "r", "tasks": [task("a"), task("b", "a"), task("side")]})
    ws.fail_task(job_id, "a", times=2, error="bad input")
    with pytest.raises(errors.OperationFailed, match="Task a failed with message: bad input"):
        w.jobs.run_now(job_id, idempotency_token="tok").result()
    assert w.jobs.run_now(job_id, idempotency_token="tok").response.run_id == \
        next(iter(w.jobs.list_runs(job_id=job_id))).run_id  # the same run, not a second one
    run_id = next(iter(w.jobs.list_runs(job_id=job_id))).run_id
    first = w.jobs.repair_run(run_id, rerun_tasks=["a"]).response.repair_id
    with pytest.raises(errors.InvalidParameterValue, match="latest repair ID"):
        w.jobs.repair_run(run_id, rerun_tasks=["a"])
    second = w.jobs.repair_run(run_id, rerun_tasks=["a"], rerun_dependent_tasks=True,
                               latest_repair_id=first).response.repair_id
    run = w.jobs.get_run(run_id, include_history=True)
    assert [(h.type.value, h.id) for h in run.repair_history] == [("ORIGINAL", None), ("REPAIR", first),
                                                                  ("REPAIR", second)]
    assert [h.state.result_state.value for h in run.repair_history] == ["FAILED", "FAILED", "SUCCESS"]
    assert len(run.repair_history[2].task_run_ids) == 2 and states(run) == {"a": "SUCCESS", "b": "SUCCESS",
                                                                            "side": "SUCCESS"}


def test_iterations_page_at_100(ws):
    w = ws.client()
    job_id = ws.add_job({"name": "wide", "tasks": [
        {"task_key": "loop", "for_each_task": {"inputs": str(list(range(130))), "concurrency": 50,
                                               "task": task("body")}}]})
    run = w.jobs.run_now(job_id).result()
    loop_run_id = run.tasks[0].run_id
    first = w.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": loop_run_id})
    assert len(first["iterations"]) == 100 and first["next_page_token"]
    second = w.api_client.do("GET", "/api/2.2/jobs/runs/get",
                             query={"run_id": loop_run_id, "page_token": first["next_page_token"]})
    assert len(second["iterations"]) == 30
