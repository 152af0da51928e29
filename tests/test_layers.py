"""Layers point one way: read every module's imports (module level and inside functions) with ``ast``.

The pipeline, bottom to top (a module may import only from its own rank or below):

    0  _frozen _location _check errors diagnostics jobsapi quartz   facts and plumbing (and the DSL's type check)
    1  model                                                  the frozen intent model
    2  dsl graph                                              the builder; the one graph module
    3  load                                                   config + importing the user's modules
    4  wire                                                   encode/decode task JSON
    5  compile                                                pure model -> payloads
    6  validate                                               collected diagnostics
    7  deploy testing runs operate local convert              talking to (fake) workspaces, running
    8  cli                                                    argument parsing, printing, exit codes
    9  __main__

``flowdef/__init__`` is the public API facade: it may import only the builder side (model, dsl, errors, runtime).
``runtime`` is uploaded to clusters: it may import only itself and ``jobsapi.facts`` (standard library only).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = Path(ROOT) / "flowdef"
RANK = {
    "_frozen": 0, "_location": 0, "_check": 0, "errors": 0, "diagnostics": 0, "jobsapi": 0, "quartz": 0,
    "model": 1,
    "dsl": 2, "graph": 2,
    "load": 3,
    "wire": 4,
    "compile": 5,
    "validate": 6,
    "deploy": 7, "testing": 7, "runs": 7, "operate": 7, "local": 7, "convert": 7,
    "cli": 8,
    "__main__": 9,
}
FACADE_MAY_IMPORT = {"model", "dsl", "errors", "runtime"}
RUNTIME_MAY_IMPORT = {"flowdef.jobsapi", "flowdef.jobsapi.facts"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def flowdef_imports(path: Path) -> set[str]:
    """Every ``flowdef`` module a file imports, relative imports resolved, lazy (in-function) ones included."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "flowdef" or target.startswith("flowdef."):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names if (PACKAGE.parent / target.replace(".", "/")
                                                                           / a.name).is_dir()
                             or (PACKAGE.parent / target.replace(".", "/") / f"{a.name}.py").is_file())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name == "flowdef" or a.name.startswith("flowdef."))
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(facade)"


def all_modules() -> dict[str, set[str]]:
    return {module_name(p): flowdef_imports(p) for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def test_every_layer_has_a_rank():
    unknown = {layer(m) for m in all_modules()} - set(RANK) - {"(facade)", "runtime"}
    assert not unknown, f"give these packages a rank in tests/test_layers.py: {sorted(unknown)}"


def test_imports_point_down_the_pipeline():
    wrong = []
    for module, imports in all_modules().items():
        here = layer(module)
        for imported in imports:
            there = layer(imported)
            if there == "(facade)" or here == "runtime" or there == "runtime":
                continue  # the facade and the runtime have their own rules below
            if here == "(facade)":
                if there not in FACADE_MAY_IMPORT:
                    wrong.append(f"{module} -> {imported}")
            elif RANK[there] > RANK[here]:
                wrong.append(f"{module} (rank {RANK[here]}) -> {imported} (rank {RANK[there]})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


def test_only_main_imports_the_cli():
    wrong = [f"{m} -> {i}" for m, imports in all_modules().items() for i in imports
             if layer(i) == "cli" and layer(m) not in ("cli", "__main__")]
    assert not wrong, wrong


def test_the_runtime_imports_only_itself_and_the_api_facts():
    wrong = [f"{m} -> {i}" for m, imports in all_modules().items() if layer(m) == "runtime" for i in imports
             if layer(i) != "runtime" and i not in RUNTIME_MAY_IMPORT]
    assert not wrong, wrong


def test_no_import_cycles_between_modules():
    """Module-level imports only (a lazy import inside a function cannot deadlock an import)."""
    import networkx as nx

    graph = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        graph.add_node(name)
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                mod = ".".join(x for x in (base, node.module or "") if x)
                # `from package import submodule` needs the submodule, not the package's own names
                subs = [f"{mod}.{a.name}" for a in node.names if _is_module(f"{mod}.{a.name}")]
                targets = subs if len(subs) == len(node.names) else [mod, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t.startswith("flowdef.") and t != name:
                    graph.add_edge(name, t)
    cycles = [c for c in nx.simple_cycles(graph) if not any(m == "flowdef" for m in c)]
    assert not cycles, cycles


def test_validation_and_compile_take_model_values_not_the_loader():
    """validate(jobs, config, target) and compile_job(job, target, config) need no loaded project: the loader
    (which imports user code) is never imported by them."""
    import subprocess
    import sys

    probe = ("import sys, flowdef.validate, flowdef.compile.compiler\n"
             "print('flowdef.load.loader' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_validate_runs_on_model_values_alone(tmp_path):
    from flowdef import Job
    from flowdef.load.config import ProjectConfig, Target
    from flowdef.validate import validate

    target = Target("dev", warehouse_id="w")
    job = Job("a")
    job.notebook("n", "/Workspace/nb", depends_on=[])
    twin = Job("a")
    twin.notebook("n", "/Workspace/nb")
    config = ProjectConfig(root=tmp_path, project="p", targets=(target,))
    codes = [d.code for d in validate([job.to_model("m"), twin.to_model("m")], config, target)]
    assert codes == ["FD003"]  # the duplicate job name, found without any loader
