"""The workspace, as deploy needs it: jobs, permissions and workspace files over databricks-sdk's ``ApiClient``.

Raw ``api_client.do`` with dicts, not the typed ``w.jobs.*`` methods: the compiler's payload goes on the wire
byte for byte (the SDK's dataclasses silently drop fields and enum values they don't know, jobs-api.md §17), and
what comes back is compared as plain JSON.  Auth is the SDK's unified auth (``host``/``profile`` of the target,
else the ``DATABRICKS_*`` environment, else ``~/.databrickscfg``).

Retries - what the SDK already does (``_base_client.py`` + ``retries.py``, 0.162), for every method:
429 and 503 (sleeping ``Retry-After``, default 1 s), connection errors and timeouts (linear back-off to 10 s),
and a few error messages ("Unexpected error"...), within ``retry_timeout_seconds`` (default 300).  What it does
not do, and this module adds:

* 500 / 502 / 504 on *idempotent* calls (reads, ``reset``, ``delete``, permissions PUT, overwriting imports):
  retried here with exponential back-off, once the SDK has given up on them (it never retries them itself, so
  nothing is retried twice).
* ``jobs/create`` is not idempotent, and the SDK would blindly resend it after a connection reset - a duplicate
  job if the first one was committed.  Create therefore runs with the SDK's retries switched off (a clock whose
  ``sleep`` refuses, for this thread only) and decides itself: 429/503 are rejections, so it resends; a lost
  response (reset, timeout, 5xx) is *ambiguous*, so it first looks for the job by name and identity tags
  (re-listing a few times: ``jobs/list`` is eventually consistent) and only creates again when it is not there.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flowdef.errors import WorkspaceError

_TRANSIENT_CODES = {"INTERNAL_ERROR", "BAD_GATEWAY", "DEADLINE_EXCEEDED", "TEMPORARILY_UNAVAILABLE",
                    "REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR"}
JOBS = "/api/2.2/jobs"


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class _NoRetry(Exception):
    """Raised by the clock's ``sleep`` when the SDK wants to retry a call we must handle ourselves."""


class _SwitchClock:
    """A databricks-sdk ``Clock`` whose ``sleep`` can refuse, per thread (see the module docstring)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def refusing(self) -> bool:
        return getattr(self._local, "refuse", False)

    def refuse(self, value: bool) -> None:
        self._local.refuse = value

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if self.refusing:
            raise _NoRetry()
        time.sleep(seconds)


def _error_code(err: BaseException) -> str:
    return str(getattr(err, "error_code", "") or "")


def is_not_found(err: BaseException) -> bool:
    from databricks.sdk.errors import NotFound

    if isinstance(err, NotFound) or _error_code(err) in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
        return True
    # the legacy answer of jobs/get and jobs/delete: 400 INVALID_PARAMETER_VALUE "Job 12 does not exist."
    return _error_code(err) == "INVALID_PARAMETER_VALUE" and "does not exist" in str(err)


def is_transient(err: BaseException) -> bool:
    """5xx / throttling / network: worth another try for an idempotent call."""
    import requests
    from databricks.sdk.errors import (
        DeadlineExceeded,
        InternalError,
        TemporarilyUnavailable,
        TooManyRequests,
    )

    if isinstance(err, (requests.ConnectionError, requests.Timeout, TimeoutError)):
        return True
    if isinstance(err, (InternalError, DeadlineExceeded, TemporarilyUnavailable, TooManyRequests)):
        return True
    return _error_code(err) in _TRANSIENT_CODES


def _first_line(text: str) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    # the SDK appends its whole configuration ("... Config: host=..., token=***. Env: ...") to auth errors
    return text.split(" Config: ", 1)[0].rstrip(". ") if " Config: " in text else text


def describe(err: BaseException) -> str:
    """One line for a failure: ``ERROR_CODE: message``, without the SDK's configuration dump or urllib3's chain."""
    import re

    import requests

    if isinstance(err, WorkspaceError):
        return str(err)
    if isinstance(err, TimeoutError) and err.__cause__ is not None:
        return f"gave up retrying: {describe(err.__cause__)}"
    if isinstance(err, requests.ConnectionError):
        text = str(err)
        host = re.search(r"host='([^']+)', port=(\d+)", text)
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        where = f"{host.group(1)}:{host.group(2)}" if host else "the workspace"
        return f"cannot reach {where}: {reason.group(1) if reason else 'connection failed'}"
    text = _first_line(str(err)) or type(err).__name__
    code = _error_code(err)
    if code and not text.startswith(str(code)):
        text = f"{code}: {text}"
    from databricks.sdk.errors import PermissionDenied, Unauthenticated

    if isinstance(err, (PermissionDenied, Unauthenticated)) and "token" in text.lower():
        text += " (check DATABRICKS_TOKEN, or the target's host/profile)"
    return text


class Workspace:
    """One authenticated workspace connection, safe to share between threads (requests' connection pool is
    thread-safe and the SDK's ``ApiClient`` keeps no per-request state)."""

    def __init__(self, *, host: str | None = None, profile: str | None = None, retry_timeout: float | None = None,
                 pool_size: int = 16) -> None:
        logging.getLogger("databricks.sdk").addHandler(logging.NullHandler())  # no stray warnings on stderr
        try:
            from databricks.sdk.config import Config
            from databricks.sdk.core import ApiClient
        except ImportError:  # pragma: no cover - depends on the installation
            raise WorkspaceError("databricks-sdk is not installed: pip install 'flowdef[deploy]'") from None
        self.retry_timeout = retry_timeout if retry_timeout is not None else _env_float("FLOWDEF_RETRY_TIMEOUT", 300)
        self.reconcile_wait = _env_float("FLOWDEF_RECONCILE_WAIT", 5.0)
        self._clock = _SwitchClock()
        kwargs: dict[str, Any] = {"clock": self._clock, "retry_timeout_seconds": max(1, int(self.retry_timeout)),
                                  "max_connection_pools": pool_size, "max_connections_per_pool": pool_size}
        if host:
            kwargs["host"] = host
        if profile:
            kwargs["profile"] = profile
        try:
            self.config = Config(**kwargs)
            self.api = ApiClient(self.config)
        except Exception as exc:  # noqa: BLE001 - the SDK raises ValueError and others; all become one line
            first = _first_line(str(exc)) or type(exc).__name__
            first = first.split(", please check https://", 1)[0]
            where = f" (profile {profile})" if profile else (f" ({host})" if host else "")
            raise WorkspaceError(
                f"cannot authenticate to a Databricks workspace{where}: {first}; set DATABRICKS_HOST and "
                f"DATABRICKS_TOKEN (or another unified-auth method), or `host`/`profile` in the target") from None
        self.host = str(self.config.host or "")

    # ------------------------------------------------------------------------------------------- transport

    def call(self, method: str, path: str, *, query: dict | None = None, body: Any = None,
             idempotent: bool = True, raw: bool = False) -> Any:
        """One API call; 500/502/504 retried for idempotent calls (the SDK retries 429/503/network itself)."""
        deadline = time.monotonic() + self.retry_timeout
        attempt = 0
        while True:
            try:
                return self.api.do(method, path, query=query, body=body, raw=raw)
            except Exception as err:
                if isinstance(err, TimeoutError):  # the SDK's own retry budget ran out
                    raise
                if not (idempotent and is_transient(err)) or time.monotonic() >= deadline:
                    raise
                attempt += 1
                time.sleep(min(10.0, 0.25 * 2 ** (attempt - 1)) * (1 + random.random() / 4))

    # ------------------------------------------------------------------------------------------- jobs

    def list_jobs(self, name: str | None = None) -> Iterator[dict]:
        """Every job (``BaseJob`` dicts: settings without tasks/job_clusters, but with tags), 100 per page."""
        query: dict[str, Any] = {"limit": 100}
        if name is not None:
            query["name"] = name
        while True:
            page = self.call("GET", f"{JOBS}/list", query=query)
            yield from page.get("jobs") or ()
            token = page.get("next_page_token")
            if not token or not page.get("has_more", True):
                return
            query = {**query, "page_token": token}

    def get_job(self, job_id: int) -> dict | None:
        """The job with *all* its settings (``jobs/get`` pages arrays 100 at a time; pages are merged here,
        as ``JobsExt.get`` does); None if it does not exist."""
        query: dict[str, Any] = {"job_id": job_id}
        try:
            job = self.call("GET", f"{JOBS}/get", query=query)
        except Exception as err:
            if is_not_found(err):
                return None
            raise
        token = job.get("next_page_token")
        settings = job.setdefault("settings", {})
        while token:
            page = self.call("GET", f"{JOBS}/get", query={**query, "page_token": token})
            for name, items in (page.get("settings") or {}).items():
                if isinstance(items, list):
                    settings.setdefault(name, []).extend(items)
            token = page.get("next_page_token")
        job.pop("next_page_token", None)
        return job

    def create_job(self, payload: dict, find_existing: Callable[[], int | None]) -> tuple[int, bool]:
        """Create a job exactly once.  Returns (job id, adopted): ``adopted`` is True when a create whose response
        was lost turned out to have been committed and the job was found instead of created again."""
        deadline = time.monotonic() + self.retry_timeout
        while True:
            self._clock.refuse(True)
            try:
                created: Any = self.api.do("POST", f"{JOBS}/create", body=payload)
                return int(created["job_id"]), False
            except _NoRetry as refused:
                err = refused.__context__ or refused
            except Exception as exc:  # noqa: BLE001 - classified below
                err = exc
            finally:
                self._clock.refuse(False)
            if time.monotonic() >= deadline:
                raise err
            from databricks.sdk.errors import TemporarilyUnavailable, TooManyRequests

            if isinstance(err, (TooManyRequests, TemporarilyUnavailable)):
                # rejected before anything was written: resend after Retry-After (the SDK's default is 1 s)
                after = getattr(err, "retry_after_secs", None)
                time.sleep(float(1 if after is None else after) + random.random() / 4)
                continue
            if not is_transient(err):
                raise err
            found = self._find_after_lost_create(find_existing)
            if found is not None:
                return found, True

    def _find_after_lost_create(self, find_existing: Callable[[], int | None]) -> int | None:
        waited, pause = 0.0, 0.1
        while True:
            try:
                found = find_existing()
            except Exception as err:
                if not is_transient(err):
                    raise
                found = None
            if found is not None:
                return found
            if waited >= self.reconcile_wait:
                return None
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, 2.0)

    def reset_job(self, job_id: int, payload: dict) -> None:
        self.call("POST", f"{JOBS}/reset", body={"job_id": job_id, "new_settings": payload})

    def delete_job(self, job_id: int) -> bool:
        """Delete; False if it was already gone (a retried delete whose first answer was lost)."""
        try:
            self.call("POST", f"{JOBS}/delete", body={"job_id": job_id})
        except Exception as err:
            if is_not_found(err):
                return False
            raise
        return True

    def set_permissions(self, job_id: int, acl: list[dict]) -> None:
        self.call("PUT", f"/api/2.0/permissions/jobs/{job_id}", body={"access_control_list": acl})

    # ------------------------------------------------------------------------------------------- lookups

    def pipeline_ids(self, name: str) -> list[str]:
        """Ids of the pipelines named exactly ``name`` (``filter=name LIKE`` narrows the listing server-side)."""
        escaped = name.replace("'", "''")
        query: dict[str, Any] = {"filter": f"name LIKE '{escaped}'", "max_results": 100}
        ids = []
        while True:
            page = self.call("GET", "/api/2.0/pipelines", query=query)
            ids += [str(p["pipeline_id"]) for p in page.get("statuses") or () if p.get("name") == name]
            token = page.get("next_page_token")
            if not token:
                return ids
            query = {**query, "page_token": token}

    def workspace_id(self) -> str:
        """The workspace id: from the SDK's host metadata when it has it, else the ``X-Databricks-Org-Id`` header
        of ``/api/2.0/preview/scim/v2/Me`` (what ``WorkspaceClient.get_workspace_id`` does)."""
        known = getattr(self.config, "workspace_id", None)
        if known:
            return str(known)
        out: Any = self.api.do("GET", "/api/2.0/preview/scim/v2/Me", response_headers=["X-Databricks-Org-Id"])
        value = out.get("X-Databricks-Org-Id")
        if not value:
            raise WorkspaceError("cannot tell the workspace id (needed by a job-completion trigger)")
        return str(value)

    # ------------------------------------------------------------------------------------------- files

    def read(self, path: str) -> bytes | None:
        """Content of a workspace file, or None if there is none."""
        try:
            out = self.call("GET", "/api/2.0/workspace/export", query={"path": path, "format": "AUTO"})
        except Exception as err:
            if is_not_found(err):
                return None
            raise
        return base64.b64decode(out.get("content") or "")

    def mkdirs(self, path: str) -> None:
        self.call("POST", "/api/2.0/workspace/mkdirs", body={"path": path})

    def _import(self, path: str, data: bytes, *, fmt: str, language: str | None, overwrite: bool) -> None:
        body: dict[str, Any] = {"path": path, "content": base64.b64encode(data).decode("ascii"), "format": fmt,
                                "overwrite": overwrite}
        if language:
            body["language"] = language
        try:
            self.call("POST", "/api/2.0/workspace/import", body=body, idempotent=overwrite)
        except Exception as err:
            if not (is_not_found(err) and "parent" in str(err).lower()):
                raise
            self.mkdirs(path.rsplit("/", 1)[0])
            self.call("POST", "/api/2.0/workspace/import", body=body, idempotent=overwrite)

    def write(self, path: str, data: bytes) -> None:
        """Upload a workspace FILE (``RAW``: never turned into a notebook), replacing what is there."""
        self._import(path, data, fmt="RAW", language=None, overwrite=True)

    def write_notebook(self, path: str, data: bytes, language: str) -> None:
        self._import(path, data, fmt="SOURCE", language=language, overwrite=True)

    def create(self, path: str, data: bytes) -> bool:
        """Create a FILE that must not exist yet: False when it does (the lock's test-and-set)."""
        try:
            self._import(path, data, fmt="RAW", language=None, overwrite=False)
        except Exception as err:
            if _error_code(err) == "RESOURCE_ALREADY_EXISTS":
                return False
            if is_transient(err) and self.read(path) is not None:
                # our create may have been committed before the answer was lost; the caller re-reads the owner
                return False
            raise
        return True

    def delete(self, path: str, recursive: bool = False) -> None:
        try:
            self.call("POST", "/api/2.0/workspace/delete", body={"path": path, "recursive": recursive})
        except Exception as err:
            if not is_not_found(err):
                raise
