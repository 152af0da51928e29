"""References between the jobs of a project: run-job tasks and job-completion triggers name jobs of the project,
and run-job tasks do not (transitively) run their own job — FD516.

The cycle search goes through :mod:`flowdef.graph` (the one graph module), over a graph whose nodes are job keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowdef._frozen import frozen
from flowdef._location import Location
from flowdef.diagnostics import Diagnostic, diag
from flowdef.model.tasks import RunJobTask
from flowdef.model.triggers import JobCompletion
from flowdef.validate.context import JobContext
from flowdef.wire.kind_rules import suggest


@frozen
class RunsJob:
    """A run-job task naming a job of the project by key."""

    task_key: str
    job_key: str
    location: Location | None
    path: str


@frozen
class JobFacts:
    """What the rules across jobs need of one job: small, plain values, so the share of a project loaded and
    checked in another process (:mod:`flowdef.validate.parallel`) sends them back instead of the job."""

    key: str
    name: str
    location: Location | None
    params: tuple[str, ...]
    runs: tuple[RunsJob, ...] = ()
    watches: tuple[tuple[str, Location | None], ...] = ()  # JobCompletion triggers on jobs of the project


def facts(ctx: JobContext) -> JobFacts:
    job = ctx.job
    runs = []
    for task, path in ctx.task_paths:
        kind = task.kind
        if isinstance(kind, RunJobTask) and kind.job_key is not None:
            runs.append(RunsJob(task.key, kind.job_key, task.location or job.location,
                                f"{path}.run_job_task.job_id"))
    watches = []
    for trig in job.triggers:
        if isinstance(trig, JobCompletion):
            for j in trig.jobs:
                key = getattr(j, "key", None)
                if key is not None and hasattr(j, "to_model"):  # a Job object of the project, not a job id
                    watches.append((key, trig.location or job.location))
    return JobFacts(job.key, job.name, job.location, tuple(p.name for p in job.params), tuple(runs),
                    tuple(watches))


def check(jobs: Sequence[JobFacts]) -> list[Diagnostic]:
    keys = {job.key for job in jobs}
    out: list[Diagnostic] = []
    edges: dict[tuple[str, str], tuple[JobFacts, RunsJob]] = {}  # (job, job it runs) -> its first such task
    for job in jobs:
        for run in job.runs:
            if run.job_key not in keys:
                hint = suggest(run.job_key, sorted(keys))
                out.append(diag("FD516", f"run-job task {run.task_key!r} runs job {run.job_key!r}, which is not a "
                                f"job of this project{hint} (pass the Job object, or a numeric job id for "
                                "other jobs)", run.location, job=job.key, path=run.path))
            elif run.job_key == job.key:
                out.append(diag("FD516", f"run-job task {run.task_key!r} runs its own job {job.key!r}: every run "
                                "would start another, without end", run.location, job=job.key, path=run.path))
            else:
                edges.setdefault((job.key, run.job_key), (job, run))
        for key, location in job.watches:
            if key not in keys:
                out.append(diag("FD516", f"JobCompletion watches job {key!r}, which is not a job of this "
                                "project (load its module too, or give its numeric id)", location, job=job.key,
                                path="trigger.job_completion.jobs"))
    out += _cycles(edges)
    return out


def _cycles(edges: dict[tuple[str, str], tuple[JobFacts, RunsJob]]) -> list[Diagnostic]:
    """Run-job tasks that (transitively) run the job they belong to: one diagnostic per cycle, at the task that
    closes it."""
    if not edges:
        return []
    from flowdef import graph

    nodes = sorted({k for edge in edges for k in edge})
    out = []
    for loop in graph.cycles(graph.Dag(nodes, list(edges))):
        job, run = edges[(loop[-2], loop[-1])]
        out.append(diag("FD516", "run-job tasks form a cycle of jobs: " + " -> ".join(loop) +
                        "; each run would start the next forever — break the cycle", run.location, job=job.key,
                        path=run.path))
    return out
