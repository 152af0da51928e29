"""In-memory state of a fake Databricks workspace: jobs, workspace tree, permissions, runs.

Plain containers guarded by one re-entrant lock (``WorkspaceState.lock``); the API modules
(``jobs_api``, ``runs_api``, ``workspace_api``) hold it for the whole of a request, so every request
is atomic and the server can serve concurrent clients.  Tests may read these containers directly
(``ws.state.jobs[job_id]`` is the stored settings dict, server defaults included), but should write
through :class:`flowdef.testing.FakeWorkspace` helpers (``add_job``...) so the invariants hold.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiError", "JobMeta", "Options", "WorkspaceObject", "WorkspaceState", "now_ms"]


def now_ms() -> int:
    return int(time.time() * 1000)


class ApiError(Exception):
    """A Databricks-shaped error response: HTTP ``status`` + ``{"error_code", "message"}``."""

    def __init__(self, status: int, error_code: Any, message: str, headers: dict | None = None):
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE - the Jobs/Workspace APIs' answer to most bad requests."""
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


@dataclass
class Options:
    """Behaviour switches of a fake workspace (see :class:`flowdef.testing.FakeWorkspace`)."""

    server_defaults: bool = True
    list_lag: int = 0
    list_lag_seconds: float = 0.0  # a new job is missing from jobs/list for this long (time-based lag)
    run_polls: int = 0
    not_found_style: str = "modern"  # "modern": 404 RESOURCE_DOES_NOT_EXIST; "legacy": 400 INVALID_PARAMETER_VALUE


def not_found(kind: str, ident: Any, options: Options) -> ApiError:
    """``Job 123 does not exist.`` / ``Run 5 does not exist.`` in the configured style.

    The SDK itself maps the legacy 400 INVALID_PARAMETER_VALUE "Job .* does not exist" answer of
    ``jobs/get`` and ``jobs/runs/get`` to ``ResourceDoesNotExist`` (errors/overrides.py), which shows
    the service has answered that way; newer answers are 404 RESOURCE_DOES_NOT_EXIST.
    """
    message = f"{kind} {ident} does not exist."
    if options.not_found_style == "legacy":
        return ApiError(400, "INVALID_PARAMETER_VALUE", message)
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


@dataclass
class WorkspaceObject:
    """A notebook, file or directory in the workspace tree (``ws.state.files[path]``).

    For notebooks ``content`` is the source *without* the ``# Databricks notebook source`` header
    (the header is added back on SOURCE export, as the service does).
    """

    path: str
    object_type: str  # NOTEBOOK | FILE | DIRECTORY
    object_id: int
    content: bytes = b""
    language: str | None = None
    created_at: int = field(default_factory=now_ms)
    modified_at: int = field(default_factory=now_ms)

    def info(self) -> dict[str, Any]:
        """The ``ObjectInfo`` wire shape (get-status / list)."""
        out: dict[str, Any] = {
            "object_type": self.object_type,
            "path": self.path,
            "object_id": self.object_id,
            "resource_id": str(self.object_id),
        }
        if self.object_type != "DIRECTORY":
            out["created_at"] = self.created_at
            out["modified_at"] = self.modified_at
        if self.object_type == "NOTEBOOK":
            out["language"] = self.language
        if self.object_type == "FILE":
            out["size"] = len(self.content)
        return out


@dataclass
class JobMeta:
    """Job fields that are not settings."""

    creator_user_name: str
    created_time: int
    api_version: str = "2.2"
    #: number of further jobs/list requests that must not show the job yet (eventual consistency)
    list_hidden_for: int = 0
    #: ``time.monotonic()`` before which jobs/list does not show the job (time-based eventual consistency)
    list_hidden_until: float = 0.0


class WorkspaceState:
    """Everything the fake workspace stores.  Hold ``lock`` while reading or writing."""

    def __init__(self, user_name: str) -> None:
        self.lock = threading.RLock()
        self.user_name = user_name
        #: job id -> settings dict (as ``jobs/get`` returns it in ``settings``)
        self.jobs: dict[int, dict[str, Any]] = {}
        self.job_meta: dict[int, JobMeta] = {}
        #: job id -> direct grants ``[{"user_name"|"group_name"|"service_principal_name": ..., "permission_level": ...}]``
        self.permissions: dict[int, list[dict[str, str]]] = {}
        #: normalised absolute path -> object (directories included)
        self.files: dict[str, WorkspaceObject] = {}
        self.idempotency: dict[str, int] = {}
        #: (job_id, task_key) -> remaining forced failures (None = always), error message
        self.task_failures: dict[tuple[int, str], list[Any]] = {}
        #: (job_id, task_key) -> task values the task sets whenever it runs (runs/ keeps them per run)
        self.task_values: dict[tuple[int, str], dict[str, Any]] = {}
        #: (job_id, task_key) -> {"logs"|"notebook_result"|"error_trace": str} for runs/get-output
        self.task_outputs: dict[tuple[int, str], dict[str, Any]] = {}
        self._job_ids = itertools.count(1001)
        self._run_ids = itertools.count(7001)
        self._object_ids = itertools.count(4_000_000_000_001)
        self._repair_ids = itertools.count(9001)
        for path in ("/", "/Users", f"/Users/{user_name}", "/Shared", "/Repos"):
            self.files[path] = WorkspaceObject(path, "DIRECTORY", self.next_object_id())

    def next_job_id(self) -> int:
        return next(self._job_ids)

    def next_run_id(self) -> int:
        return next(self._run_ids)

    def next_object_id(self) -> int:
        return next(self._object_ids)

    def next_repair_id(self) -> int:
        return next(self._repair_ids)
