"""The operate display on its own: in-place redraws that fit the terminal, appended lines, summaries."""

from __future__ import annotations

import io

from flowdef.operate.display import LiveDisplay, duration, output_text, status_text, summary_text
from flowdef.operate.view import IterationView, RepairView, RunView, TaskOutput, TaskView


class Tty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def view(state="RUNNING", result=None, **kw):
    tasks = [TaskView("ingest_a_very_long_task_key_name_that_would_wrap", "SUCCESS", 1, 0, 1500),
             TaskView("dedup", "FAILED", 3, 1500, 4000, error="ZeroDivisionError", depends_on=["ingest_a_very_long_task_key_name_that_would_wrap"]),
             TaskView("loop", "FAILED", 1, 0, 9000, iterations=[IterationView(0, "SUCCESS", 1), IterationView(1, "FAILED", 2, error="bad")]),
             TaskView("join", "UPSTREAM_FAILED", depends_on=["dedup", "loop"])]
    return RunView("7", "job", state, result, start=0, end=9000 if result else None, tasks=tasks, **kw)


def test_redraw_fits_the_terminal_and_moves_back_over_itself(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "20")
    out = Tty()
    display = LiveDisplay(out, tty=True)
    display.update(view())
    display.update(view("TERMINATED", "FAILED"))
    first, second = out.getvalue().split("\x1b[5F\x1b[J")  # 5 lines drawn: back over all of them
    assert all(len(line) <= 40 for line in second.splitlines()), second
    assert "…" in second and "run 7 of job: FAILED" in second


def test_plain_lines_only_for_changes():
    out = io.StringIO()
    display = LiveDisplay(out, tty=False)
    display.update(view())
    display.update(view())
    text = out.getvalue()
    assert "\x1b" not in text and text.count("dedup: FAILED (attempt 3)") == 1 and "ZeroDivisionError" in text


def test_plain_lines_start_the_run_before_its_tasks_and_end_it_after_them():
    out = io.StringIO()
    display = LiveDisplay(out, tty=False)
    pending = [TaskView("a", "RUNNING", 1, 0), TaskView("b", "PENDING")]
    display.update(RunView("7", "job", "RUNNING", None, start=0, tasks=pending))
    done = [TaskView("a", "SUCCESS", 1, 0, 1000), TaskView("b", "SUCCESS", 1, 1000, 2000)]
    display.update(RunView("7", "job", "TERMINATED", "SUCCESS", start=0, end=2000, tasks=done))
    lines = out.getvalue().splitlines()
    assert lines[0] == "run 7: RUNNING" and lines[1].startswith("  a: RUNNING")
    assert [line.split()[0] for line in lines[2:]] == ["a:", "b:", "run"] and lines[-1] == "run 7: SUCCESS"


def test_summary_status_and_output_text():
    v = view("TERMINATED", "FAILED", url="http://x/run/7",
             repairs=[RepairView(None, "ORIGINAL", 0, 9000, "FAILED", ["dedup"])])
    text = summary_text(v)
    assert "Run 7 of job: FAILED (9.0s)" in text and "  dedup: ZeroDivisionError" in text
    assert "    iteration 1: bad" in text and "URL: http://x/run/7" in text
    assert "Repair: flowdef repair 7 --failed --dependents" in text
    tree = status_text(v)
    assert "  x   dedup" in tree and "(also after loop)" in tree and "1/2 iterations, 1 failed" in tree
    assert "Repair history:\n  original" in tree
    out = output_text(TaskOutput("t", 0, "SUCCESS", sql=[[1, "a"], [2, "b"]], logs="hello\n"))
    assert "logs:\nhello" in out and "SQL result:\n  1 | a\n  2 | b" in out
    assert duration(0, 61_000) == "1m01s" and duration(0, 3_720_000) == "1h02m" and duration(None, 5) == ""


class Backend:
    """A scripted backend: the views get_run returns, in order; records cancels."""

    poll_interval = 0.0

    def __init__(self, views):
        self.views, self.canceled = list(views), []

    def get_run(self, run_id):
        return self.views.pop(0) if len(self.views) > 1 else self.views[0]

    def cancel(self, run_id):
        self.canceled.append(run_id)


class Keys(io.StringIO):
    def __init__(self, text, tty):
        super().__init__(text)
        self._tty = tty

    def isatty(self):
        return self._tty


def _interrupt_once():
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        if len(calls) == 1:
            raise KeyboardInterrupt
    return sleep


def test_ctrl_c_without_a_terminal_leaves_the_run_going(monkeypatch):
    from flowdef.operate.follow import follow

    monkeypatch.delenv("FLOWDEF_POLL_INTERVAL", raising=False)
    backend = Backend([view()])
    out = io.StringIO()
    assert follow(backend, "7", stream=out, stdin=Keys("", tty=False), sleep=_interrupt_once()) == 130
    assert backend.canceled == [] and "flowdef cancel 7" in out.getvalue()


def test_ctrl_c_on_a_terminal_asks_and_cancels(monkeypatch):
    from flowdef.operate.follow import follow

    monkeypatch.delenv("FLOWDEF_POLL_INTERVAL", raising=False)
    backend = Backend([view(), view(), view("TERMINATED", "CANCELED")])
    out = io.StringIO()
    code = follow(backend, "7", stream=out, stdin=Keys("y\n", tty=True), sleep=_interrupt_once())
    assert code == 1 and backend.canceled == ["7"]  # exit 0 only on SUCCESS
    assert "Cancel run 7? [y/N]" in out.getvalue() and "Run 7 of job: CANCELED" in out.getvalue()


def test_a_run_body_listing_every_attempt_of_a_task_shows_the_task_once():
    """Each attempt of a retried task is a task run of its own; whether runs/get lists them all or only the
    latest, the run shows one line per task, from its latest attempt."""
    from flowdef.operate.workspace import run_view

    def entry(key, attempt, result, run_id):
        return {"task_key": key, "run_id": run_id, "attempt_number": attempt, "start_time": 1000 * (attempt + 1),
                "end_time": 1000 * (attempt + 2), "state": {"life_cycle_state": "TERMINATED", "result_state": result}}

    body = {"run_id": 1, "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "tasks": [entry("a", 0, "FAILED", 11), entry("b", 0, "SUCCESS", 12), entry("a", 2, "SUCCESS", 14),
                      entry("a", 1, "FAILED", 13)]}
    view = run_view(body, "job", {})
    assert [(t.task_key, t.state, t.attempts, t.task_run_id) for t in view.tasks] == [
        ("a", "SUCCESS", 3, 14), ("b", "SUCCESS", 1, 12)]
