"""What most commands share: find the project, pick the target, load the pipelines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flowdef.load.config import ProjectConfig, Target, load_config
from flowdef.diagnostics import Diagnostic, diag, format_github, format_json, format_text
from flowdef.errors import ConfigError
from flowdef.load.loader import LoadedProject, load


class UsageError(Exception):
    """Exit 2: the command line itself is wrong (unknown target, unknown job)."""


def enter(args) -> None:
    if getattr(args, "project_dir", None):
        os.chdir(args.project_dir)


def project(args) -> tuple[ProjectConfig, Target, LoadedProject] | int:
    """Load config, target and pipelines, or print why not and return the exit code."""
    enter(args)
    try:
        config = load_config(Path.cwd(), Path(args.config) if getattr(args, "config", None) else None)
    except ConfigError as exc:
        from flowdef._location import Location

        problems = [diag("FD004", str(p), Location(p.file, p.line or 1) if p.file else None) for p in exc.problems]
        fmt = getattr(args, "format", "text")
        if fmt in ("json", "github"):  # machine-read output stays machine-readable
            emit(problems, fmt)
        else:
            print(format_text(problems), file=sys.stderr)
        return 1
    try:
        target = config.target(getattr(args, "target", None))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = list(getattr(args, "paths", None) or []) or None
    loaded = load(config, paths)
    return config, target, loaded


def emit(diags: list[Diagnostic], fmt: str, stream=None) -> None:
    stream = stream or sys.stdout
    if not diags and fmt != "json":
        return
    text = {"json": format_json, "github": format_github}.get(fmt, format_text)(diags)
    print(text, file=stream)


def find_job(loaded: LoadedProject, wanted: str):
    job = loaded.job(wanted)
    if job is None:
        known = ", ".join(sorted(j.key for j in loaded.jobs)) or "(none)"
        raise UsageError(f"no job {wanted!r} in this project; jobs: {known}")
    return job
