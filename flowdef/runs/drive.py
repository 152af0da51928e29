"""Drive a :class:`~flowdef.runs.machine.Run` to its end in virtual time, with a callback deciding each attempt.

For tests, for the fake workspace's runs that finish at once, and as the shortest example of the protocol a
real engine follows (``ready`` -> ``task_started`` -> ``attempt_finished``, ``expire`` and ``next_deadline`` for
time).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdef.runs.machine import Run, Work

__all__ = ["Outcome", "drive"]


@dataclass(frozen=True)
class Outcome:
    """What one attempt does: its end state, error, task values, and how long it takes (virtual ms)."""

    state: str = "SUCCESS"
    error: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    duration_ms: int = 1000


def drive(run: Run, execute: Callable[[Work], Outcome | str], *, now: int = 0, max_events: int = 1_000_000) -> int:
    """Run ``run`` until it terminates; returns the virtual time it ended.  ``execute(work)`` is called when an
    attempt starts and returns its :class:`Outcome` (or a bare state); an exception fails the attempt with its text.
    """
    clock = now
    pending: list[tuple[int, int, Work, Outcome]] = []  # (end time, sequence, work, outcome)
    seq = 0
    for _ in range(max_events):
        for work in run.ready(clock):
            run.task_started(work.key, clock, work.iteration)
            try:
                raw = execute(work)
                outcome = raw if isinstance(raw, Outcome) else Outcome(str(raw))
            except Exception as exc:  # noqa: BLE001 - a crashing callback fails the attempt, like a task error
                outcome = Outcome("FAILED", f"{type(exc).__name__}: {exc}")
            heapq.heappush(pending, (clock + max(0, outcome.duration_ms), seq, work, outcome))
            seq += 1
        if run.terminated:
            return clock
        times = [t for t in (pending[0][0] if pending else None, run.next_deadline()) if t is not None]
        if not times:
            raise RuntimeError("the run waits for nothing and has not ended (a state machine bug)")
        clock = max(clock, min(times))
        run.expire(clock)
        while pending and pending[0][0] <= clock:
            _, _, work, out = heapq.heappop(pending)
            run.attempt_finished(work.key, out.state, clock, iteration=work.iteration, attempt=work.attempt,
                                 error=out.error, values=out.values)
    raise RuntimeError(f"the run did not end within {max_events} events")
