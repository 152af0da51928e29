"""Field-level differences between two *normalised* settings dicts (see :mod:`flowdef.deploy.normalize`).

Paths read like the job: ``name``, ``tags.layer``, ``tasks[ingest].sql_task.warehouse_id``,
``parameters[catalog].default``.  A whole task (or cluster, environment, parameter) that appears or disappears
is one change, not one per leaf.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

_KEYED = ("tasks", "job_clusters", "environments", "parameters")


@attrs.frozen
class Change:
    path: str
    op: str  # "+" added, "-" removed, "~" changed
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict:
        out: dict = {"path": self.path, "op": {"+": "add", "-": "remove", "~": "change"}[self.op]}
        if self.op != "+":
            out["old"] = self.old
        if self.op != "-":
            out["new"] = self.new
        return out


def _join(prefix: str, key: str, keyed: bool) -> str:
    if keyed:
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def diff(old: dict, new: dict) -> list[Change]:
    """Changes that turn ``old`` (the workspace) into ``new`` (the code), sorted by path."""
    out: list[Change] = []
    _walk("", old, new, out, keyed=False)
    return sorted(out, key=lambda c: c.path)


def _walk(prefix: str, old: Any, new: Any, out: list[Change], keyed: bool) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            path = _join(prefix, str(key), keyed)
            child_keyed = not prefix and key in _KEYED
            if key not in old:
                out.append(Change(path, "+", None, new[key]))
            elif key not in new:
                out.append(Change(path, "-", old[key], None))
            elif old[key] != new[key]:
                _walk(path, old[key], new[key], out, keyed=child_keyed)
        return
    if old != new:
        out.append(Change(prefix, "~", old, new))


def short(value: Any, limit: int = 70) -> str:
    """A one-line rendering of a value for the text plan."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
