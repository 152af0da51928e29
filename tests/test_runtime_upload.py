"""What is uploaded for function tasks is an explicit allow-list (compile/compiler.py RUNTIME_MODULES): exactly the
import closure of the runtime and of the builder a user's module imports, and importable on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from flowdef.compile.compiler import RUNTIME_MODULES, runtime_artifacts
from flowdef.load.config import Target
from tests.test_layers import all_modules


def _closure(starts: list[str]) -> set[str]:
    modules = all_modules()
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b.c runs a and a.b first
        todo += modules[name]
    return seen


def test_the_allow_list_is_exactly_what_the_runtime_and_the_builder_import():
    needed = _closure(["flowdef", "flowdef.runtime"])
    listed = set(RUNTIME_MODULES)
    assert not needed - listed, f"add to RUNTIME_MODULES (they are imported on the cluster): {sorted(needed - listed)}"
    assert not listed - needed, f"not needed on the cluster, remove from RUNTIME_MODULES: {sorted(listed - needed)}"


USER_MODULE = '''
from flowdef import Environment, Job

job = Job("demo", params={"day": "mon"}, compute=Environment("default"))


@job.task(values={"n": int})
def count(ctx):
    ctx.task_values.set("n", len(ctx.params["day"]))
'''

PROBE = '''
import json, os, sys
lib, files = sys.argv[1], sys.argv[2]
# nothing but the uploaded tree may provide flowdef: drop the editable install's finder and the checkout's paths
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                    and "editable" not in type(f).__name__.lower()]
sys.path[:] = [lib, files] + [p for p in sys.path if p and os.path.realpath(p) != os.path.realpath(os.getcwd())
                              and not os.path.exists(os.path.join(p, "flowdef", "__init__.py"))]
import flowdef.runtime
code = flowdef.runtime.main(["--job", "demo", "--task", "count", "--module", "pipelines.demo",
                             "--function", "count", "--param", "day=friday"])
loaded = {m: getattr(sys.modules[m], "__file__", None) for m in sys.modules if m.split(".")[0] == "flowdef"}
print(json.dumps({"code": code, "loaded": loaded}))
'''


def test_the_uploaded_tree_runs_a_function_task_on_its_own(tmp_path):
    lib, files = tmp_path / "root" / "lib", tmp_path / "root" / "files"
    for artifact in runtime_artifacts(Target("dev", root_path=str(tmp_path / "root"))):
        path = tmp_path / "root" / artifact.workspace_path[len(str(tmp_path / "root")) + 1:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(artifact.data())
    (files / "pipelines").mkdir(parents=True)
    (files / "pipelines" / "__init__.py").write_text("")
    (files / "pipelines" / "demo.py").write_text(textwrap.dedent(USER_MODULE))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["FLOWDEF_TASK_VALUES_DIR"] = str(tmp_path / "values")
    done = subprocess.run([sys.executable, "-s", "-c", PROBE, str(lib), str(files)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    outside = {m: f for m, f in result["loaded"].items() if not (f or "").startswith(str(lib) + os.sep)}
    assert not outside, f"imported from outside the uploaded tree: {outside}"
    assert set(result["loaded"]) <= set(RUNTIME_MODULES)
    assert json.loads((tmp_path / "values" / "count.json").read_text()) == {"n": 6}
