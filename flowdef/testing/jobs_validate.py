"""What the Jobs service rejects in job settings, and the defaults it fills in.

``validate(settings, prefix)`` raises :class:`~flowdef.testing.state.ApiError` (400
``INVALID_PARAMETER_VALUE``) for the first problem found, like the service.  Messages whose wording
was seen in real service responses are marked ``# verified``; the rest are plausible wordings of
the same rule (clients should match on the error class/code, not the text).

``fill_defaults(settings, api_version)`` adds the fields the service returns on ``jobs/get`` even
though the client never sent them (:data:`SERVER_DEFAULTS_DOC` lists them).  A deploy tool that
diffs desired vs. deployed settings must not report these as drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flowdef.jobsapi.fields import TASK
from flowdef.jobsapi.fields_table import OBJECTS, REQUIRED
from flowdef.testing.state import ApiError, invalid

__all__ = ["MAX_TASKS", "SERVER_DEFAULTS_DOC", "TASK_TYPES", "fill_defaults", "validate"]

from flowdef.jobsapi.facts import MAX_CONCURRENT_RUNS, MAX_TASKS  # noqa: E402

# Every task kind of the API and the fields each requires, from the field table generated from databricks-sdk
# (flowdef.jobsapi.fields_table): a kind the SDK learns is known here after regenerating, with no list to edit.
TASK_TYPES = tuple(sorted(f for f in OBJECTS[TASK] if f.endswith("_task")))
_REQUIRED = {kind: REQUIRED.get(OBJECTS[TASK][kind], ()) for kind in TASK_TYPES}

_PAUSE = ("PAUSED", "UNPAUSED")
_SOURCE = ("WORKSPACE", "GIT")
from flowdef.jobsapi.facts import CONDITION_OPS as _OPS, HEALTH_OPS, RUN_IF_VALUES as _RUN_IF  # noqa: E402
_GIT_PROVIDERS = ("gitHub", "bitbucketCloud", "azureDevOpsServices", "gitHubEnterprise",
                  "bitbucketServer", "gitLab", "gitLabEnterpriseEdition", "awsCodeCommit")
# Top-level enums: (dotted path, allowed values)
_JOB_ENUMS = (
    ("format", ("SINGLE_TASK", "MULTI_TASK")),
    # COST_OPTIMIZED is documented server-side although the SDK enum lacks it
    ("performance_target", ("PERFORMANCE_OPTIMIZED", "STANDARD", "COST_OPTIMIZED")),
    ("edit_mode", ("UI_LOCKED", "EDITABLE")),
    ("deployment.kind", ("BUNDLE", "SYSTEM_MANAGED")),
    ("schedule.pause_status", _PAUSE),
    ("continuous.pause_status", _PAUSE),
    ("continuous.task_retry_mode", ("NEVER", "ON_FAILURE")),
    ("trigger.pause_status", _PAUSE),
    ("trigger.periodic.unit", ("MINUTES", "HOURS", "DAYS", "WEEKS")),
    ("trigger.table_update.condition", ("ANY_UPDATED", "ALL_UPDATED")),
    ("trigger.job_completion.if_status", ("SUCCESS", "FAILED", "DONE")),
)
_TASK_ENUMS = (
    ("run_if", _RUN_IF),
    ("condition_task.op", _OPS),
    ("notebook_task.source", _SOURCE),
    ("spark_python_task.source", _SOURCE),
    ("dbt_task.source", _SOURCE),
    ("sql_task.file.source", _SOURCE),
)
_HEALTH_METRICS = ("RUN_DURATION_SECONDS", "STREAMING_BACKLOG_BYTES", "STREAMING_BACKLOG_RECORDS",
                   "STREAMING_BACKLOG_SECONDS", "STREAMING_BACKLOG_FILES")
from flowdef.jobsapi.facts import PARAM_NAME as _PARAM_RE, TASK_KEY as _KEY_RE  # noqa: E402
_QUARTZ_FIELD_RE = re.compile(r"^[0-9A-Za-z*?/,#\-]+$")

SERVER_DEFAULTS_DOC = """\
Job settings (when absent):   name "Untitled", email_notifications {}, webhook_notifications {},
                              timeout_seconds 0, max_concurrent_runs 1, format "MULTI_TASK" (always),
                              queue {"enabled": true} (jobs created through API 2.2 only)
Each task (when absent):      run_if "ALL_SUCCESS", timeout_seconds 0, email_notifications {},
                              notebook_task.source "WORKSPACE" ("GIT" when the job has git_source)
Each task:                    depends_on sorted by task_key
Job (outside settings):       creator_user_name, run_as_user_name (run_as user/SP, else the creator),
                              created_time (ms)"""


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _missing(prefix: str, field: str) -> ApiError:
    return invalid(f"Missing required field: {prefix}.{field}.")  # verified wording


def _enum(value: Any, allowed: Iterable[str], where: str) -> None:
    if value is not None and value not in allowed:
        raise invalid(f"Invalid value {value!r} for {where}. Supported values: {', '.join(allowed)}.")


def validate(settings: Any, prefix: str = "settings") -> None:
    """Raise ApiError for settings the Jobs service rejects (first problem wins)."""
    if not isinstance(settings, dict):
        raise ApiError(400, "MALFORMED_REQUEST", f"Could not parse request object: {prefix} must be an object")
    name = settings.get("name")
    if name is not None and (not isinstance(name, str) or len(name.encode()) > 4096):
        raise invalid(f"{prefix}.name must be a string of at most 4096 bytes.")
    for dotted, allowed in _JOB_ENUMS:
        _enum(_get(settings, dotted), allowed, f"{prefix}.{dotted}")
    mcr = settings.get("max_concurrent_runs")
    if mcr is not None and (not isinstance(mcr, int) or not 0 <= mcr <= MAX_CONCURRENT_RUNS):
        raise invalid(f"{prefix}.max_concurrent_runs must be between 0 and {MAX_CONCURRENT_RUNS}, got {mcr!r}.")
    tags = settings.get("tags") or {}
    if len(tags) > 25:
        raise invalid(f"A job can have at most 25 tags, got {len(tags)}.")
    triggers = [k for k in ("schedule", "continuous", "trigger", "triggers") if settings.get(k)]
    if len(triggers) > 1:
        raise invalid(f"Only one of schedule, continuous, trigger and triggers can be set, got: {', '.join(triggers)}.")
    if settings.get("schedule") is not None:
        _validate_schedule(settings["schedule"], f"{prefix}.schedule")
    _validate_git(settings.get("git_source"), prefix)
    queue = settings.get("queue")
    if queue is not None and not isinstance((queue or {}).get("enabled"), bool):
        raise _missing(prefix, "queue.enabled")
    for rule in _get(settings, "health.rules") or ():
        _validate_health_rule(rule, f"{prefix}.health.rules")
    _validate_parameters(settings.get("parameters"), prefix)
    cluster_keys = _unique_keys(settings.get("job_clusters"), "job_cluster_key", prefix, "job_clusters")
    env_keys = _unique_keys(settings.get("environments"), "environment_key", prefix, "environments")
    _validate_tasks(settings.get("tasks") or [], prefix, cluster_keys, env_keys, settings)


def _unique_keys(items: Any, key: str, prefix: str, field: str) -> set[str]:
    seen: set[str] = set()
    for item in items or ():
        value = (item or {}).get(key)
        if not value:
            raise _missing(prefix, f"{field}.{key}")
        if not isinstance(value, str) or not _KEY_RE.match(value):
            raise invalid(f"Invalid {key} {value!r}: must be 1-100 characters of letters, digits, '-' and '_'.")
        if value in seen:
            raise invalid(f"The {key} {value!r} is not unique in {prefix}.{field}.")
        seen.add(value)
    return seen


def _validate_parameters(params: Any, prefix: str) -> None:
    names: set[str] = set()
    for param in params or ():
        if not isinstance(param, dict) or not param.get("name"):
            raise _missing(prefix, "parameters.name")
        if "default" not in param or param["default"] is None:
            raise _missing(prefix, "parameters.default")
        if not _PARAM_RE.match(str(param["name"])):
            raise invalid(f"Invalid job parameter name {param['name']!r}: only letters, digits, '_', '-' and '.' are allowed.")
        if param["name"] in names:
            raise invalid(f"Job parameter {param['name']!r} is defined more than once.")
        names.add(param["name"])


def _validate_git(git: Any, prefix: str) -> None:
    if git is None:
        return
    if not git.get("git_url"):
        raise _missing(prefix, "git_source.git_url")
    provider = str(git.get("git_provider") or "")
    if provider.lower() not in {p.lower() for p in _GIT_PROVIDERS}:
        # verified wording (databricks/cli test server, mirrored from the service)
        raise invalid("git_source.git_provider must be one of: " + ",".join(p.lower() for p in _GIT_PROVIDERS))
    refs = [k for k in ("git_branch", "git_tag", "git_commit") if git.get(k)]
    if len(refs) > 1:
        raise invalid(f"Only one of git_branch, git_tag and git_commit can be set in {prefix}.git_source.")


def _validate_health_rule(rule: Any, where: str) -> None:
    for field in ("metric", "op", "value"):
        if (rule or {}).get(field) is None:
            raise invalid(f"Missing required field: {where}.{field}.")
    _enum(rule["metric"], _HEALTH_METRICS, f"{where}.metric")
    _enum(rule["op"], HEALTH_OPS, f"{where}.op")


def _validate_schedule(schedule: Any, where: str) -> None:
    expr = (schedule or {}).get("quartz_cron_expression")
    if not expr:
        raise invalid(f"Missing required field: {where}.quartz_cron_expression.")
    if not (schedule or {}).get("timezone_id"):
        raise invalid(f"Missing required field: {where}.timezone_id.")
    problem = quartz_problem(str(expr))
    if problem:
        raise invalid(f"Invalid Quartz Cron Expression: '{expr}' ({problem}).")
    _check_timezone(str(schedule["timezone_id"]), where)


def quartz_problem(expr: str) -> str | None:
    """A light syntactic Quartz check (None = looks fine).  Uses ``flowdef.quartz.parse`` when that
    module exists, so the fake and the compiler agree; otherwise only field count, characters and
    the day-of-month/day-of-week ``?`` rule are checked (Quartz itself is not re-implemented)."""
    try:
        from flowdef import quartz  # optional; written by the compiler side
    except ImportError:
        quartz = None  # type: ignore[assignment]
    if quartz is not None and hasattr(quartz, "parse"):
        error_type = getattr(quartz, "QuartzError", ValueError)
        try:
            quartz.parse(expr)
        except error_type as exc:  # type: ignore[misc]
            return str(exc)
        return None
    fields = expr.split()
    if len(fields) not in (6, 7):
        return f"expected 6 or 7 fields, got {len(fields)}"
    bad = [f for f in fields if not _QUARTZ_FIELD_RE.match(f)]
    if bad:
        return f"unexpected characters in {bad[0]!r}"
    if (fields[3] == "?") == (fields[5] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def _check_timezone(tz: str, where: str) -> None:
    import zoneinfo  # standard library; only its data may be missing

    try:
        zoneinfo.ZoneInfo("UTC")
    except Exception:  # noqa: BLE001 - no tz database on this machine: cannot judge, accept
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Invalid timezone_id {tz!r} in {where}.") from None


def _validate_tasks(tasks: list, prefix: str, cluster_keys: set[str], env_keys: set[str], settings: dict) -> None:
    if not isinstance(tasks, list):
        raise ApiError(400, "MALFORMED_REQUEST", f"Could not parse request object: {prefix}.tasks must be an array")
    if len(tasks) > MAX_TASKS:
        raise invalid(f"A job can have at most {MAX_TASKS} tasks, got {len(tasks)}.")
    keys: dict[str, dict] = {}
    all_keys: set[str] = set()
    for task in tasks:
        key = _validate_task(task, prefix, cluster_keys, env_keys, nested=False)
        if key in all_keys:
            raise invalid(f"Task key {key!r} is used by more than one task; task keys must be unique within a job.")
        keys[key] = task
        all_keys.add(key)
        inner = (task.get("for_each_task") or {}).get("task")
        if inner is not None:
            inner_key = _validate_task(inner, f"{prefix}.tasks.for_each_task", cluster_keys, env_keys, nested=True)
            if inner_key in all_keys:
                raise invalid(f"Task key {inner_key!r} is used by more than one task; task keys must be unique within a job.")
            all_keys.add(inner_key)
    edges: list[tuple[str, str]] = []
    for key, task in keys.items():
        for dep in task.get("depends_on") or ():
            up = (dep or {}).get("task_key")
            if not up:
                raise _missing(prefix, "tasks.depends_on.task_key")
            if up == key:
                raise invalid(f"Invalid dependency graph, task '{key}' can not reference itself.")  # verified
            if up not in keys:
                raise invalid(f"Invalid dependency graph, task '{key}' depends on '{up}', which does not exist in this job.")
            outcome = dep.get("outcome")
            if outcome is not None:
                if "condition_task" not in keys[up]:
                    raise invalid(f"Task '{key}' specifies an outcome for '{up}', which is not a condition task.")
                if outcome not in ("true", "false"):
                    raise invalid(f"Invalid outcome {outcome!r} in the dependency of '{key}' on '{up}': must be \"true\" or \"false\".")
            edges.append((up, key))
    from flowdef import graph  # the one graph module (networkx), imported when a job is validated

    cycles = graph.cycles(graph.Dag(list(keys), edges))
    if cycles:
        raise invalid(f"Invalid dependency graph, cycle detected: {' -> '.join(cycles[0])}.")


def _validate_task(task: Any, prefix: str, cluster_keys: set[str], env_keys: set[str], nested: bool) -> str:
    if not isinstance(task, dict):
        raise ApiError(400, "MALFORMED_REQUEST", f"Could not parse request object: {prefix}.tasks must hold objects")
    key = task.get("task_key")
    if not key:
        raise _missing(prefix, "tasks.task_key")  # verified: "Missing required field: settings.tasks.task_key."
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise invalid(f"Invalid task_key {key!r}: must be 1-100 characters of letters, digits, '-' and '_'.")
    kinds = [k for k in TASK_TYPES if task.get(k) is not None]
    if len(kinds) != 1:
        found = ", ".join(kinds) if kinds else "none"
        raise invalid(f"Task {key} must have exactly one task type (one of *_task fields), found: {found}.")
    kind = kinds[0]
    if nested and kind == "for_each_task":
        raise invalid(f"Task {key}: a for_each_task cannot contain another for_each_task.")
    body = task[kind]
    for field in _REQUIRED.get(kind, ()):
        if body.get(field) in (None, "", []):
            raise _missing(prefix, f"tasks.{kind}.{field}")
    if kind == "sql_task":
        sub = [k for k in ("query", "file", "alert", "dashboard") if body.get(k)]
        if len(sub) != 1:
            raise invalid(f"Task {key}: sql_task needs exactly one of query, file, alert and dashboard.")
    for dotted, allowed in _TASK_ENUMS:
        _enum(_get(task, dotted), allowed, f"{prefix}.tasks.{dotted} of task {key}")
    for rule in _get(task, "health.rules") or ():
        _validate_health_rule(rule, f"{prefix}.tasks.health.rules")
    jck = task.get("job_cluster_key")
    if jck is not None and jck not in cluster_keys:
        raise invalid(f"Task {key} references job_cluster_key {jck!r}, which is not defined in job_clusters.")
    env = task.get("environment_key")
    if env is not None and env not in env_keys:
        raise invalid(f"Task {key} references environment_key {env!r}, which is not defined in environments.")
    compute = [k for k in ("job_cluster_key", "new_cluster", "existing_cluster_id", "environment_key") if task.get(k)]
    if len(compute) > 1:
        raise invalid(f"Task {key} can use only one of job_cluster_key, new_cluster, existing_cluster_id and environment_key.")
    for num in ("max_retries", "timeout_seconds", "min_retry_interval_millis"):
        value = task.get(num)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid(f"Invalid value {value!r} for {prefix}.tasks.{num} of task {key}: expected an integer.")
    return key


def fill_defaults(settings: dict[str, Any], api_version: str = "2.2") -> dict[str, Any]:
    """Add the server-side defaults (see :data:`SERVER_DEFAULTS_DOC`) in place; returns ``settings``."""
    settings.setdefault("name", "Untitled")
    settings.setdefault("email_notifications", {})
    settings.setdefault("webhook_notifications", {})
    settings.setdefault("timeout_seconds", 0)
    settings.setdefault("max_concurrent_runs", 1)
    settings["format"] = "MULTI_TASK"
    if api_version == "2.2":
        settings.setdefault("queue", {"enabled": True})
    source = "GIT" if settings.get("git_source") else "WORKSPACE"
    for task in settings.get("tasks") or ():
        task.setdefault("run_if", "ALL_SUCCESS")
        task.setdefault("timeout_seconds", 0)
        task.setdefault("email_notifications", {})
        if isinstance(task.get("notebook_task"), dict):
            task["notebook_task"].setdefault("source", source)
        if task.get("depends_on"):
            task["depends_on"] = sorted(task["depends_on"], key=lambda d: str(d.get("task_key")))
    return settings
