"""Deploy-time placeholders: what only the workspace knows (another flowdef job's id, a pipeline's id, the
workspace id) is left in a compiled payload as a whole-string placeholder that deploy replaces before sending.

The compiler owns the grammar (:mod:`flowdef.jobsapi.placeholders`)::

    ${flowdef.jobs.<job key>.id}    ${flowdef.pipelines.<name>.id}    ${flowdef.workspace.id}

This module finds and substitutes them, and orders jobs so that a referenced job is created first
(:func:`waves`).  When :mod:`flowdef.jobsapi.placeholders` is not available (an older compiler) a built-in parser of the
same grammar is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FALLBACK = re.compile(r"\$\{flowdef\.(jobs|pipelines)\.(.+)\.id\}|\$\{flowdef\.(workspace)\.id\}", re.DOTALL)


class Unresolved(LookupError):
    """A placeholder without a value (a pipeline that does not exist, a job not deployed yet)."""


def _api():
    try:
        from flowdef.jobsapi import placeholders
    except ImportError:  # pragma: no cover - older compiler
        return None
    return placeholders


def _walk(value: Any, path: tuple = ()):
    if isinstance(value, dict):
        for k in sorted(value):
            yield from _walk(value[k], (*path, k))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))
    elif isinstance(value, str) and value.startswith("${flowdef."):
        m = _FALLBACK.fullmatch(value)
        if m is not None:
            kind = "workspace" if m.group(3) else ("job" if m.group(1) == "jobs" else "pipeline")
            yield path, kind, (m.group(2) or "")


def found(payload: dict) -> list[tuple[tuple, str, str]]:
    """``(path, kind, name)`` of every placeholder; kind is ``job`` | ``pipeline`` | ``workspace``."""
    api = _api()
    if api is not None:
        return [(p.path, p.kind, p.name) for p in api.placeholders(payload)]
    return list(_walk(payload))


def references(payload: dict) -> set[str]:
    """Keys of the other flowdef jobs this payload refers to."""
    return {name for _, kind, name in found(payload) if kind == "job"}


def pipeline_names(payload: dict) -> set[str]:
    return {name for _, kind, name in found(payload) if kind == "pipeline"}


def needs_workspace_id(payload: dict) -> bool:
    return any(kind == "workspace" for _, kind, _ in found(payload))


def resolve(payload: dict, jobs: Mapping[str, int], pipelines: Mapping[str, str] | None = None,
            workspace_id: str | None = None) -> dict:
    """A copy of ``payload`` with every placeholder replaced; :class:`Unresolved` if one has no value."""
    if not found(payload):
        return payload
    api = _api()
    if api is not None:
        try:
            return api.resolve_placeholders(payload, jobs=jobs, pipelines=pipelines or {},
                                            workspace_id=workspace_id, strict=True)
        except api.UnresolvedPlaceholder as exc:
            raise Unresolved(str(exc)) from None
    tables = {"job": jobs, "pipeline": pipelines or {}, "workspace": {"": workspace_id} if workspace_id else {}}

    def sub(value: Any, path: tuple) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, (*path, i)) for i, v in enumerate(value)]
        hits = list(_walk(value)) if isinstance(value, str) else []
        if not hits:
            return value
        _, kind, name = hits[0]
        if name not in tables[kind]:
            what = {"job": f"flowdef job {name!r} has no job id (deploy it first)",
                    "pipeline": f"no pipeline named {name!r} was found",
                    "workspace": "the workspace id is unknown"}[kind]
            raise Unresolved(f"{what} (at {'.'.join(map(str, path))})")
        if kind == "job" and len(path) >= 2 and path[-2] == "run_job_task":
            return int(str(tables[kind][name]))
        return str(tables[kind][name])

    return sub(payload, ())


def waves(deps: dict[str, set[str]]) -> list[list[str]]:
    """Keys in dependency order, as lists that can run in parallel: a job after the jobs it references.
    References to keys outside ``deps`` impose no order; a cycle is one final wave (its jobs then fail clearly)."""
    remaining = {k: {d for d in v if d in deps and d != k} for k, v in deps.items()}
    out: list[list[str]] = []
    while remaining:
        ready = sorted(k for k, v in remaining.items() if not v)
        if not ready:
            out.append(sorted(remaining))
            break
        out.append(ready)
        for k in ready:
            del remaining[k]
        for v in remaining.values():
            v.difference_update(ready)
    return out
