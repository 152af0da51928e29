"""Validation: every rule, every problem, all at once.

``validate(jobs, config, target)`` checks model values (the frozen jobs, the project config and the chosen
target) and returns a sorted list of diagnostics; it never raises for a bad definition.
``validate_project(loaded, target)`` is the same for a loaded project, with the loader's own diagnostics (a
module that failed to import) in front.  Each rule family lives in its own module; graph rules go through
:mod:`flowdef.graph` (networkx), SQL template rules through :mod:`flowdef.compile.templates` (jinja2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowdef.diagnostics import Diagnostic, diag, sort_diagnostics, without_cascades
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec
from flowdef.validate import compute, jobrefs, references, settings, structure, triggers
from flowdef.validate.context import JobContext

if TYPE_CHECKING:  # validation needs model values only; the loader's result is unpacked by validate_project
    from flowdef.load.loader import LoadedProject


def validate_project(project: LoadedProject, target: Target, *, templates: bool = True) -> list[Diagnostic]:
    """The loader's diagnostics and :func:`validate` of its jobs (an argument of the wrong type, reported while
    loading, silences what follows from it at the same line)."""
    found = validate(project.jobs, project.config, target, templates=templates)
    return sort_diagnostics(without_cascades([*project.diagnostics, *found]))


def validate(jobs: Sequence[JobSpec], config: ProjectConfig, target: Target, *,
             templates: bool = True) -> list[Diagnostic]:
    diags, facts = job_rules(jobs, config, target, templates=templates)
    diags += project_rules(facts, config)
    return sort_diagnostics(without_cascades(diags))


def job_rules(jobs: Sequence[JobSpec], config: ProjectConfig, target: Target, *,
              templates: bool = True) -> tuple[list[Diagnostic], list[jobrefs.JobFacts]]:
    """The rules of each job on its own, and what the rules across jobs need of each (:func:`project_rules`)."""
    diags: list[Diagnostic] = []
    facts = []
    for job in jobs:
        ctx = JobContext(job, target, config)  # one per job, shared by all rules
        diags += structure.check(ctx)  # keys, graph, every task's rules and its kind's (flowdef.wire.kinds)
        diags += settings.check(ctx)  # job settings, notifications, permissions, raw fields
        diags += compute.check(ctx)  # environments, clusters, libraries, warehouses
        diags += references.check(ctx)
        diags += triggers.check(ctx)
        if templates:
            from flowdef.validate import sql  # imports jinja2 only when SQL tasks are checked

            diags += sql.check(ctx)
        facts.append(jobrefs.facts(ctx))
    return diags, facts


def project_rules(jobs: Sequence[jobrefs.JobFacts], config: ProjectConfig) -> list[Diagnostic]:
    """Rules across jobs: unique names and keys, target parameters some job declares, references between jobs
    (:mod:`.jobrefs`)."""
    diags = []
    by_name: dict[str, list] = {}
    by_key: dict[str, list] = {}
    for job in jobs:
        by_name.setdefault(job.name, []).append(job)
        by_key.setdefault(job.key, []).append(job)
    for name, same in by_name.items():
        if len(same) > 1:
            first = same[0].location
            for dup in same[1:]:
                where = f" (first defined at {first})" if first else ""
                diags.append(diag(
                    "FD003",
                    f"duplicate job name {name!r}{where}; job names must be unique in a project — rename one",
                    dup.location, job=dup.key,
                ))
    for key, same in by_key.items():
        if len(same) > 1 and len({j.name for j in same}) > 1:
            for dup in same[1:]:
                diags.append(diag(
                    "FD005",
                    f"duplicate job key {key!r}; give each job a distinct key=...",
                    dup.location, job=dup.key,
                ))
    declared = {name for job in jobs for name in job.params}
    for each in config.targets:  # every target, whichever is chosen: a typo waits for no deploy
        for name, _ in each.params:
            if jobs and name not in declared:
                diags.append(diag(
                    "FD208",
                    f"target {each.name!r} overrides parameter {name!r}, which no job declares; "
                    "fix the name in the project config or declare it in a Job(params=...)",
                    config.location("targets", each.name, "params", name),
                ))
    return diags + jobrefs.check(jobs)  # run-job tasks and job-completion triggers between jobs


__all__ = ["diag", "validate", "validate_project"]
