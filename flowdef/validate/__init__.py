"""Validation: every rule, every problem, all at once.

``validate_project(project, target)`` returns a sorted list of diagnostics; it never raises for a bad
definition.  Each rule family lives in its own module; graph rules go through :mod:`flowdef.graph` (networkx),
SQL template rules through :mod:`flowdef.compile.templates` (jinja2).
"""

from __future__ import annotations

from flowdef.load.config import Target
from flowdef.diagnostics import Diagnostic, diag, sort_diagnostics, without_cascades
from flowdef.load.loader import LoadedProject
from flowdef.validate import compute, jobrefs, references, settings, structure, triggers
from flowdef.validate.context import JobContext


def validate_project(project: LoadedProject, target: Target, *, templates: bool = True) -> list[Diagnostic]:
    diags: list[Diagnostic] = list(project.diagnostics)
    diags += project_rules(project, target)
    contexts = [JobContext(job, target, project.config) for job in project.jobs]  # one per job, shared by all rules
    for ctx in contexts:
        diags += structure.check(ctx)  # keys, graph, every task's rules and its kind's (flowdef.wire.kinds)
        diags += settings.check(ctx)  # job settings, notifications, permissions, raw fields
        diags += compute.check(ctx)  # environments, clusters, libraries, warehouses
        diags += references.check(ctx)
        diags += triggers.check(ctx)
        if templates:
            from flowdef.validate import sql  # imports jinja2 only when SQL tasks are checked

            diags += sql.check(ctx)
    diags += jobrefs.check(contexts)  # run-job tasks and job-completion triggers between jobs
    return sort_diagnostics(without_cascades(diags))


def project_rules(project: LoadedProject, target: Target) -> list[Diagnostic]:
    diags = []
    by_name: dict[str, list] = {}
    by_key: dict[str, list] = {}
    for job in project.jobs:
        by_name.setdefault(job.name, []).append(job)
        by_key.setdefault(job.key, []).append(job)
    for name, jobs in by_name.items():
        if len(jobs) > 1:
            first = jobs[0].location
            for dup in jobs[1:]:
                where = f" (first defined at {first})" if first else ""
                diags.append(diag(
                    "FD003",
                    f"duplicate job name {name!r}{where}; job names must be unique in a project — rename one",
                    dup.location, job=dup.key,
                ))
    for key, jobs in by_key.items():
        if len(jobs) > 1 and len({j.name for j in jobs}) > 1:
            for dup in jobs[1:]:
                diags.append(diag(
                    "FD005",
                    f"duplicate job key {key!r}; give each job a distinct key=...",
                    dup.location, job=dup.key,
                ))
    declared = {p.name for job in project.jobs for p in job.params}
    for each in project.config.targets:  # every target, whichever is chosen: a typo waits for no deploy
        for name, _ in each.params:
            if project.jobs and name not in declared:
                diags.append(diag(
                    "FD208",
                    f"target {each.name!r} overrides parameter {name!r}, which no job declares; "
                    "fix the name in the project config or declare it in a Job(params=...)",
                    project.config.location("targets", each.name, "params", name),
                ))
    return diags


__all__ = ["validate_project", "diag"]
