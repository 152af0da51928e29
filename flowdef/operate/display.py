"""How runs look to a person: the live display while following a run, the end summary, ``status`` as a tree,
``runs`` as a table, ``logs`` as sections.  Pure text from :mod:`flowdef.operate.view` objects; the one place with
terminal control sequences is :class:`LiveDisplay`."""

from __future__ import annotations

import shutil
import time
from typing import IO

from flowdef.operate.view import FAILED_STATES, RunView, TaskOutput, TaskView

__all__ = ["LiveDisplay", "output_text", "runs_text", "status_text", "summary_text"]

_UNICODE = {"ok": "✔", "bad": "✘", "run": "▶", "skip": "–", "wait": "·", "retry": "↻"}
_ASCII = {"ok": "+", "bad": "x", "run": ">", "skip": "-", "wait": ".", "retry": "~"}
_SKIPPED = {"EXCLUDED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "DISABLED", "SKIPPED"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def duration(start: int | None, end: int | None, now: int | None = None) -> str:
    """``1.2s``, ``3m04s``, ``1h02m``; empty without a start."""
    if start is None:
        return ""
    ms = max(0, (end or now or _now_ms()) - start)
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def _mark(task: TaskView, symbols: dict[str, str]) -> str:
    if task.state in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
        return symbols["ok"]
    if task.state in FAILED_STATES:
        return symbols["bad"]
    if task.state in _SKIPPED:
        return symbols["skip"]
    if task.state == "WAITING_FOR_RETRY":
        return symbols["retry"]
    if task.state in ("RUNNING", "TERMINATING"):
        return symbols["run"]
    return symbols["wait"]


def _symbols(stream: IO[str]) -> dict[str, str]:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return _UNICODE if encoding.startswith("utf") else _ASCII


def _attempts(task: TaskView) -> str:
    if task.attempts == 0:
        return ""
    return "1 attempt" if task.attempts == 1 else f"{task.attempts} attempts"


def _iterations(task: TaskView) -> str:
    if task.iterations is None:
        return ""
    its = task.iterations
    ok = sum(1 for i in its if i.state == "SUCCESS")
    bad = sum(1 for i in its if i.state in FAILED_STATES)
    return f"{ok}/{len(its)} iterations" + (f", {bad} failed" if bad else "")


def task_line(task: TaskView, width: int, symbols: dict[str, str], now: int | None = None) -> str:
    bits = [f"{_mark(task, symbols)} {task.task_key:<{width}}", f"{task.state:<17}",
            f"{_attempts(task):<11}", f"{duration(task.start, task.end, now):>7}"]
    extra = _iterations(task)
    if task.outcome:
        extra = f"outcome {task.outcome}"
    return "  ".join(bits + ([extra] if extra else [])).rstrip()


def header(view: RunView, now: int | None = None) -> str:
    what = view.result if view.result else view.state
    return f"run {view.run_id} of {view.job or '?'}: {what}  {duration(view.start, view.end, now)}".rstrip()


class LiveDisplay:
    """On a terminal: the run's header and one line per task, redrawn in place at each poll.  Elsewhere: one
    appended line each time a task (or the run) changes state."""

    def __init__(self, stream: IO[str], tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self.symbols = _symbols(stream)
        self.drawn = 0
        self.seen: dict[str, tuple[str, int]] = {}
        self.run_state = ""

    def update(self, view: RunView) -> None:
        if self.tty:
            self._redraw(view)
        else:
            self._append(view)

    def _redraw(self, view: RunView) -> None:
        now = _now_ms()
        width = max([len(t.task_key) for t in view.tasks] + [8])
        lines = [header(view, now)] + ["  " + task_line(t, width, self.symbols, now) for t in view.tasks]
        # a line wider than the terminal wraps, and the cursor-up count below would be wrong: cut it
        columns = shutil.get_terminal_size((120, 24)).columns
        more = "…" if self.symbols is _UNICODE else "~"
        lines = [line if len(line) < columns else line[:max(1, columns - 2)] + more for line in lines]
        out = []
        if self.drawn:
            out.append(f"\x1b[{self.drawn}F\x1b[J")  # back to the first line drawn, clear below
        out.append("\n".join(lines) + "\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self.drawn = len(lines)

    def _append(self, view: RunView) -> None:
        state = view.result or view.state
        changed = state != self.run_state
        self.run_state = state
        if changed and not view.finished:  # a run starts before its tasks change ...
            print(f"run {view.run_id}: {state}", file=self.stream)
        self._append_tasks(view)
        if changed and view.finished:  # ... and ends after them
            print(f"run {view.run_id}: {state}", file=self.stream)
        self.stream.flush()

    def _append_tasks(self, view: RunView) -> None:
        for t in view.tasks:
            key = (t.state, t.attempts)
            if self.seen.get(t.task_key) == key:
                continue
            if t.task_key not in self.seen and t.state in ("BLOCKED", "PENDING", "QUEUED"):
                self.seen[t.task_key] = key
                continue  # not news: every task starts waiting
            self.seen[t.task_key] = key
            bits = [f"  {t.task_key}: {t.state}"]
            if t.attempts > 1:
                bits.append(f"(attempt {t.attempts})")
            if t.end:
                bits.append(duration(t.start, t.end))
            if t.error and t.state in FAILED_STATES:
                bits.append(f"- {t.error}")
            print(" ".join(bits), file=self.stream)

    def close(self) -> None:
        self.drawn = 0


def summary_text(view: RunView, next_hint: bool = True) -> str:
    """The end of ``run`` / ``repair``: the result per task, each failed task's error, the URL."""
    lines = [f"Run {view.run_id} of {view.job or '?'}: {view.result or view.state} "
             f"({duration(view.start, view.end) or 'no time'})"]
    if view.message and view.result != "SUCCESS":
        lines.append(f"  {view.message}")
    width = max([len(t.task_key) for t in view.tasks] + [8])
    for t in view.tasks:
        lines.append(f"  {t.state:<17} {t.task_key:<{width}}  {_attempts(t)}".rstrip())
    failed = [t for t in view.tasks if t.state in FAILED_STATES]
    if failed:
        lines.append("Errors:")
        for t in failed:
            lines.append(f"  {t.task_key}: {t.error or t.state}")
            for it in t.iterations or ():
                if it.state in FAILED_STATES:
                    lines.append(f"    iteration {it.index}: {it.error or it.state}")
    if len(view.repairs) > 1:
        last = view.repairs[-1]
        lines.append(f"Repairs: {len(view.repairs) - 1} (latest {last.id}: {last.result or 'running'})")
    if view.url:
        lines.append(f"URL: {view.url}")
    repairable = failed or any(t.state.startswith("UPSTREAM") for t in view.tasks)
    if next_hint and view.result not in (None, "SUCCESS") and repairable:
        lines.append(f"Repair: flowdef repair {view.run_id} --failed --dependents")
    return "\n".join(lines)


def status_text(view: RunView) -> str:
    """``status``: the tasks as a tree (each under its first parent; further parents named), with state, attempts,
    duration and error, then the repair history."""
    symbols = _ASCII
    lines = [header(view)]
    if view.message:
        lines.append(f"  {view.message}")
    children: dict[str, list[TaskView]] = {}
    roots = []
    keys = {t.task_key for t in view.tasks}
    for t in view.tasks:
        parents = [p for p in t.depends_on if p in keys]
        if parents:
            children.setdefault(parents[0], []).append(t)
        else:
            roots.append(t)
    width = max([len(t.task_key) for t in view.tasks] + [8]) + 8

    def walk(t: TaskView, depth: int) -> None:
        name = "  " * depth + t.task_key
        line = f"  {_mark(t, symbols)} {name:<{width}} {t.state:<17} {_attempts(t):<11} " \
               f"{duration(t.start, t.end):>7}".rstrip()
        also = [p for p in t.depends_on[1:] if p in keys]
        if also:
            line += f"  (also after {', '.join(also)})"
        if t.outcome:
            line += f"  outcome {t.outcome}"
        if t.iterations is not None:
            line += f"  {_iterations(t)}"
        lines.append(line)
        if t.error and t.state in FAILED_STATES:
            lines.append(f"  {'':<{2 + 2 * depth}}error: {t.error}")
        for it in t.iterations or ():
            if it.state in FAILED_STATES:
                lines.append(f"  {'':<{2 + 2 * depth}}iteration {it.index}: {it.state} {it.error or ''}".rstrip())
        for c in children.get(t.task_key, []):
            walk(c, depth + 1)

    for root in roots:
        walk(root, 0)
    if view.repairs:
        lines.append("Repair history:")
        for r in view.repairs:
            ident = "original" if r.id is None else f"repair {r.id}"
            lines.append(f"  {ident:<14} {r.result or 'running':<22} {duration(r.start, r.end):>7}  "
                         f"{', '.join(r.tasks)}".rstrip())
    if view.url:
        lines.append(f"URL: {view.url}")
    return "\n".join(lines)


def runs_text(views: list[RunView]) -> str:
    if not views:
        return "No runs."
    width = max(len(v.job or "?") for v in views)
    lines = [f"{'RUN':<10} {'JOB':<{width}}  {'STATE':<22} {'STARTED':<20} DURATION"]
    for v in views:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(v.start / 1000)) if v.start else ""
        lines.append(f"{v.run_id:<10} {v.job or '?':<{width}}  {v.result or v.state:<22} {started:<20} "
                     f"{duration(v.start, v.end)}".rstrip())
    return "\n".join(lines)


def output_text(out: TaskOutput) -> str:
    lines = [f"{out.task_key} (attempt {out.attempt}): {out.state}"]
    if out.error:
        lines += ["error:", "  " + out.error]
    if out.error_trace:
        lines += ["error trace:", out.error_trace.rstrip()]
    if out.logs:
        lines += ["logs:", out.logs.rstrip()]
    if out.notebook_result:
        lines += ["notebook result:", out.notebook_result.rstrip()]
    if out.sql is not None:
        lines += ["SQL result:"]
        if isinstance(out.sql, list):
            lines += ["  " + " | ".join(str(c) for c in row) if isinstance(row, (list, tuple)) else f"  {row}"
                      for row in out.sql]
        else:
            import json

            lines.append(json.dumps(out.sql, indent=2, sort_keys=True))
    if out.truncated:
        lines.append("(output truncated by the service)")
    if len(lines) == 1:
        lines.append("(no output)")
    return "\n".join(lines)
