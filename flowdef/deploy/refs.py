"""Deploy-time placeholders: what only the workspace knows (another flowdef job's id, a pipeline's id, the
workspace id) is left in a compiled payload as a whole-string placeholder that deploy replaces before sending.

The grammar is :mod:`flowdef.jobsapi.placeholders` (the compiler writes placeholders with it)::

    ${flowdef.jobs.<job key>.id}    ${flowdef.pipelines.<name>.id}    ${flowdef.workspace.id}

This module asks the deploy questions of it (which jobs, pipelines, workspace id a payload needs), substitutes
the values, and orders jobs so that a referenced job is created first (:func:`waves`, through :mod:`flowdef.graph`).
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdef.jobsapi.placeholders import UnresolvedPlaceholder, placeholders, resolve_placeholders


class Unresolved(LookupError):
    """A placeholder without a value (a pipeline that does not exist, a job not deployed yet)."""


def found(payload: dict) -> list[tuple[tuple, str, str]]:
    """``(path, kind, name)`` of every placeholder; kind is ``job`` | ``pipeline`` | ``workspace``."""
    return [(p.path, p.kind, p.name) for p in placeholders(payload)]


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
    try:
        return resolve_placeholders(payload, jobs=jobs, pipelines=pipelines or {}, workspace_id=workspace_id,
                                    strict=True)
    except UnresolvedPlaceholder as exc:
        raise Unresolved(str(exc)) from None


def waves(deps: dict[str, set[str]]) -> list[list[str]]:
    """Keys in dependency order, as lists that can run in parallel: a job after the jobs it references.
    References to keys outside ``deps`` impose no order; a cycle (and what depends on it) is one final wave, whose
    jobs then fail clearly."""
    from flowdef import graph

    return graph.waves(graph.of_dependencies(deps))
