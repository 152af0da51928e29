"""flowdef's jobs as bundle resources: the entry point for ``python: resources:`` in a ``databricks.yml``.

A team on Databricks Asset Bundles adopts flowdef job by job without leaving ``databricks bundle deploy``::

    # databricks.yml, in the flowdef project's root (next to pyproject.toml)
    python:
      venv_path: .venv
      resources:
        - "flowdef.convert.bundles_hook:load_resources"

While it loads the bundle, the Databricks CLI runs databricks-bundles, which calls ``load_resources(bundle)``
(the ``load_resources`` phase of ``databricks.bundles.build``).  It loads the flowdef project, validates it for the
flowdef target named like the bundle target (every problem becomes a bundle diagnostic at the user's line) and
returns each job as ``resources.jobs.<job key>``.  The files the jobs need (rendered SQL, project files, the
function-task runtime) are written to ``_flowdef/<target>/`` in the bundle folder, which the bundle syncs to
``${workspace.file_path}`` (see :mod:`flowdef.convert.bundle`).  The bundle's own ``mode`` and ``presets`` decide
name prefixes and paused triggers, so the jobs are handed over without flowdef's target name prefix.

databricks-bundles is imported here only, and only when the hook runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowdef.convert.bundle import GENERATED, BUNDLE_ROOT, _generic_payload, _Variables, bundle_target, job_resource


def load_resources(bundle: Any = None) -> Any:
    """The ``Resources`` of the flowdef project in the current folder, for the bundle's target."""
    from databricks.bundles.core import Location, Resources

    resources = Resources()
    try:
        jobs, diagnostics, files = bundle_jobs(Path.cwd(), getattr(bundle, "target", None))
    except Exception as exc:  # noqa: BLE001 - a config error, a broken project: one bundle diagnostic, no traceback
        resources.add_diagnostic_error(f"flowdef: {type(exc).__name__}: {exc}")
        return resources
    for severity, message, where in diagnostics:
        location = Location(file=where[0], line=where[1], column=where[2]) if where else None
        if severity == "error":
            resources.add_diagnostic_error(f"flowdef: {message}", location=location)
        else:
            resources.add_diagnostic_warning(f"flowdef: {message}", location=location)
    if any(severity == "error" for severity, _, _ in diagnostics):
        return resources
    write_files(Path.cwd(), files)
    for key, body, where in jobs:
        location = Location(file=where[0], line=where[1], column=where[2]) if where else None
        resources.add_job(key, body, location=location)
    return resources


def bundle_jobs(root: Path, target_name: str | None):
    """``(jobs, diagnostics, files)`` for the bundle target: jobs as ``(key, resource dict, where)``, diagnostics
    as ``(severity, message, where)``, files as ``(relative path, bytes)``.  Pure of databricks-bundles, so the
    mapping is testable without it."""
    from flowdef.compile.compiler import compile_job
    from flowdef.load.config import load_config
    from flowdef.load.loader import load
    from flowdef.validate import validate_project

    config = load_config(root)
    names = [t.name for t in config.targets]
    if target_name is not None and target_name not in names:
        return [], [("error", f"the bundle target {target_name!r} has no flowdef target of that name in "
                              f"{config.source or root}; flowdef targets: {', '.join(names)}", None)], []
    target = config.target(target_name)
    loaded = load(config)
    diagnostics = []
    for d in validate_project(loaded, target):
        where = (d.location.file, d.location.line, d.location.column) if d.location is not None else None
        diagnostics.append(("error" if d.is_error else "warning", f"{d.code}: {d.message}", where))
    if any(s == "error" for s, _, _ in diagnostics):
        return [], diagnostics, []
    variables = _Variables([target])
    keys = {j.key for j in loaded.jobs}
    jobs: list = []
    files: dict[str, bytes] = {}
    problems: list[str] = []
    for job in sorted(loaded.jobs, key=lambda j: j.key):
        compiled = compile_job(job, bundle_target(target), config)
        # Warehouses stay literal here (the bundle declares no variable for them); the placeholders become
        # bundle references, and the bundle's own mode and presets name and pause the jobs.
        generic = _generic_payload(compiled.deploy_payload, job, target, keys, variables, problems,
                                   warehouse_variable=False)
        generic["tags"]["flowdef_target"] = target.name
        for name, spec in variables.declared.items():
            if "lookup" in spec or name.startswith("workspace_id"):
                problems.append(f"job {job.key}: needs the bundle variable {name!r} ({spec['description']}); "
                                f"declare it in databricks.yml: variables: {name}: ...")
        for artifact in compiled.artifacts:
            rel = f"{GENERATED}/{target.name}{artifact.workspace_path[len(BUNDLE_ROOT):]}"
            if artifact.kind == "notebook" and artifact.source is not None:
                rel += artifact.source.suffix
            files[rel] = artifact.data()
        where = (job.location.file, job.location.line, job.location.column) if job.location is not None else None
        jobs.append((job.key, job_resource(job, generic), where))
    # A lookup variable the bundle declares is fine: report only what databricks.yml does not define.
    diagnostics += [("warning", p, None) for p in dict.fromkeys(problems)]
    return jobs, diagnostics, sorted(files.items())


def write_files(root: Path, files) -> int:
    """Write the generated files under the bundle folder, touching only what changed; returns how many."""
    written = 0
    for rel, data in files:
        path = root / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        written += 1
    return written
