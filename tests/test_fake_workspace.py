"""flowdef.testing.FakeWorkspace driven by the real, unmodified databricks-sdk WorkspaceClient."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("databricks.sdk")

from databricks.sdk import errors
from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import ImportFormat, Language, ObjectType

from flowdef.testing import ApiError, FakeWorkspace, Fault, LoggedRequest, pytest_plugin

# tests/conftest.py is not ours and pytest_plugins only works there: bind the fixture under test here
fake_workspace = pytest_plugin.fake_workspace

ME = "someone@example.com"


@pytest.fixture
def w(fake_workspace):
    return fake_workspace.client()


def nb(key, *deps, **extra):
    return jobs.Task(
        task_key=key,
        notebook_task=jobs.NotebookTask(notebook_path=f"/Shared/{key}"),
        depends_on=[jobs.TaskDependency(task_key=d) for d in deps] or None,
        **extra,
    )


def raw_task(key, *deps, **extra):
    task = {"task_key": key, "notebook_task": {"notebook_path": f"/Shared/{key}"}}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    task.update(extra)
    return task


def create_raw(w, payload):
    return w.api_client.do("POST", "/api/2.2/jobs/create", body=payload)


# ---------------------------------------------------------------------------------------------
# Basics: client, identity, defaults, log
# ---------------------------------------------------------------------------------------------


def test_client_create_get_and_server_defaults(fake_workspace, w):
    job_id = w.jobs.create(name="etl", tasks=[nb("a"), nb("b", "a")]).job_id
    job = w.jobs.get(job_id)
    assert job.job_id == job_id and job.creator_user_name == ME and job.run_as_user_name == ME
    assert job.created_time > 1_600_000_000_000
    settings = job.settings.as_dict()
    # defaults the service fills although the client never sent them
    assert settings["format"] == "MULTI_TASK"
    assert settings["max_concurrent_runs"] == 1 and settings["timeout_seconds"] == 0
    assert settings["queue"] == {"enabled": True}
    assert job.settings.email_notifications is not None and job.settings.webhook_notifications is not None
    assert [t.run_if for t in job.settings.tasks] == [jobs.RunIf.ALL_SUCCESS] * 2
    assert job.settings.tasks[0].notebook_task.source == jobs.Source.WORKSPACE
    assert fake_workspace.state.jobs[job_id]["name"] == "etl"
    second = w.jobs.create(name="etl2").job_id
    assert second > job_id  # monotonically increasing ids


def test_server_defaults_can_be_switched_off():
    with FakeWorkspace(server_defaults=False) as ws:
        job_id = ws.client().jobs.create(name="bare").job_id
        assert ws.state.jobs[job_id] == {"name": "bare"}


def test_current_user_and_request_log(fake_workspace, w):
    assert w.current_user.me().user_name == ME
    job_id = w.jobs.create(name="x").job_id
    w.jobs.get(job_id)
    log = fake_workspace.requests
    assert [(r.method, r.path) for r in log] == [
        ("GET", "/api/2.0/preview/scim/v2/Me"),
        ("POST", "/api/2.2/jobs/create"),
        ("GET", "/api/2.2/jobs/get"),
    ]
    assert isinstance(log[1], LoggedRequest) and log[1].body == {"name": "x"} and log[1].status == 200
    assert log[2].query == {"job_id": str(job_id)}
    assert [r.path for r in fake_workspace.writes()] == ["/api/2.2/jobs/create"]
    assert fake_workspace.count("GET", "/api/2.2/jobs/get") == 1
    fake_workspace.reset_log()
    assert fake_workspace.requests == [] and fake_workspace.writes() == []


def test_auth_wrong_and_missing_token(fake_workspace):
    bad = fake_workspace.client(token="dapi-wrong")
    with pytest.raises(errors.PermissionDenied, match="Invalid access token"):
        next(iter(bad.jobs.list()))
    req = urllib.request.Request(fake_workspace.host + "/api/2.2/jobs/list")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 401
    assert json.loads(info.value.read())["message"].startswith("Credential was not sent")


def test_env_for_subprocesses(fake_workspace):
    env = fake_workspace.env()
    assert env["DATABRICKS_HOST"] == fake_workspace.host and env["DATABRICKS_TOKEN"] == fake_workspace.token
    code = (
        "import os, urllib.request, json;"
        "r = urllib.request.Request(os.environ['DATABRICKS_HOST'] + '/api/2.0/preview/scim/v2/Me',"
        " headers={'Authorization': 'Bearer ' + os.environ['DATABRICKS_TOKEN']});"
        "print(json.load(urllib.request.urlopen(r))['userName'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=20, check=True)
    assert out.stdout.strip() == ME


def test_unknown_endpoint(w):
    with pytest.raises(errors.NotFound) as info:
        w.api_client.do("GET", "/api/2.2/jobs/frobnicate")
    assert info.value.error_code == "ENDPOINT_NOT_FOUND"
    assert "No API found for 'GET /jobs/frobnicate'" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Jobs CRUD
# ---------------------------------------------------------------------------------------------


def test_reset_replaces_and_keeps_run_as(fake_workspace, w):
    job_id = w.jobs.create(name="a", tasks=[nb("a"), nb("b")], tags={"x": "1"},
                           run_as=jobs.JobRunAs(service_principal_name="sp-1")).job_id
    w.jobs.reset(job_id, jobs.JobSettings(name="b", tasks=[nb("c")]))
    job = w.jobs.get(job_id)
    assert job.settings.name == "b" and [t.task_key for t in job.settings.tasks] == ["c"]
    assert job.settings.tags is None
    assert job.run_as_user_name == "sp-1"  # run_as survives a reset that omits it


def test_update_merges_arrays_by_key_and_removes_fields(fake_workspace, w):
    job_id = w.jobs.create(name="u", tasks=[nb("a"), nb("b"), nb("c")], tags={"t": "1"},
                           description="d").job_id
    w.jobs.update(job_id, new_settings=jobs.JobSettings(
        name="u2", tasks=[nb("b", "a", max_retries=3), nb("d")]),
        fields_to_remove=["tasks/c", "description"])
    settings = fake_workspace.state.jobs[job_id]
    assert settings["name"] == "u2" and settings["tags"] == {"t": "1"} and "description" not in settings
    assert [t["task_key"] for t in settings["tasks"]] == ["a", "b", "d"]
    assert settings["tasks"][1]["max_retries"] == 3
    with pytest.raises(errors.InvalidParameterValue, match="tasks/zzz"):
        w.jobs.update(job_id, fields_to_remove=["tasks/zzz"])
    # a rejected update changes nothing
    with pytest.raises(errors.InvalidParameterValue):
        w.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[nb("e", "nope")]))
    assert [t["task_key"] for t in fake_workspace.state.jobs[job_id]["tasks"]] == ["a", "b", "d"]


def test_delete_and_unknown_job(fake_workspace, w):
    job_id = w.jobs.create(name="gone").job_id
    w.jobs.delete(job_id)
    assert job_id not in fake_workspace.state.jobs
    with pytest.raises(errors.ResourceDoesNotExist, match=f"Job {job_id} does not exist."):
        w.jobs.get(job_id)
    for call in (lambda: w.jobs.delete(job_id), lambda: w.jobs.reset(job_id, jobs.JobSettings(name="x")),
                 lambda: w.jobs.run_now(job_id)):
        with pytest.raises(errors.NotFound, match="does not exist"):
            call()


def test_legacy_not_found_style_matches_sdk_override():
    with FakeWorkspace(not_found_style="legacy") as ws:
        w = ws.client()
        with pytest.raises(errors.ResourceDoesNotExist):  # the SDK maps 400 -> ResourceDoesNotExist for jobs/get
            w.jobs.get(424242)
        with pytest.raises(errors.InvalidParameterValue, match="Job 424242 does not exist."):
            w.jobs.delete(424242)


def test_get_paginates_150_tasks_and_sdk_merges(fake_workspace, w):
    tasks = [nb(f"t{i:03d}", *([f"t{i - 1:03d}"] if i else [])) for i in range(150)]
    job_id = w.jobs.create(name="big", tasks=tasks,
                           parameters=[jobs.JobParameterDefinition(name=f"p{i}", default="x") for i in range(120)]).job_id
    first = w.api_client.do("GET", "/api/2.2/jobs/get", query={"job_id": job_id})
    assert len(first["settings"]["tasks"]) == 100 and len(first["settings"]["parameters"]) == 100
    assert first["next_page_token"]
    fake_workspace.reset_log()
    job = w.jobs.get(job_id)
    assert [t.task_key for t in job.settings.tasks] == [f"t{i:03d}" for i in range(150)]
    assert len(job.settings.parameters) == 120
    assert fake_workspace.count("GET", "/api/2.2/jobs/get") == 2
    # API 2.1 has no pagination
    whole = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": job_id})
    assert len(whole["settings"]["tasks"]) == 150 and "next_page_token" not in whole


def test_list_250_jobs_paginates(fake_workspace, w):
    for i in range(250):
        fake_workspace.add_job({"name": f"job-{i:03d}"})
    fake_workspace.reset_log()
    names = [j.settings.name for j in w.jobs.list(limit=100)]
    assert names == [f"job-{i:03d}" for i in range(250)]
    assert fake_workspace.count("GET", "/api/2.2/jobs/list") == 3
    fake_workspace.reset_log()
    assert len(list(w.jobs.list())) == 250  # default page size 20
    assert fake_workspace.count("GET", "/api/2.2/jobs/list") == 13


def test_list_name_filter_is_exact_and_case_insensitive(fake_workspace, w):
    for name in ("Nightly ETL", "nightly etl", "Nightly ETL v2"):
        fake_workspace.add_job({"name": name})
    found = list(w.jobs.list(name="NIGHTLY etl"))
    assert sorted(j.settings.name for j in found) == ["Nightly ETL", "nightly etl"]
    assert list(w.jobs.list(name="Nightly")) == []
    assert not found[0].settings.tasks  # tasks only with expand_tasks


def test_list_expand_tasks_fetches_remaining_pages(fake_workspace, w):
    job_id = fake_workspace.add_job({"name": "wide", "tasks": [raw_task(f"t{i}") for i in range(130)]})
    raw = w.api_client.do("GET", "/api/2.2/jobs/list", query={"expand_tasks": "true"})
    assert raw["jobs"][0]["has_more"] is True and len(raw["jobs"][0]["settings"]["tasks"]) == 100
    fake_workspace.reset_log()
    [job] = list(w.jobs.list(expand_tasks=True))
    assert job.job_id == job_id and len(job.settings.tasks) == 130
    assert fake_workspace.count("GET", "/api/2.2/jobs/get") == 2  # the mixin completed the arrays


@pytest.mark.parametrize("limit", [0, 101])
def test_list_limit_out_of_range(w, limit):
    with pytest.raises(errors.InvalidParameterValue, match="limit"):
        next(iter(w.jobs.list(limit=limit)))


def test_list_eventual_consistency(fake_workspace, w):
    fake_workspace.list_lag = 2
    job_id = w.jobs.create(name="fresh").job_id
    assert list(w.jobs.list(name="fresh")) == []
    assert list(w.jobs.list(name="fresh")) == []
    assert [j.job_id for j in w.jobs.list(name="fresh")] == [job_id]
    assert w.jobs.get(job_id).settings.name == "fresh"  # get is consistent at once


def test_api_21_prefix_is_accepted(fake_workspace, w):
    job_id = w.api_client.do("POST", "/api/2.1/jobs/create", body={"name": "old"})["job_id"]
    assert "queue" not in fake_workspace.state.jobs[job_id]  # 2.1-created jobs are not queued by default
    assert w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": job_id})["settings"]["name"] == "old"


# ---------------------------------------------------------------------------------------------
# Validation: what the service rejects
# ---------------------------------------------------------------------------------------------

CRON = {"quartz_cron_expression": "0 30 2 * * ?", "timezone_id": "Europe/Berlin"}

INVALID = [
    ("duplicate keys", {"tasks": [raw_task("a"), raw_task("a")]}, "is used by more than one task"),
    ("unknown dependency", {"tasks": [raw_task("a", "ghost")]}, "Invalid dependency graph, task 'a' depends on 'ghost'"),
    ("self dependency", {"tasks": [raw_task("a", "a")]}, "Invalid dependency graph, task 'a' can not reference itself."),
    ("cycle", {"tasks": [raw_task("a", "c"), raw_task("b", "a"), raw_task("c", "b")]},
     "Invalid dependency graph, cycle detected"),
    ("too many tasks", {"tasks": [raw_task(f"t{i}") for i in range(1001)]}, "at most 1000 tasks"),
    ("missing task_key", {"tasks": [{"notebook_task": {"notebook_path": "/x"}}]},
     "Missing required field: settings.tasks.task_key."),
    ("bad task_key", {"tasks": [raw_task("a b")]}, "Invalid task_key"),
    ("no task type", {"tasks": [{"task_key": "a"}]}, "exactly one task type"),
    ("two task types", {"tasks": [dict(raw_task("a"), spark_python_task={"python_file": "/x.py"})]},
     "exactly one task type"),
    ("missing notebook_path", {"tasks": [{"task_key": "a", "notebook_task": {}}]},
     "Missing required field: settings.tasks.notebook_task.notebook_path."),
    ("bad run_if", {"tasks": [raw_task("a", run_if="all_done")]}, "Invalid value 'all_done'"),
    ("bad condition op", {"tasks": [{"task_key": "c", "condition_task": {"op": "EQUALS", "left": "1", "right": "1"}}]},
     "Invalid value 'EQUALS'"),
    ("bad pause status", {"schedule": dict(CRON, pause_status="paused")}, "Invalid value 'paused'"),
    ("schedule and continuous", {"schedule": CRON, "continuous": {"pause_status": "UNPAUSED"}},
     "Only one of schedule, continuous"),
    ("schedule and trigger", {"schedule": CRON, "trigger": {"periodic": {"interval": 1, "unit": "HOURS"}}},
     "Only one of schedule, continuous"),
    ("unix cron", {"schedule": dict(CRON, quartz_cron_expression="30 2 * * *")}, "Invalid Quartz Cron Expression"),
    ("both dom and dow", {"schedule": dict(CRON, quartz_cron_expression="0 30 2 * * MON")},
     "Invalid Quartz Cron Expression"),
    ("missing timezone", {"schedule": {"quartz_cron_expression": "0 0 1 * * ?"}},
     "Missing required field: settings.schedule.timezone_id."),
    ("bad timezone", {"schedule": dict(CRON, timezone_id="Mars/Olympus")}, "Invalid timezone_id"),
    ("undefined job cluster", {"tasks": [raw_task("a", job_cluster_key="jc")]}, "job_cluster_key 'jc'"),
    ("outcome on non-condition", {"tasks": [raw_task("a"), raw_task("b", depends_on=[{"task_key": "a", "outcome": "true"}])]},
     "not a condition task"),
    ("parameter without default", {"parameters": [{"name": "p"}]}, "Missing required field: settings.parameters.default."),
    ("too many tags", {"tags": {f"k{i}": "v" for i in range(26)}}, "at most 25 tags"),
    ("git provider", {"git_source": {"git_url": "https://x", "git_provider": "svn"}}, "git_source.git_provider must be one of"),
]


@pytest.mark.parametrize("payload,message", [(p, m) for _, p, m in INVALID], ids=[i for i, _, _ in INVALID])
def test_create_rejects_invalid_settings(fake_workspace, w, payload, message):
    with pytest.raises(errors.InvalidParameterValue) as info:
        create_raw(w, dict(payload, name="bad"))
    assert message in str(info.value)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fake_workspace.state.jobs == {}


def test_reset_errors_name_new_settings(w):
    job_id = w.jobs.create(name="x").job_id
    with pytest.raises(errors.InvalidParameterValue, match="Missing required field: new_settings.tasks.task_key."):
        w.api_client.do("POST", "/api/2.2/jobs/reset",
                        body={"job_id": job_id, "new_settings": {"tasks": [{"notebook_task": {"notebook_path": "/x"}}]}})


def test_valid_rich_job_is_accepted(fake_workspace, w):
    payload = {
        "name": "rich", "schedule": CRON, "max_concurrent_runs": 3,
        "job_clusters": [{"job_cluster_key": "jc", "new_cluster": {"spark_version": "15.4.x-scala2.12"}}],
        "environments": [{"environment_key": "env", "spec": {"environment_version": "2"}}],
        "parameters": [{"name": "mode", "default": "full"}],
        "tasks": [
            {"task_key": "check", "condition_task": {"op": "EQUAL_TO", "left": "{{job.parameters.mode}}", "right": "full"}},
            raw_task("load", depends_on=[{"task_key": "check", "outcome": "true"}], job_cluster_key="jc"),
            {"task_key": "py", "spark_python_task": {"python_file": "/Shared/x.py"}, "environment_key": "env",
             "depends_on": [{"task_key": "load"}], "run_if": "ALL_DONE"},
            {"task_key": "loop", "for_each_task": {"inputs": "[1,2]", "task": raw_task("loop_body")}},
        ],
    }
    job_id = create_raw(w, payload)["job_id"]
    assert fake_workspace.state.jobs[job_id]["tasks"][2]["run_if"] == "ALL_DONE"


def test_add_job_validates(fake_workspace):
    with pytest.raises(ApiError, match="can not reference itself"):
        fake_workspace.add_job({"tasks": [raw_task("a", "a")]})


# ---------------------------------------------------------------------------------------------
# Workspace files
# ---------------------------------------------------------------------------------------------

HOME = f"/Users/{ME}"


def test_upload_without_format_makes_a_notebook(fake_workspace, w):
    w.workspace.upload(f"{HOME}/nb.py", io.BytesIO(b"print(1)"))
    info = w.workspace.get_status(f"{HOME}/nb.py")  # the path keeps its extension
    assert info.object_type == ObjectType.NOTEBOOK and info.language == Language.PYTHON
    upload = fake_workspace.requests[-2]
    assert upload.path == "/api/2.0/workspace/import"
    assert upload.body == {"path": f"{HOME}/nb.py", "language": "PYTHON", "content": b"print(1)"}
    with w.workspace.download(f"{HOME}/nb.py") as f:
        assert f.read() == b"# Databricks notebook source\nprint(1)"
    assert fake_workspace.read_file(f"{HOME}/nb.py") == b"print(1)"


def test_upload_auto_and_raw(fake_workspace, w):
    w.workspace.upload(f"{HOME}/plain.py", b"print(2)", format=ImportFormat.AUTO)
    assert w.workspace.get_status(f"{HOME}/plain.py").object_type == ObjectType.FILE
    w.workspace.upload(f"{HOME}/real.py", b"# Databricks notebook source\nprint(3)", format=ImportFormat.AUTO)
    info = w.workspace.get_status(f"{HOME}/real")  # AUTO strips the extension of a notebook
    assert info.object_type == ObjectType.NOTEBOOK
    with pytest.raises(errors.NotFound, match=re.escape(f"Path ({HOME}/real.py) doesn't exist.")):
        w.workspace.get_status(f"{HOME}/real.py")
    w.workspace.upload(f"{HOME}/q.sql", b"-- Databricks notebook source\nselect 1", format=ImportFormat.RAW)
    assert w.workspace.get_status(f"{HOME}/q.sql").object_type == ObjectType.FILE
    assert fake_workspace.state.files[f"{HOME}/q.sql"].content.startswith(b"-- Databricks")
    with w.workspace.download(f"{HOME}/plain.py") as f:
        assert f.read() == b"print(2)"


def test_upload_overwrite_and_errors(fake_workspace, w):
    w.workspace.upload(f"{HOME}/f.txt", b"v1", format=ImportFormat.AUTO)
    with pytest.raises(errors.ResourceAlreadyExists, match="already exists"):
        w.workspace.upload(f"{HOME}/f.txt", b"v2", format=ImportFormat.AUTO)
    w.workspace.upload(f"{HOME}/f.txt", b"v2", format=ImportFormat.AUTO, overwrite=True)
    assert fake_workspace.read_file(f"{HOME}/f.txt") == b"v2"
    with pytest.raises(errors.NotFound, match=re.escape("The parent folder (/Users/x/missing) does not exist.")):
        w.workspace.upload("/Users/x/missing/f.txt", b"x", format=ImportFormat.AUTO)
    # no format, no inferable language: the SDK mixin hints at format=AUTO
    with pytest.raises(errors.DatabricksError, match="ImportFormat.AUTO"):
        w.workspace.upload(f"{HOME}/data.csv", b"a,b")


def test_import_json_export_list_delete(fake_workspace, w):
    w.workspace.mkdirs(f"{HOME}/proj/sub")
    w.workspace.mkdirs(f"{HOME}/proj/sub")  # idempotent
    content = base64.b64encode(b"select 1").decode()
    w.workspace.import_(f"{HOME}/proj/q", content=content, format=ImportFormat.SOURCE, language=Language.SQL)
    w.workspace.upload(f"/Workspace{HOME}/proj/sub/a.txt", b"hello", format=ImportFormat.RAW)
    exported = w.workspace.export(f"{HOME}/proj/q")
    assert base64.b64decode(exported.content) == b"-- Databricks notebook source\nselect 1"
    names = [o.path for o in w.workspace.list(f"{HOME}/proj")]
    assert names == [f"{HOME}/proj/q", f"{HOME}/proj/sub"]
    assert [o.path for o in w.workspace.list(f"{HOME}/proj", recursive=True)] == [f"{HOME}/proj/q", f"{HOME}/proj/sub/a.txt"]
    assert w.workspace.get_status(f"{HOME}/proj/sub/a.txt").size == 5
    with pytest.raises(errors.ResourceAlreadyExists):
        w.workspace.mkdirs(f"{HOME}/proj/q/below-a-notebook")
    with pytest.raises(errors.BadRequest) as info:
        w.workspace.delete(f"{HOME}/proj")
    assert info.value.error_code == "DIRECTORY_NOT_EMPTY"
    w.workspace.delete(f"{HOME}/proj", recursive=True)
    assert not [p for p in fake_workspace.state.files if p.startswith(f"{HOME}/proj")]
    with pytest.raises(errors.ResourceDoesNotExist, match=re.escape(f"Path ({HOME}/proj) doesn't exist.")):
        w.workspace.delete(f"{HOME}/proj")


# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------


def _levels(perms):
    out = {}
    for acl in perms.access_control_list:
        who = acl.user_name or acl.group_name or acl.service_principal_name
        out[who] = sorted((p.permission_level.value, bool(p.inherited)) for p in acl.all_permissions)
    return out


def test_permissions_default_set_update(fake_workspace, w):
    job_id = w.jobs.create(name="p").job_id
    perms = w.jobs.get_permissions(str(job_id))
    assert perms.object_id == f"/jobs/{job_id}" and perms.object_type == "job"
    assert _levels(perms) == {ME: [("IS_OWNER", False)], "admins": [("CAN_MANAGE", True)]}
    w.jobs.set_permissions(str(job_id), access_control_list=[
        jobs.JobAccessControlRequest(group_name="data-eng", permission_level=jobs.JobPermissionLevel.CAN_MANAGE_RUN),
        jobs.JobAccessControlRequest(user_name="bob@example.com", permission_level=jobs.JobPermissionLevel.CAN_VIEW),
    ])
    assert _levels(w.jobs.get_permissions(str(job_id))) == {
        ME: [("IS_OWNER", False)], "data-eng": [("CAN_MANAGE_RUN", False)],
        "bob@example.com": [("CAN_VIEW", False)], "admins": [("CAN_MANAGE", True)]}
    result = w.jobs.update_permissions(str(job_id), access_control_list=[
        jobs.JobAccessControlRequest(service_principal_name="sp-1", permission_level=jobs.JobPermissionLevel.IS_OWNER)])
    levels = _levels(result)
    assert levels["sp-1"] == [("IS_OWNER", False)] and ME not in levels and "bob@example.com" in levels
    # set replaces direct grants (the owner stays, exactly one IS_OWNER)
    w.jobs.set_permissions(str(job_id), access_control_list=[])
    assert fake_workspace.permissions(job_id) == [{"service_principal_name": "sp-1", "permission_level": "IS_OWNER"}]
    levels = w.jobs.get_permission_levels(str(job_id)).permission_levels
    assert {lv.permission_level.value for lv in levels} == {"CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"}


def test_permissions_errors_and_create_acl(fake_workspace, w):
    job_id = w.jobs.create(name="acl", access_control_list=[
        jobs.JobAccessControlRequest(group_name="readers", permission_level=jobs.JobPermissionLevel.CAN_VIEW)]).job_id
    assert {"group_name": "readers", "permission_level": "CAN_VIEW"} in fake_workspace.permissions(job_id)
    two_owners = [jobs.JobAccessControlRequest(user_name=u, permission_level=jobs.JobPermissionLevel.IS_OWNER)
                  for u in ("a@x.com", "b@x.com")]
    with pytest.raises(errors.InvalidParameterValue, match="exactly one owner"):
        w.jobs.set_permissions(str(job_id), access_control_list=two_owners)
    with pytest.raises(errors.InvalidParameterValue, match="cannot be the owner"):
        w.jobs.update_permissions(str(job_id), access_control_list=[
            jobs.JobAccessControlRequest(group_name="g", permission_level=jobs.JobPermissionLevel.IS_OWNER)])
    with pytest.raises(errors.NotFound):
        w.jobs.get_permissions("999999")


# ---------------------------------------------------------------------------------------------
# Faults and the SDK's retry behaviour
# ---------------------------------------------------------------------------------------------


def test_503_then_success_is_retried_by_the_sdk(fake_workspace, w):
    fault = fake_workspace.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", status=503, retry_after=0))
    started = time.monotonic()
    job_id = w.jobs.create(name="retry").job_id
    assert time.monotonic() - started < 3  # Retry-After 0 + the SDK's <1 s jitter
    assert fault.fired == 1 and fake_workspace.faults.pending == []
    assert [r.status for r in fake_workspace.requests] == [503, 200]
    assert list(fake_workspace.state.jobs) == [job_id]


def test_429_with_retry_after_is_retried(fake_workspace, w):
    fake_workspace.faults.add(Fault(method="GET", path="/api/2.2/jobs/", status=429, retry_after=0))
    assert list(w.jobs.list()) == []
    assert [r.status for r in fake_workspace.requests] == [429, 200]


def test_sdk_does_not_retry_multipart_upload(fake_workspace, w):
    fake_workspace.faults.add(Fault(method="POST", path="/api/2.0/workspace/import", status=503, retry_after=0))
    with pytest.raises(errors.TemporarilyUnavailable):
        w.workspace.upload("/Shared/a.txt", b"x", format=ImportFormat.AUTO)
    assert fake_workspace.count("POST", "/api/2.0/workspace/import") == 1  # deploy code must retry uploads itself
    w.workspace.upload("/Shared/a.txt", b"x", format=ImportFormat.AUTO)
    assert fake_workspace.read_file("/Shared/a.txt") == b"x"


def test_non_retryable_fault_surfaces(fake_workspace, w):
    fake_workspace.faults.add(Fault(path=re.compile(r"/api/2\.2/jobs/(create|reset)"), status=500,
                                    body={"error_code": "INTERNAL_ERROR", "message": "boom"}, times=None))
    with pytest.raises(errors.InternalError, match="boom"):
        w.jobs.create(name="x")
    fake_workspace.faults.clear()
    assert w.jobs.create(name="x").job_id


def test_commit_then_drop_leaves_the_job_created(fake_workspace, w):
    fake_workspace.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", action="commit_then_drop"))
    job_id = w.jobs.create(name="lost-response").job_id
    created = [k for k, v in fake_workspace.state.jobs.items() if v["name"] == "lost-response"]
    # the first create went through although its response was lost, and the SDK retried the
    # connection error blindly: a naive deploy ends up with a duplicate job
    assert len(created) == 2 and job_id == created[-1]
    first, second = fake_workspace.requests
    assert first.dropped and first.status == 200 and not second.dropped


def test_commit_then_drop_still_answers_a_rejected_request(fake_workspace, w):
    """Only a write that went through loses its answer: a request the service rejects gets its real error."""
    fake_workspace.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", action="commit_then_drop",
                                    times=None))
    with pytest.raises(errors.InvalidParameterValue):
        w.jobs.create(name="bad", max_concurrent_runs=-1)
    (req,) = fake_workspace.requests
    assert req.status == 400 and not req.dropped and fake_workspace.state.jobs == {}


@pytest.mark.parametrize("status", [503, 429])
def test_commit_then_status_saves_the_job_and_answers_an_error(fake_workspace, w, status):
    fake_workspace.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", action="commit_then_status",
                                    status=status, retry_after=0))
    w.jobs.create(name="saved-anyway")  # the SDK retries 429/503 blindly ...
    created = [k for k, v in fake_workspace.state.jobs.items() if v["name"] == "saved-anyway"]
    assert len(created) == 2  # ... so the first, saved attempt became a duplicate
    first, second = fake_workspace.requests
    assert first.status == status and not first.dropped and second.status == 200
    # and a rejected request under the same fault gets its own error, nothing saved
    fake_workspace.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", action="commit_then_status",
                                    status=status))
    with pytest.raises(errors.InvalidParameterValue):
        w.jobs.create(name="bad", max_concurrent_runs=-1)


def test_waves_count_sequential_round_trips(fake_workspace, w):
    fake_workspace.faults.latency(0.05)
    w.jobs.create(name="a")
    w.jobs.create(name="b")
    assert fake_workspace.waves() == 2
    fake_workspace.reset_log()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: list(w.jobs.list(limit=1, name=f"x{i}")), range(4)))
    assert len(fake_workspace.requests) == 4 and fake_workspace.waves() == 1
    assert all(r.ended - r.started >= 0.05 for r in fake_workspace.requests)


def test_dropped_read_is_retried(fake_workspace, w):
    job_id = w.jobs.create(name="r").job_id
    fake_workspace.faults.add(Fault(method="GET", path="/api/2.2/jobs/get", action="drop"))
    assert w.jobs.get(job_id).settings.name == "r"
    assert [(r.status, r.dropped) for r in fake_workspace.requests[1:]] == [(0, True), (200, False)]


def test_latency(fake_workspace, w):
    w.jobs.create(name="warm")
    fake_workspace.faults.latency(0.05)
    started = time.monotonic()
    list(w.jobs.list())
    assert time.monotonic() - started >= 0.05
    fake_workspace.faults.clear()
    fake_workspace.faults.add(Fault(path="/api/2.2/jobs/list", action="delay", latency=0.1, times=2))
    started = time.monotonic()
    list(w.jobs.list())
    assert time.monotonic() - started >= 0.1


def test_fault_validation():
    with pytest.raises(ValueError):
        Fault(action="explode")
    with pytest.raises(ValueError):
        Fault(times=0)


def test_concurrent_clients(fake_workspace, w):
    fake_workspace.faults.latency(0.005)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: w.jobs.create(name=f"c{i}", tasks=[nb("a")]).job_id, range(40)))
    assert len(set(ids)) == 40 and len(fake_workspace.state.jobs) == 40
    assert fake_workspace.count("POST", "/api/2.2/jobs/create") == 40


# ---------------------------------------------------------------------------------------------
# Runs and repair
# ---------------------------------------------------------------------------------------------


def _states(run):
    return {t.task_key: t.state.result_state.value for t in run.tasks}


def test_run_now_success(fake_workspace, w):
    job_id = w.jobs.create(name="r", tasks=[nb("a"), nb("b", "a")]).job_id
    run = w.jobs.run_now(job_id).result(timeout=__import__("datetime").timedelta(seconds=10))
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.status.state == jobs.RunLifecycleStateV2State.TERMINATED
    assert _states(run) == {"a": "SUCCESS", "b": "SUCCESS"}
    output = w.jobs.get_run_output(run.tasks[0].run_id)
    assert output.notebook_output is not None and output.error is None
    with pytest.raises(errors.InvalidParameterValue, match="multiple tasks"):
        w.jobs.get_run_output(run.run_id)


def test_failed_run_then_repairs(fake_workspace, w):
    job_id = w.jobs.create(name="f", tasks=[nb("a"), nb("b", "a"), nb("c", "b"), nb("side")]).job_id
    fake_workspace.fail_task(job_id, "b", error="ZeroDivisionError: division by zero")
    with pytest.raises(errors.OperationFailed, match="Task b failed with message: ZeroDivisionError"):
        w.jobs.run_now(job_id).result()
    [base] = list(w.jobs.list_runs(job_id=job_id))
    run = w.jobs.get_run(base.run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert _states(run) == {"a": "SUCCESS", "b": "FAILED", "side": "SUCCESS", "c": "UPSTREAM_FAILED"}
    c = next(t for t in run.tasks if t.task_key == "c")
    assert c.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    failed = next(t for t in run.tasks if t.task_key == "b")
    assert w.jobs.get_run_output(failed.run_id).error == "ZeroDivisionError: division by zero"

    repaired = w.jobs.repair_run(run.run_id, rerun_all_failed_tasks=True).result()
    assert repaired.run_id == run.run_id and _states(repaired)["c"] == "SUCCESS"
    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    with pytest.raises(errors.InvalidParameterValue, match="latest repair ID needs to be provided"):
        w.jobs.repair_run(run.run_id, rerun_tasks=["a"])
    history = w.jobs.get_run(run.run_id, include_history=True).repair_history
    assert [h.type.value for h in history] == ["ORIGINAL", "REPAIR"]
    again = w.jobs.repair_run(run.run_id, rerun_tasks=["a"], rerun_dependent_tasks=True,
                              latest_repair_id=history[-1].id)
    rerun = w.jobs.get_run(run.run_id, include_history=True)
    assert len(rerun.repair_history) == 3 and rerun.repair_history[-1].id == again.response.repair_id
    assert len(rerun.repair_history[-1].task_run_ids) == 3  # a, b, c re-ran; side kept
    with pytest.raises(errors.InvalidParameterValue):
        w.jobs.repair_run(run.run_id, rerun_tasks=["a"], rerun_all_failed_tasks=True,
                          latest_repair_id=rerun.repair_history[-1].id)


def test_condition_task_uses_job_parameters(fake_workspace, w):
    payload = {
        "name": "cond", "parameters": [{"name": "mode", "default": "full"}],
        "tasks": [
            {"task_key": "check", "condition_task": {"op": "EQUAL_TO", "left": "{{job.parameters.mode}}", "right": "full"}},
            raw_task("full_load", depends_on=[{"task_key": "check", "outcome": "true"}]),
            raw_task("incremental", depends_on=[{"task_key": "check", "outcome": "false"}]),
            {"task_key": "n", "condition_task": {"op": "GREATER_THAN_OR_EQUAL", "left": "12.0", "right": "12"}},
        ],
    }
    job_id = create_raw(w, payload)["job_id"]
    run = w.jobs.run_now(job_id).result()
    assert _states(run) == {"check": "SUCCESS", "full_load": "SUCCESS", "incremental": "EXCLUDED", "n": "SUCCESS"}
    outcomes = {t.task_key: t.condition_task.outcome for t in run.tasks if t.condition_task}
    assert outcomes == {"check": "true", "n": "true"}
    run = w.jobs.run_now(job_id, job_parameters={"mode": "incremental"}).result()
    assert _states(run)["full_load"] == "EXCLUDED" and _states(run)["incremental"] == "SUCCESS"
    assert {p.name: p.value for p in run.job_parameters} == {"mode": "incremental"}


def test_retries_and_task_values(fake_workspace, w):
    payload = {"name": "retry", "tasks": [
        raw_task("flaky", max_retries=2),
        {"task_key": "gate", "depends_on": [{"task_key": "flaky"}],
         "condition_task": {"op": "GREATER_THAN", "left": "{{tasks.flaky.values.rows}}", "right": "9"}},
    ]}
    job_id = create_raw(w, payload)["job_id"]
    fake_workspace.fail_task(job_id, "flaky", times=2)
    fake_workspace.set_task_values(job_id, "flaky", rows=10)
    run = w.jobs.run_now(job_id).result()
    flaky = next(t for t in run.tasks if t.task_key == "flaky")
    assert flaky.state.result_state == jobs.RunResultState.SUCCESS and flaky.attempt_number == 2
    gate = next(t for t in run.tasks if t.task_key == "gate")
    assert gate.condition_task.outcome == "true"  # numeric: 10 > 9


def test_run_polls_cancel_and_list_runs():
    with FakeWorkspace(run_polls=2) as ws:
        w = ws.client()
        job_id = w.jobs.create(name="slow", tasks=[nb("a")]).job_id
        run_id = w.jobs.run_now(job_id).response.run_id
        assert w.jobs.get_run(run_id).state.life_cycle_state == jobs.RunLifeCycleState.RUNNING
        assert [r.run_id for r in w.jobs.list_runs(active_only=True)] == [run_id]
        assert w.jobs.get_run(run_id).state.life_cycle_state == jobs.RunLifeCycleState.RUNNING
        assert w.jobs.get_run(run_id).state.result_state == jobs.RunResultState.SUCCESS
        other = w.jobs.run_now(job_id).response.run_id
        w.jobs.cancel_run(other)
        assert w.jobs.get_run(other).state.result_state == jobs.RunResultState.CANCELED
        with pytest.raises(errors.InvalidParameterValue, match="at most 25"):
            next(iter(w.jobs.list_runs(limit=26)))
        for _ in range(4):
            w.jobs.run_now(job_id, idempotency_token="once")
        ws.reset_log()
        runs = list(w.jobs.list_runs(job_id=job_id, limit=2))
        assert len(runs) == 3 and runs[0].run_id > runs[-1].run_id  # newest first, 1 idempotent run
        assert ws.count("GET", "/api/2.2/jobs/runs/list") == 2


def test_run_now_only_subset(w):
    job_id = w.jobs.create(name="only", tasks=[nb("a"), nb("b", "a"), nb("c", "b")]).job_id
    run = w.jobs.run_now(job_id, only=["+b"]).result()
    assert _states(run) == {"a": "SUCCESS", "b": "SUCCESS"}
    with pytest.raises(errors.InvalidParameterValue):
        w.jobs.run_now(job_id, only=["zzz"])


def test_for_each_iterations_and_failures(fake_workspace, w):
    payload = {"name": "loop", "parameters": [{"name": "ids", "default": "[1, 2, 3]"}], "tasks": [
        {"task_key": "loop", "for_each_task": {"inputs": "{{job.parameters.ids}}", "concurrency": 2,
                                               "task": raw_task("body")}},
        raw_task("after", "loop"),
    ]}
    job_id = create_raw(w, payload)["job_id"]
    run = w.jobs.run_now(job_id).result()
    loop = next(t for t in run.tasks if t.task_key == "loop")
    assert loop.for_each_task.stats.task_run_stats.succeeded_iterations == 3
    fake_workspace.fail_task(job_id, "body", times=1)
    with pytest.raises(errors.OperationFailed):
        w.jobs.run_now(job_id).result()
    run = w.jobs.get_run(next(iter(w.jobs.list_runs(job_id=job_id))).run_id)
    assert _states(run) == {"loop": "FAILED", "after": "UPSTREAM_FAILED"}
    assert next(t for t in run.tasks if t.task_key == "loop").for_each_task.stats.task_run_stats.failed_iterations == 1


def test_get_run_paginates_large_runs(fake_workspace, w):
    job_id = fake_workspace.add_job({"name": "wide", "tasks": [raw_task(f"t{i:03d}") for i in range(130)]})
    run_id = w.jobs.run_now(job_id).response.run_id
    first = w.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})
    assert len(first["tasks"]) == 100 and first["next_page_token"]
    run = w.jobs.get_run(run_id)  # JobsExt.get_run merges the pages
    assert len(run.tasks) == 130 and run.state.result_state == jobs.RunResultState.SUCCESS


def test_seeding_helpers(fake_workspace, w):
    fake_workspace.write_file(f"{HOME}/lib/util.py", b"x = 1")
    fake_workspace.write_file(f"{HOME}/lib/nb", b"print(1)", notebook_language="PYTHON")
    obj = fake_workspace.state.files[f"{HOME}/lib/util.py"]
    assert (obj.object_type, obj.content, obj.language) == ("FILE", b"x = 1", None)
    assert fake_workspace.state.files[f"{HOME}/lib/nb"].language == "PYTHON"
    assert w.workspace.get_status(f"{HOME}/lib").object_type == ObjectType.DIRECTORY
    job_id = fake_workspace.add_job({"name": "seeded", "tasks": [raw_task("a")]})
    assert fake_workspace.get_job(job_id)["tasks"][0]["run_if"] == "ALL_SUCCESS"
    assert [r.path for r in fake_workspace.requests] == ["/api/2.0/workspace/get-status"]  # seeding is not logged
    with pytest.raises(FileNotFoundError):
        fake_workspace.read_file("/nope")
