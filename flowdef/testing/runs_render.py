"""How the fake workspace shows a run on the wire (``runs/get``, ``runs/list``, ``runs/get-output``): the shapes
databricks-sdk parses, from the :class:`flowdef.runs.Run` state machine's records."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from flowdef.runs.machine import DONE, Attempt, Iteration, TaskRecord
from flowdef.runs.rules import SKIPPED_STATES

if TYPE_CHECKING:
    from flowdef.testing.runs_api import FakeRun, RunsApi

__all__ = ["DEFAULT_TASK_ERROR", "Renderer"]

DEFAULT_TASK_ERROR = "Workload failed, see run output for details"
_TASK_CODES = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("CANCELED", "SUCCESS"),
    "INTERNAL_ERROR": ("INTERNAL_ERROR", "INTERNAL_ERROR"),
}
_SKIP_MESSAGES = {
    "EXCLUDED": "The task was excluded because its run_if condition was not met.",
    "UPSTREAM_FAILED": "Upstream task(s) failed.",
    "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
    "DISABLED": "The task is disabled.",
}
# phase of the state machine -> (life_cycle_state, status.state) while not DONE
_LIVE = {"BLOCKED": ("BLOCKED", "BLOCKED"), "READY": ("PENDING", "PENDING"), "PENDING": ("PENDING", "PENDING"),
         "RUNNING": ("RUNNING", "RUNNING"), "ITERATING": ("RUNNING", "RUNNING"),
         "RETRY": ("WAITING_FOR_RETRY", "WAITING")}
_HIDDEN = ("email_notifications", "webhook_notifications", "notification_settings", "health")


def _task_state(phase: str, result: str | None, error: str | None) -> tuple[dict, dict]:
    if phase != DONE:
        life, v2 = _LIVE[phase]
        return {"life_cycle_state": life, "state_message": "", "user_cancelled_or_timedout": False}, {"state": v2}
    result = result or "SUCCESS"
    if result in SKIPPED_STATES:
        message = _SKIP_MESSAGES[result]
        code = "DISABLED" if result == "DISABLED" else "SKIPPED"
        return ({"life_cycle_state": "SKIPPED", "result_state": result, "state_message": message,
                 "user_cancelled_or_timedout": False},
                {"state": "TERMINATED", "termination_details": {"code": code, "type": "SUCCESS", "message": message}})
    message = "" if result == "SUCCESS" else (error or DEFAULT_TASK_ERROR)
    code, kind = _TASK_CODES.get(result, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
    return ({"life_cycle_state": "TERMINATED", "result_state": result, "state_message": message,
             "user_cancelled_or_timedout": result in ("CANCELED", "TIMEDOUT")},
            {"state": "TERMINATED", "termination_details": {"code": code, "type": kind, "message": message}})


class Renderer:
    def __init__(self, api: RunsApi) -> None:
        self.api = api
        self.host = ""

    def url(self, fr: FakeRun, run_id: int) -> str:
        return f"{self.host}/?o=0#job/{fr.job_id}/run/{run_id}"

    # ---------------------------------------------------------------- ids

    def latest_task_run_id(self, fr: FakeRun, record: TaskRecord) -> int:
        att = record.attempt
        if att is None:
            return self.api.task_run_id(fr, record.key, record.repair, None, None)
        return self.api.task_run_id(fr, record.key, att.repair, None, att.number)

    def _find(self, fr: FakeRun, ident: tuple[str, int, int, int]) -> tuple[TaskRecord, Attempt | None,
                                                                           Iteration | None]:
        key, pass_no, iteration, number = ident
        record = fr.machine.records[key]
        if iteration >= 0:
            its = record.iterations or []
            it = its[iteration] if iteration < len(its) else None
            att = next((a for a in (it.attempts if it else []) if a.number == number and a.repair == pass_no), None)
            return record, att, it
        att = next((a for a in record.history if a.number == number and a.repair == pass_no), None)
        return record, att, None

    # ---------------------------------------------------------------- runs

    def _run_state(self, fr: FakeRun) -> tuple[dict, dict]:
        m = fr.machine
        if fr.life == "SKIPPED":
            return ({"life_cycle_state": "SKIPPED", "state_message": fr.skip_message,
                     "user_cancelled_or_timedout": False},
                    {"state": "TERMINATED", "termination_details": {
                        "code": "MAX_CONCURRENT_RUNS_EXCEEDED", "type": "CLIENT_ERROR", "message": fr.skip_message}})
        if not fr.finished:
            life = fr.life if fr.life in ("QUEUED", "PENDING", "TERMINATING") else "RUNNING"
            return {"life_cycle_state": life, "state_message": "", "user_cancelled_or_timedout": False}, \
                {"state": life}
        result = m.result or "SUCCESS"
        message, life, code, kind = "", "TERMINATED", result, "SUCCESS"
        if result == "FAILED":
            bad = next((r for r in m.tasks if r.state in ("FAILED", "TIMEDOUT")), None)
            error = (bad.error if bad else None) or DEFAULT_TASK_ERROR
            message = (f"Task {bad.key if bad else '?'} failed with message: {error}. This caused all downstream "
                       "tasks to get skipped.")
            life, code, kind = "INTERNAL_ERROR", "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        elif result == "TIMEDOUT":
            message, code, kind = "Run timed out.", "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        elif result == "CANCELED":
            message, code = "Run was canceled.", "USER_CANCELED"
        state = {"life_cycle_state": life, "result_state": result, "state_message": message,
                 "user_cancelled_or_timedout": result in ("CANCELED", "TIMEDOUT")}
        return state, {"state": "TERMINATED", "termination_details": {"code": code, "type": kind, "message": message}}

    def run(self, fr: FakeRun, expand: bool, history: bool) -> dict[str, Any]:
        m = fr.machine
        state, status = self._run_state(fr)
        out: dict[str, Any] = {
            "job_id": fr.job_id, "run_id": fr.run_id, "number_in_job": fr.number_in_job,
            "original_attempt_run_id": fr.run_id, "creator_user_name": fr.creator_user_name,
            "run_name": fr.run_name, "run_type": "JOB_RUN", "trigger": fr.trigger, "format": "MULTI_TASK",
            "attempt_number": 0, "start_time": fr.start_time, "setup_duration": 0, "execution_duration": 0,
            "cleanup_duration": 0, "run_page_url": self.url(fr, fr.run_id), "state": state, "status": status,
        }
        if fr.finished:
            out["end_time"] = m.end_time or fr.clock
            out["run_duration"] = max(0, out["end_time"] - fr.start_time)
        params = [{"name": k, "default": m.defaults.get(k, ""), "value": v} for k, v in sorted(m.params.items())]
        if params:
            out["job_parameters"] = params
        if fr.overriding_parameters:
            out["overriding_parameters"] = copy.deepcopy(fr.overriding_parameters)
        if fr.job_clusters:
            out["job_clusters"] = copy.deepcopy(fr.job_clusters)
        if expand and fr.life != "SKIPPED":
            out["tasks"] = [self.task(fr, r) for r in m.tasks]
        if history:
            out["repair_history"] = [self._history(fr, i) for i in range(len(m.history))]
        return out

    def _history(self, fr: FakeRun, index: int) -> dict[str, Any]:
        entry = fr.machine.history[index]
        ids = []
        for key in entry.tasks:
            record = fr.machine.records.get(key)
            if record is None:
                continue
            att = next((a for a in reversed(record.history) if a.repair == index), None)
            ids.append(self.api.task_run_id(fr, key, index, None, att.number if att else None))
        done = entry.end is not None
        result = entry.result or ""
        state = {"life_cycle_state": ("INTERNAL_ERROR" if result == "FAILED" else "TERMINATED") if done else
                 "RUNNING", "state_message": "", "user_cancelled_or_timedout": False}
        if done:
            state["result_state"] = result
        item: dict[str, Any] = {"type": entry.kind, "start_time": entry.start, "state": state,
                                "status": {"state": "TERMINATED" if done else "RUNNING"}, "task_run_ids": ids}
        if done:
            item["end_time"] = entry.end
        if entry.id is not None:
            item["id"] = entry.id
        return item

    # ---------------------------------------------------------------- tasks

    def task(self, fr: FakeRun, record: TaskRecord) -> dict[str, Any]:
        out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in record.spec.items() if k not in _HIDDEN}
        out["state"], out["status"] = _task_state(record.phase, record.state, record.error)
        out["run_id"] = self.latest_task_run_id(fr, record)
        out["attempt_number"] = record.attempt.number if record.attempt else 0
        out["run_page_url"] = self.url(fr, out["run_id"])
        if record.start is not None:
            out["start_time"] = record.start
            out["setup_duration"], out["cleanup_duration"] = 0, 0
        if record.end is not None:
            out["end_time"] = record.end
            out["execution_duration"] = max(0, record.end - (record.start or record.end))
        if "condition_task" in out and record.outcome is not None:
            out["condition_task"]["outcome"] = record.outcome
        if "condition_task" in out and record.resolved:
            out["resolved_values"] = {"condition_task": dict(record.resolved)}
        if "for_each_task" in out and record.iterations is not None:
            its = record.iterations
            states = [it.state for it in its]
            active = sum(1 for it in its if it.phase in ("PENDING", "RUNNING"))
            out["for_each_task"]["stats"] = {"task_run_stats": {
                "total_iterations": len(its), "completed_iterations": sum(1 for it in its if it.phase == DONE),
                "succeeded_iterations": states.count("SUCCESS"),
                "failed_iterations": sum(1 for s in states if s in ("FAILED", "TIMEDOUT")),
                "active_iterations": active,
                "scheduled_iterations": sum(1 for it in its if it.phase != "READY")}}
        return out

    def _iteration(self, fr: FakeRun, record: TaskRecord, it: Iteration) -> dict[str, Any]:
        nested = record.spec["for_each_task"].get("task") or {}
        out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in nested.items() if k not in _HIDDEN}
        att = it.attempt
        out["state"], out["status"] = _task_state(it.phase, it.state, att.error if att else None)
        out["run_id"] = self.api.task_run_id(fr, record.key, att.repair if att else record.repair, it.index,
                                             att.number if att else None)
        out["attempt_number"] = att.number if att else 0
        if att is not None and att.start is not None:
            out["start_time"] = att.start
        if att is not None and att.end is not None:
            out["end_time"] = att.end
        return out

    def task_as_run(self, fr: FakeRun, ident: tuple[str, int, int, int], iterations: bool) -> dict[str, Any]:
        record, att, it = self._find(fr, ident)
        out = self._iteration(fr, record, it) if it is not None else self.task(fr, record)
        if it is None and att is not None and att is not record.attempt:  # an earlier attempt of a retried task
            out["state"], out["status"] = _task_state(DONE, att.state, att.error)
            out["attempt_number"], out["start_time"], out["end_time"] = att.number, att.start, att.end
        out.update({"job_id": fr.job_id, "run_name": record.key, "run_type": "JOB_RUN", "job_run_id": fr.run_id,
                    "run_id": fr.ids.get(ident, out["run_id"])})
        if iterations and it is None and record.iterations is not None:
            out["iterations"] = [self._iteration(fr, record, x) for x in record.iterations]
        return out

    def output(self, fr: FakeRun, ident: tuple[str, int, int, int], run_id: int) -> dict[str, Any]:
        record, att, it = self._find(fr, ident)
        out: dict[str, Any] = {"metadata": self.task_as_run(fr, ident, iterations=False)}
        state = att.state if att is not None else (record.state if it is None else it.state)
        if state is None:
            return out  # still running: metadata only
        extras = fr.outputs.get(run_id, {})
        spec = record.spec if it is None else (record.spec["for_each_task"].get("task") or {})
        if state in ("FAILED", "TIMEDOUT", "INTERNAL_ERROR"):
            out["error"] = (att.error if att is not None else None) or DEFAULT_TASK_ERROR
            out["error_trace"] = extras.get("error_trace", "")
        elif state == "SUCCESS" and "notebook_task" in spec:
            out["notebook_output"] = {"result": extras.get("notebook_result", ""), "truncated": False}
        elif state == "SUCCESS" and "sql_task" in spec and "sql_output" in extras:
            out["sql_output"] = copy.deepcopy(extras["sql_output"])
        elif state == "SUCCESS" and "condition_task" not in spec and "for_each_task" not in spec:
            out["logs"] = extras.get("logs", "")
            out["logs_truncated"] = False
        return out
