"""The workspace, as deploy needs it: jobs, permissions and workspace files over databricks-sdk's ``ApiClient``.

Raw ``api_client.do`` with dicts, not the typed ``w.jobs.*`` methods: the compiler's payload goes on the wire
byte for byte (the SDK's dataclasses silently drop fields and enum values they don't know, jobs-api.md §17), and
what comes back is compared as plain JSON.  Auth is the SDK's unified auth (``host``/``profile`` of the target,
else the ``DATABRICKS_*`` environment, else ``~/.databrickscfg``).  Only ``config``/``core``/``errors`` of the SDK
are loaded (:mod:`flowdef.deploy.sdk`).

Retries are all decided here; the SDK's own retry loop is switched off (the SDK ``Clock`` we pass refuses to
sleep, so the SDK hands every error straight back).  Why: the SDK retries 429/503/connection errors for *every*
method within one budget it spends silently (a mistyped host hung ~10 minutes: 300 s in the config probe, 300 s
in the first request), and it would resend a ``jobs/create`` whose answer was lost.  Here:

* a connection error to a host that never answered fails at once with one line (``cannot reach ...``); before
  the SDK's config probe, one TCP connect (5 s timeout) checks the host resolves and listens;
* idempotent calls (reads, ``reset``, ``delete``, permissions PUT, overwriting imports) are retried on 429, 5xx,
  connection errors and timeouts, sleeping ``Retry-After`` when the service sends one, else exponential back-off
  (0.25 s doubling, at most 10 s), within ``retry_timeout`` seconds per call (``--retry-timeout`` /
  ``FLOWDEF_RETRY_TIMEOUT``, default 120); every retry prints one line (``job_07: 503 TEMPORARILY_UNAVAILABLE,
  retry 3 in 4s``);
* ``jobs/create`` is not idempotent and has no idempotency token (only ``run-now``/``runs/submit`` do): every
  answer that leaves its outcome uncertain (any 5xx, 429, a timeout, a lost response) may hide a committed job,
  so before sending it again the job is looked up by its identity tags.  ``jobs/list`` lags behind a create, so a
  lookup that finds nothing proves nothing: the engine sweeps for duplicates after the apply
  (docs/adr/0005-uncertain-creates.md).
"""

from __future__ import annotations

import base64
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flowdef.deploy.connect import _configured_host, check_reachable, settle_environment
from flowdef.deploy.manifest import plain_path
from flowdef.errors import WorkspaceError

_TRANSIENT_CODES = {"INTERNAL_ERROR", "BAD_GATEWAY", "DEADLINE_EXCEEDED", "TEMPORARILY_UNAVAILABLE",
                    "REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}
JOBS = "/api/2.2/jobs"
DEFAULT_RETRY_TIMEOUT = 120.0


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class _NoRetry(Exception):
    """Raised by the clock's ``sleep`` when the SDK wants to retry: we decide retries ourselves."""


class _RefusingClock:
    """A databricks-sdk ``Clock`` whose ``sleep`` always refuses (see the module docstring)."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        raise _NoRetry()


def _unwrap(err: BaseException) -> BaseException:
    """The error the service (or the network) gave, out of the SDK's retry wrappers."""
    if isinstance(err, _NoRetry) and err.__context__ is not None:
        return err.__context__
    if isinstance(err, TimeoutError) and isinstance(err.__cause__, Exception):
        return err.__cause__
    return err


def _error_code(err: BaseException) -> str:
    return str(getattr(err, "error_code", "") or "")


_STATUS_BY_CODE = {"TOO_MANY_REQUESTS": 429, "REQUEST_LIMIT_EXCEEDED": 429, "TEMPORARILY_UNAVAILABLE": 503,
                   "SERVICE_UNAVAILABLE": 503, "INTERNAL_ERROR": 500, "INTERNAL_SERVER_ERROR": 500,
                   "BAD_GATEWAY": 502, "DEADLINE_EXCEEDED": 504}


def _status(err: BaseException) -> int | None:
    """The HTTP status behind an SDK error (the SDK keeps the error code and class, not the status)."""
    for holder in (err, getattr(err, "response", None)):
        code = getattr(holder, "status_code", None)
        if isinstance(code, int):
            return code
    from databricks.sdk import errors

    for cls, status in ((errors.TooManyRequests, 429), (errors.TemporarilyUnavailable, 503),
                        (errors.DeadlineExceeded, 504), (errors.InternalError, 500)):
        if isinstance(err, cls):
            return status
    return _STATUS_BY_CODE.get(_error_code(err))


def could_not_connect(err: BaseException) -> bool:
    """A connection that was never made (name does not resolve, refused, connect timeout) - unlike a connection
    dropped after the request was sent, which is just a transient failure."""
    import requests

    if isinstance(err, requests.ConnectTimeout):
        return True
    if not isinstance(err, requests.ConnectionError):
        return False
    seen: list[BaseException] = []
    todo: list[Any] = [err]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or item in seen:
            continue
        seen.append(item)
        name = type(item).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "gaierror",
                    "ConnectionRefusedError"):
            return True
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
    return False


def is_not_found(err: BaseException) -> bool:
    from databricks.sdk.errors import NotFound

    if isinstance(err, NotFound) or _error_code(err) in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
        return True
    # the legacy answer of jobs/get and jobs/delete: 400 INVALID_PARAMETER_VALUE "Job 12 does not exist."
    return _error_code(err) == "INVALID_PARAMETER_VALUE" and "does not exist" in str(err)


def is_connection_error(err: BaseException) -> bool:
    import requests

    return isinstance(err, requests.ConnectionError) and not isinstance(err, requests.Timeout)


def is_transient(err: BaseException) -> bool:
    """5xx / throttling / network: worth another try for an idempotent call (and *uncertain* for a create)."""
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
    status = _status(err)
    if status is not None and (status == 429 or status >= 500):
        return True
    return _error_code(err) in _TRANSIENT_CODES


def short_error(err: BaseException) -> str:
    """``503 TEMPORARILY_UNAVAILABLE``, ``connection reset``, ``timeout``: what a retry line shows."""
    import requests

    if isinstance(err, requests.Timeout):
        return "timeout"
    if isinstance(err, requests.ConnectionError):
        return "connection lost"
    status, code = _status(err), _error_code(err)
    return " ".join(str(x) for x in (status, code) if x) or type(err).__name__


def _what(path: str) -> str:
    """``/api/2.2/jobs/list`` -> ``jobs/list``: how a retry line names a request without a label."""
    parts = path.strip("/").split("/")
    return "/".join(parts[2:]) if len(parts) > 2 and parts[0] == "api" else path


def _first_line(text: str) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    # the SDK appends its whole configuration ("... Config: host=..., token=***. Env: ...") to auth errors
    return text.split(" Config: ", 1)[0].rstrip(". ") if " Config: " in text else text


def describe(err: BaseException) -> str:
    """One line for a failure: ``ERROR_CODE: message``, without the SDK's configuration dump or urllib3's chain,
    and with secret-looking values masked (a service's error message may echo what was sent: a 400 quoting a
    parameter's value)."""
    from flowdef.deploy.mask import mask_message

    return mask_message(_describe(err))


def _describe(err: BaseException) -> str:
    import re

    import requests

    if isinstance(err, WorkspaceError):
        return str(err)
    err = _unwrap(err)
    if isinstance(err, TimeoutError) and err.__cause__ is not None:
        return f"gave up retrying: {_describe(err.__cause__)}"
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
                 pool_size: int = 32, stream=None, check_host: bool = True) -> None:
        logging.getLogger("databricks.sdk").addHandler(logging.NullHandler())  # no stray warnings on stderr
        try:
            from flowdef.deploy import sdk

            Config, ApiClient, _ = sdk.load()
        except ImportError:  # pragma: no cover - depends on the installation
            raise WorkspaceError("databricks-sdk is not installed: pip install 'flowdef[deploy]'") from None
        self.retry_timeout = retry_timeout if retry_timeout is not None else _env_float(
            "FLOWDEF_RETRY_TIMEOUT", DEFAULT_RETRY_TIMEOUT)
        self.reconcile_wait = _env_float("FLOWDEF_RECONCILE_WAIT", 20.0)
        self.stream = stream
        self._local = threading.local()
        self._answered = False
        self.retries = 0  # how many retries this connection made (tests, summaries)
        self.closed = False  # set by close(): no retry is started any more
        # The config probe (GET /.well-known/databricks-config) runs inside Config() with the SDK's own retries
        # and this budget: keep it short - the probe is optional (the SDK falls back to explicit config).
        kwargs: dict[str, Any] = {"clock": _RefusingClock(), "retry_timeout_seconds": 10,
                                  "max_connection_pools": pool_size, "max_connections_per_pool": pool_size}
        if host:
            kwargs["host"] = host
        if profile:
            kwargs["profile"] = profile
        import inspect

        if "http_adapter" in inspect.signature(Config).parameters:
            # the SDK mounts its own pooled adapter for https:// only; ours serves http:// (a local fake) too,
            # with as many connections as threads that use them
            import requests.adapters

            kwargs["http_adapter"] = requests.adapters.HTTPAdapter(pool_connections=pool_size,
                                                                   pool_maxsize=pool_size, pool_block=True)
        guess = _configured_host(host, profile)
        if check_host and guess:
            check_reachable(guess)  # before Config(), whose probe would otherwise spend its budget first
        try:
            self.config = Config(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the SDK raises ValueError and others; all become one line
            raise self._auth_error(exc, host, profile) from None
        self.host = str(self.config.host or "")
        if check_host and self.host and self.host.rstrip("/") != (guess or "").rstrip("/"):
            check_reachable(self.host)
        try:
            self.api = ApiClient(self.config)
        except Exception as exc:  # noqa: BLE001
            raise self._auth_error(exc, host, profile) from None
        settle_environment(getattr(getattr(self.api, "_api_client", None), "_session", None), self.host)

    @staticmethod
    def _auth_error(exc: BaseException, host: str | None, profile: str | None) -> WorkspaceError:
        from flowdef.deploy.mask import mask_message

        first = mask_message(_first_line(str(exc)) or type(exc).__name__)
        first = first.split(", please check https://", 1)[0]
        where = f" (profile {profile})" if profile else (f" ({host})" if host else "")
        return WorkspaceError(
            f"cannot authenticate to a Databricks workspace{where}: {first}; set DATABRICKS_HOST and "
            f"DATABRICKS_TOKEN (or another unified-auth method), or `host`/`profile` in the target")

    # ------------------------------------------------------------------------------------------- progress

    @contextmanager
    def label(self, text: str):
        """Name what this thread is doing (``job_07``) in retry lines."""
        old = getattr(self._local, "label", None)
        self._local.label = text
        try:
            yield
        finally:
            self._local.label = old

    def close(self) -> None:
        """Stop retrying: a call that fails from now on fails at once (its caller is no longer waiting)."""
        self.closed = True

    def note(self, text: str) -> None:
        from flowdef.deploy.mask import mask_message

        print(mask_message(text), file=self.stream or sys.stderr, flush=True)

    def _retry_line(self, what: str, err: BaseException, attempt: int, wait: float, extra: str = "") -> None:
        self.retries += 1
        who = getattr(self._local, "label", None) or what
        self.note(f"{who}: {short_error(err)}{extra}, retry {attempt} in {wait:.0f}s")

    # ------------------------------------------------------------------------------------------- transport

    def _do(self, method: str, path: str, **kw: Any) -> Any:
        """One request, no retry; the service's (or network's) error itself on failure."""
        try:
            out = self.api.do(method, path, **kw)
        except Exception as exc:  # noqa: BLE001 - unwrapped and re-raised
            err = _unwrap(exc)
            if could_not_connect(err) and not self._answered:
                # a host that never answered: a typo, a VPN that is down - no retry budget is worth spending
                raise WorkspaceError(f"cannot reach {self.host}: {describe(err).split(': ', 1)[-1]}") from None
            if not is_connection_error(err):
                self._answered = True
            raise err from None
        self._answered = True
        return out

    def _wait(self, err: BaseException, attempt: int, deadline: float) -> float | None:
        """Seconds to sleep before the next attempt, or None when the budget is spent."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        after = getattr(err, "retry_after_secs", None)  # the SDK sets it from Retry-After on 429/503
        wait = float(after) if after is not None else min(10.0, 0.25 * 2 ** (attempt - 1))
        return max(0.0, min(wait + random.random() * min(1.0, wait / 4), left))

    def call(self, method: str, path: str, *, query: dict | None = None, body: Any = None,
             idempotent: bool = True, raw: bool = False, **kw: Any) -> Any:
        """One API call, retried when idempotent and the failure is transient (see the module docstring)."""
        deadline = time.monotonic() + self.retry_timeout
        attempt = 0
        while True:
            try:
                return self._do(method, path, query=query, body=body, raw=raw, **kw)
            except WorkspaceError:
                raise
            except Exception as err:
                if not (idempotent and is_transient(err)) or self.closed:
                    raise
                attempt += 1
                wait = self._wait(err, attempt, deadline)
                if wait is None:
                    raise WorkspaceError(f"gave up after {self.retry_timeout:g}s of retries "
                                         f"(--retry-timeout): {describe(err)}") from None
                self._retry_line(_what(path), err, attempt, wait)
                time.sleep(wait)

    # ------------------------------------------------------------------------------------------- jobs

    def list_jobs(self, name: str | None = None, *, expand_tasks: bool = False) -> Iterator[dict]:
        """Every job, 100 per page.  Without ``expand_tasks`` the settings lack ``tasks``/``job_clusters`` (tags
        are there); with it they carry the first 100 items of each array and ``has_more`` says a job was cut."""
        query: dict[str, Any] = {"limit": 100}
        if name is not None:
            query["name"] = name
        if expand_tasks:
            query["expand_tasks"] = "true"
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

    def create_job(self, payload: dict, find_existing: Callable[[], int | None]) -> tuple[int, bool, bool]:
        """Create a job, never blindly twice.  Returns ``(job id, adopted, uncertain)``: ``adopted`` when an
        earlier attempt turned out to be committed (found by ``find_existing``, the identity-tag lookup, instead of
        created again); ``uncertain`` when any attempt got an answer that leaves its outcome open (429, 5xx,
        timeout, lost response) - the caller then sweeps for a duplicate once ``jobs/list`` has caught up."""
        deadline = time.monotonic() + self.retry_timeout
        attempt = 0
        uncertain = False
        while True:
            try:
                created: Any = self._do("POST", f"{JOBS}/create", body=payload)
                return int(created["job_id"]), False, uncertain
            except WorkspaceError:
                raise
            except Exception as err:  # noqa: BLE001 - classified below
                if not is_transient(err):
                    raise
                uncertain = True
                attempt += 1
                wait = self._wait(err, attempt, deadline)
                if wait is None:
                    raise WorkspaceError(f"gave up after {self.retry_timeout:g}s of retries (--retry-timeout): "
                                         f"{describe(err)}; the job may exist: the next apply finds it by its "
                                         f"tags") from None
                self._retry_line("jobs/create", err, attempt, wait, " (the job may have been saved: looking it "
                                                                    "up by its tags first)")
                time.sleep(wait)
            try:
                found = find_existing()
            except Exception as err:  # noqa: BLE001 - a failed lookup is just no answer
                if not is_transient(err):
                    raise
                found = None
            if found is not None:
                return found, True, True

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
        out: Any = self.call("GET", "/api/2.0/preview/scim/v2/Me", response_headers=["X-Databricks-Org-Id"])
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

    def list_folder(self, path: str) -> dict[str, dict] | None:
        """The objects directly in a workspace folder, by path (``object_type``, ``size`` for files,
        ``modified_at``); None when the folder does not exist."""
        try:
            out = self.call("GET", "/api/2.0/workspace/list", query={"path": path})
        except Exception as err:
            if is_not_found(err):
                return None
            raise
        return {_plain_path(o["path"]): o for o in out.get("objects") or () if o.get("path")}

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
        """Create a FILE that must not exist yet: False when it does (the lock's test-and-set).  An uncertain
        answer is settled by reading the file back: there, it may be ours (the caller compares the content)."""
        deadline = time.monotonic() + self.retry_timeout
        attempt = 0
        while True:
            try:
                self._import(path, data, fmt="RAW", language=None, overwrite=False)
                return True
            except WorkspaceError:
                raise
            except Exception as err:  # noqa: BLE001 - classified below
                if _error_code(err) == "RESOURCE_ALREADY_EXISTS":
                    return False
                if not is_transient(err):
                    raise
                if self.read(path) is not None:
                    return False
                attempt += 1
                wait = self._wait(err, attempt, deadline)
                if wait is None:
                    raise
                self._retry_line("workspace/import", err, attempt, wait)
                time.sleep(wait)

    def delete(self, path: str, recursive: bool = False) -> None:
        try:
            self.call("POST", "/api/2.0/workspace/delete", body={"path": path, "recursive": recursive})
        except Exception as err:
            if not is_not_found(err):
                raise


_plain_path = plain_path
