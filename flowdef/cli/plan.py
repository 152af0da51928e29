"""``flowdef plan``: what ``apply`` would change in the workspace, per job and per field.  Read-only.

Exit 0 whether or not there are changes (a plan is a report); with ``--detailed-exitcode``: 0 no changes,
2 changes (conflicts included), 1 error - for CI drift gates.
"""

from __future__ import annotations

import sys


def run(args) -> int:
    from flowdef.deploy.session import connect, fail, prepare

    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    config, target, _proj, desired = prepared
    from flowdef.deploy.engine import Deployer
    from flowdef.deploy.plan import render_json, render_text

    subset = bool(getattr(args, "paths", None))
    try:
        ws = connect(target)
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path, desired=desired,
                       complete=not subset)
        state = dep.read_state()
        plan = dep.plan(state)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return fail(exc)
    if args.format == "json":
        print(render_json(plan))
    else:
        print(render_text(plan, prune=None))
        if plan.deletes:
            print("(deletes happen only with `apply --prune`)", file=sys.stderr)
    if getattr(args, "detailed_exitcode", False):
        return 2 if (plan.has_changes(prune=True) or plan.conflicts) else 0
    return 0
