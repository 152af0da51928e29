"""The workspace backend: runs through the Jobs API 2.2 with databricks-sdk (through the deploy code's
:class:`~flowdef.deploy.client.Workspace`, which imports the SDK when it connects).

Jobs are named by their flowdef key and found by the identity tags ``apply`` writes (``flowdef_project``,
``flowdef_target``, ``flowdef_job``) — one paginated ``jobs/list``.  ``runs/get`` pages (tasks, iterations,
repair history, 100 at a time) are merged here.  ``repair`` reads the run's ``latest_repair_id`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowdef.operate.backend import BackendError
from flowdef.operate.view import IterationView, RepairView, RunView, TaskOutput, TaskView

__all__ = ["WorkspaceBackend", "run_view"]

JOBS = "/api/2.2/jobs"
_MERGED = ("tasks", "iterations", "repair_history", "job_parameters", "job_clusters")


class WorkspaceBackend:
    poll_interval = 5.0
    runs_here = False  # the workspace runs the jobs: a run goes on without this process

    def __init__(self, ws: Any, *, project: str, target: str) -> None:
        self.ws = ws
        self.project = project
        self.target = target
        self._keys: dict[int, str] | None = None
        self._task_keys: dict[Any, str] = {}

    @classmethod
    def open(cls, project: Any) -> WorkspaceBackend:
        from flowdef.deploy.session import connect

        return cls(connect(project.target), project=project.config.project, target=project.target.name)

    # ------------------------------------------------------------------ jobs by key

    def _job_keys(self, refresh: bool = False) -> dict[int, str]:
        """job id -> flowdef key of this project's jobs on this target (the oldest wins a duplicate key)."""
        if self._keys is None or refresh:
            from flowdef.deploy.plan import is_managed

            keys: dict[int, str] = {}
            for job in self.ws.list_jobs():
                settings = job.get("settings") or {}
                if is_managed(settings, self.project, self.target):
                    keys[int(job["job_id"])] = settings["tags"]["flowdef_job"]
            self._keys = keys
        return self._keys

    def job_id(self, job_key: str) -> int:
        for refresh in (False, True):
            ids = sorted(i for i, k in self._job_keys(refresh).items() if k == job_key)
            if ids:
                return ids[0]
        raise BackendError(f"job {job_key!r} is not deployed to target {self.target!r} of project {self.project!r}: "
                           "run `flowdef apply` first")

    @staticmethod
    def _run_id(run_id: str) -> int:
        try:
            return int(run_id)
        except ValueError:
            raise BackendError(f"{run_id!r} is not a run id of a workspace (a number)") from None

    # ------------------------------------------------------------------ the protocol

    def start_run(self, job_key: str, params: Mapping[str, str], only: Sequence[str] | None,
                  idempotency_token: str) -> str:
        body: dict[str, Any] = {"job_id": self.job_id(job_key), "idempotency_token": idempotency_token}
        if params:
            body["job_parameters"] = dict(params)
        if only:
            body["only"] = list(only)
        # the token makes run-now safe to retry: a retried request never starts a second run
        answer = self.ws.call("POST", f"{JOBS}/run-now", body=body, idempotent=True)
        return str(answer["run_id"])

    def _get(self, run_id: int, **query: Any) -> dict[str, Any]:
        """``runs/get`` with its pages merged (tasks, iterations, repair history: 100 per page)."""
        base = {"run_id": run_id, **query}
        body = self.ws.call("GET", f"{JOBS}/runs/get", query=base)
        token = body.pop("next_page_token", None)
        while token:
            page = self.ws.call("GET", f"{JOBS}/runs/get", query={**base, "page_token": token})
            for name in _MERGED:
                if page.get(name):
                    body.setdefault(name, []).extend(page[name])
            token = page.get("next_page_token")
        return body

    def get_run(self, run_id: str) -> RunView:
        rid = self._run_id(run_id)
        try:
            body = self._get(rid, include_history="true")
        except Exception as exc:
            from flowdef.deploy.client import is_not_found

            if is_not_found(exc):
                raise BackendError(f"run {run_id} does not exist") from None
            raise
        iterations = {}
        for task in body.get("tasks") or ():
            life = (task.get("state") or {}).get("life_cycle_state")
            if "for_each_task" in task and task.get("run_id") and life not in ("BLOCKED", "PENDING", "SKIPPED"):
                iterations[task["task_key"]] = self._get(int(task["run_id"])).get("iterations") or []
        key = self._job_keys().get(int(body.get("job_id") or 0))
        if key is None and body.get("job_id") is not None:
            key = self._job_keys(refresh=True).get(int(body["job_id"]))
        return run_view(body, key, iterations, self._task_key_of)

    def _task_key_of(self, task_run_id: Any) -> str:
        """The task key of a task run of an earlier repair pass (``runs/get`` on the task run; cached)."""
        if task_run_id not in self._task_keys:
            try:
                body = self.ws.call("GET", f"{JOBS}/runs/get", query={"run_id": int(task_run_id)})
                self._task_keys[task_run_id] = str(body.get("task_key") or body.get("run_name") or task_run_id)
            except Exception:  # noqa: BLE001 - a name for display only: the id will do
                self._task_keys[task_run_id] = str(task_run_id)
        return self._task_keys[task_run_id]

    def list_runs(self, job_key: str | None, limit: int) -> list[RunView]:
        query: dict[str, Any] = {"limit": min(25, max(1, limit))}
        keys = self._job_keys()
        if job_key is not None:
            query["job_id"] = self.job_id(job_key)
        out: list[RunView] = []
        # without a job, other projects' runs are skipped: look at 40 pages (1,000 runs) at most
        for _ in range(40):
            if len(out) >= limit:
                break
            page = self.ws.call("GET", f"{JOBS}/runs/list", query=query)
            for item in page.get("runs") or ():
                job_id = int(item.get("job_id") or 0)
                if job_key is None and job_id not in keys:
                    continue  # not one of this project's jobs on this target
                out.append(run_view(item, keys.get(job_id), {}))
            token = page.get("next_page_token")
            if not token or not page.get("has_more"):
                break
            query = {**query, "page_token": token}
        return out[:limit]

    def task_output(self, run_id: str, task_key: str, attempt: int | None) -> TaskOutput:
        body = self._get(self._run_id(run_id))
        entries = [t for t in body.get("tasks") or () if t.get("task_key") == task_key]
        if not entries:
            known = ", ".join(t.get("task_key", "?") for t in body.get("tasks") or ()) or "(none)"
            raise BackendError(f"run {run_id} has no task {task_key!r}; tasks: {known}")
        entries.sort(key=lambda t: int(t.get("attempt_number") or 0))
        chosen = entries[-1]
        if attempt is not None:
            match = [t for t in entries if int(t.get("attempt_number") or 0) == attempt]
            if not match:
                shown = ", ".join(str(t.get("attempt_number") or 0) for t in entries)
                raise BackendError(f"task {task_key!r} of run {run_id} has no attempt {attempt} listed by the "
                                   f"service (listed: {shown})")
            chosen = match[0]
        out = self.ws.call("GET", f"{JOBS}/runs/get-output", query={"run_id": chosen["run_id"]})
        state = (chosen.get("state") or {})
        sql = out.get("sql_output")
        return TaskOutput(task_key=task_key, attempt=int(chosen.get("attempt_number") or 0),
                          state=state.get("result_state") or state.get("life_cycle_state") or "UNKNOWN",
                          error=_message(out.get("error")) or None, error_trace=out.get("error_trace") or None, logs=out.get("logs"),
                          notebook_result=(out.get("notebook_output") or {}).get("result"), sql=sql,
                          truncated=bool(out.get("logs_truncated") or
                                         (out.get("notebook_output") or {}).get("truncated")))

    def repair(self, run_id: str, tasks: Sequence[str] | None, dependents: bool, params: Mapping[str, str]) -> Any:
        rid = self._run_id(run_id)
        body: dict[str, Any] = {"run_id": rid, "rerun_dependent_tasks": bool(dependents)}
        if tasks:
            body["rerun_tasks"] = list(tasks)
        else:
            body["rerun_all_failed_tasks"] = True
        if params:
            body["job_parameters"] = dict(params)
        history = self._get(rid, include_history="true").get("repair_history") or []
        ids = [h["id"] for h in history if h.get("id") is not None]
        if ids:  # the service insists on it after the first repair
            body["latest_repair_id"] = ids[-1]
        # not retried: a repair has no idempotency token, and a lost answer must not start a second repair
        answer = self.ws.call("POST", f"{JOBS}/runs/repair", body=body, idempotent=False)
        return answer.get("repair_id")

    def cancel(self, run_id: str) -> None:
        self.ws.call("POST", f"{JOBS}/runs/cancel", body={"run_id": self._run_id(run_id)}, idempotent=True)

    def run_url(self, run_id: str) -> str | None:
        return self.ws.call("GET", f"{JOBS}/runs/get", query={"run_id": self._run_id(run_id)}).get("run_page_url")


def _task_state(state: Mapping[str, Any]) -> str:
    return str(state.get("result_state") or state.get("life_cycle_state") or "PENDING")


def _attempts(task: Mapping[str, Any]) -> int:
    state = task.get("state") or {}
    if state.get("life_cycle_state") in ("SKIPPED", "BLOCKED", "PENDING", "QUEUED", None) and \
            not task.get("start_time"):
        return 0
    return int(task.get("attempt_number") or 0) + 1


def _message(text: Any) -> str:
    """The service's words about a run (its state message, a task's error), secret-looking values masked: they
    may quote a parameter that was sent (a token) and end up in CI logs."""
    from flowdef.deploy.mask import mask_message

    return mask_message(str(text or ""))


def _error(state: Mapping[str, Any]) -> str | None:
    result = state.get("result_state")
    if result in ("FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR"):
        return _message(state.get("state_message")) or None
    return None


def _latest_attempts(tasks: Any) -> list[Mapping[str, Any]]:
    """One entry per task key, its latest attempt: each attempt of a retried task is a task run of its own
    (``attempt_number`` 0, 1, ...), and a ``runs/get`` body may list every one of them."""
    latest: dict[str, Mapping[str, Any]] = {}
    for t in tasks:
        seen = latest.get(t["task_key"])
        if seen is None or int(t.get("attempt_number") or 0) >= int(seen.get("attempt_number") or 0):
            latest[t["task_key"]] = t
    return list(latest.values())  # in the order the keys first appeared


def run_view(body: Mapping[str, Any], job_key: str | None, iterations: Mapping[str, list],
             task_key_of: Callable[[Any], str] = str) -> RunView:
    """A ``runs/get`` (or ``runs/list`` item) body as a :class:`RunView`."""
    state = body.get("state") or {}
    status = body.get("status") or {}
    life = str(state.get("life_cycle_state") or status.get("state") or "PENDING")
    if life == "INTERNAL_ERROR" and state.get("result_state"):
        life = "TERMINATED"  # how the service reports a failed run; the result says FAILED
    tasks = []
    for t in _latest_attempts(body.get("tasks") or ()):
        ts = t.get("state") or {}
        view = TaskView(task_key=t["task_key"], state=_task_state(ts), attempts=_attempts(t),
                        start=t.get("start_time") or None, end=t.get("end_time") or None, error=_error(ts),
                        depends_on=[d["task_key"] for d in t.get("depends_on") or ()],
                        outcome=(t.get("condition_task") or {}).get("outcome"), task_run_id=t.get("run_id"))
        if "for_each_task" in t:
            view.iterations = [IterationView(index=i, state=_task_state(it.get("state") or {}),
                                             attempts=_attempts(it), start=it.get("start_time") or None,
                                             end=it.get("end_time") or None, error=_error(it.get("state") or {}))
                               for i, it in enumerate(iterations.get(t["task_key"], []))]
        tasks.append(view)
    by_id = {t.task_run_id: t.task_key for t in tasks}
    repairs = []
    for h in body.get("repair_history") or ():
        hs = h.get("state") or {}
        repairs.append(RepairView(id=h.get("id"), type=str(h.get("type") or "REPAIR"), start=h.get("start_time"),
                                  end=h.get("end_time"), result=hs.get("result_state"),
                                  tasks=[by_id[i] if i in by_id else task_key_of(i)
                                         for i in h.get("task_run_ids") or ()]))
    params = {p["name"]: str(p.get("value", p.get("default", ""))) for p in body.get("job_parameters") or ()}
    return RunView(run_id=str(body.get("run_id")), job=job_key, job_id=body.get("job_id"), state=life,
                   result=state.get("result_state") if life in ("TERMINATED", "SKIPPED") else None,
                   message=_message(state.get("state_message")), start=body.get("start_time") or None,
                   end=body.get("end_time") or None, url=body.get("run_page_url"), params=params, tasks=tasks,
                   repairs=repairs)
