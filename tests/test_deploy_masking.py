"""Secrets the *service* echoes back are masked too: an error answer whose message quotes what was sent (a token, a
value under a secret name) never reaches apply / plan / destroy / bind / run output or a retry line verbatim.
Against the fake workspace through the real databricks-sdk client; the faults answer with such an echo."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import generated_project, managed_jobs

from flowdef.testing import Fault

TOKEN = "dapi" + "0123456789abcdef" * 2
SECRET = "hunter2-very-secret"
ECHO = {"error_code": "INVALID_PARAMETER_VALUE",
        "message": f"Invalid value {TOKEN} in field 'tasks[0].notebook_task.base_parameters': "
                   f"{{\"name\": \"api_key\", \"default\": \"{SECRET}\"}}, db_password='{SECRET}'"}


def clean(cli) -> None:
    both = cli.out + cli.err
    assert TOKEN not in both and SECRET not in both, both
    assert "***" in both


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_apply_masks_a_create_error_that_echoes_a_token(ws, cli, tmp_path, fmt):
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", status=400, body=ECHO))
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod", "--format", fmt) == 1
    clean(cli)
    assert "INVALID_PARAMETER_VALUE" in cli.out + cli.err  # the error itself is still there, with its code


def test_retry_lines_and_the_final_error_are_masked(ws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDEF_RETRY_TIMEOUT", "1")
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    from support import rewrite

    rewrite(project, suffix="_v2")
    echo503 = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": f"upstream said: token={TOKEN}"}
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/reset", status=503, body=echo503, retry_after=0,
                        times=None))
    assert cli(project, "apply", "--target", "prod") == 1
    assert "retry 1 in" in cli.err and "gave up after 1s of retries" in cli.out + cli.err
    clean(cli)


def test_plan_masks_a_read_error(ws, cli, tmp_path):
    ws.faults.add(Fault(method="GET", path="/api/2.2/jobs/list", status=400, body=ECHO))
    project = generated_project(tmp_path, 1)
    assert cli(project, "plan", "--target", "prod") == 1
    clean(cli)


def test_destroy_masks_a_delete_error(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/delete", status=400, body=ECHO))
    assert cli(project, "destroy", "--target", "prod", "--yes") == 1
    clean(cli)


def test_bind_masks_a_reset_error(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    job_id = ws.add_job({"name": "gen_job_000", "tasks": [{"task_key": "a", "notebook_task": {
        "notebook_path": "/Workspace/Shared/nb"}}]})
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/reset", status=400, body=ECHO))
    assert cli(project, "bind", "gen_job_000", str(job_id), "--target", "prod", "--yes") == 1
    clean(cli)


def test_run_masks_a_run_now_error(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 0
    assert managed_jobs(ws, "gen", "prod")
    ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/run-now", status=400, body=ECHO))
    assert cli(project, "run", "gen_job_000", "--target", "prod", "--no-wait") == 1
    clean(cli)


def test_mask_message_keeps_ordinary_words_and_masks_named_values():
    from flowdef.deploy.mask import mask_message

    assert mask_message("job_07: 503 TEMPORARILY_UNAVAILABLE, retry 3 in 4s") == \
        "job_07: 503 TEMPORARILY_UNAVAILABLE, retry 3 in 4s"
    assert mask_message("max_tokens: 5, token: {{secrets/s/k}}") == "max_tokens: 5, token: {{secrets/s/k}}"
    assert mask_message(f'"password": "{SECRET}" and client_secret={SECRET}') == \
        '"password": "***" and ***'  # a connection-string assignment is masked whole
    assert mask_message(f"bad {TOKEN}.") == "bad ***."


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_run_masks_the_services_words_about_a_failed_task(ws, cli, tmp_path, fmt):
    project = generated_project(tmp_path, 1, n_tasks=1)
    assert cli(project, "apply", "--target", "prod") == 0
    (job_id,) = managed_jobs(ws, "gen", "prod")["gen_job_000"]
    ws.fail_task(job_id, "task_0000", error=f"connect failed with token={TOKEN}, password: '{SECRET}'")
    assert cli(project, "run", "gen_job_000", "--target", "prod", "--format", fmt) != 0
    clean(cli)
    assert "connect failed" in cli.out + cli.err  # the message itself is kept
