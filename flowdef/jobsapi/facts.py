"""Jobs API 2.2 facts, each written once: enums, limits, identity tags, path prefixes.

Everything that needs one of these (the model, the DSL, validation, the compiler, deploy, the fake workspace and the
run semantics) imports it from here.  Sources: ``../shared/docs/jobs-api.md`` and ``jobs-api-fields.md`` (the API
reference and what was verified against it); the SDK field/type table lives beside this module (``jobsapi/``).
Standard library only: the function-task runtime ships this module to clusters.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------------------------
# Task dependencies and conditions

#: ``run_if`` values, in the API reference's order; a task without ``run_if`` runs ``ALL_SUCCESS``.
RUN_IF_VALUES = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED",
                 "ALL_FAILED")
DEFAULT_RUN_IF = "ALL_SUCCESS"
#: ``run_if`` values under which a task runs only when something upstream failed (failure handlers).
FAILURE_RUN_IF = frozenset({"AT_LEAST_ONE_FAILED", "ALL_FAILED"})

#: ``condition_task.op`` values.  ``EQUAL_TO``/``NOT_EQUAL`` compare the operands as strings, the others as numbers.
CONDITION_OPS = ("EQUAL_TO", "NOT_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL")
STRING_CONDITION_OPS = frozenset({"EQUAL_TO", "NOT_EQUAL"})
#: The operators the DSL accepts for ``job.condition(left, op, right)``, spelled as in Python.
CONDITION_OP_SYMBOLS = {
    "==": "EQUAL_TO", "!=": "NOT_EQUAL", ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL",
    "<": "LESS_THAN", "<=": "LESS_THAN_OR_EQUAL",
}
#: Spellings people bring from SQL and other tools: not accepted, but validation suggests the API's name for them.
CONDITION_OP_LOOKALIKES = {
    **CONDITION_OP_SYMBOLS, "=": "EQUAL_TO", "<>": "NOT_EQUAL", "EQUALS": "EQUAL_TO", "EQ": "EQUAL_TO",
    "NE": "NOT_EQUAL", "GT": "GREATER_THAN", "GE": "GREATER_THAN_OR_EQUAL", "LT": "LESS_THAN",
    "LE": "LESS_THAN_OR_EQUAL",
}
#: The events of ``email_notifications`` / ``webhook_notifications``.
NOTIFICATION_EVENTS = ("on_start", "on_success", "on_failure", "on_duration_warning_threshold_exceeded",
                       "on_streaming_backlog_exceeded")
#: ``health.rules[].op`` values.
HEALTH_OPS = ("GREATER_THAN",)

# --------------------------------------------------------------------------------------------------------------
# Names

#: ``task_key``: letters, digits, ``_`` and ``-``, 1 to 100 characters.
TASK_KEY = re.compile(r"[\w\-]{1,100}\Z", re.ASCII)
#: A job or task parameter name: letters, digits, ``_``, ``-`` and ``.``.
PARAM_NAME = re.compile(r"[\w\-.]+\Z", re.ASCII)

# --------------------------------------------------------------------------------------------------------------
# Limits

MAX_TASKS = 1000  # tasks per job (jobs/create, jobs/reset)
MAX_JOB_CLUSTERS = 100
MAX_ENVIRONMENTS = 10
MAX_TAGS = 25  # job tags, the identity tags included
MAX_NAME_BYTES = 4096  # job name, UTF-8
MAX_JOB_DESCRIPTION = 27_700  # characters
MAX_TASK_DESCRIPTION = 1000  # characters
MAX_BASE_PARAMETERS_BYTES = 1024 * 1024  # a task's parameters as JSON
MAX_TASK_VALUE_BYTES = 48 * 1024  # one task value (dbutils.jobs.taskValues.set), as JSON
MAX_CONCURRENT_RUNS = 1000  # max_concurrent_runs: 0..1000
MAX_FOR_EACH_CONCURRENCY = 100  # often quoted, not in the API reference: validation only warns
MAX_WEBHOOKS_PER_EVENT = 3
MAX_DBT_COMMANDS = 10
MAX_ALERT_SUBSCRIBERS = 100
MAX_GIT_URL, MAX_GIT_BRANCH, MAX_GIT_TAG, MAX_GIT_COMMIT = 300, 255, 255, 64
MAX_ENVIRONMENT_VARIABLES = 10
INT32_MAX = 2**31 - 1  # timeouts, retry intervals in milliseconds

# --------------------------------------------------------------------------------------------------------------
# Deployment

#: The tags by which flowdef recognises the jobs it manages: ``flowdef_project``, ``flowdef_target``,
#: ``flowdef_job`` (the compiler adds them to every job; deploy finds its jobs by them).
PROJECT_TAG, TARGET_TAG, JOB_TAG = "flowdef_project", "flowdef_target", "flowdef_job"
IDENTITY_TAGS = (PROJECT_TAG, TARGET_TAG, JOB_TAG)

# --------------------------------------------------------------------------------------------------------------
# Paths

#: Object-store and DBFS URL prefixes: such paths are used as given, never uploaded.
CLOUD_PATH_PREFIXES = ("dbfs:", "s3:", "s3a:", "abfss:", "gs:", "wasbs:")
#: Paths that are not project files: absolute (workspace or ``/Volumes/``), cloud, or ``file:`` on the cluster.
EXTERNAL_PATH_PREFIXES = ("/", *CLOUD_PATH_PREFIXES, "file:")
#: Unity Catalog volumes.
VOLUMES_PREFIX = "/Volumes/"
#: Init-script destinations by prefix, first match wins (``/`` last: any other absolute path is a workspace file).
INIT_SCRIPT_STORES = (("/Volumes/", "volumes"), ("s3:", "s3"), ("s3a:", "s3"), ("abfss:", "abfss"), ("gs:", "gcs"),
                      ("dbfs:", "dbfs"), ("file:", "file"), ("/", "workspace"))


def is_external_path(path: str) -> bool:
    """A path flowdef leaves alone (not a project file to upload)."""
    return path.startswith(EXTERNAL_PATH_PREFIXES)
