"""Deploy-time placeholders: values only the target workspace knows, left in a compiled payload as whole strings
that the deployer replaces before sending it.

The contract (the compiler writes them; :mod:`flowdef.deploy` resolves them)::

    ${flowdef.jobs.<job key>.id}     the id of another flowdef job of the same project and target:
                                     run_job_task.job_id (becomes an int) and job_completion jobs[].job_id (a str)
    ${flowdef.pipelines.<name>.id}   the id of the pipeline with that exact name: pipeline_task.pipeline_id (a str)
    ${flowdef.workspace.id}          the target workspace's id: job_completion jobs[].workspace_id (a str)

A placeholder is always a *whole* JSON string value (never embedded in a longer string), the name runs to the
final ``.id}`` (so job keys and pipeline names may contain dots), and the grammar is disjoint from Databricks'
``{{...}}`` dynamic references and from bundles' ``${var...}``.  Pure functions, no imports beyond the stdlib.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from flowdef._frozen import frozen

_PLACEHOLDER = re.compile(r"\$\{flowdef\.(jobs|pipelines)\.(.+)\.id\}|\$\{flowdef\.(workspace)\.id\}", re.S)
WORKSPACE_ID = "${flowdef.workspace.id}"


def job_placeholder(key: str) -> str:
    """The id of the flowdef job ``key`` (same project and target), known once it is deployed."""
    return "${flowdef.jobs." + key + ".id}"


def pipeline_placeholder(name: str) -> str:
    """The id of the pipeline named ``name`` in the target workspace."""
    return "${flowdef.pipelines." + name + ".id}"


@frozen
class Placeholder:
    """One deploy-time placeholder: where (a JSON path), what (``job`` | ``pipeline`` | ``workspace``) and which
    (the job key or the pipeline name; ``""`` for the workspace)."""

    path: tuple[str | int, ...]
    kind: str
    name: str


def parse_placeholder(value: Any) -> tuple[str, str] | None:
    """``(kind, name)`` when ``value`` is exactly one placeholder, else None."""
    if not isinstance(value, str) or not value.startswith("${flowdef."):
        return None
    m = _PLACEHOLDER.fullmatch(value)
    if m is None:
        return None
    if m.group(3):
        return "workspace", ""
    return ("job" if m.group(1) == "jobs" else "pipeline"), m.group(2)


def placeholders(payload: Any) -> list[Placeholder]:
    """Every placeholder in a payload, in document order (dict keys sorted)."""
    found: list[Placeholder] = []
    path: list[str | int] = []  # where the walk is; copied only for a placeholder found

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k in sorted(value):
                path.append(k)
                walk(value[k])
                path.pop()
        elif isinstance(value, list):
            for i, item in enumerate(value):
                path.append(i)
                walk(item)
                path.pop()
        elif isinstance(value, str) and value.startswith("${flowdef."):
            parsed = parse_placeholder(value)
            if parsed is not None:
                found.append(Placeholder(tuple(path), *parsed))

    walk(payload)
    return found


class UnresolvedPlaceholder(LookupError):
    """A placeholder had no value in the mapping given to :func:`resolve_placeholders`."""

    def __init__(self, placeholder: Placeholder) -> None:
        what = {"job": f"flowdef job {placeholder.name!r} has no job id (deploy it first)",
                "pipeline": f"no pipeline named {placeholder.name!r} was found",
                "workspace": "the workspace id is unknown"}[placeholder.kind]
        super().__init__(f"{what} (at {'.'.join(map(str, placeholder.path))})")
        self.placeholder = placeholder


def resolve_placeholders(
    payload: dict,
    *,
    jobs: Mapping[str, int] | None = None,
    pipelines: Mapping[str, str] | None = None,
    workspace_id: int | str | None = None,
    strict: bool = True,
) -> dict:
    """A copy of ``payload`` with placeholders replaced: job keys by job ids (``int`` in ``run_job_task.job_id``,
    ``str`` elsewhere), pipeline names by pipeline ids, the workspace placeholder by ``workspace_id``.  With
    ``strict`` a placeholder without a value raises :class:`UnresolvedPlaceholder`; otherwise it is kept."""
    jobs, pipelines = jobs or {}, pipelines or {}

    def sub(value: Any, path: tuple) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, (*path, i)) for i, v in enumerate(value)]
        parsed = parse_placeholder(value)
        if parsed is None:
            return value
        kind, name = parsed
        table: Mapping[str, Any] = jobs if kind == "job" else pipelines if kind == "pipeline" else (
            {"": workspace_id} if workspace_id is not None else {})
        if name not in table:
            if strict:
                raise UnresolvedPlaceholder(Placeholder(path, kind, name))
            return value
        if kind == "job" and len(path) >= 2 and path[-2] == "run_job_task":
            return int(table[name])
        return str(table[name])

    return sub(payload, ())


def deploy_references(payload: dict) -> set[str]:
    """The keys of the other flowdef jobs a payload refers to (hook used by :mod:`flowdef.deploy.refs`)."""
    return {p.name for p in placeholders(payload) if p.kind == "job"}


def resolve_deploy_references(payload: dict, ids: Mapping[str, int]) -> dict:
    """Replace the job placeholders (hook used by :mod:`flowdef.deploy.refs`); pipeline and workspace
    placeholders are left for :func:`resolve_placeholders`.  ``KeyError`` if a referenced job has no id."""
    missing = sorted(p.name for p in placeholders(payload) if p.kind == "job" and p.name not in ids)
    if missing:
        raise KeyError(missing[0])
    return resolve_placeholders(payload, jobs=ids, strict=False)
