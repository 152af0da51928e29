"""Issue 9, defect by defect, against the fake workspace through the real databricks-sdk client (never mocked):
uncertain creates with a lagging list, the leased lock, SIGTERM, artifact drift, fail fast, retry progress,
messages, secrets."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import REPO, example_project, generated_project, managed_jobs

from flowdef.testing import Fault

CREATE = "/api/2.2/jobs/create"
GEN_ROOT = "/Shared/.flowdef/gen/prod"
EX_ROOT = "/Shared/.flowdef/smart_claims/prod"
LOCK = f"{GEN_ROOT}/.flowdef/deploy.lock"


def one_each(ws, n: int, project: str = "gen") -> None:
    jobs = managed_jobs(ws, project, "prod")
    assert len(jobs) == n and all(len(ids) == 1 for ids in jobs.values()), jobs
    assert len(ws.state.jobs) == n


def manifest(ws, root: str = GEN_ROOT) -> dict:
    return json.loads(ws.read_file(f"{root}/.flowdef/manifest.json"))


# ------------------------------------------------------------------------------ 1. uncertain creates, lagging list


@pytest.mark.parametrize("status", [503, 429, 500])
def test_saved_create_answered_with_an_error_leaves_exactly_one_job_although_the_list_lags(
        ws, cli, tmp_path, monkeypatch, status):
    monkeypatch.setenv("FLOWDEF_RECONCILE_WAIT", "20")
    ws.list_lag = 3  # a new job stays out of the next 3 jobs/list answers
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_status", status=status, retry_after=0))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    # the first attempt was saved (and hidden from the lookup by the lag), so a second one was sent ...
    assert ws.count("POST", CREATE) == 2
    # ... and the sweep, once the listing showed the job we kept, deleted the other one
    one_each(ws, 1)
    assert "deleted duplicate job" in cli.err and f"{status}" in cli.err
    assert "1 duplicate(s) deleted" in cli.out
    kept = managed_jobs(ws, "gen", "prod")["gen_job_000"][0]
    assert manifest(ws)["jobs"] == {"gen_job_000": kept} and manifest(ws)["suspects"] == {}
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0 and ws.writes() == []


def test_saved_create_found_by_its_tags_when_the_list_does_not_lag(ws, cli, tmp_path):
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_status", status=503, retry_after=0,
                        times=2))
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    one_each(ws, 2)
    assert ws.count("POST", CREATE) == 2  # found by its identity tags, never sent twice
    assert "looking it up by its tags first" in cli.err


def test_a_lag_longer_than_the_sweep_is_remembered_and_the_next_apply_repairs_it(ws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDEF_RECONCILE_WAIT", "0.3")
    ws.list_lag = 1000
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_status", status=503, retry_after=0))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert len(ws.state.jobs) == 2  # the duplicate exists, and the apply said it could not rule it out
    assert "a duplicate cannot be ruled out yet" in cli.err
    kept = manifest(ws)["jobs"]["gen_job_000"]
    assert manifest(ws)["suspects"] == {"gen_job_000": kept}
    with ws.state.lock:  # the listing catches up
        for meta in ws.state.job_meta.values():
            meta.list_hidden_for = 0
    ws.list_lag = 0
    assert cli(project, "plan", "--target", "prod") == 0
    assert "- duplicate gen_job_000" in cli.out and "apply deletes it" in cli.out
    assert cli(project, "apply", "--target", "prod") == 0, cli.err  # no --prune needed for our own duplicate
    one_each(ws, 1)
    assert manifest(ws)["suspects"] == {}


def test_a_create_that_keeps_failing_is_not_resent_blindly(ws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDEF_RETRY_TIMEOUT", "1")
    ws.faults.add(Fault(method="POST", path=CREATE, status=503, retry_after=0, times=None))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 1
    lookups = [r for r in ws.requests if r.path == "/api/2.2/jobs/list" and r.query.get("name")]
    assert len(lookups) == ws.count("POST", CREATE) - 1 or len(lookups) == ws.count("POST", CREATE)
    assert "gave up after 1s of retries" in cli.out and "the next apply finds it by its tags" in cli.out


# ------------------------------------------------------------------------------ 2./3. the lock


def _lock_file(ws, **info) -> None:
    body = {"id": "other", "owner": "ci", "host": "elsewhere", "pid": 1, "created": time.time(),
            "command": "apply", **info}
    ws.write_file(LOCK, json.dumps(body).encode())


def test_break_lock_refuses_a_live_lock(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    _lock_file(ws, lease_until=time.time() + 100)
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 1
    assert "refusing to break the deploy lock" in cli.err and "--force-break-lock" in cli.err
    assert ws.state.jobs == {} and LOCK in ws.state.files


def test_break_lock_removes_a_lock_whose_lease_ran_out(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    _lock_file(ws, lease_until=time.time() - 5)
    assert cli(project, "apply", "--target", "prod") == 1
    assert "it is stale (its lease ran out" in cli.err and "--break-lock" in cli.err
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 0, cli.err
    assert "removed the deploy lock held by ci@elsewhere" in cli.err
    one_each(ws, 2)


def test_force_break_lock_is_loud(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    _lock_file(ws, lease_until=time.time() + 100)
    assert cli(project, "apply", "--target", "prod", "--force-break-lock") == 0, cli.err
    assert "WARNING: force-breaking a LIVE deploy lock" in cli.err
    one_each(ws, 1)


def test_a_lock_whose_process_is_gone_on_this_host_is_stale_at_once(ws, cli, tmp_path):
    from flowdef.deploy.lock import machine_identity, process_start

    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(dead.pid)
    dead.kill()
    dead.wait()
    project = generated_project(tmp_path, 1)
    boot_id, pid_ns = machine_identity()
    _lock_file(ws, host=socket.gethostname(), pid=dead.pid, lease_until=time.time() + 100, boot_id=boot_id,
               pid_ns=pid_ns, started=started)
    assert cli(project, "apply", "--target", "prod") == 1
    assert f"its process (pid {dead.pid} on {socket.gethostname()}) is gone" in cli.err
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 0, cli.err


def test_the_lease_is_renewed_while_held_and_a_stolen_lock_is_noticed(ws):
    from flowdef.deploy.client import Workspace
    from flowdef.deploy.lock import DeployLock, LockInfo, LockLost

    store = Workspace()
    lock = DeployLock(store, GEN_ROOT, lease=0.6, folder_known=False)
    lock.acquire()
    first = LockInfo.parse(ws.read_file(LOCK)).lease_until
    time.sleep(0.9)  # past the first lease: renewed every 0.2 s
    info = LockInfo.parse(ws.read_file(LOCK))
    assert info.id == lock.info.id and info.lease_until > first and not info.stale()
    _lock_file(ws, lease_until=time.time() + 100)  # someone force-breaks and takes it
    time.sleep(0.5)
    with pytest.raises(LockLost, match="no longer ours"):
        lock.check()
    lock.release()
    assert json.loads(ws.read_file(LOCK))["id"] == "other"  # their lock is left alone


def test_sigterm_releases_the_lock(ws, tmp_path):
    ws.faults.add(Fault(method="POST", path=CREATE, action="delay", latency=0.5, times=None))
    project = generated_project(tmp_path, 8)
    env = {**os.environ, **ws.env(), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "flowdef", "-C", str(project), "apply", "--target", "prod",
                             "--concurrency", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ws.count("POST", CREATE) == 0:
        time.sleep(0.05)
    assert LOCK in ws.state.files
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert LOCK not in ws.state.files, err
    assert len(ws.state.jobs) < 8  # it stopped instead of finishing the queue
    # and the next deploy goes ahead at once
    proc = subprocess.run([sys.executable, "-m", "flowdef", "-C", str(project), "apply", "--target", "prod"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    one_each(ws, 8)


# ------------------------------------------------------------------------------ 4. artifacts changed in the workspace


def test_artifacts_deleted_or_edited_in_the_workspace_are_found_shown_and_repaired(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    gone = f"{EX_ROOT}/files/pipelines/scripts/ingestion_claim.py"
    edited = f"{EX_ROOT}/lib/flowdef_entry.py"
    original = ws.read_file(edited)
    with ws.state.lock:
        del ws.state.files[gone]
    time.sleep(0.01)  # modified_at has millisecond resolution
    ws.write_file(edited, b"print('hacked')\n")
    ws.reset_log()
    assert cli(project, "plan", "--target", "prod", "--detailed-exitcode") == 2
    assert f"/Workspace{gone}  (deleted in the workspace)" in cli.out
    assert f"/Workspace{edited}  (edited in the workspace)" in cli.out
    assert "2 artifact(s): 1 deleted in the workspace, 1 edited in the workspace" in cli.out
    folders = {r.query["path"] for r in ws.requests if r.path == "/api/2.0/workspace/list"}
    assert ws.count("GET", "/api/2.0/workspace/list") == len(folders)  # one listing per folder, no more
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert "Apply complete: 0 created, 0 updated, 2 unchanged, 0 deleted, 2 artifact(s) uploaded" in cli.out
    assert ws.read_file(edited) == original
    ws.read_file(gone)
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0 and ws.writes() == []


def test_force_upload_sends_every_artifact_again(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    n = len(manifest(ws, EX_ROOT)["files"])
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod", "--force-upload") == 0, cli.err
    assert ws.count("POST", "/api/2.0/workspace/import") == n + 2  # + the lock and the manifest
    assert f"{n} artifact(s) uploaded" in cli.out


# ------------------------------------------------------------------------------ 5. fail fast, retry budget, progress


@pytest.mark.parametrize("host, expected", [
    ("http://127.0.0.1:9", "cannot reach http://127.0.0.1:9"),
    ("https://no-such-workspace.invalid", "does not resolve"),
])
def test_an_unreachable_or_mistyped_host_fails_in_seconds_with_one_line(ws, cli, tmp_path, monkeypatch, host,
                                                                       expected):
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("FLOWDEF_RETRY_TIMEOUT", "300")
    project = generated_project(tmp_path, 1)
    start = time.monotonic()
    assert cli(project, "plan", "--target", "prod") == 1
    assert time.monotonic() - start < 10
    assert cli.err.count("\n") == 1 and cli.err.startswith("error: ") and expected in cli.err


def test_retries_show_progress_naming_the_job(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    (project / "pipelines" / "jobs.py").write_text(
        (project / "pipelines" / "jobs.py").read_text().replace("SUFFIX = ''", "SUFFIX = '_v2'"))
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/reset", status=503, retry_after=1, times=2))
    assert cli(project, "apply", "--target", "prod", "--retry-timeout", "30") == 0, cli.err
    assert "gen_job_000: 503 TEMPORARILY_UNAVAILABLE, retry 1 in 1s" in cli.err
    assert "gen_job_000: 503 TEMPORARILY_UNAVAILABLE, retry 2 in 1s" in cli.err


def test_retry_timeout_flag_bounds_a_persistent_500(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    ws.faults.add(Fault(method="GET", path="/api/2.2/jobs/list", status=500, times=None))
    start = time.monotonic()
    assert cli(project, "plan", "--target", "prod", "--retry-timeout", "2") == 1
    assert 2 <= time.monotonic() - start < 8
    assert "gave up after 2s of retries (--retry-timeout): INTERNAL_ERROR" in cli.err


# ------------------------------------------------------------------------------ 6. messages


def test_duplicates_are_called_duplicates_not_jobs_no_longer_in_the_code(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    job_id = managed_jobs(ws, "gen", "prod")["gen_job_000"][0]
    copy = ws.add_job(ws.get_job(job_id))  # e.g. cloned in the UI, tags included
    assert cli(project, "plan", "--target", "prod") == 0
    assert f"- duplicate gen_job_000 (job {copy})" in cli.out
    assert f"duplicate of job {job_id} (same identity tags)" in cli.out
    assert "no longer defined in the code" not in cli.out
    assert cli(project, "apply", "--target", "prod") == 0
    assert "1 duplicate job(s)" in cli.err and "no longer in the code" not in cli.err
    assert cli(project, "apply", "--target", "prod", "--prune", "--yes") == 0
    one_each(ws, 1)


def test_bind_shows_only_the_job_it_binds(ws, cli, tmp_path):
    project = generated_project(tmp_path, 3)
    stranger = ws.add_job({"name": "gen_job_001", "tasks": [
        {"task_key": "t", "notebook_task": {"notebook_path": "/x"}}]})
    assert cli(project, "apply", "--target", "prod") == 1  # refused: same name, not ours
    assert cli(project, "bind", "gen_job_001", str(stranger), "--target", "prod", "--yes") == 0, cli.err
    assert "- delete" not in cli.out and "gen_job_000" not in cli.out and "gen_job_002" not in cli.out
    one_each(ws, 3)


def test_destroy_names_error_codes_and_leaves_no_empty_folder(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    ws.write_file("/Shared/.flowdef/smart_claims/keep.txt", b"someone else's")
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/delete", status=403, times=1,
                        body={"error_code": "PERMISSION_DENIED", "message": "You cannot delete this job."}))
    assert cli(project, "destroy", "--target", "prod", "--yes") == 1
    assert re.search(r"\(job \d+\): PERMISSION_DENIED: You cannot delete this job", cli.out), cli.out
    assert cli(project, "destroy", "--target", "prod", "--yes") == 0, cli.err
    with ws.state.lock:
        left = sorted(p for p in ws.state.files if p.startswith("/Shared/.flowdef/smart_claims"))
    assert left == ["/Shared/.flowdef/smart_claims", "/Shared/.flowdef/smart_claims/keep.txt"]


def test_an_apply_that_only_uploads_says_so(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    with ws.state.lock:
        del ws.state.files[f"{EX_ROOT}/lib/flowdef_entry.py"]
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert "Apply complete: 0 created, 0 updated, 2 unchanged, 0 deleted, 1 artifact(s) uploaded" in cli.out


def test_a_same_named_job_of_another_project_is_mentioned(ws, cli, tmp_path):
    other = ws.add_job({"name": "gen_job_000", "tags": {"flowdef_project": "billing", "flowdef_target": "prod",
                                                        "flowdef_job": "gen_job_000"}})
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert f"note: gen_job_000: job {other} has the same name 'gen_job_000' but belongs to flowdef project " \
           f"'billing', target 'prod'" in cli.out
    assert len(ws.state.jobs) == 2


def test_a_hand_edited_identity_tag_is_explained_not_duplicated(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0
    job_id = managed_jobs(ws, "gen", "prod")["gen_job_001"][0]
    with ws.state.lock:
        ws.state.jobs[job_id]["tags"]["flowdef_job"] = "renamed_by_hand"
    assert cli(project, "apply", "--target", "prod") == 1
    assert f"job {job_id} has this name and this project's and target's tags, but flowdef_job=" \
           f"'renamed_by_hand' instead of 'gen_job_001'" in cli.out
    assert len(ws.state.jobs) == 2
    assert cli(project, "bind", "gen_job_001", str(job_id), "--target", "prod", "--yes") == 0, cli.err
    one_each(ws, 2)


# ------------------------------------------------------------------------------ 7. secrets


def test_plan_masks_secret_looking_values_from_the_workspace(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    job_id = managed_jobs(ws, "gen", "prod")["gen_job_000"][0]
    token = "dapi" + "0123456789abcdef" * 2
    with ws.state.lock:
        settings = ws.state.jobs[job_id]
        settings["description"] = f"ask ops, the token is {token}"
        settings["tasks"][0]["notebook_task"]["base_parameters"]["password"] = "hunter2hunter2"
    for fmt in ("text", "json"):
        assert cli(project, "plan", "--target", "prod", "--format", fmt) == 0
        assert token not in cli.out and "hunter2hunter2" not in cli.out
        assert "***" in cli.out
    assert cli(project, "apply", "--target", "prod") == 0
    assert token not in cli.out + cli.err and "hunter2hunter2" not in cli.out + cli.err


# ------------------------------------------------------------------------------ reading: listing vs jobs/get


def test_a_diff_from_the_listing_equals_the_diff_from_jobs_get(ws, cli, tmp_path):
    from flowdef.deploy.client import Workspace
    from flowdef.deploy.engine import Deployer, State
    from flowdef.deploy.plan import RemoteJob
    from flowdef.deploy.session import prepare
    from flowdef.load.project import open_project

    project = generated_project(tmp_path, 3, n_tasks=4)
    assert cli(project, "apply", "--target", "prod") == 0
    with ws.state.lock:  # drift made by hand in two jobs
        for job_id, settings in ws.state.jobs.items():
            if settings["tags"]["flowdef_job"] != "gen_job_001":
                settings["tasks"][1]["notebook_task"]["base_parameters"]["i"] = "changed"
                settings["max_concurrent_runs"] = 4
    os.chdir(project)
    opened = open_project(project, target="prod")
    desired = prepare(opened, "plan")
    dep = Deployer(Workspace(), project="gen", target="prod", root="/Workspace" + GEN_ROOT, desired=desired)
    state = dep.read_state()
    assert ws.count("GET", "/api/2.2/jobs/get") == 0
    listed = dep.plan(state)
    got = {k: [RemoteJob(r.job_id, dep.ws.get_job(r.job_id)["settings"]) for r in rs]
           for k, rs in state.managed.items()}
    fetched = dep.plan(State(state.manifest, got, state.unmanaged_names, state.foreign, state.listings))
    assert [j.to_dict() for j in listed.jobs] == [j.to_dict() for j in fetched.jobs]
    assert sum(1 for j in listed.jobs if j.changes) == 2


def test_a_job_cut_by_the_listing_is_fetched_whole(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2, n_tasks=130)
    assert cli(project, "apply", "--target", "prod") == 0
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert ws.writes() == [] and "No changes" in cli.out
    assert ws.count("GET", "/api/2.2/jobs/get") == 2 * 2  # has_more: both jobs fetched (2 pages each)


# ------------------------------------------------------------------------------ the SDK import


def test_deploy_loads_no_sdk_service_module(ws, tmp_path):
    code = ("import sys; from flowdef.deploy.client import Workspace; w = Workspace(); "
            "w.call('GET', '/api/2.2/jobs/list'); "
            "print(sorted(m for m in sys.modules if m.startswith('databricks.sdk.service.')))")
    env = {**os.environ, **ws.env(), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)  # noqa: S307 - our own printed list
    assert "databricks.sdk.service.jobs" not in loaded and len(loaded) <= 3, loaded
    # and the whole package is still there for whoever asks for it in the same process
    code2 = code.replace("print(", "from databricks.sdk import WorkspaceClient; print(WorkspaceClient, ")
    assert "WorkspaceClient" in subprocess.run([sys.executable, "-c", code2], env=env, capture_output=True,
                                               text=True, check=True).stdout


def test_validate_finds_tokens_in_descriptions(cli, tmp_path):
    project = generated_project(tmp_path, 1)
    jobs_py = project / "pipelines" / "jobs.py"
    token = "dapi" + "0123456789abcdef" * 2
    jobs_py.write_text(jobs_py.read_text() + (
        f"\njob_000.description = 'ping ops, token {token}'\n"
        "from flowdef import Job\n"
        "extra = Job('extra')\n"
        "extra.notebook('a', '/Workspace/nb', description='jdbc ... password=hunter22 ...')\n"))
    assert cli(project, "validate") == 1
    assert "FD210" in cli.out and "description contains what looks like a literal Databricks personal access " \
                                  "token" in cli.out
    assert "tasks.a.description contains what looks like a literal password" in cli.out


def test_saved_create_with_a_time_lagged_list(ws, cli, tmp_path, monkeypatch):
    """The lag real workspaces show is time, not a count of calls: a new job is missing from jobs/list for 1.5 s."""
    monkeypatch.setenv("FLOWDEF_RECONCILE_WAIT", "20")
    ws.list_lag_seconds = 1.5
    ws.faults.add(Fault(method="POST", path=CREATE, action="commit_then_status", status=503, retry_after=0,
                        times=2))
    project = generated_project(tmp_path, 3)
    start = time.monotonic()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert time.monotonic() - start < 15
    one_each(ws, 3)
    assert ws.count("POST", CREATE) == 5 and cli.err.count("deleted duplicate job") == 2
    ws.list_lag_seconds = 0
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0 and ws.writes() == []


# ------------------------------------------------------------------------------ the plan under the lock


def _deployer(project: Path):
    from flowdef.deploy.client import Workspace
    from flowdef.deploy.engine import Deployer
    from flowdef.deploy.session import prepare
    from flowdef.load.project import open_project

    cwd = os.getcwd()
    os.chdir(project)  # pipelines load relative to the project, as the CLI's -C does
    try:
        opened = open_project(project, target="prod")
        desired = prepare(opened, "apply")
    finally:
        os.chdir(cwd)
    return Deployer(Workspace(), project="gen", target="prod", root="/Workspace" + GEN_ROOT, desired=desired)


def test_an_apply_that_ran_between_plan_and_lock_is_seen_by_the_manifest_generation(ws, cli, tmp_path):
    project = generated_project(tmp_path, 3)
    late = _deployer(project)
    state, plan = late.read_state(), None
    plan = late.plan(state)
    assert len(plan.by_action("create")) == 3  # planned before the other apply ...
    assert cli(project, "apply", "--target", "prod") == 0  # ... which then ran to the end
    with late.lock("apply", folder_known=state.manifest.found) as lock:
        assert not lock.contended
        ws.reset_log()
        state, plan = late.confirm_plan(state, plan, lock)
        assert ws.count("GET", "/api/2.2/jobs/list") == 1  # the generation moved: everything re-read
        assert plan.by_action("create") == [] and len(plan.by_action("unchanged")) == 3
        late.apply(plan, state, lock=lock)
    one_each(ws, 3)


def test_with_no_apply_in_between_the_plan_is_confirmed_by_one_manifest_read(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0
    (project / "pipelines" / "jobs.py").write_text(
        (project / "pipelines" / "jobs.py").read_text().replace("SUFFIX = ''", "SUFFIX = '_v2'"))
    dep = _deployer(project)
    state = dep.read_state()
    plan = dep.plan(state)
    with dep.lock("apply") as lock:
        ws.reset_log()
        same_state, same_plan = dep.confirm_plan(state, plan, lock)
        assert [(r.method, r.path) for r in ws.requests] == [("GET", "/api/2.0/workspace/export")]
        assert same_plan is plan
