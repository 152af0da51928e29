"""Random DAGs x random outcomes (x a random cancel): the run always ends, no task is left undecided, and every
task's fate follows the rules from its parents' final states."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flowdef.runs import Outcome, Run, rules

RUN_IFS = list(rules.RUN_IF_VALUES)


@st.composite
def jobs(draw):
    n = draw(st.integers(1, 9))
    tasks = []
    for i in range(n):
        key = f"t{i}"
        task: dict = {"task_key": key}
        kind = draw(st.sampled_from(["plain", "plain", "plain", "condition", "loop"]))
        if kind == "condition":
            task["condition_task"] = {"op": draw(st.sampled_from(["EQUAL_TO", "GREATER_THAN"])),
                                      "left": draw(st.sampled_from(["1", "2", "x"])), "right": "1"}
        elif kind == "loop":
            task["for_each_task"] = {"inputs": draw(st.sampled_from(["[1, 2, 3]", "[]", "[1]"])),
                                     "concurrency": draw(st.integers(1, 3)),
                                     "task": {"task_key": f"{key}_body", "max_retries": draw(st.integers(0, 1)),
                                              "min_retry_interval_millis": draw(st.sampled_from([0, 30]))}}
        else:
            task["max_retries"] = draw(st.integers(0, 2))
            task["retry_on_timeout"] = draw(st.booleans())
            task["min_retry_interval_millis"] = draw(st.sampled_from([0, 0, 50]))
        if i and draw(st.booleans()):
            parents = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=3, unique=True))
            deps = []
            for p in parents:
                dep = {"task_key": f"t{p}"}
                if "condition_task" in tasks[p] and draw(st.booleans()):
                    dep["outcome"] = draw(st.sampled_from(["true", "false"]))
                deps.append(dep)
            task["depends_on"] = deps
            task["run_if"] = draw(st.sampled_from(RUN_IFS))
        if draw(st.integers(0, 7)) == 0:
            task["disabled"] = True
        tasks.append(task)
    outcomes = draw(st.lists(st.sampled_from(["SUCCESS", "SUCCESS", "FAILED", "TIMEDOUT"]), min_size=64,
                             max_size=64))
    cancel_at = draw(st.one_of(st.none(), st.integers(0, 6)))
    return tasks, outcomes, cancel_at


def _play(tasks, outcomes, cancel_at):
    run = Run({"tasks": tasks}, now=0)
    clock, step, cursor = 0, 0, 0
    running = []
    while not run.terminated:
        assert step < 500, "the run did not end"
        if cancel_at is not None and step == cancel_at:
            run.cancel(clock)
        for work in run.ready(clock):
            run.task_started(work.key, clock, work.iteration)
            running.append(work)
        clock += 10
        if running:
            work = running.pop(0)
            state = outcomes[cursor % len(outcomes)]
            cursor += 1
            run.attempt_finished(work.key, state, clock, iteration=work.iteration, attempt=work.attempt,
                                 values={"n": cursor})
        elif not run.terminated:
            deadline = run.next_deadline()
            assert deadline is not None, "nothing runs, nothing is due, and the run has not ended"
            clock = max(clock, deadline)
        step += 1
    return run


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs())
def test_random_runs_end_and_follow_the_rules(job):
    tasks, outcomes, cancel_at = job
    run = _play(tasks, outcomes, cancel_at)
    by_key = {t["task_key"]: t for t in tasks}
    final = {r.key: r for r in run.tasks}
    for key, rec in final.items():
        assert rec.state in rules.FINAL_STATES, (key, rec.state)
        spec = by_key[key]
        parents = [(final[d["task_key"]], d.get("outcome")) for d in spec.get("depends_on") or ()]
        edges = [rules.classify_edge(p.state, p.outcome, o) for p, o in parents]
        verdict = rules.decide(spec.get("run_if"), edges)
        ran = bool(rec.attempts)
        if spec.get("disabled"):
            assert rec.state == "DISABLED" and not ran
            continue
        if ran:
            assert verdict == rules.RUN, (key, edges, spec.get("run_if"))
            assert all(p.end is not None and p.end <= rec.start for p, _ in parents if p.attempts)
            limit = rules.max_attempts(spec)
            assert len(rec.attempts) <= limit
            for a in rec.attempts[:-1]:  # every attempt but the last was retried: it must have been retryable
                assert rules.retryable(a.state, spec), (key, a.state)
            if rec.state == "SUCCESS" and "condition_task" not in spec and "for_each_task" not in spec:
                assert rec.values == rec.attempts[-1].values
        else:
            assert rec.state in rules.SKIPPED_STATES or (run.canceled and rec.state == "CANCELED")
            assert rec.values == {}
            if run.canceled and rec.state in ("UPSTREAM_CANCELED", "CANCELED"):
                continue  # cancellation spreads downstream whatever the rule said
            assert verdict == rec.state, (key, edges, spec.get("run_if"), rec.state)
        if "for_each_task" in spec and rec.state in ("SUCCESS", "FAILED"):
            its = rec.iterations or []
            assert all(i.state in rules.FINAL_STATES for i in its)
            assert (rec.state == "SUCCESS") == all(i.state == "SUCCESS" for i in its)
    states = {k: r.state for k, r in final.items()}
    assert run.result == rules.run_result(states, run.leaves, canceled=run.canceled)
    if not run.canceled and all(s in ("SUCCESS", "EXCLUDED", "DISABLED") for s in states.values()):
        assert run.result == "SUCCESS"


@settings(max_examples=100, deadline=None)
@given(jobs())
def test_repair_of_all_failed_with_every_task_succeeding_ends_in_success(job):
    tasks, outcomes, cancel_at = job
    run = _play(tasks, outcomes, cancel_at)
    if run.result in ("SUCCESS",) or any(t.get("disabled") for t in tasks):
        return
    if any("condition_task" in t and t["condition_task"]["left"] == "x" and t["condition_task"]["op"] != "EQUAL_TO"
           for t in tasks):
        return  # a condition that can only fail cannot be repaired into success
    try:
        run.repair({"tasks": tasks}, 10_000, all_failed=True, dependents=True)
    except ValueError:
        return  # nothing failed (SUCCESS_WITH_FAILURES from an excluded handler, or all kept)
    from flowdef.runs import drive

    drive(run, lambda w: Outcome("SUCCESS"), now=10_000)
    assert run.terminated and all(r.state in rules.FINAL_STATES for r in run.tasks)
    assert all(r.state not in ("FAILED", "UPSTREAM_FAILED", "CANCELED", "UPSTREAM_CANCELED") for r in run.tasks), \
        {r.key: r.state for r in run.tasks}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(), st.lists(st.integers(0, 4000), min_size=16, max_size=16),
       st.lists(st.sampled_from([0, 0, 1, 2]), min_size=9, max_size=9), st.sampled_from([0, 0, 3, 6]))
@example(
    job=([{'task_key': 't0',
       'max_retries': 1,
       'retry_on_timeout': True,
       'min_retry_interval_millis': 0},
      {'task_key': 't1',
       'condition_task': {'op': 'EQUAL_TO', 'left': '1', 'right': '1'},
       'disabled': True},
      {'task_key': 't2',
       'max_retries': 1,
       'retry_on_timeout': True,
       'min_retry_interval_millis': 0,
       'depends_on': [{'task_key': 't0'}],
       'run_if': 'AT_LEAST_ONE_FAILED'},
      {'task_key': 't3',
       'for_each_task': {'inputs': '[1, 2, 3]',
        'concurrency': 2,
        'task': {'task_key': 't3_body',
         'max_retries': 0,
         'min_retry_interval_millis': 30}}},
      {'task_key': 't4',
       'for_each_task': {'inputs': '[1, 2, 3]',
        'concurrency': 2,
        'task': {'task_key': 't4_body',
         'max_retries': 1,
         'min_retry_interval_millis': 30}},
       'depends_on': [{'task_key': 't0'}],
       'run_if': 'AT_LEAST_ONE_SUCCESS'},
      {'task_key': 't5',
       'max_retries': 0,
       'retry_on_timeout': False,
       'min_retry_interval_millis': 50},
      {'task_key': 't6',
       'condition_task': {'op': 'GREATER_THAN', 'left': '2', 'right': '1'}}],
     ['FAILED',
      'TIMEDOUT',
      'SUCCESS',
      'TIMEDOUT',
      'FAILED',
      'SUCCESS',
      'SUCCESS',
      'FAILED',
      'SUCCESS',
      'TIMEDOUT',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'TIMEDOUT',
      'TIMEDOUT',
      'TIMEDOUT',
      'SUCCESS',
      'FAILED',
      'FAILED',
      'SUCCESS',
      'TIMEDOUT',
      'FAILED',
      'FAILED',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'FAILED',
      'FAILED',
      'SUCCESS',
      'FAILED',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'TIMEDOUT',
      'SUCCESS',
      'SUCCESS',
      'FAILED',
      'SUCCESS',
      'SUCCESS',
      'FAILED',
      'TIMEDOUT',
      'SUCCESS',
      'SUCCESS',
      'TIMEDOUT',
      'FAILED',
      'SUCCESS',
      'FAILED',
      'SUCCESS',
      'FAILED',
      'TIMEDOUT',
      'SUCCESS',
      'TIMEDOUT',
      'SUCCESS',
      'TIMEDOUT',
      'FAILED',
      'TIMEDOUT',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'SUCCESS'],
     None),
    durations=[1437,
     169,
     488,
     1,
     827,
     83,
     3214,
     1,
     100,
     187,
     131,
     475,
     530,
     3024,
     294,
     2581],
    task_timeouts=[0, 0, 0, 0, 0, 2, 1, 0, 2],
    job_timeout=0,
).via("regression: a for-each retry due while every slot was busy livelocked drive()")
def test_random_runs_with_time_respect_timeouts_and_intervals(job, durations, task_timeouts, job_timeout):
    """Random durations, task timeouts and a job timeout, in virtual time: the run ends, every attempt that was
    cut short is TIMEDOUT at its deadline, retries wait their interval, and skipped tasks follow the rules."""
    from flowdef.runs import drive

    tasks, outcomes, _ = job
    for task, limit in zip(tasks, task_timeouts):
        if limit and "condition_task" not in task and "for_each_task" not in task:
            task["timeout_seconds"] = limit
    run = Run({"tasks": tasks, "timeout_seconds": job_timeout}, now=0)
    counter = iter(range(10_000))

    def execute(work):
        i = next(counter)
        return Outcome(outcomes[i % len(outcomes)], duration_ms=durations[i % len(durations)])

    end = drive(run, execute)
    assert run.terminated and all(r.state in rules.FINAL_STATES for r in run.tasks)
    deadline = job_timeout * 1000
    if job_timeout and end > deadline:
        assert run.timed_out  # something was still going at the job's deadline: the run timed out
    by_key = {t["task_key"]: t for t in tasks}
    for rec in run.tasks:
        spec = by_key[rec.key]
        limit = int(spec.get("timeout_seconds") or 0) * 1000
        for a in rec.attempts:
            if limit and a.end is not None and a.start is not None:
                assert a.end - a.start <= limit, (rec.key, a)
        for prev, nxt in zip(rec.attempts, rec.attempts[1:]):
            assert nxt.start >= prev.start + int(spec.get("min_retry_interval_millis") or 0)
        if not rec.attempts and not spec.get("disabled") and not run.timed_out:
            parents = [(run.records[d["task_key"]], d.get("outcome")) for d in spec.get("depends_on") or ()]
            edges = [rules.classify_edge(p.state, p.outcome, o) for p, o in parents]
            assert rules.decide(spec.get("run_if"), edges) == rec.state
    if run.timed_out:
        assert run.result == "TIMEDOUT"
        for rec in run.tasks:  # after the deadline only failure-handling tasks start (cleanup still runs)
            if (by_key[rec.key].get("run_if") or "ALL_SUCCESS") in rules.SUCCESS_RULES:
                assert all(a.start is not None and a.start < deadline for a in rec.attempts), rec.key
