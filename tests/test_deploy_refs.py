"""Deploy-time placeholders against the fake: a run-job task gets the id of the job it runs, created first."""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures


from flowdef.deploy.client import Workspace
from flowdef.deploy.engine import Deployer, Desired

TAGS = {"flowdef_project": "refs", "flowdef_target": "prod"}


def payload(key: str, **extra) -> dict:
    body = {"name": key, "tags": dict(TAGS, flowdef_job=key),
            "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"}}]}
    body.update(extra)
    return body


def deployer(ws, desired) -> Deployer:
    client = Workspace(host=ws.host)
    return Deployer(client, project="refs", target="prod", root="/Workspace/Shared/refs", desired=desired,
                    stream=io.StringIO())


def test_referenced_jobs_are_created_first_and_ids_substituted(ws):
    caller = payload("a_caller", tasks=[{"task_key": "run", "run_job_task": {"job_id": "${flowdef.jobs.z_callee.id}"}}],
                     trigger={"pause_status": "PAUSED", "job_completion": {
                         "jobs": [{"job_id": "${flowdef.jobs.z_callee.id}", "workspace_id": "${flowdef.workspace.id}"}]}})
    desired = [Desired("a_caller", caller), Desired("z_callee", payload("z_callee"))]
    dep = deployer(ws, desired)
    state = dep.read_state()
    plan = dep.plan(state)
    outcomes = {o.key: o for o in dep.apply(plan, state)}
    assert {o.action for o in outcomes.values()} == {"created"}
    callee = outcomes["z_callee"].job_id
    stored = ws.get_job(outcomes["a_caller"].job_id)
    assert stored["tasks"][0]["run_job_task"]["job_id"] == callee
    assert stored["trigger"]["job_completion"]["jobs"][0] == {"job_id": str(callee), "workspace_id": ws.workspace_id}
    # the creates ran in dependency order even though "a_caller" sorts first
    creates = [r.body["name"] for r in ws.requests if r.path == "/api/2.2/jobs/create"]
    assert creates == ["z_callee", "a_caller"]
    # compared resolved: nothing to do the second time
    dep2 = deployer(ws, desired)
    plan2 = dep2.plan(dep2.read_state())
    assert {j.action for j in plan2.jobs} == {"unchanged"}


def test_a_missing_pipeline_fails_that_job_only(ws):
    broken = payload("p", tasks=[{"task_key": "pipe", "pipeline_task": {"pipeline_id": "${flowdef.pipelines.nope.id}"}}])
    desired = [Desired("p", broken), Desired("q", payload("q"))]
    dep = deployer(ws, desired)
    state = dep.read_state()
    dep.ws.pipeline_ids = lambda name: []  # the fake has no Pipelines API (see the report)
    outcomes = {o.key: o for o in dep.apply(dep.plan(state), state)}
    assert outcomes["q"].action == "created"
    assert outcomes["p"].action == "failed" and "no pipeline named 'nope'" in outcomes["p"].error


DSL_PROJECT = '''\
from flowdef import Job, Permission

callee = Job("z_callee_job", permissions=[Permission.user("someone@example.com", "IS_OWNER"),
                                          Permission.group("data-eng", "CAN_MANAGE_RUN")])
callee.notebook("nb", "/Workspace/Shared/nb")

caller = Job("a_caller_job")
caller.run_job("run_callee", callee, params={"x": "1"})
'''


def test_run_job_and_permissions_through_the_cli(ws, tmp_path, capsys, monkeypatch):
    """The DSL's run_job task and declared permissions, end to end (skipped on a compiler without them)."""
    from support import PYPROJECT, managed_jobs

    import flowdef
    from flowdef.cli import main
    from flowdef.dsl.job import Job

    if not hasattr(Job, "run_job") or not hasattr(flowdef, "Permission"):
        import pytest

        pytest.skip("this compiler has no run_job tasks / permissions yet")
    project = tmp_path / "dslproj"
    (project / "pipelines").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.format(project="dslproj"))
    (project / "pipelines" / "__init__.py").write_text("")
    (project / "pipelines" / "dsljobs.py").write_text(DSL_PROJECT)
    monkeypatch.chdir(tmp_path)
    assert main(["-C", str(project), "apply", "--target", "prod"]) == 0, capsys.readouterr()
    jobs = managed_jobs(ws, "dslproj", "prod")
    callee, caller = jobs["z_callee_job"][0], jobs["a_caller_job"][0]
    assert ws.get_job(caller)["tasks"][0]["run_job_task"]["job_id"] == callee
    assert {"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"} in ws.permissions(callee)
    ws.reset_log()
    assert main(["-C", str(project), "apply", "--target", "prod"]) == 0
    assert ws.writes() == []


def test_not_found_in_both_styles_the_service_answers(monkeypatch, tmp_path):
    """``jobs/get`` / ``jobs/delete`` of a missing job: 404 RESOURCE_DOES_NOT_EXIST, or the legacy 400
    INVALID_PARAMETER_VALUE "Job 1 does not exist." - both mean "gone" to deploy."""
    from flowdef.testing import FakeWorkspace

    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none"))
    for style in ("modern", "legacy"):
        with FakeWorkspace(not_found_style=style) as fake:
            monkeypatch.setenv("DATABRICKS_TOKEN", fake.token)
            client = Workspace(host=fake.host)
            assert client.get_job(424242) is None
            assert client.delete_job(424242) is False
            assert client.read("/Shared/nothing/here.json") is None
