"""ONE normalisation for both sides of a comparison: the compiled payload and the job the workspace returns.

The service fills defaults into every job it stores (``format: MULTI_TASK``, ``email_notifications: {}``,
``max_concurrent_runs: 1``, per-task ``run_if: ALL_SUCCESS``...), re-orders some arrays (``depends_on`` by task key)
and keeps write-only fields (``run_as``).  None of that is drift.  :func:`normalize` maps a settings dict to a
canonical form in which two jobs that *behave* the same compare equal:

* keyed arrays become dicts keyed by their key (``tasks`` by ``task_key``, ``job_clusters``, ``environments``,
  ``parameters`` by name), so task order is no change and the diff can say ``tasks[ingest].timeout_seconds``;
* ``depends_on`` is sorted by task key;
* values equal to the service default are removed, and so are ``None`` and empty containers;
* read-only / write-only fields (``format``, ``run_as``) are dropped.

:func:`comparable` applies it to both sides; it is the only entry point plan uses.  Rejected alternative: a
per-field allow-list of what to compare - it silently ignores every field added later, which is drift we must see.
"""

from __future__ import annotations

from typing import Any

#: Top-level fields whose service default is not drift (value compared after the other rules).
JOB_DEFAULTS: dict[str, Any] = {
    "max_concurrent_runs": 1,
    "timeout_seconds": 0,
    "queue": {"enabled": True},  # API 2.2 creates queued jobs
    "format": "MULTI_TASK",
    "edit_mode": "EDITABLE",
    "performance_target": "PERFORMANCE_OPTIMIZED",
}
#: Task-level defaults.
TASK_DEFAULTS: dict[str, Any] = {
    "run_if": "ALL_SUCCESS",
    "timeout_seconds": 0,
    "max_retries": 0,
    "min_retry_interval_millis": 0,
    "retry_on_timeout": False,
    "disabled": False,
}
#: Fields the service reports but that the payload never controls (``format`` is ignored on write; ``run_as`` is
#: write-only and comes back filled with the creator).
DROPPED = ("format", "run_as")
_SOURCE_DEFAULTS = ("notebook_task", "spark_python_task", "sql_task.file")
_KEYED = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key",
          "parameters": "name"}


_SCALARS = (str, int, bool, float)  # exactly these types: a subclass (str-like references) is copied below


def _prune(value: Any) -> Any:
    """Drop ``None`` and empty containers, recursively (the compiler omits them; the service adds them).  Also a
    deep copy into plain JSON types (the compiler may hand us ``str`` subclasses such as task-value references).

    Exact ``type(...) is`` tests first: a no-op plan prunes both sides of every job, and this walk was its largest
    cost (isinstance chains and ``v == {}`` comparisons at every leaf)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if type(v) not in _SCALARS:
                v = _prune(v)
                if v is None or (not v and type(v) in (dict, list)):
                    continue
            out[k] = v
        return out
    if kind is list or isinstance(value, (list, tuple)):
        return [v if type(v) in _SCALARS else _prune(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _drop_defaults(d: dict, defaults: dict[str, Any]) -> None:
    for key, default in defaults.items():
        if key in d and d[key] == default:
            del d[key]


def _task(task: dict, git: bool) -> dict:
    task = dict(task)
    _drop_defaults(task, TASK_DEFAULTS)
    if isinstance(task.get("depends_on"), list):
        task["depends_on"] = sorted(task["depends_on"], key=lambda d: (str(d.get("task_key")), str(d.get("outcome"))))
    source = "GIT" if git else "WORKSPACE"
    for path in _SOURCE_DEFAULTS:
        node: Any = task
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get("source") == source:
            node = dict(node)
            del node["source"]
            # write the copy back along the same path
            parts = path.split(".")
            parent = task
            for part in parts[:-1]:
                parent[part] = dict(parent[part])
                parent = parent[part]
            parent[parts[-1]] = node
    if isinstance(task.get("run_job_task"), dict) and "job_id" in task["run_job_task"]:
        # int64 on the wire; the service may echo it as a number or a string
        task["run_job_task"] = dict(task["run_job_task"], job_id=str(task["run_job_task"]["job_id"]))
    return _prune(task)


def normalize(settings: dict) -> dict:
    """The canonical, order-free form of job settings (see the module docstring).  Pure; input untouched."""
    s = _prune(settings or {})
    for key in DROPPED:
        s.pop(key, None)
    _drop_defaults(s, JOB_DEFAULTS)
    git = bool(s.get("git_source"))
    for name, key in _KEYED.items():
        items = s.get(name)
        if not isinstance(items, list):
            continue
        keyed: dict[str, Any] = {}
        for i, item in enumerate(items):
            k = item.get(key) if isinstance(item, dict) else None
            k = str(k) if k is not None else f"#{i}"
            if name == "tasks":
                item = _task(item, git)
            keyed[k] = item
        s[name] = keyed
    return s


def comparable(desired: dict, remote: dict) -> tuple[dict, dict]:
    """Both sides normalised the same way.  Remote-only write-only fields are already gone (``DROPPED``)."""
    return normalize(desired), normalize(remote)
