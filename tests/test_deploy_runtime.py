"""The function-task runtime as deployed: copy the uploaded tree out of the fake workspace and run the uploaded
entry script the way Databricks would (spark_python_task parameters, {{job.parameters.x}} substituted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import function_project, managed_jobs

ROOT = "/Shared/.flowdef/fnproj/prod"


def test_uploaded_entry_script_runs_the_right_function_with_the_right_parameters(ws, cli, tmp_path):
    project = function_project(tmp_path)
    assert cli(project, "apply", "--target", "prod") == 0, cli.err
    (job_id,) = managed_jobs(ws, "fnproj", "prod")["fn_job"]
    settings = ws.get_job(job_id)

    # the workspace tree under the target root, as files on disk
    mirror = tmp_path / "workspace_root"
    with ws.state.lock:
        for path, obj in ws.state.files.items():
            if path.startswith(ROOT + "/") and obj.object_type == "FILE":
                dest = mirror / path[len(ROOT) + 1:]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(obj.content)
    assert (mirror / "lib" / "flowdef_entry.py").is_file()
    assert (mirror / "files" / "pipelines" / "fnjobs.py").is_file()

    task = next(t for t in settings["tasks"] if t["task_key"] == "produce")
    spt = task["spark_python_task"]
    assert spt["python_file"] == "/Workspace" + ROOT + "/lib/flowdef_entry.py"
    defaults = {p["name"]: p["default"] for p in settings["parameters"]}
    argv = []
    for arg in spt["parameters"]:
        for name, value in defaults.items():
            arg = arg.replace("{{job.parameters." + name + "}}", value)
        argv.append(arg)
    assert "{{" not in " ".join(argv)

    values = tmp_path / "task_values"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "DATABRICKS_"))}
    env["FLOWDEF_TASK_VALUES_DIR"] = str(values)
    run = subprocess.run([sys.executable, str(mirror / "lib" / "flowdef_entry.py"), *argv], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "task 'produce'" in run.stdout
    values_set = json.loads((values / "produce.json").read_text())
    assert values_set["result"] == "produce:main:3:full"  # job parameter defaults + the task's own parameter
    assert not (values / "other.json").exists()  # only the named function ran
    # and the flowdef runtime that ran is the uploaded copy, not the one of this checkout
    assert values_set["runtime"] == str(mirror / "lib" / "flowdef" / "__init__.py")
