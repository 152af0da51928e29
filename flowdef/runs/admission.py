"""Who may start: ``max_concurrent_runs`` and queueing [SDK, U], as one pure function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["admit"]


def admit(settings: Mapping[str, Any], active_runs: int) -> Literal["RUN", "QUEUE", "SKIP"]:
    """What happens to a new run of a job that already has ``active_runs`` runs in progress.

    ``max_concurrent_runs`` defaults to 1; 0 skips every new run.  Over the limit, a job with queueing on
    (``queue.enabled``, the default of jobs created through API 2.2) queues the run; otherwise the run is
    SKIPPED (termination code MAX_CONCURRENT_RUNS_REACHED).

    >>> admit({"max_concurrent_runs": 1}, 1), admit({"max_concurrent_runs": 1, "queue": {"enabled": False}}, 1)
    ('QUEUE', 'SKIP')
    """
    limit = settings.get("max_concurrent_runs")
    limit = 1 if limit is None else int(limit)
    if limit <= 0:
        return "SKIP"
    if active_runs < limit:
        return "RUN"
    queue = settings.get("queue")
    enabled = True if queue is None else bool((queue or {}).get("enabled"))
    return "QUEUE" if enabled else "SKIP"
