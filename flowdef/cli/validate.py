"""``flowdef validate``: the CI gate.  Prints every diagnostic; exit 1 on any error."""

from __future__ import annotations

import sys
import time

import argparse

from flowdef.cli._args import add_format, add_paths, add_target
from flowdef.cli._common import emit, project
from flowdef.diagnostics import has_errors, summary

HELP = "check the job definitions: every problem, with file and line"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    add_target(p)
    add_format(p, "text", "json", "github")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def run(args) -> int:
    start = time.perf_counter()
    opened = project(args)
    target, proj = opened.target, opened.loaded
    from flowdef.validate import validate_project

    diags = validate_project(proj, target)
    emit(diags, args.format)
    failed = has_errors(diags) or (args.strict and bool(diags))
    if args.format == "text":
        tasks = sum(len(j.tasks) for j in proj.jobs)
        took = time.perf_counter() - start
        verdict = "failed" if failed else "ok"
        print(
            f"{verdict}: {len(proj.jobs)} job{'s' * (len(proj.jobs) != 1)}, {tasks} tasks, target "
            f"{target.name}: {summary(diags)} ({took:.2f}s)",
            file=sys.stderr if failed else sys.stdout,
        )
    return 1 if failed else 0
