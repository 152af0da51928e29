"""flowdef: define, check, deploy, run and repair Databricks Lakeflow Jobs as Python code.

    from flowdef import Job, Cron

    job = Job("nightly", params={"catalog": "main"}, trigger=Cron.daily(at="02:30"))

    @job.task
    def hello(ctx):
        print("catalog is", ctx.params["catalog"])

``import flowdef`` loads neither networkx, jinja2 nor databricks-sdk (a test enforces it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdef.model.compute import Autoscale, ClusterSpec, Environment, ExistingCluster, JobCluster, Library
from flowdef.errors import ConfigError, DefinitionError, FlowdefError, UserCodeError, WorkspaceError
from flowdef.dsl.job import INPUT, Branch, ConditionHandle, ForEachHandle, FunctionHandle, InputRef, Job, TaskHandle
from flowdef.model.spec import Retry, RunIf
from flowdef.dsl.refs import JobParamRef, TaskValueRef
from flowdef.model.settings import (
    EditMode, GitProvider, GitSource, Health, HealthMetric, HealthRule, Notifications, Permission, PermissionLevel,
    RunAs, Webhook,
)
from flowdef.model.tasks import PowerBiModel, PowerBiTable, Subscriber
from flowdef.model.triggers import Continuous, Cron, FileArrival, JobCompletion, MaintenanceWindow, Periodic, TableUpdate

if TYPE_CHECKING:
    from flowdef.runtime import TaskContext, TaskValues

__version__ = "0.1.0"

__all__ = [
    "INPUT", "Autoscale", "Branch", "ClusterSpec", "ConditionHandle", "ConfigError", "Continuous", "Cron",
    "DefinitionError", "EditMode", "Environment", "ExistingCluster", "FileArrival", "FlowdefError", "ForEachHandle",
    "FunctionHandle", "GitProvider", "GitSource", "Health", "HealthMetric", "HealthRule", "InputRef", "Job",
    "JobCluster", "JobCompletion", "JobParamRef", "MaintenanceWindow", "Library", "Notifications", "Periodic", "Permission",
    "PermissionLevel", "PowerBiModel", "PowerBiTable", "Retry", "RunAs", "RunIf", "Subscriber", "TableUpdate",
    "TaskContext", "TaskHandle", "TaskValueRef", "TaskValues", "UserCodeError", "Webhook", "WorkspaceError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # The runtime (argparse, json) is only needed inside a running task: load it on first use.
    if name in ("TaskContext", "TaskValues"):
        from flowdef import runtime
        return getattr(runtime, name)
    raise AttributeError(f"module 'flowdef' has no attribute {name!r}")
