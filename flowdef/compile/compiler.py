"""Compile the frozen model into Jobs API 2.2 ``jobs/create`` payloads: pure and deterministic.

The same model and target always give byte-identical JSON (``to_json``): sorted keys, tasks in declaration
order, environments and clusters sorted by key, no empty fields.  The compiler also lists the *artifacts* the
payload references (rendered SQL files, project Python files, notebooks, the function-task runtime), which
``compile`` writes for review and ``apply`` uploads.  No SDK import here; jinja2 only when SQL is rendered.

Workspace layout under a target's ``root_path``::

    <root>/files/...            project files (pipelines/, scripts, notebooks, wheels, dbt projects)
    <root>/lib/flowdef/...      the flowdef runtime used by function tasks
    <root>/lib/flowdef_entry.py the entry script of function tasks (spark_python_task)
    <root>/sql/<job>/<task>.sql rendered SQL templates

Paths and ``source``: without a Git source, relative paths are project files (uploaded; ``source: WORKSPACE``).
With ``Job(git=...)`` relative notebook / Python file / dbt paths are repository paths (``source: GIT``, not
uploaded); absolute paths and flowdef's own generated files stay ``WORKSPACE`` explicitly, because the service's
default becomes ``GIT`` once a job has a Git source.

Deploy-time substitutions (ADR 0004): what only the workspace knows is listed apart from the payload, by path,
as a placeholder the deployer resolves (``CompiledJob.deploy_time``; ``compile`` writes it to
``<job>.deploy.json``).  The payload itself stays a type-correct ``jobs/create`` body: string fields hold the
placeholder text, integer fields ``0``::

    ${flowdef.jobs.<job key>.id}          run_job_task.job_id (int: 0 in the payload); job_completion job_id (str)
    ${flowdef.pipelines.<name>.id}        pipeline_task.pipeline_id of a pipeline named by name (a str)
    ${flowdef.workspace.id}               job_completion trigger workspace_id when none is given (a str)

Permissions are not part of the payload: :func:`permissions` gives the access-control list to ``PUT`` after
the job exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import orjson

from flowdef._frozen import frozen
from flowdef.jobsapi.placeholders import (
    WORKSPACE_ID,
    Placeholder,
    UnresolvedPlaceholder,
    deploy_references,
    job_placeholder,
    parse_placeholder,
    pipeline_placeholder,
    placeholders,
    resolve_deploy_references,
    resolve_placeholders,
)
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.compute import ClusterSpec, JobCluster
from flowdef.model.spec import JobSpec
from flowdef.model.tasks import SqlFileTask
from flowdef.wire import kinds
from flowdef.wire.artifacts import Artifact
from flowdef.wire.encode import IDENTITY_TAGS, compute_of, job_payload, permissions, resolve_params
from flowdef.wire.tasks import ENTRY_SCRIPT, EXTERNAL, function_task_parameters, sql_workspace_path, workspace_path

__all__ = [
    "Artifact", "CompiledJob", "ENTRY_SCRIPT", "IDENTITY_TAGS", "Placeholder", "UnresolvedPlaceholder", "WORKSPACE_ID",
    "artifacts", "compile_job", "deploy_references", "function_task_parameters", "job_placeholder",
    "parse_placeholder", "payload", "permissions", "pipeline_placeholder", "placeholders", "resolve_deploy_references",
    "resolve_params", "resolve_placeholders", "runtime_artifacts", "split_deploy_time", "sql_workspace_path",
    "to_json", "with_placeholders",
]

FLOWDEF_DIR = Path(__file__).resolve().parent.parent


@frozen
class CompiledJob:
    """``payload`` is an exact, type-correct ``jobs/create`` body; ``deploy_time`` lists the values only the
    workspace knows, filled in by deploy (``{"tasks[0].run_job_task.job_id": "${flowdef.jobs.other.id}"}``;
    ADR 0004).  ``deploy_payload`` is the body with those placeholders in place, what deploy resolves."""

    key: str
    payload: dict
    artifacts: tuple[Artifact, ...] = ()
    sql: tuple[tuple[str, str], ...] = ()  # (task key, rendered SQL)
    deploy_time: tuple[tuple[str, str], ...] = ()  # (path in the payload, placeholder), in document order

    @property
    def deploy_payload(self) -> dict:
        return with_placeholders(self.payload, dict(self.deploy_time))


_COMPILED_FORMAT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def to_json(payload: dict) -> str:
    """The text of a compiled file: ``json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)`` and a
    final newline, written by orjson (json's indenting encoder is pure Python, 17x slower on a 1,000-task payload,
    and was the largest single cost of compiling a monorepo).  Byte for byte json's text, floats with an exponent
    aside (orjson writes ``1e-7`` where json writes ``1e-07``; floats reach a payload only through raw fields).
    What orjson refuses (an integer beyond 64 bits, a key that is not exactly ``str``) json writes itself."""
    try:
        return orjson.dumps(payload, option=_COMPILED_FORMAT).decode() + "\n"
    except orjson.JSONEncodeError:
        return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def payload(job: JobSpec, target: Target, config: ProjectConfig) -> dict:
    """The body of ``POST /api/2.2/jobs/create`` for this job and target with its deploy-time placeholders in
    place (:mod:`flowdef.wire.encode`); :func:`compile_job` splits them out (:func:`split_deploy_time`)."""
    return job_payload(job, target, config.project)


# ----------------------------------------------------------------------------------------------------------------
# deploy-time substitutions (ADR 0004)


def _path_text(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _path_parts(text: str) -> list:
    parts: list = []
    for piece in text.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        for index in rest.replace("]", "").split("[") if rest else ():
            parts.append(int(index))
    return parts


def split_deploy_time(encoded: dict) -> tuple[dict, dict[str, str]]:
    """``(body, substitutions)`` of an encoded payload: every deploy-time placeholder listed by its path, and in
    the body a value of the field's API type — the placeholder text itself in string fields (readable, and no
    service id looks like it), ``0`` in integer fields (``run_job_task.job_id``; no job has id 0, so an unresolved
    body is rejected by the service instead of running some other job)."""
    from flowdef.jobsapi import fields

    found = placeholders(encoded)
    if not found:
        return encoded, {}
    body = json.loads(json.dumps(encoded))
    substitutions: dict[str, str] = {}
    for p in found:
        node = body
        for part in p.path[:-1]:
            node = node[part]
        substitutions[_path_text(p.path)] = node[p.path[-1]]
        if fields.type_at(p.path) == "int":
            node[p.path[-1]] = 0
    return body, substitutions


def with_placeholders(body: dict, substitutions: dict[str, str]) -> dict:
    """The inverse of :func:`split_deploy_time`: the body with each substitution's placeholder at its path."""
    if not substitutions:
        return body
    out = json.loads(json.dumps(body))
    for path, placeholder in substitutions.items():
        parts = _path_parts(path)
        node = out
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = placeholder
    return out


# ----------------------------------------------------------------------------------------------------------------
# artifacts


def _project_files(config: ProjectConfig) -> list[Path]:
    files: list[Path] = []
    for folder in config.pipelines:
        base = config.root / folder
        if base.is_dir():
            files += [p for p in base.rglob("*.py") if "__pycache__" not in p.parts]
        elif base.is_file():
            files.append(base)
    return sorted(set(files))


# What function tasks need on the cluster, listed explicitly so that no new module ships unnoticed: the runtime
# (``flowdef.runtime``, started by the entry script) and the builder that the user's module imports there
# (``from flowdef import Job``), with exactly the modules these import, lazily or not.  tests/test_runtime_upload.py
# derives this set from the import graph (a module added to it fails the test until it is listed here) and imports
# the uploaded tree on its own, without the source checkout.
RUNTIME_MODULES = (
    "flowdef",
    "flowdef._check",
    "flowdef._frozen",
    "flowdef._location",
    "flowdef.diagnostics",
    "flowdef.dsl",
    "flowdef.dsl.check",
    "flowdef.dsl.declare",
    "flowdef.dsl.handles",
    "flowdef.dsl.job",
    "flowdef.dsl.refs",
    "flowdef.errors",
    "flowdef.jobsapi",
    "flowdef.jobsapi.facts",
    "flowdef.jobsapi.refs",
    "flowdef.model",
    "flowdef.model.compute",
    "flowdef.model.settings",
    "flowdef.model.spec",
    "flowdef.model.tasks",
    "flowdef.model.triggers",
    "flowdef.runtime",
)


def runtime_module_file(module: str) -> Path:
    """The source file of one of :data:`RUNTIME_MODULES`, relative to the folder that holds ``flowdef/``."""
    rel = Path(*module.split("."))
    return rel / "__init__.py" if (FLOWDEF_DIR.parent / rel).is_dir() else rel.with_suffix(".py")


def runtime_artifacts(target: Target) -> list[Artifact]:
    """The entry script and the flowdef modules of :data:`RUNTIME_MODULES`, as function tasks need them."""
    out = [Artifact(f"{target.root_path}/{ENTRY_SCRIPT}", "file", FLOWDEF_DIR / "runtime" / "entry_script.py")]
    for rel in sorted(runtime_module_file(m).as_posix() for m in RUNTIME_MODULES):
        out.append(Artifact(f"{target.root_path}/lib/{rel}", "file", FLOWDEF_DIR.parent / rel))
    return out


class _Artifacts:
    """The :class:`flowdef.wire.artifacts.ArtifactContext` of one job: the project root, its rendered SQL, and
    the runtime function tasks need (the project's pipeline files are added once, after every task's own files)."""

    def __init__(self, target: Target, config: ProjectConfig, sql: dict[str, str]) -> None:
        self.root = config.root
        self.sql = sql
        self.target = target
        self.needs_project = False

    def runtime(self) -> list[Artifact]:
        self.needs_project = True
        return runtime_artifacts(self.target)


def artifacts(job: JobSpec, target: Target, config: ProjectConfig, sql: dict[str, str]) -> list[Artifact]:
    out: dict[str, Artifact] = {}
    ctx = _Artifacts(target, config, sql)

    def add_script(script: str) -> None:
        if not script.startswith(EXTERNAL):
            out[workspace_path(target, script)] = Artifact(workspace_path(target, script), "file", config.root / script)

    for task in job.all_tasks():
        kind = task.kind
        for art in kinds.entry(kind).artifacts(job, task, kind, target, ctx):
            out[art.workspace_path] = art
        for lib in task.libraries:
            if lib.is_path and not lib.value.startswith(EXTERNAL):
                out[workspace_path(target, lib.value)] = Artifact(workspace_path(target, lib.value), "file",
                                                                  config.root / lib.value)
        compute = compute_of(job, task)
        spec = compute.spec if isinstance(compute, JobCluster) else compute if isinstance(compute, ClusterSpec) \
            else None
        for script in spec.init_scripts if spec is not None else ():
            add_script(script)
    for cluster in job.job_clusters:
        for script in cluster.spec.init_scripts:
            add_script(script)
    if ctx.needs_project:
        for path in _project_files(config):
            rel = os.path.relpath(path, config.root)
            out.setdefault(workspace_path(target, rel), Artifact(workspace_path(target, rel), "file", path))
    return [out[k] for k in sorted(out)]


def compile_job(job: JobSpec, target: Target, config: ProjectConfig, *, render_sql: bool = True) -> CompiledJob:
    """Payload, artifacts and rendered SQL of one job.  Validate first: compile assumes a valid model."""
    sql: dict[str, str] = {}
    if render_sql:
        sql_tasks = [t for t in job.all_tasks() if isinstance(t.kind, SqlFileTask)]
        if sql_tasks:
            from flowdef.compile import templates
            for task in sql_tasks:
                sql[task.key] = templates.render(config, job, task, target)
    body, deploy_time = split_deploy_time(payload(job, target, config))
    return CompiledJob(
        key=job.key,
        payload=body,
        artifacts=tuple(artifacts(job, target, config, sql)),
        sql=tuple(sorted(sql.items())),
        deploy_time=tuple(deploy_time.items()),
    )


def compile_files(jobs: Sequence[JobSpec], target: Target, config: ProjectConfig) -> dict[str, str]:
    """What ``flowdef compile`` writes, relative file name -> content, in job-key order: per job
    :func:`job_files`."""
    files: dict[str, str] = {}
    for job in sorted(jobs, key=lambda j: j.key):
        files.update(job_files(job, target, config))
    return files


def job_files(job: JobSpec, target: Target, config: ProjectConfig) -> dict[str, str]:
    """``<job>.json`` (the ``jobs/create`` body), ``<job>.deploy.json`` when deploy fills in values only the
    workspace knows (ADR 0004) and the rendered SQL files ``<job>/<task>.sql``."""
    compiled = compile_job(job, target, config)
    files = {f"{job.key}.json": to_json(compiled.payload)}
    if compiled.deploy_time:  # the payload alone is an exact jobs/create body
        files[f"{job.key}.deploy.json"] = to_json(dict(compiled.deploy_time))
    for task_key, sql in compiled.sql:
        files[f"{job.key}/{task_key}.sql"] = sql
    return files
