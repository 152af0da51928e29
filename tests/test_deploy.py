"""plan / apply / destroy / bind through the CLI against the fake workspace (real SDK, real HTTP)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import example_project, generated_project, managed_jobs, rewrite

ROOT = "/Shared/.flowdef/smart_claims/prod"  # the fake reports paths without /Workspace


def objects(ws, prefix: str) -> dict[str, str]:
    with ws.state.lock:
        return {p: o.object_type for p, o in ws.state.files.items() if p.startswith(prefix + "/")}


# ------------------------------------------------------------------------------------------ example project


def test_first_apply_creates_the_example_jobs_and_uploads_their_artifacts(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    jobs = managed_jobs(ws, "smart_claims", "prod")
    assert sorted(jobs) == ["smart_claims_bronze_to_silver", "smart_claims_ingestion"]
    assert all(len(ids) == 1 for ids in jobs.values())
    assert ws.count("POST", "/api/2.2/jobs/create") == 2
    settings = ws.get_job(jobs["smart_claims_ingestion"][0])
    assert settings["name"] == "smart_claims_ingestion"
    assert settings["tags"]["flowdef_target"] == "prod"
    files = objects(ws, ROOT)
    sql = {p: t for p, t in files.items() if p.endswith(".sql")}
    assert len(sql) == 5 and set(sql.values()) == {"FILE"}  # FILEs, not notebooks
    assert files[f"{ROOT}/lib/flowdef_entry.py"] == "FILE"
    assert files[f"{ROOT}/lib/flowdef/runtime/__init__.py"] == "FILE"
    assert files[f"{ROOT}/files/pipelines/scripts/ingestion_claim.py"] == "FILE"
    assert f"{ROOT}/.flowdef/manifest.json" in files
    assert f"{ROOT}/.flowdef/deploy.lock" not in files  # released
    # the SQL each task references is exactly the SQL `compile` renders
    assert cli(project, "compile", "--target", "prod", "--out", str(tmp_path / "build")) == 0
    for key, (job_id,) in jobs.items():
        for task in ws.get_job(job_id)["tasks"]:
            if "sql_task" in task:
                rendered = (tmp_path / "build" / key / f"{task['task_key']}.sql").read_bytes()
                assert ws.read_file(task["sql_task"]["file"]["path"]) == rendered
    # and every file a task runs exists in the workspace
    for (job_id,) in jobs.values():
        for task in ws.get_job(job_id)["tasks"]:
            if "spark_python_task" in task:
                ws.read_file(task["spark_python_task"]["python_file"])


def test_second_apply_makes_zero_writes(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    ws.reset_log()
    ws.faults.latency(0.1)  # requests sent together then overlap, which is what waves() counts
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert ws.writes() == []
    assert "No changes" in cli.out
    # one manifest read, one list page (expand_tasks: the settings of every job), no jobs/get, and one listing
    # per artifact folder (drift of the uploaded files) - all sent at once: one wave
    paths = sorted(r.path for r in ws.requests)
    assert paths.count("/api/2.2/jobs/list") == 1
    assert paths.count("/api/2.0/workspace/export") == 1
    assert paths.count("/api/2.2/jobs/get") == 0
    with ws.state.lock:
        folders = {p.rsplit("/", 1)[0] for p, o in ws.state.files.items()
                   if p.startswith(ROOT + "/") and o.object_type != "DIRECTORY"
                   and not p.startswith(ROOT + "/.flowdef/")}
    assert paths.count("/api/2.0/workspace/list") == len(folders)
    assert len(paths) == 2 + len(folders)
    # two bursts: the manifest and the listing are read while the project is validated and compiled, the artifact
    # folders (known once compiled) right after; waves() is strict (a request that starts after another one was
    # answered counts as a later round trip) and at 100 ms per request the client's own CPU per request (1.5-4 ms
    # on this shared machine) does not spread a burst
    assert ws.waves() == 2
    assert ws.waves([r for r in ws.requests if r.path == "/api/2.0/workspace/list"]) == 1


def test_plan_text_and_json_show_field_level_changes(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "plan", "--target", "prod") == 0
    assert "+ create    smart_claims_ingestion" in cli.out
    assert cli(project, "apply", "--target", "prod") == 0
    text = (project / "pyproject.toml").read_text().replace('warehouse_id = "prod0warehouse001"',
                                                             'warehouse_id = "prod0warehouse002"')
    (project / "pyproject.toml").write_text(text)
    assert cli(project, "plan", "--target", "prod") == 0
    assert "~ update    smart_claims_ingestion" in cli.out
    assert '~ tasks[ingest_customers].sql_task.warehouse_id: "prod0warehouse001" -> "prod0warehouse002"' in cli.out
    assert cli(project, "plan", "--target", "prod", "--format", "json") == 0
    plan = json.loads(cli.out)
    by_key = {j["key"]: j for j in plan["jobs"]}
    change = next(c for c in by_key["smart_claims_ingestion"]["changes"]
                  if c["path"] == "tasks[ingest_customers].sql_task.warehouse_id")
    assert change == {"path": "tasks[ingest_customers].sql_task.warehouse_id", "op": "change",
                      "old": "prod0warehouse001", "new": "prod0warehouse002"}
    assert plan["summary"]["update"] == 2
    assert cli(project, "plan", "--target", "prod", "--detailed-exitcode") == 2
    assert cli(project, "apply", "--target", "prod") == 0
    assert cli(project, "plan", "--target", "prod", "--detailed-exitcode") == 0


def test_task_order_and_server_defaults_are_not_drift(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    with ws.state.lock:
        for settings in ws.state.jobs.values():
            settings["tasks"].reverse()
            for t in settings["tasks"]:
                (t.get("depends_on") or []).reverse()
            settings["webhook_notifications"] = {}
            settings["run_as"] = {"user_name": "someone@example.com"}
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert ws.writes() == []


def test_drift_made_in_the_ui_is_reported_and_reverted(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    job_id = managed_jobs(ws, "smart_claims", "prod")["smart_claims_ingestion"][0]
    with ws.state.lock:
        ws.state.jobs[job_id]["max_concurrent_runs"] = 5
        ws.state.jobs[job_id]["tasks"].append({"task_key": "added_in_ui", "notebook_task": {
            "notebook_path": "/x", "source": "WORKSPACE"}, "run_if": "ALL_SUCCESS"})
    assert cli(project, "plan", "--target", "prod") == 0
    assert "~ max_concurrent_runs: 5 -> 1" in cli.out
    assert "- tasks[added_in_ui]:" in cli.out
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.count("POST", "/api/2.2/jobs/reset") == 1 and ws.count("POST", "/api/2.2/jobs/update") == 0
    assert [t["task_key"] for t in ws.get_job(job_id)["tasks"]].count("added_in_ui") == 0


# ------------------------------------------------------------------------------------------ generated projects


def test_rename_updates_in_place(ws, cli, tmp_path):
    project = generated_project(tmp_path, 3)
    assert cli(project, "apply", "--target", "prod") == 0
    before = managed_jobs(ws, "gen", "prod")
    rewrite(project, suffix="_renamed")
    assert cli(project, "plan", "--target", "prod") == 0
    assert '~ name: "gen_job_000" -> "gen_job_000_renamed"' in cli.out
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert managed_jobs(ws, "gen", "prod") == before
    assert ws.count("POST", "/api/2.2/jobs/create") == 0 and ws.count("POST", "/api/2.2/jobs/reset") == 3
    assert ws.get_job(before["gen_job_001"][0])["name"] == "gen_job_001_renamed"


def test_prune_deletes_only_managed_jobs_of_this_target(ws, cli, tmp_path):
    unmanaged = ws.add_job({"name": "gen_job_002", "tags": {"team": "data"}})
    other_project = ws.add_job({"name": "x", "tags": {"flowdef_project": "other", "flowdef_target": "prod",
                                                      "flowdef_job": "gen_job_002"}})
    project = generated_project(tmp_path, 3, suffix="_v1")
    assert cli(project, "apply", "--target", "prod") == 0
    assert cli(project, "apply", "--target", "dev") == 0
    rewrite(project, n_jobs=2)
    before = {i: ws.get_job(i) for i in (unmanaged, other_project)}
    assert cli(project, "apply", "--target", "prod") == 0  # without --prune: kept, and said so
    assert "gen_job_002" in managed_jobs(ws, "gen", "prod")
    assert "--prune" in cli.err
    # no terminal and no --yes: refuse, change nothing
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod", "--prune") == 1
    assert "rerun with --yes" in cli.err and ws.writes() == []
    assert cli(project, "apply", "--target", "prod", "--prune", "--yes") == 0, cli.err
    assert sorted(managed_jobs(ws, "gen", "prod")) == ["gen_job_000", "gen_job_001"]
    assert sorted(managed_jobs(ws, "gen", "dev")) == ["gen_job_000", "gen_job_001", "gen_job_002"]
    assert {i: ws.get_job(i) for i in (unmanaged, other_project)} == before


def test_unmanaged_lookalike_is_untouched_and_bind_adopts_it(ws, cli, tmp_path):
    lookalike = ws.add_job({"name": "gen_job_001", "max_concurrent_runs": 3})
    original = ws.get_job(lookalike)
    project = generated_project(tmp_path, 3)
    assert cli(project, "plan", "--target", "prod") == 0
    assert "! conflict  gen_job_001" in cli.out and f"flowdef bind gen_job_001 {lookalike}" in cli.out
    assert cli(project, "apply", "--target", "prod") == 1
    assert f"flowdef bind gen_job_001 {lookalike}" in cli.out
    assert ws.get_job(lookalike) == original
    assert sorted(managed_jobs(ws, "gen", "prod")) == ["gen_job_000", "gen_job_002"]
    # bind refuses without a terminal or --yes, then adopts
    assert cli(project, "bind", "gen_job_001", str(lookalike), "--target", "prod") == 1
    assert ws.get_job(lookalike) == original
    assert cli(project, "bind", "gen_job_001", str(lookalike), "--target", "prod", "--yes") == 0, cli.err
    adopted = ws.get_job(lookalike)
    assert adopted["tags"]["flowdef_job"] == "gen_job_001" and adopted["max_concurrent_runs"] == 1
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []
    assert managed_jobs(ws, "gen", "prod")["gen_job_001"] == [lookalike]
    # a job managed by another flowdef key cannot be bound
    other = managed_jobs(ws, "gen", "prod")["gen_job_000"][0]
    assert cli(project, "bind", "gen_job_002", str(other), "--target", "prod", "--yes") == 1
    assert "refusing to take it over" in cli.err


def test_a_150_task_job_round_trips(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1, n_tasks=150)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    (job_id,) = managed_jobs(ws, "gen", "prod")["gen_job_000"]
    assert len(ws.get_job(job_id)["tasks"]) == 150
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []
    assert ws.count("GET", "/api/2.2/jobs/get") == 2  # two pages, merged
    # and the SDK's own JobsExt.get merges the pages too
    assert len(ws.client().jobs.get(job_id).settings.tasks) == 150
    rewrite(project, n_tasks=149)
    assert cli(project, "plan", "--target", "prod") == 0
    assert "- tasks[task_0149]" in cli.out and cli.out.count("tasks[") == 1


def test_dev_target_deploys_prefixed_names_and_paused_triggers(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "dev") == 0
    for (job_id,) in managed_jobs(ws, "gen", "dev").values():
        settings = ws.get_job(job_id)
        assert settings["name"].startswith("[dev] ")
        assert settings["schedule"]["pause_status"] == "PAUSED"
    assert cli(project, "apply", "--target", "prod") == 0
    for (job_id,) in managed_jobs(ws, "gen", "prod").values():
        assert ws.get_job(job_id)["schedule"]["pause_status"] == "UNPAUSED"


def test_thousands_of_jobs_in_the_workspace(ws, cli, tmp_path):
    for i in range(1250):
        ws.add_job({"name": f"someone_elses_{i}", "tags": {"owner": "them"}})
    project = generated_project(tmp_path, 3)
    assert cli(project, "apply", "--target", "prod") == 0
    assert len(managed_jobs(ws, "gen", "prod")) == 3
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []
    assert ws.count("GET", "/api/2.2/jobs/list") == 13  # 1253 jobs, 100 per page
    assert ws.count("GET", "/api/2.2/jobs/get") == 0  # expand_tasks: the pages carry our jobs' settings


def test_list_lag_does_not_duplicate(ws, cli, tmp_path):
    ws.list_lag = 3  # a new job is missing from the next 3 jobs/list calls
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert ws.writes() == []
    assert all(len(ids) == 1 for ids in managed_jobs(ws, "gen", "prod").values())


def test_destroy(ws, cli, tmp_path):
    keep = ws.add_job({"name": "not ours"})
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "dev") == 0
    assert cli(project, "apply", "--target", "prod") == 0
    assert cli(project, "destroy", "--target", "dev") == 1
    assert "rerun with --yes" in cli.err
    assert cli(project, "destroy", "--target", "dev", "--yes") == 0, cli.err
    assert managed_jobs(ws, "gen", "dev") == {}
    assert len(managed_jobs(ws, "gen", "prod")) == 2
    assert ws.get_job(keep)["name"] == "not ours"
    assert cli(project, "destroy", "--target", "dev", "--yes") == 0
    assert "Nothing to destroy" in cli.out


def test_permissions_are_applied_when_the_compiler_declares_them(ws, cli, tmp_path, monkeypatch):
    from flowdef.compile import compiler
    acl = [{"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"}]
    monkeypatch.setattr(compiler, "permissions", lambda job: acl, raising=False)
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    for (job_id,) in managed_jobs(ws, "gen", "prod").values():
        assert {"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"} in ws.permissions(job_id)
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []
    acl = [{"group_name": "data-eng", "permission_level": "CAN_VIEW"}]
    monkeypatch.setattr(compiler, "permissions", lambda job: acl, raising=False)
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.count("PUT") == 2


def test_auth_problems_are_one_line(ws, cli, tmp_path, monkeypatch):
    project = generated_project(tmp_path, 1)
    monkeypatch.setenv("DATABRICKS_TOKEN", "wrong")
    assert cli(project, "plan", "--target", "prod") == 1
    assert cli.err.count("\n") == 1 and cli.err.startswith("error: ") and "Traceback" not in cli.err
    monkeypatch.delenv("DATABRICKS_TOKEN")
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_AUTH_TYPE")
    assert cli(project, "apply", "--target", "prod") == 1
    assert cli.err.count("\n") == 1 and cli.err.startswith("error: ") and "Traceback" not in cli.err


def test_stale_lock_is_reported_and_broken_on_request(ws, cli, tmp_path):
    project = generated_project(tmp_path, 1)
    lock = {"id": "abc", "owner": "ci", "host": "runner-7", "pid": 42, "created": 1_000_000_000.0,
            "command": "apply"}
    ws.write_file("/Shared/.flowdef/gen/prod/.flowdef/deploy.lock", json.dumps(lock).encode())
    assert cli(project, "apply", "--target", "prod") == 1
    assert "held by ci@runner-7 pid 42" in cli.err and "--break-lock" in cli.err
    assert managed_jobs(ws, "gen", "prod") == {}
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 0, cli.err
    assert "removed the deploy lock held by ci@runner-7" in cli.err
    assert len(managed_jobs(ws, "gen", "prod")) == 1


def test_target_host_and_profile_are_used(ws, cli, tmp_path, monkeypatch):
    project = generated_project(tmp_path, 1)
    config = project / "pyproject.toml"
    base = config.read_text()
    # host in the target beats DATABRICKS_HOST
    monkeypatch.setenv("DATABRICKS_HOST", "http://127.0.0.1:1")
    config.write_text(base.replace('mode = "production"', f'mode = "production"\nhost = "{ws.host}"'))
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    assert len(managed_jobs(ws, "gen", "prod")) == 1
    # a profile of ~/.databrickscfg, without any DATABRICKS_* variable
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(f"[fake]\nhost = {ws.host}\ntoken = {ws.token}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    config.write_text(base.replace('mode = "production"', 'mode = "production"\nprofile = "fake"'))
    assert cli(project, "plan", "--target", "prod", "--format", "json") == 0, cli.err
    assert json.loads(cli.out)["summary"]["unchanged"] == 1
    config.write_text(base.replace('mode = "production"', 'mode = "production"\nprofile = "missing"'))
    assert cli(project, "plan", "--target", "prod") == 1
    assert cli.err.startswith("error: ") and cli.err.count("\n") == 1 and "missing" in cli.err


def test_apply_json_output(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod", "--format", "json") == 0
    result = json.loads(cli.out)
    assert [j["action"] for j in result["jobs"]] == ["created", "created"]
    assert cli(project, "apply", "--target", "prod", "--format", "json") == 0
    assert [j["action"] for j in json.loads(cli.out)["jobs"]] == ["unchanged", "unchanged"]


def test_prune_removes_artifacts_no_job_uses_and_a_subset_never_prunes(ws, cli, tmp_path):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0
    sql = f"{ROOT}/sql/smart_claims_ingestion/ingest_customers.sql"
    assert sql in objects(ws, ROOT)
    # only one pipeline file named: the other job is not "no longer in the code"
    assert cli(project, "plan", "--target", "prod", "pipelines/bronze_to_silver.py") == 0
    assert "- delete" not in cli.out and "- remove" not in cli.out
    assert cli(project, "apply", "--target", "prod", "--prune", "pipelines/bronze_to_silver.py") == 2
    (project / "pipelines" / "ingestion.py").unlink()
    assert cli(project, "plan", "--target", "prod") == 0
    assert "- delete    smart_claims_ingestion" in cli.out and "uploaded artifact(s) no job uses" in cli.out
    assert cli(project, "apply", "--target", "prod", "--prune", "--yes") == 0, cli.err
    assert sorted(managed_jobs(ws, "smart_claims", "prod")) == ["smart_claims_bronze_to_silver"]
    assert sql not in objects(ws, ROOT)
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod", "--prune") == 0
    assert ws.writes() == []


def test_destroy_right_after_apply_finds_jobs_the_listing_does_not_show_yet(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    ws.list_lag = 5
    assert cli(project, "apply", "--target", "prod") == 0
    assert cli(project, "destroy", "--target", "prod", "--yes") == 0, cli.err
    assert managed_jobs(ws, "gen", "prod") == {}


def test_a_job_deleted_since_the_plan_is_recreated_and_destroy_json(ws, cli, tmp_path):
    project = generated_project(tmp_path, 2)
    assert cli(project, "apply", "--target", "prod") == 0
    import os

    from flowdef.deploy.client import Workspace
    from flowdef.deploy.engine import Deployer
    from flowdef.deploy.session import prepare
    from flowdef.load.project import open_project

    rewrite(project, suffix="_v2")
    opened = open_project(project, target="prod")
    target = opened.target
    desired = prepare(opened, "apply")
    dep = Deployer(Workspace(host=ws.host), project="gen", target="prod", root=target.root_path, desired=desired,
                   quiet=True)
    state = dep.read_state()
    plan = dep.plan(state)
    gone = managed_jobs(ws, "gen", "prod")["gen_job_000"][0]
    with ws.state.lock:  # deleted by someone between plan and apply
        del ws.state.jobs[gone]
    outcomes = {o.key: o.action for o in dep.apply(plan, state)}
    assert outcomes == {"gen_job_000": "created", "gen_job_001": "updated"}
    assert all(len(v) == 1 for v in managed_jobs(ws, "gen", "prod").values())
    os.chdir(tmp_path)
    assert cli(project, "destroy", "--target", "prod", "--yes", "--format", "json") == 0
    result = json.loads(cli.out)
    assert sorted(d["key"] for d in result["deleted"]) == ["gen_job_000", "gen_job_001"] and result["failed"] == []


def test_notebooks_are_uploaded_as_notebooks_and_files_as_files(ws, cli, tmp_path):
    project = generated_project(tmp_path, 0, name="nbproj", project="nbproj")
    (project / "notebooks").mkdir()
    (project / "notebooks" / "explore.py").write_text("# Databricks notebook source\nprint('hi')\n")
    (project / "scripts").mkdir()
    (project / "scripts" / "run.py").write_text("# Databricks notebook source\nprint('a plain file')\n")
    (project / "pipelines" / "nb.py").write_text(
        "from flowdef import Environment, Job\n"
        "job = Job('nb_job', compute=Environment('default', version='3'))\n"
        "job.notebook('explore', 'notebooks/explore.py')\n"
        "job.python_file('run', 'scripts/run.py')\n")
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    root = "/Shared/.flowdef/nbproj/prod/files"
    files = objects(ws, root)
    assert files[f"{root}/notebooks/explore"] == "NOTEBOOK"
    assert files[f"{root}/scripts/run.py"] == "FILE"  # RAW: a notebook header does not make it a notebook
    assert ws.read_file(f"{root}/notebooks/explore") == b"print('hi')\n"
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    assert ws.writes() == []
    (project / "notebooks" / "explore.py").write_text("# Databricks notebook source\nprint('changed')\n")
    ws.reset_log()
    assert cli(project, "apply", "--target", "prod") == 0
    uploads = [r.body["path"] for r in ws.writes() if r.path.endswith("/import") and "/prod/.flowdef/" not in r.body["path"]]
    assert uploads == ["/Workspace" + root + "/notebooks/explore"]  # only the changed artifact
    assert ws.count("POST", "/api/2.2/jobs/reset") == 0
