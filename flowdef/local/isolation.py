"""Each attempt in its own process, forked from a warm fork server.

Why processes: user code can crash the interpreter, call ``sys.exit`` / ``os._exit`` or loop forever; a thread
cannot be stopped, a process can be killed.  Why a fork server: a fresh interpreter plus duckdb/sqlglot/
sqlframe imports costs ~0.5 s; forking a process that already imported them costs a few milliseconds, and the
child starts with clean state (no sqlframe singleton, no module left behind by an earlier task).

DuckDB admits one writer process per database file, so two attempts touching the same catalog take turns
(:meth:`LocalWorkspace.attach` waits for the lock); attempts that do not touch data (or touch different
catalogs) run in parallel.  The child writes its stdout/stderr straight to the attempt's log files (file
descriptors 1 and 2, so output from C code and a crashing interpreter is kept too) and sends its result back
through a pipe.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from multiprocessing import spawn
from typing import Any

from flowdef.local.attempt import AttemptRequest, AttemptResult

_PRELOAD = ["flowdef.local._preload"]
_context: Any = None
_start_lock = threading.Lock()
_original_preparation = spawn.get_preparation_data


def _preparation_without_main(name: str) -> dict[str, Any]:
    """What a forked attempt inherits, minus the parent's ``__main__``.

    multiprocessing re-imports the parent's main module in the child (a pytest runner, the CLI, a REPL's
    ``<stdin>``); an attempt needs none of it, and importing it would run someone else's code.
    """
    data = _original_preparation(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


def _ctx() -> Any:
    global _context
    if _context is None:
        if sys.platform == "win32":  # pragma: no cover - no fork server on Windows
            _context = mp.get_context("spawn")
        else:
            _context = mp.get_context("forkserver")
            _context.set_forkserver_preload(_PRELOAD)
    return _context


def _spare(requests: Any, conn: Any) -> None:
    """A process forked ahead of need: it waits for its one attempt, runs it, and ends."""
    try:
        request = requests.recv()
    except (EOFError, OSError):
        return  # never used: the engine went away
    requests.close()
    _child(request, conn)


def _child(request: AttemptRequest, conn: Any) -> None:
    for fd, path in ((1, request.stdout_path), (2, request.stderr_path)):
        if path:
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(target, fd)
            os.close(target)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - line-buffered, fd owned by the process
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    from flowdef.local.attempt import execute_attempt

    result = execute_attempt(request)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        conn.send(result.to_dict())
    except Exception as exc:  # noqa: BLE001 - e.g. a task value that pickles badly
        conn.send(AttemptResult(state="FAILED", error=f"cannot return the attempt's result: {exc}").to_dict())
    conn.close()


def warm_up() -> None:
    """Start the fork server now, in the background (its imports then overlap the caller's own start-up)."""
    import threading

    ctx = _ctx()
    if getattr(ctx, "_name", "") == "forkserver" or sys.platform != "win32":
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, name="flowdef-forkserver", daemon=True).start()


def _start(process: Any) -> None:
    with _start_lock:
        original = spawn.get_preparation_data
        spawn.get_preparation_data = _preparation_without_main  # type: ignore[assignment]
        try:
            process.start()
        finally:
            spawn.get_preparation_data = original  # type: ignore[assignment]


class _Spare:
    """One process forked ahead, waiting for its attempt (the fork's latency is then off the critical path).
    Each spare runs exactly one attempt, so attempts stay isolated from each other."""

    def __init__(self) -> None:
        ctx = _ctx()
        self.recv, send = ctx.Pipe(duplex=False)
        request_recv, self.requests = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_spare, args=(request_recv, send), daemon=True)
        _start(self.process)
        send.close()
        request_recv.close()


_spares: list[_Spare] = []
SPARES = 2


def _take_spare() -> _Spare | None:
    with _start_lock:
        while _spares:
            spare = _spares.pop(0)
            if spare.process.is_alive():
                return spare
    return None


def _replenish() -> None:
    while len(_spares) < SPARES:
        spare = _Spare()
        with _start_lock:
            _spares.append(spare)


class Running:
    """An attempt in flight: poll :meth:`done`, then :meth:`result`; :meth:`kill` on timeout or cancel.

    ``spare=True`` (the engine) hands the attempt to a process forked ahead and forks the next one while this
    attempt runs; ``run_isolated`` forks on demand."""

    def __init__(self, request: AttemptRequest, spare: bool = False) -> None:
        self.started = time.monotonic()
        chosen = _take_spare() if spare else None
        if chosen is not None:
            self._recv, self.process = chosen.recv, chosen.process
            chosen.requests.send(request)
            chosen.requests.close()
        else:
            ctx = _ctx()
            self._recv, send = ctx.Pipe(duplex=False)
            self.process = ctx.Process(target=_child, args=(request, send), daemon=True)
            _start(self.process)
            send.close()
        if spare:
            _replenish()
        self._result: dict[str, Any] | None = None
        self._killed: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def fileno(self) -> int:
        return self._recv.fileno()

    def done(self) -> bool:
        if self._result is not None or self._killed:
            return True
        if self._recv.poll():
            try:
                self._result = self._recv.recv()
            except EOFError:
                pass
            return True
        return not self.process.is_alive() and not self._recv.poll()

    def kill(self, state: str, reason: str) -> None:
        if self.process.is_alive():
            self.process.kill()
        self._killed = state
        self._result = AttemptResult(state=state, error=reason,
                                     duration_ms=int((time.monotonic() - self.started) * 1000)).to_dict()

    def result(self) -> AttemptResult:
        self.process.join(timeout=5)
        if self._result is None:
            code = self.process.exitcode
            what = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            self._result = AttemptResult(
                state="FAILED",
                error=f"the task's process ended without a result ({what}): a crash, os._exit or an out-of-memory kill",
                duration_ms=int((time.monotonic() - self.started) * 1000),
            ).to_dict()
        self._recv.close()
        return AttemptResult(**self._result)


def run_isolated(request: AttemptRequest, timeout: float | None = None) -> AttemptResult:
    """Run one attempt in a child process and wait for it (``TIMEDOUT`` after ``timeout`` seconds)."""
    running = Running(request)
    from multiprocessing.connection import wait

    deadline = None if timeout is None else running.started + timeout
    while not running.done():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            running.kill("TIMEDOUT", f"the task timed out after {timeout:g} s and was stopped")
            break
        wait([running.fileno(), running.process.sentinel], timeout=left)
    return running.result()
