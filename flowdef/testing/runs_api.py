"""Job runs of the fake workspace: run-now, runs/get, runs/list, runs/cancel, runs/repair, get-output.

Task outcomes are decided by :mod:`flowdef.runsem` (the same module the local engine uses).  Every
task succeeds unless ``ws.fail_task(...)`` says otherwise; condition tasks compare their operands
after substituting ``{{job.parameters.x}}``, ``{{tasks.t.values.k}}`` (see ``ws.set_task_values``),
``{{job.id}}``, ``{{job.run_id}}``, ``{{job.name}}``, ``{{job.repair_count}}`` and ``{{task.name}}``;
unknown references stay literal, as on the service.

Run-level state mirrors what the service reports:

* success: ``life_cycle_state`` TERMINATED, ``result_state`` SUCCESS (or SUCCESS_WITH_FAILURES);
* failure: ``life_cycle_state`` **INTERNAL_ERROR** with ``result_state`` FAILED and
  ``state_message`` "Task <key> failed with message: <error>." - so the SDK waiter
  ``run_now(...).result()`` raises ``OperationFailed`` for a failed run, as against a real workspace;
  ``status.state`` is TERMINATED with ``termination_details.code`` RUN_EXECUTION_ERROR;
* tasks that did not run (EXCLUDED, UPSTREAM_FAILED, DISABLED...) have ``life_cycle_state`` SKIPPED.

Runs finish at once, unless ``run_polls=N``: then the first N ``runs/get`` calls of a run (and of
each repair) report it RUNNING.  ``tasks`` lists the latest attempt of every task; retries show in
``attempt_number`` and every attempt's task run id is accepted by ``runs/get-output``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from flowdef import runsem
from flowdef.testing._wire import (
    Request,
    Response,
    body_dict,
    decode_token,
    encode_token,
    need_int,
    opt_bool,
    opt_int,
)
from flowdef.testing.state import (
    ApiError,
    Options,
    RunRecord,
    TaskRun,
    WorkspaceState,
    invalid,
    not_found,
    now_ms,
)

__all__ = ["DEFAULT_TASK_ERROR", "RunsApi"]

DEFAULT_TASK_ERROR = "Workload failed, see run output for details"
PAGE_SIZE = 100
_REF = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_SKIPPED = {"EXCLUDED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "DISABLED"}
_TASK_CODES = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "DISABLED": ("DISABLED", "SUCCESS"),
}
_SKIP_MESSAGES = {
    "EXCLUDED": "The task was excluded because its run_if condition was not met.",
    "UPSTREAM_FAILED": "Upstream task(s) failed.",
    "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
    "DISABLED": "The task is disabled.",
}


class RunsApi:
    def __init__(self, state: WorkspaceState, options: Options) -> None:
        self.state = state
        self.options = options
        self.host = ""

    # ---------------------------------------------------------------- execution

    def _executor(self, record: RunRecord, specs: dict[str, dict[str, Any]]):
        def execute(task_key: str, attempt: int) -> runsem.Outcome:
            spec = specs[task_key]
            failure = self._forced_failure(record.job_id, task_key)
            if failure is not None:
                return runsem.Outcome("FAILED", error=failure)
            if "condition_task" in spec:
                cond = spec["condition_task"]
                left = self.substitute(cond.get("left", ""), record, task_key)
                right = self.substitute(cond.get("right", ""), record, task_key)
                specs[task_key] = dict(spec, _resolved={"left": left, "right": right})
                try:
                    value = runsem.compare(cond.get("op", ""), left, right)
                except ValueError as exc:
                    return runsem.Outcome("FAILED", error=str(exc))
                return runsem.Outcome("SUCCESS", outcome="true" if value else "false")
            if "for_each_task" in spec:
                return self._for_each(record, spec, task_key)
            return runsem.Outcome("SUCCESS")

        return execute

    def _for_each(self, record: RunRecord, spec: dict[str, Any], task_key: str) -> runsem.Outcome:
        loop = spec["for_each_task"]
        raw = self.substitute(str(loop.get("inputs", "[]")), record, task_key)
        try:
            items = json.loads(raw)
        except ValueError:
            items = None
        if not isinstance(items, list):
            return runsem.Outcome("FAILED", error=f"for_each_task inputs must be a JSON array, got {raw!r}")
        inner_key = (loop.get("task") or {}).get("task_key", "")
        states = []
        for _ in items:
            failure = self._forced_failure(record.job_id, inner_key)
            states.append("FAILED" if failure is not None else "SUCCESS")
        record.tasks.setdefault(task_key, TaskRun(task_key, 0, spec)).iterations = states
        state = runsem.for_each_result(states)
        return runsem.Outcome(state, error=None if state == "SUCCESS" else
                              f"{states.count('FAILED')} of {len(states)} iterations failed")

    def _forced_failure(self, job_id: int, task_key: str) -> str | None:
        entry = self.state.task_failures.get((job_id, task_key))
        if entry is None:
            return None
        remaining, message = entry
        if remaining is not None:
            if remaining <= 0:
                return None
            entry[0] = remaining - 1
        return message or DEFAULT_TASK_ERROR

    def substitute(self, text: str, record: RunRecord, task_key: str) -> str:
        """Resolve the dynamic value references the fake knows; leave others literal."""
        def repl(match: re.Match) -> str:
            ref = match.group(1).replace("`", "")
            parts = ref.split(".")
            if ref.startswith("job.parameters.") and ref[15:] in record.parameters:
                return str(record.parameters[ref[15:]])
            simple = {"job.id": record.job_id, "job.run_id": record.run_id, "job.name": record.run_name,
                      "job.repair_count": len(record.repairs), "task.name": task_key}
            if ref in simple:
                return str(simple[ref])
            if len(parts) >= 4 and parts[0] == "tasks" and parts[2] == "values":
                values = self.state.task_values.get((record.job_id, parts[1]), {})
                key = ".".join(parts[3:])
                if key in values:
                    value = values[key]
                    if isinstance(value, bool):
                        return "true" if value else "false"
                    return value if isinstance(value, str) else json.dumps(value)
            return match.group(0)

        return _REF.sub(repl, str(text))

    def _execute(self, record: RunRecord, tasks: list[dict[str, Any]], selected: set[str] | None,
                 previous: dict[str, runsem.TaskResult] | None) -> list[int]:
        specs = {t["task_key"]: copy.deepcopy(t) for t in tasks}
        started = now_ms()
        results = runsem.simulate(tasks, self._executor(record, specs), selected=selected, previous=previous)
        new_ids: list[int] = []
        for key, res in results.items():
            if previous is not None and key in previous and (selected is None or key not in selected):
                continue  # untouched by this repair
            task = record.tasks.get(key) or TaskRun(key, 0, specs[key])
            task.spec = specs[key]
            task.state, task.outcome, task.error = res.state, res.outcome, res.error
            task.attempts = res.attempts
            task.attempt_run_ids = [self.state.next_run_id() for _ in range(max(1, res.attempts))]
            task.run_id = task.attempt_run_ids[-1]
            task.execution_count += res.attempts
            task.start_time, task.end_time = started, now_ms()
            record.tasks[key] = task
            new_ids.append(task.run_id)
        order = runsem.topological_order(tasks)
        record.tasks = {k: record.tasks[k] for k in order if k in record.tasks}
        record.result_state = runsem.run_result(tasks, {k: t.state or "" for k, t in record.tasks.items()})
        record.end_time = now_ms()
        record.polls_remaining = self.options.run_polls
        return new_ids

    # ---------------------------------------------------------------- endpoints

    def run_now(self, req: Request, jobs_api) -> Response:
        body = body_dict(req)
        job_id = need_int(body, "job_id")
        token = body.get("idempotency_token")
        with self.state.lock:
            settings = jobs_api.settings_of(job_id)
            if token and token in self.state.idempotency:
                run_id = self.state.idempotency[token]
                return Response(body={"run_id": run_id, "number_in_job": self.state.runs[run_id].number_in_job})
            tasks = copy.deepcopy(settings.get("tasks") or [])
            selected = None
            if body.get("only"):
                try:
                    selected = runsem.expand_only(tasks, body["only"])
                except KeyError as exc:
                    raise invalid(f"Task {exc.args[0]} in 'only' does not exist in job {job_id}.") from None
                tasks = [t for t in tasks if t["task_key"] in selected]
            defaults = {p["name"]: str(p.get("default", "")) for p in settings.get("parameters") or ()}
            params = dict(defaults, **{k: str(v) for k, v in (body.get("job_parameters") or {}).items()})
            run_id = self.state.next_run_id()
            record = RunRecord(
                run_id=run_id, job_id=job_id,
                number_in_job=1 + sum(1 for r in self.state.runs.values() if r.job_id == job_id),
                run_name=str(settings.get("name", "Untitled")), creator_user_name=self.state.user_name,
                start_time=now_ms(), parameters=params, job_parameter_defaults=defaults,
                job_clusters=copy.deepcopy(settings.get("job_clusters") or []),
                overriding_parameters={k: body[k] for k in ("notebook_params", "python_params", "jar_params",
                                                            "sql_params", "python_named_params") if body.get(k)},
            )
            self.state.runs[run_id] = record
            task_ids = self._execute(record, tasks, None, None)
            record.original = self._history_item(record, "ORIGINAL", None, task_ids)
            if token:
                self.state.idempotency[token] = run_id
        return Response(body={"run_id": run_id, "number_in_job": record.number_in_job})

    def _record(self, run_id: int) -> RunRecord:
        record = self.state.runs.get(run_id)
        if record is None:
            raise not_found("Run", run_id, self.options)
        return record

    def get_run(self, req: Request) -> Response:
        run_id = need_int(req.query, "run_id")
        page = decode_token(req.query["page_token"]) if req.query.get("page_token") else 0
        with self.state.lock:
            record = self._record(run_id)
            running = record.polls_remaining > 0
            if running and page == 0:
                record.polls_remaining -= 1
            body = self._render_run(record, expand=True, running=running,
                                    history=opt_bool(req.query, "include_history"))
        if req.api_version == "2.1":
            return Response(body=body)
        more = False
        for name in ("tasks", "job_clusters", "job_parameters", "repair_history"):
            items = body.pop(name, None)
            if items is None:
                continue
            chunk = items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            if chunk or page == 0:
                body[name] = chunk
            more = more or len(items) > (page + 1) * PAGE_SIZE
        if more:
            body["next_page_token"] = encode_token(page + 1)
        return Response(body=body)

    def list_runs(self, req: Request) -> Response:
        q = req.query
        if opt_bool(q, "active_only") and opt_bool(q, "completed_only"):
            raise invalid("active_only and completed_only cannot both be true.")
        limit = opt_int(q, "limit", 20)
        if limit == 0:
            limit = 25
        if limit is None or not 1 <= limit <= 25:
            raise invalid(f"Invalid limit {q.get('limit')}: limit must be greater than 0 and at most 25.")
        start = decode_token(q["page_token"]) if q.get("page_token") else (opt_int(q, "offset", 0) or 0)
        job_id = opt_int(q, "job_id")
        expand = opt_bool(q, "expand_tasks")
        with self.state.lock:
            runs = [r for r in sorted(self.state.runs.values(), key=lambda r: -r.run_id)
                    if job_id is None or r.job_id == job_id]
            if opt_bool(q, "active_only"):
                runs = [r for r in runs if not r.finished]
            if opt_bool(q, "completed_only"):
                runs = [r for r in runs if r.finished]
            if q.get("run_type") and q["run_type"] != "JOB_RUN":
                runs = []
            lo, hi = opt_int(q, "start_time_from"), opt_int(q, "start_time_to")
            runs = [r for r in runs if (lo is None or r.start_time >= lo) and (hi is None or r.start_time <= hi)]
            page = runs[start:start + limit]
            rendered = []
            for record in page:
                item = self._render_run(record, expand=expand, running=record.polls_remaining > 0, history=False)
                if expand and len(item.get("tasks", [])) > PAGE_SIZE:
                    item["tasks"], item["has_more"] = item["tasks"][:PAGE_SIZE], True
                elif expand:
                    item["has_more"] = False
                rendered.append(item)
        out: dict[str, Any] = {"has_more": start + limit < len(runs)}
        if rendered:
            out["runs"] = rendered
        if out["has_more"]:
            out["next_page_token"] = encode_token(start + limit)
        if start > 0:
            out["prev_page_token"] = encode_token(max(0, start - limit))
        return Response(body=out)

    def cancel_run(self, req: Request) -> Response:
        run_id = need_int(body_dict(req), "run_id")
        with self.state.lock:
            record = self._record(run_id)
            if not record.finished:
                record.canceled = True
                record.polls_remaining = 0
                for task in record.tasks.values():
                    task.state, task.error = "CANCELED", None
                record.result_state = "CANCELED"
                record.end_time = now_ms()
        return Response(body={})

    def repair_run(self, req: Request, jobs_api) -> Response:
        body = body_dict(req)
        run_id = need_int(body, "run_id")
        with self.state.lock:
            record = self._record(run_id)
            if not record.finished:
                raise ApiError(400, "INVALID_STATE", f"Run {run_id} is still active and cannot be repaired.")
            latest, given = record.latest_repair_id, body.get("latest_repair_id")
            if latest is not None and given is None:
                raise invalid("The latest repair ID needs to be provided in the request when a run has "
                              f"been repaired before (latest repair ID: {latest}).")
            if given is not None and int(given) != latest:
                raise invalid(f"The latest repair ID {given} does not match the latest repair of run "
                              f"{run_id} ({latest}).")
            settings = jobs_api.settings_of(record.job_id)  # repairs use the *current* job definition
            tasks = copy.deepcopy(settings.get("tasks") or [])
            previous = {k: runsem.TaskResult(k, t.state or "CANCELED", t.attempts, t.outcome, t.error)
                        for k, t in record.tasks.items()}
            try:
                chosen = runsem.repair_selection(
                    tasks, {k: r.state for k, r in previous.items()},
                    rerun_tasks=body.get("rerun_tasks"),
                    rerun_all_failed=bool(body.get("rerun_all_failed_tasks")),
                    rerun_dependent=bool(body.get("rerun_dependent_tasks")),
                )
            except ValueError as exc:
                raise invalid(f"Invalid repair request: {exc}.") from None
            if not chosen:
                raise invalid(f"Run {run_id} has no failed tasks to repair.")
            record.parameters.update({k: str(v) for k, v in (body.get("job_parameters") or {}).items()})
            repair_id = self.state.next_repair_id()
            record.repairs.append({"id": repair_id})  # so {{job.repair_count}} counts this repair
            record.canceled = False
            task_ids = self._execute(record, tasks, chosen, previous)
            record.repairs[-1] = self._history_item(record, "REPAIR", repair_id, task_ids)
        return Response(body={"repair_id": repair_id})

    def get_output(self, req: Request) -> Response:
        run_id = need_int(req.query, "run_id")
        with self.state.lock:
            found = self._find_task_run(run_id)
            if found is None:
                record = self._record(run_id)
                if len(record.tasks) != 1:
                    raise invalid("Retrieving the output of runs with multiple tasks is not supported. "
                                  "Please retrieve the output of each individual task run instead.")
                found = (record, next(iter(record.tasks.values())))
            record, task = found
            running = record.polls_remaining > 0
            out: dict[str, Any] = {"metadata": self._render_task_as_run(record, task, running)}
            if running:
                return Response(body=out)
            custom = self.state.task_outputs.get((record.job_id, task.task_key), {})
            if task.state in ("FAILED", "TIMEDOUT"):
                out["error"] = task.error or DEFAULT_TASK_ERROR
                out["error_trace"] = custom.get("error_trace", "")
            elif "notebook_task" in task.spec:
                if task.state == "SUCCESS":
                    out["notebook_output"] = {"result": custom.get("notebook_result", ""), "truncated": False}
            elif task.state == "SUCCESS" and "condition_task" not in task.spec:
                out["logs"] = custom.get("logs", "")
                out["logs_truncated"] = False
        return Response(body=out)

    def _find_task_run(self, run_id: int) -> tuple[RunRecord, TaskRun] | None:
        for record in self.state.runs.values():
            for task in record.tasks.values():
                if run_id == task.run_id or run_id in task.attempt_run_ids:
                    return record, task
        return None

    # ---------------------------------------------------------------- rendering

    def _run_state(self, record: RunRecord, running: bool) -> tuple[dict, dict]:
        if running:
            return ({"life_cycle_state": "RUNNING", "state_message": "", "user_cancelled_or_timedout": False},
                    {"state": "RUNNING"})
        result = record.result_state or "SUCCESS"
        message, life, code, kind = "", "TERMINATED", result, "SUCCESS"
        if result == "FAILED":
            bad = next((t for t in record.tasks.values() if t.state in ("FAILED", "TIMEDOUT")), None)
            error = (bad.error if bad else None) or DEFAULT_TASK_ERROR
            message = f"Task {bad.task_key if bad else '?'} failed with message: {error}."
            life, code, kind = "INTERNAL_ERROR", "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        elif result == "TIMEDOUT":
            message, code, kind = "Run timed out.", "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        elif result == "CANCELED":
            message, code = "Run was canceled.", "USER_CANCELED"
        state = {"life_cycle_state": life, "result_state": result, "state_message": message,
                 "user_cancelled_or_timedout": result in ("CANCELED", "TIMEDOUT")}
        status = {"state": "TERMINATED", "termination_details": {"code": code, "type": kind, "message": message}}
        return state, status

    def _task_state(self, task: TaskRun, running: bool, first_wave: bool) -> tuple[dict, dict]:
        if running:
            life = "RUNNING" if first_wave else "PENDING"
            return {"life_cycle_state": life, "state_message": ""}, {"state": life if first_wave else "BLOCKED"}
        result = task.state or "SUCCESS"
        if result in _SKIPPED:
            message = _SKIP_MESSAGES[result]
            state = {"life_cycle_state": "SKIPPED", "result_state": result, "state_message": message,
                     "user_cancelled_or_timedout": False}
            code = "DISABLED" if result == "DISABLED" else "SKIPPED"
            return state, {"state": "TERMINATED", "termination_details": {"code": code, "type": "SUCCESS",
                                                                          "message": message}}
        message = "" if result == "SUCCESS" else (task.error or DEFAULT_TASK_ERROR)
        code, kind = _TASK_CODES.get(result, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        state = {"life_cycle_state": "TERMINATED", "result_state": result, "state_message": message,
                 "user_cancelled_or_timedout": result == "CANCELED"}
        return state, {"state": "TERMINATED", "termination_details": {"code": code, "type": kind, "message": message}}

    def _render_task(self, record: RunRecord, task: TaskRun, running: bool) -> dict[str, Any]:
        spec = task.spec
        out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items()
                               if not k.startswith("_") and k not in ("email_notifications", "webhook_notifications",
                                                                      "notification_settings", "health")}
        first_wave = not spec.get("depends_on")
        out["state"], out["status"] = self._task_state(task, running, first_wave)
        out["run_id"] = task.run_id
        out["attempt_number"] = max(0, task.attempts - 1)
        out["run_page_url"] = f"{self.host}/?o=0#job/{record.job_id}/run/{task.run_id}"
        if not running:
            out["start_time"], out["end_time"] = task.start_time, task.end_time
            out["execution_duration"], out["setup_duration"], out["cleanup_duration"] = 0, 0, 0
            if "condition_task" in out and task.outcome is not None:
                out["condition_task"]["outcome"] = task.outcome
            if "_resolved" in spec:
                out["resolved_values"] = {"condition_task": spec["_resolved"]}
            if "for_each_task" in out:
                states = task.iterations
                out["for_each_task"]["stats"] = {"task_run_stats": {
                    "total_iterations": len(states), "completed_iterations": len(states),
                    "succeeded_iterations": states.count("SUCCESS"),
                    "failed_iterations": states.count("FAILED"), "active_iterations": 0,
                    "scheduled_iterations": len(states)}}
        return out

    def _render_run(self, record: RunRecord, expand: bool, running: bool, history: bool) -> dict[str, Any]:
        state, status = self._run_state(record, running)
        out: dict[str, Any] = {
            "job_id": record.job_id, "run_id": record.run_id, "number_in_job": record.number_in_job,
            "original_attempt_run_id": record.run_id, "creator_user_name": record.creator_user_name,
            "run_name": record.run_name, "run_type": "JOB_RUN", "trigger": record.trigger,
            "format": "MULTI_TASK", "attempt_number": 0, "start_time": record.start_time,
            "setup_duration": 0, "execution_duration": 0, "cleanup_duration": 0,
            "run_page_url": f"{self.host}/?o=0#job/{record.job_id}/run/{record.run_id}",
            "state": state, "status": status,
        }
        if not running:
            out["end_time"] = record.end_time
            out["run_duration"] = max(0, record.end_time - record.start_time)
        params = [{"name": k, "default": record.job_parameter_defaults.get(k, ""), "value": v}
                  for k, v in sorted(record.parameters.items())]
        if params:
            out["job_parameters"] = params
        if record.overriding_parameters:
            out["overriding_parameters"] = copy.deepcopy(record.overriding_parameters)
        if record.job_clusters:
            out["job_clusters"] = copy.deepcopy(record.job_clusters)
        if expand:
            out["tasks"] = [self._render_task(record, t, running) for t in record.tasks.values()]
        if history:
            out["repair_history"] = [record.original, *record.repairs]
        return out

    def _render_task_as_run(self, record: RunRecord, task: TaskRun, running: bool) -> dict[str, Any]:
        out = self._render_task(record, task, running)
        out.update({"job_id": record.job_id, "run_name": task.task_key, "run_type": "JOB_RUN",
                    "job_run_id": record.run_id, "original_attempt_run_id": task.attempt_run_ids[0]
                    if task.attempt_run_ids else task.run_id})
        return out

    def _history_item(self, record: RunRecord, kind: str, repair_id: int | None, task_ids: list[int]) -> dict:
        state, status = self._run_state(record, running=False)
        item = {"type": kind, "start_time": record.start_time if kind == "ORIGINAL" else now_ms(),
                "end_time": record.end_time, "state": state, "status": status, "task_run_ids": task_ids}
        if repair_id is not None:
            item["id"] = repair_id
        return item

