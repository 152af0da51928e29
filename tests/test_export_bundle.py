"""``flowdef export --format bundle``: the bundle validates against the official schema and means exactly the
payloads flowdef compiles, target by target, for the example and for the fixture projects (every task kind)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import attrs
import pytest

from flowdef.cli import main
from flowdef.compile.compiler import compile_job
from flowdef.convert import interpolate, yamlio
from flowdef.convert.bundle import GENERATED, export_bundle
from flowdef.jobsapi.schema import split_gaps
from flowdef.load.config import load_config
from flowdef.load.loader import load
from flowdef.validate import validate_project
from tests.conftest import FIXTURES, ROOT

SCHEMA = ROOT.parent.parent / "shared" / "schemas" / "bundle_jsonschema.json"
if not SCHEMA.is_file():
    SCHEMA = Path("/work/shared/schemas/bundle_jsonschema.json")
PROJECTS = {"example": ROOT, "good": FIXTURES / "good", "kinds": FIXTURES / "kinds"}


def _project(name: str):
    here = os.getcwd()
    os.chdir(PROJECTS[name])  # pipeline paths are relative to the working directory first
    try:
        config = load_config(PROJECTS[name])
        # a bundle deploys to workspaces; `engine = "local"` targets run on this machine and are not exported
        config = attrs.evolve(config, targets=tuple(t for t in config.targets if t.engine != "local"))
        return config, load(config)
    finally:
        os.chdir(here)


def _plain(value):
    return json.loads(json.dumps(value))


@pytest.fixture(scope="module", params=sorted(PROJECTS))
def exported(request):
    config, loaded = _project(request.param)
    for t in config.targets:
        assert not [d for d in validate_project(loaded, t) if d.is_error]
    result = export_bundle(config, loaded.jobs, list(config.targets), config.default_target)
    return config, loaded, result


def _docs(files: dict[str, bytes]) -> list[dict]:
    root = yamlio.load(files["databricks.yml"].decode(), "databricks.yml")
    return [root] + [yamlio.load(v.decode(), k) for k, v in sorted(files.items()) if k.startswith("resources/")]


def test_export_has_no_problems_and_one_resource_file_per_job(exported):
    config, loaded, result = exported
    assert result.problems == ()
    files = dict(result.files)
    assert sorted(k for k in files if k.startswith("resources/")) == sorted(
        f"resources/{j.key}.job.yml" for j in loaded.jobs)
    root = yamlio.load(files["databricks.yml"].decode())
    assert set(root["targets"]) == {t.name for t in config.targets}
    assert [n for n, t in root["targets"].items() if t.get("default")] == [config.default_target]
    for t in config.targets:
        entry = root["targets"][t.name]
        assert entry["mode"] == t.mode
        assert entry["workspace"]["root_path"] == t.root_path


def test_bundle_resolves_to_the_compiled_payloads_for_every_target(exported):
    """The bundle, resolved for a target as the CLI does (variables, presets, references), is what flowdef
    compiles for that target with the bundle's file path as root."""
    config, loaded, result = exported
    docs = _docs(dict(result.files))
    for t in config.targets:
        # a job-completion trigger needs the workspace id, which the user sets (flowdef's deploy looks it up)
        resolved = interpolate.resolve(docs, t.name, {"workspace_id": "${flowdef.workspace.id}"})
        assert resolved.unresolved == (), resolved.unresolved
        # the bundle's default file_path is <root_path>/files; flowdef's files sit in _flowdef/<target>/ there
        as_bundle = attrs.evolve(t, root_path=f"{t.root_path}/files/{GENERATED}/{t.name}")
        payloads = resolved.payloads()
        assert sorted(payloads) == sorted(j.key for j in loaded.jobs)
        for job in loaded.jobs:
            expected = _plain(compile_job(job, as_bundle, config).deploy_payload)  # references kept (ADR 0004)
            expected.pop("edit_mode", None)  # bundles own it (they deploy jobs UI_LOCKED)
            assert payloads[job.key] == expected, (t.name, job.key)


def test_generated_files_are_where_the_payloads_point(exported):
    config, loaded, result = exported
    files = dict(result.files)
    for t in config.targets:
        as_bundle = attrs.evolve(t, root_path=f"${{workspace.file_path}}/{GENERATED}/{t.name}")
        for job in loaded.jobs:
            compiled = compile_job(job, as_bundle, config)
            for a in compiled.artifacts:
                rel = a.workspace_path.replace("${workspace.file_path}/", "", 1)
                if a.kind == "notebook" and a.source is not None:
                    rel += a.source.suffix
                assert files[rel] == a.data()


@pytest.mark.skipif(not SCHEMA.is_file(), reason="the bundle JSON schema is not available")
def test_export_validates_against_the_bundle_schema(exported):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = _validator(jsonschema, schema)
    _, _, result = exported
    files = dict(result.files)
    merged = yamlio.load(files["databricks.yml"].decode())
    merged["resources"] = {"jobs": {}}
    for rel, data in files.items():
        if rel.startswith("resources/"):
            doc = yamlio.load(data.decode())
            for key, body in doc["resources"]["jobs"].items():
                # fields newer than the schema snapshot (documented in flowdef.jobsapi.schema) are not checked
                doc["resources"]["jobs"][key], _ = split_gaps(body)
            errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
            assert errors == [], (rel, errors[:5])
            merged["resources"]["jobs"].update(doc["resources"]["jobs"])
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(merged)]
    assert errors == [], errors[:5]


def _validator(jsonschema, schema):
    """The official schema, its ``\\p{L}`` / ``\\p{N}`` (Unicode letter / digit) patterns translated to Python's
    ``re`` (``[^\\W\\d_]`` / ``\\d``), so the ``${var...}`` interpolation branches are really checked."""
    import re

    from jsonschema import validators

    def pattern(validator, patrn, instance, schema):
        if validator.is_type(instance, "string"):
            python = patrn.replace("[\\p{L}\\p{N}]", "[^\\W_]").replace("\\p{L}", "[^\\W\\d_]")
            python = python.replace("\\p{N}", "\\d")
            assert "\\p" not in python, patrn
            if re.search(python, instance) is None:
                yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern})(schema)


def test_export_is_deterministic():
    config, loaded = _project("example")
    a = export_bundle(config, loaded.jobs, list(config.targets), "dev")
    b = export_bundle(config, loaded.jobs, list(config.targets), "dev")
    assert a == b


def test_example_maps_targets_to_variables_and_presets():
    config, loaded = _project("example")
    files = dict(export_bundle(config, loaded.jobs, list(config.targets), "dev").files)
    root = yamlio.load(files["databricks.yml"].decode())
    assert root["targets"]["dev"]["presets"] == {"name_prefix": "[dev] ", "trigger_pause_status": "PAUSED"}
    assert root["targets"]["dev"]["variables"] == {"catalog": "smart_claims_dev", "warehouse_id": "dev0warehouse0001"}
    assert root["targets"]["prod"]["variables"] == {"catalog": "smart_claims_prod", "warehouse_id": "prod0warehouse001"}
    ingestion = yamlio.load(files["resources/smart_claims_ingestion.job.yml"].decode())
    job = ingestion["resources"]["jobs"]["smart_claims_ingestion"]
    assert job["name"] == "smart_claims_ingestion"
    assert job["tags"]["flowdef_target"] == "${bundle.target}"
    assert job["trigger"]["file_arrival"]["url"] == "/Volumes/${var.catalog}/00_landing/sql_server/"
    assert job["parameters"][0] == {"default": "${var.catalog}", "name": "catalog"}
    text = files["resources/smart_claims_ingestion.job.yml"].decode()
    assert text.startswith("# Generated by `python -m flowdef export")
    assert max(len(line) for line in text.splitlines()) <= 120


def test_cli_export_bundle_and_json(example_project, tmp_path):
    out = tmp_path / "bundle"
    assert main(["export", "--out", str(out)]) == 0
    assert (out / "databricks.yml").is_file()
    assert (out / "resources" / "smart_claims_ingestion.job.yml").is_file()
    assert (out / GENERATED / "prod" / "sql" / "smart_claims_ingestion" / "ingest_customers.sql").is_file()
    assert main(["export", "--out", str(out)]) == 0  # idempotent
    single = tmp_path / "single"
    assert main(["export", "--target", "prod", "--out", str(single)]) == 0
    root = yamlio.load((single / "databricks.yml").read_text())
    assert list(root["targets"]) == ["prod"] and root["targets"]["prod"]["default"] is True
    assert not (single / GENERATED / "dev").exists()
    raw, compiled = tmp_path / "raw", tmp_path / "compiled"
    assert main(["export", "--format", "json", "--target", "prod", "--out", str(raw)]) == 0
    assert main(["compile", "--target", "prod", "--out", str(compiled)]) == 0
    produced = {p.relative_to(raw): p.read_bytes() for p in raw.rglob("*") if p.is_file()}
    expected = {p.relative_to(compiled): p.read_bytes() for p in compiled.rglob("*") if p.is_file()}
    assert produced == expected


def test_cli_export_refuses_an_invalid_project(example_project, tmp_path, capsys):
    (example_project / "pipelines" / "broken.py").write_text(
        "from flowdef import Job\njob = Job('broken')\njob.notebook('a', '/x', depends_on=['missing'])\n")
    out = tmp_path / "bundle"
    assert main(["export", "--out", str(out)]) == 1
    assert not out.exists()
    assert "broken.py:3" in capsys.readouterr().out


def test_pyyaml_stays_out_of_import_flowdef_and_validate():
    import subprocess
    import sys

    probe = ("import sys\nfrom flowdef.cli import main\nassert main(['validate']) == 0\n"
             "print('yaml' in sys.modules, 'databricks' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.split()[-2:] == ["False", "False"]
