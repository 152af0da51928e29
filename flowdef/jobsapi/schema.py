"""The Databricks bundle JSON schema as a second, test-time oracle for Jobs API payloads.

Validation does not use this module: raw settings and payload types are checked against the field table shipped
in the package (:mod:`flowdef.jobsapi.fields`, generated from databricks-sdk), so an installed flowdef checks
exactly what a development checkout checks.  The tests additionally check every golden payload against the
bundle schema when its file is at hand (it knows a few things the SDK's dataclasses do not say).

The bundle schema (``databricks bundle schema``; a copy lives in ``../shared/schemas/bundle_jsonschema.json`` beside
the repository) describes a job at ``$defs/github.com/databricks/cli/bundle/config/resources.Job``, with the SDK
types under ``$defs/github.com/databricks/databricks-sdk-go/service/jobs.*``.  Two things make it unusable as is:

* every object and enum is ``oneOf[<real schema>, {string matching ${var...}}]`` for bundle interpolation — the
  interpolation branches are stripped here, so a value must match the real schema;
* those branches' patterns use ``\\p{L}``, which Python's ``re`` cannot compile — gone with the branches, and any
  other pattern Python cannot compile is checked with the ``regex`` module when installed, else skipped.

The schema is found through ``$FLOWDEF_BUNDLE_SCHEMA``, else ``../shared/schemas/bundle_jsonschema.json`` relative
to the repository (or to the working directory); :func:`load` returns None when there is none (callers degrade:
raw-field *names* are still checked against :data:`JOB_FIELDS` / :data:`TASK_FIELDS`, taken from the SDK).  It
is parsed once per process and never imported by ``import flowdef``; ``jsonschema`` is imported only here.

Known differences between the schema snapshot and the Jobs API (jobs-api.md section 18) are listed in
:data:`JOB_SCHEMA_GAPS` and :data:`TASK_SCHEMA_GAPS`: such fields are legal API fields the schema rejects or does
not know, so they are accepted by name and their values are not schema-checked.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

from flowdef._frozen import frozen
from flowdef.jobsapi import fields

SCHEMA_ENV = "FLOWDEF_BUNDLE_SCHEMA"
SCHEMA_NAME = "bundle_jsonschema.json"

_CLI = "github.com/databricks/cli/bundle/config/"
_SDK = "github.com/databricks/databricks-sdk-go/service/"
JOB_DEF = _CLI + "resources.Job"
TASK_DEF = _SDK + "jobs.Task"
CLUSTER_DEF = _SDK + "compute.ClusterSpec"

# The Jobs API surface according to databricks-sdk (JobSettings and Task dataclass fields), from the shipped table.
JOB_FIELDS = fields.field_names(fields.JOB)
TASK_FIELDS = fields.field_names(fields.TASK)

# Jobs API fields the bundle schema rejects or lacks, with the reason (jobs-api.md section 18 and what the tests of
# every task and trigger kind found).  Paths are in a jobs/create payload; "tasks[]" means every task, nested too.
JOB_SCHEMA_GAPS: dict[str, str] = {
    "edit_mode": "hidden by the bundle schema (bundles set it themselves)",
    "deployment": "hidden by the bundle schema (bundles set it themselves)",
    "format": "hidden by the bundle schema (ignored by the service)",
    "environment_variables": "newer than the schema snapshot",
    "duration_target": "newer than the schema snapshot",
    "trigger.job_completion": "newer than the schema snapshot (TriggerSettings lacks job_completion)",
    "continuous.maintenance_window": "newer than the schema snapshot (Continuous lacks maintenance_window)",
}
TASK_SCHEMA_GAPS: dict[str, str] = {
    "ai_function_task": "newer than the schema snapshot",
    "environment_variables_key": "newer than the schema snapshot",
}
BUNDLE_ONLY_JOB_FIELDS = frozenset({"permissions", "lifecycle"})  # in the schema, not in the Jobs API


def locate() -> Path | None:
    """The schema file: ``$FLOWDEF_BUNDLE_SCHEMA``, else ``../shared/schemas/`` beside the repository or the
    working directory."""
    env = os.environ.get(SCHEMA_ENV)
    if env:
        path = Path(env)
        return path if path.is_file() else None
    repo = Path(__file__).resolve().parent.parent.parent
    for base in (repo, Path.cwd()):
        candidate = base.parent / "shared" / "schemas" / SCHEMA_NAME
        if candidate.is_file():
            return candidate
    return None


def _is_interpolation(branch: Any) -> bool:
    return (isinstance(branch, dict) and branch.get("type") == "string"
            and str(branch.get("pattern", "")).startswith("\\$\\{"))


def strip_interpolation(node: Any) -> Any:
    """The schema without the ``${...}`` string alternatives (a ``oneOf`` left with one branch is inlined)."""
    if isinstance(node, list):
        return [strip_interpolation(v) for v in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("oneOf"), list):
        kept = [b for b in node["oneOf"] if not _is_interpolation(b)]
        if len(kept) != len(node["oneOf"]):
            rest = {k: v for k, v in node.items() if k != "oneOf"}
            node = {**rest, **kept[0]} if len(kept) == 1 else {**rest, "oneOf": kept}
    return {k: strip_interpolation(v) for k, v in node.items()}


@frozen
class SchemaProblem:
    """One schema violation: a dotted path into the checked value and a short message."""

    path: str
    message: str
    validator: str = ""
    suggestion: str | None = None


class BundleSchema:
    """The stripped schema, with cached validators per definition or property."""

    def __init__(self, raw: dict, path: Path | None = None) -> None:
        self.path = path
        self.defs: dict = strip_interpolation(raw.get("$defs", {}))
        self._validators: dict[tuple, Any] = {}

    def definition(self, name: str) -> dict:
        node: Any = self.defs
        for part in name.split("/"):
            node = node[part]
        return node

    def properties(self, name: str) -> dict[str, dict]:
        """Property name -> schema of a definition (``JOB_DEF``, ``TASK_DEF``, ...)."""
        return dict(self.definition(name).get("properties", {}))

    def _validator(self, key: tuple, schema: dict):
        validator = self._validators.get(key)
        if validator is None:
            validator = _validator_class()({**schema, "$defs": self.defs})
            self._validators[key] = validator
        return validator

    def check(self, value: Any, definition: str, prop: str | None = None) -> list[SchemaProblem]:
        """Problems of ``value`` against a definition, or against one property of it."""
        schema: dict | None
        if prop is None:
            schema = {"$ref": "#/$defs/" + definition}
        else:
            schema = self.properties(definition).get(prop)
            if schema is None:
                return [SchemaProblem(prop, f"{prop!r} is not a field of {definition.rsplit('/', 1)[-1]}",
                                      "additionalProperties")]
        validator = self._validator((definition, prop), schema)
        return sorted((_problem(e) for e in validator.iter_errors(value)), key=lambda p: (p.path, p.message))


def _problem(error) -> SchemaProblem:
    path = ".".join(str(p) for p in error.absolute_path)
    kind = str(error.validator)
    suggestion = None
    if kind == "enum":
        allowed = list(error.validator_value)
        text = str(error.instance)
        fold = {str(a).lower(): a for a in allowed}
        suggestion = fold.get(text.lower()) or fold.get(text.lower().replace("-", "_"))
        message = f"{_short(error.instance)} is not one of {', '.join(map(str, allowed))}"
    elif kind == "type":
        message = f"{_short(error.instance)} is not of type {error.validator_value}"
    elif kind in ("additionalProperties", "required"):
        message = error.message
    else:
        message = _short(error.message, 200)
    return SchemaProblem(path, message, kind, suggestion)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) and width == 200 else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@functools.lru_cache(maxsize=1)
def _validator_class():
    import jsonschema
    from jsonschema import validators

    base = jsonschema.Draft202012Validator

    def pattern(validator, patrn, instance, schema):
        if not validator.is_type(instance, "string"):
            return
        try:
            found = re.search(patrn, instance) is not None
        except re.error:  # e.g. \p{L}: Python's re has no Unicode classes
            try:
                import regex  # type: ignore[import-not-found]
            except ImportError:
                return
            found = regex.search(patrn, instance) is not None
        if not found:
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(base, {"pattern": pattern})


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> BundleSchema | None:
    try:
        import jsonschema  # noqa: F401 - value checks need it; without it there is no schema oracle
    except ImportError:
        return None
    with open(path, encoding="utf-8") as f:
        return BundleSchema(json.load(f), Path(path))


def load() -> BundleSchema | None:
    """The parsed, stripped schema (cached per file), or None when no schema file or no ``jsonschema``."""
    path = locate()
    if path is None:
        return None
    return _load(str(path), path.stat().st_mtime)


# ----------------------------------------------------------------------------------------------------------------
# whole payloads


def _tasks(payload: dict) -> Iterator[dict]:
    for task in payload.get("tasks") or ():
        if isinstance(task, dict):
            yield task
            nested = (task.get("for_each_task") or {}).get("task")
            if isinstance(nested, dict):
                yield nested


def split_gaps(payload: dict) -> tuple[dict, list[str]]:
    """A copy of a jobs/create payload without the fields the schema cannot check (:data:`JOB_SCHEMA_GAPS`,
    :data:`TASK_SCHEMA_GAPS`), and the paths of those removed."""
    out = json.loads(json.dumps(payload))  # plain JSON: payloads may hold str subclasses (typed references)
    removed = []
    for path in JOB_SCHEMA_GAPS:
        *parents, leaf = path.split(".")
        node = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node:
            del node[leaf]
            removed.append(path)
    for task in _tasks(out):
        for field in TASK_SCHEMA_GAPS:
            if field in task:
                del task[field]
                removed.append(f"tasks[{task.get('task_key')}].{field}")
    return out, removed


def check_payload(payload: dict, schema: BundleSchema | None = None) -> tuple[list[SchemaProblem], list[str]]:
    """Problems of a whole jobs/create payload against ``resources.Job``, and the gap fields left unchecked."""
    schema = schema or load()
    if schema is None:
        raise FileNotFoundError(f"no bundle schema: set ${SCHEMA_ENV} or put {SCHEMA_NAME} in ../shared/schemas/")
    checked, removed = split_gaps(payload)
    return schema.check(checked, JOB_DEF), removed
