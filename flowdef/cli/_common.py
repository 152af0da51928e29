"""What most commands share: open the project named by the command line, print diagnostics, find a job."""

from __future__ import annotations

import os
import sys

from flowdef.diagnostics import Diagnostic, format_github, format_json, format_text
from flowdef.load.loader import LoadedProject
from flowdef.load.config import ProjectConfig, Target
from flowdef.load.project import Project, open_config, open_project
from flowdef.model.spec import JobSpec


class UsageError(Exception):
    """Exit 2: the command line itself is wrong (unknown target, unknown job).  Caught by ``cli.main``."""


def enter(args) -> None:
    if getattr(args, "project_dir", None):
        os.chdir(args.project_dir)


def project(args) -> Project:
    """Config, target and pipelines named by the command line (``-C``, ``--config``, ``--target``, paths).

    Raises :class:`~flowdef.errors.ConfigError` (exit 1, printed as an FD004 diagnostic by ``cli.main``) or
    :class:`~flowdef.load.project.UnknownTargetError` (exit 2).
    """
    enter(args)
    return open_project(config_path=getattr(args, "config", None), target=getattr(args, "target", None),
                        paths=paths(args))


def paths(args) -> list[str] | None:
    """The pipeline modules or folders named on the command line, None for the config's."""
    return list(getattr(args, "paths", None) or []) or None


def config_and_target(args) -> tuple[ProjectConfig, Target]:
    """Like :func:`project`, without loading the pipelines (``validate`` and ``compile`` load them on every
    core: :mod:`flowdef.validate.parallel`)."""
    enter(args)
    return open_config(config_path=getattr(args, "config", None), target=getattr(args, "target", None))


def prepared(args):
    """The prologue of ``plan`` and ``apply``: open the project, start reading the workspace in the background (the
    reads overlap validation and compile), validate and compile.  Returns ``(project, prefetch, desired jobs)``;
    a project that cannot be deployed is explained and raises :class:`~flowdef.errors.Reported` (exit 1)."""
    from flowdef.deploy.session import Prefetch, prepare

    opened = project(args)
    prefetch = Prefetch(opened.target, args, opened.target.root_path)
    try:
        return opened, prefetch, prepare(opened, args.command)
    except BaseException:
        prefetch.abandon()
        raise


def emit(diags: list[Diagnostic], fmt: str, stream=None) -> None:
    stream = stream or sys.stdout
    if not diags and fmt != "json":
        return
    text = {"json": format_json, "github": format_github}.get(fmt, format_text)(diags)
    print(text, file=stream)


def find_job(loaded: LoadedProject, wanted: str) -> JobSpec:
    job = loaded.job(wanted)
    if job is None:
        known = ", ".join(sorted(j.key for j in loaded.jobs)) or "(none)"
        raise UsageError(f"no job {wanted!r} in this project; jobs: {known}")
    return job
