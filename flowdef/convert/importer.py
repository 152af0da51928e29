"""Existing jobs into flowdef modules: read them (files or a workspace), decode, write Python.

The pipeline of ``python -m flowdef import``:

1. **read** jobs as ``jobs/create`` payloads (:class:`Source`): a ``jobs/get`` JSON (``{"job_id", "settings"}``),
   a ``jobs/create`` body, a ``jobs/list`` page, or bundle YAML (``resources.jobs``, resolved for a target by
   :mod:`flowdef.convert.interpolate`); or from a workspace (:mod:`flowdef.convert.workspace`);
2. **decode** each payload into the model with :func:`flowdef.wire.decode.decode_job` (the decode direction of
   the per-kind table: lossless, typed where the JSON round-trips, raw where it does not);
3. **adapt** the model to the project's target: the target's name prefix, warehouse and root path are the
   target's business, not the job's; a SQL file whose text is at hand becomes a template under
   ``sql_templates/`` (SQL files are kept as files), other tasks' ids of imported jobs become job references;
4. **write** the module with :func:`flowdef.convert.codegen.job_module`.

What cannot be mapped (an unresolved bundle reference, a SQL file whose text is not available, a function body
a payload cannot hold) is a comment at the top of the module and a note in the command's output, never dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs

from flowdef._frozen import frozen
from flowdef.errors import FlowdefError
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import DbtTask, RawTask, SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask

from flowdef.jobsapi.facts import IDENTITY_TAGS as _IDENTITY


@frozen
class Source:
    """One job as read: its ``jobs/create`` payload and where it came from."""

    payload: dict = attrs.field(hash=False)
    origin: str
    job_id: int | None = None
    key: str | None = None  # a bundle's resource key
    unresolved: tuple[tuple[str, str], ...] = ()  # (JSON path, reference) a bundle left unresolved
    sql: tuple[tuple[str, str], ...] = ()  # (workspace path, text) of SQL files the tasks run
    deploy_time: tuple[tuple[str, str], ...] = ()  # (JSON path, placeholder): compile's <job>.deploy.json


@frozen
class Imported:
    key: str
    module_path: str  # relative to the project root
    source: str
    templates: tuple[tuple[str, str], ...]  # (path under the templates folder, text)
    notes: tuple[str, ...]
    payload: dict = attrs.field(hash=False)  # what was imported (the round trip is checked against it)
    job_id: int | None = None
    origin: str = ""


class ImportError_(FlowdefError):
    """A file or job that cannot be imported (one line, naming it)."""


# ----------------------------------------------------------------------------------------------------------------
# reading files


def read_file(path: Path, target: str | None = None) -> list[Source]:
    """The jobs in a JSON or YAML file (see the module docstring for the shapes understood)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportError_(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".yml", ".yaml"):
        return _read_bundle(path, text, target)
    if path.name.endswith(".deploy.json"):
        return []  # compile's list of deploy-time values: read with the payload beside it
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ImportError_(f"{path}: not JSON: {exc}") from None
    items: list = doc if isinstance(doc, list) else (
        doc["jobs"] if isinstance(doc, dict) and isinstance(doc.get("jobs"), list) else [doc])
    out = []
    for i, item in enumerate(items):
        where = f"{path}" if len(items) == 1 else f"{path}[{i}]"
        if not isinstance(item, dict):
            raise ImportError_(f"{where}: expected a job object (jobs/get or jobs/create JSON)")
        if isinstance(item.get("settings"), dict):  # jobs/get, jobs/list: what the service stored
            payload, job_id = without_server_defaults(item["settings"], item.get("creator_user_name")), \
                item.get("job_id")
        elif "tasks" in item or "name" in item:
            payload, job_id = item, None
        else:
            raise ImportError_(f"{where}: neither a jobs/get JSON (with 'settings') nor a jobs/create body "
                               "(with 'name' and 'tasks')")
        out.append(Source(payload, where, job_id if isinstance(job_id, int) else None,
                          sql=_sql_beside(path, payload), deploy_time=_deploy_time_beside(path, len(items))))
    return out


def _deploy_time_beside(path: Path, count: int) -> tuple[tuple[str, str], ...]:
    """``<job>.deploy.json``, written by ``flowdef compile`` beside ``<job>.json``: the values deploy fills in."""
    sidecar = path.with_name(path.name[: -len(".json")] + ".deploy.json")
    if count != 1 or not sidecar.is_file():
        return ()
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ImportError_(f"{sidecar}: not JSON: {exc}") from None
    return tuple((str(k), str(v)) for k, v in data.items()) if isinstance(data, dict) else ()


def _sql_beside(path: Path, payload: dict) -> tuple[tuple[str, str], ...]:
    """The text of the SQL files the tasks run, when it is beside the JSON: rendered by ``flowdef compile``
    (``<job>/<task>.sql``), or a copy of the workspace file under the JSON's folder (found by its name, when
    exactly one file has it)."""
    key = (payload.get("tags") or {}).get("flowdef_job") or path.stem
    found = []
    for task in _tasks(payload):
        file = ((task.get("sql_task") or {}).get("file") or {}).get("path")
        if not isinstance(file, str):
            continue
        local = path.parent / key / f"{task.get('task_key')}.sql"
        if not local.is_file():
            named = [p for p in path.parent.rglob(Path(file).name) if p.is_file()]
            local = named[0] if len(named) == 1 else local
        if local.is_file():
            found.append((file, local.read_text(encoding="utf-8")))
    return tuple(found)


def _tasks(payload: dict) -> list[dict]:
    out = []
    for t in payload.get("tasks") or ():
        out.append(t)
        nested = (t.get("for_each_task") or {}).get("task")
        if isinstance(nested, dict):
            out.append(nested)
    return out


def _read_bundle(path: Path, text: str, target: str | None) -> list[Source]:
    from flowdef.convert import interpolate, yamlio

    root = yamlio.load(text, str(path))
    if not isinstance(root, dict):
        raise ImportError_(f"{path}: expected a bundle configuration (a mapping with resources.jobs)")
    docs = [root]
    for pattern in root.get("include") or ():
        for included in sorted(path.parent.glob(str(pattern))):
            docs.append(yamlio.load(included.read_text(encoding="utf-8"), str(included)) or {})
    jobs = interpolate.bundle_jobs(docs)
    if not jobs:
        raise ImportError_(f"{path}: no resources.jobs in this file (or the files it includes)")
    for doc in docs:  # ${var.x} where a parameter's default is ${var.x}: that parameter, at run time
        for body in ((doc.get("resources") or {}).get("jobs") or {}).values():
            _vars_to_params(body or {})
    resolved = interpolate.resolve(docs, target)
    unresolved: dict[str, list[tuple[str, str]]] = {}
    for key, where, ref in resolved.unresolved:
        unresolved.setdefault(key, []).append((where, ref))
    return [Source(payload, f"{path}#resources.jobs.{key}", key=key, unresolved=tuple(unresolved.get(key, ())),
                   sql=_sql_synced(path.parent, resolved.file_path, payload))
            for key, payload in resolved.jobs]


def _sql_synced(folder: Path, file_path: str, payload: dict) -> tuple[tuple[str, str], ...]:
    """SQL files of the bundle itself: ``${workspace.file_path}/x.sql`` is ``x.sql`` in the bundle folder (what
    ``databricks bundle deploy`` syncs there)."""
    found = []
    for task in _tasks(payload):
        file = ((task.get("sql_task") or {}).get("file") or {}).get("path")
        if isinstance(file, str) and file_path and file.startswith(file_path.rstrip("/") + "/"):
            local = folder / file[len(file_path.rstrip("/")) + 1:]
            if local.is_file():
                found.append((file, local.read_text(encoding="utf-8")))
    return tuple(found)


def _vars_to_params(body: dict) -> None:
    params: dict[str, str] = {p["default"]: str(p.get("name")) for p in body.get("parameters") or ()
              if isinstance(p, dict) and isinstance(p.get("default"), str)
              and re.fullmatch(r"\$\{var\.[\w-]+\}", p["default"])}
    if not params:
        return

    def sub(value: Any) -> Any:
        if isinstance(value, str):
            for var, name in params.items():
                value = value.replace(var, "{{job.parameters." + _quote(name) + "}}")
            return value
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v) for v in value]
        return value

    if "tasks" in body:
        body["tasks"] = sub(body["tasks"])


def _quote(name: str) -> str:
    from flowdef.jobsapi.refs import quote_name

    return quote_name(name)


# What the service fills into every job it stores (a jobs/create body never needs them): left out of imports, so
# a job clicked together in the UI does not import as a wall of defaults.  The values are the service defaults
# (flowdef.deploy.normalize compares plans with the same table).
_JOB_DEFAULTS = {"format": "MULTI_TASK", "timeout_seconds": 0, "max_concurrent_runs": 1, "queue": {"enabled": True},
                 "edit_mode": "EDITABLE", "performance_target": "PERFORMANCE_OPTIMIZED"}
_TASK_DEFAULTS = {"run_if": "ALL_SUCCESS", "timeout_seconds": 0, "max_retries": 0, "min_retry_interval_millis": 0,
                  "retry_on_timeout": False, "disabled": False}


def without_server_defaults(settings: dict, creator: str | None = None) -> dict:
    """A ``jobs/get`` job's settings as the ``jobs/create`` body that makes it: without empty containers, the
    service's defaults, and ``run_as`` when it is just the creator (the service fills it in)."""
    from flowdef.deploy.normalize import _prune

    out = _prune(settings)
    for key, default in _JOB_DEFAULTS.items():
        if out.get(key) == default:
            del out[key]
    if creator and out.get("run_as") == {"user_name": creator}:
        del out["run_as"]

    def task(t: dict) -> dict:
        t = {k: v for k, v in t.items() if _TASK_DEFAULTS.get(k, object()) != v}
        nested = (t.get("for_each_task") or {}).get("task")
        if isinstance(nested, dict):
            t["for_each_task"] = dict(t["for_each_task"], task=task(nested))
        return t

    if isinstance(out.get("tasks"), list):
        out["tasks"] = [task(t) for t in out["tasks"]]
    return out


# ----------------------------------------------------------------------------------------------------------------
# payload -> module


def job_key(payload: dict, target: Target | None, fallback: str | None = None) -> str:
    """The imported job's key: flowdef's own identity tag, a bundle's resource key, else its name."""
    from flowdef.dsl.job import _slug

    tagged = (payload.get("tags") or {}).get("flowdef_job")
    if tagged:
        return str(tagged)
    if fallback:
        return fallback
    name = str(payload.get("name") or "job")
    if target is not None and target.name_prefix and name.startswith(target.name_prefix):
        name = name[len(target.name_prefix):]
    return re.sub(r"\W+", "_", _slug(name)).strip("_").lower() or "job"


def convert(source: Source, config: ProjectConfig, target: Target, *, key: str,
            job_ids: dict[int, str] | None = None) -> Imported:
    """One job read from somewhere, as a module of this project (``job_ids``: workspace ids of the other jobs
    being imported, which become references to them)."""
    from flowdef.convert.codegen import CodegenError, job_module
    from flowdef.jobsapi.placeholders import job_placeholder
    from flowdef.wire.decode import decode_job

    payload = explicit_sources(json.loads(json.dumps(source.payload)))
    deploy_time = dict(source.deploy_time)
    for i, task in enumerate(payload.get("tasks") or ()):
        ref = (task.get("run_job_task") or {}).get("job_id")
        if isinstance(ref, int) and ref in (job_ids or {}):
            deploy_time[f"tasks[{i}].run_job_task.job_id"] = job_placeholder((job_ids or {})[ref])
    decoded = decode_job(payload, deploy_time)
    notes: list[str] = []
    sql_text = dict(source.sql)
    templates: dict[str, str] = {}
    job = _adapt(decoded.job, key, target, sql_text, templates, notes, config.templates)
    job = _one_function_module(job, decoded.target.root_path, notes)
    try:
        generated = job_module(job)
    except CodegenError as exc:
        raise ImportError_(f"{source.origin}: {exc}") from None
    notes += generated.notes
    for where, ref in source.unresolved:
        notes.append(f"{where}: {ref} is not resolved (kept as text)")
    raw_tasks = [t.key for t in job.all_tasks() if isinstance(t.kind, RawTask)]
    for raw in raw_tasks:
        notes.append(f"task {raw}: kept as a raw task (no typed DSL method says the same)")
    text = generated.source
    if source.unresolved:
        text = _with_comments(text, [f"{w}: {r} could not be resolved; it is kept as written"
                                     for w, r in source.unresolved])
    folder = config.pipelines[0] if config.pipelines and config.pipelines[0] != "." else ""
    module = generated.module.replace(".", "/") if generated.module else "/".join(
        p for p in (folder.strip("/"), key) if p)
    return Imported(key, module + ".py", text, tuple(sorted(templates.items())), tuple(notes), payload,
                    source.job_id, source.origin)


def _one_function_module(job: JobSpec, root: str, notes: list[str]) -> JobSpec:
    """A module holds the job's functions; function tasks of other modules (a job whose tasks were declared in
    several modules) run flowdef's entry script as the plain Python file task they compile to."""
    from flowdef.model.tasks import FunctionTask, PythonFileTask
    from flowdef.wire.tasks import ENTRY_SCRIPT, function_task_parameters

    modules = [t.kind.module for t in job.all_tasks() if isinstance(t.kind, FunctionTask)]
    if len(set(modules)) <= 1:
        return job
    home = modules[0]

    def task(t: TaskSpec) -> TaskSpec:
        nested = getattr(t.kind, "task", None)
        if isinstance(nested, TaskSpec):
            return attrs.evolve(t, kind=attrs.evolve(t.kind, task=task(nested)))  # type: ignore[arg-type]
        if isinstance(t.kind, FunctionTask) and t.kind.module != home:
            notes.append(f"task {t.key}: runs {t.kind.module}.{t.kind.function}, outside this job's module "
                         f"{home}: written as the Python file task it compiles to")
            argv = tuple(function_task_parameters(job, t))
            return attrs.evolve(t, kind=PythonFileTask(f"{root}/{ENTRY_SCRIPT}", argv))
        return t

    return attrs.evolve(job, tasks=tuple(task(t) for t in job.tasks))


def explicit_sources(payload: dict) -> dict:
    """``source: WORKSPACE`` written out where the service assumes it (a job without a Git source: absolute
    notebook and script paths, SQL files, dbt projects), as flowdef's compiler always writes it; in place."""
    if payload.get("git_source"):
        return payload
    for task in _tasks(payload):
        for field, key in (("notebook_task", "notebook_path"), ("spark_python_task", "python_file")):
            body = task.get(field)
            if isinstance(body, dict) and str(body.get(key, "")).startswith("/") and "source" not in body:
                body["source"] = "WORKSPACE"
        file = (task.get("sql_task") or {}).get("file")
        if isinstance(file, dict) and "source" not in file:
            file["source"] = "WORKSPACE"
        dbt = task.get("dbt_task")
        if isinstance(dbt, dict) and "source" not in dbt:
            dbt["source"] = "WORKSPACE"
    return payload


def _with_comments(source: str, lines: list[str]) -> str:
    """Comments after the module docstring: what the import could not map."""
    if not lines:
        return source
    head, sep, rest = source.partition('"""\n\n')
    block = "# Not mapped by the import (review these):\n" + "".join(f"#   {line}\n" for line in lines)
    return head + sep + block + "\n" + rest


def _adapt(job: JobSpec, key: str, target: Target, sql_text: dict[str, str], templates: dict[str, str],
           notes: list[str], templates_dir: str) -> JobSpec:
    """The decoded job as this project's: the target's prefix, warehouse and paths are the target's."""
    name = job.name
    if target.name_prefix and name.startswith(target.name_prefix):
        name = name[len(target.name_prefix):]
    tags = tuple((k, v) for k, v in job.tags if k not in _IDENTITY and dict(target.tags).get(k) != v)

    def task(t: TaskSpec) -> TaskSpec:
        kind = t.kind
        if isinstance(kind, RawTask):
            kind = _sql_file(t, kind, key, sql_text, templates, notes) or kind
        if isinstance(kind, SqlFileTask) and kind.template not in templates:
            text = _rendered_text(kind, sql_text)
            if text is None:
                notes.append(f"task {t.key}: the SQL of template {kind.template} was not available; write it "
                             f"under {templates_dir}/{kind.template}")
            else:
                templates[kind.template] = _as_template(text)
        if isinstance(kind, (SqlFileTask, SqlQueryTask, SqlAlertTask, SqlDashboardTask)) or (
                isinstance(kind, DbtTask) and kind.profiles_directory is None):
            if target.warehouse_id and kind.warehouse_id == target.warehouse_id:
                kind = attrs.evolve(kind, warehouse_id=None)  # the target's warehouse, as compile fills it in
        nested = getattr(kind, "task", None)
        if isinstance(nested, TaskSpec):
            kind = attrs.evolve(kind, task=task(nested))  # type: ignore[arg-type]  # a ForEachTask here
        return attrs.evolve(t, kind=kind) if kind is not t.kind else t

    return attrs.evolve(job, key=key, name=name, tags=tags, tasks=tuple(task(t) for t in job.tasks))


def _rendered_text(kind: SqlFileTask, sql_text: dict[str, str]) -> str | None:
    for path, text in sql_text.items():
        if path.endswith("/sql/" + kind.template):
            return text
    return None


def _sql_file(t: TaskSpec, kind: RawTask, job_key: str, sql_text: dict[str, str], templates: dict[str, str],
              notes: list[str]) -> SqlFileTask | None:
    """A SQL file task whose file flowdef did not render: with its text at hand, a template of the project."""
    fields = dict(kind.fields)
    body = fields.get("sql_task")
    if set(fields) != {"sql_task"} or not isinstance(body, dict) or set(body) - {"file", "warehouse_id",
                                                                                 "parameters"}:
        return None
    file = body.get("file") or {}
    path = file.get("path")
    if not isinstance(path, str) or file.get("source", "WORKSPACE") != "WORKSPACE" or set(file) - {"path",
                                                                                                    "source"}:
        return None
    text = sql_text.get(path)
    if text is None:
        notes.append(f"task {t.key}: runs the workspace SQL file {path}, whose text was not available: kept as "
                     "a raw task (import from the workspace to copy the file into sql_templates/)")
        return None
    template = f"{job_key}/{t.key}.sql"
    templates[template] = _as_template(text)
    notes.append(f"task {t.key}: {path} is now the template sql_templates/{template} (deployed under the target's "
                 "root path)")
    params = body.get("parameters") or {}
    return SqlFileTask(template, tuple(params.items()), body.get("warehouse_id") or None)


def _as_template(text: str) -> str:
    """SQL as a jinja2 template that renders back to the same text."""
    if any(marker in text for marker in ("{{", "{%", "{#")):
        return "{% raw %}" + text + "{% endraw %}"
    return text
