"""``flowdef apply``: make the workspace match the code.

Plans without a lock first; a no-op apply stops there and writes nothing.  Otherwise it takes the workspace deploy
lock, plans again under it, uploads changed artifacts, creates / resets jobs (referenced jobs first, ``--concurrency``
at once), applies declared permissions, deletes managed jobs no longer in the code only with ``--prune`` (asking on
a terminal unless ``--yes``), and ends with a summary.  Exit 1 if anything failed, naming each failure.
"""

from __future__ import annotations

import argparse
import json
import sys

from flowdef.cli._args import (
    add_break_lock,
    add_format,
    add_lock_timeout,
    add_paths,
    add_retry_timeout,
    add_target,
)

HELP = "make the workspace match the code"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target(p)
    add_paths(p)
    add_format(p, "text", "json")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before deleting")
    p.add_argument("--prune", action="store_true", help="delete managed jobs no longer in the code")
    p.add_argument("--concurrency", type=int, default=32, help="jobs written at once (default 32)")
    p.add_argument("--force-upload", action="store_true",
                   help="upload every artifact again, even those the workspace still holds unchanged")
    add_break_lock(p)
    add_lock_timeout(p)
    add_retry_timeout(p)


def run(args) -> int:
    from flowdef.cli._common import prepared
    from flowdef.deploy.session import terminate_as_interrupt

    opened, prefetch, desired = prepared(args)
    if args.prune and getattr(args, "paths", None):
        print("error: --prune needs the whole project: run apply without PATH arguments", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    with terminate_as_interrupt():
        return _apply(args, opened, desired, prefetch)


def _apply(args, opened, desired, prefetch) -> int:
    from flowdef.deploy.engine import Deployer, Outcome
    from flowdef.deploy.plan import render_text
    from flowdef.deploy.session import break_lock_if_asked, confirm, fail
    from flowdef.deploy.state import summary

    config, target = opened.config, opened.target
    subset = bool(getattr(args, "paths", None))
    as_json = args.format == "json"
    try:
        ws, first = prefetch.result()
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path, desired=desired,
                       concurrency=args.concurrency, complete=not subset, force_upload=args.force_upload)
        broke = break_lock_if_asked(ws, target.root_path, args)
        state = dep.read_state(prefetched=first)
        plan = dep.plan(state)
        if not as_json and (plan.has_changes(prune=args.prune) or plan.conflicts or plan.deletes or plan.notes):
            print(render_text(plan, prune=args.prune))
        if not args.prune:
            removed = plan.removed
            dups = [d for d in plan.duplicates if not d.auto]
            if removed:
                print(f"note: {len(removed)} managed job(s) no longer in the code were left alone; "
                      f"`apply --prune` deletes them", file=sys.stderr)
            if dups:
                print(f"note: {len(dups)} duplicate job(s) (same identity tags as a kept job) were left alone; "
                      f"`apply --prune` deletes them", file=sys.stderr)
        confirmed: set[int] | None = None
        asked = [d for d in plan.deletes if not d.auto]
        if args.prune and asked:
            names = ", ".join(f"{d.key} (job {d.job_id})" for d in asked)
            ok = confirm(f"Delete {len(asked)} job(s): {names}?", args.yes,
                         f"refusing to delete {len(asked)} job(s) without confirmation and without a "
                         f"terminal to ask on: rerun with --yes")
            if ok is None:
                return 1
            if not ok:
                print("apply cancelled; nothing was changed", file=sys.stderr)
                return 1
            confirmed = {int(d.job_id) for d in asked if d.job_id is not None}
        outcomes: list[Outcome]
        if not plan.has_changes(prune=args.prune):
            outcomes = [Outcome(j.key, "failed", j.job_id, j.reason) if j.action == "conflict"
                        else Outcome(j.key, "unchanged", j.job_id) for j in plan.jobs]
            uploads = 0
            if not plan.conflicts and not as_json:
                print(f"No changes: the workspace matches the code ({len(plan.jobs)} job(s) of target {target.name}).")
        else:
            with dep.lock("apply", timeout=args.lock_timeout, folder_known=state.manifest.found, plan=plan,
                          state=state) as lock:
                state, plan = dep.confirm_plan(state, plan, lock, broke)  # the authoritative plan, under the lock
                outcomes = dep.apply(plan, state, prune=args.prune, confirmed_deletes=confirmed, lock=lock)
            uploads = len(plan.uploads)
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        return fail(exc)
    failed = [o for o in outcomes if o.action == "failed"]
    if as_json:
        print(json.dumps({"target": target.name, "host": ws.host, "uploads": uploads,
                          "jobs": [{"key": o.key, "action": o.action, "job_id": o.job_id, "error": o.error or None}
                                   for o in outcomes]}, indent=2, sort_keys=True))
    elif failed or uploads or any(o.action != "unchanged" for o in outcomes):
        print(("Apply failed: " if failed else "Apply complete: ") + summary(outcomes, uploads))
    return 1 if failed else 0
