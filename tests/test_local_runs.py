"""The local engine's control plane end to end through the command line, in fresh processes.

The lesson's drill (a failing task -> repair), a run killed with SIGKILL (recorded as interrupted, then repaired),
two runs of a ``max_concurrent_runs = 1`` job at once, cancel, concurrency of independent tasks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlframe")

from tests.conftest import ROOT  # noqa: E402


def flowdef_local(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "flowdef.local", *args, "--target", "local"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(example_project):
    from flowdef.local.example_data import generate, landing_folder

    generate(landing_folder(example_project / ".flowdef" / "local", "smart_claims_dev"), claims=200)
    return example_project


def flowdef(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The main command line (operate's commands, served by the local backend for an engine = "local" target)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "flowdef", *args, "--target", "local"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


def status(project: Path, run_id: int) -> dict:
    done = flowdef_local(project, "status", str(run_id), "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def states(st: dict) -> dict[str, str]:
    return {t["task_key"]: t["state"] for t in st["tasks"]}


def test_failure_then_repair_through_the_cli(project):
    ingest = flowdef(project, "run", "smart_claims_ingestion")
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    failed = flowdef(project, "run", "smart_claims_bronze_to_silver", "--param", "simulate_failure=true")
    assert failed.returncode == 1
    assert "Repair: flowdef repair 2 --failed --dependents" in failed.stdout
    st = json.loads(flowdef(project, "status", "2", "--format", "json").stdout)
    assert st["result"] == "FAILED" and st["job"] == "smart_claims_bronze_to_silver"
    assert [r["type"] for r in st["repairs"]] == ["ORIGINAL"]
    assert states(st) == {"deduplicate_claims": "SUCCESS", "join_tables_create": "FAILED",
                          "join_tables_metrics": "UPSTREAM_FAILED", "join_tables_sample": "UPSTREAM_FAILED"}
    error = next(t["error"] for t in st["tasks"] if t["task_key"] == "join_tables_create")
    # named at the template the user edits (its lines are the rendered file's), the rendered file beside it
    assert error.startswith("sql_templates/silver/join_tables_create.sql:3: statement 1"), error
    assert "simulated failure" in error and "(in the rendered file .flowdef/local/build/" in error
    repaired = flowdef(project, "repair", "2", "--failed", "--dependents", "--param", "simulate_failure=false")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    st = json.loads(flowdef(project, "status", "2", "--format", "json").stdout)
    assert st["result"] == "SUCCESS" and set(states(st).values()) == {"SUCCESS"}
    assert [(r["type"], r["tasks"]) for r in st["repairs"]][1:] == [
        ("REPAIR", ["join_tables_create", "join_tables_metrics", "join_tables_sample"])]
    # the dedup task kept its first-pass result and values: the metrics task read them in the repair
    logs = flowdef(project, "logs", "2", "join_tables_metrics")
    # rows, unique claims, the duplicated policy's extra row, rows removed by dedup (values kept from pass 0)
    assert logs.stdout.splitlines()[-1].strip() == "201 | 200 | 1 | 16"
    runs = json.loads(flowdef(project, "runs", "--format", "json").stdout)
    assert [r["run_id"] for r in runs] == ["2", "1"]
    # the same records through the local engine's own entry point
    assert status(project, 2)["result"] == "SUCCESS"


SLOW_JOB = '''
from flowdef import Job

job = Job("slow", max_concurrent_runs=1, queue=None)

@job.task()
def first(ctx):
    import time
    time.sleep(30)

@job.task(depends_on=[first])
def second(ctx):
    pass
'''


def _signal_once_running(project: Path, argv: list[str], signum: int) -> tuple[int, str, str]:
    """Run the slow job with ``argv``, send ``signum`` once its first task runs; (exit code, stdout, stderr)."""
    (project / "pipelines" / "slow.py").write_text(SLOW_JOB.replace(", queue=None", ""))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", *argv, "slow", "--target", "local"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            seen.append(line)
            if "first" in line and "RUNNING" in line:
                break
        else:
            pytest.fail("the run never started its first task")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, "".join(seen) + out, err


def test_kill_9_mid_run_is_interrupted_and_repairable(project):
    _signal_once_running(project, ["flowdef.local", "run"], signal.SIGKILL)
    st = status(project, 1)  # reading the records notices the owner is gone
    assert st["state"] == "TERMINATED" and st["result"] == "CANCELED"
    assert "interrupted" in st["message"]
    assert states(st) == {"first": "CANCELED", "second": "UPSTREAM_CANCELED"}
    (project / "pipelines" / "slow.py").write_text(SLOW_JOB.replace("time.sleep(30)", "pass").replace(", queue=None", ""))
    repaired = flowdef_local(project, "repair", "1", "--failed")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert status(project, 1)["result"] == "SUCCESS"


def test_ctrl_c_while_following_a_local_run_cancels_it_cleanly(project):
    """The local engine runs the job in the command's own process: Ctrl-C cannot leave the run "going on" (the
    workspace's answer); it cancels it, says so, and nothing ends in a traceback."""
    code, out, err = _signal_once_running(project, ["flowdef", "run"], signal.SIGINT)
    assert code == 1, out + err  # the run ended CANCELED: not a success
    assert "canceling run 1: this process runs it" in out and "goes on" not in out
    assert "Traceback" not in out + err, err
    st = status(project, 1)
    assert st["result"] == "CANCELED" and states(st) == {"first": "CANCELED", "second": "UPSTREAM_CANCELED"}


def test_two_runs_at_once_one_is_refused_when_queueing_is_off(project):
    from flowdef.local.backend import LocalBackend, RunRefused
    from flowdef.load.config import load_config
    from flowdef.load.loader import load

    (project / "pipelines" / "slow.py").write_text(
        SLOW_JOB.replace("queue=None", "queue=False").replace("time.sleep(30)", "time.sleep(3)"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    first = subprocess.Popen([sys.executable, "-m", "flowdef.local", "run", "slow", "--target", "local"], cwd=project,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while "RUNNING" not in (first.stdout.readline() if first.stdout else "RUNNING"):
            pass
        config = load_config(project)
        backend = LocalBackend(config, config.target("local"), load(config))
        with pytest.raises(RunRefused, match="skipped: max_concurrent_runs"):
            backend.run("slow")
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    results = {r["run_id"]: (r["state"], r["result"]) for r in backend.runs("slow")}
    assert results == {1: ("TERMINATED", "SUCCESS"), 2: ("SKIPPED", None)}


PARALLEL_JOB = '''
from flowdef import Job

job = Job("parallel")

def _sleep(ctx):
    import time
    time.sleep(0.5)

for key in ("a", "b", "c"):
    job.task(key=key)(_sleep)
'''


def test_independent_tasks_run_concurrently(project):
    from flowdef.local.backend import LocalBackend
    from flowdef.load.config import load_config
    from flowdef.load.loader import load

    (project / "pipelines" / "parallel.py").write_text(PARALLEL_JOB)
    config = load_config(project)
    backend = LocalBackend(config, config.target("local"), load(config))
    backend.run("parallel")  # warm the fork server
    start = time.monotonic()
    run_id, result = backend.run("parallel")
    took = time.monotonic() - start
    assert result == "SUCCESS"
    assert took < 1.4, took  # three 0.5 s sleeps one after another would take 1.5 s


CONTROL_FLOW = '''
from flowdef import INPUT, Job, Retry, RunIf

job = Job("flow", params={"n": "3"})

@job.task(values={"count": int})
def produce(ctx):
    ctx.task_values.set("count", int(ctx.params["n"]))

check = job.condition("enough", produce.values.count, ">=", 2, depends_on=[produce])

def square(ctx):
    x = int(ctx.params["x"])
    if x == 2 and ctx.params.get("fail_two") == "yes":
        raise ValueError("two is not allowed")
    print("square", x * x)

job.for_each("each", inputs=[1, 2, 3], concurrency=2, depends_on=[check.true]).task(
    square, key="square", params={"x": INPUT, "fail_two": "no"})

@job.task(depends_on=[check.false])
def too_few(ctx):
    pass

@job.task(timeout=1, retry=Retry(1, interval=0))
def slow(ctx):
    import time
    time.sleep(30)

@job.task(depends_on=[slow], run_if=RunIf.ALL_DONE)
def cleanup(ctx):
    print("cleaning up")

@job.task(retry=Retry(1, interval=0))
def flaky(ctx):
    import os
    marker = os.path.join(os.getcwd(), "flaky-ran-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
'''


def test_conditions_for_each_timeouts_and_retries_come_from_the_state_machine(example_project):
    from flowdef.testing.local import LocalProject

    (example_project / "pipelines" / "flow.py").write_text(CONTROL_FLOW)
    with LocalProject(example_project, data_dir=example_project / "data") as project:
        run = project.run_job("flow")
        assert run.states == {"produce": "SUCCESS", "enough": "SUCCESS", "each": "SUCCESS", "too_few": "EXCLUDED",
                              "slow": "TIMEDOUT", "cleanup": "SUCCESS", "flaky": "SUCCESS"}
        assert run["slow"].attempts == 1  # a timeout is retried only with retry_on_timeout (the machine's rule)
        assert run["flaky"].attempts == 2 and "first attempt fails" not in (run["flaky"].error or "")
        assert run.result == "SUCCESS_WITH_FAILURES"  # a failure whose leaf (the cleanup) succeeded
        assert "cleaning up" in run["cleanup"].logs
        for_each = project.backend.engine.records.attempts(run.run_id, "each")
        assert sorted(a["iteration"] for a in for_each) == [0, 1, 2]
        low = project.run_job("flow", params={"n": "1"}, only=["produce", "enough", "each", "too_few"])
        assert low.states == {"produce": "SUCCESS", "enough": "SUCCESS", "each": "EXCLUDED", "too_few": "SUCCESS"}


def test_no_wait_then_cancel_through_the_cli(project):
    (project / "pipelines" / "slow.py").write_text(SLOW_JOB.replace(", queue=None", ""))
    started = flowdef(project, "run", "slow", "--no-wait", "--format", "json")
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["run_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the detached driver starts the first task
        st = json.loads(flowdef(project, "status", run_id, "--format", "json").stdout)
        if states(st).get("first") == "RUNNING":
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the detached run never started: {st}")
    assert flowdef(project, "cancel", run_id).returncode == 0
    while time.monotonic() < deadline:
        st = json.loads(flowdef(project, "status", run_id, "--format", "json").stdout)
        if st["result"] is not None:
            break
        time.sleep(0.2)
    assert st["result"] == "CANCELED", st
    assert states(st) == {"first": "CANCELED", "second": "UPSTREAM_CANCELED"}


def _follow(backend, run_id):
    deadline = time.monotonic() + 120
    while (view := backend.get_run(run_id)).state not in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    return view


def test_a_retried_start_with_the_same_idempotency_token_returns_the_same_run(project):
    from flowdef.load.project import open_project
    from flowdef.local.backend import open_backend

    backend = open_backend(open_project(project, target="local"))
    first = backend.start_run("smart_claims_ingestion", {}, None, "token-1")
    assert backend.start_run("smart_claims_ingestion", {}, None, "token-1") == first
    assert _follow(backend, first).result == "SUCCESS"
    assert backend.start_run("smart_claims_ingestion", {}, None, "token-1") == first  # also once it has ended
    assert [r.run_id for r in backend.list_runs("smart_claims_ingestion", 10)] == [first]
    second = backend.start_run("smart_claims_ingestion", {}, None, "token-2")
    assert second != first
    assert _follow(backend, second).result == "SUCCESS"
