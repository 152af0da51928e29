"""flowdef.testing.local: a user's pytest suite runs jobs and single tasks on the local engine."""

from __future__ import annotations

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlframe")

from flowdef.local.example_data import generate  # noqa: E402


@pytest.fixture
def example(example_project, local_project):
    manifest = generate(local_project.volume("smart_claims_dev", "00_landing", "sql_server"), claims=100)
    return manifest, local_project


def test_run_a_whole_job_then_one_task_with_supplied_upstream_values(example):
    manifest, project = example
    ingest = project.run_job("smart_claims_ingestion")
    assert ingest.result == "SUCCESS" and set(ingest.states.values()) == {"SUCCESS"}
    assert "ingested %d claims" % manifest.bronze_claims in ingest["ingest_claims"].logs
    silver = project.run_job("smart_claims_bronze_to_silver")
    assert silver["deduplicate_claims"].task_values["duplicate_rows_removed"] == manifest.duplicate_rows_removed
    assert silver["join_tables_metrics"].records == [{
        "total_rows": manifest.enriched_rows, "unique_claims": manifest.enriched_unique_claims,
        "extra_rows_from_policy_duplicates": 1, "duplicates_removed_by_dedup": manifest.duplicate_rows_removed}]
    # one task, with the value its upstream task "would have" published: the reference is resolved from it
    metrics = project.run_task("smart_claims_bronze_to_silver", "join_tables_metrics",
                               upstream_values={"deduplicate_claims": {"duplicate_rows_removed": 1234}})
    assert metrics.state == "SUCCESS" and metrics.rows[0][-1] == 1234
    assert project.sql('SELECT count(*) FROM smart_claims_dev."02_silver".claims_enriched') == [(manifest.enriched_rows,)]


def test_a_task_with_chosen_job_parameters(example):
    _, project = example
    project.run_job("smart_claims_ingestion")
    project.run_task("smart_claims_bronze_to_silver", "deduplicate_claims")
    failed = project.run_task("smart_claims_bronze_to_silver", "join_tables_create",
                              params={"simulate_failure": "true"})
    assert failed.state == "FAILED" and "simulated failure" in failed.error
    run = project.run_job("smart_claims_bronze_to_silver", params={"simulate_failure": "true"})
    assert run.result == "FAILED"
    assert run.states == {"deduplicate_claims": "SUCCESS", "join_tables_create": "FAILED",
                          "join_tables_metrics": "UPSTREAM_FAILED", "join_tables_sample": "UPSTREAM_FAILED"}


def test_the_readme_example(example_project, local_project):
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "local_project" in b)
    namespace: dict = {}
    exec(block, namespace)
    namespace["test_metrics_use_the_dedup_count"](local_project)
