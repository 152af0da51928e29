"""Generated Python declares the same job: for every job of the example and the fixture projects (every task
kind, trigger, compute and setting), the module written from its model loads, validates like the original and
compiles to the same payload for every target; it is stable and laid out within 100 columns."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from flowdef.compile.compiler import compile_job
from flowdef.convert.codegen import job_module
from flowdef.load.config import load_config
from flowdef.load.loader import load
from flowdef.validate import validate_project
from tests.conftest import FIXTURES, ROOT

PROJECTS = {"example": ROOT, "good": FIXTURES / "good", "kinds": FIXTURES / "kinds"}


def _load(root: Path):
    here = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root)
        return config, load(config)
    finally:
        os.chdir(here)


def _plain(payload: dict) -> dict:
    return json.loads(json.dumps(payload))


def _regenerate(name: str, tmp_path: Path):
    """The project copied to ``tmp_path`` with every job module replaced by the generated one."""
    config, loaded = _load(PROJECTS[name])
    dest = tmp_path / name
    shutil.copytree(PROJECTS[name], dest, ignore=shutil.ignore_patterns(
        "__pycache__", "tests", "build", ".git", "flowdef", "benchmarks", "docs", "_flowdef"))
    for f in loaded.files:
        (dest / f.relative_to(PROJECTS[name])).unlink()
    sources = {}
    for job in loaded.jobs:
        generated = job_module(job)
        package = job.module.rpartition(".")[0]
        module = generated.module or (f"{package}.{job.key}" if package else f"{job.key}_job")
        path = dest / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        assert not path.exists(), f"two jobs in {module}"
        path.write_text(generated.source)
        sources[job.key] = generated.source
    return config, loaded, dest, sources


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_generated_modules_compile_to_the_same_payloads(name, tmp_path):
    config, loaded, dest, sources = _regenerate(name, tmp_path)
    config2, loaded2 = _load(dest)
    assert sorted(j.key for j in loaded2.jobs) == sorted(j.key for j in loaded.jobs)
    for target in config.targets:
        before = sorted((d.code, d.severity) for d in validate_project(loaded, target))
        after = sorted((d.code, d.severity) for d in validate_project(loaded2, config2.target(target.name)))
        assert after == before, [d for d in validate_project(loaded2, config2.target(target.name))][:5]
        for job in loaded.jobs:
            again = loaded2.job(job.key)
            assert again is not None
            assert _plain(compile_job(again, config2.target(target.name), config2).payload) == \
                _plain(compile_job(job, target, config).payload), (target.name, job.key)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_generated_code_is_stable_and_within_100_columns(name, tmp_path):
    config, loaded, dest, sources = _regenerate(name, tmp_path)
    _, loaded2 = _load(dest)
    for job in loaded2.jobs:
        assert job_module(job).source == sources[job.key], job.key  # generating from the generated: a fixpoint
    for key, source in sources.items():
        long = [line for line in source.splitlines() if len(line) > 100]
        assert long == [], (key, long)
        compile(source, key, "exec")


def test_the_example_reads_like_hand_written_code():
    _, loaded = _load(ROOT)
    source = job_module(loaded.job("smart_claims_bronze_to_silver")).source
    assert "trigger=Cron.daily(at=\"06:00\", timezone=\"America/Sao_Paulo\")," in source
    assert "compute=Environment(\"default\")," in source  # shared by every task that needs compute
    assert "params={\"duplicates_removed\": deduplicate_claims.values.duplicate_rows_removed}," in source
    assert "depends_on=[join_tables_create, join_tables_metrics]," in source
    assert "run_if=RunIf.AT_LEAST_ONE_SUCCESS," in source
    ingestion = job_module(loaded.job("smart_claims_ingestion")).source
    assert 'params={"catalog": job.params.catalog, "schema": job.params.schema},' in ingestion
