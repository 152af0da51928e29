"""Following a run until it ends (``run`` and ``repair`` without ``--no-wait``): poll the backend, keep the live
display current, print the summary, and turn the result into the exit code (0 only for SUCCESS).  Ctrl-C asks
whether to cancel the run (on a terminal); elsewhere it leaves the run going and says how to cancel it."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO, Any, Callable

from flowdef.operate.backend import Backend
from flowdef.operate.display import LiveDisplay, summary_text
from flowdef.operate.view import RunView

__all__ = ["exit_code", "follow", "poll_interval"]


def poll_interval(backend: Backend) -> float:
    env = os.environ.get("FLOWDEF_POLL_INTERVAL")
    if env:
        try:
            return max(0.0, float(env))
        except ValueError:
            pass
    return float(getattr(backend, "poll_interval", 5.0))


def exit_code(view: RunView) -> int:
    return 0 if view.result == "SUCCESS" else 1


def _ask(question: str, stdin: IO[str], stream: IO[str]) -> bool:
    stream.write(f"\n{question} [y/N] ")
    stream.flush()
    try:
        answer = stdin.readline()
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def follow(backend: Backend, run_id: str, *, fmt: str = "text", stream: IO[str] | None = None,
           stdin: IO[str] | None = None, sleep: Callable[[float], Any] = time.sleep) -> int:
    """Follow ``run_id`` to its end; returns the exit code.  The display goes to ``stream`` (stdout for text,
    stderr with ``--format json``, whose stdout carries only the final :meth:`RunView.to_json`)."""
    out = sys.stdout
    stream = stream or (sys.stderr if fmt == "json" else sys.stdout)
    stdin = stdin or sys.stdin
    tty = bool(getattr(stream, "isatty", lambda: False)())
    display = LiveDisplay(stream, tty)
    interval = poll_interval(backend)
    canceled = False
    while True:
        try:
            view = backend.get_run(run_id)
            display.update(view)
            if view.finished:
                break
            sleep(interval)
        except KeyboardInterrupt:
            if canceled:
                print(f"\nstopped following run {run_id}; it is being canceled", file=stream)
                return 130
            if getattr(backend, "runs_here", False):  # the run cannot outlive this process: end it cleanly
                backend.cancel(run_id)
                canceled = True
                print(f"\ncanceling run {run_id}: this process runs it (cleanup tasks still run; Ctrl-C again to "
                      f"stop at once, `flowdef repair {run_id} --failed` later reruns what did not finish)...",
                      file=stream)
                display.drawn = 0
                continue
            if getattr(stdin, "isatty", lambda: False)():
                if _ask(f"Cancel run {run_id}?", stdin, stream):
                    backend.cancel(run_id)
                    canceled = True
                    print(f"canceling run {run_id} (cleanup tasks still run)...", file=stream)
                    display.drawn = 0
                    continue
            print(f"\nrun {run_id} goes on: `flowdef status {run_id}` to see it, `flowdef cancel {run_id}` to stop "
                  "it", file=stream)
            return 130
    display.close()
    if fmt == "json":
        print(json.dumps(view.to_json(), indent=2, sort_keys=True), file=out)
    else:
        print(summary_text(view), file=stream)
    return exit_code(view)
