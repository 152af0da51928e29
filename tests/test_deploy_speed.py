"""Fewer round trips and less CPU per request keep their meaning: the worker pool bounds and cancels like a per-step
executor, the environment read once per host gives requests exactly what it would compute per request, and a new
job's permissions ride on its create (against the fake workspace through the real databricks-sdk client)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import generated_project, managed_jobs

from flowdef.deploy.client import settle_environment
from flowdef.deploy.pool import Pool
from flowdef.testing import Fault


def test_pool_bounds_concurrency_and_keeps_order():
    pool = Pool(8)
    pool.warm()
    running, peak, guard = [0], [0], threading.Lock()

    def work(i: int) -> int:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with guard:
            running[0] -= 1
        return i * 2

    try:
        assert pool.map(work, list(range(20)), workers=3) == [i * 2 for i in range(20)]
        assert 1 < peak[0] <= 3
    finally:
        pool.close()


def test_pool_runs_nested_maps_inline_and_cancels_the_rest_on_error():
    pool = Pool(2)
    started: list[int] = []

    def inner(i: int) -> int:
        return sum(pool.map(lambda j: j, [i, i], workers=2))  # from a worker: inline, no deadlock

    assert pool.map(inner, [1, 2, 3], workers=2) == [2, 4, 6]

    def boom(i: int) -> int:
        started.append(i)
        if i == 0:
            raise KeyboardInterrupt
        time.sleep(0.05)
        return i

    with pytest.raises(KeyboardInterrupt):
        pool.map(boom, list(range(30)), workers=2)
    assert len(started) < 30  # what had not started was cancelled
    pool.close()


@pytest.mark.parametrize("no_proxy", ["", "ws.example.com", "other.example.com"])
def test_environment_read_once_equals_what_requests_reads_per_request(monkeypatch, no_proxy, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    url = "https://ws.example.com/api/2.2/jobs/list"
    per_request = requests.Session().merge_environment_settings(url, {}, None, None, None)
    session = requests.Session()
    settle_environment(session, "https://ws.example.com")
    assert session.trust_env is False
    settled = session.merge_environment_settings(url, {}, None, None, None)
    assert settled["verify"] == per_request["verify"] == str(bundle)
    assert {k: v for k, v in session.proxies.items() if k != "no"} == \
        {k: v for k, v in per_request["proxies"].items() if k != "no"}
    assert ("https" in session.proxies) == (no_proxy != "ws.example.com")


# ------------------------------------------------------------------------------ permissions ride on the create

EX_ROOT = "/Shared/.flowdef/smart_claims/prod"
ACL = [{"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"}]


def test_a_new_job_gets_its_permissions_in_the_create_request(ws, cli, tmp_path, monkeypatch):
    from flowdef.compile import compiler

    monkeypatch.setattr(compiler, "permissions", lambda job: ACL, raising=False)
    project = generated_project(tmp_path, 3)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert ws.count("PUT") == 0  # no separate permissions round trip after each create
    creates = [r for r in ws.requests if r.path == "/api/2.2/jobs/create"]
    assert len(creates) == 3 and all(r.body["access_control_list"] == ACL for r in creates)
    for (job_id,) in managed_jobs(ws, "gen", "prod").values():
        perms = ws.permissions(job_id)
        assert ACL[0] in perms and any(p["permission_level"] == "IS_OWNER" for p in perms)
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0 and ws.writes() == []  # recorded: nothing to redo


def test_an_adopted_create_still_gets_its_permissions(ws, cli, tmp_path, monkeypatch):
    from flowdef.compile import compiler

    monkeypatch.setattr(compiler, "permissions", lambda job: ACL, raising=False)
    # saved, answered 503: the retry finds the job by its tags, resets it (which carries no ACL) and PUTs the ACL
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", action="commit_then_status", status=503,
                        retry_after=0))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    (job_id,) = managed_jobs(ws, "gen", "prod")["gen_job_000"]
    assert ws.count("PUT") == 1 and ACL[0] in ws.permissions(job_id)


def test_a_first_apply_with_artifacts_makes_its_folders_with_the_locks_and_lists_them_with_the_creates(
        ws, cli, tmp_path):
    from support import example_project

    ws.faults.latency(0.05)
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    reqs = sorted(ws.requests, key=lambda r: r.started)
    lock_at = next(i for i, r in enumerate(reqs) if r.path == "/api/2.0/workspace/import"
                   and r.body.get("path", "").endswith("/.flowdef/deploy.lock"))
    mkdirs = [i for i, r in enumerate(reqs) if r.path == "/api/2.0/workspace/mkdirs"]
    assert len(mkdirs) > 1 and max(mkdirs) < lock_at  # every folder made in one round trip, before the lock
    creates = [r for r in reqs if r.path == "/api/2.2/jobs/create"]
    last_upload = max(r.ended for r in reqs if r.path == "/api/2.0/workspace/import"
                      and not r.body.get("path", "").startswith(f"/Workspace{EX_ROOT}/.flowdef/"))
    stats = [r for r in reqs if r.path == "/api/2.0/workspace/list" and r.started >= last_upload]
    assert stats and creates
    # the listing that records the uploads' size and time went out together with the creates, not before them
    assert min(c.started for c in creates) < min(s.ended for s in stats)
    ws.faults.latency(0)
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0 and ws.writes() == []  # the stats were recorded
