"""Resolve a bundle's jobs for one target: ``${...}`` interpolation, target variables and presets.

Used to read bundle YAML back (``python -m flowdef import resources/x.job.yml``) and to prove that an exported
bundle means the payloads flowdef compiles.  It implements the part of the Databricks CLI's bundle loading that
decides a job's settings:

- ``${var.<name>}`` (the target's value, else the variable's ``default``), ``${bundle.target}``,
  ``${bundle.name}``, ``${workspace.root_path}``, ``${workspace.file_path}`` (default ``<root_path>/files``);
- ``${resources.jobs.<key>.id}`` becomes flowdef's deploy-time placeholder ``${flowdef.jobs.<key>.id}``, and a
  ``lookup: {pipeline: <name>}`` variable ``${flowdef.pipelines.<name>.id}``: what only the workspace knows
  stays a reference, exactly as in a compiled payload;
- presets: ``name_prefix`` (development mode without one: ``[dev <user>] ``), ``trigger_pause_status`` and
  development mode pausing every trigger, ``tags``.

Not modelled (reported by callers where it matters): per-target ``resources`` overrides, complex variables,
lookups of other kinds, and the extra changes development mode makes (a ``dev`` tag, ...).  A reference that
cannot be resolved is left in place and listed in ``unresolved``, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

from flowdef._frozen import frozen
from flowdef.jobsapi.placeholders import job_placeholder, pipeline_placeholder

_REF = re.compile(r"\$\{([A-Za-z_][\w\-]*(?:\.[\w\-]+|\[\d+\])*)\}")
_TRIGGER_FIELDS = ("schedule", "trigger", "continuous")


@frozen
class ResolvedJobs:
    jobs: tuple[tuple[str, dict], ...]  # (resource key, jobs/create payload)
    permissions: tuple[tuple[str, tuple], ...] = ()  # (resource key, bundle permissions)
    unresolved: tuple[tuple[str, str, str], ...] = ()  # (resource key, JSON path, reference)
    file_path: str = ""  # ${workspace.file_path}: where the bundle folder is synced

    def payloads(self) -> dict[str, dict]:
        return dict(self.jobs)


def bundle_jobs(docs: list[dict]) -> dict[str, dict]:
    """Every ``resources.jobs`` entry of the given YAML documents (a ``databricks.yml`` and included files)."""
    jobs: dict[str, dict] = {}
    for doc in docs:
        for key, body in (((doc or {}).get("resources") or {}).get("jobs") or {}).items():
            jobs[str(key)] = body or {}
    return jobs


def resolve(docs: list[dict], target: str | None = None, variables: dict[str, Any] | None = None) -> ResolvedJobs:
    """The jobs of a bundle (its documents, root first) as ``jobs/create`` payloads for ``target`` (default: the
    target marked ``default``, else none: only the top-level settings apply).  ``variables`` are values given
    on the command line (``--var name=value``), which win over the target's."""
    root = next((d for d in docs if d and ("bundle" in d or "targets" in d)), {}) or {}
    targets = root.get("targets") or {}
    if target is None:
        target = next((name for name, t in targets.items() if (t or {}).get("default")), None)
    entry = (targets.get(target) or {}) if target else {}
    bundle_name = str((root.get("bundle") or {}).get("name", ""))
    workspace = {**(root.get("workspace") or {}), **(entry.get("workspace") or {})}
    root_path = str(workspace.get("root_path") or
                    "/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}")
    file_path = str(workspace.get("file_path") or root_path + "/files")
    values: dict[str, Any] = {}
    for name, spec in (root.get("variables") or {}).items():
        spec = spec if isinstance(spec, dict) else {"default": spec}
        if "lookup" in spec:
            values[name] = _lookup(spec["lookup"])
        elif "default" in spec:
            values[name] = spec["default"]
    for name, value in (entry.get("variables") or {}).items():
        values[name] = _lookup(value["lookup"]) if isinstance(value, dict) and "lookup" in value else value
    values.update(variables or {})
    simple = {"bundle.target": target or "", "bundle.name": bundle_name,
              "workspace.root_path": root_path, "workspace.file_path": file_path}
    mode = entry.get("mode")
    presets = {**(root.get("presets") or {}), **(entry.get("presets") or {})}
    prefix = presets.get("name_prefix")
    if prefix is None and mode == "development":
        prefix = "[dev ${workspace.current_user.short_name}] "
    paused = presets.get("trigger_pause_status") == "PAUSED" or mode == "development"

    out, perms, unresolved = [], [], []
    for key, body in bundle_jobs(docs).items():
        missing: list[tuple[str, str]] = []

        def sub(value: Any, path: str) -> Any:
            if isinstance(value, dict):
                return {k: sub(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
            if isinstance(value, list):
                return [sub(v, f"{path}[{i}]") for i, v in enumerate(value)]
            if not isinstance(value, str) or "${" not in value:
                return value
            whole = _REF.fullmatch(value)
            if whole is not None:
                found = _value(whole.group(1), values, simple)
                if found is not _MISSING:
                    return found if not isinstance(found, str) or "${" not in found or found == value \
                        else sub(found, path)
            def one(m: re.Match) -> str:
                found = _value(m.group(1), values, simple)
                if found is _MISSING or isinstance(found, (dict, list)):
                    missing.append((path, m.group(0)))
                    return m.group(0)
                return str(found).lower() if isinstance(found, bool) else str(found)

            text = _REF.sub(one, value)
            return sub(text, path) if text != value and "${" in text and _REF.search(text) else text

        payload = sub({k: v for k, v in body.items() if k != "permissions"}, "")
        if prefix:
            payload["name"] = sub(prefix, "name") + str(payload.get("name", ""))
        if paused:
            for field in _TRIGGER_FIELDS:
                if isinstance(payload.get(field), dict):
                    payload[field]["pause_status"] = "PAUSED"
        if presets.get("tags"):
            payload["tags"] = {**(payload.get("tags") or {}), **presets["tags"]}
        out.append((key, payload))
        if body.get("permissions"):
            perms.append((key, tuple(sub(body["permissions"], "permissions"))))
        unresolved += [(key, p, r) for p, r in dict.fromkeys(missing)]
    return ResolvedJobs(jobs=tuple(out), permissions=tuple(perms), unresolved=tuple(unresolved),
                        file_path=file_path)


_MISSING = object()


def _lookup(spec: Any) -> Any:
    if isinstance(spec, dict) and set(spec) == {"pipeline"}:
        return pipeline_placeholder(str(spec["pipeline"]))
    return _MISSING


def _value(ref: str, values: dict[str, Any], simple: dict[str, str]) -> Any:
    if ref in simple:
        return simple[ref]
    if ref.startswith("flowdef."):  # already flowdef's own deploy-time placeholder
        return "${" + ref + "}"
    if ref.startswith("var."):
        name = ref[4:]
        return values.get(name, _MISSING) if "." not in name and "[" not in name else _MISSING
    m = re.fullmatch(r"resources\.jobs\.([\w\-]+)\.id", ref)
    if m:
        return job_placeholder(m.group(1))
    return _MISSING
