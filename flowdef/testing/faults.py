"""Fault injection for :class:`flowdef.testing.FakeWorkspace`.

A :class:`Fault` matches requests by method and path and then, for its next ``times`` matches,
replaces the normal handling:

``action="status"``
    answer with ``status`` (default 503) and a Databricks-shaped error ``body`` (a default body
    matching the status is used when ``body`` is None), plus a ``Retry-After`` header when
    ``retry_after`` is set.  Nothing is written.
``action="drop"``
    read the request, then close the connection without any response (the client sees a
    connection reset / "remote end closed connection").  Nothing is written.
``action="commit_then_drop"``
    perform the request normally (the write happens) and then close the connection instead of
    sending the response: the classic "did my create go through?" failure.  A request the service
    *rejects* (4xx/5xx: nothing was written) is answered normally - only a committed write is lost.
``action="commit_then_status"``
    perform the request normally (the write happens), then answer ``status`` (default 503, e.g. 429)
    with its error body and ``Retry-After``: a gateway that gives up after the backend saved the job.
    Like ``commit_then_drop``, a rejected request gets its real error answer.

Path matching: a ``str`` path matches a request path that equals it or starts with it (so
``"/api/2.2/jobs/"`` matches every Jobs endpoint); a compiled ``re.Pattern`` must match the whole
request path (``re.compile(r"/api/2\\.[12]/jobs/(create|reset)")``).  The query string is never part of
the path.  ``method=None`` matches any method.  ``times=None`` never expires.

Faults are checked in the order they were added; the first live match fires.  ``latency`` (seconds)
is slept before the fault acts.  To only slow requests down use :meth:`FaultSet.latency` (every
request) or ``action="delay"`` (sleep ``latency``, then handle the request normally).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Fault", "FaultSet", "default_error_body"]

Action = Literal["status", "drop", "commit_then_drop", "commit_then_status", "delay"]

_DEFAULT_ERRORS = {
    400: ("BAD_REQUEST", "Bad request."),
    401: ("UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."),
    403: ("PERMISSION_DENIED", "Permission denied."),
    404: ("NOT_FOUND", "Not found."),
    409: ("RESOURCE_CONFLICT", "Conflict."),
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait a moment and try again."),
    500: ("INTERNAL_ERROR", "Internal error."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out."),
}


def default_error_body(status: int) -> dict[str, str]:
    """The Databricks-style error body the fake sends for an injected ``status``."""
    code, message = _DEFAULT_ERRORS.get(status, ("UNKNOWN", f"HTTP {status}"))
    return {"error_code": code, "message": message}


@dataclass
class Fault:
    """One injected failure; see the module docstring for the matching rules and actions."""

    method: str | None = None
    path: str | re.Pattern[str] = "/"
    status: int = 503
    times: int | None = 1
    body: Any = None
    retry_after: int | None = None
    latency: float = 0.0
    action: Action = "status"
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.action not in ("status", "drop", "commit_then_drop", "commit_then_status", "delay"):
            raise ValueError(f"unknown fault action {self.action!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or None for a permanent fault)")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.fullmatch(path) is not None
        return path == self.path or path.startswith(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def response_body(self) -> Any:
        return default_error_body(self.status) if self.body is None else self.body


class FaultSet:
    """The faults of one fake workspace (``ws.faults``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._latency = 0.0

    def add(self, fault: Fault) -> Fault:
        """Register ``fault``; returns it (its ``fired`` counter shows how often it acted)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def latency(self, seconds: float) -> None:
        """Sleep ``seconds`` before handling every request (0 turns it off)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            self._latency = float(seconds)

    @property
    def base_latency(self) -> float:
        return self._latency

    def clear(self) -> None:
        """Remove every fault and the global latency."""
        with self._lock:
            self._faults.clear()
            self._latency = 0.0

    @property
    def pending(self) -> list[Fault]:
        """Faults that have not fired their ``times`` yet."""
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching the request, with its counter advanced (internal)."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.fired += 1
                    if fault.exhausted:
                        self._faults.remove(fault)
                    return fault
        return None
