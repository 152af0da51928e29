"""``flowdef import JOB_ID ...`` / ``--all-unmanaged`` end to end through the CLI, against the fake workspace
(real HTTP, the real databricks-sdk client): a 250-task job read over three ``jobs/get`` pages, a for-each, a
condition with both branches, task values read downstream, ``--bind``; and the smart-claims jobs as the lesson
clicks them in the UI, imported into modules equivalent to ``pipelines/``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowdef.cli import main
from flowdef.compile.compiler import compile_job
from flowdef.load.config import load_config
from flowdef.load.loader import load
from tests.conftest import FIXTURES, ROOT

pytest.importorskip("flowdef.wire.decode")

UI = FIXTURES / "convert" / "smart_claims_ui"
USER_DIR = "/Workspace/Users/ana.souza@example.com/smart_claims"
SQL_FILES = {
    "ingestion/ingestion_customers.sql": "ingestion_customers.sql",
    "ingestion/ingestion_policies.sql": "ingestion_policies.sql",
    "bronze_to_silver/02_join_tables_create.sql": "02_join_tables_create.sql",
    "bronze_to_silver/03_join_tables_metrics.sql": "03_join_tables_metrics.sql",
    "bronze_to_silver/04_join_tables_sample.sql": "04_join_tables_sample.sql",
}


@pytest.fixture
def project(tmp_path, fake_workspace, monkeypatch):
    """An empty flowdef project whose targets talk to the fake workspace."""
    dest = tmp_path / "project"
    dest.mkdir()
    (dest / "flowdef.toml").write_text('project = "smart_claims"\ndefault_target = "dev"\n'
                                       '[targets.dev]\nmode = "development"\nwarehouse_id = "4b9b953939869799"\n'
                                       '[targets.prod]\nmode = "production"\n')
    for name, value in fake_workspace.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(dest)
    return dest


def _nb(key: str, **extra) -> dict:
    return {"task_key": key, "notebook_task": {"notebook_path": f"/Workspace/Shared/big/{key}",
                                               "source": "WORKSPACE"}, **extra}


def _big_job() -> dict:
    """250 tasks: a lister publishing values, a condition on one of them with both branches, a for-each over
    another, and 245 notebooks fanning out from the true branch, five of them reading the lister's values."""
    tasks = [
        _nb("list_claims"),
        {"task_key": "has_rows", "depends_on": [{"task_key": "list_claims"}],
         "condition_task": {"op": "GREATER_THAN", "left": "{{tasks.list_claims.values.rows}}", "right": "0"}},
        {"task_key": "per_claim", "depends_on": [{"task_key": "has_rows", "outcome": "true"}],
         "for_each_task": {"inputs": "{{tasks.list_claims.values.claim_ids}}", "concurrency": 8,
                           "task": _nb("score_claim") | {"notebook_task": {
                               "notebook_path": "/Workspace/Shared/big/score", "source": "WORKSPACE",
                               "base_parameters": {"claim": "{{input}}"}}}}},
        _nb("nothing_to_do", depends_on=[{"task_key": "has_rows", "outcome": "false"}]),
    ]
    for i in range(246):
        task = _nb(f"step_{i:03d}", depends_on=[{"task_key": "has_rows", "outcome": "true"}])
        if i % 50 == 0:
            task["notebook_task"]["base_parameters"] = {"rows": "{{tasks.list_claims.values.rows}}",
                                                        "env": "{{job.parameters.env}}"}
        tasks.append(task)
    return {"name": "big_claims_review", "parameters": [{"name": "env", "default": "prod"}],
            "max_concurrent_runs": 2, "tasks": tasks}


def test_a_250_task_job_with_control_flow_imports_through_the_task_pages(project, fake_workspace, capsys):
    settings = _big_job()
    assert len(settings["tasks"]) == 250
    job_id = fake_workspace.add_job(settings)
    fake_workspace.reset_log()
    assert main(["import", str(job_id), "--target", "prod"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    gets = [r for r in fake_workspace.requests if r.path == "/api/2.2/jobs/get"]
    assert len(gets) == 3  # 100 + 100 + 50 tasks: jobs/get followed next_page_token twice
    assert "big_claims_review into pipelines/big_claims_review.py: 251 tasks; compiles back to the same job" in out
    source = (project / "pipelines" / "big_claims_review.py").read_text()
    assert 'list_claims = job.notebook(\n    "list_claims",' in source or 'list_claims = job.notebook("list_claims"' in source
    assert 'values=["claim_ids", "rows"]' in source
    assert 'has_rows = job.condition("has_rows", list_claims.values.rows, ">", 0, depends_on=[list_claims])' \
        in source
    assert "inputs=list_claims.values.claim_ids," in source and "depends_on=[has_rows.true]" in source
    assert '"claim": INPUT' in source and "depends_on=[has_rows.false]" in source
    assert '"env": job.params.env' in source
    assert max(len(line) for line in source.splitlines()) <= 100
    assert main(["validate", "--strict", "--target", "prod"]) == 0
    config = load_config(project)
    job = load(config).job("big_claims_review")
    compiled = compile_job(job, config.target("prod"), config).payload
    tags = compiled.pop("tags")
    assert set(tags) == {"flowdef_project", "flowdef_target", "flowdef_job"}
    assert json.loads(json.dumps(compiled)) == settings


def test_all_unmanaged_skips_flowdef_jobs_and_bind_makes_apply_adopt(project, fake_workspace, capsys):
    mine = fake_workspace.add_job({"name": "managed", "tags": {"flowdef_project": "other", "flowdef_target": "dev",
                                                               "flowdef_job": "managed"},
                                   "tasks": [_nb("a")]})
    theirs = fake_workspace.add_job({"name": "nightly report", "tasks": [_nb("report")]})
    assert main(["import", "--all-unmanaged", "--bind", "--target", "prod"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert (project / "pipelines" / "nightly_report.py").is_file()
    assert not (project / "pipelines" / "managed.py").exists()
    assert f"bound job {theirs} to nightly_report" in out
    tags = fake_workspace.get_job(theirs)["tags"]
    assert tags == {"flowdef_project": "smart_claims", "flowdef_target": "prod", "flowdef_job": "nightly_report"}
    assert fake_workspace.get_job(mine)["tags"]["flowdef_project"] == "other"  # untouched
    assert main(["plan", "--target", "prod", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "nightly_report" not in json.dumps(plan.get("create", []))  # adopted: updated, never duplicated


def test_unknown_job_id_is_one_line(project, fake_workspace, capsys):
    assert main(["import", "424242", "--target", "prod"]) == 1
    assert "job 424242 does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------------------
# the lesson's jobs, clicked in the UI


def _seed_lesson(fake_workspace) -> dict[str, int]:
    ids = {}
    for name in ("ingestion", "bronze_to_silver"):
        settings = json.loads((UI / f"{name}.get.json").read_text())["settings"]
        settings.pop("run_as")  # the creator, as the service fills it in (the fake's user creates it here)
        ids[settings["name"]] = fake_workspace.add_job(settings)
    for rel, local in SQL_FILES.items():
        fake_workspace.write_file(f"{USER_DIR}/{rel}", (UI / "workspace" / local).read_bytes())
    return ids


def _shape(payload: dict) -> dict:
    """What makes two versions of a job the same job: parameters, trigger, and per task its kind, what it
    depends on (and on which branch), when it runs, and which task values it reads."""
    tasks = {}
    for t in payload["tasks"]:
        kind = next(k for k in t if k.endswith("_task"))
        if kind == "sql_task":
            kind += "." + next(k for k in ("file", "query", "alert", "dashboard") if k in t["sql_task"])
        tasks[t["task_key"]] = {
            "kind": kind, "run_if": t.get("run_if", "ALL_SUCCESS"),
            "depends_on": sorted((d["task_key"], d.get("outcome")) for d in t.get("depends_on", ())),
            "values_read": sorted(set(part.split(".values.")[1].rstrip("}") for part in json.dumps(t).split('"')
                                      if ".values." in part)),
        }
    trigger = {k: payload[k] for k in ("schedule", "trigger", "continuous") if k in payload}
    return {"parameters": payload.get("parameters"), "trigger": trigger, "tasks": tasks}


def _example_config(project: Path) -> None:
    """The example's own config (its targets override the catalog parameter the lesson's jobs declare)."""
    (project / "flowdef.toml").unlink()
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")


def test_the_lessons_ui_jobs_import_into_modules_equivalent_to_pipelines(project, fake_workspace, capsys,
                                                                        monkeypatch):
    _example_config(project)
    _seed_lesson(fake_workspace)
    assert main(["import", "--all-unmanaged", "--target", "dev"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "error" not in out
    assert main(["validate", "--strict", "--target", "dev"]) == 0, capsys.readouterr()
    # SQL files are kept as files: the workspace SQL became the project's templates
    for rel, local in SQL_FILES.items():
        job = "smart_claims_ingestion" if rel.startswith("ingestion/") else "smart_claims_bronze_to_silver"
        task = {"ingestion_customers": "ingest_customers", "ingestion_policies": "ingest_policies",
                "02_join_tables_create": "join_tables_create", "03_join_tables_metrics": "join_tables_metrics",
                "04_join_tables_sample": "join_tables_sample"}[Path(local).stem]
        template = project / "sql_templates" / job / f"{task}.sql"
        assert template.read_text() == (UI / "workspace" / local).read_text()
    imported_config = load_config(project)
    imported = load(imported_config)
    monkeypatch.chdir(ROOT)  # pipeline folders are found from the working directory first
    reference_config = load_config(ROOT)
    reference = load(reference_config)
    target = "dev"
    for job in reference.jobs:
        mine = imported.job(job.key)
        assert mine is not None, job.key
        theirs = compile_job(job, reference_config.target(target), reference_config).payload
        ours = compile_job(mine, imported_config.target(target), imported_config).payload
        # the example added a failure-drill parameter (simulate_failure, for repair) that the lesson's UI jobs lack
        theirs["parameters"] = [p for p in theirs.get("parameters", ()) if p["name"] != "simulate_failure"]
        assert _shape(json.loads(json.dumps(ours))) == _shape(json.loads(json.dumps(theirs))), job.key
        assert ours["name"] == theirs["name"] and ours["tags"]["flowdef_job"] == theirs["tags"]["flowdef_job"]
    b2s = (project / "pipelines" / "smart_claims_bronze_to_silver.py").read_text()
    assert 'trigger=Cron.daily(at="06:00", timezone="America/Sao_Paulo")' in b2s
    assert "compute=Environment(\"Default\")" in b2s
    assert '"duplicates_removed": deduplicate_claims.values.duplicate_rows_removed' in b2s
    assert "run_if=RunIf.AT_LEAST_ONE_SUCCESS" in b2s
    assert 'values=["duplicate_rows_removed"]' in b2s
    ingestion = (project / "pipelines" / "smart_claims_ingestion.py").read_text()
    assert 'params={"catalog": job.params.catalog, "schema": job.params.schema}' in ingestion
    assert "FileArrival(" in ingestion
    assert "run_as" not in ingestion and "format" not in ingestion  # the service's defaults are not imported


def test_the_lessons_jobs_get_json_imports_from_files_too(project, capsys, tmp_path):
    """From jobs/get JSON files, with copies of the workspace SQL files beside them (found by name)."""
    _example_config(project)
    files = [str(UI / "ingestion.get.json"), str(UI / "bronze_to_silver.get.json")]
    assert main(["import", "--target", "dev", *files]) == 0, capsys.readouterr()
    assert (project / "sql_templates" / "smart_claims_ingestion" / "ingest_customers.sql").read_text() == \
        (UI / "workspace" / "ingestion_customers.sql").read_text()
    assert main(["validate", "--strict", "--target", "dev"]) == 0


def test_a_sql_file_whose_text_is_missing_is_kept_raw_and_reported(project, capsys, tmp_path):
    _example_config(project)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(UI / "ingestion.get.json", alone / "ingestion.get.json")
    assert main(["import", "--target", "dev", str(alone / "ingestion.get.json")]) == 1
    out = capsys.readouterr().out
    assert "whose text was not available: kept as a raw task" in out
    source = (project / "pipelines" / "smart_claims_ingestion.py").read_text()
    assert "job.raw_task(" in source and "ingestion_customers.sql" in source
