"""The Jobs API field/type table shipped in the package, and every compiled payload checked against it.

* the table is what ``python -m tests.tools.gen_fields`` generates from the installed databricks-sdk (skipped when
  the SDK is missing): an SDK upgrade that changes the API surface makes this test fail until it is regenerated;
* every payload flowdef compiles — the golden files, the fixture projects, the example project, for each target —
  has the API's field *types* (``JobSettings.from_dict`` does not check them), with no unknown field;
* validation reads no file outside the package at run time.
"""

from __future__ import annotations

import json

import pytest

from flowdef.compile.compiler import compile_job
from flowdef.jobsapi import fields
from flowdef.load.config import load_config
from flowdef.load.loader import load
from tests.conftest import FIXTURES, ROOT

GOLDEN = ROOT / "tests" / "golden"


def test_the_table_is_generated_from_the_installed_sdk():
    pytest.importorskip("databricks.sdk.service.jobs")
    from tests.tools import gen_fields

    assert gen_fields.render() == gen_fields.OUT.read_text(encoding="utf-8"), \
        "flowdef/jobsapi/fields_table.py is stale: run python -m tests.tools.gen_fields"


def test_the_table_knows_the_fields_flowdef_writes():
    assert fields.type_at(("tasks", 0, "run_job_task", "job_id")) == "int"
    assert fields.type_at(("tasks", 0, "for_each_task", "task", "notebook_task", "base_parameters", "x")) == "str"
    assert fields.type_at(("tags", "team")) == "str"
    assert fields.type_at(("nope",)) is None
    assert {"name", "tasks", "trigger", "environments", "job_clusters"} <= fields.field_names(fields.JOB)


def test_the_checker_reports_types_enums_unknown_and_required_fields():
    problems = fields.check({
        "name": 3, "max_concurrent_runs": True, "performance_target": "standard", "tags": {"a": 1},
        "tasks": [{"task_key": "t", "run_job_task": {"job_id": "${flowdef.jobs.x.id}"}, "max_retriess": 1},
                  {"notebook_task": {}}],
    }, fields.JOB)
    got = {(p.path, p.validator) for p in problems}
    assert got == {
        ("name", "type"), ("max_concurrent_runs", "type"), ("performance_target", "enum"), ("tags.a", "type"),
        ("tasks[0].run_job_task.job_id", "type"), ("tasks[0].max_retriess", "unknown"),
        ("tasks[1]", "required"), ("tasks[1].notebook_task", "required"),
    }
    enum = next(p for p in problems if p.validator == "enum")
    assert enum.suggestion == "STANDARD"
    unknown = next(p for p in problems if p.validator == "unknown")
    assert "did you mean 'max_retries'?" in unknown.message
    assert fields.check(1.5, "float") == [] and fields.check(2, "float") == []
    assert [p.message for p in fields.check(True, "int")] == ["True is not of type integer"]


def _golden_payloads():
    return sorted(p for p in GOLDEN.rglob("*.json") if not p.name.endswith(".deploy.json"))


@pytest.mark.parametrize("path", _golden_payloads(), ids=lambda p: str(p.relative_to(GOLDEN)))
def test_golden_payloads_have_the_api_types(path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert fields.check(payload, fields.JOB) == []


def _projects():
    good = load_config(path=FIXTURES / "good" / "flowdef.toml")
    kinds = load_config(path=FIXTURES / "kinds" / "flowdef.toml")
    example = load_config(path=ROOT / "pyproject.toml")
    return [(config, target.name) for config in (good, kinds, example) for target in config.targets]


@pytest.mark.parametrize("config,target", _projects(), ids=lambda v: getattr(v, "project", v))
def test_fixture_projects_compile_to_the_api_types(config, target):
    good = config.root == FIXTURES / "good"  # the good corpus names its modules (pipelines = ["."])
    project = load(config, [str(p) for p in sorted(config.root.glob("*.py"))] if good else None)
    assert not project.diagnostics
    assert project.jobs
    for job in project.jobs:
        compiled = compile_job(job, config.target(target), config)
        assert fields.check(compiled.payload, fields.JOB) == [], job.key
        for path, placeholder in compiled.deploy_time:  # each substitution names a field the table knows
            assert placeholder.startswith("${flowdef.")
            assert fields.type_at(_parts(path)) in ("int", "str"), path


def _parts(path: str) -> tuple:
    from flowdef.compile.compiler import _path_parts

    return tuple(_path_parts(path))


def test_validation_reads_no_file_outside_the_package(tmp_path, monkeypatch):
    """The raw-field check works from the table alone: no schema file, no ../shared."""
    import builtins

    monkeypatch.setenv("FLOWDEF_BUNDLE_SCHEMA", str(tmp_path / "absent.json"))
    monkeypatch.setenv("FLOWDEF_NO_CACHE", "1")  # FD605's cache file (~/.cache/flowdef/literals/*.json) is no schema
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    (tmp_path / "flowdef.toml").write_text('project = "p"\npipelines = ["defs.py"]\ndefault_target = "t"\n'
                                          '[targets.t]\nroot_path = "/Workspace/p"\n')
    (tmp_path / "defs.py").write_text('from flowdef import Job\njob = Job("j", extra={"budget_policy_id": 4})\n'
                                      'job.notebook("n", "/Workspace/nb")\n')
    from flowdef.validate import validate_project

    config = load_config(path=tmp_path / "flowdef.toml")
    diags = validate_project(load(config), config.target(None))
    assert [d.code for d in diags] == ["FD512"]
    assert not [f for f in opened if "shared" in f or f.endswith(".json")]
