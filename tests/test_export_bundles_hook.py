"""The ``python: resources:`` entry point, run by databricks-bundles' own resource-loading step, offline:
``python -m databricks.bundles.build --phase load_resources`` as the Databricks CLI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import attrs
import pytest

from flowdef.compile.compiler import compile_job
from flowdef.convert.bundle import BUNDLE_ROOT, GENERATED
from flowdef.load.config import load_config
from flowdef.load.loader import load
from tests.conftest import ROOT

pytest.importorskip("databricks.bundles.build")

HOOK = "flowdef.convert.bundles_hook:load_resources"


def _load_resources(project, target: str):
    """Run databricks-bundles' load_resources phase on an input like the CLI's; (exit code, bundle, diagnostics,
    locations)."""
    bundle = {"bundle": {"name": "smart_claims", "target": target}, "python": {"resources": [HOOK]},
              "resources": {"jobs": {"existing_yaml_job": {"name": "kept as it is"}}}}
    (project / "input.json").write_text(json.dumps(bundle))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "databricks.bundles.build", "--phase", "load_resources", "--input", "input.json",
         "--output", "output.json", "--diagnostics", "diagnostics.json", "--locations", "locations.json"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120)
    out = json.loads((project / "output.json").read_text())
    diags = [json.loads(line) for line in (project / "diagnostics.json").read_text().splitlines() if line]
    locations = [json.loads(line) for line in (project / "locations.json").read_text().splitlines() if line]
    return proc.returncode, out, diags, locations


def test_bundles_load_flowdef_jobs_as_job_resources(example_project):
    code, out, diags, locations = _load_resources(example_project, "dev")
    assert (code, diags) == (0, [])
    jobs = out["resources"]["jobs"]
    assert jobs["existing_yaml_job"] == {"name": "kept as it is"}  # the bundle's own resources are untouched
    config = load_config(example_project)
    target = config.target("dev")
    # What the bundle gets: flowdef's payload with paths in the synced _flowdef/<target>/ folder, and the name
    # prefix and trigger pausing left to the bundle's mode and presets.
    as_bundle = attrs.evolve(target, root_path=BUNDLE_ROOT, pause_triggers=False, name_prefix="")
    for job in load(config).jobs:
        expected = json.loads(json.dumps(compile_job(job, as_bundle, config).deploy_payload))
        assert jobs[job.key] == expected
        assert jobs[job.key]["tags"]["flowdef_target"] == "dev"
    assert {loc["path"]: (loc["file"], loc["line"]) for loc in locations} == {
        "resources.jobs.smart_claims_bronze_to_silver": ("pipelines/bronze_to_silver.py", 15),
        "resources.jobs.smart_claims_ingestion": ("pipelines/ingestion.py", 13),
    }
    generated = example_project / GENERATED / "dev"
    sql = generated / "sql" / "smart_claims_ingestion" / "ingest_customers.sql"
    assert "smart_claims_dev" in sql.read_text()
    assert (generated / "lib" / "flowdef_entry.py").is_file()
    assert (generated / "files" / "pipelines" / "scripts" / "ingestion_claim.py").is_file()


def test_bundle_target_picks_the_flowdef_target(example_project):
    code, out, diags, _ = _load_resources(example_project, "prod")
    assert (code, diags) == (0, [])
    task = out["resources"]["jobs"]["smart_claims_ingestion"]["tasks"][1]
    assert task["sql_task"]["warehouse_id"] == "prod0warehouse001"
    assert "smart_claims_prod" in (example_project / GENERATED / "prod" / "sql" / "smart_claims_ingestion"
                                   / "ingest_customers.sql").read_text()


def test_flowdef_problems_become_bundle_diagnostics_at_the_users_line(example_project):
    (example_project / "pipelines" / "broken.py").write_text(
        "from flowdef import Job\njob = Job('broken')\njob.notebook('a', '/x', depends_on=['missing'])\n")
    code, out, diags, _ = _load_resources(example_project, "dev")
    assert code == 1
    errors = [d for d in diags if d["severity"] == "error"]
    assert errors and all(d["summary"].startswith("flowdef: FD") for d in errors)
    assert any(d.get("location", {}).get("file", "").endswith("broken.py") and d["location"]["line"] == 3
               for d in errors), errors
    assert "smart_claims_ingestion" not in out.get("resources", {}).get("jobs", {})


def test_a_bundle_target_without_a_flowdef_target_is_one_clear_error(example_project):
    code, _, diags, _ = _load_resources(example_project, "staging")
    assert code == 1
    assert len(diags) == 1 and "bundle target 'staging' has no flowdef target" in diags[0]["summary"]
