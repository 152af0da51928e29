"""``flowdef plan``: what ``apply`` would change in the workspace, per job and per field.  Read-only.

Exit 0 whether or not there are changes (a plan is a report); with ``--detailed-exitcode``: 0 no changes,
2 changes (conflicts included), 1 error - for CI drift gates.
"""

from __future__ import annotations

import argparse
import sys

from flowdef.cli._args import add_format, add_paths, add_retry_timeout, add_target

HELP = "show what apply would change in the workspace"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target(p)
    add_paths(p)
    add_format(p, "text", "json")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 2 when the plan has changes (0: none, 1: error)")
    p.add_argument("--force-upload", action="store_true", help="plan as `apply --force-upload` would")
    add_retry_timeout(p)


def run(args) -> int:
    from flowdef.cli._common import prepared
    from flowdef.deploy.session import fail

    opened, prefetch, desired = prepared(args)
    config, target, _proj = opened.config, opened.target, opened.loaded
    from flowdef.deploy.engine import Deployer
    from flowdef.deploy.plan import render_json, render_text

    subset = bool(getattr(args, "paths", None))
    try:
        ws, first = prefetch.result()
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path, desired=desired,
                       complete=not subset, force_upload=getattr(args, "force_upload", False))
        state = dep.read_state(prefetched=first)
        plan = dep.plan(state)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return fail(exc)
    if args.format == "json":
        print(render_json(plan))
    else:
        print(render_text(plan, prune=None))
        if any(not d.auto for d in plan.deletes):
            print("(deletes happen only with `apply --prune`)", file=sys.stderr)
    if getattr(args, "detailed_exitcode", False):
        return 2 if (plan.has_changes(prune=True) or plan.conflicts) else 0
    return 0
