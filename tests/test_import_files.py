"""``flowdef import FILE``: a payload becomes a module that compiles back to it.

- every golden payload and every fixture project's payload (as ``flowdef compile`` writes them, rendered SQL
  beside): imported into a project with the same config, the modules validate with no diagnostic at all and
  compile to the same payloads and the same SQL, byte for byte;
- random valid jobs (tests/test_properties' plans) and random jobs of every task kind (the wire round-trip
  strategy): ``compile(import(payload)) == payload``;
- ``jobs/get`` JSON, bundle YAML with ``${var.x}`` / ``${resources.jobs.x.id}``, and an exported bundle read back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowdef.cli import main
from flowdef.compile.compiler import compile_job
from flowdef.convert.importer import Source, convert, read_file
from flowdef.load.config import ProjectConfig, Target, load_config
from flowdef.load.loader import load
from flowdef.validate import validate_project
from tests import test_properties as props
from tests.conftest import FIXTURES, ROOT

pytest.importorskip("flowdef.wire.decode")
try:  # the wire round trip's strategy of jobs of every task kind (imported here: @given tests cannot nest)
    from tests import test_wire_roundtrip as wire
except ImportError:  # pragma: no cover - before the per-kind table landed
    wire = None  # type: ignore[assignment]

PROJECTS = {"example": (ROOT, "pyproject.toml"), "good": (FIXTURES / "good", "flowdef.toml"),
            "kinds": (FIXTURES / "kinds", "flowdef.toml")}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _compile(project: Path, target: str, out: Path) -> None:
    assert main(["-C", str(project), "compile", "--target", target, "--out", str(out)]) == 0


def _project_without_jobs(source: Path, dest: Path) -> None:
    """The project's own files (config, scripts, dbt project, wheels a Git job names), without its job modules
    and templates: what an import into that repository starts from."""
    config = load_config(source)
    jobs = {p.resolve() for p in load(config).files}
    skip = {"tests", "build", ".git", "flowdef", "benchmarks", "docs", "_flowdef", "__pycache__", config.templates}
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not set(rel.parts) & skip and path.resolve() not in jobs:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / rel)
    dest.mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_compiled_payloads_import_into_modules_that_compile_back(name, tmp_path, capsys):
    source, config_file = PROJECTS[name]
    config = load_config(source)
    for target in config.targets:
        built = tmp_path / f"built-{target.name}"
        _compile(source, target.name, built)
        fresh = tmp_path / f"fresh-{target.name}"
        _project_without_jobs(source, fresh)
        files = sorted(str(p) for p in built.glob("*.json"))
        assert main(["-C", str(fresh), "import", "--target", target.name, *files]) == 0, capsys.readouterr()
        out = capsys.readouterr().out
        assert out.count("compiles back to the same job") == len([f for f in files if ".deploy." not in f]), out
        assert "error[" not in out and "warning[" not in out, out
        again = tmp_path / f"again-{target.name}"
        assert main(["-C", str(fresh), "validate", "--strict", "--target", target.name]) == 0, capsys.readouterr()
        _compile(fresh, target.name, again)
        assert _tree(again) == _tree(built)


def test_golden_payloads_import_as_files(tmp_path, capsys):
    """The reviewed golden files themselves (example jobs for dev and prod)."""
    for target in ("dev", "prod"):
        fresh = tmp_path / target
        fresh.mkdir()
        shutil.copy(ROOT / "pyproject.toml", fresh / "pyproject.toml")
        golden = ROOT / "tests" / "golden" / target
        files = sorted(str(p) for p in golden.glob("*.json"))
        assert main(["-C", str(fresh), "import", "--target", target, *files]) == 0
        assert capsys.readouterr().out.count("compiles back to the same job") == 2
        config = load_config(fresh)
        loaded = load(config)
        for path in files:
            payload = json.loads(Path(path).read_text())
            job = loaded.job(payload["tags"]["flowdef_job"])
            assert json.loads(json.dumps(compile_job(job, config.target(target), config).payload)) == payload


# ----------------------------------------------------------------------------------------------------------------
# in process: payload -> module -> payload


def roundtrip(payload: dict, target: Target, project: str, tmp: Path, deploy_time: tuple = ()) -> tuple[dict, str]:
    config = ProjectConfig(root=tmp, project=project, targets=(target,), default_target=target.name)
    imported = convert(Source(payload, "test", deploy_time=deploy_time), config, target,
                       key=payload["tags"]["flowdef_job"])
    module = imported.module_path[:-3].replace("/", ".")
    namespace: dict = {"__name__": module}
    exec(compile(imported.source, imported.module_path, "exec"), namespace)  # noqa: S102 - our generated code
    model = namespace["job"].to_model(module=module)
    return json.loads(json.dumps(compile_job(model, target, config, render_sql=False).payload)), imported.source


# No shrinking: a failure prints its generated module (the assertion message), which is what one debugs from, and
# shrinking these jobs costs minutes of a shared CPU.
PROPS = settings(max_examples=40, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@PROPS
@given(data=st.data())
def test_random_valid_jobs_round_trip(data, tmp_path):
    plan = data.draw(props.plans())
    model = props.build(plan).to_model(module="tests.test_properties")
    target = props.TARGET
    payload = json.loads(json.dumps(compile_job(model, target, props.CONFIG, render_sql=False).payload))
    again, source = roundtrip(payload, target, props.CONFIG.project, tmp_path)
    assert again == payload, source


@PROPS
@given(data=st.data())
def test_random_jobs_of_every_kind_round_trip(data, tmp_path):
    if wire is None:
        pytest.skip("tests/test_wire_roundtrip.py is not there")
    job = data.draw(wire.jobs())
    target = Target("dev", root_path=data.draw(st.sampled_from(["/Workspace/Users/me/.flowdef/p/dev", "/Shared/p"])),
                    warehouse_id=data.draw(st.none() | st.just("wh1")))
    config = ProjectConfig(root=tmp_path, project="proj", targets=(target,))
    compiled = compile_job(attrs.evolve(job, module="gen.job"), target, config, render_sql=False)
    payload = json.loads(json.dumps(compiled.payload))
    deploy_time = tuple(getattr(compiled, "deploy_time", ()))
    again, source = roundtrip(payload, target, "proj", tmp_path, deploy_time)
    assert again == payload, source


def test_a_for_each_tasks_retry_interval_round_trips_to_the_millisecond(tmp_path):
    """A for-each task takes no retry= in the DSL, so import writes its retry as raw fields: in milliseconds
    rounded as the compiler rounds them (522.872 s is 522871.99999999994 ms as a float product; found by the
    random round trip above)."""
    from flowdef import Job, Retry

    job = Job("loop")
    job.for_each("each", inputs='["a","b"]', extra={"max_retries": 2, "min_retry_interval_millis": 522872}
                 ).notebook("inner", "/Workspace/x")
    model = job.to_model(module="gen.loop")
    target = props.TARGET
    payload = json.loads(json.dumps(compile_job(model, target, props.CONFIG, render_sql=False).payload))
    (task,) = [t for t in payload["tasks"] if t["task_key"] == "each"]
    assert task["min_retry_interval_millis"] == 522872
    again, source = roundtrip(payload, target, props.CONFIG.project, tmp_path)
    assert again == payload, source
    assert Retry(2, interval=522.872).interval * 1000 != 522872  # the trap: a float product, not the integer


# ----------------------------------------------------------------------------------------------------------------
# shapes


def test_jobs_get_json_and_a_bundle_with_references(tmp_path, capsys):
    (tmp_path / "flowdef.toml").write_text('project = "p"\n[targets.dev]\nmode = "production"\n')
    get = {"job_id": 77, "settings": {"name": "nightly", "parameters": [{"name": "env", "default": "dev"}],
                                      "tasks": [{"task_key": "a", "notebook_task": {
                                          "notebook_path": "/Workspace/x/a",
                                          "base_parameters": {"env": "{{job.parameters.env}}"}}}]}}
    (tmp_path / "get.json").write_text(json.dumps(get))
    (tmp_path / "b.yml").write_text("""
bundle: {name: b}
variables:
  catalog: {default: main}
targets:
  dev: {default: true}
resources:
  jobs:
    child:
      name: child
      parameters: [{name: catalog, default: "${var.catalog}"}]
      tasks:
        - task_key: load
          notebook_task:
            notebook_path: /Workspace/x/load
            base_parameters: {catalog: "${var.catalog}", who: "${workspace.current_user.userName}"}
    parent:
      name: parent
      tasks:
        - task_key: run_child
          run_job_task: {job_id: "${resources.jobs.child.id}"}
""")
    assert main(["-C", str(tmp_path), "import", "get.json", "b.yml"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    nightly = (tmp_path / "pipelines" / "nightly.py").read_text()
    assert 'params={"env": job.params.env}' in nightly
    child = (tmp_path / "pipelines" / "child.py").read_text()
    assert '"catalog": job.params.catalog' in child  # ${var.catalog} is the catalog parameter
    assert "${workspace.current_user.userName}" in child and "could not be resolved" in child
    assert "workspace.current_user.userName" in out
    parent = (tmp_path / "pipelines" / "parent.py").read_text()
    assert 'job.run_job("run_child", "child")' in parent  # ${resources.jobs.child.id}: a job reference
    assert main(["-C", str(tmp_path), "validate", "--strict"]) == 0


def test_an_exported_bundle_imports_back_to_the_same_payloads(example_project, tmp_path, capsys):
    from flowdef.convert import interpolate, yamlio

    bundle = tmp_path / "bundle"
    assert main(["export", "--target", "prod", "--out", str(bundle)]) == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(example_project / "pyproject.toml", fresh / "pyproject.toml")
    assert main(["-C", str(fresh), "import", "--target", "prod", str(bundle / "databricks.yml")]) == 0, \
        capsys.readouterr()
    capsys.readouterr()
    assert main(["-C", str(fresh), "validate", "--strict", "--target", "prod"]) == 0
    # what the bundle means for prod (resolved as the CLI does) is what the imported modules compile to, with
    # the bundle's folder as the target's root (its files are synced to ${workspace.file_path})
    docs = [yamlio.load((bundle / "databricks.yml").read_text())]
    docs += [yamlio.load(p.read_text()) for p in sorted((bundle / "resources").glob("*.yml"))]
    resolved = interpolate.resolve(docs, "prod")
    config = load_config(fresh)
    prod = config.target("prod")
    as_bundle = attrs.evolve(prod, root_path=resolved.file_path + "/_flowdef/prod")
    loaded = load(config)
    for key, payload in resolved.jobs:
        compiled = compile_job(loaded.job(key), as_bundle, config)
        assert json.loads(json.dumps(getattr(compiled, "deploy_payload", compiled.payload))) == payload, key
        for task_key, sql in compiled.sql:  # the rendered SQL came back as the project's templates
            assert sql == (bundle / "_flowdef" / "prod" / "sql" / key / f"{task_key}.sql").read_text()


def test_bad_input_is_one_line_naming_the_file(tmp_path, capsys):
    (tmp_path / "flowdef.toml").write_text('project = "p"\n')
    (tmp_path / "x.json").write_text("{not json")
    assert main(["-C", str(tmp_path), "import", "x.json"]) == 1
    assert "x.json: not JSON" in capsys.readouterr().err
    (tmp_path / "y.json").write_text('{"hello": 1}')
    assert main(["-C", str(tmp_path), "import", "y.json"]) == 1
    assert "neither a jobs/get JSON" in capsys.readouterr().err
    (tmp_path / "z.yml").write_text("resources: [\n")
    assert main(["-C", str(tmp_path), "import", "z.yml"]) == 1
    assert "z.yml:" in capsys.readouterr().err


def test_read_file_accepts_jobs_list_pages(tmp_path):
    page = {"jobs": [{"job_id": 1, "settings": {"name": "a", "tasks": []}},
                     {"job_id": 2, "settings": {"name": "b", "tasks": []}}]}
    (tmp_path / "list.json").write_text(json.dumps(page))
    assert [s.job_id for s in read_file(tmp_path / "list.json")] == [1, 2]
