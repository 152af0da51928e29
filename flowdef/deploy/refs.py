"""Deploy-time references between jobs: a run-job task pointing at another flowdef job has no job id until that
job exists in the workspace.

The compiler owns the wire shape of the placeholder; this module only finds and substitutes it.  If the compiler
offers ``deploy_references(payload) -> set[str]`` and ``resolve_deploy_references(payload, ids) -> dict`` they are
used; otherwise the default contract is a string ``"{{flowdef.jobs.<key>.id}}"`` anywhere in the payload (the
usual place being ``run_job_task.job_id``), replaced by the job's id (an int when it is the whole value).
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*flowdef\.jobs\.([A-Za-z0-9_\-.]+)\.id\s*\}\}")


def _compiler_hook(name: str):
    from flowdef import compiler

    return getattr(compiler, name, None)


def references(payload: dict) -> set[str]:
    """Keys of the other flowdef jobs this payload refers to."""
    hook = _compiler_hook("deploy_references")
    if hook is not None:
        return set(hook(payload))
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and "{{" in v:
            found.update(_PLACEHOLDER.findall(v))

    walk(payload)
    return found


def resolve(payload: dict, ids: dict[str, int]) -> dict:
    """A copy of ``payload`` with every job reference replaced; KeyError if a referenced job has no id yet."""
    hook = _compiler_hook("resolve_deploy_references")
    if hook is not None:
        return hook(payload, ids)

    def sub(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, str) and "{{" in v:
            whole = _PLACEHOLDER.fullmatch(v.strip())
            if whole:
                return int(ids[whole.group(1)])
            return _PLACEHOLDER.sub(lambda m: str(ids[m.group(1)]), v)
        return v

    return sub(payload)


def waves(deps: dict[str, set[str]]) -> list[list[str]]:
    """Keys in dependency order, as lists that can run in parallel: a job after the jobs it references.
    References to keys outside ``deps`` (jobs already deployed) impose no order; a cycle is one final wave."""
    remaining = {k: {d for d in v if d in deps and d != k} for k, v in deps.items()}
    out: list[list[str]] = []
    while remaining:
        ready = sorted(k for k, v in remaining.items() if not v)
        if not ready:  # a cycle: validation should have caught it; let the failures speak
            out.append(sorted(remaining))
            break
        out.append(ready)
        for k in ready:
            del remaining[k]
        for v in remaining.values():
            v.difference_update(ready)
    return out
