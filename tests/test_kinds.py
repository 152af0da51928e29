"""Every task kind, trigger kind and settings group: golden payload, SDK round trip, bundle-schema check.

The fixture project ``tests/fixtures/kinds`` has one job per kind (``kindjobs/<key>.py``); each compiles to
``tests/golden/kinds/<key>.json``, compared byte for byte (``FLOWDEF_UPDATE_GOLDEN=1`` rewrites them).  Each payload,
with its deploy-time placeholders resolved to fake ids, must survive ``JobSettings.from_dict(...).as_dict()``
unchanged (nothing the SDK would drop) and validate against the bundle JSON schema's ``resources.Job`` (skipped
when ``../shared/schemas/bundle_jsonschema.json`` / ``$FLOWDEF_BUNDLE_SCHEMA`` is absent), apart from the fields
the schema does not know (:data:`flowdef.jobsapi.schema.JOB_SCHEMA_GAPS`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowdef.compile import compiler
from flowdef.jobsapi import schema
from flowdef.load.config import load_config
from flowdef.diagnostics import format_text
from flowdef.load.loader import load
from flowdef.model.tasks import KIND_TYPES
from flowdef.model.triggers import TRIGGER_TYPES
from flowdef.validate import validate_project
from tests.conftest import ROOT

KINDS = ROOT / "tests" / "fixtures" / "kinds"
GOLDEN = ROOT / "tests" / "golden" / "kinds"
UPDATE = os.environ.get("FLOWDEF_UPDATE_GOLDEN") == "1"

FAKE_JOB_IDS = {"notebook": 1001, "sql_file": 1002}
FAKE_PIPELINE_IDS = {"claims silver": "0a1b2c3d-claims-silver"}
FAKE_WORKSPACE_ID = 1234567890123456

# Fields of a payload the bundle schema cannot check, per job (all documented in flowdef.jobsapi.schema).
EXPECTED_GAPS = {"job_settings": ["edit_mode"], "trigger_job_completion": ["trigger.job_completion"]}


@pytest.fixture(scope="module")
def kinds():
    config = load_config(path=KINDS / "flowdef.toml")
    project = load(config)
    assert not project.diagnostics, format_text(project.diagnostics)
    return config, config.target(None), project


@pytest.fixture(scope="module")
def compiled(kinds):
    config, target, project = kinds
    return {job.key: compiler.compile_job(job, target, config) for job in project.jobs}


def job_keys() -> list[str]:
    return sorted(p.stem for p in (KINDS / "kindjobs").glob("*.py") if p.stem != "__init__")


def resolved(compiled_job) -> dict:
    """The body deploy sends: the deploy-time substitutions filled in with fake ids."""
    return compiler.resolve_placeholders(compiled_job.deploy_payload, jobs=FAKE_JOB_IDS, pipelines=FAKE_PIPELINE_IDS,
                                         workspace_id=FAKE_WORKSPACE_ID)


def test_the_fixture_project_is_clean(kinds):
    config, target, project = kinds
    assert sorted(j.key for j in project.jobs) == job_keys()
    diags = validate_project(project, target)
    assert diags == [], format_text(diags)


def test_every_task_and_trigger_kind_has_a_golden_job(kinds):
    _, _, project = kinds
    kinds_seen = {type(t.kind) for job in project.jobs for t in job.all_tasks()}
    triggers_seen = {type(t) for job in project.jobs for t in job.triggers}
    assert kinds_seen == set(KIND_TYPES)
    assert triggers_seen == set(TRIGGER_TYPES)


@pytest.mark.parametrize("key", job_keys())
def test_golden_payload(compiled, key):
    """The payload and, when deploy fills in values, its deploy-time substitutions (``<key>.deploy.json``)."""
    outputs = {f"{key}.json": compiler.to_json(compiled[key].payload)}
    if compiled[key].deploy_time:
        outputs[f"{key}.deploy.json"] = compiler.to_json(dict(compiled[key].deploy_time))
    for name, text in outputs.items():
        path = GOLDEN / name
        if UPDATE:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.is_file(), f"{path} is missing (FLOWDEF_UPDATE_GOLDEN=1 writes it)"
        assert text == path.read_text(encoding="utf-8"), f"{key} differs from {path} (FLOWDEF_UPDATE_GOLDEN=1)"


def test_no_stale_golden_files(compiled):
    expected = sorted([f"{k}.json" for k in job_keys()] + [f"{k}.deploy.json" for k in job_keys()
                                                            if compiled[k].deploy_time])
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == expected


@pytest.mark.parametrize("key", job_keys())
def test_sdk_round_trip(compiled, key):
    jobs = pytest.importorskip("databricks.sdk.service.jobs")
    payload = resolved(compiled[key])
    assert jobs.JobSettings.from_dict(payload).as_dict() == payload


@pytest.mark.parametrize("key", job_keys())
def test_bundle_schema(compiled, key):
    bundle = schema.load()
    if bundle is None:
        pytest.skip("no bundle schema (../shared/schemas/bundle_jsonschema.json or $FLOWDEF_BUNDLE_SCHEMA)")
    problems, unchecked = schema.check_payload(resolved(compiled[key]), bundle)
    assert problems == []
    assert unchecked == EXPECTED_GAPS.get(key, [])


def test_compile_is_deterministic(kinds, compiled):
    config, target, project = kinds
    again = {job.key: compiler.to_json(compiler.compile_job(job, target, config).payload) for job in project.jobs}
    assert again == {k: compiler.to_json(c.payload) for k, c in compiled.items()}


# ----------------------------------------------------------------------------------------------------------------
# what the goldens pin, spelled out


def _task(payload: dict, key: str) -> dict:
    for task in payload["tasks"]:
        if task["task_key"] == key:
            return task
        nested = task.get("for_each_task", {}).get("task")
        if nested and nested["task_key"] == key:
            return nested
    raise KeyError(key)


def test_condition_branches_compile_to_outcomes(compiled):
    p = compiled["condition"].payload
    assert _task(p, "enough_rows")["condition_task"] == {
        "op": "GREATER_THAN_OR_EQUAL", "left": "{{tasks.count.values.rows}}", "right": "{{job.parameters.threshold}}"}
    assert _task(p, "publish")["depends_on"] == [{"task_key": "enough_rows", "outcome": "true"}]
    assert _task(p, "alert_team")["depends_on"] == [{"task_key": "enough_rows", "outcome": "false"}]


def test_for_each_inputs_and_input_references(compiled):
    p = compiled["for_each"].payload
    assert _task(p, "per_region")["for_each_task"]["inputs"] == '["eu","us","apac"]'
    assert _task(p, "per_param_region")["for_each_task"]["inputs"] == "{{job.parameters.regions}}"
    assert _task(p, "per_id")["for_each_task"]["inputs"] == "{{tasks.list_ids.values.ids}}"
    assert _task(p, "process_region")["notebook_task"]["base_parameters"] == {"region": "{{input}}"}
    assert _task(p, "query_id")["sql_task"]["parameters"] == {"id": "{{input.id}}", "name": "{{input.name}}"}
    assert _task(p, "etl_region")["environment_key"] == "default"  # the job's default compute reaches nested tasks


def test_git_source_sets_source_per_path(compiled):
    p = compiled["git_source"].payload
    assert _task(p, "repo_notebook")["notebook_task"] == {"notebook_path": "notebooks/report", "source": "GIT"}
    assert _task(p, "repo_script")["spark_python_task"] == {"python_file": "src/etl.py", "source": "GIT"}
    assert _task(p, "workspace_notebook")["notebook_task"]["source"] == "WORKSPACE"
    assert _task(p, "repo_dbt")["dbt_task"]["source"] == "GIT"
    assert _task(p, "generated_sql")["sql_task"]["file"]["source"] == "WORKSPACE"  # rendered and uploaded
    assert _task(p, "uploaded_function")["spark_python_task"]["source"] == "WORKSPACE"


def test_git_jobs_upload_no_repository_files(compiled):
    paths = [a.workspace_path for a in compiled["git_source"].artifacts]
    assert not any(p.endswith(("notebooks/report", "src/etl.py", "dbt_project/dbt_project.yml")) for p in paths)
    assert any(p.endswith("/sql/git_source/generated_sql.sql") for p in paths)
    assert any(p.endswith("/lib/flowdef_entry.py") for p in paths)


def test_library_init_script_and_dbt_files_are_uploaded(compiled):
    root = "/Workspace/Shared/.flowdef/kinds/test/files"
    compute = {a.workspace_path for a in compiled["compute"].artifacts}
    assert {f"{root}/dist/acme-1.0-py3-none-any.whl", f"{root}/requirements.txt", f"{root}/init/setup.sh",
            f"{root}/src/etl.py"} <= compute
    dbt = {a.workspace_path for a in compiled["dbt"].artifacts}
    assert dbt == {f"{root}/dbt_project/dbt_project.yml", f"{root}/dbt_project/models/one.sql"}
    task = _task(compiled["compute"].payload, "on_job_cluster")
    assert {"whl": f"{root}/dist/acme-1.0-py3-none-any.whl"} in task["libraries"]


def test_dbt_defaults_to_the_target_warehouse_unless_profiles_are_given(compiled):
    p = compiled["dbt"].payload
    assert _task(p, "transform")["dbt_task"]["warehouse_id"] == "wh0test"
    assert "warehouse_id" not in _task(p, "docs")["dbt_task"]


def test_sql_kinds_default_to_the_target_warehouse(compiled):
    assert _task(compiled["sql_query"].payload, "refresh_totals")["sql_task"]["warehouse_id"] == "wh0test"
    assert _task(compiled["sql_query"].payload, "on_other_warehouse")["sql_task"]["warehouse_id"] == "wh0other"
    assert _task(compiled["sql_alert"].payload, "low_stock")["sql_task"]["warehouse_id"] == "wh0test"
    assert "warehouse_id" not in _task(compiled["alert"].payload, "by_path")["alert_task"]  # the alert's own


def test_raw_fields_are_emitted_verbatim(compiled):
    p = compiled["raw_task"].payload
    assert _task(p, "train")["ai_runtime_task"]["deployments"][0]["compute"]["accelerator_type"] == "GPU_8xH100"
    assert _task(p, "gpu_notebook")["compute"] == {"hardware_accelerator": "GPU_1xA10"}
    settings = compiled["job_settings"].payload
    assert settings["performance_target"] == "STANDARD" and settings["budget_policy_id"] == "bp-0001"


def test_notifications_split_into_emails_webhooks_and_settings(compiled):
    p = compiled["job_settings"].payload
    assert p["email_notifications"] == {"on_failure": ["oncall@example.com"], "on_success": ["data@example.com"],
                                        "on_duration_warning_threshold_exceeded": ["oncall@example.com"]}
    assert p["webhook_notifications"] == {"on_failure": [{"id": "dest-pagerduty-1"}]}
    assert p["notification_settings"] == {"no_alert_for_skipped_runs": True, "no_alert_for_canceled_runs": True}
    task = _task(p, "report")
    assert task["notification_settings"] == {"alert_on_last_attempt": True}
    assert task["webhook_notifications"] == {"on_start": [{"id": "dest-slack-1"}]}
    assert p["health"] == {"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 3600}]}


# ----------------------------------------------------------------------------------------------------------------
# permissions and deploy-time placeholders


def test_permissions_are_an_acl_apart_from_the_payload(kinds, compiled):
    _, _, project = kinds
    jobs = {j.key: j for j in project.jobs}
    assert "permissions" not in compiled["job_settings"].payload
    assert "access_control_list" not in compiled["job_settings"].payload
    assert compiler.permissions(jobs["job_settings"]) == [
        {"permission_level": "CAN_VIEW", "user_name": "ana@example.com"},
        {"permission_level": "IS_OWNER", "service_principal_name": "6f1c2d3e-app-id"},
        {"permission_level": "CAN_MANAGE_RUN", "group_name": "data-eng"},
    ]
    assert compiler.permissions(jobs["notebook"]) is None


def test_run_job_and_pipeline_placeholders(compiled):
    body = compiled["run_job"].payload  # an exact jobs/create body: integers where the API has integers
    assert [t["run_job_task"]["job_id"] for t in body["tasks"]] == [0, 123456789, 0]
    assert dict(compiled["run_job"].deploy_time) == {
        "tasks[0].run_job_task.job_id": "${flowdef.jobs.notebook.id}",
        "tasks[2].run_job_task.job_id": "${flowdef.jobs.sql_file.id}",
    }
    p = compiled["run_job"].deploy_payload
    assert _task(p, "run_notebook_job")["run_job_task"]["job_id"] == "${flowdef.jobs.notebook.id}"
    assert _task(p, "run_by_id")["run_job_task"]["job_id"] == 123456789
    assert _task(p, "run_by_key")["run_job_task"]["job_id"] == "${flowdef.jobs.sql_file.id}"
    assert [(x.path, x.kind, x.name) for x in compiler.placeholders(p)] == [
        (("tasks", 0, "run_job_task", "job_id"), "job", "notebook"),
        (("tasks", 2, "run_job_task", "job_id"), "job", "sql_file"),
    ]
    assert compiler.deploy_references(p) == {"notebook", "sql_file"}
    done = compiler.resolve_deploy_references(p, {"notebook": 7, "sql_file": 8})
    assert _task(done, "run_notebook_job")["run_job_task"]["job_id"] == 7  # an int, as the API wants
    assert compiler.placeholders(done) == []
    with pytest.raises(KeyError, match="sql_file"):
        compiler.resolve_deploy_references(p, {"notebook": 7})

    assert compiled["pipeline"].payload == compiled["pipeline"].deploy_payload  # a string field keeps the text
    pipe = compiled["pipeline"].deploy_payload
    assert _task(pipe, "refresh_by_name")["pipeline_task"] == {"pipeline_id": "${flowdef.pipelines.claims silver.id}"}
    assert compiler.deploy_references(pipe) == set()
    with pytest.raises(compiler.UnresolvedPlaceholder, match="no pipeline named 'claims silver'"):
        compiler.resolve_placeholders(pipe)
    assert compiler.resolve_placeholders(pipe, strict=False) == pipe
    assert _task(resolved(compiled["pipeline"]), "refresh_by_name")["pipeline_task"]["pipeline_id"] == \
        "0a1b2c3d-claims-silver"


def test_job_completion_placeholders(compiled):
    p = compiled["trigger_job_completion"].payload
    assert p["trigger"]["job_completion"]["jobs"] == [
        {"job_id": "${flowdef.jobs.notebook.id}", "workspace_id": "${flowdef.workspace.id}"},
        {"job_id": "987654321", "workspace_id": "${flowdef.workspace.id}"},
    ]
    done = resolved(compiled["trigger_job_completion"])["trigger"]["job_completion"]["jobs"]
    assert done[0] == {"job_id": "1001", "workspace_id": str(FAKE_WORKSPACE_ID)}  # strings in this field


def test_placeholder_grammar():
    assert compiler.parse_placeholder("${flowdef.jobs.a.b.id}") == ("job", "a.b")
    assert compiler.parse_placeholder("${flowdef.pipelines.my pipeline.v2.id}") == ("pipeline", "my pipeline.v2")
    assert compiler.parse_placeholder("${flowdef.workspace.id}") == ("workspace", "")
    for text in ("x ${flowdef.jobs.a.id}", "{{job.id}}", "${var.x}", "${flowdef.jobs.a}", 42, None):
        assert compiler.parse_placeholder(text) is None


def test_example_pipelines_are_unchanged_by_the_new_surface():
    """The smart-claims payloads are pinned by tests/test_compile_golden.py; here only: no placeholders there."""
    config = load_config(path=ROOT / "pyproject.toml")
    project = load(config)
    for job in project.jobs:
        payload = compiler.compile_job(job, config.target("dev"), config).payload
        assert compiler.placeholders(payload) == []
        assert compiler.permissions(job) is None


def test_schema_helper_finds_the_documented_gaps():
    bundle = schema.load()
    if bundle is None:
        pytest.skip("no bundle schema")
    job_props = set(bundle.properties(schema.JOB_DEF))
    task_props = set(bundle.properties(schema.TASK_DEF))
    for field in ("edit_mode", "deployment", "format", "environment_variables", "duration_target"):
        assert field not in job_props  # the gaps jobs-api.md section 18 lists are still gaps in this snapshot
    assert {"permissions", "lifecycle"} <= job_props  # bundle-only
    assert not set(schema.TASK_SCHEMA_GAPS) & task_props
    top_level_gaps = {g for g in schema.JOB_SCHEMA_GAPS if "." not in g}  # nested ones: trigger.job_completion, ...
    assert schema.JOB_FIELDS - job_props == top_level_gaps
    assert schema.TASK_FIELDS - task_props == set(schema.TASK_SCHEMA_GAPS)


def test_schema_is_located_by_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(schema.SCHEMA_ENV, str(tmp_path / "nowhere.json"))
    assert schema.locate() is None and schema.load() is None
    real = Path(__file__).resolve().parents[2] / "shared" / "schemas" / schema.SCHEMA_NAME
    if real.is_file():
        monkeypatch.setenv(schema.SCHEMA_ENV, str(real))
        assert schema.locate() == real
