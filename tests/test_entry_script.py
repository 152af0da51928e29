"""The function-task runtime is real: the entry script runs in a subprocess with exactly the compiled arguments."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from flowdef.compile.compiler import compile_job
from flowdef.load.config import load_config
from flowdef.load.loader import load

PROJECT = {
    "flowdef.toml": (
        'project = "demo"\n[targets.dev]\nroot_path = "/Workspace/Shared/demo/dev"\nwarehouse_id = "w1"\n'
        "[targets.dev.params]\nregion = \"eu-west\"\n"
    ),
    "pipelines/__init__.py": "",
    "pipelines/helpers.py": "def greeting(name):\n    return f'hello {name}'\n",
    "pipelines/demo.py": '''
from flowdef import Environment, Job
from pipelines.helpers import greeting

job = Job("demo", params={"region": "us-east", "day": "2026-01-01"}, compute=Environment("default"))


@job.task(values={"message": str, "param_count": int})
def first(ctx):
    ctx.task_values.set("message", greeting(ctx.params["region"]) + " on " + ctx.params["day"])
    ctx.task_values.set("param_count", len(ctx.params))


@job.task(depends_on=[first], params={"limit": 10, "upstream": first.values.message})
def second(ctx):
    import flowdef.runtime

    ctx.task_values.set("seen", dict(ctx.params))
    ctx.task_values.set("runtime", flowdef.runtime.__file__)
''',
}


def _write(root: Path) -> None:
    for rel, text in PROJECT.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _materialise(compiled, root_path: str, dest: Path) -> None:
    """Lay the artifacts out as `apply` would upload them under the target's root path."""
    for artifact in compiled.artifacts:
        rel = artifact.workspace_path[len(root_path) + 1:]
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(artifact.data())


def _substitute(argv: list[str], values: dict[str, str]) -> list[str]:
    """What the Jobs service does before the task starts: replace {{...}} references."""
    return [re.sub(r"\{\{([^}]+)\}\}", lambda m: values[m.group(1)], a) for a in argv]


def test_entry_script_runs_the_right_function_with_the_compiled_arguments(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write(src)
    monkeypatch.chdir(src)
    config = load_config(src)
    target = config.target("dev")
    project = load(config)
    assert not project.diagnostics
    (job,) = project.jobs
    compiled = compile_job(job, target, config)
    tasks = {t["task_key"]: t for t in compiled.payload["tasks"]}

    # Run in a tree that contains only the uploaded artifacts: no access to the source checkout or site flowdef.
    workspace = tmp_path / "workspace"
    _materialise(compiled, target.root_path, workspace)
    values_dir = tmp_path / "task_values"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["FLOWDEF_TASK_VALUES_DIR"] = str(values_dir)

    refs = {"job.parameters.region": "eu-west", "job.parameters.day": "2026-11-26"}
    for key in ("first", "second"):
        spark_python_task = tasks[key]["spark_python_task"]
        assert spark_python_task["python_file"] == "/Workspace/Shared/demo/dev/lib/flowdef_entry.py"
        script = workspace / "lib" / "flowdef_entry.py"
        if key == "second":
            first_values = json.loads((values_dir / "first.json").read_text())
            refs["tasks.first.values.message"] = first_values["message"]
        argv = _substitute(spark_python_task["parameters"], refs)
        # run from an unrelated folder with an isolated interpreter path: the script must bootstrap itself
        done = subprocess.run([sys.executable, "-s", str(script), *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"task '{key}'" in done.stdout

    first = json.loads((values_dir / "first.json").read_text())
    assert first == {"message": "hello eu-west on 2026-11-26", "param_count": 2}
    second = json.loads((values_dir / "second.json").read_text())
    assert second["seen"] == {
        "region": "eu-west", "day": "2026-11-26", "limit": "10", "upstream": "hello eu-west on 2026-11-26",
    }
    # the runtime that ran is the uploaded copy (first on sys.path), not the checkout or an installed flowdef
    assert second["runtime"] == str(workspace / "lib" / "flowdef" / "runtime" / "__init__.py")


def test_undeclared_task_value_fails_the_task(tmp_path):
    from flowdef.runtime import TaskContext, TaskValueError, TaskValues

    ctx = TaskContext(job="j", task="t", task_values=TaskValues("t", {"rows": "int"}))
    ctx.task_values.set("rows", 3)
    for bad in (("other", 1), ("rows", "3")):
        try:
            ctx.task_values.set(*bad)
        except TaskValueError as exc:
            assert "rows" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
