"""apply under injected faults: every run ends with exactly one job per definition and a clear report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import REPO, generated_project, managed_jobs, rewrite

from flowdef.testing import Fault

CREATE = "/api/2.2/jobs/create"


def one_each(ws, n: int, project: str = "gen", target: str = "prod") -> None:
    jobs = managed_jobs(ws, project, target)
    assert len(jobs) == n, jobs
    assert all(len(ids) == 1 for ids in jobs.values()), jobs
    assert len(ws.state.jobs) == n  # and nothing else was left behind


def test_503_once_on_create_is_resent(ws, cli, tmp_path):
    ws.faults.add(Fault(method="POST", path=CREATE, status=503, retry_after=0, times=1))
    project = generated_project(tmp_path, 3)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 3)
    assert ws.count("POST", CREATE) == 4


def test_429_with_retry_after_is_honoured(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    ws.faults.add(Fault(method="GET", path="/api/2.2/jobs/list", status=429, retry_after=1, times=1))
    start = time.monotonic()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert time.monotonic() - start >= 1.0
    one_each(ws, 2)
    statuses = [r.status for r in ws.requests if r.path == "/api/2.2/jobs/list"]
    assert statuses[0] == 429 and 200 in statuses


def test_429_on_create_is_resent_after_retry_after(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    ws.faults.add(Fault(method="POST", path=CREATE, status=429, retry_after=1, times=1))
    start = time.monotonic()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert time.monotonic() - start >= 1.0
    one_each(ws, 1)


def test_dropped_connection_on_create_without_commit(ws, cli, tmp_path):
    ws.faults.add(Fault(method="POST", path=CREATE, action="drop", times=1))
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 2)


def test_create_committed_but_response_lost_makes_no_duplicate(ws, cli, tmp_path):
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_drop", times=2))
    project = generated_project(tmp_path, 3)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 3)
    assert ws.count("POST", CREATE) == 3  # the lost ones were found, not re-sent
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []


def test_lost_create_with_eventually_consistent_list(ws, cli, tmp_path):
    ws.list_lag = 2
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_drop", times=1))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 1)


def test_dropped_connections_on_reads_and_uploads(ws, cli, tmp_path):
    ws.faults.add(Fault(method="GET", path="/api/2.2/jobs/list", action="drop", times=1))
    ws.faults.add(Fault(method="POST", path="/api/2.0/workspace/import", action="drop", times=1))
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 2)


def test_5xx_on_reset_is_retried(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0
    rewrite(project, suffix="_v2")
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/reset", status=502, times=1))
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/reset", action="commit_then_drop", times=1))
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 2)
    assert all(s["name"].endswith("_v2") for s in ws.state.jobs.values())


def test_failure_of_one_job_leaves_the_others_applied_and_a_rerun_converges(ws, cli, tmp_path):
    project = generated_project(tmp_path, 4)
    ws.faults.add(Fault(method="POST", path=CREATE, status=400, times=1,
                        body={"error_code": "INVALID_PARAMETER_VALUE", "message": "Simulated rejection"}))
    assert cli(project, "apply", "--target", "prod", "--concurrency", "2") == 1
    assert "1 FAILED" in cli.out and "INVALID_PARAMETER_VALUE: Simulated rejection" in cli.out
    failed = re.search(r"^  (gen_job_\d+): INVALID_PARAMETER_VALUE", cli.out, re.MULTILINE).group(1)
    jobs = managed_jobs(ws, "gen", "prod")
    assert len(jobs) == 3 and failed not in jobs
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 4)


def test_persistent_5xx_fails_clearly(ws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDEF_RETRY_TIMEOUT", "1")
    project = generated_project(tmp_path, 2)
    ws.faults.add(Fault(method="GET", path="/api/2.2/jobs/list", status=500, times=None))
    assert cli(project, "apply", "--target", "prod") == 1
    *retries, last = cli.err.splitlines()
    # progress while retrying, one line each, then one error line naming the budget and the error code
    assert retries and all(re.fullmatch(r"jobs/list: 500 INTERNAL_ERROR, retry \d+ in \d+s", r) for r in retries)
    assert last.startswith("error: gave up after 1s of retries (--retry-timeout): INTERNAL_ERROR")
    assert ws.writes() == []


def test_two_concurrent_applies_do_not_duplicate(ws, tmp_path):
    """Two processes apply the same target at once: one waits for the lock (and then finds nothing to do), the
    other does not wait (and either finds nothing to do or is told who holds the lock).  Nothing is duplicated."""
    # slow creates: the first apply holds the lock long enough for the other to run into it
    ws.faults.add(Fault(method="POST", path=CREATE, action="delay", latency=0.5, times=None))
    project = generated_project(tmp_path, 6)
    env = {**os.environ, **ws.env(), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "flowdef", "-C", str(project), "apply", "--target", "prod"]
    procs = [subprocess.Popen(cmd + ["--lock-timeout", "60"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    one_each(ws, 6)
    assert ws.count("POST", CREATE) == 6
    assert ws.count("POST", "/api/2.2/jobs/reset") == 0


def test_apply_waits_for_a_held_lock_then_proceeds(ws, cli, tmp_path):
    import json
    import threading

    project = generated_project(tmp_path, 2)
    lock = "/Shared/.flowdef/gen/prod/.flowdef/deploy.lock"
    ws.write_file(lock, json.dumps({"id": "other", "owner": "ci", "host": "h", "pid": 1,
                                    "created": time.time()}).encode())

    def release():  # once apply has run into the lock
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                r.path == "/api/2.0/workspace/import" and r.status == 400 for r in ws.requests):
            time.sleep(0.02)
        time.sleep(0.3)
        with ws.state.lock:
            del ws.state.files[lock]

    threading.Thread(target=release, daemon=True).start()
    assert cli(project, "apply", "--target", "prod", "--lock-timeout", "10") == 0, cli.err
    assert "waiting up to 10s for the deploy lock held by ci@h" in cli.err
    one_each(ws, 2)
