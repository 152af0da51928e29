"""run / status / runs / logs / repair / cancel through the CLI against the fake workspace (real SDK, real HTTP)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import example_project, managed_jobs

from flowdef.runs import Outcome

OPS = '''\
from flowdef import INPUT, Job, RunIf

job = Job("ops_demo", params={"rows": "5"})
first = job.notebook("first", "/Workspace/Shared/nb")
check = job.condition("has_rows", job.params.rows, ">", 0, depends_on=[first])
load = job.notebook("load", "/Workspace/Shared/nb", depends_on=[check.true])
job.notebook("nothing_to_do", "/Workspace/Shared/nb", depends_on=[check.false])
loop = job.for_each("per_item", inputs=[1, 2, 3], concurrency=2, depends_on=[first])
loop.notebook("score", "/Workspace/Shared/nb", params={"item": INPUT})
job.notebook("cleanup", "/Workspace/Shared/nb", depends_on=[load], run_if=RunIf.ALL_DONE)
'''


def ops_project(tmp: Path) -> Path:
    dest = tmp / "ops"
    (dest / "pipelines").mkdir(parents=True)
    (dest / "pyproject.toml").write_text(textwrap.dedent('''\
        [tool.flowdef]
        project = "opsdemo"
        pipelines = ["pipelines"]
        default_target = "dev"

        [tool.flowdef.targets.dev]
        mode = "development"
        root_path = "/Workspace/Shared/.flowdef/opsdemo/dev"
        '''))
    (dest / "pipelines" / "__init__.py").write_text("")
    (dest / "pipelines" / "opsjobs.py").write_text(OPS)
    return dest


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setenv("FLOWDEF_POLL_INTERVAL", "0")


def tasks_of(doc):
    return {t["task_key"]: t["state"] for t in doc["tasks"]}


def test_bronze_to_silver_fails_then_repair_failed_with_dependents_succeeds(ws, cli, tmp_path, fast):
    project = example_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    job_id = managed_jobs(ws, "smart_claims", "prod")["smart_claims_bronze_to_silver"][0]
    ws.fail_task(job_id, "deduplicate_claims", times=3, error="ZeroDivisionError: division by zero")

    rc = cli(project, "run", "smart_claims_bronze_to_silver", "--target", "prod", "--format", "json")
    assert rc == 1, cli.err
    doc = json.loads(cli.out)
    assert doc["result"] == "FAILED" and doc["job"] == "smart_claims_bronze_to_silver"
    assert tasks_of(doc) == {"deduplicate_claims": "FAILED", "join_tables_create": "UPSTREAM_FAILED",
                             "join_tables_metrics": "UPSTREAM_FAILED", "join_tables_sample": "UPSTREAM_FAILED"}
    dedup = doc["tasks"][0]
    assert dedup["attempts"] == 3 and dedup["error"] == "ZeroDivisionError: division by zero"  # Retry(2)
    run_id = doc["run_id"]

    assert cli(project, "repair", run_id, "--failed", "--dependents", "--target", "prod") == 0, cli.err + cli.out
    assert f"Run {run_id} of smart_claims_bronze_to_silver: SUCCESS" in cli.out
    assert cli(project, "status", run_id, "--target", "prod", "--format", "json") == 0
    doc = json.loads(cli.out)
    assert doc["result"] == "SUCCESS" and set(tasks_of(doc).values()) == {"SUCCESS"}
    assert [r["type"] for r in doc["repairs"]] == ["ORIGINAL", "REPAIR"]  # one repair in the history
    assert doc["repairs"][0]["result"] == "FAILED" and doc["repairs"][1]["result"] == "SUCCESS"
    assert doc["repairs"][0]["tasks"] == doc["repairs"][1]["tasks"] == [t["task_key"] for t in doc["tasks"]]
    for key in ("run_id", "job", "result", "tasks", "repairs"):
        assert key in doc
    assert set(doc["tasks"][0]) >= {"task_key", "state", "attempts", "start", "end", "error"}

    # text status: the tree, the error-free tasks, the repair history
    assert cli(project, "status", run_id, "--target", "prod") == 0
    assert "Repair history:" in cli.out and "original" in cli.out and "join_tables_metrics" in cli.out
    # a second repair needs latest_repair_id: the backend reads it from the history
    assert cli(project, "repair", run_id, "--task", "join_tables_sample", "--target", "prod") == 0, cli.err
    assert cli(project, "status", run_id, "--target", "prod", "--format", "json") == 0
    assert len(json.loads(cli.out)["repairs"]) == 3


def test_condition_branches_for_each_logs_and_runs(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0, cli.err
    job_id = managed_jobs(ws, "opsdemo", "dev")["ops_demo"][0]

    assert cli(project, "run", "ops_demo", "--format", "json") == 0, cli.out + cli.err
    ok = json.loads(cli.out)
    assert ok["result"] == "SUCCESS" and tasks_of(ok)["nothing_to_do"] == "EXCLUDED"  # the branch not taken
    assert next(t for t in ok["tasks"] if t["task_key"] == "has_rows")["outcome"] == "true"

    # a failed condition: its branch is UPSTREAM_FAILED (not EXCLUDED), the cleanup still runs, the run FAILED
    assert cli(project, "run", "ops_demo", "--param", "rows=many", "--format", "json") == 1
    bad = json.loads(cli.out)
    assert bad["result"] == "FAILED"
    assert {k: v for k, v in tasks_of(bad).items() if k in ("has_rows", "load", "nothing_to_do", "cleanup")} == {
        "has_rows": "FAILED", "load": "UPSTREAM_FAILED", "nothing_to_do": "UPSTREAM_FAILED", "cleanup": "SUCCESS"}

    # a for-each with one failing iteration
    ws.script_task(job_id, "score", "SUCCESS", Outcome("FAILED", "item 2 is broken"), "SUCCESS")
    assert cli(project, "run", "ops_demo") == 1
    assert "per_item: 2 of 3 iterations" not in cli.out  # the error line says what failed:
    assert "iteration 1: item 2 is broken" in cli.out and "Repair: flowdef repair" in cli.out
    assert cli(project, "runs", "ops_demo", "--format", "json") == 0
    listed = json.loads(cli.out)
    assert [r["result"] for r in listed] == ["FAILED", "FAILED", "SUCCESS"]  # newest first
    last = listed[0]["run_id"]
    assert cli(project, "status", last, "--format", "json") == 0
    loop = next(t for t in json.loads(cli.out)["tasks"] if t["task_key"] == "per_item")
    assert [i["state"] for i in loop["iterations"]] == ["SUCCESS", "FAILED", "SUCCESS"]
    assert loop["state"] == "FAILED"

    ws.set_task_output(job_id, "first", notebook_result="42 rows")
    assert cli(project, "run", "ops_demo", "--no-wait", "--format", "json") == 0
    started = json.loads(cli.out)["run_id"]
    assert cli(project, "logs", started, "first") == 0 and "notebook result:\n42 rows" in cli.out
    assert cli(project, "logs", last, "has_rows") == 0 and "(no output)" in cli.out
    assert cli(project, "runs") == 0 and cli.out.count("ops_demo") == 4


def test_cancel_with_a_cleanup_task(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    ws.run_polls = 3  # each attempt lasts 3 polls: "first" still runs when the cancel comes
    assert cli(project, "run", "ops_demo", "--no-wait", "--format", "json") == 0
    run_id = json.loads(cli.out)["run_id"]
    assert cli(project, "status", run_id, "--format", "json") == 0
    assert json.loads(cli.out)["state"] == "RUNNING"
    assert cli(project, "cancel", run_id) == 0 and "cancel requested" in cli.out
    for _ in range(10):
        assert cli(project, "status", run_id, "--format", "json") == 0
        doc = json.loads(cli.out)
        if doc["result"]:
            break
    assert doc["result"] == "CANCELED"
    states = tasks_of(doc)
    assert states["first"] == "CANCELED" and states["has_rows"] == "UPSTREAM_CANCELED"
    assert states["load"] == "UPSTREAM_CANCELED" and states["per_item"] == "UPSTREAM_CANCELED"
    assert states["cleanup"] == "SUCCESS"  # ALL_DONE: still runs after a cancel


def test_exit_codes_and_one_line_errors(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "run", "ops_demo") == 1 and "not deployed to target 'dev'" in cli.err  # before apply
    assert cli(project, "apply") == 0
    assert cli(project, "run", "nope") == 2 and "no job 'nope'" in cli.err
    assert cli(project, "run", "ops_demo", "--param", "rows") == 2 and "NAME=VALUE" in cli.err
    assert cli(project, "status", "123456") == 1 and "does not exist" in cli.err
    assert cli(project, "status", "abc") == 1 and "not a run id" in cli.err
    assert cli(project, "run", "ops_demo", "--target", "nope") == 2
    assert cli(project, "run", "ops_demo", "--only", "first") == 0
    assert cli(project, "runs", "--format", "json") == 0
    only = json.loads(cli.out)[0]["run_id"]
    assert cli(project, "status", only, "--format", "json") == 0
    assert [t["task_key"] for t in json.loads(cli.out)["tasks"]] == ["first"]
    assert cli(project, "repair", only, "--failed") == 1 and "no failed tasks" in cli.err
    assert "Traceback" not in cli.err


def test_plain_output_appends_lines_when_not_a_terminal(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    ws.run_polls = 1
    assert cli(project, "run", "ops_demo") == 0
    assert "\x1b[" not in cli.out
    lines = cli.out.splitlines()
    assert lines[0].startswith("started run ") and "run " in lines[1]
    assert "  first: RUNNING" in lines and "  first: SUCCESS 1.0s" in lines
    assert any(line.startswith("  nothing_to_do: EXCLUDED") for line in lines)
    assert lines.index("  first: RUNNING") < lines.index("  first: SUCCESS 1.0s")
    assert any(line.startswith("Run ") and line.split(": ")[1].startswith("SUCCESS") for line in lines)


def test_runs_pages_past_25_and_shows_only_this_projects_jobs(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    job_id = managed_jobs(ws, "opsdemo", "dev")["ops_demo"][0]
    stranger = ws.add_job({"name": "not ours", "tasks": [{"task_key": "x", "notebook_task": {"notebook_path": "/x"}}]})
    w = ws.client()
    for _ in range(28):
        w.jobs.run_now(job_id)
    w.jobs.run_now(stranger)
    ws.reset_log()
    assert cli(project, "runs", "--limit", "30", "--format", "json") == 0
    listed = json.loads(cli.out)
    assert len(listed) == 28 and {r["job"] for r in listed} == {"ops_demo"}
    ids = [int(r["run_id"]) for r in listed]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert ws.count("GET", "/api/2.2/jobs/runs/list") == 2  # 25 + the rest
    assert cli(project, "runs", "ops_demo", "--limit", "3") == 0 and len(cli.out.splitlines()) == 4


def test_logs_of_attempts_error_trace_and_unlisted_attempts(ws, cli, tmp_path, fast):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    job_id = managed_jobs(ws, "opsdemo", "dev")["ops_demo"][0]
    ws.fail_task(job_id, "first", error="KeyError: 'claim_id'")
    ws.set_task_output(job_id, "first", error_trace="Traceback (most recent call last):\n  ...\nKeyError: 'claim_id'")
    assert cli(project, "run", "ops_demo", "--format", "json") == 1
    run_id = json.loads(cli.out)["run_id"]
    assert cli(project, "logs", run_id, "first") == 0
    assert "first (attempt 0): FAILED" in cli.out and "error:\n  KeyError: 'claim_id'" in cli.out
    assert "error trace:\nTraceback (most recent call last):" in cli.out
    assert cli(project, "logs", run_id, "first", "--attempt", "3") == 1 and "no attempt 3" in cli.err
    assert cli(project, "logs", run_id, "nope") == 1 and "has no task 'nope'" in cli.err
    assert cli(project, "logs", run_id, "first", "--format", "json") == 0
    assert json.loads(cli.out)["error"] == "KeyError: 'claim_id'"
