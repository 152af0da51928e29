"""Compute rules: environments, job clusters, cluster specs, task libraries, SQL warehouses.

* one key, one definition: two different environments or job clusters under one key — FD517;
* declared compute no task uses — FD505 (warning);
* keys (1-100 of letters, digits, ``_``, ``-``), cluster sizing (workers xor autoscale), cluster enums — FD501 /
  FD513; raw ``ClusterSpec(extra=...)`` fields — FD511 / FD512;
* libraries need classic compute (serverless installs ``Environment(dependencies=...)``), look like what they
  claim, and exist when they are project files — FD503 / FD501 / FD406;
* (SQL tasks' warehouse, FD405, and Spark JAR tasks' JARs, FD503, are those kinds' rules:
  :mod:`flowdef.wire.kind_rules`).

``needs compute`` (FD503 for tasks without any) and the counts of clusters and environments are in
:mod:`.structure`.
"""

from __future__ import annotations

import re
from typing import Any

from flowdef.model.compute import (
    CLASSIC_TYPES, LIBRARY_KINDS, ClusterSpec, Environment, ExistingCluster, JobCluster, Library,
)
from flowdef.diagnostics import Diagnostic
from flowdef.model.spec import TaskSpec
from flowdef.validate.context import JobContext
from flowdef.wire import kinds
from flowdef.wire.kind_rules import check_enum as _enum

COMPUTE_KEY = re.compile(r"[\w\-]{1,100}\Z", re.ASCII)
RUNTIME_ENGINES = ("PHOTON", "STANDARD")
DATA_SECURITY_MODES = (
    "DATA_SECURITY_MODE_AUTO", "DATA_SECURITY_MODE_DEDICATED", "DATA_SECURITY_MODE_STANDARD", "LEGACY_PASSTHROUGH",
    "LEGACY_SINGLE_USER", "LEGACY_SINGLE_USER_STANDARD", "LEGACY_TABLE_ACL", "NONE", "SINGLE_USER", "USER_ISOLATION",
)
CLUSTER_KINDS = ("CLASSIC_PREVIEW",)
from flowdef.jobsapi.facts import EXTERNAL_PATH_PREFIXES as _EXTERNAL  # noqa: E402
_TYPED_CLUSTER_FIELDS = {
    "spark_version", "node_type_id", "driver_node_type_id", "num_workers", "autoscale", "policy_id",
    "apply_policy_default_values", "instance_pool_id", "driver_instance_pool_id", "spark_conf", "spark_env_vars",
    "custom_tags", "data_security_mode", "single_user_name", "runtime_engine", "kind", "is_single_node",
    "use_ml_runtime", "init_scripts",
}
_LIBRARY_SUFFIX = {"whl": (".whl",), "jar": (".jar",), "requirements": (".txt", ".in")}


def check(ctx: JobContext) -> list[Diagnostic]:
    job = ctx.job
    out: list[Diagnostic] = []
    tasks = ctx.task_paths
    used: dict[tuple[type, str], Any] = {}  # (type, key) -> first definition, tasks and the job default
    declared = [*job.environments, *job.job_clusters]
    for compute in declared:
        out += _define(ctx, used, compute, "declared")
    if job.compute is not None:
        out += _define(ctx, used, job.compute, "the job's default")
    for task, path in tasks:
        if task.compute is not None:
            out += _define(ctx, used, task.compute, f"task {task.key!r}")
    out += _unused(ctx, tasks)
    specs: list[tuple[ClusterSpec, Any, str]] = []
    for c in job.job_clusters:
        specs.append((c.spec, c.location, f"job_clusters.{c.key}.new_cluster"))
    for compute, where, loc in ((job.compute, "compute", job.location),
                                *((t.compute, p, t.location) for t, p in tasks)):
        if isinstance(compute, JobCluster) and compute not in job.job_clusters:
            specs.append((compute.spec, compute.location, f"job_clusters.{compute.key}.new_cluster"))
        elif isinstance(compute, ClusterSpec):  # a per-task cluster: reported at the task (or the job default)
            specs.append((compute, loc, f"{where}.new_cluster"))
    seen_specs: set[int] = set()
    for spec, location, path in specs:
        if id(spec) not in seen_specs:
            seen_specs.add(id(spec))
            out += _cluster(ctx, spec, location or job.location, path)
    for env in _environments(job, tasks):
        out += _environment(ctx, env)
    for task, path in tasks:
        if task.libraries:
            out += _libraries(ctx, task, path)
    return out


def _effective(ctx: JobContext, task: TaskSpec):
    if task.compute is not None:
        return task.compute
    return ctx.job.compute if kinds.needs_compute(task.kind) else None


def _define(ctx: JobContext, used: dict, compute, where: str) -> list[Diagnostic]:
    if not isinstance(compute, (Environment, JobCluster)):
        if isinstance(compute, ExistingCluster) and not str(compute.cluster_id or "").strip():
            return [ctx.d("FD501", f"ExistingCluster of {where} has an empty cluster id", compute.location)]
        return []
    out = []
    what = "environment" if isinstance(compute, Environment) else "job cluster"
    key = compute.key
    if not isinstance(key, str) or not COMPUTE_KEY.match(key):
        out.append(ctx.d("FD501", f"{what} key {key!r} is invalid: use 1-100 letters, digits, '_' or '-'",
                         compute.location, f"{what.replace(' ', '_')}s.{key}"))
    first = used.get((type(compute), key))
    if first is None:
        used[(type(compute), key)] = (compute, where)
    elif first[0] != compute:
        at = f" at {first[0].location}" if first[0].location else ""
        out.append(ctx.d(
            "FD517",
            f"{what} key {key!r} names two different definitions ({first[1]}{at}, and {where}); the job can hold "
            "only one — reuse one object or give each its own key",
            compute.location, f"{'environments' if what == 'environment' else 'job_clusters'}.{key}",
        ))
    return out


def _unused(ctx: JobContext, tasks) -> list[Diagnostic]:
    job = ctx.job
    out = []
    declared: list[Environment | JobCluster] = [*job.environments, *job.job_clusters]
    # what the tasks run on matters only when something is declared (most jobs declare nothing)
    in_use = {(type(c), c.key) for c in (_effective(ctx, t) for t, _ in tasks)
              if isinstance(c, (Environment, JobCluster))} if declared else set()
    for c in declared:
        if (type(c), c.key) not in in_use:
            what = "environment" if isinstance(c, Environment) else "job cluster"
            out.append(ctx.d("FD505", f"{what} {c.key!r} is declared but no task runs on it; remove it or pass "
                             "compute= to the tasks that should", c.location,
                             f"{'environments' if what == 'environment' else 'job_clusters'}.{c.key}"))
    if job.compute is not None and not any(kinds.needs_compute(t.kind) and t.compute is None
                                           for t, _ in tasks):
        out.append(ctx.d("FD505", "Job(compute=...) is a default no task uses (every task that needs compute names "
                         "its own, or none needs any); remove it", getattr(job.compute, "location", None),
                         "compute"))
    return out


def _environments(job, tasks) -> list[Environment]:
    found: dict[str, Environment] = {}
    for c in [*job.environments, job.compute, *(t.compute for t, _ in tasks)]:
        if isinstance(c, Environment):
            found.setdefault(c.key, c)
    return [found[k] for k in sorted(found)]


def _environment(ctx: JobContext, env: Environment) -> list[Diagnostic]:
    out = []
    path = f"environments.{env.key}.spec"
    if not (isinstance(env.version, str) and env.version.isdigit() and int(env.version) >= 1):
        out.append(ctx.d("FD501", f"environment {env.key!r}: version must be a serverless environment version such "
                         f"as '3' or '4', got {env.version!r}", env.location, f"{path}.environment_version"))
    for field in ("dependencies", "java_dependencies"):
        for i, dep in enumerate(getattr(env, field)):
            if not isinstance(dep, str) or not dep.strip():
                out.append(ctx.d("FD501", f"environment {env.key!r}: {field} entry {dep!r} must be a non-empty "
                                 "string (a pip requirement line or a path)", env.location, f"{path}.{field}[{i}]"))
    return out


def _cluster(ctx: JobContext, spec: ClusterSpec, location, path: str) -> list[Diagnostic]:
    out = []
    d = ctx.d
    if not str(spec.spark_version or "").strip():
        out.append(d("FD501", "cluster spark_version is empty (e.g. '15.4.x-scala2.12')", location,
                     f"{path}.spark_version"))
    if spec.num_workers is not None and spec.autoscale is not None:
        out.append(d("FD501", "cluster sets both num_workers and autoscale; give one", location, path))
    elif spec.num_workers is None and spec.autoscale is None and not spec.is_single_node and not spec.policy_id:
        out.append(d("FD501", "cluster sets neither num_workers nor autoscale, so it gets no workers; give "
                     "num_workers=N, autoscale=Autoscale(min, max), or is_single_node=True", location, path,
                     severity="warning"))
    if spec.num_workers is not None and (isinstance(spec.num_workers, bool) or not isinstance(spec.num_workers, int)
                                         or spec.num_workers < 0):
        out.append(d("FD501", f"num_workers must be an integer >= 0, got {spec.num_workers!r}", location,
                     f"{path}.num_workers"))
    elif spec.is_single_node and spec.num_workers:
        out.append(d("FD501", "a single-node cluster has num_workers=0", location, f"{path}.num_workers"))
    if spec.autoscale is not None:
        lo, hi = spec.autoscale.min_workers, spec.autoscale.max_workers
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi and hi >= 1):
            out.append(d("FD501", f"autoscale needs 0 <= min_workers <= max_workers and max_workers >= 1, got "
                         f"Autoscale({lo!r}, {hi!r})", location, f"{path}.autoscale"))
    if spec.runtime_engine is not None:
        out += _enum(ctx, "runtime_engine", spec.runtime_engine, RUNTIME_ENGINES, location, f"{path}.runtime_engine")
    if spec.data_security_mode is not None:
        out += _enum(ctx, "data_security_mode", spec.data_security_mode, DATA_SECURITY_MODES, location,
                     f"{path}.data_security_mode")
    if spec.kind is not None:
        out += _enum(ctx, "cluster kind", spec.kind, CLUSTER_KINDS, location, f"{path}.kind")
    for field in ("spark_conf", "spark_env_vars", "custom_tags"):
        for name, value in getattr(spec, field):
            if not isinstance(value, str):
                out.append(d("FD501", f"{field}[{name!r}] must be a string, got {value!r} (write {str(value)!r})",
                             location, f"{path}.{field}.{name}"))
    for i, script in enumerate(spec.init_scripts):
        if not str(script).startswith(_EXTERNAL) and not (ctx.config.root / script).is_file():
            out.append(d("FD406", f"init script {script!r} does not exist (relative paths are project files, under "
                         f"{ctx.config.root})", location, f"{path}.init_scripts[{i}]"))
    out += _cluster_extra(ctx, spec, location, path)
    return out


def _cluster_extra(ctx: JobContext, spec: ClusterSpec, location, path: str) -> list[Diagnostic]:
    if not spec.extra:
        return []
    from flowdef.jobsapi import fields
    from flowdef.validate.raw import value_problems

    known = fields.field_names(fields.CLUSTER)
    out = []
    for field, value in spec.extra:
        where = f"{path}.{field}"
        if field in _TYPED_CLUSTER_FIELDS:
            out.append(ctx.d("FD511", f"{field!r} is a ClusterSpec keyword: pass {field}=... instead of extra=",
                             location, where))
        elif field not in known:
            import difflib

            close = difflib.get_close_matches(field, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(ctx.d("FD511", f"{field!r} is not a cluster field{hint}", location, where))
        else:
            out += value_problems(ctx, fields.check_field(value, fields.CLUSTER, field), location, where)
    return out


def _libraries(ctx: JobContext, task: TaskSpec, path: str) -> list[Diagnostic]:
    """Task libraries need classic compute, and each must look like what it claims.  (A kind's own compute and
    warehouse needs — Spark JARs, SQL tasks — are its rules in flowdef.wire.kind_rules.)"""
    out = []
    compute = _effective(ctx, task)
    if not isinstance(compute, CLASSIC_TYPES):
        where = ("runs on serverless environment " + repr(compute.key)) if isinstance(compute, Environment) \
            else "has no cluster (serverless)"
        out.append(ctx.d(
            "FD503",
            f"task {task.key!r} {where}, where task libraries are not installed; add them to "
            "Environment(dependencies=[...]) (java_dependencies for JARs), or run the task on a JobCluster / "
            "ClusterSpec / ExistingCluster",
            task.libraries[0].location or task.location, f"{path}.libraries",
        ))
    for i, lib in enumerate(task.libraries):
        out += _library(ctx, lib, task, f"{path}.libraries[{i}]")
    return out


def _library(ctx: JobContext, lib: Library, task: TaskSpec, path: str) -> list[Diagnostic]:
    loc = lib.location or task.location
    if lib.kind not in LIBRARY_KINDS:
        return _enum(ctx, "library kind", lib.kind, LIBRARY_KINDS, loc, path)
    out = []
    value = lib.value
    if not isinstance(value, str) or not value.strip():
        return [ctx.d("FD501", f"{lib.kind} library of task {task.key!r} is empty", loc, path)]
    suffixes = _LIBRARY_SUFFIX.get(lib.kind)
    if suffixes and not value.lower().endswith(suffixes) and "{{" not in value:
        out.append(ctx.d("FD501", f"{lib.kind} library {value!r} should end with {' or '.join(suffixes)} — "
                         f"use Library.{_constructor(value)}(...) for this file", loc, f"{path}.{lib.kind}",
                         severity="warning"))
    if lib.is_path and not value.startswith(_EXTERNAL) and not (ctx.config.root / value).is_file():
        out.append(ctx.d("FD406", f"{lib.kind} library {value!r} of task {task.key!r} does not exist (relative paths "
                         f"are project files, under {ctx.config.root}; build it before validating, or use an "
                         "absolute /Volumes/... or /Workspace/... path)", loc, f"{path}.{lib.kind}"))
    if lib.kind == "maven" and len(value.split(":")) < 3:
        out.append(ctx.d("FD501", f"maven coordinates {value!r} must be 'group:artifact:version'", loc,
                         f"{path}.maven.coordinates"))
    if lib.kind == "pypi" and (value.endswith((".whl", ".txt")) or value.startswith(("/", "./"))):
        out.append(ctx.d("FD501", f"pypi library {value!r} looks like a file: use Library.{_constructor(value)}(...)",
                         loc, f"{path}.pypi.package"))
    return out


def _constructor(value: str) -> str:
    v = value.lower()
    return "whl" if v.endswith(".whl") else "jar" if v.endswith(".jar") else "requirements" if v.endswith(
        (".txt", ".in")) else "pypi"
