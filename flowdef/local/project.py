"""From a project's job to what the local engine executes: the compiled payload, its files, attempt requests.

The payload is exactly what ``compile`` writes for the target (so a local run exercises the deployed shape);
its artifacts tell where each workspace path comes from: rendered SQL is written to
``<data_dir>/build/<job>/<task>.sql``, project files map to the project folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdef.local.attempt import AttemptRequest


@dataclass
class LocalJob:
    key: str
    payload: dict[str, Any]
    sources: dict[str, str]
    project_root: str
    root_path: str
    data_dir: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)  # rendered SQL's workspace path -> its template

    def defaults(self) -> dict[str, str]:
        return {p["name"]: str(p.get("default", "")) for p in self.payload.get("parameters") or []}


def data_dir_of(config: Any, target: Any) -> Path:
    from flowdef.local.example_data import local_data_dir

    return local_data_dir(config, target)


def prepare(config: Any, target: Any, job: Any) -> LocalJob:
    """Compile ``job`` for ``target`` and lay out its SQL in the target's local workspace."""
    from flowdef.compile.compiler import compile_job

    compiled = compile_job(job, target, config)
    data_dir = data_dir_of(config, target)
    build = data_dir / "build" / job.key
    build.mkdir(parents=True, exist_ok=True)
    sources: dict[str, str] = {}
    for artifact in compiled.artifacts:
        if artifact.source is not None:
            sources[artifact.workspace_path] = str(artifact.source)
        elif artifact.workspace_path.endswith(".sql"):
            local = build / Path(artifact.workspace_path).name
            data = artifact.data()
            if not local.exists() or local.read_bytes() != data:
                local.write_bytes(data)
            sources[artifact.workspace_path] = str(local)
    payload = json.loads(json.dumps(compiled.payload))
    return LocalJob(
        key=job.key, payload=payload, sources=sources, project_root=str(config.root),
        root_path=target.root_path, data_dir=str(data_dir),
        tasks={t["task_key"]: t for t in payload.get("tasks", [])}, templates=_templates(config, job, payload),
    )


def _templates(config: Any, job: Any, payload: dict[str, Any]) -> dict[str, str]:
    """The workspace path of each SQL file task's rendered file -> its template, relative to the project root."""
    from flowdef.compile.templates import template_path
    from flowdef.model.tasks import SqlFileTask

    by_key = {task.key: task for task in job.all_tasks()}
    out: dict[str, str] = {}
    for t in payload.get("tasks", []):
        nested = (t.get("for_each_task") or {}).get("task")
        for each in (t, nested) if nested else (t,):
            spec = by_key.get(each.get("task_key"))
            path = ((each.get("sql_task") or {}).get("file") or {}).get("path")
            if spec is not None and path and isinstance(spec.kind, SqlFileTask):
                try:
                    out[path] = str(template_path(config, spec.kind.template).relative_to(config.root))
                except ValueError:  # a templates folder outside the project: its full path
                    out[path] = str(template_path(config, spec.kind.template))
    return out


def attempt_request(job: LocalJob, task_key: str, job_params: dict[str, str],
                    task_values: dict[str, dict[str, Any]], *, stdout_path: str | None = None,
                    stderr_path: str | None = None) -> AttemptRequest:
    """The data plane's input for one attempt of ``task_key`` outside a run (a single task in a test), its
    references resolved by flowdef.runs' resolver, with ``task_values`` as the upstream tasks' values."""
    from flowdef.runs.values import Context, resolve_task

    ctx = Context(params=dict(job_params), values=task_values, job_name=job.key, task_key=task_key,
                  execution_count=1, states={k: "SUCCESS" for k in task_values})
    task = resolve_task(job.tasks[task_key], ctx)
    return AttemptRequest(
        task=task, job_params=dict(job_params), data_dir=job.data_dir, project_root=job.project_root,
        root_path=job.root_path, job_key=job.key, upstream_values=task_values, sources=job.sources,
        templates=job.templates, stdout_path=stdout_path, stderr_path=stderr_path,
    )
