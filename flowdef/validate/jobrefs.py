"""References between the jobs of a project: run-job tasks and job-completion triggers name jobs of the project,
and run-job tasks do not (transitively) run their own job — FD516.

The cycle search goes through :mod:`flowdef.graph` (the one graph module), over a graph whose nodes are job keys.
"""

from __future__ import annotations

from flowdef.diagnostics import Diagnostic
from flowdef.model.tasks import RunJobTask
from flowdef.model.triggers import JobCompletion
from flowdef.validate.context import JobContext
from flowdef.wire.kind_rules import suggest


def check(contexts: list[JobContext]) -> list[Diagnostic]:
    keys = {ctx.job.key for ctx in contexts}
    out: list[Diagnostic] = []
    edges: dict[tuple[str, str], tuple] = {}  # (job, job it runs) -> (ctx, task, path) of the first such task
    for ctx in contexts:
        job = ctx.job
        for task, path in ctx.task_paths:
            kind = task.kind
            if not isinstance(kind, RunJobTask) or kind.job_key is None:
                continue
            where = f"{path}.run_job_task.job_id"
            if kind.job_key not in keys:
                hint = suggest(kind.job_key, sorted(keys))
                out.append(ctx.d("FD516", f"run-job task {task.key!r} runs job {kind.job_key!r}, which is not a "
                                 f"job of this project{hint} (pass the Job object, or a numeric job id for "
                                 "other jobs)", task.location, where))
            elif kind.job_key == job.key:
                out.append(ctx.d("FD516", f"run-job task {task.key!r} runs its own job {job.key!r}: every run "
                                 "would start another, without end", task.location, where))
            else:
                edges.setdefault((job.key, kind.job_key), (ctx, task, where))
        for trig in job.triggers:
            if isinstance(trig, JobCompletion):
                for j in trig.jobs:
                    key = getattr(j, "key", None)
                    if key is not None and hasattr(j, "to_model") and key not in keys:
                        out.append(ctx.d("FD516", f"JobCompletion watches job {key!r}, which is not a job of this "
                                         "project (load its module too, or give its numeric id)", trig.location,
                                         "trigger.job_completion.jobs"))
    out += _cycles(edges)
    return out


def _cycles(edges: dict[tuple[str, str], tuple]) -> list[Diagnostic]:
    """Run-job tasks that (transitively) run the job they belong to: one diagnostic per cycle, at the task that
    closes it."""
    if not edges:
        return []
    from flowdef import graph

    nodes = sorted({k for edge in edges for k in edge})
    out = []
    for loop in graph.cycles(graph.Dag(nodes, list(edges))):
        ctx, task, where = edges[(loop[-2], loop[-1])]
        out.append(ctx.d("FD516", "run-job tasks form a cycle of jobs: " + " -> ".join(loop) +
                         "; each run would start the next forever — break the cycle", task.location, where))
    return out
