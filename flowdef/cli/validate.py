"""``flowdef validate``: the CI gate.  Prints every diagnostic; exit 1 on any error."""

from __future__ import annotations

import sys
import time

from flowdef.cli._common import emit, project
from flowdef.diagnostics import has_errors, summary


def run(args) -> int:
    start = time.perf_counter()
    loaded = project(args)
    if isinstance(loaded, int):
        return loaded
    config, target, proj = loaded
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
