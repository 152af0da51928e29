"""``flowdef validate``: the CI gate.  Prints every diagnostic; exit 1 on any error."""

from __future__ import annotations

import sys
import time

import argparse

from flowdef.cli._args import add_format, add_paths, add_target
from flowdef.cli._common import config_and_target, emit, paths
from flowdef.diagnostics import has_errors, summary

TEARDOWN = False  # holds nothing but memory: the process may end without freeing it (flowdef.__main__)
HELP = "check the job definitions: every problem, with file and line"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    add_target(p)
    add_format(p, "text", "json", "github")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def run(args) -> int:
    start = time.perf_counter()
    config, target = config_and_target(args)
    from flowdef.validate.parallel import check_project

    checked = check_project(config, target, paths(args))
    diags = list(checked.diagnostics)
    emit(diags, args.format)
    failed = has_errors(diags) or (args.strict and bool(diags))
    if args.format == "text":
        took = time.perf_counter() - start
        verdict = "failed" if failed else "ok"
        print(
            f"{verdict}: {checked.jobs} job{'s' * (checked.jobs != 1)}, {checked.tasks} tasks, target "
            f"{target.name}: {summary(diags)} ({took:.2f}s)",
            file=sys.stderr if failed else sys.stdout,
        )
    return 1 if failed else 0
