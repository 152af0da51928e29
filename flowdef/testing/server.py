"""HTTP layer of the fake workspace: a ``ThreadingHTTPServer`` on 127.0.0.1 speaking the Databricks
REST API that databricks-sdk calls, plus :class:`FakeWorkspace`, the object tests use.

Request pipeline: parse -> faults (latency, injected status, dropped connection) -> bearer-token
check -> route -> handler (state changes under one lock) -> JSON response -> request log.

Authentication mirrors the service: no ``Authorization: Bearer`` header -> 401
``{"error_code": 401, "message": "Credential was not sent or was of an unsupported type for this
API."}``; a wrong token -> 403 ``{"error_code": 403, "message": "Invalid access token."}`` (the
service answers a bad PAT with 403, not 401; the SDK raises ``PermissionDenied``).  The
unauthenticated discovery probe ``GET /.well-known/databricks-config`` that ``Config()`` sends is
answered (with the workspace id) and is neither logged nor subject to faults.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flowdef.testing._wire import Request, Response
from flowdef.testing.faults import FaultSet
from flowdef.testing.jobs_api import JobsApi
from flowdef.testing.runs_api import RunsApi
from flowdef.testing.state import ApiError, Options, WorkspaceState
from flowdef.testing.workspace_api import WorkspaceApi, normalize

__all__ = ["FakeWorkspace", "LoggedRequest"]

_MUTATING = ("POST", "PUT", "PATCH", "DELETE")
#: POST endpoints that do not change state (excluded from ``writes()``); none of the simulated
#: endpoints is one today, the set exists so the rule is explicit.
READ_ONLY_POSTS: frozenset[str] = frozenset()
_env_lock = threading.Lock()


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake received.  ``status`` is what the server answered (or would have
    answered, for ``commit_then_drop``; the injected status for ``commit_then_status``); ``dropped`` is True
    when no response reached the client
    (``status`` is 0 for ``drop``).  ``body`` is the parsed JSON, the multipart fields as a dict
    (``content`` as bytes), raw bytes, or None."""

    method: str
    path: str
    query: dict
    body: dict | list | bytes | None
    status: int
    dropped: bool = False
    #: ``time.monotonic()`` when the request arrived and when its answer was sent (or the connection dropped):
    #: what :meth:`FakeWorkspace.waves` counts sequential round trips from
    started: float = 0.0
    ended: float = 0.0


Handler = Callable[[Request], Response]


class _Routes:
    def __init__(self, jobs: JobsApi, runs: RunsApi, workspace: WorkspaceApi) -> None:
        j = r"/api/2\.(?P<v>[12])/jobs"
        perm = r"/api/2\.0/permissions/jobs/(?P<job_id>[^/]+)"
        self.table: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(j + "/create"), jobs.create),
            ("POST", re.compile(j + "/reset"), jobs.reset),
            ("POST", re.compile(j + "/update"), jobs.update),
            ("POST", re.compile(j + "/delete"), jobs.delete),
            ("GET", re.compile(j + "/get"), jobs.get),
            ("GET", re.compile(j + "/list"), jobs.list),
            ("POST", re.compile(j + "/run-now"), lambda r: runs.run_now(r, jobs)),
            ("GET", re.compile(j + "/runs/get"), runs.get_run),
            ("GET", re.compile(j + "/runs/list"), runs.list_runs),
            ("POST", re.compile(j + "/runs/cancel"), runs.cancel_run),
            ("POST", re.compile(j + "/runs/repair"), lambda r: runs.repair_run(r, jobs)),
            ("GET", re.compile(j + "/runs/get-output"), runs.get_output),
            ("GET", re.compile(perm + "/permissionLevels"), jobs.permission_levels),
            ("GET", re.compile(perm), jobs.get_permissions),
            ("PUT", re.compile(perm), jobs.set_permissions),
            ("PATCH", re.compile(perm), jobs.update_permissions),
            ("POST", re.compile(r"/api/2\.0/workspace/mkdirs"), workspace.mkdirs),
            ("POST", re.compile(r"/api/2\.0/workspace/import"), workspace.import_),
            ("GET", re.compile(r"/api/2\.0/workspace/get-status"), workspace.get_status),
            ("GET", re.compile(r"/api/2\.0/workspace/list"), workspace.list),
            ("GET", re.compile(r"/api/2\.0/workspace/export"), workspace.export),
            ("POST", re.compile(r"/api/2\.0/workspace/delete"), workspace.delete),
            ("GET", re.compile(r"/api/2\.0/preview/scim/v2/Me"), workspace.me),
        ]

    def dispatch(self, req: Request) -> Response:
        for method, pattern, handler in self.table:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                groups = match.groupdict()
                req.api_version = f"2.{groups.pop('v')}" if groups.get("v") else ""
                req.params = {k: v for k, v in groups.items() if v is not None}
                return handler(req)
        short = re.sub(r"^/api/2\.\d+", "", req.path)
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{req.method} {short}'")


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True) or b""
            assert isinstance(payload, bytes)
            fields[name] = payload if part.get_filename() is not None or name == "content" \
                else payload.decode("utf-8")
        return fields
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - failed to parse given JSON") from None


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flowdef-fake-databricks/1"
    timeout = 30  # idle keep-alive connections end eventually (stop() ends them at once)
    workspace: FakeWorkspace  # set on the subclass built per server

    def setup(self) -> None:
        super().setup()
        self.workspace._connections.add(self.connection)
        # headers and body go out in two writes; without TCP_NODELAY Nagle + delayed ACK add ~40 ms
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        self.workspace._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet; use ws.requests

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        ws = self.workspace
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path == "/.well-known/databricks-config":
            self._send(Response(body={"workspace_id": ws.workspace_id}))
            return
        started = time.monotonic()
        content_type = self.headers.get("Content-Type", "")
        try:
            body = _parse_body(content_type, raw)
            parse_error = None
        except ApiError as exc:
            body, parse_error = raw, exc
        fault = ws.faults.take(self.command, path)
        delay = ws.faults.base_latency + (fault.latency if fault else 0.0)
        if delay:
            time.sleep(delay)
        # logged before the answer goes out, so a test that got its answer always finds the request in the log
        if fault is not None and fault.action == "drop":
            ws._log(LoggedRequest(self.command, path, query, body, 0, dropped=True, started=started,
                                  ended=time.monotonic()))
            self._drop()
            return
        if fault is not None and fault.action == "status":
            response = self._injected(fault)
        else:
            response = self._respond(path, query, body, parse_error)
        # commit-then-*: only a write that went through loses its answer; a rejected request (nothing written)
        # is answered with its real error, as the service would
        committed = response.status < 400
        dropped = fault is not None and fault.action == "commit_then_drop" and committed
        if fault is not None and fault.action == "commit_then_status" and committed:
            response = self._injected(fault)
        ws._log(LoggedRequest(self.command, path, query, body, response.status, dropped=dropped, started=started,
                              ended=time.monotonic()))
        if dropped:
            self._drop()
        else:
            self._send(response)

    @staticmethod
    def _injected(fault) -> Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(fault.status, fault.response_body(), headers)

    def _respond(self, path: str, query: dict, body: Any, parse_error: ApiError | None) -> Response:
        ws = self.workspace
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return Response(401, {"error_code": 401, "message": "Credential was not sent or was of an unsupported type for this API."})
        if auth[len("Bearer "):].strip() != ws.token:
            return Response(403, {"error_code": 403, "message": "Invalid access token."},
                            {"X-Databricks-Reason-Phrase": "Invalid access token."})
        try:
            if parse_error is not None:
                raise parse_error
            return ws._routes.dispatch(Request(self.command, path, query, body))
        except ApiError as exc:
            return Response(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must not hang the client: answer 500
            return Response(500, {"error_code": "INTERNAL_ERROR", "message": f"fake workspace error: {exc!r}"})

    def _send(self, response: Response) -> None:
        if isinstance(response.body, (bytes, bytearray)):
            payload = bytes(response.body)
            ctype = response.content_type or "application/octet-stream"
        else:
            payload = json.dumps(response.body).encode("utf-8")
            ctype = response.content_type or "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst of parallel clients (a deploy reads 16 jobs at once)
    # would see SYNs dropped and a 1 s TCP retransmit, which no real workspace front end shows.
    request_queue_size = 128


class FakeWorkspace:
    """A fake Databricks workspace on ``http://127.0.0.1:<ephemeral port>``.

    >>> with FakeWorkspace() as ws:                              # doctest: +SKIP
    ...     w = ws.client()                                        # a real databricks-sdk WorkspaceClient
    ...     job_id = w.jobs.create(name="etl").job_id
    ...     assert ws.state.jobs[job_id]["name"] == "etl"
    ...     assert ws.count("POST", "/api/2.2/jobs/create") == 1

    Options: ``token``/``user_name`` identify the caller; ``server_defaults`` fills the defaults the
    service adds on ``jobs/get`` (on by default, see ``jobs_validate.SERVER_DEFAULTS_DOC``);
    ``list_lag=N`` hides a new job from the next N ``jobs/list`` calls (eventual consistency);
    ``list_lag_seconds=S`` hides it from ``jobs/list`` for S seconds (the time-based kind);
    ``run_polls=N`` moves each run one step per ``runs/get`` poll (queued -> pending -> running -> terminated),
    each task attempt lasting N polls (0: runs end inside run-now);
    ``not_found_style="legacy"`` answers unknown job/run ids with 400 INVALID_PARAMETER_VALUE
    instead of 404 RESOURCE_DOES_NOT_EXIST (both occur in the wild; deploy code should handle both).
    """

    def __init__(
        self,
        *,
        token: str = "dapi-fake-token-0000",
        user_name: str = "someone@example.com",
        workspace_id: str = "1234567890123456",
        server_defaults: bool = True,
        list_lag: int = 0,
        list_lag_seconds: float = 0.0,
        run_polls: int = 0,
        not_found_style: str = "modern",
    ) -> None:
        if not_found_style not in ("modern", "legacy"):
            raise ValueError("not_found_style must be 'modern' or 'legacy'")
        self.token = token
        self.workspace_id = workspace_id
        self.options = Options(server_defaults=server_defaults, list_lag=list_lag, list_lag_seconds=list_lag_seconds,
                               run_polls=run_polls,
                               not_found_style=not_found_style)
        self.state = WorkspaceState(user_name)
        self.faults = FaultSet()
        self._jobs = JobsApi(self.state, self.options)
        self._runs = RunsApi(self.state, self.options)
        self._workspace = WorkspaceApi(self.state)
        self._routes = _Routes(self._jobs, self._runs, self._workspace)
        self._log_lock = threading.Lock()
        self._log_entries: list[LoggedRequest] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.host = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeWorkspace:
        if self._server is not None:
            return self
        handler = type("FakeWorkspaceHandler", (_RequestHandler,), {"workspace": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.host = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._runs.host = self.host
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="flowdef-fake-workspace", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):  # end idle keep-alive connections and their threads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ clients

    def client(self, **config: Any):
        """A real ``databricks.sdk.WorkspaceClient`` for this fake (PAT auth).

        ``DATABRICKS_*``/cloud auth environment variables and ``~/.databrickscfg`` are ignored while
        the config is built.  Defaults: ``retry_timeout_seconds=60`` (SDK default 300) and
        ``http_timeout_seconds=30``; pass any ``Config`` attribute to override.
        """
        from databricks.sdk import (
            WorkspaceClient,  # heavy (>1 s): imported only when needed
        )
        from databricks.sdk.config import Config

        if not self.host:
            raise RuntimeError("FakeWorkspace is not started; use `with FakeWorkspace() as ws:` or ws.start()")
        kwargs = {"host": self.host, "token": self.token, "auth_type": "pat",
                  "retry_timeout_seconds": 60, "http_timeout_seconds": 30, **config}
        names = {a.env for a in Config.attributes() if a.env}
        names |= {alias for a in Config.attributes() for alias in (a.env_aliases or ())}
        with _env_lock:
            saved = {n: os.environ.pop(n) for n in list(names) if n in os.environ}
            try:
                cfg = Config(**kwargs)
            finally:
                os.environ.update(saved)
        return WorkspaceClient(config=cfg)

    def env(self) -> dict[str, str]:
        """Environment variables pointing a subprocess (CLI, SDK) at this fake."""
        return {"DATABRICKS_HOST": self.host, "DATABRICKS_TOKEN": self.token, "DATABRICKS_AUTH_TYPE": "pat"}

    # ------------------------------------------------------------------ request log

    def _log(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log_entries.append(entry)

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request received (discovery probes excluded), oldest first."""
        with self._log_lock:
            return list(self._log_entries)

    def writes(self) -> list[LoggedRequest]:
        """Requests with a mutating method (POST/PUT/PATCH/DELETE), rejected ones included."""
        return [r for r in self.requests if r.method in _MUTATING and r.path not in READ_ONLY_POSTS]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many logged requests have this method and exact path (None = any)."""
        return sum(1 for r in self.requests
                   if (method is None or r.method == method.upper()) and (path is None or r.path == path))

    def waves(self, requests: list[LoggedRequest] | None = None) -> int:
        """Sequential round trips in ``requests`` (default: the whole log): the longest chain of requests each of
        which started after the previous one had been answered.  Requests sent in parallel count once, so with a
        latency of L per request a client needs at least ``waves() * L`` - the number that latency multiplies."""
        reqs = sorted(self.requests if requests is None else requests, key=lambda r: r.started)
        depth: list[int] = []
        for i, r in enumerate(reqs):
            depth.append(1 + max((depth[j] for j in range(i) if reqs[j].ended <= r.started), default=0))
        return max(depth, default=0)

    def reset_log(self) -> None:
        with self._log_lock:
            self._log_entries.clear()

    # ------------------------------------------------------------------ state helpers (not logged)

    @property
    def list_lag(self) -> int:
        return self.options.list_lag

    @list_lag.setter
    def list_lag(self, value: int) -> None:
        self.options.list_lag = value

    @property
    def list_lag_seconds(self) -> float:
        return self.options.list_lag_seconds

    @list_lag_seconds.setter
    def list_lag_seconds(self, value: float) -> None:
        self.options.list_lag_seconds = value

    @property
    def run_polls(self) -> int:
        return self.options.run_polls

    @run_polls.setter
    def run_polls(self, value: int) -> None:
        self.options.run_polls = value

    def add_job(self, settings: dict[str, Any], *, access_control_list: list | None = None) -> int:
        """Seed a job (validated and defaulted like ``jobs/create``); returns its id.  Raises
        :class:`~flowdef.testing.state.ApiError` for settings the service would reject."""
        with self.state.lock:
            job_id = self._jobs.add_job(settings, "2.2", access_control_list)
            self.state.job_meta[job_id].list_hidden_for = 0
            self.state.job_meta[job_id].list_hidden_until = 0.0
            return job_id

    def get_job(self, job_id: int) -> dict[str, Any]:
        """The stored settings of a job (a copy)."""
        with self.state.lock:
            return json.loads(json.dumps(self._jobs.settings_of(job_id)))

    def permissions(self, job_id: int) -> list[dict[str, str]]:
        """Direct grants of a job: ``[{"user_name": ..., "permission_level": ...}, ...]``."""
        with self.state.lock:
            return [dict(g) for g in self.state.permissions.get(job_id, [])]

    def read_file(self, path: str) -> bytes:
        """Content of a workspace file or notebook (notebooks without their header line)."""
        with self.state.lock:
            obj = self.state.files.get(normalize(path))
            if obj is None or obj.object_type == "DIRECTORY":
                raise FileNotFoundError(path)
            return obj.content

    def write_file(self, path: str, content: bytes, *, notebook_language: str | None = None) -> None:
        """Seed a workspace file (or a notebook with ``notebook_language``), creating parents."""
        with self.state.lock:
            norm = normalize(path)
            self._workspace.mkdirs_path(norm.rsplit("/", 1)[0] or "/")
            fmt = "SOURCE" if notebook_language else "RAW"
            self._workspace.put_object(norm, content, fmt, notebook_language, overwrite=True)

    def fail_task(self, job_id: int, task_key: str, times: int | None = 1, *, error: str | None = None) -> None:
        """Make the next ``times`` executions of ``task_key`` in ``job_id`` fail (None = always).
        Retries and repairs count as executions; a for_each inner task key fails iterations."""
        with self.state.lock:
            self.state.task_failures[(job_id, task_key)] = [times, error]

    def set_task_values(self, job_id: int, task_key: str, **values: Any) -> None:
        """Task values ``task_key`` sets whenever it runs in ``job_id`` (then ``{{tasks.<task_key>.values.<name>}}``
        in later tasks of that run; a run where it did not run has none)."""
        with self.state.lock:
            self.state.task_values.setdefault((job_id, task_key), {}).update(values)

    def script_task(self, job_id: int, task_key: str, *outcomes: Any) -> None:
        """What the next executions of ``task_key`` in ``job_id`` do, in order (then they succeed): each a result
        state (``"FAILED"``, ``"TIMEDOUT"``...) or a :class:`flowdef.runs.Outcome` (state, error, values, virtual
        duration).  A for-each's nested task key scripts its iterations, in the order they start."""
        from flowdef.runs import Outcome

        with self.state.lock:
            self._runs.script(job_id, task_key, [o if isinstance(o, Outcome) else Outcome(str(o)) for o in outcomes])

    def set_task_output(self, job_id: int, task_key: str, *, logs: str | None = None,
                        notebook_result: str | None = None, error_trace: str | None = None,
                        sql_output: dict | None = None) -> None:
        """What ``runs/get-output`` returns for successful (logs / notebook result / SQL output) or failed
        (error_trace) executions of ``task_key``."""
        out = {"logs": logs, "notebook_result": notebook_result, "error_trace": error_trace, "sql_output": sql_output}
        with self.state.lock:
            self.state.task_outputs[(job_id, task_key)] = {k: v for k, v in out.items() if v is not None}

    def __repr__(self) -> str:
        return f"<FakeWorkspace {self.host or '(stopped)'} jobs={len(self.state.jobs)}>"

