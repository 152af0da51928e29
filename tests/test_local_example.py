"""The smart-claims example on the local engine's data plane: exact counts derived from the generator's construction.

Tasks are driven here one after another in dependency order (each attempt in its own forked process, as the
engine runs them); run semantics (run_if, retries, repair) belong to the control plane and are tested there.
"""

from __future__ import annotations

import hashlib

import attrs
import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlframe")

from flowdef.load.config import load_config  # noqa: E402
from flowdef.load.loader import load  # noqa: E402
from flowdef.local.example_data import generate, landing_folder  # noqa: E402
from flowdef.local.isolation import run_isolated  # noqa: E402
from flowdef.local.project import attempt_request, prepare  # noqa: E402
from flowdef.local.workspace import LocalWorkspace  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

CATALOG = "smart_claims_dev"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """Generate the data, run both jobs' tasks; return the manifest, the results and the workspace."""
    data_dir = tmp_path_factory.mktemp("ws")
    config = load_config(ROOT)
    target = attrs.evolve(config.target("local"), data_dir=str(data_dir))
    project = load(config)
    manifest = generate(landing_folder(data_dir, CATALOG), claims=300)
    results, values = {}, {}
    for job_key in ("smart_claims_ingestion", "smart_claims_bronze_to_silver"):
        job = prepare(config, target, project.job(job_key))
        params = job.defaults()
        for task_key in job.tasks:
            result = run_isolated(attempt_request(job, task_key, params, values), timeout=60)
            values[task_key] = result.task_values
            results[task_key] = result
    return manifest, results, LocalWorkspace(data_dir)


def _query(workspace, sql):
    conn = workspace.connect()
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_every_task_succeeds(example_run):
    _, results, _ = example_run
    assert {k: (r.state, r.error) for k, r in results.items()} == {k: ("SUCCESS", None) for k in results}
    assert len(results) == 7


def test_bronze_has_every_row_of_both_claims_files(example_run):
    manifest, _, ws = example_run
    (rows,), = _query(ws, 'SELECT count(*) FROM smart_claims_dev."01_bronze".claims')
    assert rows == manifest.bronze_claims == 300 + 11 + 5 + 7
    # Spark's CSV reader without inferSchema: every column is a string, "null" stays the text "null"
    types = {t for (t,) in _query(ws, "SELECT data_type FROM information_schema.columns WHERE table_catalog = "
                                      "'smart_claims_dev' AND table_schema = '01_bronze' AND table_name = 'claims'")}
    assert types == {"VARCHAR"}
    (nulls,), = _query(ws, "SELECT count(*) FROM smart_claims_dev.\"01_bronze\".claims WHERE collision_type = 'null'")
    assert nulls > 0


def test_customers_and_policies_from_read_files(example_run):
    manifest, _, ws = example_run
    (customers,), = _query(ws, 'SELECT count(*) FROM smart_claims_dev."01_bronze".customers')
    (policies,), = _query(ws, 'SELECT count(*) FROM smart_claims_dev."01_bronze".policies')
    assert (customers, policies) == (manifest.customers, manifest.policies)
    columns = [c for (c,) in _query(ws, "SELECT column_name FROM information_schema.columns WHERE table_name = "
                                        "'customers' AND table_schema = '01_bronze' ORDER BY ordinal_position")]
    assert columns[-1] == "_rescued_data"  # read_files adds it when it infers the schema


def test_dedup_task_values_and_table(example_run):
    manifest, results, ws = example_run
    assert results["deduplicate_claims"].task_values == {
        "total_rows_before": manifest.bronze_claims,
        "unique_claims_before": manifest.unique_claims,
        "duplicate_rows_removed": manifest.duplicate_rows_removed,
        "total_rows_after": manifest.unique_claims,
    }
    assert manifest.duplicate_rows_removed == 16
    (rows,), = _query(ws, 'SELECT count(*) FROM smart_claims_dev."02_silver".claims_dedup')
    assert rows == manifest.unique_claims
    kept = dict(_query(ws, 'SELECT claim_no, claim_date FROM smart_claims_dev."02_silver".claims_dedup'))
    for claim_no, (first, later) in manifest.resent_claims.items():
        assert first < later and kept[claim_no] == later


def test_join_drops_orphans_and_gains_the_duplicated_policy_row(example_run):
    manifest, _, ws = example_run
    (rows, unique), = _query(ws, 'SELECT count(*), count(DISTINCT claim_no) FROM smart_claims_dev."02_silver".claims_enriched')
    assert unique == manifest.enriched_unique_claims == manifest.unique_claims - manifest.orphans
    assert rows == manifest.enriched_rows == unique + 1
    orphans = _query(ws, "SELECT count(*) FROM smart_claims_dev.\"02_silver\".claims_enriched WHERE claim_no IN ("
                     + ", ".join(f"'{c}'" for c in manifest.orphan_claims) + ")")
    assert orphans == [(0,)]
    products = _query(ws, "SELECT PRODUCT FROM smart_claims_dev.\"02_silver\".claims_enriched "
                          f"WHERE policy_no = '{manifest.duplicated_policy}' ORDER BY PRODUCT")
    assert len(products) == 2 and products[0] != products[1]


def test_metrics_and_sample_outputs(example_run):
    manifest, results, _ = example_run
    metrics = results["join_tables_metrics"]
    assert metrics.columns == ["total_rows", "unique_claims", "extra_rows_from_policy_duplicates",
                               "duplicates_removed_by_dedup"]
    assert metrics.rows == [[manifest.enriched_rows, manifest.enriched_unique_claims, 1, manifest.duplicate_rows_removed]]
    sample = results["join_tables_sample"]
    assert len(sample.rows) == 10 and "processed_at" in sample.columns
    keys = [r[sample.columns.index("claim_no")] for r in sample.rows]
    assert keys == sorted(keys)


def test_generator_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", claims=50)
    b = generate(tmp_path / "b", claims=50)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "a").iterdir()}
    assert digest == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "b").iterdir()}
    assert a == b
    assert (tmp_path / "a" / "claims_02.csv").read_text().endswith("\n\n\n")  # trailing blank lines planted
