"""The deployer's worker threads: started once, ahead of the writes, and reused by every parallel step.

Why not a ``ThreadPoolExecutor`` per step: the executor starts a thread on each ``submit`` until it has
``max_workers``, and ``Thread.start`` waits until the new thread has run.  On a busy interpreter (32 threads sending
requests, each holding the GIL while it builds and parses one) that wait is several milliseconds per thread, so the
32 creates of a first apply left one by one over ~100 ms instead of at once - measured: 0.10 s of a 0.19 s first
apply of 50 jobs was spent in ``Thread.start``.  :meth:`Pool.warm` starts the threads in the background while the
apply waits on the network anyway (taking the lock), and the writes then go out as fast as they can be built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any


class Pool:
    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._executor: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()
        self._mine = threading.local()  # .worker is True on this pool's threads

    def _get(self) -> ThreadPoolExecutor:
        with self._guard:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="flowdef-deploy")
            return self._executor

    def warm(self) -> None:
        """Start every worker thread now, in the background (returns at once)."""
        executor = self._get()
        barrier = threading.Barrier(self.size)

        def hold() -> None:
            # each submit finds no idle worker while the others wait here, so the executor starts a new one
            try:
                barrier.wait(timeout=2.0)
            except threading.BrokenBarrierError:
                pass

        def start_all() -> None:
            try:
                for _ in range(self.size):
                    executor.submit(hold)
            except RuntimeError:  # closed meanwhile (a short apply): nothing left to warm
                barrier.abort()

        threading.Thread(target=start_all, name="flowdef-pool-warm", daemon=True).start()

    def map(self, fn: Callable[[Any], Any], items: list, workers: int) -> list:
        """``[fn(i) for i in items]``, at most ``workers`` at once.  An interrupt (Ctrl-C, SIGTERM) cancels what has
        not started yet and waits for what is in flight (so the lock is released promptly and cleanly)."""
        if len(items) <= 1 or workers <= 1 or getattr(self._mine, "worker", False):
            return [fn(i) for i in items]  # nested use from a worker: inline (a bounded pool would deadlock)
        limit = threading.BoundedSemaphore(workers) if workers < self.size else None

        def one(item: Any) -> Any:
            self._mine.worker = True
            if limit is None:
                return fn(item)
            with limit:
                return fn(item)

        executor = self._get()
        futures: list[Future] = [executor.submit(one, i) for i in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            wait(futures)
            raise

    def close(self) -> None:
        with self._guard:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
